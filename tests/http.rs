//! The `http` feature: the HTTP/1.1 handshake on `http` types (same rules,
//! same errors as the wire path), and the extended CONNECT of RFC 8441 /
//! RFC 9220 with connections started in the OPEN state.
#![cfg(feature = "http")]

use wsproto::frame::Status;
use wsproto::handshake::extended_connect::{
    error_response, ConnectClient, ConnectRequest, PROTOCOL,
};
use wsproto::handshake::{
    Accept, ClientConfig, ClientHandshake, HandshakeError, Request, ServerHandshake, UsageError,
    WsUrl,
};
use wsproto::{CloseCode, Config, Connection, Event, Role, State};

/// RFC 6455 §1.3's sample key and its accept value.
const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";
const ACCEPT: &str = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";

/// The fields of a valid upgrade request.
fn valid_fields() -> Vec<(&'static str, &'static str)> {
    vec![
        ("Host", "server.example.com"),
        ("Upgrade", "websocket"),
        ("Connection", "Upgrade"),
        ("Sec-WebSocket-Key", KEY),
        ("Origin", "http://example.com"),
        ("Sec-WebSocket-Protocol", "chat, superchat"),
        ("Sec-WebSocket-Version", "13"),
    ]
}

fn http_request(
    method: &str,
    version: http::Version,
    fields: &[(&str, &str)],
) -> http::Request<()> {
    let mut builder = http::Request::builder()
        .method(method)
        .uri("/chat?room=1")
        .version(version);
    for (name, value) in fields {
        builder = builder.header(*name, *value);
    }
    builder.body(()).unwrap()
}

/// The same request on the wire, through the HTTP/1.1 parser.
fn wire_request(
    method: &str,
    minor: u8,
    fields: &[(&str, &str)],
) -> Result<Request, HandshakeError> {
    let mut wire = format!("{method} /chat?room=1 HTTP/1.{minor}\r\n");
    for (name, value) in fields {
        wire.push_str(&format!("{name}: {value}\r\n"));
    }
    wire.push_str("\r\n");
    match ServerHandshake::new(Default::default()).handle_input(wire.as_bytes())? {
        Status::Complete(request) => Ok(request),
        Status::Partial => panic!("partial"),
    }
}

#[test]
fn http_request_is_accepted_with_the_rfc_sample() {
    let request = http_request("GET", http::Version::HTTP_11, &valid_fields());
    let request = Request::from_http(&request).unwrap();
    assert!(request.is_upgrade());
    assert_eq!((request.path(), request.query()), ("/chat", Some("room=1")));
    assert_eq!(request.origin(), Some("http://example.com"));
    assert_eq!(
        request.protocols().collect::<Vec<_>>(),
        ["chat", "superchat"]
    );
    let accepted = request.accept(Accept::new().protocol("chat")).unwrap();
    assert_eq!(accepted.negotiated.role, Role::Server);
    assert_eq!(accepted.connection.role(), Role::Server);
    let response = accepted.response.to_http().unwrap();
    assert_eq!(response.status(), http::StatusCode::SWITCHING_PROTOCOLS);
    let h = response.headers();
    assert_eq!(h["upgrade"], "websocket");
    assert_eq!(h["connection"], "Upgrade");
    assert_eq!(h["sec-websocket-accept"], ACCEPT);
    assert_eq!(h["sec-websocket-protocol"], "chat");
    assert!(!h.contains_key("content-length"));
    assert!(response.body().is_empty());
}

#[test]
fn http_request_equals_the_wire_request() {
    let from_http = Request::from_http(&http_request(
        "GET",
        http::Version::HTTP_11,
        &valid_fields(),
    ))
    .unwrap();
    let from_wire = wire_request("GET", 1, &valid_fields()).unwrap();
    assert_eq!(from_http.accept_key(), from_wire.accept_key());
    assert_eq!(from_http.target(), from_wire.target());
    assert_eq!(
        from_http.protocols().collect::<Vec<_>>(),
        from_wire.protocols().collect::<Vec<_>>()
    );
}

