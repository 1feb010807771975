//! permessage-deflate (RFC 7692): negotiation, and the compressor and
//! decompressor a connection uses once it was agreed.
//!
//! # Negotiation
//!
//! A client sends [`DeflateConfig::offer`] and checks the server's answer
//! with [`DeflateConfig::check_response`]; a server picks the first offer it
//! can honour with [`DeflateConfig::negotiate`], declining (no compression)
//! rather than agreeing to something it cannot do. Either way the result is
//! a [`DeflateParams`] for [`Connection::enable_deflate`](crate::Connection::enable_deflate).
//!
//! # Memory
//!
//! A connection that negotiated nothing allocates nothing for compression
//! (`Connection::new` allocates nothing at all). One that did holds a
//! zlib-rs compressor and decompressor, allocated in full by
//! [`Connection::enable_deflate`](crate::Connection::enable_deflate) and
//! not growing with use. Measured with a counting allocator (see
//! `tests/deflate.rs`, and `docs/deflate.md` for the table): the
//! compressor takes 245 KiB at 8 or 9 window bits, 259 KiB at 12 and
//! 371 KiB at 15 (its hash table and pending buffer are fixed, only the
//! window and chain scale with 2^window_bits); the decompressor 47 KiB
//! whatever the window. A connection at 15 bits both ways holds 418 KiB,
//! at 12 bits 306 KiB, at 8 or 9 bits 292 KiB. Receiving then keeps an
//! inflate buffer the size of the largest message seen, as the receive
//! buffer does without compression, and sending keeps at most 32 KiB of
//! compressor output space. A compressed frame is buffered whole before it
//! is inflated (unless fragments are delivered as they arrive), so its
//! length is held from its header to what the rest of the message can
//! take compressed (`max_compressed_len`): the message limit, plus an
//! eighth, plus 1 KiB.

use alloc::boxed::Box;
use alloc::string::ToString;
use alloc::vec::Vec;
use bytes::BytesMut;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

use crate::error::ProtocolError;
use crate::handshake::ExtensionOffer;
use crate::role::Role;

/// The extension's registered name.
pub const NAME: &str = "permessage-deflate";

/// The tail a sync flush ends with, removed by the sender and restored by
/// the receiver (RFC 7692 §7.2.1, §7.2.2).
const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];

/// What an endpoint is willing to negotiate, and how it compresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeflateConfig {
    /// Ask (client) or decide (server) that the server resets its
    /// compression context after each message.
    pub server_no_context_takeover: bool,
    /// Ask (server) or promise (client) that the client resets its
    /// compression context after each message.
    pub client_no_context_takeover: bool,
    /// The largest LZ77 window, as a power of two (8..=15), the server may
    /// use: a client asks for it, a server uses at most this.
    pub server_max_window_bits: u8,
    /// The largest window (8..=15) the client may use: a client offers it
    /// (without a value when 15), a server asks for it when the client
    /// allowed it.
    pub client_max_window_bits: u8,
    /// zlib compression level, 0..=9. Default 1, the fastest level, which
    /// keeps most of the gain on chatty text at a fraction of the CPU.
    pub level: u32,
    /// Messages shorter than this are sent uncompressed (RSV1 clear): the
    /// deflate overhead would outweigh the gain. Default 32 bytes.
    pub min_compress_size: usize,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        DeflateConfig {
            server_no_context_takeover: false,
            client_no_context_takeover: false,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
            level: 1,
            min_compress_size: 32,
        }
    }
}

/// The parameters agreed for one connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeflateParams {
    /// The server resets its compression context after each message.
    pub server_no_context_takeover: bool,
    /// The client resets its compression context after each message.
    pub client_no_context_takeover: bool,
    /// The server's window, 8..=15.
    pub server_max_window_bits: u8,
    /// The client's window, 8..=15.
    pub client_max_window_bits: u8,
    /// The sender's compression level.
    pub level: u32,
    /// The sender's threshold for compressing a message.
    pub min_compress_size: usize,
}

/// Why a server's answer cannot be accepted (RFC 7692 §5: "the client MUST
/// _Fail the WebSocket Connection_").
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeflateNegotiationError {
    /// A parameter the extension does not define.
    #[error("unknown permessage-deflate parameter {0:?}")]
    UnknownParameter(alloc::string::String),
    /// A parameter given twice (§7: "a server MUST decline \[...\] if \[it\]
    /// includes multiple extension parameters with the same name").
    #[error("duplicate permessage-deflate parameter {0:?}")]
    DuplicateParameter(alloc::string::String),
    /// A value that is not what the parameter takes.
    #[error("invalid value for permessage-deflate parameter {0:?}")]
    InvalidValue(alloc::string::String),
    /// §7.1.2.2: the response has `client_max_window_bits` though the offer
    /// did not, or a window larger than the one offered.
    #[error("server answered a window size the client did not allow")]
    WindowNotOffered,
    /// The response names permessage-deflate but the client did not offer it.
    #[error("server accepted permessage-deflate, which was not offered")]
    NotOffered,
}

