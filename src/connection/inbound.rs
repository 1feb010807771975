//! The receive path: frames out of the receive buffer, fragments into
//! messages, every data rule of §5.4 and §8.1 checked on the way.
//!
//! It knows nothing of the close handshake or of output: it hands control
//! frames up to the connection, which owns those.

use bytes::{Buf, Bytes, BytesMut};

use crate::config::Config;
use crate::error::ProtocolError;
use crate::event::{Event, MessageKind, Utf8Bytes};
use crate::event_ref::{BytesRef, EventRef, TextRef};
use crate::extensions::Codec;
use crate::frame::{FrameDecoder, FrameHeader, OpCode, Rsv, Status};
use crate::mask::{apply_mask, apply_mask_at, mask_is_ascii, MASK_ASCII_MAX};
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

/// The most bytes of plain frames checked ahead in one go: bounds the work
/// of one `poll_event` call, however many small frames one input holds.
const READ_AHEAD: usize = 64 << 10;

/// What [`check_plain_frames`] found at the head of the buffer.
#[derive(Debug, PartialEq, Eq)]
enum Checked {
    /// No plain frame whole there: for the general decoder.
    None,
    /// The first frame is text that is not UTF-8.
    InvalidUtf8,
    /// Plain frames, unmasked and checked: the first takes `first` bytes,
    /// all of them `run` bytes.
    Frames { first: usize, run: usize },
}

/// The header of a plain frame at the head of `wire`: a final text or
/// binary frame with no reserved bit, a 7- or 16-bit length, a payload of
/// at most `limit` bytes (checked only if `LIMITED`: without, the limit is
/// above every 16-bit length), and masked if and only if `MASKED` (the masking
/// direction of §5.1, decided in `Role`: a frame that breaks it is the
/// general decoder's to refuse). `None` for any other frame or an
/// incomplete header. Returns whether it is text, the header's length and
/// the payload's.
#[inline(always)]
fn plain_header<const MASKED: bool, const LIMITED: bool>(
    wire: &[u8],
    limit: u64,
) -> Option<(bool, usize, usize)> {
    let [b0, b1, ..] = *wire else {
        return None;
    };
    let text = match b0 {
        0x81 => true,
        0x82 => false,
        _ => return None,
    };
    // With the mask bit flipped to what is expected, anything from 127 up
    // is the wrong direction or a 64-bit length.
    let (len, header_len) = match if MASKED { b1 ^ 0x80 } else { b1 } {
        len @ 0..=125 => (usize::from(len), 2),
        126 => match wire.get(2..4) {
            Some(&[hi, lo]) => (usize::from(u16::from_be_bytes([hi, lo])), 4),
            _ => return None,
        },
        _ => return None,
    };
    if LIMITED && len as u64 > limit {
        return None;
    }
    Some((text, header_len + if MASKED { 4 } else { 0 }, len))
}

/// Checks the plain frame (see [`plain_header`]) at the head of `wire` if
/// it is whole: unmasks its payload in place and checks text as UTF-8.
/// Returns the bytes it takes, `Some(Err(()))` for text that is not UTF-8
/// (masked back as it came), `None` for any other frame or an incomplete
/// one.
#[inline(always)]
fn check_plain_frame<const MASKED: bool, const LIMITED: bool>(
    wire: &mut [u8],
    limit: u64,
) -> Option<Result<usize, ()>> {
    let (text, header_len, len) = plain_header::<MASKED, LIMITED>(wire, limit)?;
    let (header, payload) = wire.get_mut(..header_len + len)?.split_at_mut(header_len);
    if !MASKED {
        return Some(match !text || crate::utf8::is_utf8(payload) {
            true => Ok(header_len + len),
            false => Err(()),
        });
    }
    let key = *header.last_chunk::<4>()?;
    let valid = if len <= MASK_ASCII_MAX {
        // One pass unmasks a short payload and tells whether it is ASCII.
        mask_is_ascii(payload, key) || !text || crate::utf8::is_utf8(payload)
    } else {
        apply_mask(payload, key);
        !text || crate::utf8::is_utf8(payload)
    };
    if valid {
        return Some(Ok(header_len + len));
    }
    apply_mask(payload, key);
    Some(Err(()))
}

