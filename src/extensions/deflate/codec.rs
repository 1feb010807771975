//! The data path of permessage-deflate (RFC 7692 §6, §7.2): the compressor
//! and decompressor a connection uses once the extension was agreed (see
//! the parent module for the negotiation and the memory each takes), behind
//! [`DeflateCodec`], which the connection's codec
//! ([`Codec`](crate::extensions::Codec)) calls.

use alloc::boxed::Box;
use bytes::{Bytes, BytesMut};
use zlib_rs::{
    Deflate as Compress, DeflateFlush, Inflate as Decompress, InflateFlush, Method, Status,
    Strategy,
};

use super::context::Recent;
use super::DeflateParams;
use crate::error::ProtocolError;
use crate::frame::{FrameHeader, OpCode, Rsv};
use crate::role::Role;

/// The tail a sync flush ends with, removed by the sender and restored by
/// the receiver (RFC 7692 §7.2.1, §7.2.2).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// permessage-deflate as the connection runs it: both halves, and the
/// buffer a frame's payload is inflated into.
#[derive(Debug)]
pub(crate) struct DeflateCodec {
    compressor: Compressor,
    decompressor: Decompressor,
    /// Inflated bytes of the current frame.
    inflated: BytesMut,
}

impl DeflateCodec {
    /// RFC 7692 §6: "This document allocates the RSV1 bit of the WebSocket
    /// header for PMCEs and calls the bit the "Per-Message Compressed" bit.
    /// On a WebSocket connection where a PMCE is in use, this bit indicates
    /// whether a message is compressed or not."
    pub(crate) const RSV: Rsv = Rsv::RSV1;

    /// Both halves for `role`'s end, with the parameters agreed.
    pub(crate) fn new(role: Role, params: &DeflateParams) -> DeflateCodec {
        DeflateCodec {
            compressor: Compressor::new(role, params),
            decompressor: Decompressor::new(role, params),
            inflated: BytesMut::new(),
        }
    }

    /// RFC 7692 §6: "An endpoint MUST NOT set the "Per-Message Compressed"
    /// bit of control frames and non-first fragments of a data message. An
    /// endpoint receiving such a frame MUST _Fail the WebSocket
    /// Connection_."
    pub(crate) fn check_header(header: &FrameHeader) -> Result<(), ProtocolError> {
        let rsv1 = header.rsv.contains(Self::RSV);
        if rsv1 && (header.opcode.is_control() || header.opcode == OpCode::Continuation) {
            return Err(ProtocolError::CompressedControlOrContinuation);
        }
        Ok(())
    }

    /// Whether the message `header` starts (its first frame) is compressed:
    /// RSV1 set (§6).
    pub(crate) fn is_compressed(header: &FrameHeader) -> bool {
        header.rsv.contains(Self::RSV)
    }

    /// A whole message compressed, or `None` when it is shorter than the
    /// agreed threshold (`min_compress_size`) and goes out as it is, RSV1
    /// clear: the deflate overhead would outweigh the gain.
    /// The key of this end's compressed messages when they can be shared
    /// (see [`Compressor`]), and the threshold below which a message goes
    /// out uncompressed.
    pub(crate) fn shared_key(&self) -> (Option<SharedKey>, usize) {
        (self.compressor.shared_key(), self.compressor.min_size)
    }

    pub(crate) fn compress_message(&mut self, payload: &[u8]) -> Option<Bytes> {
        if payload.len() < self.compressor.min_size {
            return None;
        }
        Some(self.compressor.compress(payload, true).freeze())
    }

    /// One piece of a streamed message, compressed. The size is not known
    /// up front, so a streamed message is always compressed, each piece
    /// flushed to go out at once.
    pub(crate) fn compress_fragment(&mut self, piece: &[u8], is_last: bool) -> Bytes {
        self.compressor.compress(piece, is_last).freeze()
    }

    /// One frame's payload of a compressed message, inflated, into no more
    /// than `room` bytes (see [`Decompressor::decompress`]).
    pub(crate) fn inflate(
        &mut self,
        piece: &[u8],
        is_last: bool,
        room: u64,
    ) -> Result<BytesMut, ProtocolError> {
        self.decompressor
            .decompress(piece, is_last, &mut self.inflated, room)?;
        Ok(self.inflated.split())
    }

