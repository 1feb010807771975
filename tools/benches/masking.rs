//! Masking throughput: this crate against a naive byte loop, the practical
//! limits (an in-place XOR with a constant byte, `copy_from_slice`) and the
//! public masking functions of peer crates, in the same run.
//!
//! Every size is measured twice: with the payload at the start of a 64-byte
//! aligned buffer, and at its real offset inside a masked frame (after a
//! 6-, 8- or 14-byte header, depending on the length encoding).
//!
//! `cargo bench -p wsproto-tools --bench masking` (a criterion filter such as `-- 64KiB`
//! narrows the run); medians land in `target/criterion/*/*/new/estimates.json`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// (payload length, label, offset of the payload in a masked frame).
const SIZES: [(usize, &str, usize); 7] = [
    (16, "16B", 6),
    (125, "125B", 6),
    (1 << 10, "1KiB", 8),
    (16 << 10, "16KiB", 8),
    (64 << 10, "64KiB", 14),
    (1 << 20, "1MiB", 14),
    (16 << 20, "16MiB", 14),
];

/// A buffer whose payload starts `offset` bytes after a 64-byte boundary.
struct Buffer {
    storage: Vec<u8>,
    start: usize,
    len: usize,
}

impl Buffer {
    fn new(len: usize, offset: usize) -> Self {
        let storage: Vec<u8> = (0..len + 128).map(|i| (i * 31 + 7) as u8).collect();
        let start = storage.as_ptr().align_offset(64) + offset;
        Buffer {
            storage,
            start,
            len,
        }
    }

    fn payload(&mut self) -> &mut [u8] {
        &mut self.storage[self.start..self.start + self.len]
    }
}

/// The loop everybody writes first.
fn naive(buf: &mut [u8], key: [u8; 4]) {
    for i in 0..buf.len() {
        buf[i] ^= key[i & 3];
    }
}

/// The limit: the same memory traffic without any masking logic.
fn xor_constant(buf: &mut [u8], byte: u8) {
    for b in buf {
        *b ^= byte;
    }
}

fn masking(c: &mut Criterion) {
    for (len, label, frame_offset) in SIZES {
        for offset in [0, frame_offset] {
            let mut group = c.benchmark_group(format!("mask_{label}_off{offset}"));
            group.throughput(Throughput::Bytes(len as u64));
            group.warm_up_time(Duration::from_millis(300));
            group.measurement_time(Duration::from_secs(1));
            group.sample_size(if len >= 1 << 20 { 10 } else { 40 });

            let mut buf = Buffer::new(len, offset);
            let source = Buffer::new(len, offset);
            let source = &source.storage[source.start..source.start + len];

            group.bench_function("wsproto", |b| {
                b.iter(|| wsproto::mask::apply_mask(black_box(buf.payload()), black_box(KEY)))
            });
            group.bench_function("wsproto_at", |b| {
                b.iter(|| {
                    wsproto::mask::apply_mask_at(
                        black_box(buf.payload()),
                        black_box(KEY),
                        black_box(3),
                    )
                })
            });
            group.bench_function("naive", |b| {
                b.iter(|| naive(black_box(buf.payload()), black_box(KEY)))
            });
            group.bench_function("xor_constant", |b| {
                b.iter(|| xor_constant(black_box(buf.payload()), black_box(0x5a)))
            });
            group.bench_function("copy_from_slice", |b| {
                b.iter(|| black_box(buf.payload()).copy_from_slice(black_box(source)))
            });
            group.bench_function("fastwebsockets", |b| {
                b.iter(|| fastwebsockets::unmask(black_box(buf.payload()), black_box(KEY)))
            });
            group.bench_function("nexus_net", |b| {
                b.iter(|| nexus_net::ws::apply_mask(black_box(buf.payload()), black_box(KEY)))
            });
            group.bench_function("websocket_sans_io", |b| {
                b.iter(|| {
                    websocket_sans_io::apply_mask(black_box(KEY), black_box(buf.payload()), 0)
                })
            });
            group.finish();
        }
    }
}

criterion_group!(benches, masking);
criterion_main!(benches);
