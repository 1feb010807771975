//! The connection state machine from the outside: messages, fragmentation,
//! control frames, the close handshake, limits, failure, timers.
//! Every bad input is checked with the exact error and the close code sent.

mod endpoints;

use bytes::Bytes;
use core::time::Duration;
use endpoints::*;
use wsproto::frame::OpCode;
use wsproto::{
    CloseCause, CloseCode, CloseFrame, Config, Connection, Event, MessageKind, PreparedMessage,
    ProtocolError, Role, SendError, State,
};

fn server() -> Connection {
    Connection::new(Role::Server, Config::default())
}

fn text(s: &str) -> Event {
    Event::Text(s.to_string().into())
}

/// The events of a fresh server fed `wire` in pieces of `size`, polled
/// after each piece.
fn events_in_pieces(wire: &[u8], size: usize) -> Vec<Event> {
    let mut server = server();
    let mut seen = Vec::new();
    for piece in wire.chunks(size) {
        server.handle_input(piece);
        let (events, error) = events(&mut server);
        assert_eq!(error, None);
        seen.extend(events);
    }
    seen
}

/// Feeds `wire` to a fresh server and returns its events, its error and the
/// close code it sent.
fn server_receives(
    config: Config,
    wire: &[u8],
) -> (Vec<Event>, Option<ProtocolError>, Option<u16>) {
    let mut server = Connection::new(Role::Server, config);
    server.handle_input(wire);
    let (events, error) = events(&mut server);
    (events, error, sent_close_code(&mut server))
}

#[test]
fn text_and_binary_round_trip_both_ways() {
    let (mut client, mut server) = pair(Config::default());
    client.send_text("hello").unwrap();
    client.send_binary(&[0, 1, 2]).unwrap();
    assert_eq!(
        pump(&mut client, &mut server),
        vec![text("hello"), Event::Binary(Bytes::from_static(&[0, 1, 2]))]
    );
    server.send_text("back").unwrap();
    server.send_binary(Bytes::from(vec![7; 100_000])).unwrap();
    assert_eq!(
        pump(&mut server, &mut client),
        vec![text("back"), Event::Binary(Bytes::from(vec![7; 100_000]))]
    );
}

#[test]
fn client_frames_are_masked_with_fresh_keys_and_server_frames_are_not() {
    let (mut client, mut server) = pair(Config::default());
    client.send_text("a").unwrap();
    client.send_text("a").unwrap();
    let frames = frames_sent_by(Role::Client, drain_output(&mut client));
    assert!(frames.iter().all(|(h, _)| h.mask.is_some()));
    assert_ne!(frames[0].0.mask, frames[1].0.mask, "a fresh key per frame");
    server.send_text("a").unwrap();
    let frames = frames_sent_by(Role::Server, drain_output(&mut server));
    assert!(frames.iter().all(|(h, _)| h.mask.is_none()));
}

#[test]
fn fragmented_message_with_control_frames_between_fragments() {
    let mut wire = client_frame(false, 0x1, b"Hel");
    wire.extend(client_frame(true, 0x9, b"p"));
    wire.extend(client_frame(false, 0x0, b"l"));
    wire.extend(client_frame(true, 0xA, b"q"));
    wire.extend(client_frame(true, 0x0, b"o"));
    let (events, error, _) = server_receives(Config::default(), &wire);
    assert_eq!(error, None);
    assert_eq!(
        events,
        vec![
            Event::Ping(Bytes::from_static(b"p")),
            Event::Pong(Bytes::from_static(b"q")),
            text("Hello")
        ]
    );
}

#[test]
fn automatic_fragmentation_splits_and_reassembles() {
    let config = Config::default().max_send_frame(Some(10));
    let (mut client, mut server) = pair(config);
    let message = "x".repeat(35);
    client.send_text(&message).unwrap();
    let wire = drain_output(&mut client);
    let frames = frames_sent_by(Role::Client, wire.clone());
    let shape: Vec<_> = frames
        .iter()
        .map(|(h, p)| (h.opcode, h.fin, p.len()))
        .collect();
    assert_eq!(
        shape,
        vec![
            (OpCode::Text, false, 10),
            (OpCode::Continuation, false, 10),
            (OpCode::Continuation, false, 10),
            (OpCode::Continuation, true, 5)
        ]
    );
    server.handle_input(&wire);
    assert_eq!(events(&mut server), (vec![text(&message)], None));
}

#[test]
fn send_fragment_streams_a_message_and_rejects_interleaving() {
    let (mut client, mut server) = pair(Config::default());
    client
        .send_fragment(MessageKind::Binary, b"ab", false)
        .unwrap();
    assert_eq!(client.send_text("x"), Err(SendError::MessageInProgress));
    assert_eq!(
        client.send_fragment(MessageKind::Text, b"x", true),
        Err(SendError::FragmentKindMismatch)
    );
    client.send_ping(b"between").unwrap();
    client
        .send_fragment(MessageKind::Binary, b"cd", true)
        .unwrap();
    assert_eq!(
        pump(&mut client, &mut server),
        vec![
            Event::Ping(Bytes::from_static(b"between")),
            Event::Binary(Bytes::from_static(b"abcd"))
        ]
    );
}