    /// Frees the inflate buffer when it holds nothing, and the state of
    /// each half that has no context to keep between messages (no context
    /// takeover agreed for it, and not inside a message): it is made again
    /// on the next message. A half that takes its context over keeps it:
    /// the LZ77 window is what the next message may refer back to.
    pub(crate) fn release_idle_buffers(&mut self) {
        if self.inflated.is_empty() {
            self.inflated = BytesMut::new();
        }
        self.compressor.release_idle();
        self.decompressor.release_idle();
    }
}

/// The sending half: compresses whole messages (or streamed pieces).
///
/// A zlib compressor takes 134-260 KiB with zlib-rs (window bits 9-15, a
/// 128 KiB hash table whatever the memory level), so a connection keeps
/// one of its own only when it keeps its whole window as context
/// ([`Context::Whole`]). Otherwise a whole message is compressed by the
/// thread's compressor ([`shared`](super::shared)), from an empty window or
/// from the last bytes sent ([`Context::Recent`]); only a streamed message
/// (`send_fragment`), whose pieces share one context across calls, makes
/// one of its own for its length.
pub(crate) struct Compressor {
    /// The connection's own zlib state, when made.
    own: Option<Box<Compress>>,
    /// The window and level it is made with.
    key: SharedKey,
    context: Context,
    /// No context takeover agreed: every message is the same bytes from
    /// every compressor with the same key (see [`SharedKey`]).
    reset_each_message: bool,
    /// A streamed message was begun and not ended: its context is live.
    in_message: bool,
    min_size: usize,
    out: BytesMut,
}

/// What the compressor keeps of the messages it sent, for the next ones.
#[derive(Debug)]
enum Context {
    /// Nothing: no context takeover (RFC 7692 §7.1.1.1), or stored blocks,
    /// which never refer back. The thread's compressor does every message.
    Empty,
    /// The last bytes sent (`DeflateConfig::context_size` of them, at most
    /// the window), set as the thread's compressor's dictionary.
    Recent(Recent),
    /// The whole window, in a compressor of the connection's own, made on
    /// the first message and kept: the fastest, and the most memory.
    Whole,
}

/// What a sender's compressed message depends on when no context is taken
/// over: the window, the level and the memory level. Messages compressed
/// by any compressor made with the same key, each from a fresh context,
/// are the same bytes, so one compression can serve every connection with
/// that key (a prepared message) and one compressor every such connection
/// of a thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct SharedKey {
    /// 9..=15 (zlib cannot deflate with 8, see [`Compressor::new`]).
    bits: u8,
    /// 0..=9.
    level: u8,
    /// 1..=9.
    memory_level: u8,
}

impl SharedKey {
    /// A fresh zlib compressor with this window, level and memory level:
    /// zlib's `deflateInit2` with a negative window for raw deflate (RFC
    /// 7692 §7.2.1: no zlib header or trailer). The values are in range by
    /// construction ([`Compressor::new`] clamps them), so zlib-rs accepts
    /// them.
    pub(crate) fn compressor(self) -> Compress {
        Compress::new_with_config(zlib_rs::DeflateConfig {
            level: i32::from(self.level),
            method: Method::Deflated,
            window_bits: -i32::from(self.bits),
            mem_level: i32::from(self.memory_level),
            strategy: Strategy::Default,
        })
    }
}

impl core::fmt::Debug for Compressor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Compressor")
            .field("key", &self.key)
            .field("context", &self.context)
            .field("allocated", &self.own.is_some())
            .finish()
    }
}

impl Compressor {
    pub(crate) fn new(role: Role, params: &DeflateParams) -> Compressor {
        let (bits, reset) = agreed_for(params, role);
        // zlib cannot deflate with a 256-byte window (it silently uses 512).
        // Stored blocks never refer back at all, so they honour any window.
        let (level, bits) = if bits < 9 {
            (0, 9)
        } else {
            (u8::try_from(params.level.min(9)).unwrap_or(9), bits.min(15))
        };
        let context = match params.context_size {
            size if reset || level == 0 || size == 0 => Context::Empty,
            size if size >= MAX_WINDOW => Context::Whole,
            // More than the window could not be referred to.
            size => Context::Recent(Recent::new(size.min(1 << bits))),
        };
        Compressor {
            own: None,
            key: SharedKey {
                bits,
                level,
                memory_level: params.memory_level.clamp(1, 9),
            },
            context,
            reset_each_message: reset,
            in_message: false,
            min_size: params.min_compress_size,
            out: BytesMut::new(),
        }
    }