/// An offer or response, its parameters checked for §7's syntax rules.
#[derive(Default)]
struct Parsed {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: the parameter without a value (client offers only).
    client_max_window_bits: Option<Option<u8>>,
}

impl Parsed {
    fn from(ext: &ExtensionOffer) -> Result<Parsed, DeflateNegotiationError> {
        use DeflateNegotiationError::*;
        let mut parsed = Parsed::default();
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in &ext.params {
            let lower = name.to_ascii_lowercase();
            if seen.iter().any(|s| s.eq_ignore_ascii_case(name)) {
                return Err(DuplicateParameter(lower));
            }
            seen.push(name);
            let bits = |value: &Option<alloc::string::String>| -> Result<Option<u8>, DeflateNegotiationError> {
                match value.as_deref() {
                    None => Ok(None),
                    // §7.1.2.1: "The value [...] MUST be an integer in the
                    // range 8 to 15 inclusive [...] without leading zeros"
                    // (the ABNF is `1*DIGIT`: no sign, which `parse` takes).
                    Some(v)
                        if !v.starts_with('0') && v.bytes().all(|b| b.is_ascii_digit()) =>
                    {
                        match v.parse::<u8>() {
                            Ok(b @ 8..=15) => Ok(Some(b)),
                            _ => Err(InvalidValue(lower.clone())),
                        }
                    }
                    Some(_) => Err(InvalidValue(lower.clone())),
                }
            };
            match lower.as_str() {
                "server_no_context_takeover" | "client_no_context_takeover" => {
                    if value.is_some() {
                        return Err(InvalidValue(lower));
                    }
                    if lower.starts_with("server") {
                        parsed.server_no_context_takeover = true;
                    } else {
                        parsed.client_no_context_takeover = true;
                    }
                }
                "server_max_window_bits" => {
                    parsed.server_max_window_bits =
                        Some(bits(value)?.ok_or_else(|| InvalidValue(lower.clone()))?);
                }
                "client_max_window_bits" => parsed.client_max_window_bits = Some(bits(value)?),
                _ => return Err(UnknownParameter(lower)),
            }
        }
        Ok(parsed)
    }
}

impl DeflateConfig {
    /// The offer a client sends (RFC 7692 §5.1).
    pub fn offer(&self) -> ExtensionOffer {
        let mut offer = ExtensionOffer::new(NAME);
        if self.server_no_context_takeover {
            offer = offer.with_param("server_no_context_takeover", None::<&str>);
        }
        if self.client_no_context_takeover {
            offer = offer.with_param("client_no_context_takeover", None::<&str>);
        }
        if self.server_max_window_bits < 15 {
            offer = offer.with_param(
                "server_max_window_bits",
                Some(self.server_max_window_bits.to_string()),
            );
        }
        // Always allow the server to ask for a smaller client window: any
        // window can be honoured (see `Compressor::new`).
        offer = match self.client_max_window_bits {
            15 => offer.with_param("client_max_window_bits", None::<&str>),
            bits => offer.with_param("client_max_window_bits", Some(bits.to_string())),
        };
        offer
    }

    /// A server's choice among a client's extension offers (RFC 7692 §5.1,
    /// §7.1): the first permessage-deflate offer it can honour, with the
    /// response element to send and the parameters for the connection, or
    /// `None` to connect without compression. Offers with unknown,
    /// duplicate or malformed parameters are declined, as §7 requires.
    pub fn negotiate(&self, offers: &[ExtensionOffer]) -> Option<(ExtensionOffer, DeflateParams)> {
        offers
            .iter()
            .filter(|o| o.name.eq_ignore_ascii_case(NAME))
            .find_map(|offer| self.accept_offer(&Parsed::from(offer).ok()?))
    }