#[test]
fn pings_are_answered_with_the_same_payload() {
    let mut server = server();
    server.handle_input(&client_frame(true, 0x9, b"are you there"));
    assert_eq!(
        events(&mut server).0,
        vec![Event::Ping(Bytes::from_static(b"are you there"))]
    );
    let frames = frames_sent_by(Role::Server, drain_output(&mut server));
    assert_eq!(frames.len(), 1);
    assert_eq!(
        (frames[0].0.opcode, frames[0].1.as_slice()),
        (OpCode::Pong, &b"are you there"[..])
    );
}

#[test]
fn every_ping_is_answered_while_the_output_is_short() {
    let mut server = server();
    for payload in [&b"1"[..], b"2", b"3"] {
        server.handle_input(&client_frame(true, 0x9, payload));
    }
    assert_eq!(events(&mut server).0.len(), 3);
    let frames = frames_sent_by(Role::Server, drain_output(&mut server));
    let pongs: Vec<_> = frames.iter().map(|(h, p)| (h.opcode, p.clone())).collect();
    let expected: Vec<_> = [b"1", b"2", b"3"]
        .iter()
        .map(|p| (OpCode::Pong, p.to_vec()))
        .collect();
    assert_eq!(pongs, expected);
}

#[test]
fn a_ping_flood_behind_undrained_output_is_answered_once() {
    let mut server = server();
    server.send_binary(vec![0; 20_000]).unwrap();
    let before = server.pending_transmit();
    for i in 0..1000u32 {
        server.handle_input(&client_frame(true, 0x9, &i.to_be_bytes()));
    }
    assert_eq!(events(&mut server).0.len(), 1000);
    assert_eq!(
        server.pending_transmit(),
        before,
        "no pong queued while output is long"
    );
    let frames = frames_sent_by(Role::Server, drain_output(&mut server));
    let pongs: Vec<_> = frames
        .iter()
        .filter(|(h, _)| h.opcode == OpCode::Pong)
        .map(|(_, p)| p.clone())
        .collect();
    assert_eq!(
        pongs,
        vec![999u32.to_be_bytes().to_vec()],
        "only the latest"
    );
}

#[test]
fn auto_pong_can_be_turned_off() {
    let config = Config::default().auto_pong(false);
    let (events, _, _) = server_receives(config.clone(), &client_frame(true, 0x9, b"x"));
    assert_eq!(events.len(), 1);
    let mut server = Connection::new(Role::Server, config);
    server.handle_input(&client_frame(true, 0x9, b"x"));
    let _ = endpoints::events(&mut server);
    assert!(drain_output(&mut server).is_empty());
}

#[test]
fn client_initiated_close_handshake() {
    let (mut client, mut server) = pair(Config::default());
    client.close(CloseCode::NORMAL, "bye").unwrap();
    assert_eq!(client.state(), State::Closing);
    assert_eq!(client.send_text("late"), Err(SendError::CloseSent));
    assert_eq!(
        client.close(CloseCode::NORMAL, ""),
        Err(SendError::CloseSent)
    );

    let close = CloseFrame {
        code: CloseCode::NORMAL,
        reason: "bye".into(),
    };
    assert_eq!(
        pump(&mut client, &mut server),
        vec![Event::Close(close.clone())]
    );
    assert_eq!(server.state(), State::Closed);
    assert_eq!(server.close_status(), Some(&close));
    assert!(
        !server.should_close_transport(),
        "the echo is not written yet"
    );

    // The server echoes the code, then closes the transport first (§7.1.1).
    let echo = CloseFrame {
        code: CloseCode::NORMAL,
        reason: "".into(),
    };
    assert_eq!(
        pump(&mut server, &mut client),
        vec![Event::Close(echo.clone())]
    );
    assert!(server.should_close_transport());
    assert_eq!(client.state(), State::Closed);
    assert_eq!(client.close_status(), Some(&echo));
    assert!(
        !client.should_close_transport(),
        "a client waits for the server's EOF"
    );
    client.handle_eof();
    assert!(client.should_close_transport());
}

#[test]
fn server_initiated_close_and_client_close_timeout() {
    let (mut client, mut server) = pair(Config::default());
    server.close(CloseCode::GOING_AWAY, "").unwrap();
    let close = CloseFrame {
        code: CloseCode::GOING_AWAY,
        reason: "".into(),
    };
    assert_eq!(pump(&mut server, &mut client), vec![Event::Close(close)]);
    assert_eq!(pump(&mut client, &mut server).len(), 1);
    assert!(server.should_close_transport());
    // The server never closes TCP: the client gives up after the close
    // timeout, which runs from the first reading of the clock after it.
    assert_eq!(
        client.poll_timeout(Duration::from_secs(100)),
        Some(Duration::from_secs(105))
    );
    client.handle_timeout(Duration::from_secs(104));
    assert!(!client.should_close_transport());
    client.handle_timeout(Duration::from_secs(105));
    assert!(client.should_close_transport());
}

#[test]
fn close_without_status_is_reported_as_1005_and_answered_empty() {
    let mut server = server();
    server.handle_input(&client_frame(true, 0x8, b""));
    let (events, _) = events(&mut server);
    assert_eq!(
        events,
        vec![Event::Close(CloseFrame {
            code: CloseCode::NO_STATUS,
            reason: "".into()
        })]
    );
    let frames = frames_sent_by(Role::Server, drain_output(&mut server));
    assert_eq!((frames[0].0.opcode, frames[0].1.len()), (OpCode::Close, 0));
}

