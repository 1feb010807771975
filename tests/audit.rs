//! Regressions for the defects of an outside audit (tried as an attacker
//! and as a careless caller would): each with the exact bad input and the
//! exact outcome. The connection's items (timers, compressed sizes) are in
//! `connection.rs` and `deflate.rs`; the proxy's is a unit test of
//! `proxy`; the deflate client's window in `deflate.rs`.

use wsproto::frame::Status;
use wsproto::handshake::{
    Accept, ClientConfig, ClientHandshake, HandshakeError, Limits, Request, Response,
    ServerHandshake, UsageError, WriteError, WsUrl,
};

const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// An upgrade request with `target`, the given fields (`Host` among them
/// when wanted), then the key and version, and `after` behind the head.
fn upgrade(target: &str, fields: &str, after: &[u8]) -> Vec<u8> {
    let mut wire = format!(
        "GET {target} HTTP/1.1\r\n{fields}Upgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .into_bytes();
    wire.extend_from_slice(after);
    wire
}

fn parse(wire: &[u8]) -> Result<Request, HandshakeError> {
    match ServerHandshake::new(Limits::default()).handle_input(wire)? {
        Status::Complete(request) => Ok(request),
        Status::Partial => panic!("partial: {:?}", String::from_utf8_lossy(wire)),
    }
}

/// Every split of `wire` gives `expected`, whole or in two pieces.
fn at_every_split(wire: &[u8], expected: &HandshakeError) {
    for split in 0..=wire.len() {
        let mut handshake = ServerHandshake::new(Limits::default());
        let result = match handshake.handle_input(&wire[..split]) {
            Ok(Status::Partial) => handshake.handle_input(&wire[split..]),
            other => other,
        };
        assert_eq!(result.err().as_ref(), Some(expected), "split at {split}");
    }
}

fn an_upgrade() -> Request {
    parse(&upgrade("/chat", "Host: example.com\r\n", b"")).unwrap()
}

// --- Item 1: response splitting (CWE-113) -----------------------------------

#[test]
fn a_header_value_cannot_start_a_second_response() {
    let request = an_upgrade();
    let rejection = request
        .reject(401, "no")
        .with_header("WWW-Authenticate", "Basic\r\n\r\nHTTP/1.1 200 OK\r\nX: y");
    let mut out = [0u8; 512];
    assert_eq!(
        rejection.write(&mut out),
        Err(WriteError::Invalid(UsageError::InvalidHeader(
            "WWW-Authenticate".into()
        )))
    );
    assert_eq!(out, [0; 512], "nothing written");
}

#[test]
fn status_reason_and_content_are_checked_on_every_response() {
    let request = an_upgrade();
    let mut seven = Response::new(7);
    assert_eq!(seven.check(), Err(UsageError::InvalidStatus(7)));
    seven.status = 200;
    seven.reason = "OK\r\nSet-Cookie: session=stolen".into();
    assert_eq!(seven.check(), Err(UsageError::InvalidReason));
    assert_eq!(
        request.reject(204, "body").check(),
        Err(UsageError::ContentNotAllowed(204))
    );
    assert_eq!(
        request.reject(304, "body").check(),
        Err(UsageError::ContentNotAllowed(304))
    );
    // The 101 is checked by the same writer: an extra field the caller
    // adds to it is refused when the upgrade is accepted.
    assert_eq!(
        an_upgrade()
            .accept(Accept::new().header("Set-Cookie", "a=b\r\nX: y"))
            .err(),
        Some(UsageError::InvalidHeader("Set-Cookie".into()))
    );
    let mut accepted = an_upgrade().accept(Accept::new()).unwrap();
    accepted.response.headers.append("X-Evil", "a\nb");
    let mut vec = Vec::new();
    assert_eq!(
        accepted.response.write_to_vec(&mut vec),
        Err(UsageError::InvalidHeader("X-Evil".into()))
    );
    assert!(vec.is_empty());
}

#[cfg(feature = "http")]
#[test]
fn to_http_goes_through_the_same_check() {
    assert_eq!(
        Response::new(204).with_body("x").to_http().err(),
        Some(UsageError::ContentNotAllowed(204))
    );
    assert_eq!(
        Response::new(200)
            .with_header("X", "a\x1bb")
            .to_http()
            .err(),
        Some(UsageError::InvalidHeader("X".into()))
    );
    assert_eq!(
        Response::new(7).to_http().err(),
        Some(UsageError::InvalidStatus(7))
    );
    assert!(Response::new(200).with_body("ok").to_http().is_ok());
}

// --- Item 4: an upgrade with content (CWE-444) ------------------------------

#[test]
fn an_upgrade_declaring_content_is_400() {
    for field in [
        "Content-Length: 5\r\n",
        "Content-Length: 0, 5\r\n",
        "Content-Length: x\r\n",
        "Transfer-Encoding: chunked\r\n",
        "Transfer-Encoding: identity\r\n",
    ] {
        let wire = upgrade("/chat", &format!("Host: example.com\r\n{field}"), b"hello");
        let err = parse(&wire).unwrap_err();
        assert_eq!(err, HandshakeError::UpgradeWithContent, "{field:?}");
        assert_eq!(err.http_status(), 400);
        at_every_split(&wire, &HandshakeError::UpgradeWithContent);
    }
    // `Content-Length: 0` declares no content: accepted.
    let wire = upgrade("/", "Host: h\r\nContent-Length: 0\r\n", b"\x81\x80");
    assert_eq!(parse(&wire).unwrap().leftover(), b"\x81\x80");
}

// --- Item 5: Host is checked, absolute-form targets name the host ---------------

#[test]
fn an_invalid_host_is_400() {
    for host in [
        "Host: \r\n",
        "Host: a b\r\n",
        "Host: a@b/c\r\n",
        "Host: a@b\r\n",
        "Host: a/b\r\n",
        "Host: h:99999\r\n",
        "Host: [::1\r\n",
        "Host: \u{e9}\r\n",
    ] {
        let wire = upgrade("/chat", host, b"");
        let err = parse(&wire).unwrap_err();
        assert_eq!(err, HandshakeError::InvalidHost, "{host:?}");
        assert_eq!(err.http_status(), 400);
    }
    at_every_split(
        &upgrade("/chat", "Host: a@b/c\r\n", b""),
        &HandshakeError::InvalidHost,
    );
    // A plain HTTP/1.1 request is held to the same rule (RFC 9112 §3.2).
    assert_eq!(
        parse(b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n").unwrap_err(),
        HandshakeError::InvalidHost
    );
    assert_eq!(
        parse(b"GET / HTTP/1.1\r\n\r\n").unwrap_err(),
        HandshakeError::MissingHost
    );
    // HTTP/1.0 may omit it.
    assert_eq!(parse(b"GET / HTTP/1.0\r\n\r\n").unwrap().host(), None);
    for host in [
        "example.com",
        "example.com:8080",
        "[::1]:9",
        "10.0.0.1",
        "h:",
    ] {
        let wire = upgrade("/", &format!("Host: {host}\r\n"), b"");
        assert_eq!(parse(&wire).unwrap().host(), Some(host));
    }
}

#[test]
fn an_absolute_form_target_is_accepted_and_names_the_host() {
    let wire = upgrade(
        "http://real.example:8080/chat?room=1",
        "Host: other.example\r\n",
        b"",
    );
    let request = parse(&wire).unwrap();
    assert!(request.is_upgrade());
    assert_eq!(
        (
            request.host(),
            request.path(),
            request.query(),
            request.resource()
        ),
        (
            Some("real.example:8080"),
            "/chat",
            Some("room=1"),
            "/chat?room=1"
        )
    );
    assert_eq!(request.target(), "http://real.example:8080/chat?room=1");
    let request = parse(&upgrade("ws://h", "Host: h\r\n", b"")).unwrap();
    assert_eq!((request.host(), request.path()), (Some("h"), "/"));
    for (target, expected) in [
        ("http://a@b/chat", HandshakeError::InvalidHost),
        ("http:///chat", HandshakeError::InvalidHost),
        (
            "http://a b/",
            HandshakeError::MalformedHttp("invalid HTTP version"),
        ),
        ("1http://h/", HandshakeError::InvalidTarget),
        ("http://h/#frag", HandshakeError::InvalidTarget),
        ("chat", HandshakeError::InvalidTarget),
        ("*", HandshakeError::InvalidTarget),
        ("example.com:80", HandshakeError::InvalidTarget),
    ] {
        let wire = upgrade(target, "Host: h\r\n", b"");
        assert_eq!(parse(&wire).unwrap_err(), expected, "{target:?}");
    }
    // Plain requests may use the other forms their methods allow.
    assert!(parse(b"OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n").is_ok());
    assert!(parse(b"CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n").is_ok());
}

#[cfg(feature = "http")]
#[test]
fn from_http_sees_the_absolute_form_too() {
    let request = http::Request::get("http://real.example/chat")
        .header("host", "other.example")
        .header("upgrade", "websocket")
        .header("connection", "Upgrade")
        .header("sec-websocket-key", KEY)
        .header("sec-websocket-version", "13")
        .body(())
        .unwrap();
    let request = Request::from_http(&request).unwrap();
    assert_eq!(
        (request.host(), request.path()),
        (Some("real.example"), "/chat")
    );
    let smuggled = http::Request::get("/chat")
        .header("host", "h")
        .header("upgrade", "websocket")
        .header("connection", "Upgrade")
        .header("sec-websocket-key", KEY)
        .header("sec-websocket-version", "13")
        .header("transfer-encoding", "chunked")
        .body(())
        .unwrap();
    assert_eq!(
        Request::from_http(&smuggled).unwrap_err(),
        HandshakeError::UpgradeWithContent
    );
}

// --- Item 6: control characters in the caller's values --------------------------

#[test]
fn a_client_refuses_control_characters_in_its_own_fields() {
    let url = WsUrl::parse("ws://example.com/").unwrap();
    for byte in (0u8..0x20).filter(|&b| b != b'\t').chain([0x7f]) {
        let value = format!("a{}b", byte as char);
        let with_origin = ClientConfig::new().origin(value.as_str());
        assert_eq!(
            ClientHandshake::new(&url, with_origin, [0; 16]).err(),
            Some(UsageError::InvalidHeader("Origin".into())),
            "{byte:#x}"
        );
        let with_field = ClientConfig::new().header("Authorization", value.as_str());
        assert_eq!(
            ClientHandshake::new(&url, with_field, [0; 16]).err(),
            Some(UsageError::InvalidHeader("Authorization".into())),
            "{byte:#x}"
        );
        let accept = Accept::new().header("X-Trace", value.as_str());
        assert_eq!(
            an_upgrade().accept(accept).err(),
            Some(UsageError::InvalidHeader("X-Trace".into())),
            "{byte:#x}"
        );
    }
    // HTAB and obs-text are a field value's; padding is not.
    let fine = ClientConfig::new().header("X-A", &b"a\tb \xc3\xa9"[..]);
    assert!(ClientHandshake::new(&url, fine, [0; 16]).is_ok());
    let padded = ClientConfig::new().header("X-A", " a");
    assert!(ClientHandshake::new(&url, padded, [0; 16]).is_err());
}

// --- Item 8: extended CONNECT (RFC 8441, RFC 9220) ---------------------------------

#[cfg(feature = "http")]
mod extended_connect {
    use super::*;
    use wsproto::handshake::extended_connect::{ConnectClient, ConnectRequest, PROTOCOL};

    fn connect(fields: &[(&str, &str)]) -> http::Request<()> {
        let mut builder = http::Request::builder()
            .method(http::Method::CONNECT)
            .version(http::Version::HTTP_2)
            .uri("https://example.com/chat")
            .header("sec-websocket-version", "13");
        for (name, value) in fields {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap()
    }

    fn check(fields: &[(&str, &str)]) -> Result<ConnectRequest, HandshakeError> {
        ConnectRequest::from_http(&connect(fields), Some(PROTOCOL))
    }

    #[test]
    fn requests_breaking_rfc_9113_are_refused() {
        let te = HandshakeError::MalformedHttp("extended CONNECT: TE other than \"trailers\"");
        assert_eq!(check(&[("te", "gzip")]).unwrap_err(), te);
        assert_eq!(check(&[("te", "trailers, gzip")]).unwrap_err(), te);
        assert!(check(&[("te", "trailers")]).is_ok());
        for length in ["0", "5"] {
            assert_eq!(
                check(&[("content-length", length)]).unwrap_err(),
                HandshakeError::UpgradeWithContent
            );
        }
        assert_eq!(
            check(&[("host", "other.example")]).unwrap_err(),
            HandshakeError::InvalidHost
        );
        assert_eq!(
            check(&[("host", "example.com"), ("host", "example.com")]).unwrap_err(),
            HandshakeError::InvalidHost
        );
        assert!(check(&[("host", "EXAMPLE.com")]).is_ok());
        for field in ["keep-alive", "proxy-connection", "connection", "upgrade"] {
            assert!(
                matches!(
                    check(&[(field, "x")]),
                    Err(HandshakeError::MalformedHttp(_))
                ),
                "{field}"
            );
        }
        let bad_authority = http::Request::builder()
            .method(http::Method::CONNECT)
            .uri("https://a@b/chat")
            .header("sec-websocket-version", "13")
            .body(())
            .unwrap();
        assert_eq!(
            ConnectRequest::from_http(&bad_authority, Some(PROTOCOL)).unwrap_err(),
            HandshakeError::InvalidHost
        );
    }

    #[test]
    fn connection_specific_fields_never_go_out() {
        for field in [
            "keep-alive",
            "Proxy-Connection",
            "te",
            "Upgrade",
            "Connection",
            "Transfer-Encoding",
        ] {
            let accepted = check(&[]).unwrap().accept(Accept::new().header(field, "x"));
            assert!(
                matches!(
                    accepted.err(),
                    Some(UsageError::ConnectionSpecificHeader(_) | UsageError::ReservedHeader(_))
                ),
                "{field}"
            );
            let url = WsUrl::parse("wss://example.com/chat").unwrap();
            let client = ConnectClient::new(&url, ClientConfig::new().header(field, "x"));
            assert!(
                matches!(
                    client.err(),
                    Some(UsageError::ConnectionSpecificHeader(_) | UsageError::ReservedHeader(_))
                ),
                "{field}"
            );
        }
        let accepted = check(&[])
            .unwrap()
            .accept(Accept::new().header("keep-alive", "timeout=5"));
        assert_eq!(
            accepted.err(),
            Some(UsageError::ConnectionSpecificHeader("keep-alive".into()))
        );
        // A field `http` would take but our grammar refuses.
        let accepted = check(&[])
            .unwrap()
            .accept(Accept::new().header("x-a", " padded"));
        assert_eq!(
            accepted.err(),
            Some(UsageError::InvalidHeader("x-a".into()))
        );
    }
}
