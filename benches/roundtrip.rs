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
//! `cargo bench --bench roundtrip`.

use std::hint::black_box;
use std::io::{ErrorKind, Read, Write};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wsproto::{Config, Connection, Event, Role};

const SIZES: [(usize, &str); 4] = [
    (16, "16B"),
    (1 << 10, "1KiB"),
    (64 << 10, "64KiB"),
    (1 << 20, "1MiB"),
];

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

fn wsproto_round_trip(client: &mut Connection, server: &mut Connection, msg: &str, text: bool) {
    if text {
        client.send_text(msg).unwrap();
    } else {
        client.send_binary(msg.as_bytes()).unwrap();
    }
    transfer(client, server);
    match server.poll_event().unwrap() {
        Some(Event::Text(t)) => server.send_text(t).unwrap(),
        Some(Event::Binary(b)) => server.send_binary(b).unwrap(),
        other => panic!("unexpected {other:?}"),
    }
    transfer(server, client);
    let echo = client.poll_event().unwrap().unwrap();
    let len = match &echo {
        Event::Text(t) => t.len(),
        Event::Binary(b) => b.len(),
        other => panic!("unexpected {other:?}"),
    };
    assert_eq!(len, msg.len());
    black_box(echo);
}

/// A batch: `count` messages each way, moved in one go per direction.
fn wsproto_batch(
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

fn tungstenite_round_trip(
    client: &mut Tungstenite,
    server: &mut Tungstenite,
    msg: &tungstenite::Message,
) {
    client.send(msg.clone()).unwrap();
    tungstenite_transfer(client, server);
    let received = server.read().unwrap();
    server.send(received).unwrap();
    tungstenite_transfer(server, client);
    let echo = client.read().unwrap();
    assert_eq!(echo.len(), msg.len());
    black_box(echo);
}

fn tungstenite_batch(
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

// ----- the benchmark ---------------------------------------------------

fn roundtrip(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for text_kind in [true, false] {
        for (len, label) in SIZES {
            let kind = if text_kind { "text" } else { "binary" };
            let mut group = c.benchmark_group(format!("roundtrip_{kind}_{label}"));
            group.throughput(Throughput::Bytes(len as u64));
            group.warm_up_time(Duration::from_millis(500));
            group.measurement_time(Duration::from_secs(2));
            group.sample_size(if len >= 1 << 20 { 10 } else { 30 });

            let msg = text(len);

            group.bench_function("wsproto", |b| {
                let mut client = Connection::new(Role::Client, Config::default());
                let mut server = Connection::new(Role::Server, Config::default());
                b.iter(|| wsproto_round_trip(&mut client, &mut server, &msg, text_kind))
            });

            group.bench_function("tungstenite", |b| {
                use tungstenite::protocol::Role as TRole;
                let message = if text_kind {
                    tungstenite::Message::Text(msg.clone().into())
                } else {
                    tungstenite::Message::Binary(msg.clone().into_bytes().into())
                };
                let mut client = Tungstenite::from_raw_socket(Pipe::default(), TRole::Client, None);
                let mut server = Tungstenite::from_raw_socket(Pipe::default(), TRole::Server, None);
                b.iter(|| tungstenite_round_trip(&mut client, &mut server, &message))
            });

            group.bench_function("fastwebsockets", |b| {
                use fastwebsockets::{Frame, OpCode, Payload, Role as FRole, WebSocket};
                let (a, z) = tokio::io::duplex(4 << 20);
                let mut client = WebSocket::after_handshake(a, FRole::Client);
                let mut server = WebSocket::after_handshake(z, FRole::Server);
                let opcode = if text_kind {
                    OpCode::Text
                } else {
                    OpCode::Binary
                };
                b.iter_custom(|iters| {
                    rt.block_on(async {
                        let start = Instant::now();
                        for _ in 0..iters {
                            let frame =
                                Frame::new(true, opcode, None, Payload::Borrowed(msg.as_bytes()));
                            client.write_frame(frame).await.unwrap();
                            let received = server.read_frame().await.unwrap();
                            server.write_frame(received).await.unwrap();
                            let echo = client.read_frame().await.unwrap();
                            assert_eq!(echo.payload.len(), msg.len());
                            black_box(echo);
                        }
                        start.elapsed()
                    })
                })
            });
            group.finish();
        }
    }
}

/// Messages per batch, by size (see the module docs).
const BATCHES: [(usize, &str, usize); 3] = [
    (16, "16B", 100),
    (1 << 10, "1KiB", 100),
    (64 << 10, "64KiB", 10),
];

fn roundtrip_batch(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for text_kind in [true, false] {
        for (len, label, count) in BATCHES {
            let kind = if text_kind { "text" } else { "binary" };
            let mut group = c.benchmark_group(format!("roundtrip_{kind}_{label}_batch_x{count}"));
            group.throughput(Throughput::Bytes((len * count) as u64));
            group.warm_up_time(Duration::from_millis(500));
            group.measurement_time(Duration::from_secs(2));
            group.sample_size(30);

            let msg = text(len);

            group.bench_function("wsproto", |b| {
                let mut client = Connection::new(Role::Client, Config::default());
                let mut server = Connection::new(Role::Server, Config::default());
                b.iter(|| wsproto_batch(&mut client, &mut server, &msg, text_kind, count))
            });

            group.bench_function("tungstenite", |b| {
                use tungstenite::protocol::Role as TRole;
                let message = if text_kind {
                    tungstenite::Message::Text(msg.clone().into())
                } else {
                    tungstenite::Message::Binary(msg.clone().into_bytes().into())
                };
                let mut client = Tungstenite::from_raw_socket(Pipe::default(), TRole::Client, None);
                let mut server = Tungstenite::from_raw_socket(Pipe::default(), TRole::Server, None);
                b.iter(|| tungstenite_batch(&mut client, &mut server, &message, count))
            });

            group.bench_function("fastwebsockets", |b| {
                use fastwebsockets::{Frame, OpCode, Payload, Role as FRole, WebSocket};
                let (a, z) = tokio::io::duplex(4 << 20);
                let mut client = WebSocket::after_handshake(a, FRole::Client);
                let mut server = WebSocket::after_handshake(z, FRole::Server);
                let opcode = if text_kind {
                    OpCode::Text
                } else {
                    OpCode::Binary
                };
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

criterion_group!(benches, roundtrip, roundtrip_batch);
criterion_main!(benches);