#[test]
fn peer_silent_after_our_close_times_out_with_1006() {
    let mut server = server();
    server.close(CloseCode::NORMAL, "").unwrap();
    drain_output(&mut server);
    server.handle_timeout(Duration::from_secs(1));
    server.handle_timeout(Duration::from_secs(6));
    assert_eq!(server.state(), State::Closed);
    assert_eq!(server.close_status().unwrap().code, CloseCode::ABNORMAL);
    assert!(server.should_close_transport());
}

/// Runs `conn`'s clock from zero through every deadline it reports, as a
/// run loop does, up to `limit`; returns the time it stopped at. Only the
/// first 1000 bytes of output are ever written: the peer reads nothing more.
fn run_timers_unread(conn: &mut Connection, limit: Duration) -> Duration {
    let mut now = Duration::ZERO;
    while let Some(at) = conn.poll_timeout(now) {
        now = now.max(at);
        assert!(now <= limit, "still waiting at {now:?}");
        conn.handle_timeout(now);
    }
    now
}

/// 1 MiB queued, of which the peer read 1000 bytes and then nothing.
fn queue_a_mebibyte_the_peer_never_reads(conn: &mut Connection) {
    conn.send_binary(vec![7; 1 << 20]).unwrap();
    let front = conn.poll_transmit().unwrap().len();
    conn.advance_transmit(front.min(1000));
    assert!(conn.pending_transmit() > 1 << 19);
}

/// What a connection given up on by its close timeout looks like.
fn assert_transport_given_up(conn: &mut Connection) {
    assert_eq!(conn.state(), State::Closed);
    assert_eq!(conn.close_status().unwrap().code, CloseCode::ABNORMAL);
    assert!(conn.should_close_transport());
    assert_eq!(conn.poll_transmit(), None, "the unread output is dropped");
    assert_eq!(conn.pending_transmit(), 0);
    assert_eq!(conn.poll_timeout(Duration::from_secs(600)), None);
    // Ten minutes later, nothing has changed.
    conn.handle_timeout(Duration::from_secs(600));
    assert!(conn.should_close_transport());
    assert_eq!(conn.poll_transmit(), None);
}

#[test]
fn a_server_whose_peer_stops_reading_is_closed_after_the_close_timeout() {
    // The peer neither reads nor answers our close: after the close timeout
    // (5 s) the output is dropped and the transport is to be closed, where
    // it used to stay open forever.
    let mut server = server();
    queue_a_mebibyte_the_peer_never_reads(&mut server);
    server.close(CloseCode::NORMAL, "").unwrap();
    let ended = run_timers_unread(&mut server, Duration::from_secs(600));
    assert_eq!(ended, Duration::from_secs(5));
    assert_transport_given_up(&mut server);
}

#[test]
fn a_client_whose_peer_stops_reading_is_closed_after_the_close_timeout() {
    let mut client = Connection::new(Role::Client, Config::default());
    queue_a_mebibyte_the_peer_never_reads(&mut client);
    client.close(CloseCode::NORMAL, "").unwrap();
    let ended = run_timers_unread(&mut client, Duration::from_secs(600));
    assert_eq!(ended, Duration::from_secs(5));
    assert_transport_given_up(&mut client);
}

#[test]
fn a_peer_that_closes_but_never_reads_cannot_hold_the_server() {
    // The peer's close frame arrives, but our reply sits behind 1 MiB it
    // never reads: the close timeout runs from the moment we are closed.
    let mut server = server();
    queue_a_mebibyte_the_peer_never_reads(&mut server);
    server.handle_input(&client_frame(true, 0x8, &1000u16.to_be_bytes()));
    assert_eq!(events(&mut server).0.len(), 1);
    assert_eq!(server.state(), State::Closed);
    assert!(!server.should_close_transport());
    let ended = run_timers_unread(&mut server, Duration::from_secs(600));
    assert_eq!(ended, Duration::from_secs(5));
    assert!(server.should_close_transport());
    assert_eq!(server.poll_transmit(), None);
    assert_eq!(server.poll_timeout(Duration::from_secs(600)), None);
    // The peer's code is kept: the closing handshake did happen.
    assert_eq!(server.close_status().unwrap().code, CloseCode::NORMAL);
}

#[test]
fn a_missed_pong_with_output_queued_closes_the_transport_after_the_close_timeout() {
    let config = Config::default()
        .keepalive_interval(Some(Duration::from_secs(30)))
        .keepalive_timeout(Duration::from_secs(10));
    let mut server = Connection::new(Role::Server, config);
    queue_a_mebibyte_the_peer_never_reads(&mut server);
    // The ping at 30 s and the 1011 close at 40 s queue behind the unread
    // output; the close timeout then runs from 40 s.
    server.handle_timeout(Duration::ZERO);
    server.handle_timeout(Duration::from_secs(30));
    server.handle_timeout(Duration::from_secs(40));
    assert_eq!(server.state(), State::Closed);
    assert!(!server.should_close_transport());
    assert_eq!(
        server.poll_timeout(Duration::from_secs(40)),
        Some(Duration::from_secs(45))
    );
    let ended = run_timers_unread(&mut server, Duration::from_secs(600));
    assert_eq!(ended, Duration::from_secs(45));
    assert_transport_given_up(&mut server);
}

