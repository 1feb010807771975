//! Arbitrary bytes received by a server connection with permessage-deflate on.
//!
//! The first byte picks the negotiated parameters: bits 0-2 the server's
//! window (8 + n bits, 8..=15), bits 3-5 the client's, bit 6
//! `server_no_context_takeover`, bit 7 `client_no_context_takeover`. The
//! second byte picks how the rest arrives: bits 0-6 the chunk size (0: all
//! at once), bit 7 `deliver_fragments`. The rest is what the peer sent; after
//! each chunk, events are polled until the connection wants more input.
//!
//! Invariants asserted:
//! - no panic, whatever the input (inflating included);
//! - a protocol error is returned at most once; from then on `poll_event`
//!   returns `Ok(None)` whatever arrives, and the connection is closed;
//! - no message is larger than `max_message_size` (64 KiB), whether
//!   delivered whole or as fragments (their sum per message); text is valid
//!   UTF-8;
//! - the output (pongs, the close reply or the failure's close frame)
//!   always decodes as valid, complete, unmasked server frames with RSV1
//!   clear; after an error, the last frame is a close with the error's code.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wsproto::extensions::deflate::DeflateParams;
use wsproto::frame::{FrameDecoder, OpCode, Rsv, Status};
use wsproto::{Config, Connection, Event, ProtocolError, Role};

const MAX_MESSAGE: u64 = 64 << 10;

fuzz_target!(|data: &[u8]| {
    let Some((&[params, feed], received)) = data.split_first_chunk::<2>() else {
        return;
    };
    let deflate = DeflateParams::default()
        .server_max_window_bits(8 + (params & 0b111))
        .client_max_window_bits(8 + ((params >> 3) & 0b111))
        .server_no_context_takeover(params & 0x40 != 0)
        .client_no_context_takeover(params & 0x80 != 0)
        .level(1)
        .min_compress_size(32);
    let chunk = match usize::from(feed & 0x7f) {
        0 => received.len().max(1),
        n => n,
    };
    let config = Config::default()
        .max_message_size(MAX_MESSAGE)
        .deliver_fragments(feed & 0x80 != 0);
    let mut server = Connection::new(Role::Server, config);
    server.enable_deflate(deflate);

    let mut error: Option<ProtocolError> = None;
    let mut fragments_len = 0u64;
    let mut output = Vec::new();
    for piece in received.chunks(chunk) {
        server.handle_input(piece);
        loop {
            match server.poll_event() {
                Ok(None) => break,
                Ok(Some(event)) => {
                    assert!(error.is_none(), "an event after the error: {event:?}");
                    check_event(&event, &mut fragments_len);
                }
                Err(e) => {
                    assert!(error.is_none(), "a second error: {e:?} after {error:?}");
                    error = Some(e);
                }
            }
        }
        while let Some(bytes) = server.poll_transmit() {
            let n = bytes.len();
            output.extend_from_slice(bytes);
            server.advance_transmit(n);
        }
    }
    if let Some(e) = &error {
        assert_eq!(server.state(), wsproto::State::Closed);
        assert_eq!(server.poll_event(), Ok(None));
        check_output(&mut output, Some(e.close_code().0));
    } else {
        check_output(&mut output, None);
    }
});

fn check_event(event: &Event, fragments_len: &mut u64) {
    match event {
        Event::Text(text) => {
            assert!(text.len() as u64 <= MAX_MESSAGE);
            assert!(std::str::from_utf8(text.as_bytes()).is_ok());
        }
        Event::Binary(data) => assert!(data.len() as u64 <= MAX_MESSAGE),
        Event::Fragment { data, is_last, .. } => {
            *fragments_len += data.len() as u64;
            assert!(*fragments_len <= MAX_MESSAGE, "fragments past the limit");
            if *is_last {
                *fragments_len = 0;
            }
        }
        Event::Ping(p) | Event::Pong(p) => assert!(p.len() <= 125),
        Event::Close(frame) => assert!(frame.reason.len() <= 123),
        other => panic!("an event of a kind not asked for: {other:?}"),
    }
}

/// Decodes everything the server wrote: whole, valid frames, nothing
/// compressed; with `failed_with`, the last one is a close with that code.
fn check_output(output: &mut [u8], failed_with: Option<u16>) {
    let decoder = FrameDecoder::new(Role::Client).with_allowed_rsv(Rsv::RSV1);
    let mut at = 0;
    let mut last = None;
    while at < output.len() {
        match decoder.decode(&mut output[at..]) {
            Ok(Status::Complete(frame)) => {
                assert!(frame.header.mask.is_none());
                assert_eq!(frame.header.rsv, Rsv::NONE, "a compressed frame sent");
                assert!(frame.header.opcode.is_control(), "the server sent data");
                last = Some((frame.header.opcode, frame.payload.to_vec()));
                at += frame.consumed;
            }
            Ok(Status::Partial) => panic!("truncated output"),
            Err(e) => panic!("invalid output: {e:?}"),
        }
    }
    if let Some(code) = failed_with {
        let (opcode, payload) = last.expect("no close frame after the error");
        assert_eq!(opcode, OpCode::Close);
        assert_eq!(u16::from_be_bytes([payload[0], payload[1]]), code);
    }
}
