//! permessage-deflate against another implementation: the Python
//! `websockets` library (which offers and accepts it by default), as client
//! and as server, over 127.0.0.1, with whole connections on our side.
//!
//! The interpreter is `$WSPROTO_TEST_PYTHON`, else `python3`. Without the
//! library the tests print `SKIPPED: ...` and pass, unless `$CI` is set.
//! Every socket has timeouts and every child process is killed and reaped.
#![cfg(feature = "deflate")]

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use wsproto::extensions::deflate::DeflateConfig;
use wsproto::frame::Status;
use wsproto::handshake::{Accept, ClientConfig, ClientHandshake, Limits, ServerHandshake, WsUrl};
use wsproto::{CloseCode, Config, Connection, Event, Role};

const TIMEOUT: Duration = Duration::from_secs(10);

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
        .args(["-c", "import websockets.sync.client"])
        .stderr(Stdio::piped())
        .output();
    let why = match probe {
        Ok(out) if out.status.success() => return Some(python),
        Ok(out) => format!(
            "`{python} -c 'import websockets.sync.client'` failed: {}",
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
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/deflate_peer.py")
}

fn set_timeouts(stream: &TcpStream) {
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    stream.set_write_timeout(Some(TIMEOUT)).unwrap();
}

/// Room for the 1 MiB messages both ways.
fn config() -> Config {
    Config {
        max_message_size: 16 << 20,
        ..Config::default()
    }
}

/// JSON-like text: what compression is for.
fn json_like(len: usize) -> String {
    let mut s = String::from("[");
    let mut i = 0u64;
    while s.len() < len {
        s.push_str(&format!(
            "{{\"id\":{i},\"name\":\"user{}\",\"active\":{}}},",
            i * 7919 % 1000,
            i % 3 == 0
        ));
        i += 1;
    }
    s.truncate(len);
    s
}

fn noise(len: usize) -> Vec<u8> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A blocking driver: a connection over a socket, counting the bytes.
struct Driver {
    stream: TcpStream,
    conn: Connection,
    read: usize,
    written: usize,
}

impl Driver {
    fn flush(&mut self) {
        while let Some(bytes) = self.conn.poll_transmit() {
            let n = self.stream.write(bytes).expect("write");
            assert!(n > 0, "write returned 0");
            self.written += n;
            self.conn.advance_transmit(n);
        }
    }

    /// Runs the connection, handing each event to `on_event`, until it
    /// returns true (then `true`) or the transport should close (`false`).
    /// A protocol error or a socket error (a timeout included) panics.
    fn run(&mut self, mut on_event: impl FnMut(&mut Connection, Event) -> bool) -> bool {
        let mut buf = vec![0u8; 64 << 10];
        loop {
            loop {
                match self.conn.poll_event() {
                    Ok(Some(event)) => {
                        if on_event(&mut self.conn, event) {
                            self.flush();
                            return true;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => panic!("protocol error: {e}"),
                }
            }
            self.flush();
            if self.conn.should_close_transport() {
                let _ = self.stream.shutdown(Shutdown::Both);
                return false;
            }
            match self.stream.read(&mut buf) {
                Ok(0) => self.conn.handle_eof(),
                Ok(n) => {
                    self.read += n;
                    self.conn.handle_input(&buf[..n]);
                }
                Err(e) if e.kind() == ErrorKind::ConnectionReset => self.conn.handle_eof(),
                Err(e) => panic!("read: {e}"),
            }
        }
    }
}

/// What our server saw of a Python client.
struct ServerReport {
    offered: String,
    response: String,
    echoed: usize,
    payload_bytes: usize,
    read: usize,
}

/// Accepts one connection on `listener`, negotiates permessage-deflate with
/// `deflate`, and echoes every message until the client closes.
fn serve_one(listener: TcpListener, deflate: DeflateConfig) -> ServerReport {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + TIMEOUT;
    let stream = loop {
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
    let mut stream = stream;

    let mut handshake = ServerHandshake::new(Limits::default());
    let mut chunk = [0u8; 4096];
    let request = loop {
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "EOF inside the request head");
        if let Status::Complete(request) = handshake.handle_input(&chunk[..n]).unwrap() {
            break request;
        }
    };
    let offered = request
        .extensions()
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let (response, params) = deflate
        .negotiate(request.extensions())
        .unwrap_or_else(|| panic!("no acceptable offer in {offered:?}"));
    let accepted = request
        .accept(Accept::new().extension(response.clone()))
        .unwrap();
    let mut out = Vec::new();
    accepted.response.write_to_vec(&mut out);
    stream.write_all(&out).unwrap();

    let mut conn = Connection::new(Role::Server, config());
    conn.enable_deflate(params);
    conn.handle_input(&accepted.negotiated.leftover);
    let mut driver = Driver {
        stream,
        conn,
        read: 0,
        written: 0,
    };
    let mut echoed = 0;
    let mut payload_bytes = 0;
    driver.run(|conn, event| {
        match event {
            Event::Text(text) => {
                payload_bytes += text.len();
                conn.send_text_shared(text).unwrap();
            }
            Event::Binary(data) => {
                payload_bytes += data.len();
                conn.send_binary_shared(data).unwrap();
            }
            Event::Close(frame) => assert_eq!(frame.code, CloseCode::NORMAL),
            _ => return false,
        }
        echoed += 1;
        false
    });
    ServerReport {
        offered,
        response: response.to_string(),
        echoed: echoed - 1, // the close
        payload_bytes,
        read: driver.read,
    }
}

/// Runs the Python client against our server; returns the server's report
/// and the client's output.
fn python_client_against_our_server(
    python: &str,
    bits: Option<u8>,
    deflate: DeflateConfig,
) -> (ServerReport, String) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let uri = format!("ws://127.0.0.1:{port}/");
    let mut command = Command::new(python);
    command.arg(peer_script()).args(["client", &uri]);
    if let Some(bits) = bits {
        command.arg(bits.to_string());
    }
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = ChildGuard(child);
    let server = std::thread::spawn(move || serve_one(listener, deflate));
    let report = server.join();

    let deadline = Instant::now() + TIMEOUT;
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "peer did not exit in time");
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    let _ = child.0.stdout.take().unwrap().read_to_string(&mut stdout);
    let _ = child.0.stderr.take().unwrap().read_to_string(&mut stderr);
    let report = report.unwrap_or_else(|_| panic!("server thread failed; peer said: {stderr}"));
    assert!(status.success(), "peer failed: {stdout}\n{stderr}");
    (report, stdout)
}

#[test]
fn a_websockets_client_with_default_compression_against_our_server() {
    let Some(python) = python() else { return };
    let (report, stdout) =
        python_client_against_our_server(&python, None, DeflateConfig::default());
    println!(
        "offered {:?}, answered {:?}: {} messages, {} payload bytes in {} bytes read",
        report.offered, report.response, report.echoed, report.payload_bytes, report.read
    );
    assert!(report.offered.contains("permessage-deflate"));
    assert_eq!(
        stdout,
        format!("extensions {}\nok\n", report.response),
        "the client saw our answer"
    );
    assert_eq!(report.echoed, 7);
    // Two 1 MiB JSON messages came over compressed.
    assert!(report.payload_bytes > 2 << 20);
    assert!(report.read < report.payload_bytes / 5, "{}", report.read);
}

#[test]
fn a_websockets_client_asking_for_10_bit_windows_against_our_server() {
    let Some(python) = python() else { return };
    let (report, stdout) =
        python_client_against_our_server(&python, Some(10), DeflateConfig::default());
    assert_eq!(
        report.offered,
        "permessage-deflate; server_max_window_bits=10; client_max_window_bits=10"
    );
    assert_eq!(
        report.response,
        "permessage-deflate; server_max_window_bits=10; client_max_window_bits=10"
    );
    assert_eq!(stdout, format!("extensions {}\nok\n", report.response));
    assert_eq!(report.echoed, 7);
    assert!(report.read < report.payload_bytes / 5, "{}", report.read);
}

#[test]
fn a_websockets_client_against_our_server_with_small_windows_and_no_context_takeover() {
    let Some(python) = python() else { return };
    let ours = DeflateConfig {
        server_no_context_takeover: true,
        client_no_context_takeover: true,
        server_max_window_bits: 9,
        client_max_window_bits: 9,
        ..DeflateConfig::default()
    };
    let (report, stdout) = python_client_against_our_server(&python, Some(12), ours);
    assert_eq!(
        report.response,
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
         server_max_window_bits=9; client_max_window_bits=9"
    );
    assert_eq!(stdout, format!("extensions {}\nok\n", report.response));
    assert_eq!(report.echoed, 7);
}

#[test]
fn our_client_against_a_websockets_server_with_compression() {
    let Some(python) = python() else { return };
    let child = Command::new(&python)
        .arg(peer_script())
        .arg("server")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut child = ChildGuard(child);
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
    let url = WsUrl::parse(&format!("ws://127.0.0.1:{port}/")).unwrap();
    let deflate = DeflateConfig::default();
    let offer = ClientConfig::new().extension(deflate.offer());
    let mut handshake = ClientHandshake::new_random(&url, offer).unwrap();
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
    let agreed = &accepted.negotiated.extensions;
    let params = deflate
        .check_response(agreed)
        .unwrap()
        .unwrap_or_else(|| panic!("the server declined compression: {agreed:?}"));
    println!("agreed {agreed:?}: {params:?}");

    let mut conn = Connection::new(Role::Client, config());
    conn.enable_deflate(params);
    conn.handle_input(&accepted.negotiated.leftover);
    let mut driver = Driver {
        stream,
        conn,
        read: 0,
        written: 0,
    };
    let json = json_like(1 << 20);
    let messages = [
        Event::Text("hello".into()),
        Event::Text("Hello, permessage-deflate! ".repeat(10).into()),
        Event::Binary(Bytes::from(
            (0..=255u8).cycle().take(1024).collect::<Vec<_>>(),
        )),
        Event::Text(json.clone().into()),
        Event::Binary(Bytes::from(json.into_bytes())),
        Event::Binary(Bytes::from(noise(1 << 20))),
        Event::Text("".into()),
        Event::Text("hello".into()),
    ];
    for message in &messages {
        match message {
            Event::Text(t) => driver.conn.send_text(t.as_str()).unwrap(),
            Event::Binary(b) => driver.conn.send_binary(b).unwrap(),
            _ => unreachable!(),
        }
        driver.flush();
        let mut echo = None;
        assert!(driver.run(|_, event| {
            echo = Some(event);
            true
        }));
        assert!(echo.as_ref() == Some(message), "the echo differs");
    }
    driver.conn.close(CloseCode::NORMAL, "done").unwrap();
    driver.flush();
    let mut closed = None;
    assert!(!driver.run(|_, event| {
        closed = Some(event);
        false
    }));
    match closed {
        Some(Event::Close(frame)) => assert_eq!(frame.code, CloseCode::NORMAL),
        other => panic!("{other:?}"),
    }
    println!(
        "wrote {} bytes, read {} bytes for {} payload bytes each way",
        driver.written,
        driver.read,
        3 << 20
    );
    // The JSON megabytes went compressed both ways; the noise could not
    // (and level 1 codes it with the fixed Huffman table: a few % more).
    assert!(driver.written < (1 << 20) * 7 / 4, "{}", driver.written);
    assert!(driver.read < (1 << 20) * 7 / 4, "{}", driver.read);
    drop(child);
}