#[test]
fn a_close_whose_output_drains_loses_nothing_and_leaves_no_timer() {
    // The same 1 MiB and close, but the peer reads: everything arrives,
    // nothing is dropped, and no timer is left once the transport is done.
    let (mut client, mut server) = pair(Config::default());
    server.send_binary(vec![7; 1 << 20]).unwrap();
    server.close(CloseCode::NORMAL, "done").unwrap();
    server.handle_timeout(Duration::ZERO);
    server.handle_timeout(Duration::from_secs(4));
    let events = pump(&mut server, &mut client);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0], Event::Binary(Bytes::from(vec![7; 1 << 20])));
    assert_eq!(
        events[1],
        Event::Close(CloseFrame {
            code: CloseCode::NORMAL,
            reason: "done".into()
        })
    );
    assert_eq!(pump(&mut client, &mut server).len(), 1);
    assert_eq!(server.close_status().unwrap().code, CloseCode::NORMAL);
    assert!(server.should_close_transport());
    assert_eq!(server.poll_timeout(Duration::from_secs(4)), None);
    // The client waits for the server's EOF (within the close timeout).
    assert!(!client.should_close_transport());
    assert_eq!(
        client.poll_timeout(Duration::from_secs(4)),
        Some(Duration::from_secs(9))
    );
    client.handle_eof();
    assert!(client.should_close_transport());
    assert_eq!(client.poll_timeout(Duration::from_secs(4)), None);
    assert_eq!(client.close_status().unwrap().code, CloseCode::NORMAL);
}

#[test]
fn eof_without_close_is_abnormal() {
    let mut server = server();
    server.handle_eof();
    assert_eq!(server.state(), State::Closed);
    assert_eq!(server.close_status().unwrap().code, CloseCode::ABNORMAL);
    assert_eq!(server.send_text("x"), Err(SendError::Closed));
}

#[test]
fn data_after_a_received_close_is_ignored() {
    let mut wire = client_frame(true, 0x8, &[0x03, 0xe8]);
    wire.extend(client_frame(true, 0x1, b"ignored"));
    let (events, error, _) = server_receives(Config::default(), &wire);
    assert_eq!(error, None);
    assert_eq!(events.len(), 1);
}

#[test]
fn invalid_close_frames_fail_with_the_right_code() {
    let cases: &[(&[u8], ProtocolError, u16)] = &[
        (&[0x03], ProtocolError::ClosePayloadTooShort, 1002),
        (&[0x03, 0xed], ProtocolError::InvalidCloseCode(1005), 1002),
        (&[0x03, 0xee], ProtocolError::InvalidCloseCode(1006), 1002),
        (&[0x03, 0xec], ProtocolError::InvalidCloseCode(1004), 1002),
        (&[0x03, 0xf7], ProtocolError::InvalidCloseCode(1015), 1002),
        (&[0x03, 0xe7], ProtocolError::InvalidCloseCode(999), 1002),
        (&[0x07, 0xd0], ProtocolError::InvalidCloseCode(2000), 1002),
        (&[0x13, 0x88], ProtocolError::InvalidCloseCode(5000), 1002),
        (
            &[0x03, 0xe8, 0xce, 0xba, 0xff],
            ProtocolError::InvalidCloseReason,
            1007,
        ),
    ];
    for (payload, error, code) in cases {
        let (_, got, sent) = server_receives(Config::default(), &client_frame(true, 0x8, payload));
        assert_eq!(got.as_ref(), Some(error), "{payload:x?}");
        assert_eq!(sent, Some(*code), "{payload:x?}");
    }
    for code in [1000u16, 1003, 1007, 1014, 3000, 4999] {
        let (events, error, sent) = server_receives(
            Config::default(),
            &client_frame(true, 0x8, &code.to_be_bytes()),
        );
        assert_eq!((events.len(), error), (1, None), "{code}");
        assert_eq!(sent, Some(code), "echoed");
    }
}

#[test]
fn protocol_violations_fail_once_then_stay_closed() {
    let mut server = server();
    let mut wire = client_frame(true, 0x3, b""); // reserved opcode
    wire.extend(client_frame(true, 0x1, b"never seen"));
    server.handle_input(&wire);
    assert_eq!(server.poll_event(), Err(ProtocolError::ReservedOpcode(3)));
    assert_eq!(server.poll_event(), Ok(None));
    server.handle_input(&client_frame(true, 0x1, b"more"));
    assert_eq!(server.poll_event(), Ok(None));
    assert_eq!(server.state(), State::Closed);
    assert_eq!(server.close_status().unwrap().code, CloseCode::ABNORMAL);
    assert_eq!(sent_close_code(&mut server), Some(1002));
    assert!(server.should_close_transport());
    assert_eq!(server.send_text("x"), Err(SendError::Closed));
}

