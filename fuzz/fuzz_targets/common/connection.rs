//! The harness shared by the `connection_server` and `connection_client`
//! targets: a `Connection` of either role fed arbitrary bytes as its peer's
//! frames (masked for a server, unmasked for a client), in chunks, run as the
//! crate docs' run loop says: after each chunk every event is
//! drained (data echoed back), the application occasionally sends a ping, a
//! message of its own or a close, time passes through `handle_timeout`, and
//! the output is drained in pieces of varied size.
//!
//! The first byte is the configuration: bit 0 `deliver_fragments`, bit 1
//! `auto_pong`, bits 2-3 `max_send_frame` (none, 0, 1, 7), bit 4
//! `echo_close_code`, bit 5 a keepalive (1 s, timeout 2 s), bit 6 tight
//! limits (frame 300, message 1000, 4 fragments) instead of the small ones
//! (64 KiB, 64 KiB, 100), bit 7 reads through `receive_buffer`. Then
//! chunks, each after a control byte: bits 0-4 its length less one (31: all
//! the rest), bits 5-7 the action after it (4 ping, 5 own message, 6 close,
//! 7 time passes). Bit 3 of the first byte ends with `handle_eof`.
//!
//! Events are drained with `poll_event` and `poll_event_ref` mixed call by
//! call (bit 3 of the control byte picks the first, then they alternate),
//! the lent events taken as owned ones: every invariant holds for both.
//!
//! Invariants asserted:
//! - no panic, whatever the input;
//! - a protocol error is returned once; from then on `poll_event` returns
//!   `Ok(None)`, `state()` is `Closed`, and sending fails with `Closed`;
//! - no event exceeds the limits: a message is within `max_message_size`, a
//!   fragment within `max_frame_payload` and its message within
//!   `max_message_size`, control payloads within 125 bytes; text (whole, or
//!   the fragments of a message together) is valid UTF-8; fragments come
//!   exactly when `deliver_fragments` is on;
//! - everything written decodes as valid frames of this role (a decoder of
//!   the peer's role, with a large payload limit): no error, and no partial
//!   frame once the output is drained; the data messages in it are exactly
//!   those sent successfully, in order; pongs answer received pings (none
//!   without `auto_pong`); at most one close frame, valid, and no data or
//!   ping after it;
//! - after a protocol error the last frame written is a close frame whose
//!   code is `error.close_code()` (unless `close` had already sent ours);
//!   a received close frame is answered with its code (or 1000, with
//!   `echo_close_code` off; an empty body for an empty body);
//! - after `handle_eof`, the state is `Closed` and `should_close_transport`.
//!
//! Each target is `fuzz_target!(|data: &[u8]| connection::run(ROLE, data));`.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use wsproto::close::ClosePayload;
use wsproto::frame::{FrameDecoder, OpCode, Status};
use wsproto::{
    CloseCause, CloseCode, Config, Connection, Event, EventRef, MessageKind, ProtocolError, Role,
    SendError, State,
};

/// The ping payload the keepalive timer sends.
const KEEPALIVE_PING: &[u8] = b"keepalive";

/// The ping payload the harness sends.
const OUR_PING: &[u8] = b"fz";

/// Values of `Config::max_send_frame`, picked by bits 2-3 of the first byte.
const MAX_SEND_FRAME: [Option<usize>; 4] = [None, Some(0), Some(1), Some(7)];

/// A deterministic masking-key source (a client needs one), reset per input.
static SEED: AtomicU32 = AtomicU32::new(0);

fn random(buf: &mut [u8]) {
    for b in buf {
        let x = SEED.fetch_add(0x9e37_79b9, Ordering::Relaxed);
        *b = (x >> 24) as u8 ^ (x >> 7) as u8;
    }
}

/// Runs one input against an endpoint of `role`; its peer's frames are what
/// the input should hold.
pub fn run(role: Role, data: &[u8]) {
    let Some((&setup, mut input)) = data.split_first() else {
        return;
    };
    SEED.store(0, Ordering::Relaxed);
    let tight = setup & 0x40 != 0;
    let config = Config::default()
        .max_frame_payload(if tight { 300 } else { 64 << 10 })
        .max_message_size(if tight { 1000 } else { 64 << 10 })
        .max_fragments(if tight { 4 } else { 100 })
        .deliver_fragments(setup & 0x01 != 0)
        .auto_pong(setup & 0x02 != 0)
        .max_send_frame(MAX_SEND_FRAME[usize::from(setup >> 2) & 3])
        .echo_close_code(setup & 0x10 != 0)
        .keepalive_interval((setup & 0x20 != 0).then_some(Duration::from_secs(1)))
        .keepalive_timeout(Duration::from_secs(2))
        .close_timeout(Duration::from_secs(5))
        .random(Some(random));
    let mut h = Harness::new(role, config, setup & 0x80 != 0);

    // The rest is chunks, each after a control byte: bits 0-4 the chunk's
    // length less one (31: all the rest), bits 5-7 what to do after it.
    while let Some((&control, rest)) = input.split_first() {
        let len = match control & 0x1f {
            0x1f => rest.len(),
            n => usize::from(n + 1).min(rest.len()),
        };
        let (chunk, rest) = rest.split_at(len);
        input = rest;
        h.feed(chunk, control);
        h.drain_events(control);
        match control >> 5 {
            4 => h.ping(),
            5 => h.send_own(control),
            6 => h.close(control),
            7 => h.tick(control),
            _ => {}
        }
        h.flush(control);
    }
    h.finish(setup & 0x08 != 0);
}

