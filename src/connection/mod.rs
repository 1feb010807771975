//! The connection: one value per WebSocket, client or server, driven by the
//! caller's I/O.
//!
//! # Theory of operation
//!
//! A connection is `Open`, then `Closing` once our Close frame is queued,
//! then `Closed`; every transition, with its diagram, is in one file,
//! `state.rs` (see [`State`] and [`CloseCause`]). In `Closed` no more
//! frames are decoded or accepted for sending; what is left is the
//! transport, and [`Connection::should_close_transport`] says when to close
//! it:
//!
//! - once the output is drained: a server at once (§7.1.1: "the server
//!   MUST close the underlying TCP connection first"), a client when the
//!   server has closed it ([`Connection::handle_eof`]), or at once if the
//!   connection failed;
//! - or when the close timeout runs out first. It runs from our close frame
//!   in `Closing`, and again from the moment the connection is `Closed`, for
//!   as long as the transport is not done with. When it fires, the output
//!   still queued is dropped: [`Connection::poll_transmit`] returns `None`
//!   and `should_close_transport()` is true. A peer that stops reading, or
//!   a server that never closes TCP, cannot hold the transport open (§7.1.1:
//!   "An endpoint MAY close the connection via any means available when
//!   necessary, such as when under attack"; "In abnormal cases (such as not
//!   having received a TCP Close from the server after a reasonable amount
//!   of time) a client MAY initiate the TCP Close").
//!
//! So a `Closed` connection has either `should_close_transport()` true or a
//! deadline in [`Connection::poll_timeout`]: a run loop never waits on the
//! socket alone. A keepalive pong that does not come in time fails the
//! connection with 1011 like a protocol violation; the close timeout then
//! bounds the wait for that close frame to be written.

mod inbound;
mod outbound;
mod payload;
mod prepared;
mod receive;
mod state;
mod timer;

use bytes::Bytes;
use core::time::Duration;

use crate::close::{CloseCode, ClosePayload, MAX_REASON_LEN};
use crate::config::Config;
use crate::error::ProtocolError;
use crate::event::{CloseFrame, Event, MessageKind, Utf8Bytes};
use crate::event_ref::EventRef;
use crate::extensions::Codec;
use crate::frame::{FrameHeader, OpCode, Rsv};
use crate::role::Role;
use inbound::{Inbound, Received};
use outbound::{Outbound, Payload};
pub use payload::{BinaryPayload, TextPayload};
pub use prepared::PreparedMessage;
pub use receive::ReceiveBuffer;
use state::Lifecycle;
pub use state::{CloseCause, State};
use timer::{Timer, Timers};

/// Output queued beyond which pings are answered only for the latest one.
const COALESCE_PONGS_ABOVE: usize = 16 << 10;

/// The caller asked for something the protocol or the connection's state
/// forbids. Nothing was queued.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// §5.5.1: "The application MUST NOT send any more data frames after
    /// sending a Close frame."
    #[error("a close frame was already sent")]
    CloseSent,
    /// The connection is closed.
    #[error("the connection is closed")]
    Closed,
    /// §5.5: control frame payloads are at most 125 bytes.
    #[error("control frame payload of {0} bytes (at most 125)")]
    ControlPayloadTooLong(usize),
    /// The close reason does not fit in a control frame (at most 123 bytes).
    #[error("close reason of {0} bytes (at most 123)")]
    CloseReasonTooLong(usize),
    /// §7.4: the code may not be sent (1005, 1006, 1015 and unassigned ranges).
    #[error("close code {0} may not be sent")]
    InvalidCloseCode(u16),
    /// A fragmented message is being sent with `send_fragment`; another
    /// message cannot start until it ends (§5.4: no interleaving).
    #[error("a fragmented message is being sent")]
    MessageInProgress,
    /// `send_fragment` continued a message with a different kind.
    #[error("fragment kind does not match the message in progress")]
    FragmentKindMismatch,
    /// A client needs a random source for masking keys and has none.
    #[error("no random source for masking keys")]
    NoRandomSource,
}

