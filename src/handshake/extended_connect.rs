//! WebSocket over HTTP/2 (RFC 8441) and HTTP/3 (RFC 9220): the extended
//! CONNECT handshake on the `http` crate's types (feature `http`).
//!
//! RFC 8441 §5: "The :protocol pseudo-header field MUST be included in the
//! CONNECT request, and it MUST have a value of "websocket" to initiate a
//! WebSocket connection on an HTTP/2 stream." The request replaces the
//! HTTP/1.1 `GET` + `Upgrade`; there is no `Sec-WebSocket-Key` and no
//! `Sec-WebSocket-Accept` ("that functionality has been superseded by the
//! :protocol pseudo-header field"), while "The Origin \[RFC6454\],
//! Sec-WebSocket-Version, Sec-WebSocket-Protocol, and
//! Sec-WebSocket-Extensions header fields are used in the CONNECT request
//! and response header fields as defined in \[RFC6455\]": version 13, and
//! subprotocols and extensions negotiated exactly as over HTTP/1.1 (by the
//! same code here). A server that agrees answers `200`. RFC 9220 does the
//! same over HTTP/3.
//!
//! - A server checks the request with [`ConnectRequest::from_http`] and
//!   answers with [`ConnectRequest::accept`] (or, on an error,
//!   [`error_response`]).
//! - A client builds the request with [`ConnectClient::request`] (its
//!   `:protocol` is [`PROTOCOL`]) and checks the answer with
//!   [`ConnectClient::handle_response`].
//!
//! `http` has no `:protocol` pseudo-header: HTTP/2 libraries carry it as a
//! request extension (h2 and hyper: `h2::ext::Protocol`). So it is an
//! argument here: an h2 or hyper server passes
//! `req.extensions().get::<h2::ext::Protocol>().map(|p| p.as_str())`, and
//! a client sets `h2::ext::Protocol::from(PROTOCOL)` on its request.
//!
//! # What the HTTP/2 or HTTP/3 layer must do
//!
//! These functions check the messages; the settings belong to the HTTP
//! layer, and without them a conforming peer never sends the request:
//!
//! - **A server** sends `SETTINGS_ENABLE_CONNECT_PROTOCOL` (0x08) = 1 in
//!   its SETTINGS (RFC 8441 §3; RFC 9220 §3 for HTTP/3), and refuses a
//!   `:protocol` on a connection where it did not (with h2:
//!   `server::Builder::enable_connect_protocol`; with hyper:
//!   `http2::Builder::enable_connect_protocol`).
//! - **A client** waits for the server's SETTINGS and sends `:protocol`
//!   only if they carried `SETTINGS_ENABLE_CONNECT_PROTOCOL` = 1 (RFC 8441
//!   §4: "A client MUST NOT send a CONNECT request with the :protocol
//!   pseudo-header unless the server has sent this setting"; with h2:
//!   `client::SendRequest::is_extended_connect_protocol_enabled`).
//! - Both keep connection-specific fields out of the messages: the request
//!   checks refuse them, and so do [`ConnectRequest::accept`] and
//!   [`ConnectClient::new`] in what the caller adds.
//!
//! # Starting in the OPEN state
//!
//! RFC 8441 §5: after the handshake the stream stands in for the TCP
//! connection of RFC 6455, with its framing and masking rules unchanged
//! ("the client MUST mask"...), and closing the stream is closing the
//! connection. There are no handshake bytes on the stream: each side's
//! outcome carries its [`Connection`], `Open`, to move the stream's DATA
//! through.
//!
//! # The stream's end is the transport's end
//!
//! RFC 8441 §5: "The HTTP/2 stream closure is also analogous to the TCP
//! connection closure of \[RFC6455\]. Orderly TCP-level closures are
//! represented as END_STREAM flags \[...\]. RST exceptions are represented
//! with the RST_STREAM frame \[...\] with the CANCEL error code." So the
//! run loop is the one over TCP, with the stream's events in place of the
//! socket's:
//!
//! | over TCP | over an HTTP/2 stream |
//! | --- | --- |
//! | bytes read: `handle_input` | the DATA frames' payload: `handle_input` (then give the window back, WINDOW_UPDATE) |
//! | EOF: `handle_eof` | END_STREAM received, or RST_STREAM received: `handle_eof` |
//! | `poll_transmit` into the socket | `poll_transmit` into DATA frames, as flow control allows |
//! | `should_close_transport`: close the socket (FIN) | `should_close_transport`: send END_STREAM (an empty DATA frame with the flag) |
//! | abort: close with RST | abort: RST_STREAM with CANCEL |
//!
//! `should_close_transport` turns true only once the close frames have been
//! exchanged (or the connection has failed and its close frame is
//! written, or a close timeout ran out), so END_STREAM always follows the
//! close frames. A client waits for the server's END_STREAM before its own,
//! as it waits for the server to close TCP (RFC 6455 §7.1.1). An endpoint
//! that gives up on a stream without its END_STREAM (the application
//! dropped it, a timeout) resets it with CANCEL; the peer, which reads that
//! as its transport's end, reports 1006 unless the close frames had
//! already crossed (§7.1.5). Only the stream ends: the HTTP/2 connection
//! and its other streams (other WebSockets, other requests) go on, which
//! is why a stream reset, not a connection error, stands for TCP's RST.
//!
//! Over HTTP/3 (RFC 9220 §3) the table holds with HTTP/3's names: the
//! request stream's DATA frames carry the bytes (QUIC's flow control hands
//! the window back), "Orderly TCP-level closures are represented as a FIN
//! bit on the stream", and "RST exceptions are represented with a stream
//! error \[...\] of type H3_REQUEST_CANCELLED": reset the stream and stop
//! reading it with that code.
//!
//! ```
//! use wsproto::handshake::extended_connect::{ConnectClient, ConnectRequest, PROTOCOL};
//! use wsproto::handshake::{Accept, ClientConfig, WsUrl};
//! use wsproto::Event;
//!
//! // The client's CONNECT request, as an HTTP/2 library would carry it.
//! let url = WsUrl::parse("wss://example.com/chat").unwrap();
//! let client_hs = ConnectClient::new(&url, ClientConfig::new().protocol("chat")).unwrap();
//! let request = client_hs.request().unwrap();
//!
//! // The server's side: check, accept, answer 200.
//! let offer = ConnectRequest::from_http(&request, Some(PROTOCOL)).unwrap();
//! let accepted = offer.accept(Accept::new().protocol("chat")).unwrap();
//! assert_eq!(accepted.response.status(), http::StatusCode::OK);
//! let mut server = accepted.connection;
//!
//! // The client's side: check the 200.
//! let client_accepted = client_hs.handle_response(&accepted.response).unwrap();
//! assert_eq!(client_accepted.negotiated.protocol.as_deref(), Some("chat"));
//! let mut client = client_accepted.connection;
//!
//! // Both ends start OPEN; the stream carries frames from its first byte.
//! server.send_text("hello over h2").unwrap();
//! let mut stream = Vec::new(); // the DATA frames of the stream
//! while let Some(bytes) = server.poll_transmit() {
//!     stream.extend_from_slice(bytes);
//!     let n = bytes.len();
//!     server.advance_transmit(n);
//! }
//! client.handle_input(&stream);
//! match client.poll_event().unwrap() {
//!     Some(Event::Text(text)) => assert_eq!(text.as_str(), "hello over h2"),
//!     other => panic!("{other:?}"),
//! }
//! ```
//!
//! [`Connection`]: crate::Connection