    /// What this compressor's messages depend on, when they can be shared.
    pub(crate) fn shared_key(&self) -> Option<SharedKey> {
        self.reset_each_message.then_some(self.key)
    }

    /// Compresses `input` as (part of) one message; with `is_last` the sync
    /// flush's tail is removed (§7.2.1) and the context reset if agreed.
    pub(crate) fn compress(&mut self, input: &[u8], is_last: bool) -> BytesMut {
        let out = &mut self.out;
        let whole_message = is_last && !self.in_message;
        match &mut self.context {
            // A whole message from an empty window (RFC 7692 §7.1.1.1:
            // "the server [...] MUST start compressing each new message
            // with an empty LZ77 sliding window"), or from the last bytes
            // sent: nothing of the connection's zlib state is needed, so
            // the thread's compressor does it.
            Context::Empty if whole_message => {
                super::shared::with(self.key, |compress| deflate(compress, input, true, out));
            }
            Context::Recent(recent) if whole_message => {
                super::shared::with(self.key, |compress| {
                    recent.prime(compress);
                    deflate(compress, input, true, out);
                });
                recent.remember(input);
            }
            // A streamed message, or the whole window kept.
            context => {
                let key = self.key;
                let compress = self.own.get_or_insert_with(|| {
                    let mut compress = Box::new(key.compressor());
                    if let Context::Recent(recent) = context {
                        recent.prime(&mut compress);
                    }
                    compress
                });
                deflate(compress, input, is_last, out);
                match context {
                    Context::Empty if is_last => compress.reset(),
                    Context::Recent(recent) => {
                        recent.remember(input);
                        // Whole messages after this one go through the
                        // thread's compressor: this one's window would be
                        // stale for the next streamed message.
                        if is_last {
                            self.own = None;
                        }
                    }
                    _ => {}
                }
            }
        }
        self.in_message = !is_last;
        let message = self.out.split();
        // The rest shares the message's allocation, which the output queue
        // holds until it is written: keep no large scratch space behind it.
        if self.out.capacity() > DEFLATE_STEP {
            self.out = BytesMut::new();
        }
        message
    }

    /// Lets the zlib state go when it has no context to keep (all but
    /// [`Context::Whole`]) and no streamed message is under way. The next
    /// message makes it again (or uses the thread's, see
    /// [`compress`](Self::compress)).
    pub(crate) fn release_idle(&mut self) {
        if !matches!(self.context, Context::Whole) && !self.in_message {
            self.own = None;
        }
        if self.out.is_empty() {
            self.out = BytesMut::new();
        }
    }
}

/// The largest LZ77 window, 2^15 bytes (RFC 7692 §7.1.2.1: window bits
/// 8 to 15): asked to keep this much context or more, a connection keeps a
/// compressor of its own with its whole window (see [`Context::Whole`]).
pub(crate) const MAX_WINDOW: usize = 1 << 15;

/// Output room is added in steps of this as zlib fills it: a message that
/// compresses well never reserves its uncompressed size.
const DEFLATE_STEP: usize = 32 << 10;

