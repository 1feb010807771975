//! Conversions to and from `tungstenite::Message` (feature `tungstenite`),
//! for code that keeps tungstenite's types at its edges during a migration.
//!
//! ```
//! use wsproto_tokio::Message;
//!
//! let ours = Message::text("hello");
//! let theirs: tungstenite::Message = ours.clone().into();
//! assert_eq!(theirs, tungstenite::Message::text("hello"));
//! assert_eq!(Message::try_from(theirs).unwrap(), ours);
//! ```

use bytes::Bytes;
use tungstenite::protocol::frame::coding::CloseCode as TCloseCode;
use wsproto::{CloseCode, CloseFrame, Utf8Bytes};

use crate::Message;

/// A `tungstenite::Message::Frame`: a raw frame has no counterpart here
/// (tungstenite never yields one when reading either).
#[derive(Debug, thiserror::Error)]
#[error("a raw tungstenite frame is not a message")]
pub struct RawFrame(pub tungstenite::protocol::frame::Frame);

fn text_to_ours(text: tungstenite::Utf8Bytes) -> Utf8Bytes {
    // Validated by tungstenite already; validated again (SIMD) to cross
    // the type boundary without `unsafe`.
    Utf8Bytes::try_from_bytes(Bytes::from(text)).unwrap_or_default()
}

fn text_to_theirs(text: Utf8Bytes) -> tungstenite::Utf8Bytes {
    tungstenite::Utf8Bytes::try_from(text.into_bytes()).unwrap_or_default()
}

impl From<Message> for tungstenite::Message {
    fn from(message: Message) -> tungstenite::Message {
        match message {
            Message::Text(text) => tungstenite::Message::Text(text_to_theirs(text)),
            Message::Binary(data) => tungstenite::Message::Binary(data),
            Message::Ping(data) => tungstenite::Message::Ping(data),
            Message::Pong(data) => tungstenite::Message::Pong(data),
            Message::Close(frame) => {
                tungstenite::Message::Close(frame.map(|f| tungstenite::protocol::CloseFrame {
                    code: TCloseCode::from(f.code.0),
                    reason: text_to_theirs(f.reason),
                }))
            }
        }
    }
}

impl TryFrom<tungstenite::Message> for Message {
    type Error = RawFrame;

    fn try_from(message: tungstenite::Message) -> Result<Message, RawFrame> {
        Ok(match message {
            tungstenite::Message::Text(text) => Message::Text(text_to_ours(text)),
            tungstenite::Message::Binary(data) => Message::Binary(data),
            tungstenite::Message::Ping(data) => Message::Ping(data),
            tungstenite::Message::Pong(data) => Message::Pong(data),
            tungstenite::Message::Close(frame) => Message::Close(frame.map(|f| CloseFrame {
                code: CloseCode(u16::from(f.code)),
                reason: text_to_ours(f.reason),
            })),
            tungstenite::Message::Frame(frame) => return Err(RawFrame(frame)),
        })
    }
}