use super::client::ClientConfig;
use super::error::{HandshakeError, UsageError};
use super::extension::ExtensionOffer;
use super::headers::Headers;
use super::http::{headers_from_map, map_from_headers};
use super::response::Response;
use super::server::{check_version, offered_lists, Accept};
use super::url::WsUrl;
use super::{trim_ows, Accepted, Authority, Negotiated};
use crate::connection::Connection;
use crate::role::Role;
use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// The `:protocol` value of a WebSocket extended CONNECT (RFC 8441 §5).
pub const PROTOCOL: &str = "websocket";

/// Fields that are connection-specific, which HTTP/2 (RFC 9113 §8.2.2) and
/// HTTP/3 (RFC 9114 §4.2) forbid; RFC 8441 §5: "[RFC6455] requires the use
/// of Connection and Upgrade header fields that are not part of HTTP/2.
/// They MUST NOT be included in the CONNECT request defined here."
const CONNECTION_SPECIFIC: &[&str] = &[
    "connection",
    "upgrade",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
];

/// RFC 9113 §8.2.2 (and RFC 9114 §4.2): "An endpoint MUST NOT generate an
/// HTTP/2 message containing connection-specific header fields. [...] Any
/// message containing connection-specific header fields MUST be treated as
/// malformed"; "The only exception to this is the TE header field, which
/// MAY be present in an HTTP/2 request; when it is, it MUST NOT contain any
/// value other than "trailers"."
fn check_h2_fields(headers: &Headers) -> Result<(), HandshakeError> {
    if CONNECTION_SPECIFIC
        .iter()
        .any(|name| headers.contains(name))
    {
        return Err(HandshakeError::MalformedHttp(
            "extended CONNECT: connection-specific field (Connection, Upgrade, ...)",
        ));
    }
    if headers
        .get_all("te")
        .any(|te| !trim_ows(te).eq_ignore_ascii_case(b"trailers"))
    {
        return Err(HandshakeError::MalformedHttp(
            "extended CONNECT: TE other than \"trailers\"",
        ));
    }
    Ok(())
}