/// The connection under test and everything known about what it should do.
struct Harness {
    conn: Connection,
    limits: (u64, u64),
    deliver_fragments: bool,
    auto_pong: bool,
    echo_close_code: bool,
    /// Read through `receive_buffer` rather than `handle_input`.
    direct_reads: bool,
    now: Duration,
    /// The protocol error returned, once.
    error: Option<ProtocolError>,
    /// Whether `close` succeeded (our close frame queued before any error).
    we_closed: bool,
    /// The peer's close frame, once received.
    peer_close: Option<Option<CloseCode>>,
    /// Fragments delivered of the message being received: kind and bytes.
    receiving: Option<(MessageKind, Vec<u8>)>,
    /// A fragmented echo being sent: its bytes so far.
    echoing: Option<(MessageKind, Vec<u8>)>,
    /// Ping payloads received (a pong must answer one of them).
    pings: Vec<Vec<u8>>,
    out: Output,
}

impl Harness {
    fn new(role: Role, config: Config, direct_reads: bool) -> Harness {
        Harness {
            limits: (config.max_frame_payload, config.max_message_size),
            deliver_fragments: config.deliver_fragments,
            auto_pong: config.auto_pong,
            echo_close_code: config.echo_close_code,
            conn: Connection::new(role, config),
            direct_reads,
            now: Duration::ZERO,
            error: None,
            we_closed: false,
            peer_close: None,
            receiving: None,
            echoing: None,
            pings: Vec::new(),
            out: Output::new(role),
        }
    }

    fn feed(&mut self, chunk: &[u8], control: u8) {
        // The receive buffer takes bytes even when closed; they must be ignored.
        if self.direct_reads && control & 1 == 0 {
            // As a read does: room lent, written in part, the read bytes
            // committed; the rest of the room (scribbled on) is not input.
            let mut lender = self.conn.receive_buffer();
            let room = lender.spare(chunk.len() + usize::from(control >> 4));
            room[..chunk.len()].copy_from_slice(chunk);
            room[chunk.len()..].fill(0xA5);
            if control & 2 == 0 {
                lender.commit(chunk.len());
            } else {
                // A loan given up: nothing arrives, then the same bytes by copy.
                drop(lender);
                self.conn.receive_buffer().extend_from_slice(chunk);
            }
        } else {
            self.conn.handle_input(chunk);
        }
        // Every so often the run loop reads the clock between input and events.
        if control & 4 != 0 {
            let _ = self.conn.poll_timeout(self.now);
        }
    }

    /// Step 2 of the run loop: every event, each checked and echoed.
    fn drain_events(&mut self, control: u8) {
        let mut lent = control & 8 != 0;
        loop {
            lent = !lent;
            let next = match lent {
                true => self
                    .conn
                    .poll_event_ref()
                    .map(|e| e.map(EventRef::into_owned)),
                false => self.conn.poll_event(),
            };
            match next {
                Ok(Some(event)) => {
                    assert!(self.error.is_none(), "an event after the error: {event:?}");
                    self.on_event(event);
                }
                Ok(None) => break,
                Err(error) => {
                    assert!(
                        self.error.is_none(),
                        "a second error: {error:?} after {:?}",
                        self.error
                    );
                    assert_eq!(self.conn.state(), State::Closed);
                    assert_eq!(
                        self.conn.close_cause(),
                        Some(&CloseCause::Failed(error.clone())),
                        "the cause stays readable"
                    );
                    // Sticky: inert from now on.
                    assert_eq!(self.conn.poll_event(), Ok(None));
                    assert_eq!(self.conn.send_text("x"), Err(SendError::Closed));
                    self.error = Some(error);
                    break;
                }
            }
        }
    }

