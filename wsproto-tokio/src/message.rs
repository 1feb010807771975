//! The message type of the stream and the sink, shaped like tungstenite's.

use std::fmt;

use bytes::Bytes;
use wsproto::{CloseCode, CloseFrame, Event, Utf8Bytes};

/// A WebSocket message: what the stream yields and what the sink takes.
///
/// The same variants as `tungstenite::Message` (but its `Frame`), with the
/// same payload types (`Utf8Bytes`, `Bytes`), so that code written against
/// tokio-tungstenite changes little; with the `tungstenite` feature the two
/// convert into each other.
///
/// Received payloads are shared with the receive buffer they arrived in:
/// echoing one (`ws.send(msg)`) copies nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A text message, valid UTF-8.
    Text(Utf8Bytes),
    /// A binary message.
    Binary(Bytes),
    /// A ping (at most 125 bytes). The pong for a received one is queued
    /// already; sending one asks the peer for a pong.
    Ping(Bytes),
    /// A pong (at most 125 bytes): received, the answer to a ping; sent,
    /// an unsolicited heartbeat (§5.5.3).
    Pong(Bytes),
    /// A close frame: received, the peer's (`None` when it carried no
    /// code); sent, starts the closing handshake (`None` sends 1000, normal
    /// closure). The reply to a received one is queued already.
    Close(Option<CloseFrame>),
}

impl Message {
    /// A text message.
    pub fn text(text: impl Into<Utf8Bytes>) -> Message {
        Message::Text(text.into())
    }

    /// A binary message.
    pub fn binary(data: impl Into<Bytes>) -> Message {
        Message::Binary(data.into())
    }

    /// A close message with a code and a reason (at most 123 bytes).
    pub fn close(code: CloseCode, reason: impl Into<Utf8Bytes>) -> Message {
        Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }))
    }

    /// Whether this is a text message.
    pub fn is_text(&self) -> bool {
        matches!(self, Message::Text(_))
    }

    /// Whether this is a binary message.
    pub fn is_binary(&self) -> bool {
        matches!(self, Message::Binary(_))
    }

    /// Whether this is a ping.
    pub fn is_ping(&self) -> bool {
        matches!(self, Message::Ping(_))
    }

    /// Whether this is a pong.
    pub fn is_pong(&self) -> bool {
        matches!(self, Message::Pong(_))
    }

    /// Whether this is a close message.
    pub fn is_close(&self) -> bool {
        matches!(self, Message::Close(_))
    }

    /// The payload's length in bytes (a close message's reason).
    pub fn len(&self) -> usize {
        match self {
            Message::Text(text) => text.len(),
            Message::Binary(data) | Message::Ping(data) | Message::Pong(data) => data.len(),
            Message::Close(frame) => frame.as_ref().map_or(0, |f| f.reason.len()),
        }
    }

    /// Whether the payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The payload, as bytes (a close message's reason).
    pub fn into_data(self) -> Bytes {
        match self {
            Message::Text(text) => text.into_bytes(),
            Message::Binary(data) | Message::Ping(data) | Message::Pong(data) => data,
            Message::Close(frame) => frame.map(|f| f.reason.into_bytes()).unwrap_or_default(),
        }
    }

    /// The text of a text message, or of a close message's reason; `None`
    /// for the others (tungstenite's `to_text` would validate the bytes of
    /// a binary message; here that is `std::str::from_utf8(&data)`).
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Message::Text(text) => Some(text.as_str()),
            Message::Close(Some(frame)) => Some(frame.reason.as_str()),
            Message::Close(None) => Some(""),
            _ => None,
        }
    }

    /// The message an event of the core stands for; `None` for a fragment
    /// (the adapter runs the core with whole messages).
    pub(crate) fn from_event(event: Event) -> Option<Message> {
        Some(match event {
            Event::Text(text) => Message::Text(text),
            Event::Binary(data) => Message::Binary(data),
            Event::Ping(data) => Message::Ping(data),
            Event::Pong(data) => Message::Pong(data),
            // §7.1.5: a close frame without a code reads as 1005; as in
            // tungstenite, that is a close message without a frame.
            Event::Close(frame) if frame.code == CloseCode::NO_STATUS => Message::Close(None),
            Event::Close(frame) => Message::Close(Some(frame)),
            _ => return None,
        })
    }
}

impl From<String> for Message {
    fn from(text: String) -> Message {
        Message::Text(text.into())
    }
}

impl From<&'static str> for Message {
    fn from(text: &'static str) -> Message {
        Message::Text(text.into())
    }
}

impl From<Utf8Bytes> for Message {
    fn from(text: Utf8Bytes) -> Message {
        Message::Text(text)
    }
}

impl From<Vec<u8>> for Message {
    fn from(data: Vec<u8>) -> Message {
        Message::Binary(data.into())
    }
}

impl From<Bytes> for Message {
    fn from(data: Bytes) -> Message {
        Message::Binary(data)
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::Text(text) => f.write_str(text.as_str()),
            Message::Binary(data) => write!(f, "<{} bytes>", data.len()),
            Message::Ping(data) => write!(f, "<ping, {} bytes>", data.len()),
            Message::Pong(data) => write!(f, "<pong, {} bytes>", data.len()),
            Message::Close(None) => f.write_str("<close>"),
            Message::Close(Some(frame)) => write!(f, "<close {} {}>", frame.code, frame.reason),
        }
    }
}
