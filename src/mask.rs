//! Payload masking (RFC 6455 §5.3): `byte[i] ^= key[i % 4]`.
//!
//! Users benchmark this, so it is written for the compiler to vectorise:
//! short payloads go through 8-byte words; long ones are brought to a 32-byte
//! boundary and then XORed 32 bytes at a time against a key pattern that is
//! rotated to match, which LLVM turns into full-width vector loads and stores
//! (aligned, so no store splits a cache line). No `unsafe`.

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
    if buf.len() < 64 {
        mask_words(buf, key);
    } else {
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
    apply_mask(buf, rotate_key(key, offset as usize));
}

/// The key as seen from payload byte `offset` on.
#[inline]
fn rotate_key(key: [u8; 4], offset: usize) -> [u8; 4] {
    u32::from_le_bytes(key).rotate_right(8 * (offset & 3) as u32).to_le_bytes()
}

/// Short payloads: 8 bytes at a time, then the tail byte by byte.
#[inline]
fn mask_words(buf: &mut [u8], key: [u8; 4]) {
    let pattern = u64::from_ne_bytes([key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3]]);
    let mut words = buf.chunks_exact_mut(8);
    for word in &mut words {
        let mut w = [0; 8];
        w.copy_from_slice(word);
        word.copy_from_slice(&(u64::from_ne_bytes(w) ^ pattern).to_ne_bytes());
    }
    for (byte, k) in words.into_remainder().iter_mut().zip(key.iter().cycle()) {
        *byte ^= k;
    }
}

/// Long payloads: an unaligned head, a 32-byte-aligned vector body, a tail.
#[inline(never)]
fn mask_long(buf: &mut [u8], key: [u8; 4]) {
    const LANES: usize = 32;
    let head_len = buf.as_ptr().align_offset(LANES).min(buf.len());
    let (head, body) = buf.split_at_mut(head_len);
    mask_words(head, key);
    let key = rotate_key(key, head_len);
    let mut pattern = [0u8; LANES];
    for (p, k) in pattern.iter_mut().zip(key.iter().cycle()) {
        *p = *k;
    }
    let mut blocks = body.chunks_exact_mut(LANES);
    for block in &mut blocks {
        for (b, p) in block.iter_mut().zip(pattern.iter()) {
            *b ^= p;
        }
    }
    // The body started on a key boundary and every block is a multiple of 4,
    // so the tail starts on one too.
    mask_words(blocks.into_remainder(), key);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(buf: &mut [u8], key: [u8; 4], offset: usize) {
        for (i, b) in buf.iter_mut().enumerate() {
            *b ^= key[(offset + i) % 4];
        }
    }

    #[test]
    fn matches_the_byte_loop_at_every_length_offset_and_alignment() {
        let key = [0x12, 0x34, 0x56, 0x78];
        let source: [u8; 400] = core::array::from_fn(|i| (i * 7 + 3) as u8);
        for start in 0..32 {
            for len in 0..=300 {
                for offset in 0..4 {
                    let mut fast = source;
                    let mut slow = source;
                    apply_mask_at(&mut fast[start..start + len], key, offset as u64);
                    reference(&mut slow[start..start + len], key, offset);
                    assert_eq!(fast, slow, "start {start} len {len} offset {offset}");
                }
            }
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