/// Calls `$check::<MASKED, LIMITED>($rx, limit)`, one of the plain-frame
/// checks above, with the rules of `$inbound`: the masking direction its
/// role expects, and its limit (the frame's and the message's, whichever
/// is lower), checked only if it is below some 16-bit length.
macro_rules! check_with_rules {
    ($inbound:expr, $check:ident, $rx:expr) => {{
        let limit = $inbound
            .decoder
            .max_payload()
            .min($inbound.max_message_size);
        let limited = limit < u64::from(u16::MAX);
        match ($inbound.decoder.role().expects_masked_incoming(), limited) {
            (true, false) => $check::<true, false>($rx, limit),
            (true, true) => $check::<true, true>($rx, limit),
            (false, false) => $check::<false, false>($rx, limit),
            (false, true) => $check::<false, true>($rx, limit),
        }
    }};
}

/// Checks the plain frames that are whole at the head of `rx`, one after
/// the other, up to [`READ_AHEAD`] bytes (see [`check_plain_frame`]). A
/// frame of invalid text after the first ends the run, as it came, for the
/// general decoder to fail the connection on when its turn comes.
fn check_plain_frames<const MASKED: bool, const LIMITED: bool>(
    rx: &mut [u8],
    limit: u64,
) -> Checked {
    let first = match check_plain_frame::<MASKED, LIMITED>(rx, limit) {
        None => return Checked::None,
        Some(Err(())) => return Checked::InvalidUtf8,
        Some(Ok(first)) => first,
    };
    let total = rx.len();
    // The run ends once fewer than `stop` bytes are left behind it.
    let stop = total.saturating_sub(READ_AHEAD);
    let mut rest = &mut rx[first..];
    while rest.len() > stop {
        match check_plain_frame::<MASKED, LIMITED>(rest, limit) {
            Some(Ok(len)) => rest = &mut core::mem::take(&mut rest)[len..],
            _ => break,
        }
    }
    Checked::Frames {
        first,
        run: total - rest.len(),
    }
}

/// The first of the plain frames in `frames`, checked by
/// [`check_plain_frames`] already: whether it is text, where its payload
/// starts and its length.
#[inline(always)]
fn plain_frame(frames: &[u8]) -> (bool, usize, usize) {
    let (len, header_len) = match frames[1] & 0x7f {
        126 => (usize::from(u16::from_be_bytes([frames[2], frames[3]])), 4),
        len => (usize::from(len), 2),
    };
    let start = header_len + 4 * usize::from(frames[1] & 0x80 != 0);
    (frames[0] == 0x81, start, len)
}

/// A plain frame checked and lent in place: whether it is text, where its
/// payload starts in the receive buffer and its length.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PlainFrame {
    text: bool,
    start: usize,
    len: usize,
}

/// The event of a plain frame's payload, checked already.
#[inline(always)]
fn plain_event(text: bool, payload: Bytes) -> Event {
    if text {
        Event::Text(Utf8Bytes::from_validated(payload))
    } else {
        Event::Binary(payload)
    }
}

