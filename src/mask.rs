//! Payload masking (RFC 6455 §5.3): `byte[i] ^= key[i % 4]`.
//!
//! Users benchmark this, so it is written for the compiler to vectorise, in
//! safe code. The payload is cut into 32-byte blocks, then pieces of 16, 8
//! and 4 bytes, then single bytes; a block or piece is an array of 4-byte
//! lanes, each one period of the key, XORed with the key as a `u32`, which
//! LLVM turns into full-width vector loads and stores (SSE2 in a default
//! x86-64 build). No two stores overlap: a store that partly overlaps an
//! earlier one makes the next read of those bytes wait for both to reach
//! the cache, and benchmarks read them again at once.
//! - Up to 256 bytes (inlined): blocks from the start, pieces for the rest.
//! - Longer: pieces up to a 32-byte boundary, then aligned blocks (a vector
//!   store that splits a cache line costs about 30% on large buffers), then
//!   pieces. With the `std` feature on x86-64, this path is compiled for AVX2
//!   as well and chosen at run time, up to 64 KiB, when the CPU has it (1.4x
//!   at 1 KiB, 1.6x at 16 KiB; see `docs/masking.md`).

/// Masks (or unmasks: the operation is its own inverse) `buf` in place with
/// `key`, the first byte of `buf` being payload byte 0.
///
/// ```
/// let mut data = *b"Hello";
/// wsproto::mask::apply_mask(&mut data, [0x37, 0xfa, 0x21, 0x3d]);
/// assert_eq!(data, [0x7f, 0x9f, 0x4d, 0x51, 0x58]);
/// ```
#[inline]
pub fn apply_mask(buf: &mut [u8], key: [u8; 4]) {
    if buf.len() <= SHORT_MAX {
        mask_short(buf, key);
    } else if buf.len() > AVX2_MAX || !avx2::mask_long(buf, key) {
        mask_long(buf, key);
    }
}

/// Masks `buf` in place as the part of a payload that starts at byte
/// `offset`: for a payload that arrives in pieces, call it on each piece with
/// the number of payload bytes before it.
///
/// ```
/// use wsproto::mask::{apply_mask, apply_mask_at};
/// let key = [1, 2, 3, 4];
/// let mut whole = *b"a payload in two pieces";
/// let mut pieces = whole;
/// apply_mask(&mut whole, key);
/// let (a, b) = pieces.split_at_mut(7);
/// apply_mask_at(a, key, 0);
/// apply_mask_at(b, key, 7);
/// assert_eq!(whole, pieces);
/// ```
#[inline]
pub fn apply_mask_at(buf: &mut [u8], key: [u8; 4], offset: u64) {
    apply_mask(buf, rotate_key(key, (offset & 3) as usize));
}

/// The longest payload [`mask_is_ascii`] takes: below the length from which
/// a UTF-8 validator's vector pass beats a word-at-a-time ASCII check.
pub(crate) const MASK_ASCII_MAX: usize = 63;

/// Masks `buf` (at most [`MASK_ASCII_MAX`] bytes) as [`apply_mask`] does
/// and returns whether the result is ASCII, in the same pass: for a short
/// text payload a second pass over the bytes costs as much as the first.
/// Like [`mask_pieces`]: 32, 16, 8 and 4 bytes for each bit set in the
/// length, in 8-byte words, then the last 0 to 3 bytes one at a time.
#[inline(always)]
pub(crate) fn mask_is_ascii(buf: &mut [u8], key: [u8; 4]) -> bool {
    debug_assert!(buf.len() <= MASK_ASCII_MAX);
    let key4 = u32::from_ne_bytes(key);
    // Two periods of the key, in memory order whatever the byte order.
    let key8 = u64::from(key4) << 32 | u64::from(key4);
    let mut high = 0;
    let mut rest = buf;
    if rest.len() & 32 != 0 {
        rest = mask_words::<4>(rest, key8, &mut high);
    }
    if rest.len() & 16 != 0 {
        rest = mask_words::<2>(rest, key8, &mut high);
    }
    if rest.len() & 8 != 0 {
        rest = mask_words::<1>(rest, key8, &mut high);
    }
    if rest.len() & 4 != 0 {
        let (word, tail) = rest.split_at_mut(4);
        let masked = u32::from_ne_bytes([word[0], word[1], word[2], word[3]]) ^ key4;
        word.copy_from_slice(&masked.to_ne_bytes());
        high |= u64::from(masked);
        rest = tail;
    }
    for (byte, k) in rest.iter_mut().zip(key) {
        *byte ^= k;
        high |= u64::from(*byte);
    }
    high & 0x8080_8080_8080_8080 == 0
}

