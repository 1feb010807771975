//! What [`Connection::poll_event_ref`](crate::Connection::poll_event_ref)
//! hands the application: an event whose payload is lent by the connection
//! rather than owned.
//!
//! An owned [`Event`] shares its payload with the receive buffer through a
//! reference count: one atomic increment when the event is made, one
//! atomic decrement when it is dropped. For a small message those two are
//! a large part of the whole cost of receiving it. A lent payload is the
//! bytes where they lie in the receive buffer, valid until the next call
//! into the connection: nothing is counted, and the buffer is reused in
//! place. The borrow checker holds the caller to that: an [`EventRef`]
//! borrows the connection mutably, so no other call can be made while one
//! is alive.
//!
//! Not every message lies whole in the receive buffer: a fragmented one is
//! reassembled, a compressed one inflated, a control frame's payload kept
//! apart. Those are handed out as the owned event carries them, behind the
//! same types ([`TextRef`], [`BytesRef`]), so a caller writes one match.
//!
//! Text comes as bytes known to be UTF-8 ([`TextRef::as_bytes`]); a `&str`
//! costs a validation pass ([`TextRef::as_str`]), the price of a crate
//! that does not use `unsafe` for it (the owned [`Utf8Bytes`] pays it too).

use bytes::Bytes;
use core::fmt;
use core::ops::Deref;

use crate::event::{CloseFrame, Event, MessageKind, Utf8Bytes};

/// Text lent by the connection, or shared with a buffer it split off
/// (see [`Connection::poll_event_ref`](crate::Connection::poll_event_ref)):
/// bytes known to be valid UTF-8, as [`Utf8Bytes`] holds them.
///
/// [`as_bytes`](Self::as_bytes) is free. [`as_str`](Self::as_str) is not
/// quite: without `unsafe` the one way from bytes to `&str` is a
/// validation pass, so it runs one (as [`Utf8Bytes::as_str`] does). A
/// parser that takes bytes (most JSON parsers do) needs no `&str`.
#[derive(Clone)]
pub struct TextRef<'a>(TextRepr<'a>);

#[derive(Clone)]
enum TextRepr<'a> {
    Lent(&'a [u8]),
    Shared(Utf8Bytes),
}

impl<'a> TextRef<'a> {
    /// Wraps bytes the connection has validated.
    pub(crate) fn lent(text: &'a [u8]) -> TextRef<'a> {
        debug_assert!(core::str::from_utf8(text).is_ok());
        TextRef(TextRepr::Lent(text))
    }

    /// The text's bytes, UTF-8.
    pub fn as_bytes(&self) -> &[u8] {
        match &self.0 {
            TextRepr::Lent(text) => text,
            TextRepr::Shared(text) => text.as_bytes(),
        }
    }

    /// The text (after a validation pass: see the type's docs).
    pub fn as_str(&self) -> &str {
        crate::utf8::as_str(self.as_bytes()).unwrap_or_default()
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    /// Whether the text is empty.
    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }

    /// The text as an owned value: a copy if it is lent, another handle on
    /// the shared bytes if not.
    pub fn to_utf8_bytes(&self) -> Utf8Bytes {
        match &self.0 {
            TextRepr::Lent(text) => Utf8Bytes::from_validated(Bytes::copy_from_slice(text)),
            TextRepr::Shared(text) => text.clone(),
        }
    }

    fn into_utf8_bytes(self) -> Utf8Bytes {
        match self.0 {
            TextRepr::Shared(text) => text,
            TextRepr::Lent(_) => self.to_utf8_bytes(),
        }
    }
}

impl PartialEq for TextRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for TextRef<'_> {}

impl PartialEq<str> for TextRef<'_> {
    fn eq(&self, other: &str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl PartialEq<&str> for TextRef<'_> {
    fn eq(&self, other: &&str) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl fmt::Debug for TextRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for TextRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Bytes lent by the connection, or shared with a buffer it split off
/// (see [`Connection::poll_event_ref`](crate::Connection::poll_event_ref));
/// dereferences to `&[u8]`.
#[derive(Clone)]
pub struct BytesRef<'a>(BytesRepr<'a>);

#[derive(Clone)]
enum BytesRepr<'a> {
    Lent(&'a [u8]),
    Shared(Bytes),
}

impl<'a> BytesRef<'a> {
    pub(crate) fn lent(bytes: &'a [u8]) -> BytesRef<'a> {
        BytesRef(BytesRepr::Lent(bytes))
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        match &self.0 {
            BytesRepr::Lent(bytes) => bytes,
            BytesRepr::Shared(bytes) => bytes,
        }
    }

    /// The bytes as an owned value: a copy if they are lent, another
    /// handle on the shared bytes if not.
    pub fn to_bytes(&self) -> Bytes {
        match &self.0 {
            BytesRepr::Lent(bytes) => Bytes::copy_from_slice(bytes),
            BytesRepr::Shared(bytes) => bytes.clone(),
        }
    }

    fn into_bytes(self) -> Bytes {
        match self.0 {
            BytesRepr::Shared(bytes) => bytes,
            BytesRepr::Lent(bytes) => Bytes::copy_from_slice(bytes),
        }
    }
}

impl Deref for BytesRef<'_> {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl PartialEq for BytesRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for BytesRef<'_> {}

impl PartialEq<[u8]> for BytesRef<'_> {
    fn eq(&self, other: &[u8]) -> bool {
        self.as_slice() == other
    }
}

impl fmt::Debug for BytesRef<'_> {
    /// As [`Bytes`] prints: a byte string, `b"..."`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("b\"")?;
        for &b in self.as_slice() {
            match b {
                b'\n' => f.write_str("\\n")?,
                b'\r' => f.write_str("\\r")?,
                b'\t' => f.write_str("\\t")?,
                b'\\' | b'"' => write!(f, "\\{}", b as char)?,
                b'\0' => f.write_str("\\0")?,
                0x20..=0x7e => write!(f, "{}", b as char)?,
                _ => write!(f, "\\x{b:02x}")?,
            }
        }
        f.write_str("\"")
    }
}