/// Splits the first of the plain frames in `frames` off as its event.
#[inline(always)]
fn take_plain_frame(frames: &mut Bytes) -> Event {
    let (text, start, len) = plain_frame(frames);
    let payload = frames.slice(start..start + len);
    frames.advance(start + len);
    plain_event(text, payload)
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
/// one state for the ways a frame is received.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Receiving {
    /// At a frame boundary: the next bytes are a header.
    Header,
    /// Plain frames (see `plain_header`), whole, unmasked and checked,
    /// split off the buffer together and handed out one per event before
    /// the buffer's next header; never empty.
    Ready(Bytes),
    /// A data frame whose header is at the head of the buffer and whose
    /// payload is still arriving, to be delivered whole: it has been
    /// accounted for, and its first `checked` payload bytes are unmasked
    /// and UTF-8-checked already (§8.1: invalid text fails at the first bad
    /// byte, not when the frame ends).
    Arriving { checked: usize },
    /// Fragment delivery: the header is consumed and the payload is handed
    /// up as it arrives, `received` bytes so far.
    Streaming { header: FrameHeader, received: u64 },
    /// Plain frames, whole, unmasked and checked, up to `checked` bytes
    /// into the buffer, lent to the caller where they lie one per call
    /// ([`Inbound::lend_whole_message`]): those in the first `consumed`
    /// bytes have been (the latest one maybe still in use), and the next
    /// starts there. They are dropped from the buffer together
    /// ([`Inbound::settle`]) before it is read any other way.
    Lent { consumed: usize, checked: usize },
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

/// The least room the receive buffer grows by (see [`Inbound::extend`]).
const MIN_RX_ROOM: usize = 2 << 10;

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
        self.settle();
        if self.rx.is_empty() {
            self.rx = BytesMut::new();
        }
        if self.assembly.is_empty() {
            self.assembly = BytesMut::new();
        }
    }

    /// The fast path for the common case: a whole message in one final,
    /// plain text or binary frame (no reserved bit, no 64-bit length),
    /// already whole in the buffer, with no message in progress. The event
    /// owns its payload, shared with the receive buffer.
    ///
    /// The frames of this kind that are whole in the buffer, one after the
    /// other, are checked in one go ([`check_plain_frames`]: one header
    /// parse, one unmasking pass, one UTF-8 check each) and split off
    /// together, then handed out one per call ([`Receiving::Ready`]): one
    /// split and one reference count for the run instead of per message.
    ///
    /// `None` leaves everything as it was, for [`next`](Self::next) to
    /// decode: any other frame, a frame still arriving, and every frame
    /// [`next`](Self::next) would refuse from its header (the masking
    /// direction, the frame and message limits), so that each rule is
    /// judged, and each error named, in one place. The one error here is
    /// invalid text in the first frame, which [`next`](Self::next) would
    /// report for the same frame (§8.1: "When an endpoint is to interpret a
    /// byte stream as UTF-8 but finds that the byte stream is not, in fact,
    /// a valid UTF-8 stream, that endpoint MUST _Fail the WebSocket
    /// Connection_"; the whole frame is there, so its first bad byte is
    /// too). Invalid text further on ends the run before that frame, which
    /// fails the connection when its turn comes.
    ///
    /// `next` is the reference: the tests below run both on the same wire.
    #[inline]
    pub(crate) fn next_whole_message(&mut self) -> Option<Result<Event, ProtocolError>> {
        if let Some(event) = self.next_ready() {
            return Some(Ok(event));
        }
        match self.receiving {
            Receiving::Header => {}
            Receiving::Lent { .. } => {
                // Frames checked ahead and not lent yet go first.
                self.settle();
                if let Some(event) = self.next_ready() {
                    return Some(Ok(event));
                }
            }
            _ => return None,
        }
        if !self.whole_messages_wanted() || !matches!(self.rx.first(), Some(0x81 | 0x82)) {
            return None;
        }
        let (first, run) = match check_with_rules!(self, check_plain_frames, &mut self.rx) {
            Checked::None => return None,
            Checked::InvalidUtf8 => return Some(Err(ProtocolError::InvalidUtf8)),
            Checked::Frames { first, run } => (first, run),
        };
        let event = if run == first {
            // One frame: its payload is the event, without a second handle.
            let mut whole = self.rx.split_to(first).freeze();
            let (text, start, _) = plain_frame(&whole);
            whole.advance(start);
            plain_event(text, whole)
        } else {
            let mut ready = self.rx.split_to(run).freeze();
            let event = take_plain_frame(&mut ready);
            self.receiving = Receiving::Ready(ready);
            event
        };
        self.release_rx();
        Some(Ok(event))
    }

    /// The borrowed counterpart of
    /// [`next_whole_message`](Self::next_whole_message), for
    /// [`Connection::poll_event_ref`](super::Connection::poll_event_ref):
    /// the same frames, judged the same way, checked ahead the same way,
    /// but left where they lie: each call lends the next one's payload
    /// ([`lent_event`](Self::lent_event)) and counts the frame as consumed
    /// ([`Receiving::Lent`]). No split, so no reference count; the buffer
    /// is advanced once, past a whole run of lent frames, when the next
    /// call finds none to lend.
    ///
    /// `None` leaves the frame for the general decoder, as
    /// `next_whole_message` does; the one error is invalid text (§8.1).
    #[inline]
    pub(crate) fn lend_whole_message(&mut self) -> Option<Result<PlainFrame, ProtocolError>> {
        let at = match self.receiving {
            Receiving::Header => 0,
            Receiving::Lent { consumed, checked } if consumed < checked => {
                return Some(Ok(self.lend_checked(consumed, checked)));
            }
            Receiving::Lent { consumed, .. } => consumed,
            _ => return None,
        };
        let wanted = self.whole_messages_wanted();
        let rx = match self.rx.get_mut(at..) {
            Some(rx @ [0x81 | 0x82, ..]) if wanted => rx,
            _ => {
                self.settle();
                return None;
            }
        };
        match check_with_rules!(self, check_plain_frames, rx) {
            Checked::Frames { run, .. } => Some(Ok(self.lend_checked(at, at + run))),
            Checked::InvalidUtf8 => Some(Err(ProtocolError::InvalidUtf8)),
            Checked::None => {
                self.settle();
                None
            }
        }
    }

    /// Lends the checked frame at `at`, the checked run ending at `checked`.
    #[inline(always)]
    fn lend_checked(&mut self, at: usize, checked: usize) -> PlainFrame {
        let (text, start, len) = plain_frame(&self.rx[at..]);
        let start = at + start;
        self.receiving = Receiving::Lent {
            consumed: start + len,
            checked,
        };
        PlainFrame { text, start, len }
    }

    /// The event of the frame [`lend_whole_message`](Self::lend_whole_message)
    /// checked, its payload borrowed from the buffer.
    #[inline]
    pub(crate) fn lent_event(&self, frame: PlainFrame) -> EventRef<'_> {
        let payload = &self.rx[frame.start..frame.start + frame.len];
        match frame.text {
            true => EventRef::Text(TextRef::lent(payload)),
            false => EventRef::Binary(BytesRef::lent(payload)),
        }
    }

    /// Whether the fast paths apply: no message in progress, and whole
    /// messages wanted (not fragments as they arrive).
    #[inline(always)]
    fn whole_messages_wanted(&self) -> bool {
        self.message.is_none() && !self.deliver_fragments
    }

    /// Drops the frames lent by the last calls ([`Receiving::Lent`]), if
    /// any: first thing in every call that reads the buffer otherwise.
    #[inline(always)]
    pub(crate) fn settle(&mut self) {
        if let Receiving::Lent { consumed, checked } = self.receiving {
            self.drop_lent(consumed, checked);
        }
    }

    /// [`settle`](Self::settle)'s work, once per run of lent frames: out
    /// of line, so that the owned path it guards stays small.
    #[inline(never)]
    fn drop_lent(&mut self, consumed: usize, checked: usize) {
        if consumed == self.rx.len() {
            // All of it: the buffer is reused from its start.
            self.rx.clear();
        } else {
            self.rx.advance(consumed);
        }
        // Frames checked (so unmasked) and not lent yet are handed out as
        // owned events, before the buffer is decoded again.
        self.receiving = match checked - consumed {
            0 => Receiving::Header,
            ahead => Receiving::Ready(self.rx.split_to(ahead).freeze()),
        };
        self.release_rx();
    }

    /// Whether nothing received is left to decode or hand out.
    #[inline(always)]
    pub(crate) fn is_drained(&self) -> bool {
        self.rx.is_empty() && !matches!(self.receiving, Receiving::Ready(_))
    }

    /// The received bytes not decoded yet (see
    /// [`Connection::pending_input`](super::Connection::pending_input)):
    /// past the frame lent, if one is.
    pub(crate) fn pending(&self) -> &[u8] {
        match self.receiving {
            Receiving::Lent { checked, .. } => &self.rx[checked..],
            _ => &self.rx,
        }
    }

    /// The next of the plain frames checked ahead ([`Receiving::Ready`]),
    /// if any: what [`next_whole_message`](Self::next_whole_message) hands
    /// out first, on its own for the connection's quickest path.
    #[inline(always)]
    pub(crate) fn next_ready(&mut self) -> Option<Event> {
        let Receiving::Ready(ready) = &mut self.receiving else {
            return None;
        };
        let event = take_plain_frame(ready);
        if ready.is_empty() {
            self.receiving = Receiving::Header;
        }
        Some(event)
    }

    /// Decodes the next item from the receive buffer, or `None` when more
    /// bytes are needed; the payloads of transformed messages go through
    /// `codec`.
    pub(crate) fn next(&mut self, codec: &mut Codec) -> Result<Option<Received>, ProtocolError> {
        self.settle();
        if matches!(self.receiving, Receiving::Ready(_)) {
            let event = self.next_whole_message().transpose()?;
            return Ok(event.map(Received::Data));
        }
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
                    apply_mask(&mut payload, key);
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

    /// Appends received bytes. When the buffer must grow, it is given room
    /// for at least [`MIN_RX_ROOM`] bytes: small reads then share one
    /// allocation, and the buffer is moved back to its front (or, while
    /// events still hold its bytes, replaced) once per that much input
    /// instead of on every read.
    #[inline]
    pub(crate) fn extend(&mut self, bytes: &[u8]) {
        if self.rx.capacity() - self.rx.len() < bytes.len() {
            self.rx.reserve(bytes.len().max(MIN_RX_ROOM));
        }
        self.rx.extend_from_slice(bytes);
    }

    /// Lets go of a large receive buffer once it has been drained.
    fn release_rx(&mut self) {
        if self.rx.is_empty() && self.rx.capacity() > KEEP_CAPACITY {
            self.rx = BytesMut::new();
        }
    }
}

