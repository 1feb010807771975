//! HTTP `CONNECT` tunnels (RFC 9110 §9.3.6) through a real proxy over
//! 127.0.0.1: a small one written here (`std::net`, a thread per
//! connection: it reads the `CONNECT` head, checks `Proxy-Authorization`
//! when told to, dials the target, answers `200 Connection established` and
//! copies bytes both ways), in front of the `echo_server` example.
//!
//! - the library alone: [`ProxyRequest`] and [`ProxyResponse`], then the
//!   WebSocket handshake and a message on the tunnel;
//! - a 407 surfaced with its status and `Proxy-Authenticate`, then the
//!   tunnel opened with `Basic` credentials;
//! - the `client` example honouring `HTTP_PROXY` (with credentials in the
//!   URL), `HTTPS_PROXY` (TLS inside the tunnel, with a CA made here) and
//!   `NO_PROXY`, and reporting a 407.
//!
//! Every wait is bounded; every child is killed and reaped on every path
//! out of a test.

mod peers;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use peers::{echo_server, pki, run_client, Driver};
use wsproto::frame::Status;
use wsproto::handshake::{ClientConfig, ClientHandshake, WsUrl};
use wsproto::proxy::{ProxyError, ProxyRequest, ProxyResponse};
use wsproto::Event;

/// How long any one exchange may take.
const TIMEOUT: Duration = Duration::from_secs(60);

/// The credentials the authenticating proxy wants, and their header value.
const USER: &str = "ann";
const PASSWORD: &str = "s3cr3t:pw";
const AUTHORIZATION: &str = "Basic YW5uOnMzY3IzdDpwdw==";

/// A running test proxy: its port, and each `CONNECT` it saw, as
/// `"<target> <Proxy-Authorization or ->"`.
struct TestProxy {
    port: u16,
    seen: Arc<Mutex<Vec<String>>>,
}

impl TestProxy {
    fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

/// Starts the proxy; with `require_auth`, a `CONNECT` without the right
/// `Proxy-Authorization` gets a 407.
fn start_proxy(require_auth: bool) -> TestProxy {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    // Serves until the test binary exits.
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let log = log.clone();
            std::thread::spawn(move || {
                let _ = serve_proxy(client, require_auth, &log);
            });
        }
    });
    TestProxy { port, seen }
}

/// One proxied connection: RFC 9110 §9.3.6 from the proxy's side.
fn serve_proxy(
    mut client: TcpStream,
    require_auth: bool,
    log: &Mutex<Vec<String>>,
) -> std::io::Result<()> {
    client.set_read_timeout(Some(TIMEOUT))?;
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    let end = loop {
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if head.len() > 8192 {
            return Ok(());
        }
        match client.read(&mut buf)? {
            0 => return Ok(()),
            n => head.extend_from_slice(&buf[..n]),
        }
    };
    let early = head.split_off(end);
    let head = String::from_utf8_lossy(&head).into_owned();
    let mut lines = head.split("\r\n");
    let request_line: Vec<&str> = lines.next().unwrap_or("").split(' ').collect();
    let auth = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("proxy-authorization"))
        .map(|(_, value)| value.trim().to_string());
    let [method, target, _version] = request_line[..] else {
        return client.write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    };
    log.lock()
        .unwrap()
        .push(format!("{target} {}", auth.as_deref().unwrap_or("-")));
    if method != "CONNECT" {
        return client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n");
    }
    if require_auth && auth.as_deref() != Some(AUTHORIZATION) {
        return client.write_all(
            b"HTTP/1.1 407 Proxy Authentication Required\r\n\
              Proxy-Authenticate: Basic realm=\"wsproto-test\"\r\nContent-Length: 0\r\n\r\n",
        );
    }
    let Ok(mut server) = TcpStream::connect(target) else {
        return client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
    };
    server.set_read_timeout(Some(TIMEOUT))?;
    server.write_all(&early)?;
    client.write_all(b"HTTP/1.1 200 Connection established\r\nProxy-Agent: test\r\n\r\n")?;
    // Copy both ways; each direction passes its end of stream on.
    let (mut client_in, mut server_out) = (client.try_clone()?, server.try_clone()?);
    let upstream = std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_in, &mut server_out);
        let _ = server_out.shutdown(Shutdown::Write);
    });
    let _ = std::io::copy(&mut server, &mut client);
    let _ = client.shutdown(Shutdown::Write);
    let _ = upstream.join();
    Ok(())
}

/// Asks the proxy for a tunnel with the library's helper.
fn open_tunnel(
    proxy: u16,
    request: &ProxyRequest,
) -> (
    TcpStream,
    Result<Status<wsproto::proxy::Tunnel>, ProxyError>,
) {
    let mut tcp = TcpStream::connect(("127.0.0.1", proxy)).unwrap();
    tcp.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut out = vec![0u8; request.encoded_len()];
    let n = request.write(&mut out).unwrap();
    tcp.write_all(&out[..n]).unwrap();
    let mut response = ProxyResponse::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tcp.read(&mut buf).unwrap();
        assert!(n > 0, "the proxy closed before answering");
        match response.handle_input(&buf[..n]) {
            Ok(Status::Partial) => continue,
            other => return (tcp, other),
        }
    }
}