    fn accept_offer(&self, offer: &Parsed) -> Option<(ExtensionOffer, DeflateParams)> {
        let mut response = ExtensionOffer::new(NAME);
        let server_no_context_takeover =
            offer.server_no_context_takeover || self.server_no_context_takeover;
        if server_no_context_takeover {
            response = response.with_param("server_no_context_takeover", None::<&str>);
        }
        let client_no_context_takeover = self.client_no_context_takeover;
        if client_no_context_takeover {
            response = response.with_param("client_no_context_takeover", None::<&str>);
        }
        // §7.1.2.1: with server_max_window_bits in the offer, the server
        // must not use a larger window and says which it uses.
        let server_bits = offer
            .server_max_window_bits
            .unwrap_or(15)
            .min(self.server_max_window_bits);
        if server_bits < 15 || offer.server_max_window_bits.is_some() {
            response = response.with_param("server_max_window_bits", Some(server_bits.to_string()));
        }
        // §7.1.2.2: a client window may be asked for only if the client
        // offered client_max_window_bits, and no larger than its value.
        let client_bits = match offer.client_max_window_bits {
            None => 15,
            Some(offered) => {
                let bits = offered.unwrap_or(15).min(self.client_max_window_bits);
                if bits < 15 || offered.is_some() {
                    response =
                        response.with_param("client_max_window_bits", Some(bits.to_string()));
                }
                bits
            }
        };
        // A client that cannot shrink its window below what we need would
        // have been turned down here; with client_max_window_bits absent it
        // uses 15, and our decompressor takes any window.
        let params = DeflateParams {
            server_no_context_takeover,
            client_no_context_takeover,
            server_max_window_bits: server_bits,
            client_max_window_bits: client_bits,
            level: self.level,
            min_compress_size: self.min_compress_size,
        };
        Some((response, params))
    }

    /// Checks the server's answer to [`offer`](Self::offer) (RFC 7692 §5.1,
    /// §7.1): `Ok(None)` when it declined compression, the parameters to use
    /// otherwise, or why the client must fail the connection.
    pub fn check_response(
        &self,
        accepted: &[ExtensionOffer],
    ) -> Result<Option<DeflateParams>, DeflateNegotiationError> {
        let mut ours = accepted
            .iter()
            .filter(|e| e.name.eq_ignore_ascii_case(NAME));
        let Some(response) = ours.next() else {
            return Ok(None);
        };
        if ours.next().is_some() {
            return Err(DeflateNegotiationError::DuplicateParameter(NAME.into()));
        }
        let parsed = Parsed::from(response)?;
        let server_bits = parsed.server_max_window_bits.unwrap_or(15);
        if server_bits > self.server_max_window_bits {
            return Err(DeflateNegotiationError::WindowNotOffered);
        }
        // §7.1.2.2: without the parameter in the response "the
        // corresponding client can use any LZ77 sliding window size", but
        // a client that offered a value said it "will use an LZ77 sliding
        // window whose size is not bigger than the size specified": its own
        // setting holds.
        let client_bits = match parsed.client_max_window_bits {
            None => self.client_max_window_bits,
            Some(None) => {
                return Err(DeflateNegotiationError::InvalidValue(
                    "client_max_window_bits".into(),
                ))
            }
            Some(Some(bits)) if bits <= self.client_max_window_bits => bits,
            Some(Some(_)) => return Err(DeflateNegotiationError::WindowNotOffered),
        };
        Ok(Some(DeflateParams {
            server_no_context_takeover: parsed.server_no_context_takeover,
            client_no_context_takeover: parsed.client_no_context_takeover
                || self.client_no_context_takeover,
            server_max_window_bits: server_bits,
            client_max_window_bits: client_bits,
            level: self.level,
            min_compress_size: self.min_compress_size,
        }))
    }
}

/// The sending half: compresses whole messages (or streamed pieces).
pub(crate) struct Compressor {
    compress: Box<Compress>,
    reset_each_message: bool,
    pub(crate) min_size: usize,
    out: BytesMut,
}

impl core::fmt::Debug for Compressor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Compressor")
            .field("reset_each_message", &self.reset_each_message)
            .finish()
    }
}

impl Compressor {
    pub(crate) fn new(role: Role, params: &DeflateParams) -> Compressor {
        let (bits, reset) = match role {
            Role::Server => (
                params.server_max_window_bits,
                params.server_no_context_takeover,
            ),
            Role::Client => (
                params.client_max_window_bits,
                params.client_no_context_takeover,
            ),
        };
        // zlib cannot deflate with a 256-byte window (it silently uses 512).
        // Stored blocks never refer back at all, so they honour any window.
        let (level, bits) = if bits < 9 {
            (Compression::none(), 9)
        } else {
            (Compression::new(params.level.min(9)), bits)
        };
        Compressor {
            compress: Box::new(Compress::new_with_window_bits(level, false, bits)),
            reset_each_message: reset,
            min_size: params.min_compress_size,
            out: BytesMut::new(),
        }
    }