#[cfg(all(test, not(miri)))]
mod tests {
    use super::*;
    use crate::frame::{encode_frame, MAX_HEADER_LEN};
    use alloc::format;
    use alloc::string::String;
    use alloc::vec::Vec;
    use proptest::prelude::*;

    /// How [`transcript`] takes each item.
    #[derive(Clone, Copy, Debug)]
    enum Path {
        /// The general decoder alone: the reference.
        General,
        /// The fast path first, as `Connection::poll_event` does.
        Whole,
        /// The lending path first, as `Connection::poll_event_ref` does.
        Lent,
    }

    /// Everything the receive path hands up from `wire`, fed in two pieces
    /// cut at `cut`, up to the first error, taken by `path`.
    fn transcript(role: Role, config: &Config, wire: &[u8], cut: usize, path: Path) -> Vec<String> {
        let mut inbound = Inbound::new(role, config);
        let mut codec = Codec::default();
        let mut out = Vec::new();
        for piece in [&wire[..cut], &wire[cut..]] {
            inbound.extend(piece);
            loop {
                let fast = match path {
                    Path::General => None,
                    Path::Whole => inbound.next_whole_message(),
                    Path::Lent => inbound
                        .lend_whole_message()
                        .map(|frame| frame.map(|f| inbound.lent_event(f).into_owned())),
                };
                let next = match fast {
                    Some(event) => event.map(|e| Some(Received::Data(e))),
                    None => inbound.next(&mut codec),
                };
                match next {
                    Ok(Some(received)) => out.push(format!("{received:?}")),
                    Ok(None) => break,
                    Err(error) => {
                        out.push(format!("{error:?}"));
                        return out;
                    }
                }
            }
        }
        out.push(format!("left {}", inbound.pending().len()));
        out
    }

