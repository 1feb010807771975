//! Differential testing against tungstenite: the same random conversation
//! from a client, fed to a wsproto server `Connection` and to a tungstenite
//! server `WebSocket` over an in-memory stream, must give the same messages,
//! the same accept/reject decision at the same point (with the same close
//! code), and the same pongs and close replies on the wire.
//!
//! A conversation is a list of steps, each a few whole frames: valid
//! messages (text or binary, whole or fragmented with pings and pongs
//! between the fragments), pings, pongs, closes with codes valid and not,
//! and corruptions each breaking one rule (reserved bits, reserved opcodes,
//! bad UTF-8, oversized or fragmented control frames, a continuation with
//! nothing to continue, a new message inside a fragmented one, an unmasked
//! frame, a one-byte or non-UTF-8 close body, frame and message size
//! limits, a 64-bit length with its top bit set) or a frame with random
//! fields. Both endpoints are fed one step at a time, so every outcome is
//! placed at the step that caused it. Both have the same limits.
//!
//! Where the two differ, `known_difference` names the case and says which
//! RFC sentence decides it; anything else fails the test.

mod endpoints;

use std::io::{self, Read, Write};

use endpoints::{drain_output, frames_sent_by, raw_frame};
use proptest::prelude::*;
use tungstenite::protocol::{Role as TRole, WebSocket, WebSocketConfig};
use tungstenite::{Error as TError, Message};
use wsproto::close::ClosePayload;
use wsproto::frame::OpCode;
use wsproto::{CloseCode, Config, Connection, Event, ProtocolError, Role};

/// The frame payload limit, on both sides.
const MAX_FRAME: usize = 300;
/// The message size limit, on both sides.
const MAX_MESSAGE: usize = 600;

// --- the conversation --------------------------------------------------------

/// A ping or pong between the fragments of a message.
#[derive(Clone, Debug)]
struct Control {
    ping: bool,
    payload: Vec<u8>,
}

/// A close frame's body.
#[derive(Clone, Debug)]
enum CloseBody {
    Empty,
    OneByte(u8),
    Code(u16, String),
    /// A code followed by bytes that are not UTF-8.
    BadReason(u16),
}

/// One step of a client's side of a conversation.
#[derive(Clone, Debug)]
enum Step {
    /// A data message: text (then `data` is UTF-8) or binary, cut at
    /// `splits` into fragments, with `controls` after the first fragments.
    Message {
        text: bool,
        data: Vec<u8>,
        splits: Vec<usize>,
        controls: Vec<Control>,
    },
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    Close(CloseBody),
    /// A valid text frame with reserved bits set (1-7).
    ReservedBits(u8),
    /// A frame with opcode 3-7 or 11-15.
    ReservedOpcode(u8),
    /// Text that is not UTF-8, maybe fragmented with a ping in between.
    BadUtf8 {
        data: Vec<u8>,
        split: Option<usize>,
    },
    /// A ping, pong or close of 126 to 200 bytes.
    OversizedControl {
        opcode: u8,
        len: usize,
    },
    /// A ping, pong or close with FIN clear.
    FragmentedControl(u8),
    /// A continuation frame with no message open.
    LoneContinuation {
        fin: bool,
    },
    /// A fragmented message's first frame, then a new message.
    NewMessageInside,
    /// A valid text frame, not masked.
    Unmasked,
    /// A binary frame over the frame limit.
    FrameTooLarge(usize),
    /// Fragments each within the frame limit, together over the message limit.
    MessageTooLarge,
    /// A 64-bit length with its top bit set.
    LengthMsbSet,
    /// A frame with random fields.
    Random {
        fin: bool,
        rsv: u8,
        opcode: u8,
        masked: bool,
        payload: Vec<u8>,
    },
}

/// Masking keys: varied, deterministic.
fn key(n: usize) -> Option<[u8; 4]> {
    let n = n as u8;
    Some([0x37 ^ n, 0xfa, n.wrapping_mul(29), 0x3d])
}

fn frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    raw_frame(fin, 0, opcode, key(payload.len()), payload)
}

fn control(c: &Control) -> Vec<u8> {
    frame(true, if c.ping { 0x9 } else { 0xa }, &c.payload)
}

