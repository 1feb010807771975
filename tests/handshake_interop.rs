//! The opening handshake against another implementation: the Python
//! `websockets` library, as client and as server, over 127.0.0.1.
//!
//! The interpreter is `$WSPROTO_TEST_PYTHON`, else `python3`. Without the
//! library the tests print `SKIPPED: ...` and pass, unless `$CI` is set.
//! Every socket has timeouts and every child process is killed and reaped.

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use wsproto::frame::{encode_frame, FrameDecoder, FrameHeader, OpCode, Status};
use wsproto::handshake::{
    Accept, AcceptKey, ClientConfig, ClientHandshake, ExtensionOffer, Limits, ServerHandshake,
    WsUrl,
};
use wsproto::Role;

const TIMEOUT: Duration = Duration::from_secs(10);

/// A close frame from a server: code 1000, no reason.
const SERVER_CLOSE: [u8; 4] = [0x88, 0x02, 0x03, 0xe8];

/// Kills and reaps the child on every path out of the test.
struct ChildGuard(Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The interpreter to use, or `None` (after saying why) to skip.
fn python() -> Option<String> {
    let python = std::env::var("WSPROTO_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = Command::new(&python)
        .args(["-c", "import websockets"])
        .stderr(Stdio::piped())
        .output();
    let why = match probe {
        Ok(out) if out.status.success() => return Some(python),
        Ok(out) => format!(
            "`{python} -c 'import websockets'` failed: {}",
            last_line(&out.stderr)
        ),
        Err(e) => format!("cannot run {python}: {e}"),
    };
    if std::env::var_os("CI").is_some() {
        panic!("CI is set and the interop peer is unavailable: {why}");
    }
    println!(
        "SKIPPED: {why} (install it with `pip install websockets`, or set WSPROTO_TEST_PYTHON)"
    );
    None
}

/// The last non-empty line of an error output (a traceback's message).
fn last_line(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

fn peer_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/ws_peer.py")
}

fn set_timeouts(stream: &TcpStream) {
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
}

/// Waits for the child to exit, at most `TIMEOUT`.
fn wait_exit(child: &mut ChildGuard) -> std::process::ExitStatus {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "peer did not exit in time");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Reads until one whole frame is decoded from `buf` (which may already
/// hold bytes); returns its opcode and payload, and drops its bytes.
fn read_frame(stream: &mut TcpStream, buf: &mut Vec<u8>, role: Role) -> (OpCode, Vec<u8>) {
    let decoder = FrameDecoder::new(role);
    loop {
        if let Status::Complete(frame) = decoder.decode(buf).unwrap() {
            let out = (frame.header.opcode, frame.payload.to_vec());
            let consumed = frame.consumed;
            buf.drain(..consumed);
            return out;
        }
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "EOF before a whole frame");
        buf.extend_from_slice(&chunk[..n]);
    }
}

/// Reads until the peer closes the transport (or the timeout expires).
fn drain_to_eof(stream: &mut TcpStream) {
    let mut sink = [0u8; 1024];
    loop {
        match stream.read(&mut sink) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

#[test]
fn our_server_accepts_a_websockets_client() {
    let Some(python) = python() else { return };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let uri = format!("ws://127.0.0.1:{port}/path?q=1");
    let child = Command::new(&python)
        .arg(peer_script())
        .args(["client", &uri, "chat"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = ChildGuard(child);

    let server = std::thread::spawn(move || {
        listener.set_nonblocking(true).unwrap();
        let deadline = Instant::now() + TIMEOUT;
        let mut stream = loop {
            match listener.accept() {
                Ok((stream, _)) => break stream,
                Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => panic!("no connection from the peer: {e}"),
            }
        };
        stream.set_nonblocking(false).unwrap();
        set_timeouts(&stream);

        let mut handshake = ServerHandshake::new(Limits::default());
        let mut chunk = [0u8; 4096];
        let request = loop {
            let n = stream.read(&mut chunk).unwrap();
            assert!(n > 0, "EOF inside the request head");
            if let Status::Complete(request) = handshake.handle_input(&chunk[..n]).unwrap() {
                break request;
            }
        };
        let seen = request.clone();
        let accepted = request.accept(Accept::new().protocol("chat")).unwrap();
        let mut out = Vec::new();
        accepted.response.write_to_vec(&mut out);
        stream.write_all(&out).unwrap();

        // No connection layer yet: expect the client's close, answer it.
        let mut buf = accepted.negotiated.leftover.to_vec();
        let (opcode, payload) = read_frame(&mut stream, &mut buf, Role::Server);
        assert_eq!((opcode, &payload[..2]), (OpCode::Close, &[0x03, 0xe8][..]));
        stream.write_all(&SERVER_CLOSE).unwrap();
        let _ = stream.shutdown(Shutdown::Write);
        drain_to_eof(&mut stream);
        seen
    });
    let request = server.join().expect("server thread failed");
    let status = wait_exit(&mut child);
    let mut stdout = String::new();
    let mut stderr = String::new();
    child
        .0
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "peer failed: {stdout}\n{stderr}");
    assert_eq!(stdout, "subprotocol chat\nok\n", "{stderr}");

    assert!(request.is_upgrade());
    assert_eq!(
        (request.method(), request.path(), request.query()),
        ("GET", "/path", Some("q=1"))
    );
    assert_eq!(request.host(), Some(format!("127.0.0.1:{port}").as_str()));
    assert_eq!(request.protocols().collect::<Vec<_>>(), ["chat", "other"]);
    assert_eq!(request.headers().get_str("x-interop"), Some("yes"));
    // websockets offers permessage-deflate by default; we parsed the offer.
    assert!(
        request
            .extensions()
            .iter()
            .any(|e| e.name == "permessage-deflate"),
        "{:?}",
        request.extensions()
    );
}

#[test]
fn our_client_connects_to_a_websockets_server() {
    let Some(python) = python() else { return };
    let child = Command::new(&python)
        .arg(peer_script())
        .args(["server", "chat"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = ChildGuard(child);
    // The first line is the port; read it off-thread so a silent peer cannot hang the test.
    let stdout = child.0.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(TIMEOUT)
        .expect("the peer did not print its port");
    let port: u16 = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("not a port: {line:?}"));

    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    set_timeouts(&stream);
    let url = WsUrl::parse(&format!("ws://127.0.0.1:{port}/echo?x=1")).unwrap();
    let config = ClientConfig::new()
        .protocol("superchat")
        .protocol("chat")
        .extension(ExtensionOffer::new("x-unknown").with_param("p", Some("1")))
        .header("X-Interop", "yes");
    #[cfg(feature = "rand")]
    let mut handshake = ClientHandshake::new_random(&url, config).unwrap();
    #[cfg(not(feature = "rand"))]
    let mut handshake = ClientHandshake::new(&url, config, *b"interop nonce 16").unwrap();
    let mut request = Vec::new();
    handshake.write_request_to_vec(&mut request);
    stream.write_all(&request).unwrap();

    let mut chunk = [0u8; 4096];
    let accepted = loop {
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "EOF inside the response head");
        if let Status::Complete(accepted) = handshake.handle_input(&chunk[..n]).unwrap() {
            break accepted;
        }
    };
    assert_eq!(accepted.response.status, 101);
    let expected = AcceptKey::from_key(handshake.key().as_bytes());
    assert_eq!(
        accepted.response.headers.get_str("Sec-WebSocket-Accept"),
        Some(expected.as_str())
    );
    assert_eq!(accepted.negotiated.protocol.as_deref(), Some("chat"));
    assert!(accepted.negotiated.extensions.is_empty());

    // The frames after the handshake go through: an echo, then a close.
    let mut buf = accepted.negotiated.leftover.to_vec();
    let mut out = [0u8; 64];
    let text = FrameHeader {
        mask: Some([1, 2, 3, 4]),
        ..FrameHeader::new(OpCode::Text, 0)
    };
    let n = encode_frame(text, b"hello", &mut out).unwrap();
    stream.write_all(&out[..n]).unwrap();
    assert_eq!(
        read_frame(&mut stream, &mut buf, Role::Client),
        (OpCode::Text, b"hello".to_vec())
    );
    let close = FrameHeader {
        mask: Some([5, 6, 7, 8]),
        ..FrameHeader::new(OpCode::Close, 0)
    };
    let n = encode_frame(close, &[0x03, 0xe8], &mut out).unwrap();
    stream.write_all(&out[..n]).unwrap();
    assert_eq!(
        read_frame(&mut stream, &mut buf, Role::Client),
        (OpCode::Close, vec![0x03, 0xe8])
    );
    drain_to_eof(&mut stream);
    drop(child);
}
