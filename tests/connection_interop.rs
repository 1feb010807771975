//! The connection against another implementation, over 127.0.0.1: the
//! Python `websockets` library as a client of the `echo_server` example, and
//! as an echo server for the `client` example. Text, binary, fragmented
//! messages, a 16 MiB message, pings, and the closing handshake with a code
//! and a reason.
//!
//! The examples are built once, from here, with `$CARGO`, in the dev profile:
//! debug builds echo 16 MiB in about a second (measured), so the test does not
//! pay for a release build of the library and its dependencies. When this test has the `deflate` feature, so do the
//! examples, and `websockets` (which offers permessage-deflate by default)
//! negotiates it: `cargo test --all-features` covers compression too.
//!
//! The interpreter is `$WSPROTO_TEST_PYTHON`, else `python3`. Without the
//! library the tests print `SKIPPED: ...` and pass, unless `$CI` is set.
//! Every socket and process wait is bounded; every child process is killed
//! and reaped on every path out of a test.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The message the 16 MiB steps send (the Autobahn suite's largest).
const LARGE: usize = 16 << 20;

/// How long any one exchange may take. Generous: the 16 MiB message takes
/// 1-3 s through debug-built examples (a few more with permessage-deflate,
/// whose debug-built compressor is slow), more on a loaded machine.
const TIMEOUT: Duration = Duration::from_secs(60);

