//! Caller input (status, reason, header fields, body; a client's `Origin`
//! and extra fields) into the code that writes HTTP heads, checked against
//! httparse.
//!
//! Invariant: no panic; every head is either refused with nothing written,
//! or it parses back with httparse to exactly what was given: the same
//! status and reason, the same fields in the same order (plus the
//! `Content-Length` the writer adds), the body as the only bytes after the
//! head. So no input can split a head or smuggle a second message.
#![no_main]

use arbitrary::Arbitrary;
use wsproto::handshake::{ClientConfig, ClientHandshake, Response, WsUrl};

#[derive(Arbitrary, Debug)]
struct Input {
    status: u16,
    reason: String,
    fields: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    origin: Option<String>,
}

/// More fields than this would not fit the reference parser's table.
const MAX_FIELDS: usize = 400;

libfuzzer_sys::fuzz_target!(|input: Input| {
    if input.fields.len() > MAX_FIELDS {
        return;
    }
    check_response(&input);
    check_request(&input);
});

fn check_response(input: &Input) {
    let mut response = Response::new(input.status).with_body(input.body.clone());
    response.reason = input.reason.clone();
    for (name, value) in &input.fields {
        response = response.with_header(name.as_str(), value.as_slice());
    }
    let mut wire = Vec::new();
    if response.write_to_vec(&mut wire).is_err() {
        assert!(wire.is_empty(), "written though refused");
        return;
    }
    let mut slots = [httparse::EMPTY_HEADER; 512];
    let mut parsed = httparse::Response::new(&mut slots);
    let head_len = match parsed.parse(&wire) {
        Ok(httparse::Status::Complete(n)) => n,
        other => panic!("written head does not parse: {other:?}\n{wire:?}"),
    };
    assert_eq!(parsed.code, Some(input.status));
    assert_eq!(parsed.reason, Some(input.reason.as_str()));
    let written: Vec<(&str, &[u8])> = parsed.headers.iter().map(|h| (h.name, h.value)).collect();
    let given: Vec<(&str, &[u8])> = input
        .fields
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_slice()))
        .collect();
    assert!(written.len() >= given.len());
    assert_eq!(&written[..given.len()], &given[..]);
    // At most the `Content-Length` the writer adds, and it is the body's.
    let added = &written[given.len()..];
    let length = input.body.len().to_string();
    assert!(added.is_empty() || added == [("Content-Length", length.as_bytes())]);
    assert_eq!(&wire[head_len..], &input.body[..]);
}

fn check_request(input: &Input) {
    let url = WsUrl::parse("ws://example.com/chat").unwrap();
    let mut config = ClientConfig::new();
    if let Some(origin) = &input.origin {
        config = config.origin(origin.as_str());
    }
    for (name, value) in &input.fields {
        config = config.header(name.as_str(), value.as_slice());
    }
    let Ok(handshake) = ClientHandshake::new(&url, config, [7; 16]) else {
        return;
    };
    let mut wire = Vec::new();
    handshake
        .write_request_to_vec(&mut wire)
        .expect("a handshake that was built writes");
    let mut slots = [httparse::EMPTY_HEADER; 512];
    let mut parsed = httparse::Request::new(&mut slots);
    assert_eq!(
        parsed.parse(&wire),
        Ok(httparse::Status::Complete(wire.len()))
    );
    assert_eq!((parsed.method, parsed.path), (Some("GET"), Some("/chat")));
    // The handshake's own fields, then the caller's, unchanged, in order.
    let (own, tail) = parsed
        .headers
        .split_at(parsed.headers.len() - input.fields.len());
    let origin = own.iter().find(|h| h.name == "Origin");
    assert_eq!(
        origin.map(|h| h.value),
        input.origin.as_deref().map(str::as_bytes)
    );
    for (h, (name, value)) in tail.iter().zip(&input.fields) {
        assert_eq!((h.name, h.value), (name.as_str(), value.as_slice()));
    }
}