/// A sans-IO WebSocket connection, after the opening handshake.
///
/// # The run loop
///
/// 1. Put received bytes in with [`handle_input`](Self::handle_input) (or
///    read straight into [`receive_buffer`](Self::receive_buffer)); at
///    end of stream call [`handle_eof`](Self::handle_eof).
/// 2. Drain events: call [`poll_event`](Self::poll_event) until it returns
///    `Ok(None)`. Pings are answered and closes replied to for you.
/// 3. Send whatever the application wants (`send_*`, [`close`](Self::close)).
/// 4. Drain output until empty: write [`poll_transmit`](Self::poll_transmit)
///    (or [`transmit_chunks`](Self::transmit_chunks) for a vectored write)
///    and report what was written with
///    [`advance_transmit`](Self::advance_transmit).
/// 5. Timers: [`poll_timeout(now)`](Self::poll_timeout) gives the next
///    deadline (and is the connection's reading of the clock: call it after
///    input and commands); when the clock reaches it, call
///    [`handle_timeout`](Self::handle_timeout), then go to 4.
/// 6. When [`should_close_transport`](Self::should_close_transport) is true,
///    close the transport and drop the connection.
///
/// Errors are sticky in the sense of §7.1.7: the first protocol violation
/// is returned once from `poll_event`, a close frame with its code is
/// queued, and from then on the connection is [`State::Closed`].
#[derive(Debug)]
pub struct Connection {
    role: Role,
    config: Config,
    life: Lifecycle,
    inbound: Inbound,
    outbound: Outbound,
    timers: Timers,
    /// The payload of the latest ping not yet answered, when the output
    /// queue is long (§5.5.3 lets us answer only the latest), in fixed storage.
    owed_pong: Option<([u8; 125], u8)>,
    /// The kind of the fragmented message being sent, if any.
    sending: Option<MessageKind>,
    input_seen: bool,
    /// The extensions' message codec: what goes out and comes in
    /// transformed (see [`Codec`]).
    codec: Codec,
}

impl Connection {
    /// A connection in the `Open` state: after a handshake, or over a stream
    /// that stands in for one (RFC 8441 §5: an HTTP/2 or HTTP/3 stream).
    pub fn new(role: Role, config: Config) -> Connection {
        let mut timers = Timers::default();
        if let Some(interval) = config.keepalive_interval {
            timers.arm(Timer::Keepalive, interval);
        }
        Connection {
            role,
            inbound: Inbound::new(role, &config),
            config,
            life: Lifecycle::Open,
            outbound: Outbound::default(),
            timers,
            owed_pong: None,
            sending: None,
            input_seen: false,
            codec: Codec::default(),
        }
    }

    /// Puts the message codec of the extensions agreed on in place (the
    /// handshake's, or `enable_deflate`'s), before any frame is exchanged:
    /// the frame decoder lets through the reserved bits it claims, and no
    /// others (RFC 6455 §5.2).
    pub(crate) fn install_codec(&mut self, codec: Codec) {
        self.inbound.allow_rsv(codec.rsv());
        self.codec = codec;
    }

    /// Whether permessage-deflate is on.
    pub fn is_deflate_enabled(&self) -> bool {
        self.codec.is_deflate()
    }

    /// This endpoint's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.life.state()
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// §7.1.5 "The WebSocket Connection Close Code" and reason, once known:
    /// the peer's code, 1005 if its close frame had none, 1006 if the
    /// connection closed without one.
    pub fn close_status(&self) -> Option<&CloseFrame> {
        self.life.status()
    }

    /// How the connection ended, once [`State::Closed`]: the closing
    /// handshake, a failure and its error, a timeout, or the transport
    /// ending first. The error that failed the connection stays readable
    /// here after [`poll_event`](Self::poll_event) returned it.
    pub fn close_cause(&self) -> Option<&CloseCause> {
        self.life.cause()
    }

    // ----- input -------------------------------------------------------

    /// Appends received bytes. Decoding happens in [`poll_event`](Self::poll_event).
    pub fn handle_input(&mut self, bytes: &[u8]) {
        if self.accepts_input() {
            self.inbound.extend(bytes);
            self.input_seen = true;
        }
    }