/// Masks the first `8 * N` bytes of `buf`, which start a key period, with
/// `key8` (two periods), ORs them into `high`, and returns the rest.
#[inline(always)]
fn mask_words<'a, const N: usize>(buf: &'a mut [u8], key8: u64, high: &mut u64) -> &'a mut [u8] {
    let (words, rest) = buf.split_at_mut(8 * N);
    for word in words.chunks_exact_mut(8) {
        let mut bytes = [0; 8];
        bytes.copy_from_slice(word);
        let masked = u64::from_ne_bytes(bytes) ^ key8;
        word.copy_from_slice(&masked.to_ne_bytes());
        *high |= masked;
    }
    rest
}

/// The longest payload masked by [`mask_short`], inlined into the caller.
const SHORT_MAX: usize = 256;
/// The longest payload that takes the AVX2 path where there is one: beyond
/// it the data comes from L2 or further, and SSE2 keeps up (AVX2 measured
/// 2% slower at 1 MiB and 8-20% slower at 16 MiB; see `docs/masking.md`).
const AVX2_MAX: usize = 64 << 10;
/// A block, in 4-byte lanes: one AVX2 register, two SSE2 registers.
const BLOCK_LANES: usize = 8;
/// A block in bytes.
const BLOCK: usize = 4 * BLOCK_LANES;

/// The key as seen from payload byte `offset` on.
#[inline(always)]
fn rotate_key(key: [u8; 4], offset: usize) -> [u8; 4] {
    u32::from_le_bytes(key)
        .rotate_right(8 * (offset & 3) as u32)
        .to_le_bytes()
}

/// The first `4 * N` bytes of `bytes` as 4-byte lanes.
#[inline(always)]
fn load<const N: usize>(bytes: &[u8]) -> [u32; N] {
    let bytes = &bytes[..4 * N];
    core::array::from_fn(|i| {
        let mut lane = [0; 4];
        lane.copy_from_slice(&bytes[4 * i..4 * i + 4]);
        u32::from_ne_bytes(lane)
    })
}

/// Writes `lanes` over the first `4 * N` bytes of `bytes`.
#[inline(always)]
fn store<const N: usize>(bytes: &mut [u8], lanes: [u32; N]) {
    let bytes = &mut bytes[..4 * N];
    for (chunk, lane) in bytes.chunks_exact_mut(4).zip(lanes) {
        chunk.copy_from_slice(&lane.to_ne_bytes());
    }
}

/// Masks the first `4 * N` bytes of `buf`, which start a key period, and
/// returns the rest.
#[inline(always)]
fn mask_lanes<const N: usize>(buf: &mut [u8], key: [u8; 4]) -> &mut [u8] {
    let (piece, rest) = buf.split_at_mut(4 * N);
    let key = u32::from_ne_bytes(key);
    let mut lanes = load::<N>(piece);
    for lane in &mut lanes {
        *lane ^= key;
    }
    store(piece, lanes);
    rest
}

/// Blocks, then the remainder in pieces.
#[inline(always)]
fn mask_blocks(buf: &mut [u8], key: [u8; 4]) {
    let mut blocks = buf.chunks_exact_mut(BLOCK);
    for block in &mut blocks {
        mask_lanes::<BLOCK_LANES>(block, key);
    }
    mask_pieces(blocks.into_remainder(), key);
}