/// Refuses, in what the caller adds to a request or a response, the
/// connection-specific fields HTTP/2 and HTTP/3 forbid (and `te`, which a
/// response may not carry and a request only as `trailers`, which a
/// WebSocket has no use for).
fn check_no_connection_specific(headers: &Headers) -> Result<(), UsageError> {
    match headers.iter().find(|(name, _)| {
        CONNECTION_SPECIFIC
            .iter()
            .chain(&["te"])
            .any(|c| c.eq_ignore_ascii_case(name))
    }) {
        Some((name, _)) => Err(UsageError::ConnectionSpecificHeader(name.into())),
        None => Ok(()),
    }
}

/// An extended CONNECT request for WebSocket, checked, for the server
/// application to accept or refuse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectRequest {
    scheme: String,
    authority: String,
    target: String,
    headers: Headers,
    protocols: Vec<String>,
    extensions: Vec<ExtensionOffer>,
}

impl ConnectRequest {
    /// Checks a request and its `:protocol` pseudo-header (`None` when it
    /// has none; see the [module docs](self) for where h2 keeps it):
    ///
    /// - the method is `CONNECT` and `:protocol` is `websocket` (RFC 8441
    ///   §5), compared ASCII case-insensitively as upgrade tokens are
    ///   (RFC 9110 §7.8: "recipients SHOULD use case-insensitive comparison
    ///   when matching each protocol-name to supported protocols");
    /// - the URI has a scheme, `http` or `https` (§5: ""https" for "wss"-
    ///   schemed WebSockets and "http" for "ws"-schemed WebSockets") and an
    ///   authority (§5: "The :authority pseudo-header field now conveys
    ///   this information \[Host\] and MUST be included"), else
    ///   [`HandshakeError::MissingHost`];
    /// - the authority is `host[:port]` and a `host` field, if any, names
    ///   the same ([`HandshakeError::InvalidHost`]; RFC 9113 §8.3.1);
    /// - no `Connection`, `Upgrade` or other connection-specific field (§5:
    ///   "MUST NOT be included"), and no `te` but `te: trailers` (RFC 9113
    ///   §8.2.2);
    /// - no `content-length` ([`HandshakeError::UpgradeWithContent`]; RFC
    ///   9110 §9.3.6: "A CONNECT request message does not have content");
    /// - then the rules shared with HTTP/1.1, by the same code:
    ///   `Sec-WebSocket-Version: 13` ([`HandshakeError::MissingVersion`],
    ///   [`HandshakeError::UnsupportedVersion`]), and well-formed
    ///   subprotocol and extension lists.
    ///
    /// The other failures are [`HandshakeError::MalformedHttp`], naming
    /// the rule. Answer any error with [`error_response`]. The request's
    /// HTTP version is not looked at (HTTP/2 or HTTP/3).
    pub fn from_http<B>(
        request: &http::Request<B>,
        protocol: Option<&str>,
    ) -> Result<ConnectRequest, HandshakeError> {
        if request.method() != http::Method::CONNECT {
            return Err(HandshakeError::MalformedHttp(
                "extended CONNECT: the method is not CONNECT",
            ));
        }
        match protocol {
            None => {
                return Err(HandshakeError::MalformedHttp(
                    "extended CONNECT: no :protocol pseudo-header",
                ))
            }
            Some(p) if !p.eq_ignore_ascii_case(PROTOCOL) => {
                return Err(HandshakeError::MalformedHttp(
                    "extended CONNECT: :protocol is not websocket",
                ))
            }
            Some(_) => {}
        }
        let uri = request.uri();
        let scheme = match uri.scheme_str() {
            Some(s) if s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https") => s,
            Some(_) => {
                return Err(HandshakeError::MalformedHttp(
                    "extended CONNECT: :scheme is neither http nor https",
                ))
            }
            None => {
                return Err(HandshakeError::MalformedHttp(
                    "extended CONNECT: no :scheme",
                ))
            }
        };
        let authority = uri.authority().ok_or(HandshakeError::MissingHost)?;
        Authority::parse(authority.as_str()).map_err(|_| HandshakeError::InvalidHost)?;
        let headers = headers_from_map(request.headers());
        check_h2_fields(&headers)?;
        // RFC 9113 §8.3.1: "A server SHOULD treat a request as malformed if
        // it contains a Host header field that identifies an entity that
        // differs from the entity in the ":authority" pseudo-header field."
        // (RFC 9114 §4.3.1 says the same of HTTP/3.)
        match headers.count("host") {
            0 => {}
            1 if headers
                .get("host")
                .is_some_and(|h| h.eq_ignore_ascii_case(authority.as_str().as_bytes())) => {}
            _ => return Err(HandshakeError::InvalidHost),
        }
        // RFC 9110 §9.3.6: "A CONNECT request message does not have
        // content"; RFC 8441 §4 keeps the stream for the WebSocket's bytes.
        if headers.contains("content-length") {
            return Err(HandshakeError::UpgradeWithContent);
        }
        check_version(&headers)?;
        let (protocols, extensions) = offered_lists(&headers)?;
        Ok(ConnectRequest {
            scheme: scheme.to_ascii_lowercase(),
            authority: authority.as_str().into(),
            target: uri.path_and_query().map_or("/", |pq| pq.as_str()).into(),
            headers,
            protocols,
            extensions,
        })
    }