#[test]
fn every_rule_broken_once_gives_the_same_error_as_the_wire_path() {
    type Edit = fn(&mut Vec<(&'static str, &'static str)>);
    fn without(fields: &mut Vec<(&str, &str)>, name: &str) {
        fields.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }
    fn set(fields: &mut Vec<(&'static str, &'static str)>, name: &'static str, v: &'static str) {
        without(fields, name);
        fields.push((name, v));
    }
    let cases: Vec<(&str, u8, Edit, HandshakeError)> = vec![
        (
            "POST",
            1,
            |_| {},
            HandshakeError::MethodNotGet("POST".into()),
        ),
        ("GET", 0, |_| {}, HandshakeError::HttpVersionTooOld(0)),
        (
            "GET",
            1,
            |f| without(f, "Host"),
            HandshakeError::MissingHost,
        ),
        (
            "GET",
            1,
            |f| f.push(("Host", "other.example")),
            HandshakeError::DuplicateHost,
        ),
        (
            "GET",
            1,
            |f| without(f, "Upgrade"),
            HandshakeError::MissingUpgrade,
        ),
        (
            "GET",
            1,
            |f| set(f, "Upgrade", "h2c"),
            HandshakeError::MissingUpgrade,
        ),
        (
            "GET",
            1,
            |f| without(f, "Connection"),
            HandshakeError::MissingConnectionUpgrade,
        ),
        (
            "GET",
            1,
            |f| set(f, "Connection", "keep-alive"),
            HandshakeError::MissingConnectionUpgrade,
        ),
        (
            "GET",
            1,
            |f| without(f, "Sec-WebSocket-Version"),
            HandshakeError::MissingVersion,
        ),
        (
            "GET",
            1,
            |f| set(f, "Sec-WebSocket-Version", "8"),
            HandshakeError::UnsupportedVersion,
        ),
        (
            "GET",
            1,
            |f| without(f, "Sec-WebSocket-Key"),
            HandshakeError::MissingKey,
        ),
        (
            "GET",
            1,
            |f| f.push(("Sec-WebSocket-Key", KEY)),
            HandshakeError::DuplicateKey,
        ),
        (
            "GET",
            1,
            |f| set(f, "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ"),
            HandshakeError::InvalidKey,
        ),
        (
            "GET",
            1,
            |f| set(f, "Sec-WebSocket-Protocol", "a b"),
            HandshakeError::InvalidProtocolHeader,
        ),
        (
            "GET",
            1,
            |f| f.push(("Sec-WebSocket-Extensions", "x;")),
            HandshakeError::InvalidExtensionHeader,
        ),
    ];
    for (method, minor, edit, expected) in cases {
        let mut fields = valid_fields();
        edit(&mut fields);
        let version = if minor == 0 {
            http::Version::HTTP_10
        } else {
            http::Version::HTTP_11
        };
        let from_http = Request::from_http(&http_request(method, version, &fields)).unwrap_err();
        let from_wire = wire_request(method, minor, &fields).unwrap_err();
        assert_eq!(from_http, expected, "{method} 1.{minor} {fields:?}");
        assert_eq!(from_wire, expected, "{method} 1.{minor} {fields:?}");
        // The error's answer converts too.
        let answer = from_http.to_response().to_http().unwrap();
        assert_eq!(answer.status().as_u16(), expected.http_status());
    }
}

#[test]
fn plain_and_http2_requests() {
    let plain = http_request("GET", http::Version::HTTP_11, &[("Host", "a")]);
    let plain = Request::from_http(&plain).unwrap();
    assert!(!plain.is_upgrade());
    assert_eq!(
        plain.accept(Accept::new()).unwrap_err(),
        UsageError::NotAnUpgrade
    );
    let h2 = http_request("GET", http::Version::HTTP_2, &valid_fields());
    assert!(matches!(
        Request::from_http(&h2),
        Err(HandshakeError::MalformedHttp(_))
    ));
}

#[test]
fn accept_checks_the_answer() {
    let request = || {
        Request::from_http(&http_request(
            "GET",
            http::Version::HTTP_11,
            &valid_fields(),
        ))
        .unwrap()
    };
    assert_eq!(
        request()
            .accept(Accept::new().protocol("other"))
            .unwrap_err(),
        UsageError::ProtocolNotOffered("other".into())
    );
    assert!(matches!(
        request().accept(Accept::new().header("Sec-WebSocket-Accept", "x")),
        Err(UsageError::ReservedHeader(_))
    ));
}

