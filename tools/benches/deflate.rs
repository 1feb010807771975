//! permessage-deflate throughput through the public API, beside the same
//! messages through connections without it, in the same run.
//!
//! - compress: a server connection sends a text message and its output is
//!   drained (the bytes are not copied anywhere);
//! - decompress: a client connection is given that wire and yields the
//!   message.
//!
//! Messages are JSON arrays of objects with repeated keys, 1 KiB and 64 KiB,
//! 16 different ones sent in turn (the same message again would compress to
//! a few back references under context takeover, measuring nothing real).
//! `deflate` is the default configuration (context takeover, 15-bit
//! windows, level 1, memory level 1, the last 4 KiB sent kept as context
//! and compressed by the thread's compressor); `deflate-whole` keeps a
//! compressor of the connection's own with its whole window at zlib's
//! memory level 8 (the defaults before); `deflate-nct` adds
//! `server_no_context_takeover`, so every message starts from an empty
//! window; `plain` has no deflate.
//! Throughput is counted in uncompressed bytes; the compression ratios are
//! printed before the run.
//!
//! `cargo bench -p wsproto-tools --features deflate --bench deflate`; medians land in
//! `target/criterion/*/*/new/estimates.json`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use wsproto::extensions::deflate::{DeflateConfig, DeflateParams};
use wsproto::handshake::ExtensionOffer;
use wsproto::{Config, Connection, Event, Role};

const SIZES: [(usize, &str); 2] = [(1 << 10, "1KiB"), (64 << 10, "64KiB")];

/// Messages sent in turn.
const DISTINCT: u64 = 16;

/// A realistic JSON payload of exactly `len` bytes: an array of user
/// records (which ones depends on `seed`), closed properly when it fits,
/// padded with spaces.
fn json(len: usize, seed: u64) -> String {
    const CITIES: [&str; 5] = ["Berlin", "Lisbon", "Osaka", "Toronto", "Nairobi"];
    const TAGS: [&str; 6] = ["admin", "beta", "mobile", "premium", "trial", "eu"];
    let mut out = String::from("[");
    let mut i = seed * 101;
    loop {
        let record = format!(
            "{{\"id\":{},\"name\":\"user_{:04}\",\"email\":\"user_{:04}@example.com\",\
             \"active\":{},\"score\":{}.{:02},\"city\":\"{}\",\"tags\":[\"{}\",\"{}\"],\
             \"created_at\":\"2024-{:02}-{:02}T{:02}:{:02}:00Z\"}}",
            1000 + i,
            i * 7919 % 10_000,
            i * 7919 % 10_000,
            i % 3 != 0,
            i * 37 % 100,
            i * 13 % 100,
            CITIES[(i % 5) as usize],
            TAGS[(i % 6) as usize],
            TAGS[(i * 5 % 6) as usize],
            i % 12 + 1,
            i % 28 + 1,
            i % 24,
            i * 7 % 60,
        );
        if out.len() + record.len() + 2 > len {
            break;
        }
        if out.len() > 1 {
            out.push(',');
        }
        out.push_str(&record);
        i += 1;
    }
    out.push(']');
    while out.len() < len {
        out.push(' ');
    }
    out
}

/// Both ends' parameters, negotiated as on the wire.
fn params(server_no_context_takeover: bool) -> (DeflateParams, DeflateParams) {
    let client = DeflateConfig::default();
    let server = DeflateConfig::default().server_no_context_takeover(server_no_context_takeover);
    let offer = ExtensionOffer::parse_list(&client.offer().to_string()).unwrap();
    let (response, server_params) = server.negotiate(&offer).unwrap();
    let client_params = client.check_response(&[response]).unwrap().unwrap();
    (client_params, server_params)
}

fn connection(role: Role, params: Option<DeflateParams>) -> Connection {
    let mut conn = Connection::new(role, Config::default());
    if let Some(params) = params {
        conn.enable_deflate(params);
    }
    conn
}

/// Sends `message` and drains the output; returns the bytes written.
fn send(conn: &mut Connection, message: &str) -> usize {
    conn.send_text(message).unwrap();
    let mut total = 0;
    while let Some(bytes) = conn.poll_transmit() {
        let n = bytes.len();
        total += n;
        conn.advance_transmit(n);
    }
    total
}