impl Step {
    /// The bytes a client sends for this step.
    fn wire(&self) -> Vec<u8> {
        match self {
            Step::Message {
                text,
                data,
                splits,
                controls,
            } => {
                let mut cuts: Vec<usize> = splits.iter().map(|s| s % (data.len() + 1)).collect();
                cuts.sort_unstable();
                cuts.dedup();
                let mut out = Vec::new();
                let mut start = 0;
                let mut pieces = Vec::new();
                for cut in cuts {
                    pieces.push(&data[start..cut]);
                    start = cut;
                }
                pieces.push(&data[start..]);
                let last = pieces.len() - 1;
                for (i, piece) in pieces.iter().enumerate() {
                    let opcode = match (i, text) {
                        (0, true) => 0x1,
                        (0, false) => 0x2,
                        _ => 0x0,
                    };
                    out.extend(frame(i == last, opcode, piece));
                    if i < last {
                        if let Some(c) = controls.get(i) {
                            out.extend(control(c));
                        }
                    }
                }
                out
            }
            Step::Ping(p) => frame(true, 0x9, p),
            Step::Pong(p) => frame(true, 0xa, p),
            Step::Close(body) => {
                let payload = match body {
                    CloseBody::Empty => Vec::new(),
                    CloseBody::OneByte(b) => vec![*b],
                    CloseBody::Code(code, reason) => {
                        [&code.to_be_bytes()[..], reason.as_bytes()].concat()
                    }
                    CloseBody::BadReason(code) => [&code.to_be_bytes()[..], b"ok\xff"].concat(),
                };
                frame(true, 0x8, &payload)
            }
            Step::ReservedBits(rsv) => raw_frame(true, *rsv, 0x1, key(1), b"rsv"),
            Step::ReservedOpcode(op) => frame(true, *op, b"op"),
            Step::BadUtf8 { data, split } => match split {
                None => frame(true, 0x1, data),
                Some(at) => {
                    let at = at % (data.len() + 1);
                    [
                        frame(false, 0x1, &data[..at]),
                        frame(true, 0x9, b"between"),
                        frame(true, 0x0, &data[at..]),
                    ]
                    .concat()
                }
            },
            Step::OversizedControl { opcode, len } => {
                // A close body that would be valid but for its length.
                let mut payload = vec![b'a'; *len];
                payload[..2].copy_from_slice(&1000u16.to_be_bytes());
                frame(true, *opcode, &payload)
            }
            Step::FragmentedControl(opcode) => frame(false, *opcode, &1000u16.to_be_bytes()),
            Step::LoneContinuation { fin } => frame(*fin, 0x0, b"cont"),
            Step::NewMessageInside => {
                [frame(false, 0x1, b"one"), frame(true, 0x1, b"two")].concat()
            }
            Step::Unmasked => raw_frame(true, 0, 0x1, None, b"bare"),
            Step::FrameTooLarge(len) => frame(true, 0x2, &vec![7; *len]),
            Step::MessageTooLarge => {
                let piece = [b'm'; 250];
                [
                    frame(false, 0x2, &piece),
                    frame(false, 0x0, &piece),
                    frame(true, 0x0, &piece),
                ]
                .concat()
            }
            Step::LengthMsbSet => {
                let mut out = vec![0x82, 0x80 | 127];
                out.extend_from_slice(&(1u64 << 63 | 5).to_be_bytes());
                out.extend_from_slice(&[1, 2, 3, 4]);
                out.extend_from_slice(b"hello");
                out
            }
            Step::Random {
                fin,
                rsv,
                opcode,
                masked,
                payload,
            } => raw_frame(
                *fin,
                *rsv,
                *opcode,
                if *masked { key(3) } else { None },
                payload,
            ),
        }
    }
}

fn close_code() -> impl Strategy<Value = u16> {
    prop_oneof![
        3 => prop::sample::select(vec![
            0u16, 1, 999, 1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1010,
            1011, 1012, 1013, 1014, 1015, 1016, 1100, 2000, 2999, 3000, 3999, 4000, 4999, 5000,
            65535,
        ]),
        1 => any::<u16>(),
    ]
}

fn controls() -> impl Strategy<Value = Vec<Control>> {
    prop::collection::vec(
        (any::<bool>(), prop::collection::vec(any::<u8>(), 0..8))
            .prop_map(|(ping, payload)| Control { ping, payload }),
        0..3,
    )
}

