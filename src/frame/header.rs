//! The frame header: parse and encode side by side (§5.2).

use super::{OpCode, Status};
use crate::error::{BufferTooSmall, ProtocolError};
use crate::role::Role;

/// The longest header: 2 bytes, an 8-byte length and a 4-byte masking key.
pub const MAX_HEADER_LEN: usize = 14;

/// The largest payload length a frame can have on this target, whatever
/// the configured limit: header and payload must fit in one buffer, whose
/// length is a `usize`. On 64-bit targets this is beyond §5.2's largest
/// length (2^63 - 1), so only narrower targets (32-bit: 4 GiB) meet it.
pub(crate) const MAX_ADDRESSABLE_PAYLOAD: u64 = if usize::BITS > u64::BITS {
    u64::MAX
} else {
    (usize::MAX - MAX_HEADER_LEN) as u64
};

/// The three reserved bits of a frame header as `0b0RRR` (RSV1 is `0b100`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Rsv(u8);

impl Rsv {
    /// No bit set.
    pub const NONE: Rsv = Rsv(0);
    /// RSV1, claimed by permessage-deflate (RFC 7692) to mark a compressed message.
    pub const RSV1: Rsv = Rsv(0b100);
    /// RSV2.
    pub const RSV2: Rsv = Rsv(0b010);
    /// RSV3.
    pub const RSV3: Rsv = Rsv(0b001);

    /// The bits from a `0b0RRR` value; higher bits are ignored.
    #[inline]
    pub const fn from_bits(bits: u8) -> Rsv {
        Rsv(bits & 0b111)
    }

    /// The bits as `0b0RRR`.
    #[inline]
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// Both sets of bits.
    #[inline]
    pub const fn union(self, other: Rsv) -> Rsv {
        Rsv(self.0 | other.0)
    }

    /// Whether every bit of `other` is set here.
    #[inline]
    pub const fn contains(self, other: Rsv) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether RSV1 is set.
    #[inline]
    pub const fn rsv1(self) -> bool {
        self.0 & 0b100 != 0
    }
}

/// A frame header (§5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// Whether this is the final fragment of a message.
    pub fin: bool,
    /// The reserved bits.
    pub rsv: Rsv,
    /// The opcode.
    pub opcode: OpCode,
    /// The masking key: present on every client-to-server frame.
    pub mask: Option<[u8; 4]>,
    /// The payload length in bytes (at most 2^63 - 1).
    pub payload_len: u64,
}

impl FrameHeader {
    /// A final, unmasked frame header with no reserved bit.
    pub const fn new(opcode: OpCode, payload_len: u64) -> FrameHeader {
        FrameHeader {
            fin: true,
            rsv: Rsv::NONE,
            opcode,
            mask: None,
            payload_len,
        }
    }

    /// How many bytes [`encode`](Self::encode) writes: 2, plus 2 or 8 for the
    /// extended length, plus 4 for the masking key.
    #[inline]
    pub const fn encoded_len(&self) -> usize {
        let len = if self.payload_len < 126 {
            2
        } else if self.payload_len <= u16::MAX as u64 {
            4
        } else {
            10
        };
        if self.mask.is_some() {
            len + 4
        } else {
            len
        }
    }

    /// Writes the header into `out`, with the minimal length form (§5.2:
    /// "the minimal number of bytes MUST be used to encode the length").
    /// Returns the bytes written, or the size required, writing nothing.
    ///
    /// A payload length of 2^63 or more cannot be represented: it is written
    /// with its most significant bit cleared, so callers must not send one
    /// (no `usize` buffer on a real machine can hold one).
    #[inline]
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, BufferTooSmall> {
        let required = self.encoded_len();
        let Some(out) = out.get_mut(..required) else {
            return Err(BufferTooSmall { required });
        };
        out[0] = (self.fin as u8) << 7 | self.rsv.bits() << 4 | self.opcode as u8;
        let mask_bit = (self.mask.is_some() as u8) << 7;
        let at = if self.payload_len < 126 {
            out[1] = mask_bit | self.payload_len as u8;
            2
        } else if self.payload_len <= u16::MAX as u64 {
            out[1] = mask_bit | 126;
            out[2..4].copy_from_slice(&(self.payload_len as u16).to_be_bytes());
            4
        } else {
            out[1] = mask_bit | 127;
            let len = self.payload_len & (u64::MAX >> 1);
            out[2..10].copy_from_slice(&len.to_be_bytes());
            10
        };
        if let Some(key) = self.mask {
            out[at..at + 4].copy_from_slice(&key);
        }
        Ok(required)
    }