/// The wires a server sends for `messages`, in order.
fn wires(params: Option<DeflateParams>, messages: &[String]) -> Vec<Vec<u8>> {
    let mut server = connection(Role::Server, params);
    messages
        .iter()
        .map(|message| {
            server.send_text(message).unwrap();
            let mut out = Vec::new();
            while let Some(bytes) = server.poll_transmit() {
                let n = bytes.len();
                out.extend_from_slice(bytes);
                server.advance_transmit(n);
            }
            out
        })
        .collect()
}

fn receive(conn: &mut Connection, wire: &[u8]) -> usize {
    conn.handle_input(wire);
    match conn.poll_event().unwrap() {
        Some(Event::Text(text)) => text.len(),
        other => panic!("{other:?}"),
    }
}

fn bench(c: &mut Criterion) {
    let (client_takeover, server_takeover) = params(false);
    let (client_nct, server_nct) = params(true);
    for (len, label) in SIZES {
        let messages: Vec<String> = (0..DISTINCT).map(|seed| json(len, seed)).collect();
        // What the defaults were before they were chosen for many
        // connections: a compressor of the connection's own keeping its
        // whole window, at zlib's memory level.
        let whole = |p: DeflateParams| p.context_size(usize::MAX).memory_level(8);
        let variants = [
            ("deflate", Some((client_takeover, server_takeover))),
            (
                "deflate-whole",
                Some((whole(client_takeover), whole(server_takeover))),
            ),
            ("deflate-nct", Some((client_nct, server_nct))),
            ("plain", None),
        ];
        for (name, params) in variants {
            let wire: usize = wires(params.map(|p| p.1), &messages)
                .iter()
                .map(Vec::len)
                .sum();
            let raw = len * messages.len();
            println!(
                "{label} {name}: {raw} bytes of JSON in {wire} bytes on the wire ({:.2}x)",
                raw as f64 / wire as f64
            );
        }

        // The ratio by compression level and zlib memory level (the
        // default is level 1, memory level 1), compressed by the server.
        for nct in [false, true] {
            for level in [1, 6] {
                for memory_level in [1, 8] {
                    let (_, server) = params(nct);
                    let server = server.level(level).memory_level(memory_level);
                    let wire: usize = wires(Some(server), &messages).iter().map(Vec::len).sum();
                    println!(
                        "{label} level {level} memory level {memory_level} no context takeover \
                         {nct}: {:.3}x",
                        (len * messages.len()) as f64 / wire as f64
                    );
                }
            }
        }

        let mut group = c.benchmark_group(format!("compress/{label}"));
        group.throughput(Throughput::Bytes(len as u64));
        for (name, params) in variants {
            let mut server = connection(Role::Server, params.map(|p| p.1));
            let mut turn = messages.iter().cycle();
            group.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.iter(|| black_box(send(&mut server, black_box(turn.next().unwrap()))))
            });
        }
        group.finish();

        let mut group = c.benchmark_group(format!("decompress/{label}"));
        group.throughput(Throughput::Bytes(len as u64));
        for (name, params) in variants {
            let wires = wires(params.map(|p| p.1), &messages);
            let client_params = params.map(|p| p.0);
            group.bench_function(BenchmarkId::from_parameter(name), |b| {
                // Under context takeover each wire only decodes after the
                // ones before it: a fresh client per pass (not timed).
                b.iter_custom(|iters| {
                    let mut client = connection(Role::Client, client_params);
                    let mut elapsed = Duration::ZERO;
                    let mut next = 0;
                    let mut start = Instant::now();
                    for _ in 0..iters {
                        if next == wires.len() {
                            elapsed += start.elapsed();
                            client = connection(Role::Client, client_params);
                            next = 0;
                            start = Instant::now();
                        }
                        black_box(receive(&mut client, black_box(&wires[next])));
                        next += 1;
                    }
                    elapsed + start.elapsed()
                })
            });
        }
        group.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = bench
}
criterion_main!(benches);
