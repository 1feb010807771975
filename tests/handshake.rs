//! The opening handshake (RFC 6455 §4): the RFC's examples byte for byte,
//! every rule broken once with the exact error, repeated and comma-joined
//! fields, any split of the input, leftover bytes, limits.

use proptest::prelude::*;
use wsproto::frame::Status;
use wsproto::handshake::{
    Accept, Accepted, ClientConfig, ClientHandshake, ExtensionOffer, HandshakeError, Limits,
    Request, ServerHandshake, UsageError, WriteError, WsUrl,
};
use wsproto::{BufferTooSmall, Role};

/// RFC 6455 §1.2: the client's handshake.
const RFC_REQUEST: &[u8] = b"GET /chat HTTP/1.1\r\n\
Host: server.example.com\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Origin: http://example.com\r\n\
Sec-WebSocket-Protocol: chat, superchat\r\n\
Sec-WebSocket-Version: 13\r\n\
\r\n";

/// RFC 6455 §1.2: the server's handshake.
const RFC_RESPONSE: &[u8] = b"HTTP/1.1 101 Switching Protocols\r\n\
Upgrade: websocket\r\n\
Connection: Upgrade\r\n\
Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\
Sec-WebSocket-Protocol: chat\r\n\
\r\n";

/// The nonce whose base64 is the RFC's sample key.
const RFC_NONCE: [u8; 16] = *b"the sample nonce";

fn server_parse(wire: &[u8]) -> Result<Status<Request>, HandshakeError> {
    ServerHandshake::new(Limits::default()).handle_input(wire)
}

fn server_err(wire: &[u8]) -> HandshakeError {
    server_parse(wire).expect_err("request should be refused")
}

fn rfc_client(config: ClientConfig) -> ClientHandshake {
    let url = WsUrl::parse("ws://server.example.com/chat").unwrap();
    ClientHandshake::new(&url, config, RFC_NONCE).unwrap()
}

fn client_err(config: ClientConfig, response: &[u8]) -> HandshakeError {
    rfc_client(config)
        .handle_input(response)
        .expect_err("response should be refused")
}

/// The RFC request with one line replaced (`from` -> `to`, `to` may be empty).
fn request_with(from: &str, to: &str) -> Vec<u8> {
    let text = std::str::from_utf8(RFC_REQUEST).unwrap();
    assert!(text.contains(from), "{from}");
    text.replacen(from, to, 1).into_bytes()
}

fn response_with(from: &str, to: &str) -> Vec<u8> {
    let text = std::str::from_utf8(RFC_RESPONSE).unwrap();
    assert!(text.contains(from), "{from}");
    text.replacen(from, to, 1).into_bytes()
}

fn both_protocols() -> ClientConfig {
    ClientConfig::new()
        .origin("http://example.com")
        .protocol("chat")
        .protocol("superchat")
}

// --- The RFC's examples. ---

#[test]
fn rfc_example_server_side_byte_for_byte() {
    let Status::Complete(request) = server_parse(RFC_REQUEST).unwrap() else {
        panic!("partial")
    };
    assert!(request.is_upgrade());
    assert_eq!(
        (
            request.method(),
            request.target(),
            request.path(),
            request.query()
        ),
        ("GET", "/chat", "/chat", None)
    );
    assert_eq!(request.host(), Some("server.example.com"));
    assert_eq!(request.origin(), Some("http://example.com"));
    assert_eq!(
        request.protocols().collect::<Vec<_>>(),
        ["chat", "superchat"]
    );
    assert!(request.extensions().is_empty());
    assert_eq!(
        request.accept_key().unwrap().as_str(),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );

    let Accepted {
        response,
        negotiated,
        connection,
        ..
    } = request.accept(Accept::new().protocol("chat")).unwrap();
    let mut out = [0u8; 256];
    let n = response.write(&mut out).unwrap();
    assert_eq!(&out[..n], RFC_RESPONSE);
    assert_eq!(response.encoded_len(), Ok(n));
    assert_eq!(
        (negotiated.role, negotiated.protocol.as_deref()),
        (Role::Server, Some("chat"))
    );
    assert!(negotiated.extensions.is_empty() && connection.pending_input().is_empty());
    assert_eq!(connection.role(), Role::Server);
}