    /// Lends the receive buffer, to read into it without a copy: take the
    /// [spare room](ReceiveBuffer::spare), read into it, then
    /// [commit](ReceiveBuffer::commit) the bytes read. The lender can only
    /// append, so what the connection is in the middle of decoding cannot
    /// be disturbed:
    ///
    /// ```compile_fail
    /// # use wsproto::{Config, Connection, Role};
    /// let mut conn = Connection::new(Role::Server, Config::default());
    /// conn.receive_buffer().clear(); // no such thing: the lender only appends
    /// ```
    ///
    /// ```
    /// # use wsproto::{Config, Connection, Event, Role};
    /// # let mut socket: &[u8] = b"\x81\x82\0\0\0\0hi";
    /// use std::io::Read;
    /// let mut conn = Connection::new(Role::Server, Config::default());
    /// let mut lender = conn.receive_buffer();
    /// let n = socket.read(lender.spare(4096)).unwrap();
    /// lender.commit(n);
    /// assert!(matches!(conn.poll_event(), Ok(Some(Event::Text(t))) if t.as_str() == "hi"));
    /// ```
    ///
    /// Once the connection is closed, what is read is dropped.
    pub fn receive_buffer(&mut self) -> ReceiveBuffer<'_> {
        if !self.accepts_input() {
            // Nothing more is decoded: do not let what is read pile up.
            self.inbound.rx.clear();
        }
        ReceiveBuffer::new(&mut self.inbound.rx, &mut self.input_seen)
    }

    /// Received bytes not decoded yet: an incomplete frame, or frames
    /// behind the next event. Right after a handshake, the bytes that
    /// followed its head. Whole messages that [`poll_event`](Self::poll_event)
    /// has already unmasked and checked, ahead of handing them out one per
    /// call, are no longer among them.
    pub fn pending_input(&self) -> &[u8] {
        self.inbound.pending()
    }

    /// The peer closed the transport (end of stream). If the closing
    /// handshake had not finished, the close status becomes 1006. Output
    /// still queued may yet be written (the peer may have closed only its
    /// sending side), within the close timeout.
    pub fn handle_eof(&mut self) {
        self.enter_closed(CloseCause::TransportEnded, None);
        self.life.end_transport(self.role);
        self.stop_close_timer_when_done();
    }

    /// The next event, `Ok(None)` when more input is needed (or the
    /// connection is closed), or the protocol violation that failed the
    /// connection, returned once.
    #[inline]
    pub fn poll_event(&mut self) -> Result<Option<Event>, ProtocolError> {
        // A whole message in one plain frame, the common case, skips the
        // general decoder (which handles everything else, and judges every
        // frame this one declines); one checked ahead already goes first
        // (never once closed: closing drops what was checked ahead).
        if let Some(event) = self.inbound.next_ready() {
            debug_assert!(self.accepts_input());
            return Ok(Some(event));
        }
        if !self.accepts_input() {
            return Ok(None);
        }
        match self.inbound.next_whole_message() {
            Some(Ok(event)) => Ok(Some(event)),
            Some(Err(error)) => Err(self.fail_with(error)),
            // Nothing buffered: whatever the state, the decoder would wait.
            None if self.inbound.rx.is_empty() => Ok(None),
            None => self.poll_event_decoded(),
        }
    }

    /// The next event as [`poll_event`](Self::poll_event) gives it, but
    /// with its payload lent rather than owned: valid until the next call
    /// into the connection, which the borrow checker enforces (the event
    /// borrows the connection mutably).
    ///
    /// # Why, and when to use it
    ///
    /// An owned [`Event`] shares its payload with the receive buffer through
    /// an atomic reference count, taken when the event is made and dropped
    /// with it: for small messages the larger part of what receiving one
    /// costs. A lent payload is the bytes where they lie in the receive
    /// buffer, unmasked and checked in place: nothing is counted, and the
    /// buffer is reused in place once drained. Use it when each message is
    /// handled before the next (parsed, dispatched, copied into the
    /// application's own structures), as an event loop over many
    /// connections does; keep [`poll_event`](Self::poll_event) for
    /// payloads that outlive the call (queued, sent on to other
    /// connections, handed to another task).
    ///
    /// The rules are those of `poll_event`, judged in the same places: the
    /// limits from the header, invalid text failing the connection at the
    /// first bad byte, pings answered and closes replied to. A whole
    /// message in one plain frame (the common case) is lent in place; what
    /// is not whole in the buffer as sent (a fragmented message,
    /// reassembled; a compressed one, inflated; a control frame) comes as
    /// `poll_event` makes it, shared behind the same types
    /// ([`TextRef`](crate::TextRef), [`BytesRef`](crate::BytesRef)). The
    /// two may be mixed on one connection.
    ///
    /// ```
    /// # use wsproto::{Config, Connection, EventRef, Role};
    /// let mut conn = Connection::new(Role::Server, Config::default());
    /// conn.handle_input(b"\x81\x82\0\0\0\0hi\x82\x81\0\0\0\0!");
    /// let mut seen = Vec::new();
    /// while let Some(event) = conn.poll_event_ref()? {
    ///     match event {
    ///         EventRef::Text(text) => seen.push(text.as_str().len()),
    ///         EventRef::Binary(data) => seen.push(data.len()), // derefs to `&[u8]`
    ///         _ => {}
    ///     }
    /// }
    /// assert_eq!(seen, [2, 1]);
    /// # Ok::<(), wsproto::ProtocolError>(())
    /// ```
    ///
    /// An event cannot be kept across the next call:
    ///
    /// ```compile_fail,E0499
    /// # use wsproto::{Config, Connection, Role};
    /// let mut conn = Connection::new(Role::Server, Config::default());
    /// let first = conn.poll_event_ref();
    /// let second = conn.poll_event_ref(); // the first still borrows `conn`
    /// drop((first, second));
    /// ```
    #[inline]
    pub fn poll_event_ref(&mut self) -> Result<Option<EventRef<'_>>, ProtocolError> {
        // Decided first and borrowed after, so that the general path below
        // is free to use the connection.
        let lent = match self.accepts_input() {
            true => self.inbound.lend_whole_message(),
            false => None,
        };
        match lent {
            Some(Ok(frame)) => Ok(Some(self.inbound.lent_event(frame))),
            Some(Err(error)) => Err(self.fail_with(error)),
            // Nothing buffered: whatever the state, the decoder would wait.
            None if self.inbound.is_drained() => Ok(None),
            None => self.poll_event_shared(),
        }
    }

    /// [`poll_event_ref`](Self::poll_event_ref) for what is not lent in
    /// place: the owned event, its payload shared. Out of line, so that
    /// [`poll_event`](Self::poll_event) is inlined where it is called.
    #[inline(never)]
    fn poll_event_shared(&mut self) -> Result<Option<EventRef<'static>>, ProtocolError> {
        Ok(self.poll_event()?.map(EventRef::from))
    }

    /// [`poll_event`](Self::poll_event) through the general decoder.
    fn poll_event_decoded(&mut self) -> Result<Option<Event>, ProtocolError> {
        let received = match self.inbound.next(&mut self.codec) {
            Ok(Some(received)) => received,
            Ok(None) => return Ok(None),
            Err(error) => return Err(self.fail_with(error)),
        };
        Ok(Some(match received {
            Received::Data(event) => event,
            Received::Ping(payload) => {
                if self.config.auto_pong && self.life.is_open() {
                    self.owe_pong(&payload);
                }
                Event::Ping(payload)
            }
            Received::Pong(payload) => {
                self.timers.stop(Timer::PongDeadline);
                Event::Pong(payload)
            }
            Received::Close(payload) => match self.receive_close(payload) {
                Ok(frame) => Event::Close(frame),
                Err(error) => return Err(self.fail_with(error)),
            },
        }))
    }

    fn accepts_input(&self) -> bool {
        !self.life.is_closed()
    }

    /// A reading of the clock: timers armed since the last one get their
    /// deadlines, and the keepalive restarts if input came in between.
    fn read_clock(&mut self, now: Duration) {
        if core::mem::take(&mut self.input_seen) {
            if let Some(interval) = self.config.keepalive_interval {
                if self.life.is_open() && !self.timers.is_armed(Timer::PongDeadline) {
                    self.timers
                        .arm_at(Timer::Keepalive, now.saturating_add(interval));
                }
            }
        }
        self.timers.stamp(now);
    }

    /// §5.5.1: "If an endpoint receives a Close frame and did not previously
    /// send a Close frame, the endpoint MUST send a Close frame in response."
    fn receive_close(&mut self, payload: Bytes) -> Result<CloseFrame, ProtocolError> {
        let parsed = ClosePayload::parse(&payload)?;
        let reason_at = payload.len() - parsed.reason.len();
        let frame = CloseFrame {
            code: parsed.code_or_no_status(),
            reason: Utf8Bytes::from_validated(payload.slice(reason_at..)),
        };
        if self.life.is_open() {
            let reply = match parsed.code {
                Some(code) if self.config.echo_close_code => Some(code),
                Some(_) => Some(CloseCode::NORMAL),
                None => None,
            };
            self.queue_close(reply, "");
        }
        self.enter_closed(CloseCause::Handshake, Some(frame.clone()));
        Ok(frame)
    }

    /// Fails the connection on `error` (see [`fail`](Self::fail)) and hands
    /// the error back, for `poll_event` to return once.
    #[cold]
    fn fail_with(&mut self, error: ProtocolError) -> ProtocolError {
        self.fail(&error);
        error
    }

    /// §7.1.7 _Fail the WebSocket Connection_: send the close code the error
    /// calls for (unless a close was already sent), stop reading.
    fn fail(&mut self, error: &ProtocolError) {
        if self.life.is_open() {
            let mut reason = ReasonBuf::default();
            let _ = core::fmt::write(&mut reason, format_args!("{error}"));
            self.queue_close(Some(error.close_code()), reason.as_str());
        }
        self.enter_closed(CloseCause::Failed(error.clone()), None);
    }

    /// Ends the connection (see `state.rs`): nothing more is decoded or
    /// sent, and the close timeout bounds what is left (writing the output,
    /// and for a client the server's closing of TCP).
    fn enter_closed(&mut self, cause: CloseCause, status: Option<CloseFrame>) {
        if !self.life.is_closed() {
            self.life.close(self.role, cause, status);
            self.inbound.discard();
            self.owed_pong = None;
            self.timers.stop(Timer::Keepalive);
            self.timers.stop(Timer::PongDeadline);
            self.timers.arm(Timer::Close, self.config.close_timeout);
        }
        self.stop_close_timer_when_done();
    }

    /// Stops the close timer once nothing is waited for any more: in
    /// `Closed`, the transport is done with. Called wherever that can
    /// become true (entering `Closed`, output written, end of stream).
    fn stop_close_timer_when_done(&mut self) {
        if self.should_close_transport() {
            self.timers.stop(Timer::Close);
        }
    }

    /// The close timeout ran out: in `Closing`, the peer's close frame did
    /// not come; in `Closed`, the output was not written (a peer that
    /// stopped reading) or, for a client, the server did not close TCP.
    /// The transport is given up on (§7.1.1: "An endpoint MAY close the
    /// connection via any means available when necessary"): the output
    /// still queued, written in part or not at all, is dropped, and
    /// [`should_close_transport`](Self::should_close_transport) becomes true.
    fn abandon_transport(&mut self) {
        self.outbound.discard();
        self.owed_pong = None;
        self.enter_closed(CloseCause::CloseTimeout, None);
        self.life.end_transport(self.role);
        self.stop_close_timer_when_done();
    }

    // ----- timers ------------------------------------------------------

    /// When the connection next needs [`handle_timeout`](Self::handle_timeout),
    /// on the caller's clock (any monotonic origin, e.g. `start.elapsed()`),
    /// given the time `now`. Call it after feeding input and issuing
    /// commands (it is the connection's reading of the clock: a timer armed
    /// by a command, such as `close()`'s, starts from `now`, and so does the
    /// keepalive interval after input); `None` when no timer runs.
    ///
    /// In [`State::Closed`] it is `None` only once
    /// [`should_close_transport`](Self::should_close_transport) is true:
    /// until then the close timeout runs (see the module docs), so a caller
    /// waiting on a socket that never becomes writable still wakes up.
    pub fn poll_timeout(&mut self, now: Duration) -> Option<Duration> {
        self.read_clock(now);
        self.timers.next_deadline()
    }

    /// Tells the connection the time: fires the timers that are due.
    ///
    /// - The keepalive interval queues a ping; its pong deadline, missed,
    ///   fails the connection with 1011 (the close frame is queued).
    /// - The close timeout ends the connection and the transport (§7.1.1):
    ///   the output still queued is dropped, so afterwards
    ///   [`poll_transmit`](Self::poll_transmit) is `None`,
    ///   [`should_close_transport`](Self::should_close_transport) is true
    ///   and [`poll_timeout`](Self::poll_timeout) is `None`.
    pub fn handle_timeout(&mut self, now: Duration) {
        self.read_clock(now);
        while let Some(timer) = self.timers.take_expired(now) {
            match timer {
                Timer::Close => self.abandon_transport(),
                Timer::Keepalive => {
                    if self.life.is_open() {
                        self.push_control(OpCode::Ping, b"keepalive");
                        self.timers
                            .arm(Timer::PongDeadline, self.config.keepalive_timeout);
                    }
                }
                Timer::PongDeadline => {
                    // The peer is unresponsive: fail the connection (§7.1.7).
                    // The close frame queues behind any output; the close
                    // timeout that `enter_closed` arms bounds the wait.
                    if self.life.is_open() {
                        self.queue_close(Some(CloseCode::INTERNAL_ERROR), "keepalive ping timeout");
                    }
                    self.enter_closed(CloseCause::KeepaliveTimeout, None);
                }
            }
            // Stamp whatever the expiry armed.
            self.timers.stamp(now);
        }
    }

    // ----- output ------------------------------------------------------

    /// Sends a text message: a `&str` or `String` is copied once, into the
    /// output queue; [`Utf8Bytes`] (what [`Event::Text`] carries) is
    /// shared, so a server echoes or broadcasts a large one without
    /// copying it.
    pub fn send_text<'a>(&mut self, text: impl Into<TextPayload<'a>>) -> Result<(), SendError> {
        self.send_message(MessageKind::Text, text.into().0)
    }

    /// Sends a binary message: a `&[u8]` is copied once, into the output
    /// queue; [`Bytes`] (what [`Event::Binary`] carries) or a `Vec<u8>` is
    /// shared, so a large one is queued without a copy.
    pub fn send_binary<'a>(&mut self, data: impl Into<BinaryPayload<'a>>) -> Result<(), SendError> {
        self.send_message(MessageKind::Binary, data.into().0)
    }

    /// Sends one piece of a message whose size is not known up front; the
    /// first call starts the message, the one with `is_last` ends it.
    /// Control frames may be sent in between (§5.4).
    pub fn send_fragment(
        &mut self,
        kind: MessageKind,
        data: &[u8],
        is_last: bool,
    ) -> Result<(), SendError> {
        self.check_can_send_data()?;
        let opcode = match self.sending {
            None => data_opcode(kind),
            Some(k) if k == kind => OpCode::Continuation,
            Some(_) => return Err(SendError::FragmentKindMismatch),
        };
        let mask = self.next_mask()?;
        let first = self.sending.is_none();
        self.sending = if is_last { None } else { Some(kind) };
        let encoded = self.codec.encode_fragment(data, is_last);
        let (payload, rsv) = encoded_or_plain(encoded, Payload::Borrowed(data));
        let rsv = if first { rsv } else { Rsv::NONE };
        self.push_frame(opcode, rsv, is_last, mask, payload);
        Ok(())
    }

    /// Sends a ping (payload at most 125 bytes).
    pub fn send_ping(&mut self, payload: &[u8]) -> Result<(), SendError> {
        self.check_control(payload)?;
        self.push_control(OpCode::Ping, payload);
        Ok(())
    }

    /// Sends an unsolicited pong (payload at most 125 bytes), e.g. as a
    /// unidirectional heartbeat (§5.5.3).
    pub fn send_pong(&mut self, payload: &[u8]) -> Result<(), SendError> {
        self.check_control(payload)?;
        self.push_control(OpCode::Pong, payload);
        Ok(())
    }

    /// Starts the closing handshake with `code` and `reason` (at most 123
    /// bytes). Data can still be received until the peer's close arrives.
    pub fn close(&mut self, code: CloseCode, reason: &str) -> Result<(), SendError> {
        if !code.is_valid_on_wire() {
            return Err(SendError::InvalidCloseCode(code.0));
        }
        if reason.len() > MAX_REASON_LEN {
            return Err(SendError::CloseReasonTooLong(reason.len()));
        }
        self.check_can_send_data()?;
        self.queue_close(Some(code), reason);
        self.life.send_close();
        self.timers.stop(Timer::Keepalive);
        self.timers.arm(Timer::Close, self.config.close_timeout);
        Ok(())
    }

    /// The next bytes to write, or `None` when the output is drained (or
    /// was dropped because the close timeout ran out).
    #[inline]
    pub fn poll_transmit(&mut self) -> Option<&[u8]> {
        self.flush_owed_pong();
        self.outbound.front()
    }

    /// Fills `out` with the queued output in order, for a vectored write;
    /// returns how many slices were filled.
    pub fn transmit_chunks<'a>(&'a mut self, out: &mut [&'a [u8]]) -> usize {
        self.flush_owed_pong();
        self.outbound.chunks(out)
    }

    /// Reports that `n` bytes of the output were written. Bytes reported
    /// after the output was dropped (the close timeout ran out while a
    /// write was under way) are ignored.
    #[inline]
    pub fn advance_transmit(&mut self, n: usize) {
        self.outbound.advance(n);
        self.stop_close_timer_when_done();
    }

    /// Frees the receive and send buffers that hold nothing, so an idle
    /// connection costs only its own `size_of` (about 600 bytes). Buffers
    /// are kept between messages otherwise, so that steady traffic does not
    /// allocate; call this when a connection goes quiet (e.g. a read would
    /// block and no output is pending). Buffers larger than 64 KiB are let
    /// go on their own once drained. With permessage-deflate, the
    /// compressor and decompressor go too when no context is taken over in
    /// their direction (see
    /// [`extensions::deflate`](crate::extensions::deflate#memory)).
    pub fn release_idle_buffers(&mut self) {
        self.inbound.release_idle_buffers();
        self.outbound.release_idle_buffers();
        self.codec.release_idle_buffers();
    }

    /// Bytes queued for writing (a pong owed but not yet queued excluded):
    /// for backpressure.
    pub fn pending_transmit(&self) -> usize {
        self.outbound.len()
    }

    /// Whether the caller should now close the transport (and drop the
    /// connection): the connection is [`State::Closed`], its output is
    /// drained, and (for a client) the server has closed its side or the
    /// connection failed.
    ///
    /// It does not stay false forever (§7.1.1): if the close timeout runs
    /// out first (a peer that stopped reading, a server that never closes
    /// TCP), the output still queued is dropped and this becomes true.
    /// Until then [`poll_timeout`](Self::poll_timeout) has a deadline.
    pub fn should_close_transport(&self) -> bool {
        self.life.transport_after_output() && self.outbound.is_empty()
    }

    /// Answers a ping at once while the output queue is short; past
    /// [`COALESCE_PONGS_ABOVE`] only the latest ping is answered, when the
    /// output is next polled, so a ping flood cannot grow the queue.
    fn owe_pong(&mut self, payload: &[u8]) {
        if self.outbound.len() < COALESCE_PONGS_ABOVE {
            self.push_control(OpCode::Pong, payload);
        } else {
            let mut owed = [0; 125];
            owed[..payload.len()].copy_from_slice(payload);
            self.owed_pong = Some((owed, payload.len() as u8));
        }
    }

    #[inline]
    fn flush_owed_pong(&mut self) {
        if self.owed_pong.is_some() {
            self.queue_owed_pong();
        }
    }

    #[cold]
    fn queue_owed_pong(&mut self) {
        if let Some((payload, len)) = self.owed_pong.take() {
            self.push_control(OpCode::Pong, &payload[..usize::from(len)]);
        }
    }

    fn check_can_send_data(&self) -> Result<(), SendError> {
        match self.life.state() {
            State::Open => Ok(()),
            State::Closing => Err(SendError::CloseSent),
            _ => Err(SendError::Closed),
        }
    }

    fn check_control(&self, payload: &[u8]) -> Result<(), SendError> {
        self.check_can_send_data()?;
        if payload.len() > 125 {
            return Err(SendError::ControlPayloadTooLong(payload.len()));
        }
        if self.role.masks_outgoing() && self.config.random.is_none() {
            return Err(SendError::NoRandomSource);
        }
        Ok(())
    }

    /// Sends a message framed once for many connections (see
    /// [`PreparedMessage`]): a server connection that sends it as it is
    /// queues the shared frame without copying or encoding it again (small
    /// frames are copied into the output so that several go out in one
    /// write); a client, a connection that splits frames, or one that
    /// compresses, sends the shared payload its own way.
    pub fn send_prepared(&mut self, message: &PreparedMessage) -> Result<(), SendError> {
        let len = message.payload_len();
        let as_is = self.life.is_open()
            && self.sending.is_none()
            && !self.role.masks_outgoing()
            && self
                .config
                .max_send_frame
                .is_none_or(|max| max == 0 || len <= max);
        if as_is {
            let shared = self
                .codec
                .prepared_frame(message.frame_bytes(), len, message.forms());
            if let Some(frame) = shared {
                self.outbound.push_encoded(frame);
                return Ok(());
            }
        }
        self.send_message(message.kind(), Payload::Shared(message.payload()))
    }

    /// Queues a whole message. The common case, a server's message that
    /// goes out as it is in one frame (no mask, no codec, no frame limit
    /// to cut it at), is written at once; everything else takes
    /// [`send_message_general`](Self::send_message_general), which judges
    /// the same conditions one by one and comes to the same frame here.
    #[inline]
    fn send_message(&mut self, kind: MessageKind, payload: Payload<'_>) -> Result<(), SendError> {
        let len = payload.as_slice().len();
        let plain = self.life.is_open()
            && self.sending.is_none()
            && !self.role.masks_outgoing()
            && !self.codec.is_deflate()
            && self
                .config
                .max_send_frame
                .is_none_or(|max| max == 0 || len <= max);
        if plain {
            self.push_frame(data_opcode(kind), Rsv::NONE, true, None, payload);
            return Ok(());
        }
        self.send_message_general(kind, payload)
    }

    fn send_message_general(
        &mut self,
        kind: MessageKind,
        payload: Payload<'_>,
    ) -> Result<(), SendError> {
        self.check_can_send_data()?;
        if self.sending.is_some() {
            return Err(SendError::MessageInProgress);
        }
        if self.role.masks_outgoing() && self.config.random.is_none() {
            return Err(SendError::NoRandomSource);
        }
        let opcode = data_opcode(kind);
        let encoded = self.codec.encode_message(payload.as_slice());
        let (payload, rsv) = encoded_or_plain(encoded, payload);
        let len = payload.as_slice().len();
        match self.config.max_send_frame {
            Some(max) if max > 0 && len > max => {
                let mut at = 0;
                while at < len {
                    let end = len.min(at + max);
                    let piece = match &payload {
                        Payload::Borrowed(b) => Payload::Borrowed(&b[at..end]),
                        Payload::Shared(b) => Payload::Shared(b.slice(at..end)),
                    };
                    let op = if at == 0 {
                        opcode
                    } else {
                        OpCode::Continuation
                    };
                    let mask = self.next_mask()?;
                    let rsv = if at == 0 { rsv } else { Rsv::NONE };
                    self.push_frame(op, rsv, end == len, mask, piece);
                    at = end;
                }
            }
            _ => {
                let mask = self.next_mask()?;
                self.push_frame(opcode, rsv, true, mask, payload);
            }
        }
        Ok(())
    }

    /// Queues our close frame; `None` sends an empty body.
    fn queue_close(&mut self, code: Option<CloseCode>, reason: &str) {
        // A pong still owed goes first: nothing may follow the close.
        self.flush_owed_pong();
        let mut body = [0; 125];
        let len = match code {
            Some(code) => {
                body[..2].copy_from_slice(&code.0.to_be_bytes());
                body[2..2 + reason.len()].copy_from_slice(reason.as_bytes());
                2 + reason.len()
            }
            None => 0,
        };
        self.push_control(OpCode::Close, &body[..len]);
    }

    fn push_control(&mut self, opcode: OpCode, payload: &[u8]) {
        // A client without a random source cannot send; the public entry
        // points reject that case, and owed frames are dropped with it.
        if let Ok(mask) = self.next_mask() {
            self.push_frame(opcode, Rsv::NONE, true, mask, Payload::Borrowed(payload));
        }
    }

    /// Queues one frame; `rsv` is what the codec set on the first frame of
    /// a transformed message, and none otherwise.
    #[inline]
    fn push_frame(
        &mut self,
        opcode: OpCode,
        rsv: Rsv,
        fin: bool,
        mask: Option<[u8; 4]>,
        payload: Payload<'_>,
    ) {
        let header = FrameHeader {
            fin,
            rsv,
            opcode,
            mask,
            payload_len: payload.as_slice().len() as u64,
        };
        self.outbound.push_frame(header, payload);
    }

    /// A fresh masking key for a client frame (§5.3), `None` for a server.
    fn next_mask(&self) -> Result<Option<[u8; 4]>, SendError> {
        if !self.role.masks_outgoing() {
            return Ok(None);
        }
        let random = self.config.random.ok_or(SendError::NoRandomSource)?;
        let mut key = [0; 4];
        random(&mut key);
        Ok(Some(key))
    }
}

