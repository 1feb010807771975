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

mod peers;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use peers::{examples, lines_of, ChildGuard};

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

/// The interpreter to use, or `None` (after saying why) to skip.
fn python() -> Option<String> {
    peers::python(
        "websockets.asyncio.client",
        "install it with `pip install websockets` (13 or later), or set WSPROTO_TEST_PYTHON",
    )
}

fn next_line(lines: &std::sync::mpsc::Receiver<String>, what: &str) -> String {
    peers::next_line(lines, what, TIMEOUT)
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
    let port = peers::free_port();
    let mut server = ChildGuard::spawn(
        Command::new(echo_server)
            .arg(format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    );
    // Its log (the readiness probe below shows up as an early EOF), shown on failure.
    let server_log = lines_of(server.0.stderr.take().unwrap());
    peers::wait_listening(port, &mut server);

    let started = Instant::now();
    let mut client = ChildGuard::spawn(
        Command::new(&python)
            .arg(peers::script("conn_client.py"))
            .arg(format!("ws://127.0.0.1:{port}/"))
            .arg(LARGE.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let stdout = lines_of(client.0.stdout.take().unwrap());
    let stderr = lines_of(client.0.stderr.take().unwrap());
    let status = client.wait_exit("the websockets client", 3 * TIMEOUT);
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
    let mut server = ChildGuard::spawn(
        Command::new(&python)
            .arg(peers::script("conn_server.py"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let server_out = lines_of(server.0.stdout.take().unwrap());
    let server_err = lines_of(server.0.stderr.take().unwrap());
    let port = peers::next_port(&server_out, "port from the websockets server", TIMEOUT);

    let started = Instant::now();
    let mut client = ChildGuard::spawn(
        Command::new(client_example)
            .arg(format!("ws://127.0.0.1:{port}/"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped()),
    );
    let stdin = peers::line_writer(client.0.stdin.take().unwrap());
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
    let status = client.wait_exit("the client example", EXIT_TIMEOUT);
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
