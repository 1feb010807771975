//! Frame decoding in the server role: a wire buffer of masked client text
//! frames (10,000 of 16 B, and 100 of 64 KiB), decoded whole, against the
//! peers and two memory anchors, in the same run.
//!
//! What each entry times (one criterion iteration = the whole buffer):
//!
//! - `copy_from_slice`, `xor_inplace`: the anchors, a copy of the wire
//!   buffer into another and an in-place XOR with a constant byte.
//! - `wsproto_frame`: [`FrameDecoder::decode`] over a `&mut [u8]` (parse,
//!   validate the header, unmask in place). The buffer is a fresh clone of
//!   the wire made in `iter_batched_ref`'s setup, which is not timed.
//! - `wsproto_frame_utf8`: the same plus the crate's UTF-8 validator on
//!   each text payload.
//! - `wsproto_frame_refresh`: `copy_from_slice` of the wire into the buffer,
//!   then the decode, all timed: subtract `copy_from_slice` to cross-check
//!   `wsproto_frame`.
//! - `wsproto_header`: [`FrameDecoder::decode_header`] alone, skipping the
//!   payloads (no unmasking).
//! - `wsproto_connection`: [`Connection::handle_input`] of the wire (one
//!   copy into the receive buffer, reserved in setup) then `poll_event`
//!   until empty: parse, unmask, UTF-8, and a `Bytes` split per message.
//! - `wsproto_connection_lent`: the same with
//!   [`Connection::poll_event_ref`], each event's payload lent in place
//!   (`&str`) rather than owned: no reference count per message.
//! - `nexus_net`: `FrameReader::read` of the wire (one copy into its buffer)
//!   then `next` until empty: parse, unmask, UTF-8.
//! - `websocket_sans_io`: `WebsocketFrameDecoder::add_data` over a fresh
//!   clone, in place (parse, unmask; it validates nothing).
//! - `fastwebsockets`: `WebSocket::read_frame` over a tokio `duplex` that
//!   holds the wire (written in setup): its reads copy into its buffer;
//!   parse, unmask, UTF-8.
//! - `tungstenite`: `WebSocket::read` over an in-memory `Read + Write`
//!   (its reads copy into its buffer): parse, unmask, UTF-8.
//! - `tungstenite_header`: `FrameHeader::parse` alone, skipping payloads.
//!
//! The text is ASCII (JSON-like), which is what most text traffic is.
//!
//! The `decode_one_per_read_*` groups hand the same wire over one frame at
//! a time, as a socket does under light load: wsproto's
//! `wsproto_connection` calls `handle_input` with one frame and drains
//! `poll_event` after each (`wsproto_connection_lent`: `poll_event_ref`);
//! `tungstenite` and `fastwebsockets` read from a stream that returns one
//! frame per read.
//!
//! `cargo bench -p wsproto-tools --bench decode`; then `cargo run --release -p wsproto-tools
//! --bin bench_report` for ns/frame and GB/s.

use std::hint::black_box;
use std::io::{Cursor, Read, Write};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Bencher, Criterion, Throughput};
use tokio::io::AsyncWriteExt;
use wsproto::frame::{encode_frame, FrameDecoder, FrameHeader, OpCode, Status};
use wsproto::utf8::Utf8Validator;
use wsproto::{Config, Connection, Event, EventRef, Role};

/// (payload length, frame count, label).
const CASES: [(usize, usize, &str); 2] =
    [(16, 10_000, "16B_x10000"), (64 << 10, 100, "64KiB_x100")];

/// ASCII text of `len` bytes, JSON-like, varying with `seed`.
fn text(len: usize, seed: usize) -> Vec<u8> {
    let pattern = b"{\"id\":1234,\"op\":\"update\",\"px\":[101.25,99.5],\"tag\":\"lorem ipsum\"}";
    (0..len)
        .map(|i| pattern[(i + seed * 7) % pattern.len()])
        .collect()
}

/// `count` masked text frames of `len` bytes each, with varying keys.
fn wire(len: usize, count: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut frame = vec![0; len + 14];
    for i in 0..count {
        let key = (i as u32).wrapping_mul(0x9e37_79b9).to_le_bytes();
        let header = FrameHeader {
            mask: Some(key),
            ..FrameHeader::new(OpCode::Text, 0)
        };
        let n = encode_frame(header, &text(len, i), &mut frame).unwrap();
        out.extend_from_slice(&frame[..n]);
    }
    out
}

/// An in-memory stream for the peers: reads the wire, at most `chunk`
/// bytes per read; discards writes.
struct WireStream<'a> {
    wire: Cursor<&'a [u8]>,
    chunk: usize,
}

impl Read for WireStream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = buf.len().min(self.chunk);
        self.wire.read(&mut buf[..n])
    }
}

impl tokio::io::AsyncRead for WireStream<'_> {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let n = self.get_mut().read(buf.initialize_unfilled())?;
        buf.advance(n);
        std::task::Poll::Ready(Ok(()))
    }
}

