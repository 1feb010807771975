//! The push decoder: whole frames out of whatever bytes have arrived.

use super::{FrameHeader, Rsv, Status};
use crate::error::ProtocolError;
use crate::mask::apply_mask;
use crate::role::Role;

/// The default limit on one frame's payload: 16 MiB.
///
/// Large enough for every message the Autobahn suite sends in one frame;
/// small enough that a hostile header cannot make a caller reserve much.
pub const DEFAULT_MAX_FRAME_PAYLOAD: u64 = 16 << 20;

/// A decoded frame whose payload, unmasked in place, borrows the caller's buffer.
#[derive(Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The header as it was on the wire (the masking key included).
    pub header: FrameHeader,
    /// The payload, already unmasked.
    pub payload: &'a mut [u8],
    /// How many bytes of the input the frame took: header plus payload.
    pub consumed: usize,
}

/// Decodes frames for one endpoint: knows its role (which masking direction
/// it must see), which reserved bits an extension has claimed, and the
/// largest payload it accepts.
///
/// It holds no buffer and no state between calls: feed it the bytes received
/// so far; it reports [`Status::Partial`] (consuming nothing) until a whole
/// frame is there, whatever the split.
///
/// ```
/// use wsproto::frame::{FrameDecoder, OpCode, Status};
/// use wsproto::Role;
///
/// // RFC 6455 §5.7: a single-frame masked text message, "Hello".
/// let mut wire = [0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58];
/// let decoder = FrameDecoder::new(Role::Server);
/// assert!(decoder.decode(&mut wire[..5]).unwrap().is_partial());
/// let Status::Complete(frame) = decoder.decode(&mut wire).unwrap() else { panic!() };
/// assert_eq!(frame.header.opcode, OpCode::Text);
/// assert_eq!(frame.payload, b"Hello");
/// assert_eq!(frame.consumed, 11);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameDecoder {
    role: Role,
    allowed_rsv: Rsv,
    max_payload: u64,
}

impl FrameDecoder {
    /// A decoder for an endpoint of `role`, with no reserved bit allowed and
    /// the [default payload limit](DEFAULT_MAX_FRAME_PAYLOAD).
    pub const fn new(role: Role) -> FrameDecoder {
        FrameDecoder {
            role,
            allowed_rsv: Rsv::NONE,
            max_payload: DEFAULT_MAX_FRAME_PAYLOAD,
        }
    }

    /// Sets the largest payload accepted, checked from the header alone.
    pub const fn with_max_payload(mut self, max: u64) -> FrameDecoder {
        self.max_payload = max;
        self
    }

    /// Allows reserved bits an extension has claimed (e.g. [`Rsv::RSV1`]).
    pub const fn with_allowed_rsv(mut self, rsv: Rsv) -> FrameDecoder {
        self.allowed_rsv = rsv;
        self
    }

    /// The role this decoder was made for.
    pub const fn role(&self) -> Role {
        self.role
    }

    /// The largest payload accepted.
    pub const fn max_payload(&self) -> u64 {
        self.max_payload
    }

    /// Parses and validates only the header; see [`FrameHeader::parse`].
    #[inline]
    pub fn decode_header(&self, buf: &[u8]) -> Result<Status<(FrameHeader, usize)>, ProtocolError> {
        FrameHeader::parse(buf, self.role, self.allowed_rsv, self.max_payload)
    }

    /// Decodes one whole frame at the start of `buf`, unmasking its payload
    /// in place. Bytes after the frame are left untouched.
    #[inline]
    pub fn decode<'a>(&self, buf: &'a mut [u8]) -> Result<Status<Frame<'a>>, ProtocolError> {
        let (header, header_len) = match self.decode_header(buf)? {
            Status::Complete(h) => h,
            Status::Partial => return Ok(Status::Partial),
        };
        // Within usize, header included: the header parse refused lengths
        // this target cannot address. Checked all the same, never cast.
        let payload_len = usize::try_from(header.payload_len).unwrap_or(usize::MAX);
        let Some(end) = header_len
            .checked_add(payload_len)
            .filter(|&end| end <= buf.len())
        else {
            return Ok(Status::Partial);
        };
        let payload = &mut buf[header_len..end];
        if let Some(key) = header.mask {
            apply_mask(payload, key);
        }
        Ok(Status::Complete(Frame {
            header,
            payload,
            consumed: end,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::OpCode;

    #[test]
    fn length_limit_is_checked_from_the_header_alone() {
        // A header announcing 2^62 bytes with nothing behind it.
        let mut wire = [0x82, 0xff, 0x40, 0, 0, 0, 0, 0, 0, 0];
        let err = FrameDecoder::new(Role::Server)
            .decode(&mut wire)
            .unwrap_err();
        assert_eq!(
            err,
            ProtocolError::FrameTooLarge {
                len: 1 << 62,
                max: DEFAULT_MAX_FRAME_PAYLOAD
            }
        );
    }

    #[test]
    fn trailing_bytes_are_left_alone() {
        let mut wire = [0x89, 0x00, 0x8a, 0x00];
        let d = FrameDecoder::new(Role::Client);
        let frame = d.decode(&mut wire).unwrap().complete().unwrap();
        assert_eq!((frame.header.opcode, frame.consumed), (OpCode::Ping, 2));
    }
}
