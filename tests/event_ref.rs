//! The borrowed-event API, `Connection::poll_event_ref`: the same events,
//! errors and output as `poll_event`, whatever the split of the input, the
//! frames, or how the two APIs are mixed on one connection.

mod endpoints;

use endpoints::{client_frame, drain_output, frames_sent_by, raw_frame};
use proptest::prelude::*;
use wsproto::frame::FrameHeader;
use wsproto::{CloseCode, CloseFrame, Config, Connection, Event, EventRef, ProtocolError, Role};

/// Which API drains the events.
#[derive(Clone, Copy, Debug)]
enum Api {
    Owned,
    Lent,
    /// `poll_event_ref` and `poll_event` by turns, call by call.
    Mixed,
}

/// What a connection did with its input: every event (owned, to compare)
/// and the error that ended it, the frames it wrote, and the input it
/// still held.
#[derive(Debug, PartialEq)]
struct Transcript {
    events: Vec<Result<Event, ProtocolError>>,
    written: Vec<(FrameHeader, Vec<u8>)>,
    pending: Vec<u8>,
}

/// Feeds `pieces` to `conn` one after the other, draining the events with
/// `api` after each.
fn transcript<'a>(
    mut conn: Connection,
    pieces: impl IntoIterator<Item = &'a [u8]>,
    api: Api,
) -> Transcript {
    let mut events = Vec::new();
    let mut turn = 0usize;
    'input: for piece in pieces {
        conn.handle_input(piece);
        loop {
            turn += 1;
            let lent = match api {
                Api::Owned => false,
                Api::Lent => true,
                Api::Mixed => turn % 2 == 0,
            };
            let next = if lent {
                conn.poll_event_ref().map(|e| e.map(EventRef::into_owned))
            } else {
                conn.poll_event()
            };
            match next {
                Ok(Some(event)) => events.push(Ok(event)),
                Ok(None) => break,
                Err(error) => {
                    events.push(Err(error));
                    break 'input;
                }
            }
        }
    }
    let pending = conn.pending_input().to_vec();
    let role = conn.role();
    Transcript {
        events,
        written: frames_sent_by(role, drain_output(&mut conn)),
        pending,
    }
}

fn server(config: Config) -> Connection {
    Connection::new(Role::Server, config)
}

fn text(s: &str) -> Event {
    Event::Text(s.to_string().into())
}

fn binary(b: &[u8]) -> Event {
    Event::Binary(b.to_vec().into())
}

/// A client's wire with every kind of frame, and the events it makes.
fn mixed_wire() -> (Vec<u8>, Vec<Event>) {
    let long = "x".repeat(300);
    let wire = [
        client_frame(true, 1, b"hello"),
        client_frame(true, 2, &[0, 1, 2, 0xff]),
        client_frame(true, 1, b""),
        client_frame(true, 1, "héllo wörld ✓".as_bytes()),
        client_frame(true, 1, long.as_bytes()),
        // A fragmented message with a ping between its fragments (§5.4).
        client_frame(false, 1, b"frag"),
        client_frame(true, 9, b"ping"),
        client_frame(true, 0, b"mented"),
        client_frame(true, 10, b"pong"),
        // An unmasked frame from a client: the general decoder's to refuse,
        // after what comes before it.
        raw_frame(true, 0, 2, None, b"!"),
    ]
    .concat();
    let events = vec![
        text("hello"),
        binary(&[0, 1, 2, 0xff]),
        text(""),
        text("héllo wörld ✓"),
        text(&long),
        Event::Ping(b"ping".to_vec().into()),
        text("fragmented"),
        Event::Pong(b"pong".to_vec().into()),
    ];
    (wire, events)
}

#[test]
fn every_split_gives_the_events_of_poll_event() {
    let (wire, expected) = mixed_wire();
    let owned_whole = transcript(server(Config::default()), [&wire[..]], Api::Owned);
    let ok: Vec<_> = owned_whole
        .events
        .iter()
        .filter_map(|e| e.clone().ok())
        .collect();
    assert_eq!(ok, expected);
    assert_eq!(
        owned_whole.events.last(),
        Some(&Err(ProtocolError::UnmaskedFrame))
    );
    for cut in 0..=wire.len() {
        let pieces = [&wire[..cut], &wire[cut..]];
        for api in [Api::Lent, Api::Mixed] {
            assert_eq!(
                transcript(server(Config::default()), pieces, api),
                transcript(server(Config::default()), pieces, Api::Owned),
                "cut at {cut}, {api:?}"
            );
        }
    }
    for api in [Api::Lent, Api::Mixed] {
        let bytes = wire.chunks(1);
        assert_eq!(
            transcript(server(Config::default()), bytes, api),
            transcript(server(Config::default()), wire.chunks(1), Api::Owned),
            "byte by byte, {api:?}"
        );
    }
}

