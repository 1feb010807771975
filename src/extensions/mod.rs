//! Extensions (RFC 6455 §9): negotiation, and the one seam through which a
//! connection runs its messages.
//!
//! The handshake only reads and writes the `Sec-WebSocket-Extensions`
//! syntax ([`ExtensionOffer`](crate::handshake::ExtensionOffer)); each
//! extension here decides which offers it can honour and how its data path
//! works. permessage-deflate (RFC 7692) is the one in use on the web.
//!
//! The connection knows no extension by name: it hands each message it
//! sends, and each frame it receives, to the codec of the extensions agreed
//! on, which says which reserved bits mark a transformed message and does
//! the transforming. With no extension built in, that codec is empty and
//! every call on it is the identity.

use bytes::{Bytes, BytesMut};

use crate::error::ProtocolError;
use crate::frame::{FrameHeader, Rsv};

#[cfg(feature = "deflate")]
pub mod deflate;

#[cfg(feature = "deflate")]
use deflate::codec::DeflateCodec;

/// The forms of a prepared message that connections running extensions can
/// share: with permessage-deflate, the message compressed once, for the
/// connections whose compressed output does not depend on what they sent
/// before (no context takeover) and that agreed on the same window and
/// level.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct PreparedForms {
    /// The compressed frame (header and payload) and what it depends on.
    #[cfg(feature = "deflate")]
    pub(crate) deflate: Option<(deflate::codec::SharedKey, Bytes)>,
}

/// The message codec of the extensions a connection runs: the seam between
/// the connection and every extension's data path.
///
/// A message is *transformed* when the first frame's reserved bits say so;
/// its payload goes through the codec on the way out and in. Otherwise it
/// is untouched: no copy and no allocation on its account.
///
/// - Sending: [`encode_message`](Self::encode_message) for a whole message,
///   [`encode_fragment`](Self::encode_fragment) for each streamed piece.
///   Each returns the payload to send and the reserved bits to set on the
///   message's first frame, or `None` to send the bytes as they are.
/// - Receiving: [`rsv`](Self::rsv) once, for the frame decoder to let
///   through (RFC 6455 §5.2: other bits fail the connection); then per
///   frame [`check_header`](Self::check_header) on every header,
///   [`transforms`](Self::transforms) on a message's first,
///   [`max_frame_payload`](Self::max_frame_payload) to bound a frame of a
///   transformed message from its header, and [`decode`](Self::decode) on
///   its payload as it arrives.
/// - Idle: [`release_idle_buffers`](Self::release_idle_buffers).
///
/// A connection starts with the empty codec (`Codec::default()`), which
/// claims no bit and transforms nothing; the handshake installs the one it
/// agreed on before any frame is exchanged.
#[derive(Debug, Default)]
pub(crate) struct Codec {
    /// permessage-deflate, when agreed.
    #[cfg(feature = "deflate")]
    deflate: Option<DeflateCodec>,
}

impl Codec {
    /// A codec running permessage-deflate for `role`'s end, with the
    /// parameters agreed.
    #[cfg(feature = "deflate")]
    pub(crate) fn deflate(role: crate::Role, params: &deflate::DeflateParams) -> Codec {
        Codec {
            deflate: Some(DeflateCodec::new(role, params)),
        }
    }

    /// Whether permessage-deflate is on.
    #[inline]
    pub(crate) fn is_deflate(&self) -> bool {
        #[cfg(feature = "deflate")]
        return self.deflate.is_some();
        #[cfg(not(feature = "deflate"))]
        false
    }

    // ----- send --------------------------------------------------------

    /// What a whole message's payload goes out as: `None` to send it as it
    /// is, or the transformed payload and the reserved bits to set on the
    /// message's first frame. permessage-deflate leaves messages shorter
    /// than its threshold (`min_compress_size`) as they are.
    #[inline]
    pub(crate) fn encode_message(&mut self, payload: &[u8]) -> Option<(Bytes, Rsv)> {
        #[cfg(feature = "deflate")]
        if let Some(deflate) = &mut self.deflate {
            let compressed = deflate.compress_message(payload)?;
            return Some((compressed, DeflateCodec::RSV));
        }
        let _ = payload;
        None
    }

    /// What one piece of a streamed message (`send_fragment`) goes out as,
    /// as for [`encode_message`](Self::encode_message): the reserved bits
    /// go on the first piece's frame only. Whether a streamed message is
    /// transformed is the same for all its pieces: permessage-deflate
    /// compresses every streamed message, whatever its size.
    #[inline]
    pub(crate) fn encode_fragment(&mut self, piece: &[u8], is_last: bool) -> Option<(Bytes, Rsv)> {
        #[cfg(feature = "deflate")]
        if let Some(deflate) = &mut self.deflate {
            return Some((deflate.compress_fragment(piece, is_last), DeflateCodec::RSV));
        }
        let _ = (piece, is_last);
        None
    }