#[test]
fn rfc_example_client_side_byte_for_byte() {
    let mut client = rfc_client(both_protocols());
    assert_eq!(client.key(), "dGhlIHNhbXBsZSBub25jZQ==");
    let mut out = [0u8; 512];
    let n = client.write_request(&mut out).unwrap();
    assert_eq!(&out[..n], RFC_REQUEST);
    let mut vec = Vec::new();
    client.write_request_to_vec(&mut vec).unwrap();
    assert_eq!(vec, RFC_REQUEST);
    // Too small: the size required, nothing written.
    let mut short = [0u8; 16];
    assert_eq!(
        client.write_request(&mut short),
        Err(WriteError::BufferTooSmall(BufferTooSmall {
            required: RFC_REQUEST.len()
        }))
    );
    assert_eq!(short, [0; 16]);

    let Status::Complete(accepted) = client.handle_input(RFC_RESPONSE).unwrap() else {
        panic!("partial")
    };
    assert_eq!(accepted.response.status, 101);
    assert_eq!(accepted.negotiated.role, Role::Client);
    assert_eq!(accepted.negotiated.protocol.as_deref(), Some("chat"));
}

#[cfg(feature = "deflate")]
#[test]
fn client_and_server_in_memory_with_an_extension() {
    use wsproto::extensions::deflate::DeflateConfig;
    let url = WsUrl::parse("ws://[::1]:9001/x?y=1").unwrap();
    let config = ClientConfig::new()
        .protocol("p1")
        .deflate(DeflateConfig::default())
        .header("Cookie", "a=b");
    let mut client = ClientHandshake::new(&url, config, [7; 16]).unwrap();
    let mut wire = Vec::new();
    client
        .write_request_to_vec(&mut wire)
        .expect("a head this program built is valid");

    let Status::Complete(request) = server_parse(&wire).unwrap() else {
        panic!("partial")
    };
    assert_eq!(
        (request.host(), request.path(), request.query()),
        (Some("[::1]:9001"), "/x", Some("y=1"))
    );
    assert_eq!(request.headers().get_str("cookie"), Some("a=b"));
    assert_eq!(
        request.extensions()[0].param("client_max_window_bits"),
        Some(None)
    );
    let server_deflate = DeflateConfig::default().client_max_window_bits(10);
    let accept = Accept::new()
        .protocol("p1")
        .deflate(server_deflate)
        .header("Set-Cookie", "s=1");
    let accepted = request.accept(accept).unwrap();
    // The defaults ask the client not to take its context over.
    let reply = ExtensionOffer::new("permessage-deflate")
        .with_param("client_no_context_takeover", None::<&str>)
        .with_param("client_max_window_bits", Some("10"));
    assert_eq!(accepted.negotiated.extensions, std::slice::from_ref(&reply));
    let mut response = Vec::new();
    accepted
        .response
        .write_to_vec(&mut response)
        .expect("a head this program built is valid");
    response.extend_from_slice(b"\x81\x00"); // a frame right behind the head

    let Status::Complete(done) = client.handle_input(&response).unwrap() else {
        panic!("partial")
    };
    assert_eq!(done.negotiated.protocol.as_deref(), Some("p1"));
    assert_eq!(done.negotiated.extensions, [reply]);
    assert_eq!(done.response.headers.get_str("Set-Cookie"), Some("s=1"));
    // Both connections run permessage-deflate; the frame behind the head
    // is the client's first event.
    assert!(done.connection.is_deflate_enabled() && accepted.connection.is_deflate_enabled());
    let mut connection = done.connection;
    assert_eq!(connection.pending_input(), b"\x81\x00");
    assert!(matches!(connection.poll_event(), Ok(Some(wsproto::Event::Text(t))) if t.is_empty()));
}

// --- §4.2.1, each rule broken once. ---