/// How long the `client` example may take to close and exit after its stdin ends.
const EXIT_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether the examples are built with permessage-deflate.
const DEFLATE: bool = cfg!(feature = "deflate");

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
        .args(["-c", "import websockets.asyncio.client"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    let why = match probe {
        Ok(out) if out.status.success() => return Some(python),
        Ok(out) => format!(
            "`{python} -c 'import websockets.asyncio.client'` failed: {}",
            last_line(&out.stderr)
        ),
        Err(e) => format!("cannot run {python}: {e}"),
    };
    if std::env::var_os("CI").is_some() {
        panic!("CI is set and the interop peer is unavailable: {why}");
    }
    println!(
        "SKIPPED: {why} (install it with `pip install websockets` (13 or later), \
         or set WSPROTO_TEST_PYTHON)"
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

fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop")
        .join(name)
}

/// The paths of the `echo_server` and `client` examples, built once per
/// test binary (cargo's own lock orders this against any other build).
fn examples() -> &'static (PathBuf, PathBuf) {
    static EXAMPLES: OnceLock<(PathBuf, PathBuf)> = OnceLock::new();
    EXAMPLES.get_or_init(|| {
        let started = Instant::now();
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut command = Command::new(cargo);
        command
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["build", "--example", "echo_server", "--example", "client"])
            .arg("--message-format=json-render-diagnostics")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if DEFLATE {
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
        let paths = (executable("echo_server"), executable("client"));
        println!(
            "built the examples (deflate: {DEFLATE}) in {:.1?}",
            started.elapsed()
        );
        paths
    })
}

/// Waits for the child to exit within `timeout`; on timeout kills it and fails.
fn wait_exit(child: &mut ChildGuard, what: &str, timeout: Duration) -> ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.0.kill();
            panic!("{what} did not exit within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Forwards every line of `from` into a channel, from a thread, so a silent
/// peer cannot hang the test: reads go through `recv_timeout`.
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

/// Writes lines to `to` from a thread (a write may block while the reader
/// is busy); dropping the sender closes the pipe.
fn line_writer(mut to: ChildStdin) -> Sender<String> {
    let (tx, rx) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in rx {
            if to
                .write_all(line.as_bytes())
                .and_then(|()| to.write_all(b"\n"))
                .and_then(|()| to.flush())
                .is_err()
            {
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

/// A port nobody listens on (a race with other programs, unlikely on loopback).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// Waits until `port` accepts connections (at most 100 × 50 ms).
fn wait_listening(port: u16, child: &mut ChildGuard) {
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

/// The values of a flat JSON object, as raw JSON text, by key (strings,
/// numbers, literals and flat lists: what `conn_client.py` prints).
fn json_fields(json: &str) -> Vec<(String, String)> {
    let body = json
        .trim()
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'));
    let body = body.unwrap_or_else(|| panic!("not a JSON object: {json}"));
    let (mut fields, mut start, mut depth, mut in_string, mut escaped) =
        (Vec::new(), 0, 0, false, false);
    let mut split = |item: &str| {
        let (key, value) = item.split_once(':').expect("a key and a value");
        let key = key.trim().trim_matches('"').to_string();
        fields.push((key, value.trim().to_string()));
    };
    for (i, c) in body.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            '[' if !in_string => depth += 1,
            ']' if !in_string => depth -= 1,
            ',' if !in_string && depth == 0 => {
                split(&body[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    split(&body[start..]);
    fields
}

/// (a) The `websockets` client against the `echo_server` example.
#[test]
fn websockets_client_against_the_echo_server() {
    let Some(python) = python() else { return };
    let (echo_server, _) = examples();
    let port = free_port();
    let server = Command::new(echo_server)
        .arg(format!("127.0.0.1:{port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut server = ChildGuard(server);
    // Its log (the readiness probe below shows up as an early EOF), shown on failure.
    let server_log = lines_of(server.0.stderr.take().unwrap());
    wait_listening(port, &mut server);

    let started = Instant::now();
    let client = Command::new(&python)
        .arg(script("conn_client.py"))
        .arg(format!("ws://127.0.0.1:{port}/"))
        .arg(LARGE.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut client = ChildGuard(client);
    let stdout = lines_of(client.0.stdout.take().unwrap());
    let stderr = lines_of(client.0.stderr.take().unwrap());
    let status = wait_exit(&mut client, "the websockets client", 3 * TIMEOUT);
    let took = started.elapsed();
    let stderr: Vec<String> = stderr.iter().collect();
    assert!(
        status.success(),
        "the websockets client failed: {status}\n{}\necho_server said:\n{}",
        stderr.join("\n"),
        server_log.try_iter().collect::<Vec<_>>().join("\n")
    );
    let json = next_line(&stdout, "JSON results");
    println!("websockets client against echo_server: {took:.2?}: {json}");

    let fields = json_fields(&json);
    let get = |key: &str| -> &str {
        let found = fields.iter().find(|(k, _)| k == key);
        found
            .unwrap_or_else(|| panic!("no {key:?} in {json}"))
            .1
            .as_str()
    };
    let expected_extensions = if DEFLATE {
        r#"["permessage-deflate"]"#
    } else {
        "[]"
    };
    assert_eq!(get("extensions"), expected_extensions);
    assert_eq!(get("text"), r#""héllo, wörld""#);
    assert_eq!(get("binary"), r#""000102ff""#);
    // Three frames in, one message out (reassembled, echoed whole).
    assert_eq!(get("fragmented"), r#""frag1frag2-frag3""#);
    assert_eq!(get("large_len"), LARGE.to_string());
    assert_eq!(get("large_equal"), "true");
    assert_eq!(get("large_is_bytes"), "true");
    assert_eq!(get("pong"), "true");
    assert_eq!(get("close_sent"), r#"[4001, "bye"]"#);
    // The server echoes the code (`Config::echo_close_code`), not the reason.
    assert_eq!(get("close_rcvd"), r#"[4001, ""]"#);
    assert_eq!(get("close_code"), "4001");
    assert_eq!(get("close_reason"), r#""""#);
}

/// (b) The `client` example against a `websockets` echo server.
#[test]
fn client_example_against_a_websockets_server() {
    let Some(python) = python() else { return };
    let (_, client_example) = examples();
    let server = Command::new(&python)
        .arg(script("conn_server.py"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut server = ChildGuard(server);
    let server_out = lines_of(server.0.stdout.take().unwrap());
    let server_err = lines_of(server.0.stderr.take().unwrap());
    let line = next_line(&server_out, "port from the websockets server");
    let port: u16 = line
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("not a port: {line:?}"));

    let started = Instant::now();
    let client = Command::new(client_example)
        .arg(format!("ws://127.0.0.1:{port}/"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut client = ChildGuard(client);
    let stdin = line_writer(client.0.stdin.take().unwrap());
    let stdout = lines_of(client.0.stdout.take().unwrap());
    let stderr = lines_of(client.0.stderr.take().unwrap());

    let opened = next_line(&server_out, "\"open\" from the websockets server");
    let expected = if DEFLATE {
        "open permessage-deflate"
    } else {
        "open"
    };
    assert_eq!(opened, expected);

    let large = "ab\u{e9}".repeat(LARGE / 4);
    let exchanges = [
        ("hello", "hello"),
        (
            "h\u{e9}llo, w\u{f6}rld \u{1f980}",
            "h\u{e9}llo, w\u{f6}rld \u{1f980}",
        ),
        // The server pings; the client's pong makes it answer "pong ok".
        ("ping-me", "pong ok"),
        // Three fragments from the server, printed as one message.
        ("frag-me", "fragged"),
        ("bin-me", "<5 bytes of binary>"),
        (large.as_str(), large.as_str()),
        ("after the large one", "after the large one"),
    ];
    for (send, expect) in exchanges {
        stdin.send(send.to_string()).unwrap();
        let got = next_line(&stdout, "echo from the client example");
        assert!(
            got == expect,
            "sent {:.40?} ({} bytes), expected {:.40?}, got {:.40?} ({} bytes)",
            send,
            send.len(),
            expect,
            got,
            got.len()
        );
    }
    let exchanged = started.elapsed();

    // End of stdin: the client closes with 1000 and exits once the server
    // has closed the transport.
    drop(stdin);
    let status = wait_exit(&mut client, "the client example", EXIT_TIMEOUT);
    let took = started.elapsed();
    let stderr: Vec<String> = stderr.iter().collect();
    assert!(
        status.success(),
        "the client example failed: {status}\n{}",
        stderr.join("\n")
    );
    assert!(
        stderr.iter().any(|l| l == "connection closed: 1000"),
        "{stderr:?}"
    );
    assert!(
        stderr.iter().any(|l| l.starts_with("closed by peer: 1000")),
        "{stderr:?}"
    );
    assert_eq!(stdout.try_iter().count(), 0, "unexpected output");

    // The server saw our close frame, code 1000 and no reason.
    let closed = server_out.recv_timeout(TIMEOUT);
    let server_errors: Vec<String> = server_err.try_iter().collect();
    assert_eq!(
        closed.as_deref(),
        Ok("closed 1000"),
        "{}",
        server_errors.join("\n")
    );
    println!(
        "client example against websockets: exchanges in {exchanged:.2?}, closed and exited \
         after {took:.2?}"
    );
}
