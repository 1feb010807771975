//! The receive path: frames out of the receive buffer, fragments into
//! messages, every data rule of §5.4 and §8.1 checked on the way.
//!
//! It knows nothing of the close handshake or of output: it hands control
//! frames up to the connection, which owns those.

use bytes::{Buf, Bytes, BytesMut};

use crate::config::Config;
use crate::error::ProtocolError;
use crate::event::{Event, MessageKind, Utf8Bytes};
use crate::extensions::Codec;
use crate::frame::{FrameDecoder, FrameHeader, OpCode, Rsv, Status};
use crate::mask::apply_mask_at;
use crate::role::Role;
use crate::utf8::Utf8Validator;

/// Unmasks `payload` (bytes from `offset` on in their frame), checking it
/// as UTF-8 with `validator` when given, in pieces small enough to stay in
/// the L1 cache between the two passes.
fn unmask_checking(
    payload: &mut [u8],
    mask: Option<[u8; 4]>,
    offset: usize,
    mut validator: Option<&mut Utf8Validator>,
) -> Result<(), ProtocolError> {
    const PIECE: usize = 8 << 10;
    let mut at = offset;
    for piece in payload.chunks_mut(PIECE) {
        if let Some(key) = mask {
            apply_mask_at(piece, key, at as u64);
        }
        if let Some(validator) = validator.as_deref_mut() {
            validator
                .feed(piece)
                .map_err(|_| ProtocolError::InvalidUtf8)?;
        }
        at += piece.len();
    }
    Ok(())
}

/// The bytes a frame takes in the receive buffer, header included. The
/// header parse refused lengths this target cannot address (a 64-bit length
/// on a 32-bit target); should one get here, it is too big all the same
/// (1009), never truncated.
fn frame_len(header_len: usize, payload_len: u64) -> Result<usize, ProtocolError> {
    usize::try_from(payload_len)
        .ok()
        .and_then(|len| len.checked_add(header_len))
        .ok_or(ProtocolError::FrameTooLarge {
            len: payload_len,
            max: crate::frame::MAX_ADDRESSABLE_PAYLOAD,
        })
}

/// What the receive path produced.
#[derive(Debug)]
pub(crate) enum Received {
    /// A data event: a whole message or, when streaming, a piece of one.
    Data(Event),
    /// A ping's payload.
    Ping(Bytes),
    /// A pong's payload.
    Pong(Bytes),
    /// A close frame's raw payload.
    Close(Bytes),
}

/// The message being received.
#[derive(Debug)]
struct Message {
    kind: MessageKind,
    /// The first frame's reserved bits marked it as transformed by the
    /// codec (permessage-deflate: compressed), so its payload is decoded.
    transformed: bool,
    frames: u32,
    len: u64,
    utf8: Utf8Validator,
}

/// Where the receive path stands in the frame at the head of the buffer:
/// one state for the three ways a frame is received.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Receiving {
    /// At a frame boundary: the next bytes are a header.
    Header,
    /// A data frame whose header is at the head of the buffer and whose
    /// payload is still arriving, to be delivered whole: it has been
    /// accounted for, and its first `checked` payload bytes are unmasked
    /// and UTF-8-checked already (§8.1: invalid text fails at the first bad
    /// byte, not when the frame ends).
    Arriving { checked: usize },
    /// Fragment delivery: the header is consumed and the payload is handed
    /// up as it arrives, `received` bytes so far.
    Streaming { header: FrameHeader, received: u64 },
}

#[derive(Debug)]
pub(crate) struct Inbound {
    /// Bytes received and not yet decoded.
    pub(crate) rx: BytesMut,
    decoder: FrameDecoder,
    message: Option<Message>,
    receiving: Receiving,
    /// Fragments of the current message, when reassembling.
    assembly: BytesMut,
    max_message_size: u64,
    max_fragments: u32,
    deliver_fragments: bool,
}

/// A receive buffer left this large and empty after a big message is
/// released, so an idle connection does not keep a big allocation.
const KEEP_CAPACITY: usize = 64 << 10;

impl Inbound {
    pub(crate) fn new(role: Role, config: &Config) -> Inbound {
        Inbound {
            rx: BytesMut::new(),
            decoder: FrameDecoder::new(role).with_max_payload(config.max_frame_payload),
            message: None,
            receiving: Receiving::Header,
            assembly: BytesMut::new(),
            max_message_size: config.max_message_size,
            max_fragments: config.max_fragments,
            deliver_fragments: config.deliver_fragments,
        }
    }

    /// Lets the extensions' codec claim reserved bits.
    pub(crate) fn allow_rsv(&mut self, rsv: Rsv) {
        self.decoder = self.decoder.with_allowed_rsv(rsv);
    }

    /// Drops everything buffered: after a failure or a received close.
    pub(crate) fn discard(&mut self) {
        self.rx = BytesMut::new();
        self.assembly = BytesMut::new();
        self.message = None;
        self.receiving = Receiving::Header;
    }