    /// The `:scheme`: `https` for a `wss` URL, `http` for `ws`.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The `:authority` (what `Host` is over HTTP/1.1).
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The `:path`: path and query, the resource name of RFC 6455 §3.
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The target's path, before any `?`.
    pub fn path(&self) -> &str {
        super::split_target(&self.target).0
    }

    /// The target's query, after the first `?`, if any.
    pub fn query(&self) -> Option<&str> {
        super::split_target(&self.target).1
    }

    /// Every header field (pseudo-headers excluded).
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The `Origin` field (RFC 6455 §10.2: a server may refuse origins it
    /// does not trust, answering 403 Forbidden).
    pub fn origin(&self) -> Option<&str> {
        self.headers.get_str("Origin")
    }

    /// The subprotocols offered, in the client's order of preference.
    pub fn protocols(&self) -> impl Iterator<Item = &str> + '_ {
        self.protocols.iter().map(String::as_str)
    }

    /// The extensions offered, in the client's order of preference (e.g.
    /// for `DeflateConfig::negotiate` with feature `deflate`).
    pub fn extensions(&self) -> &[ExtensionOffer] {
        &self.extensions
    }

    /// Accepts: the `200` response to send on the stream and what the
    /// connection needs, with the same rules as
    /// [`Request::accept`](super::Request::accept): the subprotocol and
    /// extensions must be among those offered, extra fields may not be the
    /// handshake's own, and must be valid fields
    /// ([`UsageError::InvalidHeader`]). Connection-specific fields
    /// (`Connection`, `Keep-Alive`, `Proxy-Connection`, `Transfer-Encoding`,
    /// `Upgrade`, `TE`), which HTTP/2 and HTTP/3 forbid (RFC 9113 §8.2.2),
    /// are [`UsageError::ConnectionSpecificHeader`].
    pub fn accept(self, accept: Accept) -> Result<ConnectAccepted, UsageError> {
        let mut fields = Headers::new();
        let (negotiated, connection) =
            accept.open(&self.protocols, &self.extensions, &mut fields, &[])?;
        check_no_connection_specific(&fields)?;
        let mut response = http::Response::new(());
        *response.headers_mut() = map_from_headers(&fields)?;
        Ok(ConnectAccepted {
            response,
            negotiated,
            connection,
        })
    }
}

/// A successful extended CONNECT, server side.
#[derive(Debug)]
#[non_exhaustive]
pub struct ConnectAccepted {
    /// The `200 OK` to send, with the negotiated `Sec-WebSocket-Protocol`
    /// and `Sec-WebSocket-Extensions`.
    pub response: http::Response<()>,
    /// The subprotocol and extensions agreed on.
    pub negotiated: Negotiated,
    /// The connection, `Open`, to run over the stream's DATA.
    pub connection: Connection,
}