/// The library alone: a tunnel, then the WebSocket handshake and an echo.
#[test]
fn library_tunnels_a_websocket_through_the_proxy() {
    let (_echo, echo_port, _log) = echo_server(false);
    let proxy = start_proxy(false);
    let request = ProxyRequest::new("127.0.0.1", echo_port).unwrap();
    let (mut tcp, answer) = open_tunnel(proxy.port, &request);
    let tunnel = answer.unwrap().complete().unwrap();
    assert_eq!(tunnel.response.status, 200);
    assert_eq!(tunnel.response.headers.get_str("Proxy-Agent"), Some("test"));

    let url = WsUrl::parse(&format!("ws://127.0.0.1:{echo_port}/")).unwrap();
    let mut handshake = ClientHandshake::new_random(&url, ClientConfig::new()).unwrap();
    // The bytes after the proxy's head belong to the server: fed first.
    let accepted = peers::client_handshake(&mut tcp, &mut handshake, &tunnel.leftover);
    let mut driver = Driver::new(tcp, accepted.connection);
    driver.conn.send_text("through the tunnel").unwrap();
    match driver.next_event() {
        Some(Event::Text(text)) => assert_eq!(text.as_str(), "through the tunnel"),
        other => panic!("{other:?}"),
    }
    assert_eq!(proxy.seen(), [format!("127.0.0.1:{echo_port} -")]);
}

/// A 407 carries the status and `Proxy-Authenticate`; credentials open it.
#[test]
fn library_surfaces_a_407_then_authenticates() {
    let (_echo, echo_port, _log) = echo_server(false);
    let proxy = start_proxy(true);
    let request = ProxyRequest::new("127.0.0.1", echo_port).unwrap();
    let (_tcp, answer) = open_tunnel(proxy.port, &request);
    let Err(ProxyError::Refused(response)) = answer else {
        panic!("{answer:?}")
    };
    assert_eq!(
        (response.status, response.reason.as_str()),
        (407, "Proxy Authentication Required")
    );
    assert_eq!(
        response.headers.get_str("proxy-authenticate"),
        Some("Basic realm=\"wsproto-test\"")
    );

    let request = request.basic_auth(USER, PASSWORD).unwrap();
    let (_tcp, answer) = open_tunnel(proxy.port, &request);
    assert_eq!(answer.unwrap().complete().unwrap().response.status, 200);
    assert_eq!(
        proxy.seen(),
        [
            format!("127.0.0.1:{echo_port} -"),
            format!("127.0.0.1:{echo_port} {AUTHORIZATION}")
        ]
    );
}

/// `HTTP_PROXY` with credentials in the URL; `NO_PROXY` names another host.
#[test]
fn client_example_uses_http_proxy() {
    let (_echo, echo_port, _log) = echo_server(false);
    let proxy = start_proxy(true);
    let env = [
        (
            "HTTP_PROXY",
            format!("http://{USER}:s3cr3t%3Apw@127.0.0.1:{}", proxy.port),
        ),
        ("NO_PROXY", "example.com,.internal,10.0.0.1".into()),
    ];
    let url = format!("ws://127.0.0.1:{echo_port}/");
    let (status, got, stderr) = run_client(&[&url], &env, &["via the proxy"]);
    assert!(status.success(), "{status}: {stderr:?}");
    assert_eq!(got, ["via the proxy"]);
    assert_eq!(
        proxy.seen(),
        [format!("127.0.0.1:{echo_port} {AUTHORIZATION}")]
    );
}

/// `HTTPS_PROXY` for `wss://`: TLS runs inside the tunnel.
#[test]
fn client_example_uses_https_proxy_for_wss() {
    let (_echo, echo_port, _log) = echo_server(true);
    let proxy = start_proxy(false);
    let env = [
        ("HTTPS_PROXY", format!("127.0.0.1:{}", proxy.port)),
        // Not used for wss://.
        ("HTTP_PROXY", "http://127.0.0.1:9".into()),
    ];
    let url = format!("wss://127.0.0.1:{echo_port}/");
    let ca = pki().ca.to_str().unwrap();
    let (status, got, stderr) = run_client(&[&url, "--ca", ca], &env, &["tls inside"]);
    assert!(status.success(), "{status}: {stderr:?}");
    assert_eq!(got, ["tls inside"]);
    assert_eq!(proxy.seen(), [format!("127.0.0.1:{echo_port} -")]);
}

/// Hosts in `NO_PROXY` are reached directly: the proxy sees nothing.
#[test]
fn client_example_bypasses_no_proxy_hosts() {
    let (_echo, echo_port, _log) = echo_server(false);
    let proxy = start_proxy(false);
    for no_proxy in ["127.0.0.1", "example.com, 127.0.0.1:1234", "*"] {
        let env = [
            ("http_proxy", format!("http://127.0.0.1:{}", proxy.port)),
            ("no_proxy", no_proxy.to_string()),
        ];
        let url = format!("ws://127.0.0.1:{echo_port}/");
        let (status, got, stderr) = run_client(&[&url], &env, &["direct"]);
        assert!(status.success(), "{no_proxy}: {status}: {stderr:?}");
        assert_eq!(got, ["direct"], "{no_proxy}");
    }
    assert_eq!(proxy.seen(), Vec::<String>::new());
}

/// A 407 is reported with the proxy's challenge; nothing is tunnelled.
#[test]
fn client_example_reports_a_407() {
    let (_echo, echo_port, _log) = echo_server(false);
    let proxy = start_proxy(true);
    let env = [("HTTP_PROXY", format!("http://127.0.0.1:{}", proxy.port))];
    let url = format!("ws://127.0.0.1:{echo_port}/");
    let (status, _, stderr) = run_client(&[&url], &env, &[]);
    assert!(!status.success());
    let report = stderr.join("\n");
    assert!(
        report.contains("407 Proxy Authentication Required")
            && report.contains("Proxy-Authenticate: Basic realm=\"wsproto-test\""),
        "{report}"
    );
}
