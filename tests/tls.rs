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

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// How long any one exchange may take.
const TIMEOUT: Duration = Duration::from_secs(60);

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
        .args(["-c", "import ssl, websockets.sync.client"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    let why = match probe {
        Ok(out) if out.status.success() => return Some(python),
        Ok(out) => format!(
            "`{python} -c 'import ssl, websockets.sync.client'` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ),
        Err(e) => format!("cannot run {python}: {e}"),
    };
    if std::env::var_os("CI").is_some() {
        panic!("CI is set and the interop peer is unavailable: {why}");
    }
    println!("SKIPPED: {why} (pip install websockets, or set WSPROTO_TEST_PYTHON)");
    None
}

/// The `echo_server` and `client` examples, built once per test binary.
fn examples() -> &'static (PathBuf, PathBuf) {
    static EXAMPLES: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    EXAMPLES.get_or_init(|| {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["build", "--example", "echo_server", "--example", "client"])
            .arg("--message-format=json-render-diagnostics")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if cfg!(feature = "deflate") {
            command.args(["--features", "deflate"]);
        }
        let out = command.output().expect("cannot run cargo");
        assert!(
            out.status.success(),
            "building the examples failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        let executable = |name: &str| -> PathBuf {
            let target = format!("\"name\":\"{name}\"");
            let line = stdout
                .lines()
                .find(|l| l.contains("\"compiler-artifact\"") && l.contains(&target))
                .unwrap_or_else(|| panic!("cargo did not report the {name} example"));
            let at = line.find("\"executable\":\"").expect("no executable") + 14;
            PathBuf::from(&line[at..at + line[at..].find('"').unwrap()])
        };
        (executable("echo_server"), executable("client"))
    })
}

/// The test PKI: a CA, and a server certificate it signed for `127.0.0.1`
/// and `localhost`, as PEM files in a directory of their own.
struct Pki {
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
        let dir =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();

        let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "wsproto test CA");
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let ca_key = KeyPair::generate().unwrap();
        let ca = ca_params.self_signed(&ca_key).unwrap();

        let mut params =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()]).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, "wsproto test server");
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &ca, &ca_key).unwrap();

        let pki = Pki {
            ca: dir.join("ca.pem"),
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        };
        std::fs::write(&pki.ca, ca.pem()).unwrap();
        std::fs::write(&pki.cert, cert.pem()).unwrap();
        std::fs::write(&pki.key, key.serialize_pem()).unwrap();
        pki
    })
}

/// Forwards every line of `from` into a channel, from a thread, so a silent
/// peer cannot hang the test.
fn lines_of(from: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// Writes lines to `to` from a thread; dropping the sender closes the pipe.
fn line_writer(mut to: ChildStdin) -> Sender<String> {
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in rx {
            if writeln!(to, "{line}").and_then(|()| to.flush()).is_err() {
                return;
            }
        }
    });
    tx
}

fn next_line(lines: &Receiver<String>, what: &str) -> String {
    lines
        .recv_timeout(TIMEOUT)
        .unwrap_or_else(|e| panic!("no {what} within {TIMEOUT:?}: {e}"))
}

/// Waits for the child to exit within `timeout`; on timeout fails (the
/// guard kills it).
fn wait_exit(child: &mut ChildGuard, what: &str, timeout: Duration) -> ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not exit within {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The TLS `echo_server` example on a free port: the guard, its port, and
/// its log (shown on failure).
fn tls_echo_server() -> (ChildGuard, u16, Receiver<String>) {
    let (echo_server, _) = examples();
    let pki = pki();
    let child = Command::new(echo_server)
        .arg("127.0.0.1:0")
        .arg("--cert")
        .arg(&pki.cert)
        .arg("--key")
        .arg(&pki.key)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = ChildGuard(child);
    let stdout = lines_of(child.0.stdout.take().unwrap());
    let log = lines_of(child.0.stderr.take().unwrap());
    let line = next_line(&stdout, "the echo server's address");
    let port = line
        .strip_prefix("echo server listening on wss://127.0.0.1:")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
    (child, port, log)
}

/// Runs the `client` example with `args` and the lines `send`; returns its
/// exit status, stdout lines and stderr lines.
fn run_client(args: &[&str], send: &[&str]) -> (ExitStatus, Vec<String>, Vec<String>) {
    let (_, client) = examples();
    let child = Command::new(client)
        .args(args)
        .env_remove("WSPROTO_CA_FILE")
        // Whatever proxy this machine is configured with, go direct.
        .env("no_proxy", "*")
        .env("NO_PROXY", "*")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = ChildGuard(child);
    let stdin = line_writer(child.0.stdin.take().unwrap());
    let stdout = lines_of(child.0.stdout.take().unwrap());
    let stderr = lines_of(child.0.stderr.take().unwrap());
    let mut got = Vec::new();
    for line in send {
        stdin.send(line.to_string()).unwrap();
        match stdout.recv_timeout(TIMEOUT) {
            Ok(echo) => got.push(echo),
            // It failed (the caller checks the status and stderr).
            Err(_) => break,
        }
    }
    drop(stdin);
    let status = wait_exit(&mut child, "the client example", TIMEOUT);
    got.extend(stdout.try_iter());
    (status, got, stderr.iter().collect())
}

/// The Python `websockets` client, trusting only the test CA, against the
/// TLS echo server.
#[test]
fn websockets_client_over_wss_against_the_echo_server() {
    let Some(python) = python() else { return };
    let (_server, port, log) = tls_echo_server();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/tls_client.py");
    let out = Command::new(&python)
        .arg(script)
        .arg(format!("wss://127.0.0.1:{port}/"))
        .arg(&pki().ca)
        // `websockets` honours proxy variables too: go direct.
        .env("no_proxy", "*")
        .env("NO_PROXY", "*")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut client = ChildGuard(out);
    let stdout = lines_of(client.0.stdout.take().unwrap());
    let stderr = lines_of(client.0.stderr.take().unwrap());
    let status = wait_exit(&mut client, "the websockets client", TIMEOUT);
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