    /// Frees the buffers that hold nothing, for a connection going idle.
    pub(crate) fn release_idle_buffers(&mut self) {
        if self.rx.is_empty() {
            self.rx = BytesMut::new();
        }
        if self.assembly.is_empty() {
            self.assembly = BytesMut::new();
        }
    }

    /// Decodes the next item from the receive buffer, or `None` when more
    /// bytes are needed; the payloads of transformed messages go through
    /// `codec`.
    pub(crate) fn next(&mut self, codec: &mut Codec) -> Result<Option<Received>, ProtocolError> {
        loop {
            if let Receiving::Streaming { header, received } = self.receiving {
                if self.rx.is_empty() {
                    return Ok(None);
                }
                let left = header.payload_len - received;
                let take =
                    usize::try_from(left).map_or(self.rx.len(), |left| left.min(self.rx.len()));
                let mut piece = self.rx.split_to(take);
                if let Some(key) = header.mask {
                    apply_mask_at(&mut piece, key, received);
                }
                let received = received + take as u64;
                let frame_done = received == header.payload_len;
                self.receiving = if frame_done {
                    Receiving::Header
                } else {
                    Receiving::Streaming { header, received }
                };
                if let Some(event) = self.data(piece, header.fin && frame_done, 0, codec)? {
                    return Ok(Some(Received::Data(event)));
                }
                continue;
            }

            let (header, header_len) = match self.decoder.decode_header(&self.rx)? {
                Status::Complete(h) => h,
                Status::Partial => return Ok(None),
            };
            let arriving = match self.receiving {
                Receiving::Arriving { checked } => Some(checked),
                _ => None,
            };
            if arriving.is_none() {
                self.check_sequence(&header, codec)?;
            }
            let total = frame_len(header_len, header.payload_len)?;
            if self.rx.len() < total {
                if self.deliver_fragments && !header.opcode.is_control() {
                    self.rx.advance(header_len);
                    self.start_frame(&header, codec)?;
                    self.receiving = Receiving::Streaming {
                        header,
                        received: 0,
                    };
                    continue;
                }
                if !header.opcode.is_control() {
                    self.check_early(&header, header_len, codec)?;
                }
                self.rx.reserve(total - self.rx.len());
                return Ok(None);
            }
            let started = arriving.is_some();
            let checked = arriving.unwrap_or(0);
            self.receiving = Receiving::Header;
            let mut payload = self.rx.split_to(total);
            payload.advance(header_len);
            self.release_rx();
            let control = |opcode, mut payload: BytesMut| {
                if let Some(key) = header.mask {
                    crate::mask::apply_mask(&mut payload, key);
                }
                Ok(Some(match opcode {
                    OpCode::Ping => Received::Ping(payload.freeze()),
                    OpCode::Pong => Received::Pong(payload.freeze()),
                    _ => Received::Close(payload.freeze()),
                }))
            };
            match header.opcode {
                OpCode::Ping | OpCode::Pong | OpCode::Close => {
                    return control(header.opcode, payload)
                }
                OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                    if !started {
                        self.start_frame(&header, codec)?;
                    }
                    let validator = self.text_validator();
                    unmask_checking(&mut payload[checked..], header.mask, checked, validator)?;
                    let checked = if self.text_validator().is_some() {
                        payload.len()
                    } else {
                        checked
                    };
                    if let Some(event) = self.data(payload, header.fin, checked, codec)? {
                        return Ok(Some(Received::Data(event)));
                    }
                }
            }
        }
    }

    /// The §5.4 sequencing rules and the size limit, judged from a header
    /// before its payload is waited for, so a bad frame fails fast.
    fn check_sequence(&self, header: &FrameHeader, codec: &Codec) -> Result<(), ProtocolError> {
        // The reserved bits the decoder let through are the codec's; where
        // they may stand is its rule (RFC 7692 §6 for permessage-deflate).
        codec.check_header(header)?;
        if header.opcode.is_control() {
            return Ok(());
        }
        let so_far = match (&self.message, header.opcode) {
            // §5.4: "fragments of one message MUST NOT be interleaved
            // between the fragments of another message"
            (Some(_), OpCode::Text | OpCode::Binary) => {
                return Err(ProtocolError::ExpectedContinuation)
            }
            (None, OpCode::Continuation) => return Err(ProtocolError::UnexpectedContinuation),
            (Some(m), _) => m.len,
            (None, _) => 0,
        };
        // The size limit, from the header, before the payload is waited
        // for. A transformed frame's decoded size is checked as it is
        // decoded, but the frame is buffered whole first: its own length
        // is held to what the room left can take encoded.
        let room = self.max_message_size.saturating_sub(so_far);
        let transformed = match &self.message {
            Some(message) => message.transformed,
            None => codec.transforms(header),
        };
        let allowance = if transformed {
            codec.max_frame_payload(room)
        } else {
            room
        };
        if header.payload_len > allowance {
            return Err(ProtocolError::MessageTooLarge {
                max: self.max_message_size,
            });
        }
        Ok(())
    }

    /// Accounts for a data frame whose header has been accepted.
    fn start_frame(&mut self, header: &FrameHeader, codec: &Codec) -> Result<(), ProtocolError> {
        match &mut self.message {
            Some(message) => {
                message.frames += 1;
                if message.frames > self.max_fragments {
                    return Err(ProtocolError::TooManyFragments {
                        max: self.max_fragments,
                    });
                }
            }
            None => {
                let kind = if header.opcode == OpCode::Text {
                    MessageKind::Text
                } else {
                    MessageKind::Binary
                };
                self.message = Some(Message {
                    kind,
                    transformed: codec.transforms(header),
                    frames: 1,
                    len: 0,
                    utf8: Utf8Validator::new(),
                });
            }
        }
        Ok(())
    }

    /// Works on a data frame whose payload is still arriving: accounts for
    /// it once, and unmasks and UTF-8-checks the text that is there, so
    /// invalid text fails at the first bad byte even inside one frame
    /// (§8.1), without waiting for the frame to end.
    fn check_early(
        &mut self,
        header: &FrameHeader,
        header_len: usize,
        codec: &Codec,
    ) -> Result<(), ProtocolError> {
        let checked = match self.receiving {
            Receiving::Arriving { checked } => checked,
            _ => {
                self.start_frame(header, codec)?;
                0
            }
        };
        let arrived = self.rx.len() - header_len;
        self.receiving = Receiving::Arriving { checked };
        let validator = match &mut self.message {
            Some(m) if m.kind == MessageKind::Text && !m.transformed => &mut m.utf8,
            _ => return Ok(()),
        };
        unmask_checking(
            &mut self.rx[header_len + checked..],
            header.mask,
            checked,
            Some(validator),
        )?;
        self.receiving = Receiving::Arriving { checked: arrived };
        Ok(())
    }

    /// The validator of the message being received, when its payload is
    /// text to check as it is unmasked (not transformed: that is checked
    /// once decoded).
    fn text_validator(&mut self) -> Option<&mut Utf8Validator> {
        match &mut self.message {
            Some(m) if m.kind == MessageKind::Text && !m.transformed => Some(&mut m.utf8),
            _ => None,
        }
    }

    /// Takes a piece of the current message's payload, the first `checked`
    /// bytes of which were UTF-8-checked already (decoded by `codec` first
    /// when the message is transformed); returns an event when one is due.
    fn data(
        &mut self,
        piece: BytesMut,
        is_last: bool,
        checked: usize,
        codec: &mut Codec,
    ) -> Result<Option<Event>, ProtocolError> {
        let Some(message) = &mut self.message else {
            return Ok(None);
        };
        let piece = if message.transformed {
            let room = self.max_message_size - message.len;
            let max = self.max_message_size;
            // Decoding past the room left is past the message limit.
            codec.decode(piece, is_last, room).map_err(|e| match e {
                ProtocolError::MessageTooLarge { .. } => ProtocolError::MessageTooLarge { max },
                e => e,
            })?
        } else {
            piece
        };
        message.len += piece.len() as u64;
        if message.len > self.max_message_size {
            return Err(ProtocolError::MessageTooLarge {
                max: self.max_message_size,
            });
        }
        let kind = message.kind;
        if kind == MessageKind::Text {
            let unchecked = &piece[checked.min(piece.len())..];
            let valid = if is_last {
                message.utf8.finish(unchecked)
            } else {
                message.utf8.feed(unchecked)
            };
            valid.map_err(|_| ProtocolError::InvalidUtf8)?;
        }
        let single_frame = message.frames == 1;
        if is_last {
            self.message = None;
        }
        if self.deliver_fragments {
            return Ok(Some(Event::Fragment {
                kind,
                data: piece.freeze(),
                is_last,
            }));
        }
        if !is_last {
            self.assembly.extend_from_slice(&piece);
            return Ok(None);
        }
        let whole = if single_frame {
            piece.freeze()
        } else {
            self.assembly.extend_from_slice(&piece);
            let whole = self.assembly.split().freeze();
            if self.assembly.capacity() > KEEP_CAPACITY {
                self.assembly = BytesMut::new();
            }
            whole
        };
        Ok(Some(match kind {
            MessageKind::Text => Event::Text(Utf8Bytes::from_validated(whole)),
            MessageKind::Binary => Event::Binary(whole),
        }))
    }

    /// Lets go of a large receive buffer once it has been drained.
    fn release_rx(&mut self) {
        if self.rx.is_empty() && self.rx.capacity() > KEEP_CAPACITY {
            self.rx = BytesMut::new();
        }
    }
}