    /// The frame a prepared message goes out as on this connection, shared
    /// with every other connection that sends it the same way: `plain`
    /// when nothing transforms it (no extension, or a message under the
    /// compression threshold), a shared compressed form when one was made
    /// for this connection's parameters, or `None` when the codec must
    /// transform the payload itself (its output depends on this
    /// connection's context).
    #[inline]
    pub(crate) fn prepared_frame<'m>(
        &self,
        plain: &'m Bytes,
        payload_len: usize,
        forms: &'m PreparedForms,
    ) -> Option<&'m Bytes> {
        #[cfg(feature = "deflate")]
        if let Some(deflate) = &self.deflate {
            let (key, min_size) = deflate.shared_key();
            if payload_len < min_size {
                return Some(plain);
            }
            return match (&forms.deflate, key) {
                (Some((made_for, frame)), Some(key)) if *made_for == key => Some(frame),
                _ => None,
            };
        }
        let _ = (payload_len, forms);
        Some(plain)
    }

    // ----- receive -----------------------------------------------------

    /// The reserved bits the extensions give a meaning to, which the frame
    /// decoder lets through. RFC 6455 §5.2: "If a nonzero value is received
    /// and none of the negotiated extensions defines the meaning of such a
    /// nonzero value, the receiving endpoint MUST _Fail the WebSocket
    /// Connection_." Without permessage-deflate, RSV1 stays such an error.
    #[inline]
    pub(crate) fn rsv(&self) -> Rsv {
        #[cfg(feature = "deflate")]
        if self.deflate.is_some() {
            return DeflateCodec::RSV;
        }
        Rsv::NONE
    }

    /// The extensions' rules on where their bits may stand, for every frame
    /// header the decoder let through, before the message sequence is
    /// judged (for permessage-deflate, RFC 7692 §6: no RSV1 on a control
    /// frame or a continuation, `DeflateCodec::check_header`).
    #[inline]
    pub(crate) fn check_header(&self, header: &FrameHeader) -> Result<(), ProtocolError> {
        #[cfg(feature = "deflate")]
        if self.deflate.is_some() {
            return DeflateCodec::check_header(header);
        }
        let _ = header;
        Ok(())
    }

    /// Whether the message whose first frame has `header` is transformed,
    /// so that its payload goes through [`decode`](Self::decode) (for
    /// permessage-deflate: RSV1, a compressed message).
    #[inline]
    pub(crate) fn transforms(&self, header: &FrameHeader) -> bool {
        #[cfg(feature = "deflate")]
        if self.deflate.is_some() {
            return DeflateCodec::is_compressed(header);
        }
        let _ = header;
        false
    }

    /// The most payload a frame of a transformed message may announce when
    /// the message may grow by `room` more bytes once decoded: the message
    /// size limit as it applies to that frame, judged from its header alone,
    /// before its payload is buffered. For permessage-deflate, the most that
    /// `room` bytes take compressed (`max_compressed_len`, derived from
    /// RFC 1951 beside it: `room + room / 8 + 1 KiB`).
    #[inline]
    pub(crate) fn max_frame_payload(&self, room: u64) -> u64 {
        #[cfg(feature = "deflate")]
        if self.deflate.is_some() {
            return deflate::codec::max_compressed_len(room);
        }
        room
    }

    /// One frame's payload (or, when fragments are delivered as they
    /// arrive, a piece of one) of a transformed message, decoded into plain
    /// bytes; `is_last` on the message's last piece. The decoded bytes may
    /// take at most `room` more bytes: a piece that decodes to more fails
    /// with [`ProtocolError::MessageTooLarge`] (whose `max` is then `room`)
    /// while decoding, before the memory is spent (a zip bomb).
    #[inline]
    pub(crate) fn decode(
        &mut self,
        piece: BytesMut,
        is_last: bool,
        room: u64,
    ) -> Result<BytesMut, ProtocolError> {
        #[cfg(feature = "deflate")]
        if let Some(deflate) = &mut self.deflate {
            return deflate.inflate(&piece, is_last, room);
        }
        let _ = (is_last, room);
        Ok(piece)
    }

    // ----- idle --------------------------------------------------------

    /// Frees the scratch buffers that hold nothing, for a connection going
    /// idle, and the extensions' state that has nothing to keep between
    /// messages (a compressor or decompressor without context takeover,
    /// made again on the next message). A context taken over is kept.
    #[inline]
    pub(crate) fn release_idle_buffers(&mut self) {
        #[cfg(feature = "deflate")]
        if let Some(deflate) = &mut self.deflate {
            deflate.release_idle_buffers();
        }
    }
}