    /// Compresses `input` as (part of) one message; with `is_last` the sync
    /// flush's tail is removed (§7.2.1) and the context reset if agreed.
    pub(crate) fn compress(&mut self, input: &[u8], is_last: bool) -> BytesMut {
        // Room is added in steps as zlib fills it: a message that compresses
        // well never reserves its uncompressed size.
        const STEP: usize = 32 << 10;
        let mut consumed = 0;
        loop {
            // Room for the input plus the flush markers and block headers
            // (zeroed first: no `unsafe`, so only what zlib may fill).
            let room = (input.len() - consumed + 64).min(STEP);
            let before_in = self.compress.total_in();
            let before_out = self.compress.total_out();
            let len = self.out.len();
            self.out.resize(len + room, 0);
            let result = self.compress.compress(
                &input[consumed..],
                &mut self.out[len..],
                FlushCompress::Sync,
            );
            let written = moved(before_out, self.compress.total_out(), room);
            self.out.truncate(len + written);
            consumed += moved(before_in, self.compress.total_in(), input.len() - consumed);
            // Done once all input is in and the flush left room to spare.
            if result.is_err() || (consumed == input.len() && written < room) {
                break;
            }
        }
        if is_last {
            if self.out.ends_with(&TAIL) {
                self.out.truncate(self.out.len() - TAIL.len());
            } else if self.out.is_empty() {
                // Nothing new since the last flush (an empty message, or an
                // empty last fragment), so zlib wrote nothing, not even the
                // empty block. §7.2.1: "If the resulting data does not end
                // with an empty DEFLATE block with no compression [...],
                // append an empty DEFLATE block with no compression", then
                // remove the tail: its first byte is what remains (§7.2.3.6).
                // Sent empty, the receiver's restored tail would start a
                // stored block and swallow the next message.
                self.out.extend_from_slice(&[0x00]);
            }
            if self.reset_each_message {
                self.compress.reset();
            }
        }
        let message = self.out.split();
        // The rest shares the message's allocation, which the output queue
        // holds until it is written: keep no large scratch space behind it.
        if self.out.capacity() > STEP {
            self.out = BytesMut::new();
        }
        message
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

/// How far one of zlib's running byte counts moved during one call: never
/// more than the buffer that call was given (`at_most`), so it fits in a
/// `usize`; clamped to it all the same, never cast.
fn moved(before: u64, after: u64, at_most: usize) -> usize {
    usize::try_from(after.saturating_sub(before)).map_or(at_most, |n| n.min(at_most))
}

/// The receiving half: inflates messages into a bounded output.
pub(crate) struct Decompressor {
    decompress: Box<Decompress>,
    reset_each_message: bool,
}

impl core::fmt::Debug for Decompressor {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Decompressor")
            .field("reset_each_message", &self.reset_each_message)
            .finish()
    }
}

impl Decompressor {
    pub(crate) fn new(role: Role, params: &DeflateParams) -> Decompressor {
        let (bits, reset) = match role.peer() {
            Role::Server => (
                params.server_max_window_bits,
                params.server_no_context_takeover,
            ),
            Role::Client => (
                params.client_max_window_bits,
                params.client_no_context_takeover,
            ),
        };
        // A larger window than the sender's decodes the same stream.
        Decompressor {
            decompress: Box::new(Decompress::new_with_window_bits(false, bits.max(9))),
            reset_each_message: reset,
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
        let ended = self.inflate(input, out, limit)?;
        if is_last {
            // A message that ended its stream with a final block and nothing
            // after it has no tail to restore: the tail would start a block
            // of the next stream.
            if !ended {
                self.inflate(&TAIL, out, limit)?;
            }
            if self.reset_each_message {
                self.decompress.reset(false);
            }
        }
        Ok(())
    }

    /// Inflates `input` into `out`; returns whether it ended exactly at
    /// the end of a stream (a block with BFINAL set).
    fn inflate(
        &mut self,
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
            let before_in = self.decompress.total_in();
            let before_out = self.decompress.total_out();
            let status = self
                .decompress
                .decompress(input, &mut out[len..], FlushDecompress::Sync);
            let written = moved(before_out, self.decompress.total_out(), room);
            out.truncate(len + written);
            input = &input[moved(before_in, self.decompress.total_in(), input.len())..];
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
                    self.decompress.reset(false);
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
        for level in [0, 1, 6, 9] {
            for bits in [8, 9, 15] {
                let params = DeflateParams {
                    server_no_context_takeover: false,
                    client_no_context_takeover: false,
                    server_max_window_bits: bits,
                    client_max_window_bits: bits,
                    level,
                    min_compress_size: 0,
                };
                let mut c = Compressor::new(Role::Client, &params);
                for len in [0, 1, 100, 65_535, 65_536, 200_000] {
                    let data = noise(len, len as u64 + u64::from(level));
                    let whole = c.compress(&data, true);
                    assert!(
                        whole.len() as u64 <= max_compressed_len(len as u64),
                        "level {level}, {bits} bits, {len} bytes: {}",
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