fn step() -> impl Strategy<Value = Step> {
    let splits = prop::collection::vec(any::<usize>(), 0..4);
    prop_oneof![
        6 => ("\\PC{0,40}", splits.clone(), controls()).prop_map(|(s, splits, controls)| {
            Step::Message { text: true, data: s.into_bytes(), splits, controls }
        }),
        3 => (prop::collection::vec(any::<u8>(), 0..350), splits, controls()).prop_map(
            |(data, splits, controls)| Step::Message { text: false, data, splits, controls }
        ),
        2 => prop::collection::vec(any::<u8>(), 0..=125).prop_map(Step::Ping),
        1 => prop::collection::vec(any::<u8>(), 0..=125).prop_map(Step::Pong),
        1 => Just(Step::Close(CloseBody::Empty)),
        1 => any::<u8>().prop_map(|b| Step::Close(CloseBody::OneByte(b))),
        3 => (close_code(), "[a-z ]{0,20}").prop_map(|(c, r)| Step::Close(CloseBody::Code(c, r))),
        1 => close_code().prop_map(|c| Step::Close(CloseBody::BadReason(c))),
        1 => (1u8..8).prop_map(Step::ReservedBits),
        1 => prop::sample::select(vec![3u8, 4, 5, 6, 7, 11, 12, 13, 14, 15])
            .prop_map(Step::ReservedOpcode),
        2 => (
            prop::sample::select(vec![
                &b"\xff"[..],
                b"\xc0\xaf",
                b"\xed\xa0\x80",
                b"\xf4\x90\x80\x80",
                b"\xf0\x80\x80",
                b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",
                b"ok\xe2\x82",
                b"\x80",
            ]),
            any::<bool>(),
            any::<usize>(),
        )
            .prop_map(|(bad, fragmented, at)| {
                let data = [&b"fine "[..], bad].concat();
                Step::BadUtf8 { data, split: fragmented.then_some(at) }
            }),
        1 => (prop::sample::select(vec![0x8u8, 0x9, 0xa]), 126usize..=200)
            .prop_map(|(opcode, len)| Step::OversizedControl { opcode, len }),
        1 => prop::sample::select(vec![0x8u8, 0x9, 0xa]).prop_map(Step::FragmentedControl),
        1 => any::<bool>().prop_map(|fin| Step::LoneContinuation { fin }),
        1 => Just(Step::NewMessageInside),
        1 => Just(Step::Unmasked),
        1 => (MAX_FRAME + 1..MAX_FRAME + 40).prop_map(Step::FrameTooLarge),
        1 => Just(Step::MessageTooLarge),
        1 => Just(Step::LengthMsbSet),
        2 => (
            any::<bool>(),
            prop_oneof![3 => Just(0u8), 1 => 0u8..8],
            0u8..16,
            prop::bool::weighted(0.9),
            prop::collection::vec(any::<u8>(), 0..140),
        )
            .prop_map(|(fin, rsv, opcode, masked, payload)| Step::Random {
                fin,
                rsv,
                opcode,
                masked,
                payload,
            }),
    ]
}

// --- running it ----------------------------------------------------------------

/// What a server saw: a delivered message, at a step.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Delivered {
    Text(String),
    Binary(Vec<u8>),
    Ping(Vec<u8>),
    Pong(Vec<u8>),
    /// The close frame's code and reason (`None` for an empty body).
    Close(Option<(u16, String)>),
}

/// A control frame a server wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Written {
    Pong(Vec<u8>),
    Close(Option<u16>),
}

/// How a conversation went for one implementation.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Outcome {
    /// Each message with the index of the step it arrived in.
    delivered: Vec<(usize, Delivered)>,
    /// The step at which the connection failed, and the close code the
    /// failure calls for (RFC 6455 §7.4.1).
    failed: Option<(usize, u16)>,
    /// Pongs and close frames written, in order.
    written: Vec<Written>,
}

fn written_by_server(wire: Vec<u8>) -> Vec<Written> {
    frames_sent_by(Role::Server, wire)
        .into_iter()
        .map(|(h, p)| match h.opcode {
            OpCode::Pong => Written::Pong(p),
            OpCode::Close => Written::Close(
                ClosePayload::parse(&p)
                    .expect("a server wrote an invalid close frame")
                    .code
                    .map(|c| c.0),
            ),
            other => panic!("a server wrote a {other:?} frame to a silent application"),
        })
        .collect()
}