#[test]
fn every_request_rule_broken_gives_its_error() {
    use HandshakeError::*;
    let cases: Vec<(Vec<u8>, HandshakeError, u16)> = vec![
        (request_with("GET /chat", "POST /chat"), MethodNotGet("POST".into()), 400),
        (request_with("HTTP/1.1", "HTTP/1.0"), HttpVersionTooOld(0), 400),
        (request_with("Host: server.example.com\r\n", ""), MissingHost, 400),
        (request_with("Host: server.example.com\r\n", "Host: a\r\nHost: b\r\n"), DuplicateHost, 400),
        (request_with("Upgrade: websocket", "Upgrade: h2c"), MissingUpgrade, 400),
        (request_with("Upgrade: websocket\r\n", ""), MissingUpgrade, 400),
        (request_with("Connection: Upgrade", "Connection: keep-alive"), MissingConnectionUpgrade, 400),
        (request_with("Connection: Upgrade\r\n", ""), MissingConnectionUpgrade, 400),
        (request_with("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", ""), MissingKey, 400),
        (
            request_with("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"),
            DuplicateKey,
            400,
        ),
        (request_with("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ"), InvalidKey, 400),
        (request_with("dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZSE="), InvalidKey, 400),
        (request_with("dGhlIHNhbXBsZSBub25jZQ==", "not base64 at all!!!!!!!"), InvalidKey, 400),
        (request_with("Sec-WebSocket-Version: 13\r\n", ""), MissingVersion, 400),
        (request_with("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 8"), UnsupportedVersion, 426),
        (request_with("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: 13, 8"), UnsupportedVersion, 426),
        (request_with("Sec-WebSocket-Version: 13", "Sec-WebSocket-Version: "), UnsupportedVersion, 426),
        (request_with("chat, superchat", "chat, super chat"), InvalidProtocolHeader, 400),
        (request_with("chat, superchat", "chat, \"superchat\""), InvalidProtocolHeader, 400),
        (
            request_with("Sec-WebSocket-Version: 13\r\n", "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: foo; =1\r\n"),
            InvalidExtensionHeader,
            400,
        ),
        (request_with("GET /chat HTTP/1.1", "GET /chat HTTP/1.1 extra"), MalformedHttp("invalid line ending"), 400),
        (request_with("Origin: http://example.com\r\n", "Bad Name: x\r\n"), MalformedHttp("invalid header name"), 400),
    ];
    for (wire, error, status) in cases {
        let got = server_err(&wire);
        assert_eq!(got, error, "{}", String::from_utf8_lossy(&wire));
        assert_eq!(got.http_status(), status);
        assert_eq!(got.to_response().status, status);
    }
}

#[test]
fn a_426_names_the_version_we_speak() {
    let err = server_err(&request_with(
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Version: 8",
    ));
    let mut out = [0u8; 512];
    let n = err.to_response().write(&mut out).unwrap();
    let text = std::str::from_utf8(&out[..n]).unwrap();
    assert!(
        text.starts_with("HTTP/1.1 426 Upgrade Required\r\n"),
        "{text}"
    );
    assert!(text.contains("\r\nSec-WebSocket-Version: 13\r\n"), "{text}");
    let bad = server_err(&request_with("Host: server.example.com\r\n", "")).to_response();
    assert_eq!((bad.status, bad.reason.as_str()), (400, "Bad Request"));
    assert_eq!(bad.headers.get_str("Connection"), Some("close"));
}

#[test]
fn errors_are_sticky() {
    let mut server = ServerHandshake::new(Limits::default());
    let err = server
        .handle_input(&request_with("HTTP/1.1", "HTTP/1.0"))
        .unwrap_err();
    assert_eq!(server.handle_input(RFC_REQUEST).unwrap_err(), err);
    let mut client = rfc_client(both_protocols());
    let err = client
        .handle_input(b"HTTP/1.1 404 Not Found\r\n\r\n")
        .unwrap_err();
    assert_eq!(client.handle_input(RFC_RESPONSE).unwrap_err(), err);
}

#[test]
fn input_after_completion_is_refused() {
    let mut server = ServerHandshake::new(Limits::default());
    assert!(server
        .handle_input(RFC_REQUEST)
        .unwrap()
        .complete()
        .is_some());
    assert_eq!(
        server.handle_input(b"more").unwrap_err(),
        HandshakeError::Finished
    );
}

// --- Repeated and comma-joined fields. ---