    /// A frame: opcode byte (FIN, RSV and opcode), masked or not, payload.
    fn frame() -> impl Strategy<Value = (u8, bool, Vec<u8>)> {
        let first = prop_oneof![
            4 => Just(0x81u8),
            4 => Just(0x82),
            1 => Just(0x01),
            1 => Just(0x80),
            1 => Just(0x00),
            1 => Just(0x89),
            1 => Just(0x8a),
            1 => Just(0xc1),
        ];
        let payload = prop_oneof![
            4 => "[a-z ]{0,70}".prop_map(String::into_bytes),
            1 => "\\PC{0,40}".prop_map(String::into_bytes),
            1 => proptest::collection::vec(any::<u8>(), 0..20),
            1 => (120usize..300).prop_map(|n| vec![b'x'; n]),
        ];
        (first, prop::bool::weighted(0.9), payload)
    }

    proptest! {
        /// The fast paths (owned and lent) hand up what the general decoder
        /// does, event for event and error for error, whatever the frames
        /// and the split.
        #[test]
        fn the_fast_path_agrees_with_the_general_decoder(
            frames in proptest::collection::vec(frame(), 0..12),
            cut in any::<prop::sample::Index>(),
            server in any::<bool>(),
            small_limit in any::<bool>(),
        ) {
            let role = if server { Role::Server } else { Role::Client };
            let mut wire = Vec::new();
            for (i, (first, masked, payload)) in frames.iter().enumerate() {
                let masked = *masked == server;
                let header = FrameHeader {
                    mask: masked.then_some([i as u8, 0x5a, 0xa5, 0xff]),
                    ..FrameHeader::new(OpCode::Text, 0)
                };
                let mut out = vec![0; MAX_HEADER_LEN + payload.len()];
                let n = encode_frame(header, payload, &mut out).unwrap();
                out[0] = *first;
                wire.extend_from_slice(&out[..n]);
            }
            let config = Config {
                max_message_size: if small_limit { 64 } else { 1 << 20 },
                ..Config::default()
            };
            let cut = cut.index(wire.len() + 1);
            let general = transcript(role, &config, &wire, cut, Path::General);
            for path in [Path::Whole, Path::Lent] {
                prop_assert_eq!(&transcript(role, &config, &wire, cut, path), &general);
            }
        }
    }
}