#[test]
fn frame_rules_map_to_close_codes() {
    let cases: Vec<(Vec<u8>, ProtocolError, u16)> = vec![
        (
            raw_frame(true, 0, 0x1, None, b"x"),
            ProtocolError::UnmaskedFrame,
            1002,
        ),
        (
            client_frame(true, 0xB, b""),
            ProtocolError::ReservedOpcode(0xB),
            1002,
        ),
        (
            raw_frame(true, 0b100, 0x1, Some([1, 2, 3, 4]), b"x"),
            ProtocolError::ReservedBits(0b100),
            1002,
        ),
        (
            client_frame(false, 0x9, b""),
            ProtocolError::FragmentedControlFrame,
            1002,
        ),
        (
            client_frame(true, 0x9, &[0; 126]),
            ProtocolError::ControlFrameTooLong(126),
            1002,
        ),
        (
            client_frame(true, 0x0, b"x"),
            ProtocolError::UnexpectedContinuation,
            1002,
        ),
        (
            [
                client_frame(false, 0x1, b"a"),
                client_frame(true, 0x2, b"b"),
            ]
            .concat(),
            ProtocolError::ExpectedContinuation,
            1002,
        ),
        (
            client_frame(true, 0x1, b"\xff"),
            ProtocolError::InvalidUtf8,
            1007,
        ),
    ];
    for (wire, error, code) in cases {
        let (_, got, sent) = server_receives(Config::default(), &wire);
        assert_eq!(got, Some(error.clone()), "{wire:x?}");
        assert_eq!(sent, Some(code), "{error}");
    }
}

#[test]
fn a_client_rejects_masked_frames() {
    let mut client = Connection::new(Role::Client, Config::default());
    client.handle_input(&client_frame(true, 0x1, b"x"));
    assert_eq!(client.poll_event(), Err(ProtocolError::MaskedFrame));
    assert_eq!(sent_close_code(&mut client), Some(1002));
}

#[test]
fn limits_fail_with_1009_before_the_memory_is_spent() {
    let config = Config::default().max_message_size(10).max_fragments(3);
    // A single frame over the message limit fails from its header alone.
    let header_only = &client_frame(true, 0x2, &[0; 11])[..8];
    let (_, error, code) = server_receives(config.clone(), header_only);
    assert_eq!(
        (error, code),
        (Some(ProtocolError::MessageTooLarge { max: 10 }), Some(1009))
    );
    // Fragments adding up past the limit.
    let wire = [
        client_frame(false, 0x2, &[0; 6]),
        client_frame(true, 0x0, &[0; 6]),
    ]
    .concat();
    let (_, error, code) = server_receives(config.clone(), &wire);
    assert_eq!(
        (error, code),
        (Some(ProtocolError::MessageTooLarge { max: 10 }), Some(1009))
    );
    // Too many fragments.
    let wire: Vec<u8> = (0..4)
        .flat_map(|i| client_frame(i == 3, if i == 0 { 2 } else { 0 }, b""))
        .collect();
    let (_, error, code) = server_receives(config.clone(), &wire);
    assert_eq!(
        (error, code),
        (Some(ProtocolError::TooManyFragments { max: 3 }), Some(1009))
    );
    // The frame limit.
    let config = Config::default().max_frame_payload(4);
    let (_, error, code) = server_receives(config, &client_frame(true, 0x2, &[0; 5])[..4]);
    assert_eq!(
        (error, code),
        (
            Some(ProtocolError::FrameTooLarge { len: 5, max: 4 }),
            Some(1009)
        )
    );
}

#[test]
fn invalid_utf8_fails_fast_before_the_message_ends() {
    // The first fragment is already invalid: no need to wait for the rest.
    let mut server = server();
    server.handle_input(&client_frame(false, 0x1, b"ok \xed\xa0\x80"));
    assert_eq!(server.poll_event(), Err(ProtocolError::InvalidUtf8));
    assert_eq!(sent_close_code(&mut server), Some(1007));
    // Inside one frame that arrives in pieces: fails at the piece with the
    // bad byte, long before the frame is whole.
    let mut frame = client_frame(
        true,
        0x1,
        &[b"ok ".as_slice(), b"\xff", &[b'x'; 1000]].concat(),
    );
    let mut piecewise = Connection::new(Role::Server, Config::default());
    piecewise.handle_input(&frame[..8 + 3]);
    assert_eq!(piecewise.poll_event(), Ok(None));
    piecewise.handle_input(&frame[8 + 3..8 + 4]);
    assert_eq!(piecewise.poll_event(), Err(ProtocolError::InvalidUtf8));
    assert_eq!(sent_close_code(&mut piecewise), Some(1007));
    // ...and valid text fed so, in any pieces, is delivered whole.
    frame = client_frame(true, 0x1, "κόσμε".repeat(100).as_bytes());
    for size in [1, 2, 3, 7, 100] {
        assert_eq!(
            events_in_pieces(&frame, size),
            vec![text(&"κόσμε".repeat(100))]
        );
    }
    // A code point split across fragments is fine.
    let wire = [
        client_frame(false, 0x1, b"\xce"),
        client_frame(true, 0x0, b"\xba"),
    ]
    .concat();
    assert_eq!(server_receives(Config::default(), &wire).0, vec![text("κ")]);
    // A message ending inside a code point is not.
    let (_, error, code) = server_receives(Config::default(), &client_frame(true, 0x1, b"\xce"));
    assert_eq!(
        (error, code),
        (Some(ProtocolError::InvalidUtf8), Some(1007))
    );
}

#[test]
fn fragment_delivery_streams_payload_as_it_arrives() {
    let config = Config::default().deliver_fragments(true);
    let mut server = Connection::new(Role::Server, config);
    let payload: Vec<u8> = (0..1000u32).map(|i| i as u8).collect();
    let wire = [
        client_frame(false, 0x2, &payload),
        client_frame(true, 0x0, b"end"),
    ]
    .concat();
    let mut got = Vec::new();
    let mut last_seen = false;
    for chunk in wire.chunks(100) {
        server.handle_input(chunk);
        let (events, error) = events(&mut server);
        assert_eq!(error, None);
        for event in events {
            let Event::Fragment {
                kind,
                data,
                is_last,
            } = event
            else {
                panic!("{event:?}")
            };
            assert_eq!(kind, MessageKind::Binary);
            assert!(!last_seen);
            got.extend_from_slice(&data);
            last_seen = is_last;
        }
    }
    assert!(last_seen);
    assert_eq!(got, [payload, b"end".to_vec()].concat());
}