    fn on_event(&mut self, event: Event) {
        let (max_frame, max_message) = self.limits;
        match event {
            Event::Text(text) => {
                assert!(!self.deliver_fragments);
                assert!(text.len() as u64 <= max_message);
                assert!(std::str::from_utf8(text.as_bytes()).is_ok());
                let bytes = text.as_bytes().to_vec();
                if self.conn.send_text(text).is_ok() {
                    self.out.expected.push_back((MessageKind::Text, bytes));
                }
            }
            Event::Binary(data) => {
                assert!(!self.deliver_fragments);
                assert!(data.len() as u64 <= max_message);
                let bytes = data.to_vec();
                if self.conn.send_binary(data).is_ok() {
                    self.out.expected.push_back((MessageKind::Binary, bytes));
                }
            }
            Event::Fragment {
                kind,
                data,
                is_last,
            } => {
                assert!(self.deliver_fragments);
                assert!(data.len() as u64 <= max_frame);
                let (got_kind, so_far) = self.receiving.get_or_insert((kind, Vec::new()));
                assert_eq!(*got_kind, kind, "the kind changed inside a message");
                so_far.extend_from_slice(&data);
                assert!(so_far.len() as u64 <= max_message);
                if is_last {
                    if kind == MessageKind::Text {
                        assert!(std::str::from_utf8(so_far).is_ok());
                    }
                    self.receiving = None;
                }
                self.echo_fragment(kind, &data, is_last);
            }
            Event::Ping(payload) => {
                assert!(payload.len() <= 125);
                self.pings.push(payload.to_vec());
            }
            Event::Pong(payload) => assert!(payload.len() <= 125),
            Event::Close(frame) => {
                assert!(frame.reason.len() <= 123);
                assert_eq!(self.conn.state(), State::Closed);
                assert_eq!(self.conn.poll_event(), Ok(None));
                let code = (frame.code != CloseCode::NO_STATUS).then_some(frame.code);
                self.peer_close = Some(code);
            }
            other => panic!("an event of a kind not asked for: {other:?}"),
        }
    }

    /// Sends a piece back; a message sent must show up in the output, in order.
    fn echo_fragment(&mut self, kind: MessageKind, data: &[u8], is_last: bool) {
        if self.conn.send_fragment(kind, data, is_last).is_ok() {
            let (_, so_far) = self.echoing.get_or_insert((kind, Vec::new()));
            so_far.extend_from_slice(data);
            if is_last {
                let message = self.echoing.take().unwrap();
                self.out.expected.push_back(message);
            }
        }
    }

    fn ping(&mut self) {
        let _ = self.conn.send_ping(OUR_PING);
    }

    /// A message of our own, between the echoes.
    fn send_own(&mut self, control: u8) {
        let data = vec![control; usize::from(control & 0x1f)];
        let (kind, sent) = if control & 1 == 0 {
            (MessageKind::Binary, self.conn.send_binary(&data))
        } else {
            let text = String::from_utf8(vec![b'a'; data.len()]).unwrap();
            (MessageKind::Text, self.conn.send_text(&text))
        };
        if sent.is_ok() {
            let bytes = if kind == MessageKind::Text {
                vec![b'a'; data.len()]
            } else {
                data
            };
            self.out.expected.push_back((kind, bytes));
        }
    }

    fn close(&mut self, control: u8) {
        let code = if control & 1 == 0 {
            CloseCode::NORMAL
        } else {
            CloseCode(4000 + u16::from(control & 0x1f))
        };
        if self.conn.close(code, "fz").is_ok() {
            assert!(self.error.is_none() && self.peer_close.is_none());
            self.we_closed = true;
            assert_eq!(self.conn.state(), State::Closing);
        }
    }

    /// Time passes: a quarter second per unit of the control byte's low bits.
    fn tick(&mut self, control: u8) {
        self.now += Duration::from_millis(250) * (u32::from(control & 0x1f) + 1);
        self.conn.handle_timeout(self.now);
    }

    /// Step 4 of the run loop: write everything, in pieces of varied size.
    fn flush(&mut self, control: u8) {
        let step = 1 + usize::from(control) * 37;
        if control & 0x80 != 0 {
            loop {
                let mut slices: [&[u8]; 3] = [&[]; 3];
                let n = self.conn.transmit_chunks(&mut slices);
                if n == 0 {
                    break;
                }
                let mut written = 0;
                for s in &slices[..n] {
                    assert!(!s.is_empty());
                    self.out.wire.extend_from_slice(s);
                    written += s.len();
                }
                self.conn.advance_transmit(written);
            }
        } else {
            while let Some(bytes) = self.conn.poll_transmit() {
                assert!(!bytes.is_empty());
                let n = bytes.len().min(step);
                self.out.wire.extend_from_slice(&bytes[..n]);
                self.conn.advance_transmit(n);
            }
        }
        assert_eq!(self.conn.pending_transmit(), 0);
        // Drained output is whole frames.
        self.out.decode(&self.pings, self.auto_pong);
        self.check_closes();
    }

