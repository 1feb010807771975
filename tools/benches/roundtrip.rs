//! A full message round trip in memory: the client encodes (and masks) a
//! message, the server decodes it, echoes it, the client decodes the echo.
//! For 16 B, 1 KiB, 64 KiB and 1 MiB, text and binary, this crate against
//! tungstenite and fastwebsockets, in the same run.
//!
//! - `wsproto`: two [`Connection`]s; bytes move with `poll_transmit` →
//!   `handle_input` (one copy per direction, as a socket would make). The
//!   client sends with `send_text`/`send_binary` (copied once, masked), the
//!   server echoes the received `Bytes` with `send_*_shared` (by reference
//!   from 4 KiB on).
//! - `tungstenite`: two `WebSocket`s over an in-memory `Read + Write` each;
//!   a flushed write is moved to the peer's inbox (one copy per direction).
//! - `fastwebsockets`: two `WebSocket`s over a tokio `duplex` (4 MiB
//!   buffer), on a current-thread runtime; the client writes a borrowed
//!   payload (masking copies it), the server echoes the frame it read.
//!
//! Those are one message per read: each direction carries one message per
//! `handle_input` (or read). The `roundtrip_*_batch_x*` groups carry many
//! per read instead: the client sends a batch (16 B and 1 KiB: 100
//! messages, 64 KiB: 10), all of it moves to the server in one go, the
//! server drains and echoes every message, and all the echoes move back
//! and are drained.
//!
//! `cargo bench -p wsproto-tools --bench roundtrip`.

use std::hint::black_box;
use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wsproto::{Config, Connection, Event, Role};

/// ASCII text of `len` bytes, JSON-like.
fn text(len: usize) -> String {
    let pattern = "{\"id\":1234,\"op\":\"update\",\"px\":[101.25,99.5],\"tag\":\"lorem ipsum\"}";
    pattern.chars().cycle().take(len).collect()
}

// ----- wsproto ---------------------------------------------------------

/// Moves everything `from` has to send into `to`.
fn transfer(from: &mut Connection, to: &mut Connection) {
    while let Some(bytes) = from.poll_transmit() {
        let n = bytes.len();
        to.handle_input(bytes);
        from.advance_transmit(n);
    }
}

/// `count` round trips: `count` messages each way, all moved in one go per
/// direction (one message per read when `count` is 1).
fn wsproto_round_trips(
    client: &mut Connection,
    server: &mut Connection,
    msg: &str,
    text: bool,
    count: usize,
) {
    for _ in 0..count {
        if text {
            client.send_text(msg).unwrap();
        } else {
            client.send_binary(msg.as_bytes()).unwrap();
        }
    }
    transfer(client, server);
    while let Some(event) = server.poll_event().unwrap() {
        match event {
            Event::Text(t) => server.send_text(t).unwrap(),
            Event::Binary(b) => server.send_binary(b).unwrap(),
            other => panic!("unexpected {other:?}"),
        }
    }
    transfer(server, client);
    let mut echoes = 0;
    while let Some(echo) = client.poll_event().unwrap() {
        black_box(echo);
        echoes += 1;
    }
    assert_eq!(echoes, count);
}

// ----- tungstenite -----------------------------------------------------

/// One end of an in-memory transport: reads from `inbox` (would block when
/// empty), writes into `outbox`.
#[derive(Default)]
struct Pipe {
    inbox: Vec<u8>,
    read: usize,
    outbox: Vec<u8>,
}

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = &self.inbox[self.read..];
        if left.is_empty() {
            self.inbox.clear();
            self.read = 0;
            return Err(ErrorKind::WouldBlock.into());
        }
        let n = left.len().min(buf.len());
        buf[..n].copy_from_slice(&left[..n]);
        self.read += n;
        Ok(n)
    }
}

impl Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.outbox.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

type Tungstenite = tungstenite::WebSocket<Pipe>;

fn tungstenite_transfer(from: &mut Tungstenite, to: &mut Tungstenite) {
    let from = from.get_mut();
    to.get_mut().inbox.extend_from_slice(&from.outbox);
    from.outbox.clear();
}

