//! Errors, typed by who is at fault, each mapped to its close code in one place.

use crate::close::CloseCode;

/// The peer broke a rule of RFC 6455 (or of a negotiated extension).
///
/// Every variant maps to the close code §7.4.1 prescribes through
/// [`ProtocolError::close_code`]; a connection that meets one *fails*
/// (§7.1.7): it queues a close frame with that code and ignores further input.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtocolError {
    /// §5.2: opcodes 3-7 and 11-15 are reserved; "If an unknown opcode is
    /// received, the receiving endpoint MUST _Fail the WebSocket Connection_."
    #[error("reserved opcode {0:#x}")]
    ReservedOpcode(u8),
    /// §5.2: "RSV1, RSV2, RSV3: MUST be 0 unless an extension is negotiated
    /// that defines meanings for non-zero values." The bits as `0b0RRR`.
    #[error("reserved bits {0:#05b} set without an extension that defines them")]
    ReservedBits(u8),
    /// §5.5: "All control frames MUST have a payload length of 125 bytes or
    /// less and MUST NOT be fragmented."
    #[error("fragmented control frame")]
    FragmentedControlFrame,
    /// §5.5: a control frame announced more than 125 bytes of payload.
    #[error("control frame payload of {0} bytes (at most 125)")]
    ControlFrameTooLong(u64),
    /// §5.1: "The server MUST close the connection upon receiving a frame
    /// that is not masked."
    #[error("unmasked frame from a client")]
    UnmaskedFrame,
    /// §5.1: "A client MUST close a connection if it detects a masked frame."
    #[error("masked frame from a server")]
    MaskedFrame,
    /// §5.2: with the 64-bit length, "the most significant bit MUST be 0".
    #[error("64-bit payload length with its most significant bit set")]
    LengthOverflow,
    /// A frame announced a payload larger than the configured maximum.
    #[error("frame payload of {len} bytes exceeds the limit of {max}")]
    FrameTooLarge {
        /// The announced payload length.
        len: u64,
        /// The configured limit.
        max: u64,
    },
    /// §5.4: a continuation frame arrived with no fragmented message open.
    #[error("continuation frame without a message to continue")]
    UnexpectedContinuation,
    /// §5.4: a new text or binary frame arrived inside a fragmented message.
    #[error("new data frame inside a fragmented message")]
    ExpectedContinuation,
    /// A message grew past the configured maximum message size.
    #[error("message exceeds the limit of {max} bytes")]
    MessageTooLarge {
        /// The configured limit.
        max: u64,
    },
    /// A fragmented message had more frames than the configured maximum.
    #[error("message has more than {max} fragments")]
    TooManyFragments {
        /// The configured limit.
        max: u32,
    },
    /// §8.1: a text message (or close reason) was not valid UTF-8.
    #[error("invalid UTF-8 in a text message")]
    InvalidUtf8,
    /// §5.5.1: a close frame body of one byte cannot hold the 2-byte code.
    #[error("close frame payload of one byte")]
    ClosePayloadTooShort,
    /// §7.4: a close code that must not appear on the wire.
    #[error("close code {0} is not allowed on the wire")]
    InvalidCloseCode(u16),
    /// §5.5.1: the close reason was not valid UTF-8.
    #[error("close reason is not valid UTF-8")]
    InvalidCloseReason,
    /// RFC 7692 §6: RSV1 set on a control or continuation frame, where
    /// permessage-deflate gives it no meaning.
    #[error("RSV1 set on a control or continuation frame")]
    CompressedControlOrContinuation,
    /// RFC 7692 §6.2: the compressed payload could not be inflated.
    #[error("compressed payload could not be decompressed")]
    BadCompressedData,
}

impl ProtocolError {
    /// The close code to send when failing the connection for this error
    /// (RFC 6455 §7.4.1).
    pub const fn close_code(&self) -> CloseCode {
        use ProtocolError::*;
        match self {
            FrameTooLarge { .. } | MessageTooLarge { .. } | TooManyFragments { .. } => {
                CloseCode::MESSAGE_TOO_BIG
            }
            InvalidUtf8 | InvalidCloseReason | BadCompressedData => CloseCode::INVALID_PAYLOAD,
            ReservedOpcode(_)
            | ReservedBits(_)
            | FragmentedControlFrame
            | ControlFrameTooLong(_)
            | UnmaskedFrame
            | MaskedFrame
            | LengthOverflow
            | UnexpectedContinuation
            | ExpectedContinuation
            | ClosePayloadTooShort
            | InvalidCloseCode(_)
            | CompressedControlOrContinuation => CloseCode::PROTOCOL_ERROR,
        }
    }
}

/// An output buffer was too small: nothing was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("output buffer too small: {required} bytes required")]
pub struct BufferTooSmall {
    /// The number of bytes the whole write needs.
    pub required: usize,
}