#[test]
fn keepalive_pings_after_silence_and_gives_up_without_a_pong() {
    let config = Config::default()
        .keepalive_interval(Some(Duration::from_secs(30)))
        .keepalive_timeout(Duration::from_secs(10));
    let mut server = Connection::new(Role::Server, config);
    // No stamping: the first reading of the clock starts the interval.
    assert_eq!(
        server.poll_timeout(Duration::ZERO),
        Some(Duration::from_secs(30))
    );
    server.handle_timeout(Duration::from_secs(30));
    let frames = frames_sent_by(Role::Server, drain_output(&mut server));
    assert_eq!(frames[0].0.opcode, OpCode::Ping);
    // The pong deadline runs from the ping.
    assert_eq!(
        server.poll_timeout(Duration::from_secs(30)),
        Some(Duration::from_secs(40))
    );
    server.handle_timeout(Duration::from_secs(39));
    assert_eq!(server.state(), State::Open);
    server.handle_timeout(Duration::from_secs(40));
    assert_eq!(server.state(), State::Closed);
    assert_eq!(sent_close_code(&mut server), Some(1011));
    assert!(server.should_close_transport());
}

#[test]
fn only_input_that_arrives_postpones_the_keepalive() {
    let config = Config::default().keepalive_interval(Some(Duration::from_secs(30)));
    let mut server = Connection::new(Role::Server, config);
    server.handle_timeout(Duration::from_secs(0));
    // Lending the buffer without reading into it is not input.
    for t in [10, 20] {
        let _ = server.receive_buffer();
        assert_eq!(server.poll_event(), Ok(None));
        server.handle_timeout(Duration::from_secs(t));
    }
    assert_eq!(
        server.poll_timeout(Duration::from_secs(20)),
        Some(Duration::from_secs(30))
    );
    // Bytes read into it are, once decoded.
    server
        .receive_buffer()
        .extend_from_slice(&client_frame(true, 0xA, b""));
    assert_eq!(
        server.poll_event().unwrap(),
        Some(Event::Pong(Bytes::new()))
    );
    assert_eq!(
        server.poll_timeout(Duration::from_secs(25)),
        Some(Duration::from_secs(55))
    );
}

#[test]
fn send_errors_are_typed_and_queue_nothing() {
    let mut server = server();
    assert_eq!(
        server.send_ping(&[0; 126]),
        Err(SendError::ControlPayloadTooLong(126))
    );
    assert_eq!(
        server.close(CloseCode::NO_STATUS, ""),
        Err(SendError::InvalidCloseCode(1005))
    );
    assert_eq!(
        server.close(CloseCode(2999), ""),
        Err(SendError::InvalidCloseCode(2999))
    );
    assert_eq!(
        server.close(CloseCode::NORMAL, &"x".repeat(124)),
        Err(SendError::CloseReasonTooLong(124))
    );
    assert_eq!(server.pending_transmit(), 0);
    let no_random = Config::default().random(None);
    let mut client = Connection::new(Role::Client, no_random);
    assert_eq!(client.send_text("x"), Err(SendError::NoRandomSource));
}

#[test]
fn a_large_shared_payload_goes_out_by_reference() {
    let mut server = server();
    let payload = Bytes::from(vec![42; 65535]);
    server.send_binary(payload.clone()).unwrap();
    let mut chunks = [&[][..]; 4];
    let n = server.transmit_chunks(&mut chunks);
    assert_eq!(n, 2, "header, then the payload itself");
    assert_eq!(chunks[0], &[0x82, 126, 0xff, 0xff]);
    assert_eq!(chunks[1].as_ptr(), payload.as_ptr(), "not copied");
    let total: usize = chunks[..n].iter().map(|c| c.len()).sum();
    server.advance_transmit(total);
    assert_eq!(server.pending_transmit(), 0);
    assert_eq!(server.poll_transmit(), None);
}

#[test]
fn an_owed_pong_goes_out_before_our_close_frame() {
    // Found by fuzzing: a pong owed while output was long used to follow
    // the close frame, which must be the last frame sent.
    let mut server = server();
    server.send_binary(vec![0; 20 << 10]).unwrap();
    server.handle_input(&client_frame(true, 0x9, b"p"));
    assert_eq!(events(&mut server).0.len(), 1);
    server.close(CloseCode::NORMAL, "").unwrap();
    let frames = frames_sent_by(Role::Server, drain_output(&mut server));
    let opcodes: Vec<_> = frames.iter().map(|(h, _)| h.opcode).collect();
    assert_eq!(opcodes, vec![OpCode::Binary, OpCode::Pong, OpCode::Close]);
}

#[test]
fn the_receive_buffer_does_not_grow_once_closed() {
    // Found by fuzzing: bytes appended through receive_buffer after a
    // failure were kept forever.
    let mut server = server();
    server.handle_input(&raw_frame(true, 0, 0x1, None, b"x")); // unmasked
    assert!(server.poll_event().is_err());
    for _ in 0..100 {
        server.receive_buffer().extend_from_slice(&[0; 1000]);
        assert_eq!(server.poll_event(), Ok(None));
    }
    assert!(server.pending_input().len() <= 1000);
}