fn run_wsproto(steps: &[Vec<u8>]) -> (Outcome, Option<ProtocolError>) {
    let config = Config::default()
        .max_frame_payload(MAX_FRAME as u64)
        .max_message_size(MAX_MESSAGE as u64);
    let mut conn = Connection::new(Role::Server, config);
    let mut out = Outcome {
        delivered: Vec::new(),
        failed: None,
        written: Vec::new(),
    };
    let mut error = None;
    let mut wire = Vec::new();
    for (i, bytes) in steps.iter().enumerate() {
        conn.handle_input(bytes);
        loop {
            match conn.poll_event() {
                Ok(Some(event)) => {
                    assert!(out.failed.is_none());
                    let d = match event {
                        Event::Text(t) => Delivered::Text(t.as_str().to_owned()),
                        Event::Binary(b) => Delivered::Binary(b.to_vec()),
                        Event::Ping(p) => Delivered::Ping(p.to_vec()),
                        Event::Pong(p) => Delivered::Pong(p.to_vec()),
                        Event::Close(f) => Delivered::Close(
                            (f.code != CloseCode::NO_STATUS)
                                .then(|| (f.code.0, f.reason.as_str().to_owned())),
                        ),
                        other => panic!("not asked for: {other:?}"),
                    };
                    out.delivered.push((i, d));
                }
                Ok(None) => break,
                Err(e) => {
                    out.failed = Some((i, e.close_code().0));
                    error = Some(e);
                    break;
                }
            }
        }
        wire.extend(drain_output(&mut conn));
    }
    out.written = written_by_server(wire);
    (out, error)
}

/// An in-memory socket: reads what was appended, then `WouldBlock`.
#[derive(Default)]
struct Pipe {
    input: Vec<u8>,
    pos: usize,
    output: Vec<u8>,
}

