//! permessage-deflate against another implementation: the Python
//! `websockets` library (which offers and accepts it by default), as client
//! and as server, over 127.0.0.1, with whole connections on our side.
//!
//! The interpreter is `$WSPROTO_TEST_PYTHON`, else `python3`. Without the
//! library the tests print `SKIPPED: ...` and pass, unless `$CI` is set.
//! Every socket has timeouts and every child process is killed and reaped.
#![cfg(feature = "deflate")]

mod endpoints;
mod peers;

use std::io::Write;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

use bytes::Bytes;
use peers::{ChildGuard, Driver};
use wsproto::extensions::deflate::DeflateConfig;
use wsproto::handshake::{Accept, ClientConfig, ClientHandshake, WsUrl};
use wsproto::{CloseCode, Config, Event};

const TIMEOUT: Duration = Duration::from_secs(10);

/// The interpreter to use, or `None` (after saying why) to skip.
fn python() -> Option<String> {
    peers::python(
        "websockets.sync.client",
        "install it with `pip install websockets`, or set WSPROTO_TEST_PYTHON",
    )
}

/// Room for the 1 MiB messages both ways.
fn config() -> Config {
    Config::default().max_message_size(16 << 20)
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
    let mut stream = peers::accept_one(&listener, TIMEOUT);
    let request = peers::read_request(&mut stream);
    let offered = request
        .extensions()
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let accepted = request
        .accept(Accept::new().deflate(deflate).config(config()))
        .unwrap();
    assert!(
        accepted.connection.is_deflate_enabled(),
        "no acceptable offer in {offered:?}"
    );
    let response = accepted.negotiated.extensions[0].clone();
    let mut out = Vec::new();
    accepted
        .response
        .write_to_vec(&mut out)
        .expect("a head this program built is valid");
    stream.write_all(&out).unwrap();

    let mut driver = Driver::new(stream, accepted.connection);
    let mut echoed = 0;
    let mut payload_bytes = 0;
    driver.run(|conn, event| {
        match event {
            Event::Text(text) => {
                payload_bytes += text.len();
                conn.send_text(text).unwrap();
            }
            Event::Binary(data) => {
                payload_bytes += data.len();
                conn.send_binary(data).unwrap();
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
    command
        .arg(peers::script("deflate_peer.py"))
        .args(["client", &uri]);
    if let Some(bits) = bits {
        command.arg(bits.to_string());
    }
    let mut child = ChildGuard::spawn(command.stdout(Stdio::piped()).stderr(Stdio::piped()));
    let server = std::thread::spawn(move || serve_one(listener, deflate));
    let report = server.join();
    let (status, stdout, stderr) = child.wait_output("peer", TIMEOUT);
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
    // Our default asks the client not to take its context over.
    assert_eq!(
        report.response,
        "permessage-deflate; client_no_context_takeover; server_max_window_bits=10; \
         client_max_window_bits=10"
    );
    assert_eq!(stdout, format!("extensions {}\nok\n", report.response));
    assert_eq!(report.echoed, 7);
    assert!(report.read < report.payload_bytes / 5, "{}", report.read);
}

#[test]
fn a_websockets_client_against_our_server_with_small_windows_and_no_context_takeover() {
    let Some(python) = python() else { return };
    let ours = DeflateConfig::default()
        .server_no_context_takeover(true)
        .client_no_context_takeover(true)
        .server_max_window_bits(9)
        .client_max_window_bits(9);
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
    let (child, mut stream) =
        peers::python_server(&python, "deflate_peer.py", &["server"], TIMEOUT);
    let port = stream.peer_addr().unwrap().port();
    let url = WsUrl::parse(&format!("ws://127.0.0.1:{port}/")).unwrap();
    let offer = ClientConfig::new()
        .deflate(DeflateConfig::default())
        .config(config());
    let mut handshake = ClientHandshake::new_random(&url, offer).unwrap();
    let accepted = peers::client_handshake(&mut stream, &mut handshake, &[]);
    let agreed = &accepted.negotiated.extensions;
    assert!(
        accepted.connection.is_deflate_enabled(),
        "the server declined compression: {agreed:?}"
    );
    println!("agreed {agreed:?}");
    let mut driver = Driver::new(stream, accepted.connection);
    let json = json_like(1 << 20);
    let messages = [
        Event::Text("hello".into()),
        Event::Text("Hello, permessage-deflate! ".repeat(10).into()),
        Event::Binary(Bytes::from(
            (0..=255u8).cycle().take(1024).collect::<Vec<_>>(),
        )),
        Event::Text(json.clone().into()),
        Event::Binary(Bytes::from(json.into_bytes())),
        Event::Binary(Bytes::from(endpoints::noise(1 << 20, 1))),
        Event::Text("".into()),
        Event::Text("hello".into()),
    ];
    for message in &messages {
        match message {
            Event::Text(t) => driver.conn.send_text(t.as_str()).unwrap(),
            Event::Binary(b) => driver.conn.send_binary(b).unwrap(),
            _ => unreachable!(),
        }
        let echo = driver.next_event();
        assert!(echo.is_some(), "closed before the echo");
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