fn tungstenite_round_trips(
    client: &mut Tungstenite,
    server: &mut Tungstenite,
    msg: &tungstenite::Message,
    count: usize,
) {
    for _ in 0..count {
        client.write(msg.clone()).unwrap();
    }
    client.flush().unwrap();
    tungstenite_transfer(client, server);
    for _ in 0..count {
        let received = server.read().unwrap();
        server.write(received).unwrap();
    }
    server.flush().unwrap();
    tungstenite_transfer(server, client);
    for _ in 0..count {
        let echo = client.read().unwrap();
        assert_eq!(echo.len(), msg.len());
        black_box(echo);
    }
}

/// The message to send, a client and a server.
fn tungstenite_pair(msg: &str, text: bool) -> (tungstenite::Message, Tungstenite, Tungstenite) {
    use tungstenite::protocol::Role as TRole;
    let message = if text {
        tungstenite::Message::Text(msg.to_owned().into())
    } else {
        tungstenite::Message::Binary(msg.as_bytes().to_vec().into())
    };
    let client = Tungstenite::from_raw_socket(Pipe::default(), TRole::Client, None);
    let server = Tungstenite::from_raw_socket(Pipe::default(), TRole::Server, None);
    (message, client, server)
}

// ----- fastwebsockets --------------------------------------------------

type FastWebSocket = fastwebsockets::WebSocket<tokio::io::DuplexStream>;

/// The opcode to send, a client and a server over a `duplex` (4 MiB).
fn fastwebsockets_pair(text: bool) -> (fastwebsockets::OpCode, FastWebSocket, FastWebSocket) {
    use fastwebsockets::{OpCode, Role, WebSocket};
    let (a, z) = tokio::io::duplex(4 << 20);
    let client = WebSocket::after_handshake(a, Role::Client);
    let server = WebSocket::after_handshake(z, Role::Server);
    let opcode = if text { OpCode::Text } else { OpCode::Binary };
    (opcode, client, server)
}

// ----- the benchmark ---------------------------------------------------

/// The cases: (message length, label, messages per read). One per read for
/// every size; batches of 100 (16 B, 1 KiB) and 10 (64 KiB).
const CASES: [(usize, &str, usize); 7] = [
    (16, "16B", 1),
    (1 << 10, "1KiB", 1),
    (64 << 10, "64KiB", 1),
    (1 << 20, "1MiB", 1),
    (16, "16B", 100),
    (1 << 10, "1KiB", 100),
    (64 << 10, "64KiB", 10),
];

fn roundtrip(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for text_kind in [true, false] {
        for (len, label, count) in CASES {
            let kind = if text_kind { "text" } else { "binary" };
            let name = match count {
                1 => format!("roundtrip_{kind}_{label}"),
                n => format!("roundtrip_{kind}_{label}_batch_x{n}"),
            };
            let mut group = c.benchmark_group(name);
            group.throughput(Throughput::Bytes((len * count) as u64));
            group.warm_up_time(Duration::from_millis(500));
            group.measurement_time(Duration::from_secs(2));
            group.sample_size(if len >= 1 << 20 { 10 } else { 30 });

            let msg = text(len);

            group.bench_function("wsproto", |b| {
                let mut client = Connection::new(Role::Client, Config::default());
                let mut server = Connection::new(Role::Server, Config::default());
                b.iter(|| wsproto_round_trips(&mut client, &mut server, &msg, text_kind, count))
            });

            group.bench_function("tungstenite", |b| {
                let (message, mut client, mut server) = tungstenite_pair(&msg, text_kind);
                b.iter(|| tungstenite_round_trips(&mut client, &mut server, &message, count))
            });

            group.bench_function("fastwebsockets", |b| {
                use fastwebsockets::{Frame, Payload};
                let (opcode, mut client, mut server) = fastwebsockets_pair(text_kind);
                b.iter_custom(|iters| {
                    rt.block_on(async {
                        let start = Instant::now();
                        for _ in 0..iters {
                            for _ in 0..count {
                                let payload = Payload::Borrowed(msg.as_bytes());
                                let frame = Frame::new(true, opcode, None, payload);
                                client.write_frame(frame).await.unwrap();
                            }
                            for _ in 0..count {
                                let received = server.read_frame().await.unwrap();
                                server.write_frame(received).await.unwrap();
                            }
                            for _ in 0..count {
                                let echo = client.read_frame().await.unwrap();
                                assert_eq!(echo.payload.len(), msg.len());
                                black_box(echo);
                            }
                        }
                        start.elapsed()
                    })
                })
            });
            group.finish();
        }
    }
}

criterion_group!(benches, roundtrip);
criterion_main!(benches);