impl tokio::io::AsyncWrite for WireStream<'_> {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::task::Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::task::Poll::Ready(Ok(()))
    }
}

impl Write for WireStream<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn decode_all(decoder: &FrameDecoder, buf: &mut [u8], validate: bool) -> usize {
    let mut at = 0;
    let mut frames = 0;
    while at < buf.len() {
        let Ok(Status::Complete(frame)) = decoder.decode(&mut buf[at..]) else {
            panic!("bad wire");
        };
        if validate && frame.header.opcode == OpCode::Text {
            Utf8Validator::new().finish(frame.payload).unwrap();
        }
        black_box(&frame.payload);
        at += frame.consumed;
        frames += 1;
    }
    frames
}

/// tungstenite's `read`, `count` text messages from `wire`, at most `chunk`
/// bytes per read of its stream.
fn bench_tungstenite(b: &mut Bencher<'_>, wire: &[u8], chunk: usize, count: usize) {
    b.iter_batched_ref(
        || {
            let stream = WireStream {
                wire: Cursor::new(wire),
                chunk,
            };
            tungstenite::WebSocket::from_raw_socket(
                stream,
                tungstenite::protocol::Role::Server,
                None,
            )
        },
        |ws| {
            for _ in 0..count {
                let message = ws.read().unwrap();
                assert!(message.is_text());
                black_box(message);
            }
        },
        BatchSize::PerIteration,
    )
}

/// fastwebsockets' `read_frame`, `count` text frames.
async fn read_fastwebsockets<S>(ws: &mut fastwebsockets::WebSocket<S>, count: usize)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    for _ in 0..count {
        let frame = ws.read_frame().await.unwrap();
        assert_eq!(frame.opcode, fastwebsockets::OpCode::Text);
        black_box(&frame.payload[..]);
    }
}

fn decode(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for (len, count, label) in CASES {
        let wire = wire(len, count);
        let mut group = c.benchmark_group(format!("decode_{label}"));
        group.throughput(Throughput::Bytes(wire.len() as u64));
        group.warm_up_time(Duration::from_millis(500));
        group.measurement_time(Duration::from_secs(2));
        group.sample_size(if len >= 64 << 10 { 20 } else { 30 });

        let decoder = FrameDecoder::new(Role::Server);
        let mut scratch = wire.clone();

        group.bench_function("copy_from_slice", |b| {
            b.iter(|| black_box(&mut scratch[..]).copy_from_slice(black_box(&wire)))
        });
        group.bench_function("xor_inplace", |b| {
            b.iter(|| {
                for byte in black_box(&mut scratch[..]) {
                    *byte ^= 0x5a;
                }
            })
        });
        group.bench_function("wsproto_frame", |b| {
            b.iter_batched_ref(
                || wire.clone(),
                |buf| assert_eq!(decode_all(&decoder, buf, false), count),
                BatchSize::PerIteration,
            )
        });
        group.bench_function("wsproto_frame_utf8", |b| {
            b.iter_batched_ref(
                || wire.clone(),
                |buf| assert_eq!(decode_all(&decoder, buf, true), count),
                BatchSize::PerIteration,
            )
        });
        group.bench_function("wsproto_frame_refresh", |b| {
            b.iter(|| {
                scratch.copy_from_slice(&wire);
                assert_eq!(decode_all(&decoder, &mut scratch, false), count)
            })
        });
        group.bench_function("wsproto_header", |b| {
            b.iter(|| {
                let mut at = 0;
                let mut frames = 0;
                while at < wire.len() {
                    let Ok(Status::Complete((header, n))) = decoder.decode_header(&wire[at..])
                    else {
                        panic!("bad wire");
                    };
                    black_box(&header);
                    at += n + header.payload_len as usize;
                    frames += 1;
                }
                assert_eq!(frames, count);
            })
        });
        group.bench_function("wsproto_connection", |b| {
            b.iter_batched_ref(
                || server_with_room(wire.len()),
                |conn| {
                    conn.handle_input(&wire);
                    let mut frames = 0;
                    while let Some(event) = conn.poll_event().unwrap() {
                        assert!(matches!(event, Event::Text(_)));
                        black_box(event);
                        frames += 1;
                    }
                    assert_eq!(frames, count);
                },
                BatchSize::PerIteration,
            )
        });
        group.bench_function("wsproto_connection_lent", |b| {
            b.iter_batched_ref(
                || server_with_room(wire.len()),
                |conn| {
                    conn.handle_input(&wire);
                    let mut frames = 0;
                    while let Some(event) = conn.poll_event_ref().unwrap() {
                        let EventRef::Text(text) = event else {
                            panic!("not text")
                        };
                        black_box(text.as_bytes());
                        frames += 1;
                    }
                    assert_eq!(frames, count);
                },
                BatchSize::PerIteration,
            )
        });
        group.bench_function("nexus_net", |b| {
            b.iter_batched_ref(
                || {
                    nexus_net::ws::FrameReader::builder()
                        .role(nexus_net::ws::Role::Server)
                        .buffer_capacity(wire.len() + 64)
                        .build()
                },
                |reader| {
                    reader.read(&wire).unwrap();
                    let mut frames = 0;
                    while let Some(message) = reader.next().unwrap() {
                        black_box(message.as_bytes());
                        frames += 1;
                    }
                    assert_eq!(frames, count);
                },
                BatchSize::PerIteration,
            )
        });
        group.bench_function("websocket_sans_io", |b| {
            use websocket_sans_io::{WebsocketFrameDecoder, WebsocketFrameEvent};
            b.iter_batched_ref(
                || wire.clone(),
                |buf| {
                    let mut decoder = WebsocketFrameDecoder::default();
                    let mut at = 0;
                    let mut frames = 0;
                    while frames < count {
                        let r = decoder.add_data(&mut buf[at..]).unwrap();
                        match r.event {
                            Some(WebsocketFrameEvent::PayloadChunk { .. }) => {
                                black_box(&buf[at..at + r.consumed_bytes]);
                            }
                            Some(WebsocketFrameEvent::End { .. }) => frames += 1,
                            _ => {}
                        }
                        at += r.consumed_bytes;
                    }
                    assert_eq!(at, buf.len());
                },
                BatchSize::PerIteration,
            )
        });
        group.bench_function("fastwebsockets", |b| {
            b.iter_batched_ref(
                || {
                    let (ours, mut theirs) = tokio::io::duplex(wire.len() + 64);
                    rt.block_on(theirs.write_all(&wire)).unwrap();
                    let ws = fastwebsockets::WebSocket::after_handshake(
                        ours,
                        fastwebsockets::Role::Server,
                    );
                    (ws, theirs)
                },
                |(ws, _theirs)| rt.block_on(read_fastwebsockets(ws, count)),
                BatchSize::PerIteration,
            )
        });
        group.bench_function("tungstenite", |b| {
            bench_tungstenite(b, &wire, usize::MAX, count)
        });
        group.bench_function("tungstenite_header", |b| {
            b.iter(|| {
                let mut cursor = Cursor::new(&wire[..]);
                let mut frames = 0;
                while (cursor.position() as usize) < wire.len() {
                    let (header, len) =
                        tungstenite::protocol::frame::FrameHeader::parse(&mut cursor)
                            .unwrap()
                            .unwrap();
                    black_box(&header);
                    cursor.set_position(cursor.position() + len);
                    frames += 1;
                }
                assert_eq!(frames, count);
            })
        });
        group.finish();
    }
}

