//! Plumbing shared by the tests that talk to real peers over 127.0.0.1: the
//! Python interpreter (and the rule for skipping without it), child
//! processes killed on every path out of a test, bounded waits for ports,
//! lines and exits, the examples built once per test binary, a test PKI, and
//! a blocking drive loop for a [`Connection`] over a [`TcpStream`].
//!
//! Every test binary compiles this module on its own and uses a part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use wsproto::frame::Status;
use wsproto::handshake::{Accepted, ClientHandshake, Limits, Request, ServerHandshake};
use wsproto::{Connection, Event};

// ----- processes -------------------------------------------------------------

/// Kills and reaps the child on every path out of the test.
pub struct ChildGuard(pub Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl ChildGuard {
    /// Spawns `command`, guarded.
    pub fn spawn(command: &mut Command) -> ChildGuard {
        ChildGuard(command.spawn().unwrap())
    }

    /// Waits for the child to exit within `timeout`; on timeout fails (the
    /// guard kills it on the way out).
    pub fn wait_exit(&mut self, what: &str, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "{what} did not exit within {timeout:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for the exit (as [`ChildGuard::wait_exit`]), then reads all of
    /// the piped stdout and stderr.
    pub fn wait_output(&mut self, what: &str, timeout: Duration) -> (ExitStatus, String, String) {
        let status = self.wait_exit(what, timeout);
        let mut stdout = String::new();
        let mut stderr = String::new();
        let _ = self.0.stdout.take().unwrap().read_to_string(&mut stdout);
        let _ = self.0.stderr.take().unwrap().read_to_string(&mut stderr);
        (status, stdout, stderr)
    }
}

// ----- the Python peer ---------------------------------------------------------

/// The interpreter to use (`$WSPROTO_TEST_PYTHON`, else `python3`) if it
/// imports `modules`; else `None`, after printing `SKIPPED: ...` and `hint`.
/// With `$CI` set a missing peer fails the test instead.
pub fn python(modules: &str, hint: &str) -> Option<String> {
    let python = std::env::var("WSPROTO_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = Command::new(&python)
        .args(["-c", &format!("import {modules}")])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    let why = match probe {
        Ok(out) if out.status.success() => return Some(python),
        Ok(out) => format!(
            "`{python} -c 'import {modules}'` failed: {}",
            last_line(&out.stderr)
        ),
        Err(e) => format!("cannot run {python}: {e}"),
    };
    if std::env::var_os("CI").is_some() {
        panic!("CI is set and the interop peer is unavailable: {why}");
    }
    println!("SKIPPED: {why} ({hint})");
    None
}

/// The last non-empty line of an error output (a traceback's message).
pub fn last_line(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    text.lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
        .to_string()
}

/// A script in `tests/interop`.
pub fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop")
        .join(name)
}

/// Starts the Python peer `script` (in `tests/interop`) with `args` as a
/// server that prints its port first; returns the guard and a stream
/// connected to it, with read and write timeouts of `timeout`.
pub fn python_server(
    python: &str,
    script_name: &str,
    args: &[&str],
    timeout: Duration,
) -> (ChildGuard, TcpStream) {
    let mut child = ChildGuard::spawn(
        Command::new(python)
            .arg(script(script_name))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    );
    // Read off-thread so a silent peer cannot hang the test.
    let stdout = lines_of(child.0.stdout.take().unwrap());
    let port = next_port(&stdout, "port from the peer", timeout);
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    set_timeouts(&stream, timeout);
    (child, stream)
}

// ----- lines -------------------------------------------------------------------

/// Forwards every line of `from` into a channel, from a thread, until its
/// end, so a silent peer cannot hang the test: reads go through
/// `recv_timeout`.
pub fn lines_of(from: impl Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(from).lines() {
            let Ok(line) = line else { return };
            // Nobody listening: keep draining, so the writer never blocks
            // or fails on a full or closed pipe.
            let _ = tx.send(line);
        }
    });
    rx
}