#[test]
fn version_error_converts_with_its_426_fields() {
    let response = HandshakeError::UnsupportedVersion
        .to_response()
        .to_http()
        .unwrap();
    assert_eq!(response.status(), http::StatusCode::UPGRADE_REQUIRED);
    assert_eq!(response.headers()["sec-websocket-version"], "13");
    assert!(!response.body().is_empty());
}

fn client_handshake() -> ClientHandshake {
    let url = WsUrl::parse("ws://server.example.com:8080/chat?room=1").unwrap();
    let config = ClientConfig::new()
        .origin("http://example.com")
        .protocol("chat")
        .protocol("superchat")
        .header("Authorization", "Bearer x");
    ClientHandshake::new(&url, config, *b"the sample nonce").unwrap()
}

#[test]
fn client_request_as_http_request() {
    let handshake = client_handshake();
    let request = handshake.to_http_request().unwrap();
    assert_eq!(request.method(), http::Method::GET);
    assert_eq!(request.version(), http::Version::HTTP_11);
    assert_eq!(request.uri(), "/chat?room=1");
    let h = request.headers();
    assert_eq!(h["host"], "server.example.com:8080");
    assert_eq!(h["upgrade"], "websocket");
    assert_eq!(h["connection"], "Upgrade");
    assert_eq!(h["sec-websocket-key"], KEY);
    assert_eq!(h["sec-websocket-version"], "13");
    assert_eq!(h["sec-websocket-protocol"], "chat, superchat");
    assert_eq!(h["origin"], "http://example.com");
    assert_eq!(h["authorization"], "Bearer x");

    // The same fields, in the same order, as the HTTP/1.1 writer's.
    let mut wire = Vec::new();
    handshake
        .write_request_to_vec(&mut wire)
        .expect("a head this program built is valid");
    let wire = String::from_utf8(wire).unwrap();
    let wire_fields: Vec<(String, String)> = wire
        .lines()
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| {
            let (n, v) = l.split_once(": ").unwrap();
            (n.to_ascii_lowercase(), v.to_string())
        })
        .collect();
    let http_fields: Vec<(String, String)> = h
        .iter()
        .map(|(n, v)| (n.as_str().to_string(), v.to_str().unwrap().to_string()))
        .collect();
    assert_eq!(http_fields, wire_fields);
}