/// Every way a connection ends leaves its cause readable, the error of a
/// failure included (not only a 1006 close status).
#[test]
fn how_a_connection_ended_stays_readable() {
    // A failure: the error returned once, and kept.
    let mut server = self::server();
    server.handle_input(&raw_frame(true, 0, 0x1, None, b"x")); // unmasked
    let error = server.poll_event().unwrap_err();
    assert_eq!(error, ProtocolError::UnmaskedFrame);
    assert_eq!(server.close_cause(), Some(&CloseCause::Failed(error)));
    assert_eq!(server.close_status().unwrap().code, CloseCode::ABNORMAL);

    // The closing handshake.
    let (mut client, mut peer) = pair(Config::default());
    client.close(CloseCode::NORMAL, "").unwrap();
    assert_eq!(client.close_cause(), None);
    pump(&mut client, &mut peer);
    pump(&mut peer, &mut client);
    for end in [&client, &peer] {
        assert_eq!(end.close_cause(), Some(&CloseCause::Handshake));
    }

    // The transport ending first, and our close left unanswered.
    let mut server = self::server();
    server.handle_eof();
    assert_eq!(server.close_cause(), Some(&CloseCause::TransportEnded));
    let mut server = self::server();
    server.close(CloseCode::NORMAL, "").unwrap();
    drain_output(&mut server);
    assert!(server.poll_timeout(Duration::ZERO).is_some());
    server.handle_timeout(Duration::from_secs(5));
    assert_eq!(server.close_cause(), Some(&CloseCause::CloseTimeout));

    // A keepalive ping never answered.
    let config = Config::default()
        .keepalive_interval(Some(Duration::from_secs(1)))
        .keepalive_timeout(Duration::from_secs(1));
    let mut server = Connection::new(Role::Server, config);
    server.handle_timeout(Duration::ZERO);
    server.handle_timeout(Duration::from_secs(1));
    server.handle_timeout(Duration::from_secs(2));
    assert_eq!(server.close_cause(), Some(&CloseCause::KeepaliveTimeout));
}

/// With keepalive on, input postpones the ping from the moment the clock
/// is next read: the deadline reported is that moment plus the interval,
/// never "now" (a run loop would spin on it).
#[test]
fn keepalive_deadlines_are_known_after_input_and_from_the_start() {
    let config = Config::default().keepalive_interval(Some(Duration::from_secs(30)));
    let (mut client, mut server) = pair(config);
    // A new connection: the first reading of the clock starts the interval.
    assert_eq!(
        server.poll_timeout(Duration::from_secs(7)),
        Some(Duration::from_secs(37))
    );
    for t in 8..40u64 {
        client.send_text("tick").unwrap();
        assert_eq!(pump(&mut client, &mut server).len(), 1);
        let now = Duration::from_secs(t);
        assert_eq!(
            server.poll_timeout(now),
            Some(now + Duration::from_secs(30))
        );
        server.handle_timeout(now);
        assert!(drain_output(&mut server).is_empty(), "no ping at {t} s");
    }
    // Silence: the ping goes out 30 s after the last input was noticed.
    server.handle_timeout(Duration::from_secs(68));
    assert!(drain_output(&mut server).is_empty());
    server.handle_timeout(Duration::from_secs(69));
    let frames = frames_sent_by(Role::Server, drain_output(&mut server));
    assert_eq!(frames[0].0.opcode, OpCode::Ping);
}

/// Reading through the receive lender, in any sizes and with loans given
/// up, gives the same events as `handle_input`.
#[test]
fn the_receive_lender_at_every_split_equals_handle_input() {
    let mut wire = Vec::new();
    for (i, payload) in [&b"hello"[..], b"", &[b'x'; 300]].iter().enumerate() {
        wire.extend(client_frame(true, if i == 1 { 0x2 } else { 0x1 }, payload));
    }
    wire.extend(client_frame(true, 0x9, b"ping"));
    let mut whole = server();
    whole.handle_input(&wire);
    let (expected, error) = events(&mut whole);
    assert_eq!((expected.len(), error), (4, None));
    for step in 1..=wire.len() {
        let mut conn = server();
        let mut got = Vec::new();
        for (n, chunk) in wire.chunks(step).enumerate() {
            if n % 3 == 2 {
                // A loan given up adds nothing.
                conn.receive_buffer().spare(chunk.len())[0] = 0xFF;
            }
            let mut lender = conn.receive_buffer();
            lender.spare(chunk.len())[..chunk.len()].copy_from_slice(chunk);
            lender.commit(chunk.len());
            let (events, error) = events(&mut conn);
            assert_eq!(error, None, "step {step}");
            got.extend(events);
        }
        assert_eq!(got, expected, "step {step}");
    }
}