/// Writes lines to `to` from a thread (a write may block while the reader
/// is busy); dropping the sender closes the pipe.
pub fn line_writer(mut to: ChildStdin) -> Sender<String> {
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

/// The next line, within `timeout`.
pub fn next_line(lines: &Receiver<String>, what: &str, timeout: Duration) -> String {
    lines
        .recv_timeout(timeout)
        .unwrap_or_else(|e| panic!("no {what} within {timeout:?}: {e}"))
}

/// The next line, within `timeout`, as a port number.
pub fn next_port(lines: &Receiver<String>, what: &str, timeout: Duration) -> u16 {
    let line = next_line(lines, what, timeout);
    line.trim()
        .parse()
        .unwrap_or_else(|_| panic!("not a port: {line:?}"))
}

// ----- ports and sockets -------------------------------------------------------

/// A port nobody listens on (a race with other programs, unlikely on loopback).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Waits until `port` accepts connections (at most 100 × 50 ms).
pub fn wait_listening(port: u16, child: &mut ChildGuard) {
    for _ in 0..100 {
        if let Some(status) = child.0.try_wait().unwrap() {
            panic!("the server exited early: {status}");
        }
        let addr = ([127, 0, 0, 1], port).into();
        if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("nothing listens on port {port} after 5 s");
}

/// Read and write timeouts of `timeout` on `stream`.
pub fn set_timeouts(stream: &TcpStream, timeout: Duration) {
    stream.set_read_timeout(Some(timeout)).unwrap();
    stream.set_write_timeout(Some(timeout)).unwrap();
}

/// The first connection on `listener` within `timeout`, blocking, with
/// read and write timeouts of `timeout`.
pub fn accept_one(listener: &TcpListener, timeout: Duration) -> TcpStream {
    listener.set_nonblocking(true).unwrap();
    let deadline = Instant::now() + timeout;
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
    set_timeouts(&stream, timeout);
    stream
}

// ----- the opening handshake over a socket -----------------------------------

/// Reads a request head from `stream` into a default server handshake.
pub fn read_request(stream: &mut TcpStream) -> Request {
    let mut handshake = ServerHandshake::new(Limits::default());
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "EOF inside the request head");
        if let Status::Complete(request) = handshake.handle_input(&chunk[..n]).unwrap() {
            return request;
        }
    }
}

/// Writes the request of `handshake`, then feeds it `received` (bytes that
/// came before, e.g. after a proxy's answer) and what `stream` reads, until
/// the response is complete.
pub fn client_handshake(
    stream: &mut TcpStream,
    handshake: &mut ClientHandshake,
    received: &[u8],
) -> Accepted {
    let mut request = Vec::new();
    handshake
        .write_request_to_vec(&mut request)
        .expect("a head this program built is valid");
    stream.write_all(&request).unwrap();
    let mut input = received.to_vec();
    let mut chunk = [0u8; 4096];
    loop {
        if let Status::Complete(accepted) = handshake.handle_input(&input).unwrap() {
            return accepted;
        }
        let n = stream.read(&mut chunk).unwrap();
        assert!(n > 0, "EOF inside the response head");
        input = chunk[..n].to_vec();
    }
}

// ----- a blocking drive loop ---------------------------------------------------

/// A blocking driver: a connection over a socket, counting the bytes.
pub struct Driver {
    pub stream: TcpStream,
    pub conn: Connection,
    pub read: usize,
    pub written: usize,
}

impl Driver {
    /// `conn` over `stream`.
    pub fn new(stream: TcpStream, conn: Connection) -> Driver {
        Driver {
            stream,
            conn,
            read: 0,
            written: 0,
        }
    }

