//! The opening handshake against another implementation: the Python
//! `websockets` library, as client and as server, over 127.0.0.1.
//!
//! The interpreter is `$WSPROTO_TEST_PYTHON`, else `python3`. Without the
//! library the tests print `SKIPPED: ...` and pass, unless `$CI` is set.
//! Every socket has timeouts and every child process is killed and reaped.

mod peers;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

use peers::ChildGuard;
use wsproto::frame::{encode_frame, FrameDecoder, FrameHeader, OpCode, Status};
use wsproto::handshake::{Accept, AcceptKey, ClientConfig, ClientHandshake, WsUrl};
use wsproto::Role;

const TIMEOUT: Duration = Duration::from_secs(10);

/// A close frame from a server: code 1000, no reason.
const SERVER_CLOSE: [u8; 4] = [0x88, 0x02, 0x03, 0xe8];

/// The interpreter to use, or `None` (after saying why) to skip.
fn python() -> Option<String> {
    peers::python(
        "websockets",
        "install it with `pip install websockets`, or set WSPROTO_TEST_PYTHON",
    )
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
    let mut child = ChildGuard::spawn(
        Command::new(&python)
            .arg(peers::script("ws_peer.py"))
            .args(["client", &uri, "chat"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );

    let server = std::thread::spawn(move || {
        let mut stream = peers::accept_one(&listener, TIMEOUT);
        let request = peers::read_request(&mut stream);
        let seen = request.clone();
        let accepted = request.accept(Accept::new().protocol("chat")).unwrap();
        let mut out = Vec::new();
        accepted
            .response
            .write_to_vec(&mut out)
            .expect("a head this program built is valid");
        stream.write_all(&out).unwrap();

        // No connection layer yet: expect the client's close, answer it.
        let mut buf = accepted.connection.pending_input().to_vec();
        let (opcode, payload) = read_frame(&mut stream, &mut buf, Role::Server);
        assert_eq!((opcode, &payload[..2]), (OpCode::Close, &[0x03, 0xe8][..]));
        stream.write_all(&SERVER_CLOSE).unwrap();
        let _ = stream.shutdown(Shutdown::Write);
        drain_to_eof(&mut stream);
        seen
    });
    let request = server.join().expect("server thread failed");
    let (status, stdout, stderr) = child.wait_output("peer", TIMEOUT);
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
    let (child, mut stream) =
        peers::python_server(&python, "ws_peer.py", &["server", "chat"], TIMEOUT);
    let port = stream.peer_addr().unwrap().port();
    let url = WsUrl::parse(&format!("ws://127.0.0.1:{port}/echo?x=1")).unwrap();
    let config = ClientConfig::new()
        .protocol("superchat")
        .protocol("chat")
        .header("X-Interop", "yes");
    #[cfg(feature = "rand")]
    let mut handshake = ClientHandshake::new_random(&url, config).unwrap();
    #[cfg(not(feature = "rand"))]
    let mut handshake = ClientHandshake::new(&url, config, *b"interop nonce 16").unwrap();
    let accepted = peers::client_handshake(&mut stream, &mut handshake, &[]);
    assert_eq!(accepted.response.status, 101);
    let expected = AcceptKey::from_key(handshake.key().as_bytes());
    assert_eq!(
        accepted.response.headers.get_str("Sec-WebSocket-Accept"),
        Some(expected.as_str())
    );
    assert_eq!(accepted.negotiated.protocol.as_deref(), Some("chat"));
    assert!(accepted.negotiated.extensions.is_empty());

    // The frames after the handshake go through: an echo, then a close.
    let mut buf = accepted.connection.pending_input().to_vec();
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
