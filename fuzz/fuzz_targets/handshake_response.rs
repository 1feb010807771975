//! Arbitrary bytes into the client's response parser.
//!
//! Invariant: no panic, whatever the input and its split; the head taken
//! never exceeds the input and, on success, the head plus the leftover bytes
//! account for every input byte; the same input fed whole or in two chunks
//! gives the same outcome (a rejection's body being the bytes that came with
//! the head, so a prefix when split); a negotiated subprotocol is one that
//! was offered. The leftover bytes are what the connection handed over holds
//! undecoded.
#![no_main]

use wsproto::extensions::deflate::DeflateConfig;
use wsproto::frame::Status;
use wsproto::handshake::{ClientConfig, ClientHandshake, HandshakeError, WsUrl};

fn client() -> ClientHandshake {
    let url = WsUrl::parse("ws://server.example.com/chat").unwrap();
    let config = ClientConfig::new()
        .protocol("chat")
        .protocol("superchat")
        .deflate(DeflateConfig::default());
    // The RFC's sample key, so that inputs can carry its accept value.
    ClientHandshake::new(&url, config, *b"the sample nonce").unwrap()
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let split = data.first().map_or(0, |&b| b as usize).min(data.len());
    let whole = client().handle_input(data);
    let mut c = client();
    let chunked = match c.handle_input(&data[..split]) {
        Ok(Status::Partial) => c.handle_input(&data[split..]),
        other => other,
    };
    match whole {
        Ok(Status::Complete(accepted)) => {
            let leftover = accepted.connection.pending_input();
            assert!(leftover.len() <= data.len());
            let consumed = data.len() - leftover.len();
            assert_eq!(&leftover[..], &data[consumed..]);
            if let Some(p) = &accepted.negotiated.protocol {
                assert!(p == "chat" || p == "superchat");
            }
            let split_leftover = match chunked.expect("split feeding failed where whole succeeded")
            {
                Status::Complete(a) if consumed <= split => {
                    [a.connection.pending_input(), &data[split..]].concat()
                }
                Status::Complete(a) => a.connection.pending_input().to_vec(),
                Status::Partial => panic!("split feeding incomplete"),
            };
            assert_eq!(split_leftover, &data[consumed..]);
        }
        Ok(Status::Partial) => assert!(matches!(chunked, Ok(Status::Partial))),
        Err(HandshakeError::Rejected(whole)) => {
            // The body holds the bytes that came with the head: all of the
            // tail when fed whole, a prefix of it when split.
            let Err(HandshakeError::Rejected(split)) = chunked else {
                panic!("split feeding disagrees on a rejection")
            };
            assert!(whole.body.len() <= data.len());
            assert_eq!(&whole.body[..], &data[data.len() - whole.body.len()..]);
            assert!(whole.body.starts_with(&split.body));
            assert_eq!(
                (split.status, &split.reason, &split.headers),
                (whole.status, &whole.reason, &whole.headers)
            );
        }
        Err(e) => assert_eq!(chunked.unwrap_err(), e),
    }
});
