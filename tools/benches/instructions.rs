//! Instructions per message on the paths users call, counted by callgrind:
//! deterministic where wall time on a shared machine is not, and the
//! measure of the message-path targets.
//!
//! `cargo bench -p wsproto-tools --bench instructions` (valgrind on the `PATH`) runs this
//! binary once per case under `valgrind --tool=callgrind`, with collection
//! switched on only inside [`measured`], and prints the instructions per
//! message of each library beside the target. A case sets up its state,
//! runs its work once unmeasured (so buffers reach their steady-state size
//! and lazy CPU-feature detection is done), then once measured; the count
//! is divided by the number of messages. An argument filters cases by name
//! (`cargo bench -p wsproto-tools --bench instructions -- receive`).
//!
//! Copies are counted as the vector moves they are. Callgrind counts every
//! byte a `rep movsb` moves (and every byte a `rep stosb` fills) as one
//! instruction, while the CPU moves 32 to 64 bytes a cycle that way; glibc's
//! `memcpy` switches to it above a few KiB, so a copy's count would follow
//! that threshold rather than the work (a 1 MiB input copied whole would
//! count 1 instruction a byte, the same bytes copied in 2 KiB reads 0.1).
//! The child runs with glibc's tunables set so that `memcpy` and `memset`
//! use vector moves at every size, for every library alike
//! ([`GLIBC_TUNABLES`]); without glibc the setting is ignored.
//!
//! What each case does, per library (a server endpoint, as in the targets):
//!
//! - `receive`: masked text messages of one size, all in one input buffer
//!   (10,000 of 16 B, 1,000 of 1 KiB, 100 of 64 KiB), drained as events
//!   that own their payload; `receive, one per read`: the same 16 B
//!   messages, one input and one drain per message.
//!   - wsproto: `Connection::handle_input` (a copy into its buffer), then
//!     `poll_event` until `None`.
//!   - tungstenite: `WebSocket::read` over an in-memory `Read` (its reads
//!     copy into its buffer), once per message.
//!   - fastwebsockets: `WebSocket::read_frame` over an in-memory
//!     `AsyncRead` that is always ready (its reads copy into its buffer),
//!     polled once with a no-op waker: no runtime in the count.
//!   - wsproto, `lent` rows: the same with `poll_event_ref`, each event's
//!     payload lent in place rather than owned (no reference count).
//!   - wsproto, `read into receive_buffer` rows: the input read from the
//!     same in-memory stream as the peers' (`Read`, one copy), straight
//!     into `Connection::receive_buffer()`, as an event loop reads a
//!     socket, instead of `handle_input(&wire)`; the lender zeroes the
//!     room it hands out, which is counted.
//!
//!   The peers have no such rows: their figures stand beside wsproto's
//!   default (owned events, `handle_input`).
//! - `send`: a borrowed `&str` sent as a text message, then the output
//!   drained into a sink that discards it, once per message.
//!   - wsproto: `send_text(&str)`, then `poll_transmit`/`advance_transmit`
//!     until empty.
//!   - tungstenite: `send(Message::text(&str))` (write and flush).
//!   - fastwebsockets: `write_frame(Frame::text(Payload::Borrowed))`.

use std::future::Future;
use std::hint::black_box;
use std::io::{Cursor, Read, Write};
use std::pin::{pin, Pin};
use std::process::Command;
use std::task::{Context, Poll, Waker};

use wsproto::frame::{encode_frame, FrameHeader, OpCode};
use wsproto::{Config, Connection, Event, EventRef, Role};

/// The environment variable that tells a child process which case to run.
const CASE_VAR: &str = "WSPROTO_INSTRUCTIONS_CASE";

/// glibc's thresholds for `rep movsb` and `rep stosb`, set beyond any size
/// copied here (see the module docs).
const GLIBC_TUNABLES: &str =
    "glibc.cpu.x86_rep_movsb_threshold=1099511627776:glibc.cpu.x86_rep_stosb_threshold=1099511627776";

/// The function whose calls callgrind counts (`--toggle-collect`).
#[inline(never)]
fn measured<R>(work: impl FnOnce() -> R) -> R {
    black_box(work())
}

/// ASCII text of `len` bytes, JSON-like, varying with `seed`.
fn text(len: usize, seed: usize) -> String {
    let pattern = "{\"id\":1234,\"op\":\"update\",\"px\":[101.25,99.5],\"tag\":\"lorem ipsum\"}";
    pattern
        .chars()
        .cycle()
        .skip(seed * 7 % pattern.len())
        .take(len)
        .collect()
}