    /// Parses and validates a header at the start of `buf` for an endpoint of
    /// `role`: returns the header and its length, or `Partial`.
    ///
    /// Rules that can be judged from the bytes present are judged at once,
    /// before the rest of the header arrives, so a bad frame fails fast:
    /// reserved opcodes and bits, control frame rules, the masking direction,
    /// the 64-bit length's top bit and the `max_payload` limit (checked from
    /// the header alone, before any payload is buffered). A length this
    /// target cannot address (more than 4 GiB on a 32-bit target) is
    /// [`ProtocolError::FrameTooLarge`] (1009) whatever `max_payload` says,
    /// so that a length is never truncated to fit a `usize`.
    #[inline]
    pub fn parse(
        buf: &[u8],
        role: Role,
        allowed_rsv: Rsv,
        max_payload: u64,
    ) -> Result<Status<(FrameHeader, usize)>, ProtocolError> {
        let (b0, b1) = match buf {
            [b0, b1, ..] => (*b0, *b1),
            [b0] => {
                // Judge what the first byte alone can tell.
                check_first_byte(*b0, allowed_rsv)?;
                return Ok(Status::Partial);
            }
            [] => return Ok(Status::Partial),
        };
        let opcode = check_first_byte(b0, allowed_rsv)?;
        let fin = b0 & 0x80 != 0;
        let masked = b1 & 0x80 != 0;
        let len7 = b1 & 0x7f;

        if opcode.is_control() {
            // §5.5: "All control frames MUST have a payload length of 125
            // bytes or less and MUST NOT be fragmented."
            if !fin {
                return Err(ProtocolError::FragmentedControlFrame);
            }
            if len7 > 125 {
                return Err(ProtocolError::ControlFrameTooLong(len7 as u64));
            }
        }
        match (role, masked) {
            (Role::Server, false) => return Err(ProtocolError::UnmaskedFrame),
            (Role::Client, true) => return Err(ProtocolError::MaskedFrame),
            _ => {}
        }

        let (payload_len, mut at) = match len7 {
            126 => match buf.get(2..4) {
                Some(b) => (u16::from_be_bytes([b[0], b[1]]) as u64, 4),
                None => return Ok(Status::Partial),
            },
            127 => match buf.get(2..10) {
                Some(b) => {
                    let mut be = [0; 8];
                    be.copy_from_slice(b);
                    let len = u64::from_be_bytes(be);
                    if len >> 63 != 0 {
                        return Err(ProtocolError::LengthOverflow);
                    }
                    (len, 10)
                }
                None => return Ok(Status::Partial),
            },
            len => (len as u64, 2),
        };
        let max_payload = max_payload.min(MAX_ADDRESSABLE_PAYLOAD);
        if payload_len > max_payload {
            return Err(ProtocolError::FrameTooLarge {
                len: payload_len,
                max: max_payload,
            });
        }
        let mask = if masked {
            match buf.get(at..at + 4) {
                Some(k) => {
                    at += 4;
                    Some([k[0], k[1], k[2], k[3]])
                }
                None => return Ok(Status::Partial),
            }
        } else {
            None
        };
        let header = FrameHeader {
            fin,
            rsv: Rsv::from_bits(b0 >> 4),
            opcode,
            mask,
            payload_len,
        };
        Ok(Status::Complete((header, at)))
    }
}