    /// Writes everything the connection has queued.
    pub fn flush(&mut self) {
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
    pub fn run(&mut self, mut on_event: impl FnMut(&mut Connection, Event) -> bool) -> bool {
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

    /// Flushes, then runs until the next event, which it returns (`None`
    /// if the transport should close first).
    pub fn next_event(&mut self) -> Option<Event> {
        self.flush();
        let mut next = None;
        self.run(|_, event| {
            next = Some(event);
            true
        });
        next
    }
}

// ----- the examples ------------------------------------------------------------

/// How long the examples may take for any one exchange.
pub const EXAMPLE_TIMEOUT: Duration = Duration::from_secs(60);

/// The paths of the `echo_server` and `client` examples, built once per
/// test binary with `$CARGO` in the dev profile, with `deflate` when this
/// test has it (cargo's own lock orders this against any other build).
pub fn examples() -> &'static (PathBuf, PathBuf) {
    static EXAMPLES: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    EXAMPLES.get_or_init(|| {
        let mut built = build_examples(&["echo_server", "client"]).into_iter();
        (built.next().unwrap(), built.next().unwrap())
    })
}

/// Builds the examples `names` with `$CARGO` in the dev profile (with
/// `deflate` when this test has it) and returns their executables.
pub fn build_examples(names: &[&str]) -> Vec<PathBuf> {
    let started = Instant::now();
    let deflate = cfg!(feature = "deflate");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(env!("CARGO_MANIFEST_DIR")).arg("build");
    // Cargo sets these for the test it runs; build scripts that watch one
    // (ring watches `CARGO_MANIFEST_DIR`) would see it changed against the
    // outer build and rebuild, and everything above them with them.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        let set_by_cargo_for_a_test = [
            "CARGO_MANIFEST_",
            "CARGO_PKG_",
            "CARGO_CRATE_",
            "CARGO_BIN_",
        ]
        .iter()
        .any(|prefix| name.starts_with(prefix))
            || [
                "CARGO_PRIMARY_PACKAGE",
                "CARGO_TARGET_TMPDIR",
                "CARGO_RUSTC_CURRENT_DIR",
            ]
            .contains(&&*name);
        if set_by_cargo_for_a_test {
            command.env_remove(&*name);
        }
    }
    for name in names {
        command.args(["--example", name]);
    }
    command
        .arg("--message-format=json-render-diagnostics")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // The same features as the workspace-wide `cargo test --workspace
    // --all-features` of the README: a narrower selection resolves the
    // dependencies' features differently and rebuilds half the tree.
    if cfg!(all(feature = "deflate", feature = "http")) {
        command.args(["--workspace", "--all-features"]);
    } else if deflate {
        command.args(["--features", "deflate"]);
    }
    let out = command.output().expect("cannot run cargo");
    assert!(
        out.status.success(),
        "building the examples failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Each artifact is one JSON line; an example's names its executable.
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
    let paths = names.iter().map(|name| executable(name)).collect();
    println!(
        "built {names:?} (deflate: {deflate}) in {:.1?}",
        started.elapsed()
    );
    paths
}

/// The `echo_server` example on a free port, serving TLS with the test
/// certificate when `tls`: the guard, its port, and its log (stderr).
pub fn echo_server(tls: bool) -> (ChildGuard, u16, Receiver<String>) {
    let (echo_server, _) = examples();
    let mut command = Command::new(echo_server);
    command.arg("127.0.0.1:0");
    if tls {
        let pki = pki();
        command
            .arg("--cert")
            .arg(&pki.cert)
            .arg("--key")
            .arg(&pki.key);
    }
    let mut child = ChildGuard::spawn(
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let stdout = lines_of(child.0.stdout.take().unwrap());
    let log = lines_of(child.0.stderr.take().unwrap());
    let line = next_line(&stdout, "the echo server's address", EXAMPLE_TIMEOUT);
    let scheme = if tls { "wss" } else { "ws" };
    let port = line
        .strip_prefix(&format!("echo server listening on {scheme}://127.0.0.1:"))
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"));
    (child, port, log)
}

/// Runs the `client` example with `args`, without any proxy or CA variable
/// from this environment but with `env`, writing the lines `send` and
/// waiting for as many echoes; returns its exit status, stdout lines and
/// stderr lines.
pub fn run_client(
    args: &[&str],
    env: &[(&str, String)],
    send: &[&str],
) -> (ExitStatus, Vec<String>, Vec<String>) {
    let (_, client) = examples();
    let mut command = Command::new(client);
    command.args(args);
    for name in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
        "no_proxy",
        "NO_PROXY",
        "WSPROTO_CA_FILE",
    ] {
        command.env_remove(name);
    }
    command.envs(env.iter().map(|(k, v)| (k, v)));
    let mut child = ChildGuard::spawn(
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let stdin = line_writer(child.0.stdin.take().unwrap());
    let stdout = lines_of(child.0.stdout.take().unwrap());
    let stderr = lines_of(child.0.stderr.take().unwrap());
    let mut got = Vec::new();
    for line in send {
        stdin.send(line.to_string()).unwrap();
        match stdout.recv_timeout(EXAMPLE_TIMEOUT) {
            Ok(echo) => got.push(echo),
            // It failed (the caller checks the status and stderr).
            Err(_) => break,
        }
    }
    drop(stdin);
    let status = child.wait_exit("the client example", EXAMPLE_TIMEOUT);
    got.extend(stdout.try_iter());
    (status, got, stderr.iter().collect())
}

// ----- a test PKI --------------------------------------------------------------

/// The test PKI: a CA, and a server certificate it signed for `127.0.0.1`
/// and `localhost`, as PEM files in a directory of this test binary's own.
pub struct Pki {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The test PKI, made once per test binary.
pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
            "{}-{}",
            env!("CARGO_CRATE_NAME"),
            std::process::id()
        ));
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