impl Read for Pipe {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.input.len() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        let n = buf.len().min(self.input.len() - self.pos);
        buf[..n].copy_from_slice(&self.input[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl Write for Pipe {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The close code a tungstenite read error calls for (§7.4.1).
fn tungstenite_code(e: &TError) -> u16 {
    match e {
        TError::Utf8(_) => 1007,
        TError::Capacity(_) => 1009,
        TError::Protocol(_) => 1002,
        other => panic!("unexpected tungstenite error {other:?}"),
    }
}

fn run_tungstenite(steps: &[Vec<u8>]) -> Outcome {
    let config = WebSocketConfig::default()
        .max_frame_size(Some(MAX_FRAME))
        .max_message_size(Some(MAX_MESSAGE));
    let mut ws = WebSocket::from_raw_socket(Pipe::default(), TRole::Server, Some(config));
    let mut out = Outcome {
        delivered: Vec::new(),
        failed: None,
        written: Vec::new(),
    };
    let mut ended = false;
    for (i, bytes) in steps.iter().enumerate() {
        ws.get_mut().input.extend_from_slice(bytes);
        while !ended {
            match ws.read() {
                Ok(message) => {
                    let d = match message {
                        Message::Text(t) => Delivered::Text(t.as_str().to_owned()),
                        Message::Binary(b) => Delivered::Binary(b.to_vec()),
                        Message::Ping(p) => Delivered::Ping(p.to_vec()),
                        Message::Pong(p) => Delivered::Pong(p.to_vec()),
                        Message::Close(f) => {
                            Delivered::Close(f.map(|f| (u16::from(f.code), f.reason.to_string())))
                        }
                        Message::Frame(_) => panic!("a raw frame from read"),
                    };
                    out.delivered.push((i, d));
                }
                Err(TError::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => break,
                // The close handshake is over.
                Err(TError::ConnectionClosed) => ended = true,
                Err(e) => {
                    out.failed = Some((i, tungstenite_code(&e)));
                    ended = true;
                }
            }
        }
    }
    out.written = written_by_server(std::mem::take(&mut ws.get_mut().output));
    out
}

// --- comparing ---------------------------------------------------------------------

/// The body of the well-formed close frame a step is, if it is one.
fn close_body(step: &Step) -> Option<Vec<u8>> {
    match step {
        Step::Close(_) => {
            let wire = step.wire();
            let key = [wire[2], wire[3], wire[4], wire[5]];
            Some(
                wire[6..]
                    .iter()
                    .enumerate()
                    .map(|(i, b)| b ^ key[i % 4])
                    .collect(),
            )
        }
        Step::Random {
            fin: true,
            rsv: 0,
            opcode: 8,
            masked: true,
            payload,
        } if payload.len() <= 125 => Some(payload.clone()),
        _ => None,
    }
}

/// Rewrites tungstenite's outcome where it is known to differ from ours for
/// a reason the RFC decides, after checking that ours does the right thing;
/// returns the names of the differences applied. Our own failure close frame
/// is checked here and removed by `compare`.
fn known_difference(
    steps: &[Step],
    ours: &Outcome,
    error: Option<&ProtocolError>,
    theirs: &mut Outcome,
) -> Vec<&'static str> {
    let mut applied = Vec::new();

    // 1. §7.1.7: "If _The WebSocket Connection is Established_ prior to the
    //    point where the endpoint is required to _Fail the WebSocket
    //    Connection_, the endpoint SHOULD send a Close frame with an
    //    appropriate status code (Section 7.4) before proceeding to _Close
    //    the WebSocket Connection_." We do; tungstenite returns the error and
    //    leaves the close frame to its caller. Ours must be the last frame
    //    written, with the failure's code.
    if let Some((_, code)) = ours.failed {
        assert_eq!(ours.written.last(), Some(&Written::Close(Some(code))));
        applied.push("no close frame on failure");
    }

    // 2. A close code that may not appear on the wire (§7.4.1: 1005, 1006
    //    and 1015 "MUST NOT be set as a status code in a Close control frame
    //    by an endpoint"; §7.4.2: 0-999 "are not used", 1016-2999 reserved,
    //    5000+ undefined; §5.5.1: the body's first two bytes are "a status
    //    code with value /code/ defined in Section 7.4"). We fail the
    //    connection with 1002 (§7.1.7); tungstenite accepts the close,
    //    reports it to its caller as a clean close with code 1002 and reason
    //    "Protocol violation", and replies with 1002. On the wire the same
    //    1002; the difference is only in what the application is told.
    //
    // 3. Code 1014 (Bad Gateway) is registered in the IANA "WebSocket Close
    //    Code Number Registry" that §11.7 creates; §7.4.2: "Status codes in
    //    the range 1000-2999 are reserved for definition by this protocol,
    //    its future revisions, and extensions specified in a permanent and
    //    readily available public specification." It is valid on the wire. tungstenite's `CloseCode::from(u16)` has no
    //    arm for 1014 (it has 1012, 1013 and 1015), so 1014 is `Bad` and gets
    //    the treatment of 2. A tungstenite bug: we deliver the close and echo
    //    1014.
    if let Some((step, Delivered::Close(Some((1002, reason))))) = theirs.delivered.last().cloned() {
        let body = close_body(&steps[step]).expect("a close from a step without one");
        let code = u16::from_be_bytes([body[0], body[1]]);
        if reason == "Protocol violation" && code == 1014 {
            let sent_reason = String::from_utf8(body[2..].to_vec()).unwrap();
            let close = (step, Delivered::Close(Some((1014, sent_reason))));
            assert_eq!(ours.delivered.last(), Some(&close));
            assert_eq!(ours.written.last(), Some(&Written::Close(Some(1014))));
            *theirs.delivered.last_mut().unwrap() = close;
            assert_eq!(theirs.written.pop(), Some(Written::Close(Some(1002))));
            theirs.written.push(Written::Close(Some(1014)));
            applied.push("tungstenite rejects close code 1014");
        } else if reason == "Protocol violation" && !CloseCode(code).is_valid_on_wire() {
            assert_eq!(error, Some(&ProtocolError::InvalidCloseCode(code)));
            assert_eq!(ours.failed, Some((step, 1002)));
            theirs.delivered.pop();
            assert_eq!(theirs.written.pop(), Some(Written::Close(Some(1002))));
            theirs.failed = Some((step, 1002));
            applied.push("invalid close code reported as a close");
        }
    }

    // 4. A 64-bit length with its most significant bit set. §5.2: "the most
    //    significant bit MUST be 0", a protocol error: we fail with 1002.
    //    tungstenite reads the length as a number, finds it over its frame
    //    limit and fails with a capacity error (1009). Both fail at once; only
    //    the code differs. (With no frame limit, tungstenite would wait for
    //    2^63 bytes.)
    if let (Some((step, 1002)), Some((their_step, 1009))) = (ours.failed, theirs.failed) {
        if step == their_step && matches!(steps[step], Step::LengthMsbSet) {
            assert_eq!(error, Some(&ProtocolError::LengthOverflow));
            theirs.failed = Some((step, 1002));
            applied.push("top bit of a 64-bit length");
        }
    }

    // 5. A close frame with two faults, a code not allowed on the wire and a
    //    reason that is not UTF-8: we check the code first (1002, §7.4),
    //    tungstenite the reason first (1007, §8.1: "When an endpoint is to
    //    interpret a byte stream as UTF-8 but finds that the byte stream is
    //    not, in fact, a valid UTF-8 stream, that endpoint MUST _Fail the
    //    WebSocket Connection_"). The RFC orders neither; both fail at once.
    if let (Some((step, 1002)), Some((their_step, 1007))) = (ours.failed, theirs.failed) {
        if let Some(&[hi, lo, ..]) = close_body(&steps[step]).as_deref() {
            let code = u16::from_be_bytes([hi, lo]);
            if step == their_step && !CloseCode(code).is_valid_on_wire() {
                assert_eq!(error, Some(&ProtocolError::InvalidCloseCode(code)));
                theirs.failed = Some((step, 1002));
                applied.push("close frame with two faults");
            }
        }
    }

    applied
}

/// Runs both and compares; returns the known differences that applied.
fn compare(steps: &[Step]) -> Vec<&'static str> {
    let wire: Vec<Vec<u8>> = steps.iter().map(Step::wire).collect();
    let (ours, error) = run_wsproto(&wire);
    let mut theirs = run_tungstenite(&wire);
    let raw_theirs = theirs.clone();
    let applied = known_difference(steps, &ours, error.as_ref(), &mut theirs);
    let context = || {
        format!(
            "steps: {steps:#?}\nours: {ours:#?} ({error:?})\ntungstenite: {raw_theirs:#?}\nknown differences applied: {applied:?}"
        )
    };
    assert!(
        ours.delivered == theirs.delivered,
        "messages differ\n{}",
        context()
    );
    assert!(
        ours.failed == theirs.failed,
        "decisions differ\n{}",
        context()
    );
    let mut ours_written = ours.written.clone();
    if ours.failed.is_some() {
        // Difference 1.
        ours_written.pop();
    }
    assert!(
        ours_written == theirs.written,
        "frames written differ\n{}",
        context()
    );
    applied
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_same_conversation_gives_the_same_decisions(
        steps in prop::collection::vec(step(), 1..12)
    ) {
        compare(&steps);
    }
}

// --- fixed cases for each known difference -------------------------------------------

fn text(s: &str) -> Step {
    Step::Message {
        text: true,
        data: s.as_bytes().to_vec(),
        splits: Vec::new(),
        controls: Vec::new(),
    }
}

#[test]
fn an_invalid_close_code_fails_here_and_is_reported_as_a_close_there() {
    for code in [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535] {
        let applied = compare(&[text("hi"), Step::Close(CloseBody::Code(code, "bye".into()))]);
        assert!(applied.contains(&"invalid close code reported as a close"));
    }
}

#[test]
fn close_code_1014_is_valid_and_tungstenite_rejects_it() {
    let applied = compare(&[Step::Close(CloseBody::Code(1014, "gateway".into()))]);
    assert_eq!(applied, ["tungstenite rejects close code 1014"]);
}

#[test]
fn a_close_frame_with_two_faults() {
    let applied = compare(&[Step::Close(CloseBody::BadReason(5000))]);
    assert!(applied.contains(&"close frame with two faults"));
}

#[test]
fn a_64_bit_length_with_the_top_bit_set() {
    let applied = compare(&[text("hi"), Step::LengthMsbSet]);
    assert!(applied.contains(&"top bit of a 64-bit length"));
}

#[test]
fn every_single_fault_step_agrees() {
    for step in [
        Step::ReservedBits(4),
        Step::ReservedOpcode(3),
        Step::ReservedOpcode(11),
        Step::OversizedControl {
            opcode: 0x9,
            len: 126,
        },
        Step::FragmentedControl(0x8),
        Step::LoneContinuation { fin: true },
        Step::NewMessageInside,
        Step::Unmasked,
        Step::FrameTooLarge(MAX_FRAME + 1),
        Step::MessageTooLarge,
        Step::Close(CloseBody::OneByte(3)),
        Step::Close(CloseBody::BadReason(1000)),
        Step::BadUtf8 {
            data: b"fine \xed\xa0\x80".to_vec(),
            split: Some(6),
        },
    ] {
        let applied = compare(&[text("before"), step, text("after")]);
        assert_eq!(applied, ["no close frame on failure"]);
    }
}