/// `buf.len() < BLOCK`: a piece of 16, 8 and 4 bytes for each bit set in the
/// length, then the last 0 to 3 bytes one at a time. Every piece starts a
/// key period, so all take `key`.
#[inline(always)]
fn mask_pieces(buf: &mut [u8], key: [u8; 4]) {
    let mut rest = buf;
    if rest.len() & 16 != 0 {
        rest = mask_lanes::<4>(rest, key);
    }
    if rest.len() & 8 != 0 {
        rest = mask_lanes::<2>(rest, key);
    }
    if rest.len() & 4 != 0 {
        rest = mask_lanes::<1>(rest, key);
    }
    for (byte, k) in rest.iter_mut().zip(key) {
        *byte ^= k;
    }
}

/// Payloads of at most [`SHORT_MAX`] bytes: blocks from the start.
#[inline(always)]
fn mask_short(buf: &mut [u8], key: [u8; 4]) {
    mask_blocks(buf, key);
}

/// Longer payloads, in the build's own instruction set.
#[inline(never)]
fn mask_long(buf: &mut [u8], key: [u8; 4]) {
    mask_aligned(buf, key);
}

/// Pieces up to a `BLOCK`-byte boundary, then aligned blocks, then pieces.
#[inline(always)]
fn mask_aligned(buf: &mut [u8], key: [u8; 4]) {
    let head_len = buf.as_ptr().align_offset(BLOCK).min(buf.len());
    let (head, body) = buf.split_at_mut(head_len);
    // The odd bytes first, so that the pieces after them start key periods.
    let (bytes, head) = head.split_at_mut(head_len & 3);
    for (byte, k) in bytes.iter_mut().zip(key) {
        *byte ^= k;
    }
    mask_pieces(head, rotate_key(key, bytes.len()));
    mask_blocks(body, rotate_key(key, head_len));
}

/// [`mask_aligned`] compiled for AVX2, chosen at run time: 1.4-1.6x the
/// SSE2 build at 1-16 KiB (`tools/benches/masking.rs`, `docs/masking.md`). The
/// crate's one `unsafe` block is the call behind the feature check.
#[cfg(all(
    feature = "std",
    target_arch = "x86_64",
    not(target_feature = "avx2"),
    not(miri)
))]
#[allow(unsafe_code)]
mod avx2 {
    /// Masks `buf` and returns true if the CPU has AVX2; returns false,
    /// leaving `buf` as it is, if not.
    #[inline]
    pub(super) fn mask_long(buf: &mut [u8], key: [u8; 4]) -> bool {
        if !std::is_x86_feature_detected!("avx2") {
            return false;
        }
        // SAFETY: the CPU has AVX2 (checked just above), the one requirement
        // of `mask_aligned`.
        unsafe { mask_aligned(buf, key) };
        true
    }

    /// # Safety
    /// The CPU must have AVX2.
    #[target_feature(enable = "avx2")]
    unsafe fn mask_aligned(buf: &mut [u8], key: [u8; 4]) {
        super::mask_aligned(buf, key);
    }
}

