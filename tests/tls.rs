//! `wss://` over 127.0.0.1, with a CA and a server certificate generated
//! here (rcgen) for `127.0.0.1` and `localhost`: the `echo_server` example
//! serving TLS (`--cert`, `--key`) to the Python `websockets` client (which
//! trusts only the test CA) and to the `client` example (`--ca`); the
//! `client` example refusing an unknown CA, following redirects (relative
//! and absolute, at most 5) and refusing a redirect from `wss://` to `ws://`.
//!
//! The library stays TLS-free: TLS lives in the examples (rustls) and here.
//! As in `connection_interop.rs`: the interpreter is `$WSPROTO_TEST_PYTHON`,
//! else `python3`, and without `websockets` the Python test prints
//! `SKIPPED: ...` and passes unless `$CI` is set; every wait is bounded and
//! every child is killed and reaped on every path out of a test.

mod peers;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::mpsc::Receiver;
use std::sync::Arc;
use std::time::Duration;

use peers::{lines_of, pki, ChildGuard};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// How long any one exchange may take.
const TIMEOUT: Duration = Duration::from_secs(60);

/// The interpreter to use, or `None` (after saying why) to skip.
fn python() -> Option<String> {
    peers::python(
        "ssl, websockets.sync.client",
        "pip install websockets, or set WSPROTO_TEST_PYTHON",
    )
}

/// The TLS `echo_server` example on a free port: the guard, its port, and
/// its log (shown on failure).
fn tls_echo_server() -> (ChildGuard, u16, Receiver<String>) {
    peers::echo_server(true)
}

/// Runs the `client` example with `args` (going direct, whatever proxy this
/// machine is configured with) and the lines `send`; returns its exit
/// status, stdout lines and stderr lines.
fn run_client(
    args: &[&str],
    send: &[&str],
) -> (std::process::ExitStatus, Vec<String>, Vec<String>) {
    let direct = [("no_proxy", "*".to_string()), ("NO_PROXY", "*".to_string())];
    peers::run_client(args, &direct, send)
}