/// Something the peer sent, in the order it arrived, its payload lent by
/// the connection until the next call into it: what
/// [`Connection::poll_event_ref`](crate::Connection::poll_event_ref)
/// returns. The variants are those of [`Event`], and mean the same.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventRef<'a> {
    /// A whole text message, validated UTF-8.
    Text(TextRef<'a>),
    /// A whole binary message.
    Binary(BytesRef<'a>),
    /// A piece of a message, when
    /// [`Config::deliver_fragments`](crate::Config::deliver_fragments) is
    /// on (see [`Event::Fragment`]).
    Fragment {
        /// Text or binary, as the message's first frame said.
        kind: MessageKind,
        /// The bytes, unmasked (and decompressed).
        data: BytesRef<'a>,
        /// Whether this piece ends the message.
        is_last: bool,
    },
    /// A ping; with [`Config::auto_pong`](crate::Config::auto_pong) the pong is already queued.
    Ping(BytesRef<'a>),
    /// A pong.
    Pong(BytesRef<'a>),
    /// The peer's close frame. The reply, if one is owed, is already queued.
    Close(CloseFrame),
}

impl EventRef<'_> {
    /// The event as [`Connection::poll_event`](crate::Connection::poll_event)
    /// would have returned it: lent payloads are copied.
    pub fn into_owned(self) -> Event {
        match self {
            EventRef::Text(text) => Event::Text(text.into_utf8_bytes()),
            EventRef::Binary(data) => Event::Binary(data.into_bytes()),
            EventRef::Fragment {
                kind,
                data,
                is_last,
            } => Event::Fragment {
                kind,
                data: data.into_bytes(),
                is_last,
            },
            EventRef::Ping(data) => Event::Ping(data.into_bytes()),
            EventRef::Pong(data) => Event::Pong(data.into_bytes()),
            EventRef::Close(frame) => Event::Close(frame),
        }
    }
}

impl From<Event> for EventRef<'static> {
    /// An owned event behind the lent event's types: its payload is shared,
    /// not copied.
    fn from(event: Event) -> Self {
        let shared = |bytes| BytesRef(BytesRepr::Shared(bytes));
        match event {
            Event::Text(text) => EventRef::Text(TextRef(TextRepr::Shared(text))),
            Event::Binary(data) => EventRef::Binary(shared(data)),
            Event::Fragment {
                kind,
                data,
                is_last,
            } => EventRef::Fragment {
                kind,
                data: shared(data),
                is_last,
            },
            Event::Ping(data) => EventRef::Ping(shared(data)),
            Event::Pong(data) => EventRef::Pong(shared(data)),
            Event::Close(frame) => EventRef::Close(frame),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    #[test]
    fn lent_and_shared_payloads_compare_and_print_alike() {
        let lent = TextRef::lent("héllo".as_bytes());
        let shared = TextRef(TextRepr::Shared(Utf8Bytes::from("héllo")));
        assert_eq!(lent, shared);
        assert_eq!(lent.as_str(), "héllo");
        assert_eq!(shared.as_str(), "héllo");
        assert_eq!(format!("{lent:?}"), format!("{shared:?}"));
        assert_eq!(lent.to_utf8_bytes(), Utf8Bytes::from("héllo"));

        let raw = b"a\"\\\n\x00\xff z";
        let lent = BytesRef::lent(raw);
        let shared = BytesRef(BytesRepr::Shared(Bytes::from_static(raw)));
        assert_eq!(lent, shared);
        assert_eq!(
            format!("{lent:?}"),
            format!("{:?}", Bytes::from_static(raw))
        );
        assert_eq!(lent.to_bytes(), Bytes::from_static(raw));
    }

    #[test]
    fn into_owned_gives_back_the_owned_event() {
        let events = [
            Event::Text(Utf8Bytes::from("text")),
            Event::Binary(Bytes::from_static(b"\x00\x01")),
            Event::Fragment {
                kind: MessageKind::Text,
                data: Bytes::from_static(b"piece"),
                is_last: true,
            },
            Event::Ping(Bytes::from_static(b"ping")),
            Event::Pong(Bytes::new()),
            Event::Close(CloseFrame {
                code: crate::CloseCode::NORMAL,
                reason: Utf8Bytes::from("bye"),
            }),
        ];
        for event in events {
            assert_eq!(EventRef::from(event.clone()).into_owned(), event);
        }
        assert_eq!(
            EventRef::Binary(BytesRef::lent(b"lent")).into_owned(),
            Event::Binary(Bytes::from_static(b"lent"))
        );
    }
}