/// One masked text frame of `len` bytes per message, keys varying.
fn frames(len: usize, count: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|i| {
            let key = (i as u32).wrapping_mul(0x9e37_79b9).to_le_bytes();
            let header = FrameHeader {
                mask: Some(key),
                ..FrameHeader::new(OpCode::Text, 0)
            };
            let mut frame = vec![0; len + 14];
            let n = encode_frame(header, text(len, i).as_bytes(), &mut frame).unwrap();
            frame.truncate(n);
            frame
        })
        .collect()
}

// ----- the in-memory streams the peers need ------------------------------

/// Reads a wire held in memory over and over (so a second round reads what
/// the first did), at most `chunk` bytes per read (one message, for one
/// message per read); discards what is written.
struct Stream {
    wire: Cursor<Vec<u8>>,
    chunk: usize,
}

impl Stream {
    fn new(wire: Vec<u8>, chunk: usize) -> Stream {
        Stream {
            wire: Cursor::new(wire),
            chunk,
        }
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.wire.position() == self.wire.get_ref().len() as u64 {
            self.wire.set_position(0);
        }
        let n = buf.len().min(self.chunk);
        self.wire.read(&mut buf[..n])
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        black_box(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl tokio::io::AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let n = self.get_mut().read(buf.initialize_unfilled())?;
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(self.get_mut().write(buf))
    }
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// Runs a future that never waits (its stream is always ready).
fn ready<F: Future>(future: F) -> F::Output {
    match pin!(future).poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(output) => output,
        Poll::Pending => panic!("an in-memory future waited"),
    }
}

// ----- the cases ---------------------------------------------------------

/// The libraries compared.
#[derive(Clone, Copy, PartialEq)]
enum Lib {
    Wsproto,
    Tungstenite,
    Fastwebsockets,
}

const LIBS: [(Lib, &str); 3] = [
    (Lib::Wsproto, "wsproto"),
    (Lib::Tungstenite, "tungstenite"),
    (Lib::Fastwebsockets, "fastwebsockets"),
];

#[derive(Clone, Copy, PartialEq)]
enum Work {
    /// All messages in one input buffer.
    Receive,
    /// One input and one drain per message.
    ReceiveOnePerRead,
    Send,
}

/// How wsproto receives, in a receive row.
#[derive(Clone, Copy, PartialEq)]
struct Receiving {
    /// `poll_event_ref` (payload lent) rather than `poll_event` (owned).
    lent: bool,
    /// The input read from the in-memory stream, as the peers read it,
    /// straight into `receive_buffer()`, rather than `handle_input(&wire)`.
    read_into_buffer: bool,
}

/// Owned events from `handle_input`: the default, and the peers' rows.
const OWNED: Receiving = Receiving {
    lent: false,
    read_into_buffer: false,
};

/// A row of the table: the work, the message size, how many messages a
/// run takes, and the target for wsproto (instructions per message).
/// The rows of wsproto's other ways of receiving (not `OWNED`) are
/// wsproto's alone: the peers' figures are those of the row above.
struct Row {
    name: &'static str,
    work: Work,
    len: usize,
    count: usize,
    target: Option<u64>,
    receiving: Receiving,
}

impl Row {
    const fn receive(name: &'static str, len: usize, count: usize) -> Row {
        Row {
            name,
            work: Work::Receive,
            len,
            count,
            target: None,
            receiving: OWNED,
        }
    }

    const fn lent(mut self, read_into_buffer: bool) -> Row {
        self.receiving = Receiving {
            lent: true,
            read_into_buffer,
        };
        self
    }