/// Compresses `input` with `compress` into `out` as (part of) one message,
/// ending with a sync flush; with `is_last` the flush's tail is removed
/// (RFC 7692 §7.2.1). The context is left as it is (the caller resets it).
fn deflate(compress: &mut Compress, input: &[u8], is_last: bool, out: &mut BytesMut) {
    let mut consumed = 0;
    loop {
        // Room for the input plus the flush markers and block headers
        // (zeroed first: no `unsafe`, so only what zlib may fill).
        let room = (input.len() - consumed + 64).min(DEFLATE_STEP);
        let before_in = compress.total_in();
        let before_out = compress.total_out();
        let len = out.len();
        out.resize(len + room, 0);
        let result =
            compress.compress(&input[consumed..], &mut out[len..], DeflateFlush::SyncFlush);
        let written = moved(before_out, compress.total_out(), room);
        out.truncate(len + written);
        consumed += moved(before_in, compress.total_in(), input.len() - consumed);
        // Done once all input is in and the flush left room to spare.
        if result.is_err() || (consumed == input.len() && written < room) {
            break;
        }
    }
    if is_last {
        if out.ends_with(&TAIL) {
            out.truncate(out.len() - TAIL.len());
        } else if out.is_empty() {
            // Nothing new since the last flush (an empty message, or an
            // empty last fragment), so zlib wrote nothing, not even the
            // empty block. §7.2.1: "If the resulting data does not end
            // with an empty DEFLATE block with no compression [...],
            // append an empty DEFLATE block with no compression", then
            // remove the tail: its first byte is what remains (§7.2.3.6).
            // Sent empty, the receiver's restored tail would start a
            // stored block and swallow the next message.
            out.extend_from_slice(&[0x00]);
        }
    }
}

/// Per frame, what [`max_compressed_len`] allows beyond the data's own
/// bound: a dynamic block header, block framing and the sync flush.
const FRAME_SLACK: u64 = 1 << 10;

/// The largest compressed payload a frame may announce when its message may
/// still grow by `room` bytes once inflated: the message size limit as it
/// applies to a compressed frame, judged from its header alone, before its
/// payload is buffered.
///
/// No bound on a compressed length is exact, since deflate lets a sender
/// pad without limit (an empty block inflates to nothing). This is what a
/// sender that does not pad needs for `n` bytes of message, with room to
/// spare (section numbers of RFC 1951):
///
/// - A stored block (§3.2.4) costs 5 bytes beyond its data (3 header bits
///   padded to a byte, then LEN and NLEN) per at most 65,535 bytes:
///   `n + 5 * ceil(n / 65535)`.
/// - A block with the fixed codes (§3.2.6) spends at most 9 bits on a byte
///   of output: a literal takes 8 or 9 bits; a match of 3 to 10 bytes at
///   most 7 (length code) + 5 (distance code) + 13 (distance extra bits) =
///   25 bits, a longer one at most 8 + 5 + 5 + 13 = 31 bits. So
///   `n + n / 8`, plus 10 bits for the block's header and end-of-block code.
/// - A block with dynamic codes (§3.2.7), Huffman codes built from the
///   block's own symbol counts, spends no more bits on the data than the
///   fixed codes would, plus its code table: at most 5 + 5 + 4 + 19 * 3 +
///   316 * 7 = 2,283 bits, under 300 bytes. zlib (and zlib-rs, which we
///   use) writes whichever of the three block types is smallest, so its
///   output stays within the stored bound.
/// - RFC 7692 §7.2.1: each frame's data ends with a sync flush, an empty
///   stored block of at most 5 bytes (of which the last 4 are removed at
///   the end of a message).
///
/// Hence `n + n / 8` for the data (the fixed-code bound, which covers the
/// stored one beyond a few bytes), plus [`FRAME_SLACK`] (1 KiB) per frame
/// for one dynamic code table, the block framing and the flush. The bound
/// is per frame, against the room the message has left, so a message
/// streamed in many small flushed frames is not held to its total size.
pub(crate) const fn max_compressed_len(room: u64) -> u64 {
    room.saturating_add(room / 8).saturating_add(FRAME_SLACK)
}

/// The window bits and the context reset agreed for what `sender`
/// compresses (RFC 7692 §7.1.1, §7.1.2): its own compressor, or the
/// decompressor of its peer.
fn agreed_for(params: &DeflateParams, sender: Role) -> (u8, bool) {
    match sender {
        Role::Server => (
            params.server_max_window_bits,
            params.server_no_context_takeover,
        ),
        Role::Client => (
            params.client_max_window_bits,
            params.client_no_context_takeover,
        ),
    }
}

/// How far one of zlib's running byte counts moved during one call: never
/// more than the buffer that call was given (`at_most`), so it fits in a
/// `usize`; clamped to it all the same, never cast.
fn moved(before: u64, after: u64, at_most: usize) -> usize {
    usize::try_from(after.saturating_sub(before)).map_or(at_most, |n| n.min(at_most))
}