/// The checks the first header byte allows: reserved bits and opcode.
#[inline]
fn check_first_byte(b0: u8, allowed_rsv: Rsv) -> Result<OpCode, ProtocolError> {
    let rsv = Rsv::from_bits(b0 >> 4);
    if !allowed_rsv.contains(rsv) {
        return Err(ProtocolError::ReservedBits(rsv.bits()));
    }
    OpCode::from_u8(b0 & 0x0f).ok_or(ProtocolError::ReservedOpcode(b0 & 0x0f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(buf: &[u8], role: Role) -> Result<Status<(FrameHeader, usize)>, ProtocolError> {
        FrameHeader::parse(buf, role, Rsv::NONE, u64::MAX >> 1)
    }

    #[test]
    fn encoded_len_uses_minimal_form() {
        for (len, expected) in [
            (0, 2),
            (125, 2),
            (126, 4),
            (65535, 4),
            (65536, 10),
            (u64::MAX >> 1, 10),
        ] {
            let h = FrameHeader::new(OpCode::Binary, len);
            assert_eq!(h.encoded_len(), expected, "{len}");
            let masked = FrameHeader {
                mask: Some([1, 2, 3, 4]),
                ..h
            };
            assert_eq!(masked.encoded_len(), expected + 4);
        }
    }

    #[test]
    fn encode_reports_required_size_and_writes_nothing() {
        let h = FrameHeader {
            mask: Some([1, 2, 3, 4]),
            ..FrameHeader::new(OpCode::Text, 300)
        };
        let mut out = [0xAA; 7];
        assert_eq!(h.encode(&mut out), Err(BufferTooSmall { required: 8 }));
        assert_eq!(out, [0xAA; 7]);
    }

    #[test]
    fn non_minimal_lengths_are_accepted() {
        // 5 bytes of payload announced with the 16-bit and the 64-bit forms.
        let (h, n) = parse(&[0x82, 126, 0, 5], Role::Client)
            .unwrap()
            .complete()
            .unwrap();
        assert_eq!((h.payload_len, n), (5, 4));
        let (h, n) = parse(&[0x82, 127, 0, 0, 0, 0, 0, 0, 0, 5], Role::Client)
            .unwrap()
            .complete()
            .unwrap();
        assert_eq!((h.payload_len, n), (5, 10));
    }

    #[test]
    fn a_length_beyond_the_address_space_is_too_large_whatever_the_limit() {
        // 2^32 + 5: on a 32-bit target, truncated to a usize it would read
        // as a 5-byte frame and the rest of its payload as frames.
        let len: u64 = (1 << 32) + 5;
        let mut wire = [0x82, 127, 0, 0, 0, 0, 0, 0, 0, 0];
        wire[2..].copy_from_slice(&len.to_be_bytes());
        let parsed = parse(&wire, Role::Client);
        if usize::try_from(len).is_ok() {
            assert_eq!(
                parsed,
                Ok(Status::Complete((
                    FrameHeader::new(OpCode::Binary, len),
                    10
                )))
            );
        } else {
            assert_eq!(
                parsed,
                Err(ProtocolError::FrameTooLarge {
                    len,
                    max: MAX_ADDRESSABLE_PAYLOAD
                })
            );
            assert_eq!(parsed.unwrap_err().close_code().0, 1009);
        }
        // Wherever it is, a whole frame of the largest length fits a usize.
        let whole = usize::try_from(MAX_ADDRESSABLE_PAYLOAD).map(|n| n.checked_add(MAX_HEADER_LEN));
        assert!(matches!(whole, Ok(Some(_))) || usize::BITS > u64::BITS);
    }

    #[test]
    fn every_prefix_of_a_header_is_partial() {
        let mut out = [0; MAX_HEADER_LEN];
        let h = FrameHeader {
            mask: Some([9, 8, 7, 6]),
            ..FrameHeader::new(OpCode::Binary, 70_000)
        };
        let n = h.encode(&mut out).unwrap();
        for cut in 0..n {
            assert_eq!(
                parse(&out[..cut], Role::Server),
                Ok(Status::Partial),
                "cut at {cut}"
            );
        }
        assert_eq!(parse(&out[..n], Role::Server), Ok(Status::Complete((h, n))));
    }
}