/// The same wires, one frame per read (see the module docs).
fn decode_one_per_read(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    for (len, count, label) in CASES {
        let wire = wire(len, count);
        let frame_len = wire.len() / count;
        let mut group = c.benchmark_group(format!("decode_one_per_read_{label}"));
        group.throughput(Throughput::Bytes(wire.len() as u64));
        group.warm_up_time(Duration::from_millis(500));
        group.measurement_time(Duration::from_secs(2));
        group.sample_size(if len >= 64 << 10 { 20 } else { 30 });

        group.bench_function("wsproto_connection", |b| {
            let mut conn = Connection::new(Role::Server, Config::default());
            b.iter(|| {
                let mut frames = 0;
                for frame in wire.chunks(frame_len) {
                    conn.handle_input(frame);
                    while let Some(event) = conn.poll_event().unwrap() {
                        assert!(matches!(event, Event::Text(_)));
                        black_box(event);
                        frames += 1;
                    }
                }
                assert_eq!(frames, count);
            })
        });
        group.bench_function("wsproto_connection_lent", |b| {
            let mut conn = Connection::new(Role::Server, Config::default());
            b.iter(|| {
                let mut frames = 0;
                for frame in wire.chunks(frame_len) {
                    conn.handle_input(frame);
                    while let Some(event) = conn.poll_event_ref().unwrap() {
                        let EventRef::Text(text) = event else {
                            panic!("not text")
                        };
                        black_box(text.as_bytes());
                        frames += 1;
                    }
                }
                assert_eq!(frames, count);
            })
        });
        group.bench_function("fastwebsockets", |b| {
            b.iter_batched_ref(
                || {
                    let stream = WireStream {
                        wire: Cursor::new(&wire[..]),
                        chunk: frame_len,
                    };
                    fastwebsockets::WebSocket::after_handshake(stream, fastwebsockets::Role::Server)
                },
                |ws| rt.block_on(read_fastwebsockets(ws, count)),
                BatchSize::PerIteration,
            )
        });
        group.bench_function("tungstenite", |b| {
            bench_tungstenite(b, &wire, frame_len, count)
        });
        group.finish();
    }
}

criterion_group!(benches, decode, decode_one_per_read);
criterion_main!(benches);

/// A server connection whose receive buffer already has room for `len`
/// bytes: the batch cases measure decoding, not the buffer's growth.
fn server_with_room(len: usize) -> Connection {
    let mut conn = Connection::new(Role::Server, Config::default());
    conn.receive_buffer().spare(len);
    conn
}
