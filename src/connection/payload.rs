//! What the send methods take: a payload borrowed for the call (copied
//! once, into the output queue) or held in shared bytes (queued by
//! reference when large, never copied), behind one method per kind.

use alloc::string::String;
use alloc::vec::Vec;
use bytes::{Bytes, BytesMut};

use super::outbound::Payload;
use crate::event::Utf8Bytes;

/// The payload of a text message: `&str`, `String`, or [`Utf8Bytes`]
/// (shared, as received in an [`Event::Text`](crate::Event::Text): echoed
/// without a copy).
pub struct TextPayload<'a>(pub(super) Payload<'a>);

/// The payload of a binary message: `&[u8]`, `Vec<u8>`, [`Bytes`] (shared,
/// as received in an [`Event::Binary`](crate::Event::Binary): echoed
/// without a copy) or `BytesMut`.
pub struct BinaryPayload<'a>(pub(super) Payload<'a>);

impl<'a> From<&'a str> for TextPayload<'a> {
    fn from(text: &'a str) -> Self {
        TextPayload(Payload::Borrowed(text.as_bytes()))
    }
}

impl<'a> From<&'a String> for TextPayload<'a> {
    fn from(text: &'a String) -> Self {
        TextPayload(Payload::Borrowed(text.as_bytes()))
    }
}

impl From<String> for TextPayload<'_> {
    fn from(text: String) -> Self {
        TextPayload(Payload::Shared(Bytes::from(text)))
    }
}

impl From<Utf8Bytes> for TextPayload<'_> {
    fn from(text: Utf8Bytes) -> Self {
        TextPayload(Payload::Shared(text.into_bytes()))
    }
}

impl<'a> From<&'a Utf8Bytes> for TextPayload<'a> {
    fn from(text: &'a Utf8Bytes) -> Self {
        TextPayload(Payload::Shared(text.as_bytes().clone()))
    }
}

impl<'a> From<&'a [u8]> for BinaryPayload<'a> {
    fn from(data: &'a [u8]) -> Self {
        BinaryPayload(Payload::Borrowed(data))
    }
}

impl<'a, const N: usize> From<&'a [u8; N]> for BinaryPayload<'a> {
    fn from(data: &'a [u8; N]) -> Self {
        BinaryPayload(Payload::Borrowed(data))
    }
}

impl<'a> From<&'a Vec<u8>> for BinaryPayload<'a> {
    fn from(data: &'a Vec<u8>) -> Self {
        BinaryPayload(Payload::Borrowed(data))
    }
}

impl From<Vec<u8>> for BinaryPayload<'_> {
    fn from(data: Vec<u8>) -> Self {
        BinaryPayload(Payload::Shared(Bytes::from(data)))
    }
}

impl From<Bytes> for BinaryPayload<'_> {
    fn from(data: Bytes) -> Self {
        BinaryPayload(Payload::Shared(data))
    }
}

impl<'a> From<&'a Bytes> for BinaryPayload<'a> {
    fn from(data: &'a Bytes) -> Self {
        BinaryPayload(Payload::Shared(data.clone()))
    }
}

impl From<BytesMut> for BinaryPayload<'_> {
    fn from(data: BytesMut) -> Self {
        BinaryPayload(Payload::Shared(data.freeze()))
    }
}