/// Where there is no run-time dispatch (no `std`, not x86-64, AVX2 enabled
/// at compile time, Miri), the portable path is the only one.
#[cfg(not(all(
    feature = "std",
    target_arch = "x86_64",
    not(target_feature = "avx2"),
    not(miri)
)))]
mod avx2 {
    /// Returns false: the caller takes the portable path.
    #[inline(always)]
    pub(super) fn mask_long(_buf: &mut [u8], _key: [u8; 4]) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(buf: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= key[(offset + i) % 4];
        }
    }

    /// A masking path, and the payload lengths it accepts.
    type Path = (
        &'static str,
        fn(&mut [u8], [u8; 4]),
        core::ops::RangeInclusive<usize>,
    );

    /// Every path, with the lengths it accepts.
    fn paths() -> [Path; 6] {
        [
            ("apply_mask", apply_mask, 0..=usize::MAX),
            ("short", mask_short, 0..=usize::MAX),
            ("pieces", mask_pieces, 0..=BLOCK - 1),
            ("long portable", mask_long, 0..=usize::MAX),
            ("aligned", mask_aligned, 0..=usize::MAX),
            // The portable path if the dispatch has nothing to offer.
            (
                "run-time dispatch",
                |buf, key| {
                    if !avx2::mask_long(buf, key) {
                        mask_long(buf, key)
                    }
                },
                0..=usize::MAX,
            ),
        ]
    }

    #[test]
    fn every_path_matches_the_byte_loop_at_every_length_offset_and_alignment() {
        let key = [0x12, 0x34, 0x56, 0x78];
        let source: [u8; 400] = core::array::from_fn(|i| (i * 7 + 3) as u8);
        // Miri is slow: fewer lengths and alignments, but every path and
        // every piece size.
        let (starts, lengths): (usize, alloc::vec::Vec<usize>) = if cfg!(miri) {
            (2, (0..=36).chain([63, 64, 65, 100, 257, 300]).collect())
        } else {
            (32, (0..=300).collect())
        };
        for (name, path, accepts) in paths() {
            for start in 0..starts {
                for &len in lengths.iter().filter(|len| accepts.contains(len)) {
                    for offset in 0..4 {
                        let mut fast = source;
                        let mut slow = source;
                        path(&mut fast[start..start + len], rotate_key(key, offset));
                        reference(&mut slow[start..start + len], key, offset);
                        assert_eq!(
                            fast, slow,
                            "{name}: start {start} len {len} offset {offset}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn mask_is_ascii_masks_as_apply_mask_does_and_tells_ascii_apart() {
        let key = [0x12, 0x34, 0x56, 0x78];
        let ascii: [u8; 80] = core::array::from_fn(|i| (i * 7 + 3) as u8 & 0x7f);
        // Miri is slow: two alignments and the lengths around each piece.
        let (starts, lengths): (usize, alloc::vec::Vec<usize>) = if cfg!(miri) {
            (2, (0..=12).chain([15, 16, 17, 31, 32, 33, 63]).collect())
        } else {
            (8, (0..=MASK_ASCII_MAX).collect())
        };
        for start in 0..starts {
            for &len in &lengths {
                // Plain ASCII, then a byte with its high bit at each place.
                for high_at in core::iter::once(None).chain((0..len).map(Some)) {
                    let mut plain = ascii;
                    if let Some(at) = high_at {
                        plain[start + at] |= 0x80;
                    }
                    let mut wire = plain;
                    reference(&mut wire[start..start + len], key, 0);
                    let is_ascii = mask_is_ascii(&mut wire[start..start + len], key);
                    assert_eq!(wire, plain, "start {start} len {len} high {high_at:?}");
                    assert_eq!(is_ascii, high_at.is_none(), "start {start} len {len}");
                }
            }
        }
    }

    #[test]
    fn apply_mask_at_continues_at_any_offset() {
        let key = [0x12, 0x34, 0x56, 0x78];
        let source: [u8; 300] = core::array::from_fn(|i| (i * 7 + 3) as u8);
        for offset in [0, 1, 2, 3, 4, 5, 1 << 40, u64::MAX] {
            let mut fast = source;
            let mut slow = source;
            apply_mask_at(&mut fast, key, offset);
            reference(&mut slow, key, (offset % 4) as usize);
            assert_eq!(fast, slow, "offset {offset}");
        }
    }

    #[test]
    fn rotate_key_follows_the_payload_offset() {
        let key = [1, 2, 3, 4];
        assert_eq!(rotate_key(key, 0), [1, 2, 3, 4]);
        assert_eq!(rotate_key(key, 1), [2, 3, 4, 1]);
        assert_eq!(rotate_key(key, 2), [3, 4, 1, 2]);
        assert_eq!(rotate_key(key, 7), [4, 1, 2, 3]);
    }
}
