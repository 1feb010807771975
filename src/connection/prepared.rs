//! A message encoded once for any number of connections: broadcast.

use bytes::{Bytes, BytesMut};

use crate::event::{MessageKind, Utf8Bytes};
use crate::extensions::PreparedForms;
use crate::frame::{FrameHeader, OpCode, Rsv, MAX_HEADER_LEN};

/// A server message framed once, to be queued on any number of connections
/// without encoding or copying its payload again: chat rooms, price feeds,
/// game state, one message to many.
///
/// [`Connection::send_prepared`](super::Connection::send_prepared) queues
/// the frame by reference (the [`Bytes`] are shared by every connection)
/// on a server connection that sends it as it is: unmasked, unsplit, not
/// compressed. Where the connection must transform the message itself it
/// does so from the shared payload, so a prepared message can be sent to
/// every connection alike:
///
/// - a client masks every frame with a fresh key (RFC 6455 §5.3);
/// - `Config::max_send_frame` below the message's length splits it;
/// - a connection that negotiated permessage-deflate compresses it with
///   its own compressor. With context takeover the compressed bytes depend
///   on what that connection sent before, so they cannot be shared: that
///   is the trade-off of compression for broadcast, CPU and a compressor's
///   memory per connection, in exchange for fewer bytes on the wire.
///   Without it (`server_no_context_takeover`), a message always
///   compresses to the same bytes: `PreparedMessage::compressed_for`
///   (feature `deflate`) compresses it once for every connection that
///   agreed on those parameters.
///
/// ```
/// use wsproto::{Config, Connection, PreparedMessage, Role};
///
/// let update = PreparedMessage::text(r#"{"price": 42}"#);
/// let mut subscribers: Vec<Connection> =
///     (0..3).map(|_| Connection::new(Role::Server, Config::default())).collect();
/// for conn in &mut subscribers {
///     conn.send_prepared(&update).unwrap();
///     assert_eq!(conn.poll_transmit(), Some(update.frame()));
/// }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PreparedMessage {
    kind: MessageKind,
    /// The whole unmasked frame: header and payload.
    frame: Bytes,
    /// Where the payload starts in `frame`.
    payload_at: usize,
    /// What extensions made of it once, for connections that can share it
    /// (filled in by the extensions themselves).
    pub(crate) forms: PreparedForms,
}

impl PreparedMessage {
    /// A text message.
    pub fn text(text: impl Into<Utf8Bytes>) -> PreparedMessage {
        PreparedMessage::new(MessageKind::Text, text.into().as_bytes())
    }

    /// A binary message.
    pub fn binary(data: impl AsRef<[u8]>) -> PreparedMessage {
        PreparedMessage::new(MessageKind::Binary, data.as_ref())
    }

    fn new(kind: MessageKind, payload: &[u8]) -> PreparedMessage {
        let (frame, payload_at) = Self::frame_of(kind, Rsv::NONE, payload);
        PreparedMessage {
            kind,
            frame,
            payload_at,
            forms: PreparedForms::default(),
        }
    }

    /// One final, unmasked frame of `kind` with `rsv` and `payload`, and
    /// where its payload starts.
    pub(crate) fn frame_of(kind: MessageKind, rsv: Rsv, payload: &[u8]) -> (Bytes, usize) {
        let opcode = match kind {
            MessageKind::Text => OpCode::Text,
            MessageKind::Binary => OpCode::Binary,
        };
        let header = FrameHeader {
            rsv,
            ..FrameHeader::new(opcode, payload.len() as u64)
        };
        let mut head = [0; MAX_HEADER_LEN];
        let payload_at = header.encode(&mut head).unwrap_or_default();
        let mut frame = BytesMut::with_capacity(payload_at + payload.len());
        frame.extend_from_slice(&head[..payload_at]);
        frame.extend_from_slice(payload);
        (frame.freeze(), payload_at)
    }

    /// Whether it is text or binary.
    pub fn kind(&self) -> MessageKind {
        self.kind
    }

    /// The payload.
    pub fn payload(&self) -> Bytes {
        self.frame.slice(self.payload_at..)
    }

    /// The whole frame as a server sends it: one unmasked, final frame.
    pub fn frame(&self) -> &[u8] {
        &self.frame
    }

    pub(super) fn frame_bytes(&self) -> &Bytes {
        &self.frame
    }

    /// The payload's length.
    pub(crate) fn payload_len(&self) -> usize {
        self.frame.len() - self.payload_at
    }

    pub(crate) fn forms(&self) -> &PreparedForms {
        &self.forms
    }
}