    const fn one_per_read(mut self) -> Row {
        self.work = Work::ReceiveOnePerRead;
        self
    }
}

const ROWS: [Row; 13] = [
    Row {
        name: "receive 16 B",
        work: Work::Receive,
        len: 16,
        count: 10_000,
        target: Some(150),
        receiving: OWNED,
    },
    Row::receive("receive 16 B, lent", 16, 10_000).lent(false),
    Row::receive("receive 16 B, lent, read into receive_buffer", 16, 10_000).lent(true),
    Row {
        name: "receive 16 B, one per read",
        work: Work::ReceiveOnePerRead,
        len: 16,
        count: 10_000,
        target: None,
        receiving: OWNED,
    },
    Row::receive("receive 16 B, one per read, lent", 16, 10_000)
        .one_per_read()
        .lent(false),
    Row {
        name: "receive 1 KiB",
        work: Work::Receive,
        len: 1 << 10,
        count: 1_000,
        target: Some(600),
        receiving: OWNED,
    },
    Row::receive("receive 1 KiB, lent", 1 << 10, 1_000).lent(false),
    Row::receive(
        "receive 1 KiB, lent, read into receive_buffer",
        1 << 10,
        1_000,
    )
    .lent(true),
    Row {
        name: "receive 64 KiB",
        work: Work::Receive,
        len: 64 << 10,
        count: 100,
        target: None,
        receiving: OWNED,
    },
    Row::receive("receive 64 KiB, lent", 64 << 10, 100).lent(false),
    Row {
        name: "send 16 B",
        work: Work::Send,
        len: 16,
        count: 10_000,
        target: Some(120),
        receiving: OWNED,
    },
    Row {
        name: "send 1 KiB",
        work: Work::Send,
        len: 1 << 10,
        count: 1_000,
        target: Some(250),
        receiving: OWNED,
    },
    Row {
        name: "send 64 KiB",
        work: Work::Send,
        len: 64 << 10,
        count: 100,
        target: None,
        receiving: OWNED,
    },
];

/// Sets up `lib` for `row`, then runs the work twice: once to warm up, once
/// [`measured`].
fn run_case(row: &Row, lib: Lib) {
    match row.work {
        Work::Receive | Work::ReceiveOnePerRead => receive(row, lib),
        Work::Send => send(row, lib),
    }
}

fn receive(row: &Row, lib: Lib) {
    let frames = frames(row.len, row.count);
    let wire = frames.concat();
    let count = row.count;
    let one_per_read = row.work == Work::ReceiveOnePerRead;
    let chunk = if one_per_read {
        frames[0].len()
    } else {
        usize::MAX
    };
    match lib {
        Lib::Wsproto => {
            let how = row.receiving;
            let mut conn = Connection::new(Role::Server, Config::default());
            let mut stream = Stream::new(wire.clone(), chunk);
            // What each read brings (one frame, or the whole wire).
            let inputs: Vec<&[u8]> = match one_per_read {
                true => frames.iter().map(Vec::as_slice).collect(),
                false => vec![&wire],
            };
            let mut round = |conn: &mut Connection| {
                let mut events = 0;
                let mut drain = |conn: &mut Connection| {
                    if how.lent {
                        while let Some(event) = conn.poll_event_ref().unwrap() {
                            debug_assert!(matches!(event, EventRef::Text(_)));
                            black_box(event);
                            events += 1;
                        }
                    } else {
                        while let Some(event) = conn.poll_event().unwrap() {
                            debug_assert!(matches!(event, Event::Text(_)));
                            black_box(event);
                            events += 1;
                        }
                    }
                };
                for input in &inputs {
                    if how.read_into_buffer {
                        let mut lender = conn.receive_buffer();
                        let n = stream.read(lender.spare(input.len())).unwrap();
                        lender.commit(n);
                    } else {
                        conn.handle_input(input);
                    }
                    drain(conn);
                }
                assert_eq!(events, count);
            };
            round(&mut conn);
            measured(|| round(&mut conn));
        }
        Lib::Tungstenite => {
            // The stream hands over the whole wire, or one frame per read;
            // `read` reads only when its buffer holds no whole frame.
            let stream = Stream::new(wire, chunk);
            let role = tungstenite::protocol::Role::Server;
            let mut ws = tungstenite::WebSocket::from_raw_socket(stream, role, None);
            let round = |ws: &mut tungstenite::WebSocket<Stream>| {
                for _ in 0..count {
                    let message = ws.read().unwrap();
                    debug_assert!(message.is_text());
                    black_box(message);
                }
            };
            round(&mut ws);
            measured(|| round(&mut ws));
        }
        Lib::Fastwebsockets => {
            use fastwebsockets::{Role as FRole, WebSocket};
            let mut ws = WebSocket::after_handshake(Stream::new(wire, chunk), FRole::Server);
            let round = |ws: &mut WebSocket<Stream>| {
                for _ in 0..count {
                    let frame = ready(ws.read_frame()).unwrap();
                    debug_assert_eq!(frame.opcode, fastwebsockets::OpCode::Text);
                    black_box(frame);
                }
            };
            round(&mut ws);
            measured(|| round(&mut ws));
        }
    }
}

fn send(row: &Row, lib: Lib) {
    let message = text(row.len, 0);
    let message = message.as_str();
    let count = row.count;
    match lib {
        Lib::Wsproto => {
            let mut conn = Connection::new(Role::Server, Config::default());
            let round = |conn: &mut Connection| {
                for _ in 0..count {
                    conn.send_text(message).unwrap();
                    while let Some(bytes) = conn.poll_transmit() {
                        let n = black_box(bytes).len();
                        conn.advance_transmit(n);
                    }
                }
            };
            round(&mut conn);
            measured(|| round(&mut conn));
        }
        Lib::Tungstenite => {
            let mut ws = tungstenite::WebSocket::from_raw_socket(
                Stream::new(Vec::new(), usize::MAX),
                tungstenite::protocol::Role::Server,
                None,
            );
            let round = |ws: &mut tungstenite::WebSocket<Stream>| {
                for _ in 0..count {
                    ws.send(tungstenite::Message::text(message)).unwrap();
                }
            };
            round(&mut ws);
            measured(|| round(&mut ws));
        }
        Lib::Fastwebsockets => {
            use fastwebsockets::{Frame, Payload, Role as FRole, WebSocket};
            let mut ws =
                WebSocket::after_handshake(Stream::new(Vec::new(), usize::MAX), FRole::Server);
            let round = |ws: &mut WebSocket<Stream>| {
                for _ in 0..count {
                    let frame = Frame::text(Payload::Borrowed(message.as_bytes()));
                    ready(ws.write_frame(frame)).unwrap();
                }
            };
            round(&mut ws);
            measured(|| round(&mut ws));
        }
    }
}

// ----- the driver --------------------------------------------------------

/// Runs `row` for `lib` under callgrind; returns instructions per message.
fn count_instructions(row: &Row, lib_name: &str) -> f64 {
    let exe = std::env::current_exe().expect("the benchmark's own path");
    let out = std::env::temp_dir().join(format!(
        "wsproto-instructions.{}.{}.{}",
        std::process::id(),
        row.name.replace([' ', ','], "_"),
        lib_name
    ));
    let status = Command::new("valgrind")
        .arg("--tool=callgrind")
        .arg("--collect-atstart=no")
        .arg("--toggle-collect=*instructions::measured*")
        .arg(format!("--callgrind-out-file={}", out.display()))
        .arg(&exe)
        .env(CASE_VAR, format!("{}/{}", row.name, lib_name))
        .env("GLIBC_TUNABLES", GLIBC_TUNABLES)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("valgrind (callgrind) must be installed and on the PATH");
    assert!(status.success(), "{} / {lib_name} failed", row.name);
    let profile = std::fs::read_to_string(&out).expect("callgrind's output");
    let _ = std::fs::remove_file(&out);
    let total: u64 = profile
        .lines()
        .find_map(|line| line.strip_prefix("totals:"))
        .or_else(|| profile.lines().find_map(|l| l.strip_prefix("summary:")))
        .and_then(|n| n.trim().parse().ok())
        .expect("a total in callgrind's output");
    assert!(total > 0, "nothing measured for {} / {lib_name}", row.name);
    total as f64 / row.count as f64
}

fn main() {
    if let Ok(case) = std::env::var(CASE_VAR) {
        let (name, lib_name) = case.rsplit_once('/').expect("row/lib");
        let row = ROWS.iter().find(|r| r.name == name).expect("a known row");
        let (lib, _) = LIBS.iter().find(|(_, n)| *n == lib_name).expect("a lib");
        run_case(row, *lib);
        return;
    }
    // `cargo bench` passes `--bench`; anything else filters the rows.
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    println!("instructions per message (callgrind, server role, release build)\n");
    println!("| work per message | wsproto | tungstenite | fastwebsockets | target |");
    println!("|---|---:|---:|---:|---:|");
    for row in &ROWS {
        if !filters.is_empty() && !filters.iter().any(|f| row.name.contains(f.as_str())) {
            continue;
        }
        let counts: Vec<String> = LIBS
            .iter()
            .map(
                |(lib, name)| match *lib == Lib::Wsproto || row.receiving == OWNED {
                    true => format!("{:.0}", count_instructions(row, name)),
                    false => "(as above)".to_string(),
                },
            )
            .collect();
        let target = row
            .target
            .map_or_else(|| "-".to_string(), |t| format!("≤ {t}"));
        println!(
            "| {} | {} | {} | {} | {target} |",
            row.name, counts[0], counts[1], counts[2]
        );
    }
}
