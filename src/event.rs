//! What a connection hands the application.

use bytes::Bytes;
use core::fmt;

use crate::close::CloseCode;

/// Bytes known to be valid UTF-8: a text message's payload, shared with the
/// receive buffer it was split from, so carrying it costs no copy.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct Utf8Bytes(Bytes);

impl Utf8Bytes {
    /// Wraps bytes that the caller has validated, or returns them back.
    pub fn try_from_bytes(bytes: Bytes) -> Result<Utf8Bytes, Bytes> {
        match simdutf8::basic::from_utf8(&bytes) {
            Ok(_) => Ok(Utf8Bytes(bytes)),
            Err(_) => Err(bytes),
        }
    }

    /// Wraps bytes the connection has validated.
    pub(crate) fn from_validated(bytes: Bytes) -> Utf8Bytes {
        debug_assert!(core::str::from_utf8(&bytes).is_ok());
        Utf8Bytes(bytes)
    }

    /// The text. (Without `unsafe` there is no free conversion, so this runs
    /// a SIMD validation pass: many GB/s, far below the cost of receiving.)
    pub fn as_str(&self) -> &str {
        simdutf8::basic::from_utf8(&self.0).unwrap_or_default()
    }

    /// The underlying bytes.
    pub fn as_bytes(&self) -> &Bytes {
        &self.0
    }

    /// The underlying bytes, by value.
    pub fn into_bytes(self) -> Bytes {
        self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<&'static str> for Utf8Bytes {
    fn from(s: &'static str) -> Self {
        Utf8Bytes(Bytes::from_static(s.as_bytes()))
    }
}

impl From<alloc::string::String> for Utf8Bytes {
    fn from(s: alloc::string::String) -> Self {
        Utf8Bytes(Bytes::from(s))
    }
}

impl fmt::Debug for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Utf8Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether a data message is text or binary.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// UTF-8 text (opcode 0x1).
    Text,
    /// Arbitrary bytes (opcode 0x2).
    Binary,
}

/// A close frame's content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseFrame {
    /// The code; [`CloseCode::NO_STATUS`] when the frame carried none.
    pub code: CloseCode,
    /// The reason, possibly empty.
    pub reason: Utf8Bytes,
}

/// Something the peer sent, in the order it arrived.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// A whole text message, validated UTF-8.
    Text(Utf8Bytes),
    /// A whole binary message.
    Binary(Bytes),
    /// A piece of a message, when [`Config::deliver_fragments`](crate::Config::deliver_fragments)
    /// is on: data is delivered as it arrives, possibly part of a frame.
    /// A text piece may end inside a code point; the pieces together are
    /// valid UTF-8 (checked as they arrive).
    Fragment {
        /// Text or binary, as the message's first frame said.
        kind: MessageKind,
        /// The bytes, unmasked (and decompressed).
        data: Bytes,
        /// Whether this piece ends the message.
        is_last: bool,
    },
    /// A ping; with [`Config::auto_pong`](crate::Config::auto_pong) the pong is already queued.
    Ping(Bytes),
    /// A pong (solicited or not: §5.5.3 allows unsolicited pongs).
    Pong(Bytes),
    /// The peer's close frame. The reply, if one is owed, is already queued.
    Close(CloseFrame),
}