/// The Python `websockets` client, trusting only the test CA, against the
/// TLS echo server.
#[test]
fn websockets_client_over_wss_against_the_echo_server() {
    let Some(python) = python() else { return };
    let (_server, port, log) = tls_echo_server();
    let mut client = ChildGuard::spawn(
        Command::new(&python)
            .arg(peers::script("tls_client.py"))
            .arg(format!("wss://127.0.0.1:{port}/"))
            .arg(&pki().ca)
            // `websockets` honours proxy variables too: go direct.
            .env("no_proxy", "*")
            .env("NO_PROXY", "*")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let stdout = lines_of(client.0.stdout.take().unwrap());
    let stderr = lines_of(client.0.stderr.take().unwrap());
    let status = client.wait_exit("the websockets client", TIMEOUT);
    assert!(
        status.success(),
        "the websockets client failed: {status}\n{}\necho_server said:\n{}",
        stderr.try_iter().collect::<Vec<_>>().join("\n"),
        log.try_iter().collect::<Vec<_>>().join("\n")
    );
    let lines: Vec<String> = stdout.try_iter().collect();
    println!("websockets over wss: {lines:?}");
    for expected in [
        "tls TLSv1.3",
        "text h\u{e9}llo, w\u{f6}rld",
        "binary 0001ff",
        "large 1048576 equal",
        "pong",
        "closed 1000",
    ] {
        assert!(
            lines.iter().any(|l| l == expected),
            "{expected:?} in {lines:?}"
        );
    }
}

/// The `client` example (`--ca`) against the TLS echo server.
#[test]
fn client_example_over_wss_against_the_echo_server() {
    let (_server, port, _log) = tls_echo_server();
    let url = format!("wss://127.0.0.1:{port}/");
    let ca = pki().ca.to_str().unwrap().to_string();
    let sent = [
        "hello over TLS",
        "h\u{e9}llo \u{1f980}",
        &"x".repeat(100_000),
    ];
    let (status, got, stderr) = run_client(&[&url, "--ca", &ca], &sent);
    assert!(status.success(), "{status}: {stderr:?}");
    assert_eq!(got, sent, "{stderr:?}");
    assert!(
        stderr.iter().any(|l| l == "connection closed: 1000"),
        "{stderr:?}"
    );
}

/// Without the test CA the `client` example does not trust the server.
#[test]
fn client_example_refuses_an_unknown_ca() {
    let (_server, port, _log) = tls_echo_server();
    let url = format!("wss://127.0.0.1:{port}/");
    let (status, got, stderr) = run_client(&[&url], &["never sent"]);
    assert!(!status.success(), "{got:?} {stderr:?}");
    assert!(
        stderr.iter().any(|l| l.contains("UnknownIssuer")),
        "{stderr:?}"
    );
}

/// A TLS server (the test certificate) answering each request by its path:
/// the routes are (path, status, `Location`); other paths get a 404.
fn tls_redirector(routes: Vec<(&'static str, u16, String)>) -> u16 {
    let pki = pki();
    let chain = CertificateDer::pem_file_iter(&pki.cert)
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(&pki.key).unwrap();
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // Serves until the test binary exits; each connection bounded in time.
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { continue };
            let (config, routes) = (config.clone(), routes.clone());
            std::thread::spawn(move || {
                tcp.set_read_timeout(Some(TIMEOUT)).unwrap();
                let conn = rustls::ServerConnection::new(config).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, tcp);
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.ends_with(b"\r\n\r\n") {
                    match tls.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&head);
                let path = head.split(' ').nth(1).unwrap_or("");
                let (status, location) = routes
                    .iter()
                    .find(|(p, _, _)| *p == path)
                    .map(|(_, s, l)| (*s, l.as_str()))
                    .unwrap_or((404, ""));
                let _ = write!(
                    tls,
                    "HTTP/1.1 {status} Redirect\r\nLocation: {location}\r\n\
                     Content-Length: 0\r\nConnection: close\r\n\r\n"
                );
                let _ = tls.flush();
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    port
}

/// Redirects are followed: relative (`/b`), then absolute to the echo
/// server; a loop ends after 5; `wss://` to `ws://` is refused.
#[test]
fn client_example_follows_redirects_but_never_downgrades() {
    let (_server, echo_port, _log) = tls_echo_server();
    let port = tls_redirector(vec![
        ("/a", 301, "/b".into()),
        ("/b", 307, format!("wss://localhost:{echo_port}/echo")),
        ("/loop", 302, "loop".into()),
        ("/down", 308, format!("ws://127.0.0.1:{echo_port}/")),
    ]);
    let ca = pki().ca.to_str().unwrap().to_string();

    let url = format!("wss://127.0.0.1:{port}/a");
    let (status, got, stderr) = run_client(&[&url, "--ca", &ca], &["redirected"]);
    assert!(status.success(), "{status}: {stderr:?}");
    assert_eq!(got, ["redirected"]);
    assert!(
        stderr
            .iter()
            .any(|l| l == &format!("redirected (301) to wss://127.0.0.1:{port}/b")),
        "{stderr:?}"
    );

    let url = format!("wss://127.0.0.1:{port}/loop");
    let (status, _, stderr) = run_client(&[&url, "--ca", &ca], &[]);
    assert!(!status.success());
    assert_eq!(
        stderr
            .iter()
            .filter(|l| l.starts_with("redirected"))
            .count(),
        5,
        "{stderr:?}"
    );
    assert!(
        stderr.iter().any(|l| l.contains("more than 5 redirects")),
        "{stderr:?}"
    );

    let url = format!("wss://127.0.0.1:{port}/down");
    let (status, _, stderr) = run_client(&[&url, "--ca", &ca], &[]);
    assert!(!status.success());
    assert!(
        stderr
            .iter()
            .any(|l| l.contains("a downgrade from wss to ws")),
        "{stderr:?}"
    );
}