#[test]
fn client_checks_an_http_response() {
    // A full loop on http types: client request -> server -> client.
    let mut client = client_handshake();
    let request = Request::from_http(&client.to_http_request().unwrap()).unwrap();
    let accepted = request.accept(Accept::new().protocol("superchat")).unwrap();
    let response = accepted.response.to_http().unwrap();
    let outcome = client.handle_http_response(&response).unwrap();
    assert_eq!(outcome.negotiated.role, Role::Client);
    assert_eq!(outcome.negotiated.protocol.as_deref(), Some("superchat"));
    assert_eq!(outcome.connection.role(), Role::Client);

    // A wrong accept value, and the failure sticks.
    let mut client = client_handshake();
    let bad = http::Response::builder()
        .status(101)
        .header("upgrade", "websocket")
        .header("connection", "Upgrade")
        .header("sec-websocket-accept", "AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
        .body(())
        .unwrap();
    assert_eq!(
        client.handle_http_response(&bad).unwrap_err(),
        HandshakeError::AcceptMismatch
    );
    assert_eq!(
        client.handle_input(b"HTTP/1.1 101 x\r\n\r\n").unwrap_err(),
        HandshakeError::AcceptMismatch
    );

    // A refusal keeps the response.
    let mut client = client_handshake();
    let refused = http::Response::builder()
        .status(403)
        .header("x-reason", "origin")
        .body(())
        .unwrap();
    match client.handle_http_response(&refused).unwrap_err() {
        HandshakeError::Rejected(response) => {
            assert_eq!(response.status, 403);
            assert_eq!(response.headers.get_str("X-Reason"), Some("origin"));
        }
        other => panic!("{other:?}"),
    }

    // A subprotocol that was not offered.
    let mut client = client_handshake();
    let other = http::Response::builder()
        .status(101)
        .header("upgrade", "websocket")
        .header("connection", "Upgrade")
        .header("sec-websocket-accept", ACCEPT)
        .header("sec-websocket-protocol", "other")
        .body(())
        .unwrap();
    assert_eq!(
        client.handle_http_response(&other).unwrap_err(),
        HandshakeError::ProtocolNotOffered("other".into())
    );
}

// ----- extended CONNECT (RFC 8441, RFC 9220) ---------------------------

/// RFC 8441 §5.1's example request.
fn connect_request(method: &str, fields: &[(&str, &str)]) -> http::Request<()> {
    let mut builder = http::Request::builder()
        .method(method)
        .uri("https://server.example.com/chat")
        .version(http::Version::HTTP_2);
    for (name, value) in fields {
        builder = builder.header(*name, *value);
    }
    builder.body(()).unwrap()
}

fn connect_fields() -> Vec<(&'static str, &'static str)> {
    vec![
        ("sec-websocket-protocol", "chat, superchat"),
        ("sec-websocket-extensions", "permessage-deflate"),
        ("sec-websocket-version", "13"),
        ("origin", "http://www.example.com"),
    ]
}

#[test]
fn extended_connect_is_accepted() {
    let request = connect_request("CONNECT", &connect_fields());
    let offer = ConnectRequest::from_http(&request, Some(PROTOCOL)).unwrap();
    assert_eq!(
        (offer.scheme(), offer.authority(), offer.path()),
        ("https", "server.example.com", "/chat")
    );
    assert_eq!(offer.origin(), Some("http://www.example.com"));
    assert_eq!(offer.protocols().collect::<Vec<_>>(), ["chat", "superchat"]);
    assert_eq!(offer.extensions()[0].name, "permessage-deflate");
    let accepted = offer.accept(Accept::new().protocol("chat")).unwrap();
    assert_eq!(accepted.response.status(), http::StatusCode::OK);
    let h = accepted.response.headers();
    assert_eq!(h["sec-websocket-protocol"], "chat");
    for absent in ["sec-websocket-accept", "upgrade", "connection"] {
        assert!(!h.contains_key(absent), "{absent}");
    }
    assert_eq!(accepted.negotiated.role, Role::Server);
    assert_eq!(accepted.negotiated.protocol.as_deref(), Some("chat"));
    assert_eq!(accepted.connection.role(), Role::Server);

    // Upgrade tokens compare case-insensitively (RFC 9110 §7.8).
    assert!(ConnectRequest::from_http(&request, Some("WebSocket")).is_ok());
}

#[test]
fn extended_connect_rejects() {
    let malformed = |r: Result<ConnectRequest, HandshakeError>| {
        matches!(r, Err(HandshakeError::MalformedHttp(_)))
    };
    let ok = connect_request("CONNECT", &connect_fields());
    // Wrong method.
    let get = connect_request("GET", &connect_fields());
    assert!(malformed(ConnectRequest::from_http(&get, Some(PROTOCOL))));
    // Wrong or missing :protocol.
    assert!(malformed(ConnectRequest::from_http(
        &ok,
        Some("webtransport")
    )));
    assert!(malformed(ConnectRequest::from_http(&ok, None)));
    // Missing or other version.
    let mut fields = connect_fields();
    fields.retain(|(n, _)| *n != "sec-websocket-version");
    assert_eq!(
        ConnectRequest::from_http(&connect_request("CONNECT", &fields), Some(PROTOCOL)),
        Err(HandshakeError::MissingVersion)
    );
    fields.push(("sec-websocket-version", "12"));
    let old = ConnectRequest::from_http(&connect_request("CONNECT", &fields), Some(PROTOCOL));
    assert_eq!(old, Err(HandshakeError::UnsupportedVersion));
    let answer = error_response(&old.unwrap_err());
    assert_eq!(answer.status(), http::StatusCode::UPGRADE_REQUIRED);
    assert_eq!(answer.headers()["sec-websocket-version"], "13");
    assert!(!answer.headers().contains_key("connection"));
    assert!(!answer.headers().contains_key("upgrade"));
    // Connection-specific fields (RFC 8441 §5: "MUST NOT be included").
    let mut fields = connect_fields();
    fields.push(("upgrade", "websocket"));
    let with_upgrade = connect_request("CONNECT", &fields);
    assert!(malformed(ConnectRequest::from_http(
        &with_upgrade,
        Some(PROTOCOL)
    )));
    // No :scheme / :authority.
    let mut no_authority = ok.clone();
    *no_authority.uri_mut() = http::Uri::from_static("/chat");
    assert!(malformed(ConnectRequest::from_http(
        &no_authority,
        Some(PROTOCOL)
    )));
    // Malformed lists, as over HTTP/1.1.
    let mut fields = connect_fields();
    fields.push(("sec-websocket-protocol", "a b"));
    assert_eq!(
        ConnectRequest::from_http(&connect_request("CONNECT", &fields), Some(PROTOCOL)),
        Err(HandshakeError::InvalidProtocolHeader)
    );
    // A subprotocol not offered.
    let offer = ConnectRequest::from_http(&ok, Some(PROTOCOL)).unwrap();
    assert_eq!(
        offer.accept(Accept::new().protocol("other")).unwrap_err(),
        UsageError::ProtocolNotOffered("other".into())
    );
}

#[test]
fn extended_connect_client() {
    let url = WsUrl::parse("wss://server.example.com:8443/chat?room=1").unwrap();
    let config = ClientConfig::new()
        .origin("http://www.example.com")
        .protocol("chat")
        .protocol("superchat");
    let client = ConnectClient::new(&url, config).unwrap();
    assert_eq!(client.protocol(), "websocket");
    let request = client.request().unwrap();
    assert_eq!(request.method(), http::Method::CONNECT);
    assert_eq!(request.version(), http::Version::HTTP_2);
    assert_eq!(request.uri(), "https://server.example.com:8443/chat?room=1");
    let h = request.headers();
    assert_eq!(h["sec-websocket-version"], "13");
    assert_eq!(h["sec-websocket-protocol"], "chat, superchat");
    assert_eq!(h["origin"], "http://www.example.com");
    for absent in ["sec-websocket-key", "upgrade", "connection", "host"] {
        assert!(!h.contains_key(absent), "{absent}");
    }
    let plain = ConnectClient::new(
        &WsUrl::parse("ws://a.example/").unwrap(),
        ClientConfig::new(),
    )
    .unwrap()
    .request()
    .unwrap();
    assert_eq!(plain.uri(), "http://a.example/");

    // The server's answers.
    let ok = http::Response::builder()
        .status(200)
        .header("sec-websocket-protocol", "superchat")
        .body(())
        .unwrap();
    let accepted = client.handle_response(&ok).unwrap();
    assert_eq!(accepted.negotiated.role, Role::Client);
    assert_eq!(accepted.negotiated.protocol.as_deref(), Some("superchat"));
    assert_eq!(accepted.connection.role(), Role::Client);
    let refused = http::Response::builder().status(404).body(()).unwrap();
    assert!(matches!(
        client.handle_response(&refused),
        Err(HandshakeError::Rejected(r)) if r.status == 404
    ));
    let other = http::Response::builder()
        .status(200)
        .header("sec-websocket-protocol", "other")
        .body(())
        .unwrap();
    assert_eq!(
        client.handle_response(&other).unwrap_err(),
        HandshakeError::ProtocolNotOffered("other".into())
    );
    let ext = http::Response::builder()
        .status(200)
        .header("sec-websocket-extensions", "x-foo")
        .body(())
        .unwrap();
    assert_eq!(
        client.handle_response(&ext).unwrap_err(),
        HandshakeError::ExtensionNotOffered("x-foo".into())
    );
}

/// Deterministic masking keys (tests only).
fn fixed_mask(buf: &mut [u8]) {
    buf.copy_from_slice(&[0x11, 0x22, 0x33, 0x44][..buf.len()]);
}

/// Moves everything `from` has queued into `pipe`.
fn drain(from: &mut Connection, pipe: &mut Vec<u8>) {
    while let Some(bytes) = from.poll_transmit() {
        pipe.extend_from_slice(bytes);
        let n = bytes.len();
        from.advance_transmit(n);
    }
}

fn events(conn: &mut Connection, pipe: &mut Vec<u8>) -> Vec<Event> {
    conn.handle_input(pipe);
    pipe.clear();
    let mut out = Vec::new();
    while let Some(event) = conn.poll_event().unwrap() {
        out.push(event);
    }
    out
}

#[test]
fn round_trip_over_an_http2_stream() {
    // The handshake, on http types.
    let url = WsUrl::parse("wss://server.example.com/chat").unwrap();
    let config = Config::default().random(Some(fixed_mask));
    let client_config = ClientConfig::new().protocol("chat").config(config.clone());
    let client_hs = ConnectClient::new(&url, client_config).unwrap();
    let offer = ConnectRequest::from_http(&client_hs.request().unwrap(), Some(PROTOCOL)).unwrap();
    let accepted = offer
        .accept(Accept::new().protocol("chat").config(config))
        .unwrap();
    let client_accepted = client_hs.handle_response(&accepted.response).unwrap();

    // Both ends start OPEN over the stream: no handshake bytes.
    let mut client = client_accepted.connection;
    let mut server = accepted.connection;
    assert_eq!((client.role(), server.role()), (Role::Client, Role::Server));
    assert_eq!((client.state(), server.state()), (State::Open, State::Open));

    // The two directions of the stream's DATA.
    let (mut up, mut down) = (Vec::new(), Vec::new());

    client.send_text("hello").unwrap();
    client.send_binary(&[1, 2, 3]).unwrap();
    drain(&mut client, &mut up);
    // RFC 8441 §5: masking rules unchanged; a client frame is masked.
    assert_eq!(up[1] & 0x80, 0x80);
    let got = events(&mut server, &mut up);
    assert!(
        matches!(&got[..], [Event::Text(t), Event::Binary(b)] if t.as_str() == "hello" && b[..] == [1, 2, 3])
    );

    server.send_text("hi back").unwrap();
    drain(&mut server, &mut down);
    assert_eq!(down[1] & 0x80, 0); // server frames are not masked
    let got = events(&mut client, &mut down);
    assert!(matches!(&got[..], [Event::Text(t)] if t.as_str() == "hi back"));

    // The close handshake; closing the stream is closing the transport.
    client.close(CloseCode::NORMAL, "bye").unwrap();
    drain(&mut client, &mut up);
    let got = events(&mut server, &mut up);
    assert!(matches!(&got[..], [Event::Close(f)] if f.code == CloseCode::NORMAL));
    drain(&mut server, &mut down);
    assert!(server.should_close_transport());
    let got = events(&mut client, &mut down);
    assert!(matches!(&got[..], [Event::Close(f)] if f.code == CloseCode::NORMAL));
    assert_eq!(client.state(), State::Closed);
    client.handle_eof(); // the server ended the stream
    assert!(client.should_close_transport());
}

#[cfg(feature = "deflate")]
#[test]
fn permessage_deflate_over_extended_connect() {
    use wsproto::extensions::deflate::DeflateConfig;

    let url = WsUrl::parse("wss://server.example.com/chat").unwrap();
    let deflate = DeflateConfig::default();
    let config = Config::default().random(Some(fixed_mask));
    let client_config = ClientConfig::new()
        .deflate(deflate.clone())
        .config(config.clone());
    let client_hs = ConnectClient::new(&url, client_config).unwrap();
    let offer = ConnectRequest::from_http(&client_hs.request().unwrap(), Some(PROTOCOL)).unwrap();
    let accepted = offer
        .accept(Accept::new().deflate(deflate).config(config))
        .unwrap();
    let client_accepted = client_hs.handle_response(&accepted.response).unwrap();
    let mut client = client_accepted.connection;
    let mut server = accepted.connection;
    assert!(client.is_deflate_enabled() && server.is_deflate_enabled());
    let text = "compress me ".repeat(100);
    client.send_text(&text).unwrap();
    let mut up = Vec::new();
    drain(&mut client, &mut up);
    assert!(up.len() < text.len() / 4);
    let got = events(&mut server, &mut up);
    assert!(matches!(&got[..], [Event::Text(t)] if t.as_str() == text));
}