/// The payload to send and the reserved bits of its message's first frame:
/// what the codec made of the message, or `plain` as it is, unmarked.
fn encoded_or_plain(encoded: Option<(Bytes, Rsv)>, plain: Payload<'_>) -> (Payload<'_>, Rsv) {
    match encoded {
        Some((bytes, rsv)) => (Payload::Shared(bytes), rsv),
        None => (plain, Rsv::NONE),
    }
}

fn data_opcode(kind: MessageKind) -> OpCode {
    match kind {
        MessageKind::Text => OpCode::Text,
        MessageKind::Binary => OpCode::Binary,
    }
}

/// A close reason built from an error message, cut to fit a close frame on
/// a character boundary.
struct ReasonBuf {
    bytes: [u8; MAX_REASON_LEN],
    len: usize,
}

impl Default for ReasonBuf {
    fn default() -> Self {
        ReasonBuf {
            bytes: [0; MAX_REASON_LEN],
            len: 0,
        }
    }
}

impl ReasonBuf {
    fn as_str(&self) -> &str {
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

impl core::fmt::Write for ReasonBuf {
    fn write_str(&mut self, s: &str) -> core::fmt::Result {
        for c in s.chars() {
            let mut utf8 = [0; 4];
            let encoded = c.encode_utf8(&mut utf8).as_bytes();
            if self.len + encoded.len() > MAX_REASON_LEN {
                return Err(core::fmt::Error);
            }
            self.bytes[self.len..self.len + encoded.len()].copy_from_slice(encoded);
            self.len += encoded.len();
        }
        Ok(())
    }
}
