//! Arbitrary bytes into the server's request parser.
//!
//! Invariant: no panic, whatever the input and its split; the head taken
//! never exceeds the input and, on success, the head plus the leftover bytes
//! account for every input byte (nothing lost, nothing invented); the same
//! input fed whole or in two chunks gives the same outcome; an accepted
//! upgrade writes a response that fits the size it reports.
#![no_main]

use wsproto::frame::Status;
use wsproto::handshake::{Accept, Limits, ServerHandshake};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let split = data.first().map_or(0, |&b| b as usize).min(data.len());
    let whole = ServerHandshake::new(Limits::default()).handle_input(data);
    let mut server = ServerHandshake::new(Limits::default());
    let chunked = match server.handle_input(&data[..split]) {
        Ok(Status::Partial) => server.handle_input(&data[split..]),
        other => other,
    };
    match whole {
        Ok(Status::Complete(request)) => {
            let leftover = request.leftover().len();
            assert!(leftover <= data.len());
            let consumed = data.len() - leftover;
            assert!(consumed > 0);
            // What followed the head is the input's tail, byte for byte.
            assert_eq!(request.leftover(), &data[consumed..]);
            // Split feeding finds the same request; its leftover plus the
            // second chunk (when the head ended in the first) is the same tail.
            let split_leftover = match chunked.expect("split feeding failed where whole succeeded")
            {
                Status::Complete(r) if consumed <= split => [r.leftover(), &data[split..]].concat(),
                Status::Complete(r) => r.leftover().to_vec(),
                Status::Partial => panic!("split feeding incomplete"),
            };
            assert_eq!(split_leftover, &data[consumed..]);
            if request.is_upgrade() {
                let protocol = request.protocols().next().map(String::from);
                let mut accept = Accept::new();
                if let Some(p) = protocol {
                    accept = accept.protocol(p);
                }
                let accepted = request
                    .accept(accept)
                    .expect("an offered protocol is accepted");
                let len = accepted
                    .response
                    .encoded_len()
                    .expect("an accepted response can be written");
                let mut out = vec![0u8; len];
                assert_eq!(accepted.response.write(&mut out), Ok(out.len()));
            }
        }
        Ok(Status::Partial) => assert!(matches!(chunked, Ok(Status::Partial))),
        Err(e) => {
            assert_eq!(chunked.unwrap_err(), e);
            let _ = e.http_status();
        }
    }
});