/// A prepared message is framed once and queued by reference on every
/// server connection that sends it as it is; the others (a client, a split
/// frame, compression) send its payload their own way; all deliver it.
#[test]
fn a_prepared_message_goes_to_many_connections_encoded_once() {
    let small = PreparedMessage::text("tick 42");
    let large = PreparedMessage::binary(vec![7u8; 64 << 10]);
    let mut servers: Vec<Connection> = (0..3).map(|_| self::server()).collect();
    for conn in &mut servers {
        conn.send_prepared(&small).unwrap();
        conn.send_prepared(&small).unwrap();
        conn.send_prepared(&large).unwrap();
        // Small frames share one write; the large one is the prepared bytes
        // themselves, not a copy.
        assert_eq!(
            conn.poll_transmit().unwrap(),
            [small.frame(), small.frame()].concat()
        );
        let n = conn.poll_transmit().unwrap().len();
        conn.advance_transmit(n);
        let shared = conn.poll_transmit().unwrap();
        assert_eq!(shared.as_ptr(), large.frame().as_ptr());
        let frames = frames_sent_by(Role::Server, drain_output(conn));
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].1, vec![7u8; 64 << 10]);
    }

    // A client masks it; a server that splits frames splits it.
    let (mut client, mut server) = pair(Config::default().max_send_frame(Some(3)));
    client.send_prepared(&small).unwrap();
    assert_eq!(pump(&mut client, &mut server), vec![text("tick 42")]);
    server.send_prepared(&small).unwrap();
    let wire = drain_output(&mut server);
    assert_eq!(frames_sent_by(Role::Server, wire.clone()).len(), 3);
    client.handle_input(&wire);
    assert_eq!(events(&mut client), (vec![text("tick 42")], None));

    // Closed: refused like any send.
    let mut closed = self::server();
    closed.handle_eof();
    assert_eq!(closed.send_prepared(&small), Err(SendError::Closed));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    #[derive(Clone, Debug)]
    enum Action {
        Text(String),
        Binary(Vec<u8>),
        Ping(Vec<u8>),
        Fragmented(Vec<u8>, usize),
    }

    fn action() -> impl Strategy<Value = Action> {
        prop_oneof![
            ".{0,40}".prop_map(Action::Text),
            proptest::collection::vec(any::<u8>(), 0..300).prop_map(Action::Binary),
            proptest::collection::vec(any::<u8>(), 0..=125).prop_map(Action::Ping),
            (proptest::collection::vec(any::<u8>(), 0..300), 1usize..50)
                .prop_map(|(d, n)| Action::Fragmented(d, n)),
        ]
    }

    fn client_wire(actions: &[Action]) -> Vec<u8> {
        let mut client = Connection::new(Role::Client, Config::default());
        for action in actions {
            match action {
                Action::Text(t) => client.send_text(t).unwrap(),
                Action::Binary(b) => client.send_binary(b).unwrap(),
                Action::Ping(p) => client.send_ping(p).unwrap(),
                Action::Fragmented(d, n) => {
                    let pieces: Vec<_> = d.chunks(*n).collect();
                    for (i, piece) in pieces.iter().enumerate() {
                        client
                            .send_fragment(MessageKind::Binary, piece, i + 1 == pieces.len())
                            .unwrap();
                    }
                    if pieces.is_empty() {
                        client
                            .send_fragment(MessageKind::Binary, b"", true)
                            .unwrap();
                    }
                }
            }
        }
        client.close(CloseCode::NORMAL, "done").unwrap();
        drain_output(&mut client)
    }

    /// Server events and output for `wire` fed in pieces cut at `cuts`.
    fn run_server(wire: &[u8], cuts: &[usize]) -> (Vec<Event>, Option<ProtocolError>, Vec<u8>) {
        let mut server = Connection::new(Role::Server, Config::default());
        let mut all = Vec::new();
        let mut at = 0;
        let mut error = None;
        for &cut in cuts.iter().chain(core::iter::once(&wire.len())) {
            let cut = cut.clamp(at, wire.len());
            server.handle_input(&wire[at..cut]);
            at = cut;
            let (events, e) = events(&mut server);
            all.extend(events);
            error = error.or(e);
        }
        (all, error, drain_output(&mut server))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn any_split_of_a_conversation_gives_the_same_transcript(
            actions in proptest::collection::vec(action(), 0..8),
            mut cuts in proptest::collection::vec(any::<usize>(), 0..20),
        ) {
            let wire = client_wire(&actions);
            let whole = run_server(&wire, &[]);
            prop_assert_eq!(whole.1.clone(), None);
            cuts.iter_mut().for_each(|c| *c %= wire.len() + 1);
            cuts.sort();
            let split = run_server(&wire, &cuts);
            let bytewise: Vec<usize> = (0..wire.len()).collect();
            let one_by_one = run_server(&wire, &bytewise);
            prop_assert_eq!(&whole.0, &split.0);
            prop_assert_eq!(&whole.0, &one_by_one.0);
            // Pongs may coalesce differently, but the close echo is always last.
            let frames = frames_sent_by(Role::Server, one_by_one.2);
            prop_assert_eq!(frames.last().map(|f| f.0.opcode), Some(OpCode::Close));
        }

        #[test]
        fn no_input_panics_either_role(input in proptest::collection::vec(any::<u8>(), 0..600), server_role: bool) {
            let role = if server_role { Role::Server } else { Role::Client };
            let mut conn = Connection::new(role, Config::default().max_message_size(1000));
            for piece in input.chunks(7) {
                conn.handle_input(piece);
                let _ = events(&mut conn);
            }
            let _ = drain_output(&mut conn);
            conn.handle_eof();
            prop_assert_eq!(conn.state(), State::Closed);
        }
    }
}