/// The answer to a request that failed [`ConnectRequest::from_http`]: the
/// status of [`HandshakeError::http_status`], a plain-text body, and for a
/// 426 the `Sec-WebSocket-Version: 13` of RFC 6455 §4.2.2; unlike
/// [`HandshakeError::to_response`], without the connection-specific
/// fields (`Connection`, `Upgrade`) HTTP/2 and HTTP/3 forbid.
pub fn error_response(error: &HandshakeError) -> http::Response<Vec<u8>> {
    let mut body = error.to_string().into_bytes();
    body.push(b'\n');
    let mut response = http::Response::new(body);
    *response.status_mut() =
        http::StatusCode::from_u16(error.http_status()).unwrap_or(http::StatusCode::BAD_REQUEST);
    let headers = response.headers_mut();
    if matches!(error, HandshakeError::UnsupportedVersion) {
        headers.insert(
            "sec-websocket-version",
            http::HeaderValue::from_static("13"),
        );
    }
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

/// A client's extended CONNECT: the request to send, then the answer to
/// check.
#[derive(Clone, Debug)]
pub struct ConnectClient {
    scheme: &'static str,
    authority: String,
    resource: String,
    config: ClientConfig,
}

impl ConnectClient {
    /// A handshake for `url` (RFC 8441 §5: the scheme becomes `https` for
    /// `wss` and `http` for `ws`; "The remainder of the target URI is the
    /// same as the WebSocket URI"), checking `config` as
    /// [`ClientHandshake::new`](super::ClientHandshake::new) does. No key:
    /// nothing random is needed.
    pub fn new(url: &WsUrl, config: ClientConfig) -> Result<ConnectClient, UsageError> {
        config.check()?;
        check_no_connection_specific(&config.headers)?;
        Ok(ConnectClient {
            scheme: if url.is_secure() { "https" } else { "http" },
            authority: url.host_header(),
            resource: url.resource().into(),
            config,
        })
    }

    /// The `:protocol` to send with the request: [`PROTOCOL`].
    pub fn protocol(&self) -> &'static str {
        PROTOCOL
    }

    /// The request: `CONNECT`, HTTP/2 (set HTTP/3 for RFC 9220), the URI
    /// `scheme://authority/resource` (`:scheme`, `:authority`, `:path`),
    /// then `Origin` if configured and the fields shared with HTTP/1.1:
    /// subprotocols, `Sec-WebSocket-Version: 13`, extension offers, extra
    /// fields. Add the `:protocol` ([`PROTOCOL`]) the way the HTTP library
    /// wants it (h2: `h2::ext::Protocol` in the request's extensions).
    /// Every field was checked by [`ConnectClient::new`]: this does not
    /// fail in practice.
    pub fn request(&self) -> Result<http::Request<()>, UsageError> {
        let uri = http::Uri::builder()
            .scheme(self.scheme)
            .authority(self.authority.as_str())
            .path_and_query(self.resource.as_str())
            .build()
            .map_err(|_| UsageError::InvalidTarget)?;
        let mut fields = Headers::new();
        if let Some(origin) = &self.config.origin {
            fields.append("origin", origin.as_str());
        }
        self.config
            .for_each_offer_field(&mut |name, value| fields.append(name, value));
        let mut request = http::Request::new(());
        *request.method_mut() = http::Method::CONNECT;
        *request.version_mut() = http::Version::HTTP_2;
        *request.uri_mut() = uri;
        *request.headers_mut() = map_from_headers(&fields)?;
        Ok(request)
    }

    /// Checks the server's answer: a status other than 2xx is
    /// [`HandshakeError::Rejected`] (RFC 8441 §5: a server that agrees
    /// answers 200; RFC 9110 §9.3.6: any 2xx opens the tunnel); then, as
    /// over HTTP/1.1 and by the same code, the subprotocol and extensions
    /// must be among those offered (RFC 6455 §4.1). The answer comes with
    /// the client's connection, `Open`, to run over the stream's DATA.
    pub fn handle_response<B>(
        &self,
        response: &http::Response<B>,
    ) -> Result<Accepted, HandshakeError> {
        let ours = Response::from_http(response);
        if !response.status().is_success() {
            return Err(HandshakeError::Rejected(Box::new(ours)));
        }
        let (negotiated, agreed) = self.config.check_negotiated(&ours.headers)?;
        let connection = agreed.open(Role::Client, self.config.config.clone(), &[]);
        Ok(Accepted {
            response: ours,
            negotiated,
            connection,
        })
    }
}