    /// Whatever ended the connection, the right close frame went out.
    fn check_closes(&mut self) {
        let last = self.out.last_close;
        if let Some(error) = &self.error {
            // §7.1.7: the failure's close code, unless ours was already sent.
            let sent = last.expect("no close frame after a protocol error");
            if !self.we_closed {
                assert_eq!(sent, Some(error.close_code()), "{error:?}");
            }
        } else if let Some(code) = self.peer_close {
            // §5.5.1: a close frame is answered, echoing the code (or 1000).
            let sent = last.expect("the peer's close frame was not answered");
            if !self.we_closed && self.out.closes == 1 {
                let expected = match code {
                    Some(code) if self.echo_close_code => Some(code),
                    Some(_) => Some(CloseCode::NORMAL),
                    None => None,
                };
                assert_eq!(sent, expected);
            }
        }
        if self.we_closed {
            assert!(last.is_some());
        }
    }

    fn finish(mut self, eof: bool) {
        if eof {
            self.conn.handle_eof();
            assert_eq!(self.conn.state(), State::Closed);
            self.drain_events(0);
            self.flush(0);
            assert!(self.conn.should_close_transport());
        }
        if self.conn.state() == State::Closed {
            assert!(self.conn.close_status().is_some());
            assert_eq!(self.conn.poll_event(), Ok(None));
        }
        assert!(self.out.partial_message_only(self.echoing.as_ref()));
    }
}

/// Everything written, decoded as the peer would.
struct Output {
    /// The role of the endpoint under test (the output is decoded as its peer).
    role: Role,
    wire: Vec<u8>,
    /// Where the next frame starts.
    pos: usize,
    /// Data messages sent successfully, not yet seen in the output.
    expected: VecDeque<(MessageKind, Vec<u8>)>,
    /// The data message being decoded from the output.
    message: Option<(MessageKind, Vec<u8>)>,
    /// How many close frames were written, and the last one's code.
    closes: usize,
    last_close: Option<Option<CloseCode>>,
}

impl Output {
    fn new(role: Role) -> Output {
        Output {
            role,
            wire: Vec::new(),
            pos: 0,
            expected: VecDeque::new(),
            message: None,
            closes: 0,
            last_close: None,
        }
    }

    fn decode(&mut self, pings: &[Vec<u8>], auto_pong: bool) {
        let decoder = FrameDecoder::new(self.role.peer()).with_max_payload(1 << 30);
        while self.pos < self.wire.len() {
            let frame = match decoder.decode(&mut self.wire[self.pos..]) {
                Ok(Status::Complete(frame)) => frame,
                Ok(Status::Partial) => panic!("a partial frame after a full drain"),
                Err(e) => panic!("invalid output frame: {e:?}"),
            };
            self.pos += frame.consumed;
            let (header, payload) = (frame.header, frame.payload.to_vec());
            if header.opcode.is_control() {
                assert!(header.fin && payload.len() <= 125);
            }
            match header.opcode {
                OpCode::Text | OpCode::Binary | OpCode::Continuation => {
                    // §5.5.1: "MUST NOT send any more data frames after
                    // sending a Close frame."
                    assert_eq!(self.closes, 0, "a data frame after our close frame");
                    let kind = match header.opcode {
                        OpCode::Text => Some(MessageKind::Text),
                        OpCode::Binary => Some(MessageKind::Binary),
                        _ => None,
                    };
                    match (&mut self.message, kind) {
                        (None, Some(kind)) => self.message = Some((kind, payload)),
                        (Some((_, so_far)), None) => so_far.extend_from_slice(&payload),
                        _ => panic!("bad data frame sequence in the output"),
                    }
                    if header.fin {
                        let message = self.message.take().unwrap();
                        if message.0 == MessageKind::Text {
                            assert!(std::str::from_utf8(&message.1).is_ok());
                        }
                        let expected = self.expected.pop_front();
                        assert!(
                            expected.as_ref() == Some(&message),
                            "sent {:?}, expected {expected:?}",
                            message
                        );
                    }
                }
                OpCode::Ping => {
                    assert_eq!(self.closes, 0, "a ping after our close frame");
                    assert!(payload == OUR_PING || payload == KEEPALIVE_PING);
                }
                OpCode::Pong => {
                    assert!(auto_pong, "a pong without auto_pong");
                    assert!(pings.contains(&payload), "a pong for no ping");
                }
                OpCode::Close => {
                    let parsed = ClosePayload::parse(&payload).expect("an invalid close frame");
                    self.closes += 1;
                    assert_eq!(self.closes, 1, "a second close frame");
                    self.last_close = Some(parsed.code);
                }
            }
        }
    }

    /// Every message sent came out, except the fragmented one in progress.
    fn partial_message_only(&self, echoing: Option<&(MessageKind, Vec<u8>)>) -> bool {
        self.expected.is_empty()
            && match (&self.message, echoing) {
                (None, _) => true,
                (Some(out), Some(sending)) => out == sending,
                (Some(_), None) => false,
            }
    }
}
