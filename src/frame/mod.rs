//! The frame layer (RFC 6455 §5): header parsing and encoding, a push decoder
//! that borrows payloads from the caller's buffer and unmasks them in place.
//!
//! Nothing here allocates or needs `std`. The connection builds on it, and it
//! stands alone for callers who want frames without the state machine.

mod decode;
mod encode;
mod header;

pub use decode::{Frame, FrameDecoder, DEFAULT_MAX_FRAME_PAYLOAD};
pub use encode::encode_frame;
pub(crate) use header::MAX_ADDRESSABLE_PAYLOAD;
pub use header::{FrameHeader, Rsv, MAX_HEADER_LEN};

/// A frame's opcode (§5.2). The reserved values 3-7 and 11-15 have no
/// variant: the decoder rejects them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum OpCode {
    /// 0x0: continues a fragmented message.
    Continuation = 0x0,
    /// 0x1: the first frame of a text (UTF-8) message.
    Text = 0x1,
    /// 0x2: the first frame of a binary message.
    Binary = 0x2,
    /// 0x8: close (control).
    Close = 0x8,
    /// 0x9: ping (control).
    Ping = 0x9,
    /// 0xA: pong (control).
    Pong = 0xA,
}

impl OpCode {
    /// The opcode for a 4-bit value, or `None` for a reserved one.
    #[inline]
    pub const fn from_u8(value: u8) -> Option<OpCode> {
        Some(match value {
            0x0 => OpCode::Continuation,
            0x1 => OpCode::Text,
            0x2 => OpCode::Binary,
            0x8 => OpCode::Close,
            0x9 => OpCode::Ping,
            0xA => OpCode::Pong,
            _ => return None,
        })
    }

    /// Control frames are those whose opcode has the high bit set (§5.5).
    #[inline]
    pub const fn is_control(self) -> bool {
        (self as u8) & 0x8 != 0
    }
}

/// The result of feeding bytes to a parser: done, or "need more bytes".
///
/// `Partial` is a status, not an error: nothing was consumed, and the caller
/// calls again with the same bytes plus whatever arrives next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status<T> {
    /// A complete item.
    Complete(T),
    /// The input ends before the item does; nothing was consumed.
    Partial,
}

impl<T> Status<T> {
    /// The complete item, if any.
    #[inline]
    pub fn complete(self) -> Option<T> {
        match self {
            Status::Complete(t) => Some(t),
            Status::Partial => None,
        }
    }

    /// Whether more bytes are needed.
    #[inline]
    pub fn is_partial(&self) -> bool {
        matches!(self, Status::Partial)
    }
}