#[test]
fn pings_are_answered_and_closes_replied_to() {
    let wire = [
        client_frame(true, 9, b"are you there"),
        client_frame(true, 8, &[0x03, 0xe8, b'b', b'y', b'e']),
    ]
    .concat();
    let done = transcript(server(Config::default()), [&wire[..]], Api::Lent);
    let close = CloseFrame {
        code: CloseCode::NORMAL,
        reason: "bye".into(),
    };
    assert_eq!(
        done.events,
        [
            Ok(Event::Ping(b"are you there".to_vec().into())),
            Ok(Event::Close(close))
        ]
    );
    let written: Vec<_> = done
        .written
        .iter()
        .map(|(h, p)| (h.opcode, &p[..]))
        .collect();
    use wsproto::frame::OpCode;
    assert_eq!(
        written,
        [
            (OpCode::Pong, &b"are you there"[..]),
            (OpCode::Close, &[0x03, 0xe8][..])
        ]
    );
}

#[test]
fn the_payload_is_lent_until_the_next_call() {
    let three = client_frame(true, 2, b"three");
    let wire = [
        client_frame(true, 1, b"one"),
        client_frame(true, 1, b"two"),
        three[..3].to_vec(),
    ]
    .concat();
    let mut conn = server(Config::default());
    conn.handle_input(&wire);
    match conn.poll_event_ref() {
        Ok(Some(EventRef::Text(text))) => assert_eq!(text, "one"),
        other => panic!("{other:?}"),
    }
    // What is pending is what is not whole yet: the frames lent, and the
    // one checked ahead with the first, are not.
    assert_eq!(conn.pending_input(), &three[..3]);
    match conn.poll_event_ref() {
        Ok(Some(EventRef::Text(text))) => assert_eq!(text.as_str(), "two"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(conn.poll_event_ref(), Ok(None)));
    assert_eq!(conn.pending_input(), &three[..3]);
    // The rest of a frame lands behind what was lent.
    conn.handle_input(&three[3..]);
    assert!(matches!(conn.poll_event_ref(), Ok(Some(EventRef::Binary(b))) if &*b == b"three"));
    // Releasing the buffers drops the lent frame first.
    conn.release_idle_buffers();
    assert_eq!(conn.pending_input(), b"");
    assert!(matches!(conn.poll_event(), Ok(None)));

    // Frames checked ahead with a lent one, then asked for as owned
    // events, come as owned events, in order.
    let wire = [b"a", b"b", b"c"]
        .map(|p| client_frame(true, 1, p))
        .concat();
    conn.handle_input(&wire);
    assert!(matches!(conn.poll_event_ref(), Ok(Some(EventRef::Text(t))) if t == "a"));
    assert_eq!(conn.poll_event(), Ok(Some(text("b"))));
    assert!(matches!(conn.poll_event_ref(), Ok(Some(EventRef::Text(t))) if t == "c"));
    assert_eq!(conn.poll_event(), Ok(None));
}

/// The text frame of `payload`, fed byte by byte: the index of the byte on
/// whose arrival the connection failed, and the close code it sent.
fn fails_at(payload: &[u8], api: Api) -> (Option<usize>, Option<u16>) {
    let wire = client_frame(true, 1, payload);
    let mut conn = server(Config::default());
    let mut failed_at = None;
    for (i, byte) in wire.iter().enumerate() {
        conn.handle_input(&[*byte]);
        let next = match api {
            Api::Lent => conn.poll_event_ref().map(|e| e.map(EventRef::into_owned)),
            _ => conn.poll_event(),
        };
        if next == Err(ProtocolError::InvalidUtf8) {
            failed_at = Some(i);
            break;
        }
        assert_eq!(next, Ok(None), "byte {i}");
    }
    (failed_at, endpoints::sent_close_code(&mut conn))
}

#[test]
fn invalid_text_fails_at_its_first_bad_byte() {
    // Header (2) and mask (4), then the payload.
    let mut bad = b"abc".to_vec();
    bad.push(0xff);
    bad.extend_from_slice(&[b'd'; 100]);
    assert_eq!(fails_at(&bad, Api::Lent), (Some(6 + 3), Some(1007)));
    // A code point cut short: E2 82 AC is the euro sign; 0x28 cannot go on.
    let cut_short = [b'a', 0xe2, 0x28, b'b', b'c'];
    assert_eq!(fails_at(&cut_short, Api::Lent), (Some(6 + 2), Some(1007)));
    assert_eq!(fails_at(&bad, Api::Lent), fails_at(&bad, Api::Owned));

    // Whole in one input: the fast path refuses it, with the same error.
    for payload in [&bad[..], &cut_short[..], &[0x80][..]] {
        let wire = [
            client_frame(true, 1, b"fine"),
            client_frame(true, 1, payload),
        ]
        .concat();
        let done = transcript(server(Config::default()), [&wire[..]], Api::Lent);
        assert_eq!(
            done.events,
            [Ok(text("fine")), Err(ProtocolError::InvalidUtf8)]
        );
        assert_eq!(endpoints::close_code_in(&done.written), Some(1007));
    }
}

#[test]
fn limits_are_judged_from_the_header() {
    let config = Config::default().max_message_size(100);
    // The header of a 1,000-byte frame, and nothing of its payload yet.
    let header = &client_frame(true, 2, &[0; 1000])[..8];
    let done = transcript(server(config.clone()), [header], Api::Lent);
    assert_eq!(
        done.events,
        [Err(ProtocolError::MessageTooLarge { max: 100 })]
    );
    assert_eq!(endpoints::close_code_in(&done.written), Some(1009));

    // At the limit, lent; a fragmented message past it, refused at the
    // header of the fragment that would cross it.
    let wire = [
        client_frame(true, 2, &[7; 100]),
        client_frame(false, 1, &[b'a'; 60]),
        client_frame(true, 0, &[b'b'; 41]),
    ]
    .concat();
    let done = transcript(server(config.clone()), [&wire[..]], Api::Lent);
    assert_eq!(
        done.events,
        [
            Ok(binary(&[7; 100])),
            Err(ProtocolError::MessageTooLarge { max: 100 })
        ]
    );
    let frame_limit = Config::default().max_frame_payload(10);
    let done = transcript(
        server(frame_limit),
        [&client_frame(true, 1, b"eleven byte")[..]],
        Api::Lent,
    );
    assert!(matches!(
        done.events[..],
        [Err(ProtocolError::FrameTooLarge { len: 11, max: 10 })]
    ));
}

#[cfg(feature = "deflate")]
#[test]
fn deflate_messages_come_through_the_same_api() {
    use wsproto::extensions::deflate::DeflateConfig;
    use wsproto::handshake::{Accept, ClientConfig};
    let eager = DeflateConfig::default().min_compress_size(0);
    let (mut client, mut server) = endpoints::handshake_pair(
        ClientConfig::new().deflate(eager.clone()),
        Accept::new().deflate(eager),
    );
    assert!(server.is_deflate_enabled());
    let messages: Vec<String> = (0..20)
        .map(|i| format!("{{\"id\":{i},\"op\":\"update\"}}").repeat(i + 1))
        .collect();
    for message in &messages {
        client.send_text(message.as_str()).unwrap();
    }
    client.send_binary(&b"binary"[..]).unwrap();
    let wire = drain_output(&mut client);
    let mut received = Vec::new();
    for piece in wire.chunks(7) {
        server.handle_input(piece);
        while let Some(event) = server.poll_event_ref().unwrap() {
            received.push(event.into_owned());
        }
    }
    let mut expected: Vec<Event> = messages.iter().map(|m| text(m)).collect();
    expected.push(binary(b"binary"));
    assert_eq!(received, expected);
}

/// A frame for the property test: first byte (FIN, RSV, opcode), whether
/// it is masked, and its payload.
fn frame() -> impl Strategy<Value = (u8, bool, Vec<u8>)> {
    let first = prop_oneof![
        6 => Just(0x81u8),
        4 => Just(0x82),
        1 => Just(0x01),
        1 => Just(0x02),
        2 => Just(0x80),
        1 => Just(0x00),
        1 => Just(0x89),
        1 => Just(0x8a),
        1 => Just(0x88),
        1 => Just(0xc1),
    ];
    let payload = prop_oneof![
        6 => "[a-z ]{0,70}".prop_map(String::into_bytes),
        2 => "\\PC{0,40}".prop_map(String::into_bytes),
        1 => proptest::collection::vec(any::<u8>(), 0..20),
        1 => (120usize..400).prop_map(|n| vec![b'x'; n]),
    ];
    (first, prop::bool::weighted(0.95), payload)
}

proptest! {
    /// Whatever the frames, the split of the input and the mix of calls,
    /// `poll_event_ref` gives what `poll_event` gives: events, errors,
    /// what is written, what is left.
    #[test]
    fn poll_event_ref_agrees_with_poll_event(
        frames in proptest::collection::vec(frame(), 0..16),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..4),
        small_limit in any::<bool>(),
    ) {
        let wire: Vec<u8> = frames
            .iter()
            .enumerate()
            .flat_map(|(i, (first, masked, payload))| {
                let mask = masked.then_some([i as u8, 0x5a, 0xa5, 0xff]);
                let mut frame = raw_frame(true, 0, 0, mask, payload);
                frame[0] = *first;
                frame
            })
            .collect();
        let mut cuts: Vec<usize> = cuts.iter().map(|c| c.index(wire.len() + 1)).collect();
        cuts.push(0);
        cuts.push(wire.len());
        cuts.sort_unstable();
        let pieces: Vec<&[u8]> = cuts.windows(2).map(|w| &wire[w[0]..w[1]]).collect();
        let config = Config::default().max_message_size(if small_limit { 64 } else { 1 << 20 });
        let owned = transcript(server(config.clone()), pieces.iter().copied(), Api::Owned);
        for api in [Api::Lent, Api::Mixed] {
            prop_assert_eq!(
                &transcript(server(config.clone()), pieces.iter().copied(), api),
                &owned
            );
        }
    }
}