/// The receiving half: inflates messages into a bounded output.
///
/// Its zlib state (47 KiB with zlib-rs, and the window once used) is made
/// on the first compressed message, and let go by
/// [`release_idle`](Self::release_idle) between messages when the peer
/// resets its context after each one (its `no_context_takeover`): the next
/// message refers to nothing before it.
pub(crate) struct Decompressor {
    /// The zlib state, when made.
    stream: Option<Box<Decompress>>,
    /// The window it is made with.
    bits: u8,
    reset_each_message: bool,
    /// A message was begun and not ended: its context is live.
    in_message: bool,
}

impl core::fmt::Debug for Decompressor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Decompressor")
            .field("bits", &self.bits)
            .field("reset_each_message", &self.reset_each_message)
            .field("allocated", &self.stream.is_some())
            .finish()
    }
}

impl Decompressor {
    pub(crate) fn new(role: Role, params: &DeflateParams) -> Decompressor {
        let (bits, reset) = agreed_for(params, role.peer());
        // A larger window than the sender's decodes the same stream.
        Decompressor {
            stream: None,
            bits: bits.max(9),
            reset_each_message: reset,
            in_message: false,
        }
    }

    /// Lets the zlib state go when no context is live: the peer resets its
    /// context after each message, and none is under way.
    pub(crate) fn release_idle(&mut self) {
        if self.reset_each_message && !self.in_message {
            self.stream = None;
        }
    }

    /// Inflates one frame's payload of a compressed message, appending to
    /// `out` without letting it grow past `limit` bytes (a small message
    /// that inflates past the limit fails while inflating, before the
    /// memory is spent). With `is_last` the removed tail is restored first.
    pub(crate) fn decompress(
        &mut self,
        input: &[u8],
        is_last: bool,
        out: &mut BytesMut,
        limit: u64,
    ) -> Result<(), ProtocolError> {
        let bits = self.bits;
        let stream = self
            .stream
            .get_or_insert_with(|| Box::new(Decompress::new(false, bits)));
        self.in_message = !is_last;
        let ended = inflate(stream, input, out, limit)?;
        if is_last {
            // A message that ended its stream with a final block and nothing
            // after it has no tail to restore: the tail would start a block
            // of the next stream.
            if !ended {
                inflate(stream, &TAIL, out, limit)?;
            }
            if self.reset_each_message {
                stream.reset(false);
            }
        }
        Ok(())
    }
}