#[test]
fn repeated_and_comma_joined_fields() {
    let wire = b"GET /chat HTTP/1.1\r\n\
host: server.example.com\r\n\
upgrade: h2c\r\n\
UPGRADE: WebSocket\r\n\
connection: keep-alive, upgrade\r\n\
Sec-WebSocket-Key:   dGhlIHNhbXBsZSBub25jZQ==  \r\n\
Sec-WebSocket-Protocol: ,chat\r\n\
sec-websocket-protocol: superchat ,, v2\r\n\
Sec-WebSocket-Extensions: a; x=1\r\n\
Sec-WebSocket-Extensions: b, c; y=\"2\"\r\n\
Sec-WebSocket-Version: 13\r\n\
Sec-WebSocket-Version: 13\r\n\
\r\n";
    let request = server_parse(wire).unwrap().complete().unwrap();
    assert_eq!(
        request.protocols().collect::<Vec<_>>(),
        ["chat", "superchat", "v2"]
    );
    let names: Vec<&str> = request
        .extensions()
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(request.extensions()[2].param("y"), Some(Some("2")));
    assert_eq!(
        request.accept_key().unwrap().as_str(),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
}

// --- Plain HTTP on the same port. ---

#[test]
fn a_plain_request_is_served_like_any_other() {
    let wire = b"POST /form HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc";
    let request = server_parse(wire).unwrap().complete().unwrap();
    assert!(!request.is_upgrade());
    assert_eq!(
        (
            request.method(),
            request.path(),
            request.http_minor_version()
        ),
        ("POST", "/form", 0)
    );
    assert_eq!(request.leftover(), b"abc");
    assert_eq!(request.protocols().count(), 0);
    assert_eq!(
        request.clone().accept(Accept::new()).unwrap_err(),
        UsageError::NotAnUpgrade
    );
    let page = request.reject(404, "no such page");
    let mut out = Vec::new();
    page.write_to_vec(&mut out)
        .expect("a head this program built is valid");
    assert_eq!(
        out,
        b"HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 12\r\n\r\nno such page"
    );
}

// --- The application's choices. ---

#[test]
fn the_application_cannot_choose_what_was_not_offered() {
    let request = server_parse(RFC_REQUEST).unwrap().complete().unwrap();
    assert_eq!(
        request
            .clone()
            .accept(Accept::new().protocol("Chat"))
            .unwrap_err(),
        UsageError::ProtocolNotOffered("Chat".into())
    );
    assert_eq!(
        request
            .clone()
            .accept(Accept::new().header("Sec-WebSocket-Accept", "x"))
            .unwrap_err(),
        UsageError::ReservedHeader("Sec-WebSocket-Accept".into())
    );
    assert_eq!(
        request
            .clone()
            .accept(Accept::new().header("X-A", "1\r\n\r\n"))
            .unwrap_err(),
        UsageError::InvalidHeader("X-A".into())
    );
    let accepted = request.clone().accept(Accept::new()).unwrap();
    assert!(!accepted.response.headers.contains("Sec-WebSocket-Protocol"));
    let forbidden = request.forbid();
    assert_eq!(
        (forbidden.status, forbidden.reason.as_str()),
        (403, "Forbidden")
    );
}

#[test]
fn the_client_refuses_invalid_offers() {
    let url = WsUrl::parse("ws://h/").unwrap();
    let new = |c| ClientHandshake::new(&url, c, [0; 16]).map(|_| ());
    assert_eq!(
        new(ClientConfig::new().protocol("a b")),
        Err(UsageError::InvalidProtocol("a b".into()))
    );
    assert_eq!(
        new(ClientConfig::new().protocol("a").protocol("a")),
        Err(UsageError::InvalidProtocol("a".into()))
    );
    assert_eq!(
        new(ClientConfig::new().header("Host", "x")),
        Err(UsageError::ReservedHeader("Host".into()))
    );
    assert_eq!(
        new(ClientConfig::new().origin("x\ny")),
        Err(UsageError::InvalidHeader("Origin".into()))
    );
}

// --- §4.1, each rule broken once. ---

#[test]
fn every_response_rule_broken_gives_its_error() {
    use HandshakeError::*;
    let chat = both_protocols;
    let cases: Vec<(ClientConfig, Vec<u8>, HandshakeError)> = vec![
        (chat(), response_with("HTTP/1.1 101", "HTTP/1.0 101"), ResponseVersion(0)),
        (chat(), response_with("Upgrade: websocket\r\n", ""), MissingUpgrade),
        (chat(), response_with("Upgrade: websocket", "Upgrade: websocket, h2c"), MissingUpgrade),
        (chat(), response_with("Connection: Upgrade\r\n", ""), MissingConnectionUpgrade),
        (chat(), response_with("Connection: Upgrade", "Connection: close"), MissingConnectionUpgrade),
        (chat(), response_with("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n", ""), MissingAccept),
        (chat(), response_with("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", "s3pPLMBiTxaQ9kYGzzhZRbK+xOx="), AcceptMismatch),
        (
            chat(),
            response_with(
                "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n",
                "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n",
            ),
            AcceptMismatch,
        ),
        (chat(), response_with("Protocol: chat", "Protocol: other"), ProtocolNotOffered("other".into())),
        (chat(), response_with("Protocol: chat", "Protocol: chat, superchat"), ProtocolNotOffered("chat, superchat".into())),
        (ClientConfig::new(), RFC_RESPONSE.to_vec(), ProtocolNotOffered("chat".into())),
        (
            chat(),
            response_with("\r\n\r\n", "\r\nSec-WebSocket-Extensions: permessage-deflate\r\n\r\n"),
            ExtensionNotOffered("permessage-deflate".into()),
        ),
        (chat(), response_with("\r\n\r\n", "\r\nSec-WebSocket-Extensions: ;\r\n\r\n"), InvalidExtensionHeader),
        (chat(), b"HTTP/1.1 101 Switching Protocols\r\nUpgrade websocket\r\n\r\n".to_vec(), MalformedHttp("invalid header name")),
    ];
    for (config, wire, error) in cases {
        let got = client_err(config, &wire);
        assert_eq!(got, error, "{}", String::from_utf8_lossy(&wire));
        // Only a client detects these; a relaying proxy would answer 502.
        if matches!(
            got,
            ResponseVersion(_)
                | MissingAccept
                | AcceptMismatch
                | ProtocolNotOffered(_)
                | ExtensionNotOffered(_)
        ) {
            assert_eq!(got.http_status(), 502);
        }
    }
}

#[test]
fn another_status_carries_the_response() {
    let wire = b"HTTP/1.1 302 Found\r\nLocation: ws://elsewhere/\r\nContent-Length: 5\r\n\r\nmoved";
    let HandshakeError::Rejected(response) = client_err(both_protocols(), wire) else {
        panic!()
    };
    assert_eq!((response.status, response.reason.as_str()), (302, "Found"));
    assert_eq!(
        response.headers.get_str("location"),
        Some("ws://elsewhere/")
    );
    assert_eq!(response.body, b"moved");
}

#[test]
fn a_response_without_a_subprotocol_is_fine() {
    let wire = response_with("Sec-WebSocket-Protocol: chat\r\n", "");
    let accepted = rfc_client(both_protocols())
        .handle_input(&wire)
        .unwrap()
        .complete()
        .unwrap();
    assert_eq!(accepted.negotiated.protocol, None);
    let wire = response_with("Upgrade: websocket", "upgrade: WEBSOCKET");
    let wire = String::from_utf8(wire)
        .unwrap()
        .replace("Connection: Upgrade", "Connection: keep-alive, upgrade");
    assert!(rfc_client(both_protocols())
        .handle_input(wire.as_bytes())
        .unwrap()
        .complete()
        .is_some());
}

// --- Limits. ---

#[test]
fn head_byte_limit_fails_without_growing() {
    let limits = Limits::new(64, 64);
    let mut server = ServerHandshake::new(limits);
    // The head ends past byte 64, whatever the chunks.
    assert!(server
        .handle_input(&RFC_REQUEST[..40])
        .unwrap()
        .is_partial());
    assert_eq!(
        server.handle_input(&RFC_REQUEST[40..]).unwrap_err(),
        HandshakeError::HeadTooLarge { max: 64 }
    );
    // A huge first chunk with no end of head in sight.
    let flood = vec![b'a'; 1 << 20];
    let err = ServerHandshake::new(Limits::default())
        .handle_input(&flood)
        .unwrap_err();
    assert_eq!(err, HandshakeError::HeadTooLarge { max: 8192 });
    assert_eq!(err.http_status(), 431);
    // Exactly at the limit is accepted.
    let exact = ServerHandshake::new(Limits::new(RFC_REQUEST.len(), 8)).handle_input(RFC_REQUEST);
    assert!(exact.unwrap().complete().is_some());
    let mut client = ClientHandshake::new(
        &WsUrl::parse("ws://server.example.com/chat").unwrap(),
        both_protocols().limits(Limits::new(RFC_RESPONSE.len() - 1, 8)),
        RFC_NONCE,
    )
    .unwrap();
    assert_eq!(
        client.handle_input(RFC_RESPONSE).unwrap_err(),
        HandshakeError::HeadTooLarge {
            max: RFC_RESPONSE.len() - 1
        }
    );
}

#[test]
fn header_count_limit() {
    // The RFC request has 7 fields.
    let err = ServerHandshake::new(Limits::new(8192, 6))
        .handle_input(RFC_REQUEST)
        .unwrap_err();
    assert_eq!(err, HandshakeError::TooManyHeaders { max: 6 });
    assert_eq!(err.http_status(), 431);
    assert!(ServerHandshake::new(Limits::new(8192, 7))
        .handle_input(RFC_REQUEST)
        .is_ok());
    let mut many = b"GET / HTTP/1.1\r\n".to_vec();
    for i in 0..65 {
        many.extend_from_slice(format!("X-{i}: 1\r\n").as_bytes());
    }
    many.extend_from_slice(b"\r\n");
    assert_eq!(
        server_err(&many),
        HandshakeError::TooManyHeaders { max: 64 }
    );
}

// --- Any split, leftover bytes. ---

/// Feeds `chunks` in turn; the outcome and the number of `Partial`s seen.
fn feed_server(chunks: &[&[u8]]) -> (Result<Request, HandshakeError>, usize) {
    let mut server = ServerHandshake::new(Limits::default());
    let mut partials = 0;
    let mut last = None;
    for (i, chunk) in chunks.iter().enumerate() {
        match server.handle_input(chunk) {
            Ok(Status::Partial) => partials += 1,
            Ok(Status::Complete(r)) => {
                // Later chunks belong to the connection: append them.
                let mut r = r.into_leftover();
                for rest in &chunks[i + 1..] {
                    r.extend_from_slice(rest);
                }
                last = Some(Ok(r));
                break;
            }
            Err(e) => {
                last = Some(Err(e));
                break;
            }
        }
    }
    let outcome = last.map(|r| r.map(|leftover| with_leftover(chunks, leftover)));
    (outcome.unwrap_or(Err(HandshakeError::Finished)), partials)
}

/// Re-parses the whole input to get the request, checking the leftover
/// found by split feeding is the same as whole feeding.
fn with_leftover(chunks: &[&[u8]], leftover: bytes::BytesMut) -> Request {
    let whole = chunks.concat();
    let request = server_parse(&whole).unwrap().complete().unwrap();
    assert_eq!(request.leftover(), &leftover[..]);
    request
}

#[test]
fn byte_by_byte_equals_whole() {
    let mut wire = RFC_REQUEST.to_vec();
    wire.extend_from_slice(b"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58");
    let chunks: Vec<&[u8]> = wire.chunks(1).collect();
    let (request, partials) = feed_server(&chunks);
    let request = request.unwrap();
    assert_eq!(partials, RFC_REQUEST.len() - 1);
    assert_eq!(request.leftover(), &wire[RFC_REQUEST.len()..]);
    assert_eq!(request, server_parse(&wire).unwrap().complete().unwrap());

    let mut client = rfc_client(both_protocols());
    let mut response = RFC_RESPONSE.to_vec();
    response.extend_from_slice(b"\x81\x02hi");
    for (i, b) in response.iter().enumerate() {
        match client.handle_input(std::slice::from_ref(b)).unwrap() {
            Status::Partial => assert!(i < RFC_RESPONSE.len() - 1),
            Status::Complete(a) => {
                assert_eq!(i, RFC_RESPONSE.len() - 1);
                let mut leftover = a.connection.pending_input().to_vec();
                leftover.extend_from_slice(&response[i + 1..]);
                assert_eq!(&leftover[..], b"\x81\x02hi");
                return;
            }
        }
    }
    panic!("never completed");
}

#[test]
fn leftover_from_several_chunks_is_kept() {
    let mut server = ServerHandshake::new(Limits::default());
    let cut = RFC_REQUEST.len() - 3;
    assert!(server
        .handle_input(&RFC_REQUEST[..cut])
        .unwrap()
        .is_partial());
    let mut rest = RFC_REQUEST[cut..].to_vec();
    rest.extend_from_slice(b"frames follow");
    let request = server.handle_input(&rest).unwrap().complete().unwrap();
    let accepted = request.accept(Accept::new()).unwrap();
    assert_eq!(accepted.connection.pending_input(), b"frames follow");
}

proptest! {
    #[test]
    fn any_split_of_a_request_equals_whole(a in 0usize..300, b in 0usize..300, tail in proptest::collection::vec(any::<u8>(), 0..40)) {
        let mut wire = RFC_REQUEST.to_vec();
        wire.extend_from_slice(&tail);
        let (a, b) = (a.min(wire.len()), b.min(wire.len()));
        let (a, b) = (a.min(b), a.max(b));
        let chunks = [&wire[..a], &wire[a..b], &wire[b..]];
        let (split, _) = feed_server(&chunks);
        let request = split.unwrap();
        prop_assert_eq!(request.leftover(), &tail[..]);
    }

    #[test]
    fn any_split_of_a_response_equals_whole(a in 0usize..200, tail in proptest::collection::vec(any::<u8>(), 0..40)) {
        let mut wire = RFC_RESPONSE.to_vec();
        wire.extend_from_slice(&tail);
        let a = a.min(wire.len());
        let mut client = rfc_client(both_protocols());
        let outcome = match client.handle_input(&wire[..a]).unwrap() {
            Status::Complete(done) => {
                let mut leftover = done.connection.pending_input().to_vec();
                leftover.extend_from_slice(&wire[a..]);
                (done.negotiated.protocol, leftover)
            }
            Status::Partial => {
                let done = client.handle_input(&wire[a..]).unwrap().complete().unwrap();
                (done.negotiated.protocol, done.connection.pending_input().to_vec())
            }
        };
        prop_assert_eq!(outcome.0.as_deref(), Some("chat"));
        prop_assert_eq!(&outcome.1[..], &tail[..]);
    }

    #[test]
    fn garbage_never_panics_and_errors_are_split_independent(
        data in proptest::collection::vec(any::<u8>(), 0..200),
        a in 0usize..200,
    ) {
        let a = a.min(data.len());
        let whole = ServerHandshake::new(Limits::default()).handle_input(&data).map(|s| s.complete().map(|r| r.leftover().to_vec()));
        let mut server = ServerHandshake::new(Limits::default());
        let split = match server.handle_input(&data[..a]) {
            Ok(Status::Partial) => server.handle_input(&data[a..]).map(|s| s.complete().map(|r| r.leftover().to_vec())),
            Ok(Status::Complete(r)) => Ok(Some([r.leftover(), &data[a..]].concat())),
            Err(e) => Err(e),
        };
        prop_assert_eq!(whole, split);
    }

    #[test]
    fn extension_lists_round_trip(
        names in proptest::collection::vec("[a-z][a-z0-9_-]{0,8}", 1..4),
        value in proptest::option::of("[A-Za-z0-9]{1,5}"),
    ) {
        let list: Vec<ExtensionOffer> = names.iter().map(|n| ExtensionOffer::new(n.as_str()).with_param("p", value.clone())).collect();
        let mut text = String::new();
        ExtensionOffer::write_list(&list, &mut text).unwrap();
        prop_assert_eq!(ExtensionOffer::parse_list(&text).unwrap(), list);
    }
}