/// Inflates `input` into `out` with `stream`; returns whether it ended
/// exactly at the end of a stream (a block with BFINAL set).
fn inflate(
    stream: &mut Decompress,
    mut input: &[u8],
    out: &mut BytesMut,
    limit: u64,
) -> Result<bool, ProtocolError> {
    // Output room per round: from a guess at the ratio, doubling up to
    // STEP while zlib fills it, and never more than one byte past the
    // limit, so a bomb is caught after `limit + 1` bytes. (The room is
    // zeroed first, so it is kept close to what zlib will write.)
    const STEP: usize = 64 << 10;
    let mut step = input.len().saturating_mul(4).clamp(256, STEP);
    loop {
        let len = out.len();
        // What is left under the limit, which may exceed a `usize` on a
        // 32-bit target (then `step` is the smaller anyway).
        let left = usize::try_from(limit.saturating_sub(len as u64)).unwrap_or(usize::MAX);
        let room = left.saturating_add(1).min(step);
        step = (step * 2).min(STEP);
        out.resize(len + room, 0);
        let before_in = stream.total_in();
        let before_out = stream.total_out();
        let status = stream.decompress(input, &mut out[len..], InflateFlush::SyncFlush);
        let written = moved(before_out, stream.total_out(), room);
        out.truncate(len + written);
        input = &input[moved(before_in, stream.total_in(), input.len())..];
        match status {
            Err(_) => return Err(ProtocolError::BadCompressedData),
            Ok(_) if out.len() as u64 > limit => {
                return Err(ProtocolError::MessageTooLarge { max: limit })
            }
            // §7.2.3.4: a sender may end a message with a block with
            // BFINAL set. That ends its stream; what follows (the first
            // byte of the empty stored block §7.2.1 appends, and later
            // messages) is a new stream, checked as strictly.
            Ok(Status::StreamEnd) => {
                stream.reset(false);
                if input.is_empty() {
                    return Ok(true);
                }
            }
            // Input used up and the output had room left: all flushed.
            Ok(Status::Ok | Status::BufError) if input.is_empty() && written < room => {
                return Ok(false)
            }
            Ok(_) if written == 0 && !input.is_empty() && room > 0 => {
                return Err(ProtocolError::BadCompressedData);
            }
            Ok(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extensions::deflate::{DeflateConfig, NAME};
    use crate::handshake::ExtensionOffer;
    use alloc::vec::Vec;

    fn offer(s: &str) -> Vec<ExtensionOffer> {
        ExtensionOffer::parse_list(s).unwrap()
    }

    /// Incompressible bytes (xorshift), deterministic.
    fn noise(len: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x.to_le_bytes()[3]
            })
            .collect()
    }

    #[test]
    fn what_we_compress_stays_within_max_compressed_len() {
        // Incompressible input is the worst case for size: at every level
        // (0 gives stored blocks), window size and length, whole or in
        // flushed pieces, each frame's payload is within the bound for the
        // bytes it inflates to.
        // Memory level 1 makes the most blocks, 8 is zlib's default.
        for (level, memory_level) in [(0, 1), (1, 1), (6, 1), (6, 8), (9, 1), (9, 8)] {
            for bits in [8, 9, 15] {
                let params = DeflateParams {
                    server_no_context_takeover: false,
                    client_no_context_takeover: false,
                    server_max_window_bits: bits,
                    client_max_window_bits: bits,
                    level,
                    memory_level,
                    context_size: usize::MAX,
                    min_compress_size: 0,
                };
                let mut c = Compressor::new(Role::Client, &params);
                for len in [0, 1, 100, 65_535, 65_536, 200_000] {
                    let data = noise(len, len as u64 + u64::from(level));
                    let whole = c.compress(&data, true);
                    assert!(
                        whole.len() as u64 <= max_compressed_len(len as u64),
                        "level {level}, memory level {memory_level}, {bits} bits, {len} bytes: {}",
                        whole.len()
                    );
                    for piece in data.chunks(1000) {
                        let frame = c.compress(piece, false);
                        assert!(frame.len() as u64 <= max_compressed_len(piece.len() as u64));
                    }
                    assert!(c.compress(&[], true).len() as u64 <= max_compressed_len(0));
                }
            }
        }
    }

    #[test]
    fn max_compressed_len_saturates() {
        assert_eq!(max_compressed_len(0), FRAME_SLACK);
        assert_eq!(max_compressed_len(64 << 10), (64 << 10) + (8 << 10) + 1024);
        assert_eq!(max_compressed_len(u64::MAX), u64::MAX);
    }

    #[test]
    fn hello_compresses_to_the_rfc_bytes() {
        // RFC 7692 §7.2.3.1.
        let params = DeflateConfig::default()
            .check_response(&offer(NAME))
            .unwrap()
            .unwrap();
        let mut c = Compressor::new(Role::Server, &params);
        assert_eq!(
            &c.compress(b"Hello", true)[..],
            &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]
        );
        let mut d = Decompressor::new(Role::Client, &params);
        let mut out = BytesMut::new();
        d.decompress(
            &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
            true,
            &mut out,
            100,
        )
        .unwrap();
        assert_eq!(&out[..], b"Hello");
        // §7.2.3.2: the second "Hello" with the context taken over.
        out.clear();
        d.decompress(&[0xf2, 0x00, 0x11, 0x00, 0x00], true, &mut out, 100)
            .unwrap();
        assert_eq!(&out[..], b"Hello");
        // Our compressor's second message also refers back to the first (its
        // bytes differ from the RFC's, which is one valid encoding of many).
        let second = c.compress(b"Hello", true);
        assert!(second.len() < 7, "{second:x?}");
        let mut fresh = Decompressor::new(Role::Client, &params);
        out.clear();
        fresh
            .decompress(
                &[0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00],
                true,
                &mut out,
                100,
            )
            .unwrap();
        out.clear();
        fresh.decompress(&second, true, &mut out, 100).unwrap();
        assert_eq!(&out[..], b"Hello");
    }
}
