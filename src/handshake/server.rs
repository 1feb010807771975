//! The server's side (RFC 6455 §4.2): read and validate the client's
//! request, let the application decide, write the answer.

use super::accept::{is_valid_key, AcceptKey};
use super::error::{HandshakeError, UsageError};
use super::extension::ExtensionOffer;
use super::head::{HeadReader, Limits, RequestHead};
use super::headers::Headers;
use super::open::Extensions;
use super::response::Response;
use super::{check_extra_header, is_token, trim_ows, Accepted, Authority, Negotiated};
use crate::config::Config;
use crate::connection::Connection;
use crate::frame::Status;
use crate::role::Role;
use alloc::string::String;
use alloc::vec::Vec;
use bytes::BytesMut;

/// A server reading a client's opening handshake.
///
/// Call [`ServerHandshake::handle_input`] with each chunk of bytes received
/// until it returns a [`Request`] or an error; then answer the request (see
/// [`Request::accept`]). After a failure every call returns the same error;
/// answer it with [`HandshakeError::to_response`] and close.
#[derive(Debug)]
pub struct ServerHandshake {
    reader: HeadReader,
}

impl ServerHandshake {
    /// A handshake reading requests within `limits`.
    pub fn new(limits: Limits) -> ServerHandshake {
        ServerHandshake {
            reader: HeadReader::new(limits),
        }
    }

    /// Takes bytes received from the client: [`Status::Partial`] until the
    /// request head is complete (every byte is kept), then the parsed
    /// request holding the bytes that followed its head.
    ///
    /// A request is treated as a WebSocket handshake when it carries an
    /// `Upgrade: websocket`, a `Sec-WebSocket-Key` or a
    /// `Sec-WebSocket-Version`; it must then follow §4.2.1 to the letter, or
    /// the error says which rule it broke. Any other well-formed request is
    /// returned as a plain HTTP request ([`Request::is_upgrade`] is false).
    pub fn handle_input(&mut self, data: &[u8]) -> Result<Status<Request>, HandshakeError> {
        let (head, leftover) = match self.reader.read::<RequestHead>(data)? {
            Status::Complete(parsed) => parsed,
            Status::Partial => return Ok(Status::Partial),
        };
        match Request::validate(head, leftover) {
            Ok(request) => Ok(Status::Complete(request)),
            Err(e) => Err(self.reader.fail(e)),
        }
    }
}

/// What a WebSocket upgrade request offers, checked against §4.2.1.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Offer {
    accept: AcceptKey,
    protocols: Vec<String>,
    extensions: Vec<ExtensionOffer>,
}

/// A client's request, complete and validated, for the application to
/// accept or refuse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    method: String,
    target: String,
    /// The target's path and query (the whole target in origin-form).
    resource: String,
    /// The authority: from an absolute-form target, else from `Host`.
    host: Option<String>,
    minor_version: u8,
    headers: Headers,
    offer: Option<Offer>,
    leftover: BytesMut,
}

impl Request {
    /// Checks a request: its target and `Host` (RFC 9112 §3.2), then, for
    /// a request that asks for WebSocket, every rule of §4.2.1 (also the
    /// entry point of the `http` feature's `Request::from_http`).
    pub(super) fn validate(
        head: RequestHead,
        leftover: BytesMut,
    ) -> Result<Request, HandshakeError> {
        let RequestHead {
            method,
            target,
            minor_version,
            headers,
        } = head;
        let wants_websocket = ["Sec-WebSocket-Key", "Sec-WebSocket-Version"]
            .iter()
            .any(|h| headers.contains(h))
            || headers.has_token("Upgrade", "websocket");
        let offer = if wants_websocket {
            Some(Self::check_offer(&method, minor_version, &headers)?)
        } else {
            None
        };
        let (target_authority, resource) = parse_target(&method, &target, wants_websocket)?;
        let host_field = check_host(minor_version, &headers)?;
        // RFC 9112 §3.2.2: "When an origin server receives a request with
        // an absolute-form of request-target, the origin server MUST ignore
        // the received Host header field (if any) and instead use the host
        // information of the request-target."
        let host = target_authority.or(host_field).map(String::from);
        Ok(Request {
            method,
            resource: resource.into(),
            target,
            host,
            minor_version,
            headers,
            offer,
            leftover,
        })
    }

    fn check_offer(
        method: &str,
        minor_version: u8,
        headers: &Headers,
    ) -> Result<Offer, HandshakeError> {
        // §4.1: "The method of the request MUST be GET, and the HTTP
        // version MUST be at least 1.1."
        if method != "GET" {
            return Err(HandshakeError::MethodNotGet(method.into()));
        }
        if minor_version < 1 {
            return Err(HandshakeError::HttpVersionTooOld(minor_version));
        }
        // §4.2.1 point 2: "A |Host| header field containing the server's
        // authority" (checked for every request by `check_host`; required
        // here whatever the HTTP version).
        match headers.count("Host") {
            0 => return Err(HandshakeError::MissingHost),
            1 => {}
            _ => return Err(HandshakeError::DuplicateHost),
        }
        // RFC 9112 §6.1, §6.3: a request's content is framed by
        // Transfer-Encoding or Content-Length. An upgrade has none: bytes
        // after its head are frames, and a body declared to an
        // intermediary but read here as frames (or the reverse) is request
        // smuggling (CWE-444).
        if headers.contains("Transfer-Encoding")
            || headers
                .list("Content-Length")
                .any(|v| v.is_empty() || !v.iter().all(|&b| b == b'0'))
        {
            return Err(HandshakeError::UpgradeWithContent);
        }
        // §4.2.1 point 3: "An |Upgrade| header field containing the value
        // "websocket", treated as an ASCII case-insensitive value."
        if !headers.has_token("Upgrade", "websocket") {
            return Err(HandshakeError::MissingUpgrade);
        }
        // §4.2.1 point 4: "A |Connection| header field that includes the
        // token "Upgrade", treated as an ASCII case-insensitive value."
        if !headers.has_token("Connection", "Upgrade") {
            return Err(HandshakeError::MissingConnectionUpgrade);
        }
        check_version(headers)?;
        // §4.2.1 point 5, and §11.3.1: "The |Sec-WebSocket-Key| header
        // field MUST NOT appear more than once in an HTTP request."
        let key = match headers.count("Sec-WebSocket-Key") {
            0 => return Err(HandshakeError::MissingKey),
            1 => headers
                .get("Sec-WebSocket-Key")
                .map(trim_ows)
                .unwrap_or_default(),
            _ => return Err(HandshakeError::DuplicateKey),
        };
        if !is_valid_key(key) {
            return Err(HandshakeError::InvalidKey);
        }
        let (protocols, extensions) = offered_lists(headers)?;
        Ok(Offer {
            accept: AcceptKey::from_key(key),
            protocols,
            extensions,
        })
    }

    /// The method, e.g. `GET`.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// The request target as received: `/chat?room=1` (origin-form), or
    /// `http://example.com/chat?room=1` (absolute-form, RFC 9112 §3.2.2).
    pub fn target(&self) -> &str {
        &self.target
    }

    /// The resource name of §3 (path and query): the whole target in
    /// origin-form, the part after the authority in absolute-form (at
    /// least `/`).
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The target's path, before any `?`.
    pub fn path(&self) -> &str {
        super::split_target(&self.resource).0
    }

    /// The target's query, after the first `?`, if any.
    pub fn query(&self) -> Option<&str> {
        super::split_target(&self.resource).1
    }

    /// The minor HTTP version: 1 for `HTTP/1.1`, 0 for `HTTP/1.0`.
    pub fn http_minor_version(&self) -> u8 {
        self.minor_version
    }

    /// Every header field, in order.
    pub fn headers(&self) -> &Headers {
        &self.headers
    }

    /// The authority the request is for (`host[:port]`, checked against
    /// RFC 3986): the `Host` field, or, for an absolute-form target, the
    /// target's authority, as RFC 9112 §3.2.2 requires (so that routing by
    /// host sees one answer). `None` only for a plain HTTP/1.0 request
    /// without `Host`.
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    /// The `Origin` field (§4.2.1 point 7: sent by browser clients; §10.2: a
    /// server may refuse origins it does not trust, see [`Request::forbid`]).
    pub fn origin(&self) -> Option<&str> {
        self.headers.get_str("Origin")
    }

    /// Whether this is a valid WebSocket upgrade request. When false, it is
    /// a plain HTTP request, to be answered with any [`Response`].
    pub fn is_upgrade(&self) -> bool {
        self.offer.is_some()
    }

    /// The subprotocols offered, in the client's order of preference (none
    /// for a plain request).
    pub fn protocols(&self) -> impl Iterator<Item = &str> + '_ {
        self.offer
            .iter()
            .flat_map(|o| o.protocols.iter().map(String::as_str))
    }

    /// The extensions offered, in the client's order of preference (none
    /// for a plain request).
    pub fn extensions(&self) -> &[ExtensionOffer] {
        self.offer.as_ref().map_or(&[], |o| &o.extensions)
    }

    /// The `Sec-WebSocket-Accept` value this request calls for.
    pub fn accept_key(&self) -> Option<AcceptKey> {
        self.offer.as_ref().map(|o| o.accept)
    }

    /// The bytes received after the head (pipelined frames, or a plain
    /// request's body).
    pub fn leftover(&self) -> &[u8] {
        &self.leftover
    }

    /// Gives up the request, keeping the bytes that followed its head.
    pub fn into_leftover(self) -> BytesMut {
        self.leftover
    }

    /// Accepts the upgrade: the `101 Switching Protocols` response to write
    /// (§4.2.2 point 5) and the connection, ready: its role, the
    /// configuration and extensions of `accept`, and the bytes that
    /// followed the request's head already fed in. Write the response
    /// before anything the connection queues.
    ///
    /// Fails, sending nothing, when the request is not an upgrade, when
    /// `accept` names a subprotocol the client did not offer (§4.2.2: the
    /// chosen values "MUST be derived from" the client's), or when an extra
    /// field is invalid or one the handshake writes.
    pub fn accept(self, accept: Accept) -> Result<Accepted, UsageError> {
        let Some(offer) = &self.offer else {
            return Err(UsageError::NotAnUpgrade);
        };
        let mut response = Response::new(101)
            .with_header("Upgrade", "websocket")
            .with_header("Connection", "Upgrade")
            .with_header("Sec-WebSocket-Accept", offer.accept.as_str());
        let (negotiated, connection) = accept.open(
            &offer.protocols,
            &offer.extensions,
            &mut response.headers,
            &self.leftover,
        )?;
        response.check()?;
        Ok(Accepted {
            response,
            negotiated,
            connection,
        })
    }

    /// Refuses the request with `status` and a body (e.g. 401, 404, 503),
    /// asking the client to close the connection.
    pub fn reject(&self, status: u16, body: impl Into<Vec<u8>>) -> Response {
        Response::new(status)
            .with_header("Connection", "close")
            .with_body(body)
    }

    /// Refuses the request with 403 Forbidden: §4.2.2 point 4, for an
    /// `Origin` the server does not accept, "the server MUST [...] reply
    /// with an appropriate HTTP error code (e.g., 403 Forbidden)".
    pub fn forbid(&self) -> Response {
        self.reject(403, Vec::new())
    }
}

/// The application's answer to an upgrade request: at most one subprotocol
/// among those offered, the extensions it is willing to run (negotiated
/// against the client's offers), extra header fields (e.g. `Set-Cookie`),
/// and the configuration of the connection that results.
#[derive(Clone, Debug, Default)]
pub struct Accept {
    protocol: Option<String>,
    extensions: Extensions,
    headers: Headers,
    config: Config,
}

impl Accept {
    /// Accepts with no subprotocol, no extension, no extra field, and the
    /// default [`Config`].
    pub fn new() -> Accept {
        Accept::default()
    }

    /// Chooses a subprotocol; it must be one the client offered.
    pub fn protocol(mut self, protocol: impl Into<String>) -> Accept {
        self.protocol = Some(protocol.into());
        self
    }

    /// Runs permessage-deflate (RFC 7692) with this configuration if the
    /// client offers it: the first offer it can honour is accepted, and its
    /// answer is sent in the 101 (§5.1); the connection compresses and
    /// inflates from its first frame. A client that does not offer it gets
    /// a connection without compression.
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    pub fn deflate(mut self, deflate: crate::extensions::deflate::DeflateConfig) -> Accept {
        self.extensions.deflate = Some(deflate);
        self
    }

    /// Adds a header field to the 101 response. The handshake's own fields
    /// (`Upgrade`, `Sec-WebSocket-*`, ...) and invalid fields are refused
    /// by [`Request::accept`].
    pub fn header(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> Accept {
        self.headers.append(name, value);
        self
    }

    /// The configuration of the connection (limits, timers, keepalive).
    pub fn config(mut self, config: Config) -> Accept {
        self.config = config;
        self
    }
}

impl Accept {
    /// Answers a client's offer (HTTP/1.1 or extended CONNECT): appends
    /// the negotiated `Sec-WebSocket-Protocol` and
    /// `Sec-WebSocket-Extensions`, then the extra fields, to `fields`, and
    /// opens the server's connection, fed with `leftover`.
    ///
    /// §4.2.2: the chosen subprotocol "MUST be derived from" the client's;
    /// the extensions are negotiated against the client's offers; the extra
    /// fields are checked.
    pub(super) fn open(
        self,
        protocols: &[String],
        offers: &[ExtensionOffer],
        fields: &mut Headers,
        leftover: &[u8],
    ) -> Result<(Negotiated, Connection), UsageError> {
        if let Some(p) = &self.protocol {
            if !protocols.iter().any(|o| o == p) {
                return Err(UsageError::ProtocolNotOffered(p.clone()));
            }
        }
        for (name, value) in self.headers.iter() {
            check_extra_header(name, value)?;
        }
        let agreed = self.extensions.answer(offers);
        if let Some(p) = &self.protocol {
            fields.append("Sec-WebSocket-Protocol", p.as_str());
        }
        if !agreed.extensions.is_empty() {
            let mut value = String::new();
            let _ = ExtensionOffer::write_list(&agreed.extensions, &mut value);
            fields.append("Sec-WebSocket-Extensions", value);
        }
        for (name, value) in self.headers.iter() {
            fields.append(name, value);
        }
        let connection = agreed.open(Role::Server, self.config, leftover);
        let negotiated = Negotiated {
            role: Role::Server,
            protocol: self.protocol,
            extensions: agreed.extensions,
        };
        Ok((negotiated, connection))
    }
}

/// RFC 9112 §3.2: the request target, as `(authority, resource)`: the
/// authority of an absolute-form target (`None` in origin-form) and the
/// path and query. A WebSocket upgrade is a `GET`, so its target is in
/// origin-form (`/path?query`) or absolute-form (§3.2.2: "a server MUST
/// accept the use of the absolute-form in requests"); a plain request may
/// also use the asterisk-form (`OPTIONS *`) or the authority-form
/// (`CONNECT host:port`), whose resource is empty.
fn parse_target<'t>(
    method: &str,
    target: &'t str,
    upgrade: bool,
) -> Result<(Option<&'t str>, &'t str), HandshakeError> {
    if target.starts_with('/') {
        return Ok((None, target));
    }
    if let Some((scheme, rest)) = target.split_once("://") {
        // RFC 3986 §3.1: `scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`.
        let scheme_ok = scheme
            .as_bytes()
            .first()
            .is_some_and(u8::is_ascii_alphabetic)
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, resource) = rest.split_at(split);
        if !scheme_ok || rest.contains('#') {
            return Err(HandshakeError::InvalidTarget);
        }
        Authority::parse(authority).map_err(|_| HandshakeError::InvalidHost)?;
        // An empty path is `/` (RFC 9112 §3.3); a bare query keeps its `?`.
        let resource = if resource.is_empty() { "/" } else { resource };
        if resource.starts_with('?') {
            return Err(HandshakeError::InvalidTarget);
        }
        return Ok((Some(authority), resource));
    }
    let other_form = (method == "OPTIONS" && target == "*")
        || (method == "CONNECT" && Authority::parse(target).is_ok());
    if other_form && !upgrade {
        return Ok((None, ""));
    }
    Err(HandshakeError::InvalidTarget)
}

/// RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status
/// code to any HTTP/1.1 request message that lacks a Host header field and
/// to any request message that contains more than one Host header field
/// line or a Host header field with an invalid field value." The value must
/// be `uri-host [":" port]` (RFC 9110 §7.2), never empty. Returns the value.
fn check_host(minor_version: u8, headers: &Headers) -> Result<Option<&str>, HandshakeError> {
    match headers.count("Host") {
        0 if minor_version == 0 => Ok(None),
        0 => Err(HandshakeError::MissingHost),
        1 => {
            let value = headers.get("Host").map(trim_ows).unwrap_or_default();
            let value = core::str::from_utf8(value).map_err(|_| HandshakeError::InvalidHost)?;
            Authority::parse(value).map_err(|_| HandshakeError::InvalidHost)?;
            Ok(Some(value))
        }
        _ => Err(HandshakeError::DuplicateHost),
    }
}

/// §4.2.1 point 6: "A |Sec-WebSocket-Version| header field, with a value of
/// 13." Checked before the key, so that a client speaking another version
/// learns which one we speak (426, §4.2.2). Shared with extended CONNECT
/// (RFC 8441 §5: the field is "used [...] as defined in \[RFC6455\]").
pub(super) fn check_version(headers: &Headers) -> Result<(), HandshakeError> {
    if !headers.contains("Sec-WebSocket-Version") {
        return Err(HandshakeError::MissingVersion);
    }
    let mut versions = headers.list("Sec-WebSocket-Version").peekable();
    if versions.peek().is_none() || !versions.all(|v| v == b"13") {
        return Err(HandshakeError::UnsupportedVersion);
    }
    Ok(())
}

/// The subprotocols and extensions a client offers (§4.2.1 points 8 and 9),
/// checked against their grammar. Shared with extended CONNECT.
pub(super) fn offered_lists(
    headers: &Headers,
) -> Result<(Vec<String>, Vec<ExtensionOffer>), HandshakeError> {
    // §4.2.1 point 8: "a list of values indicating which protocols the
    // client would like to speak, ordered by preference", each a token.
    let mut protocols = Vec::new();
    for p in headers.list("Sec-WebSocket-Protocol") {
        if !is_token(p) {
            return Err(HandshakeError::InvalidProtocolHeader);
        }
        // A token is ASCII.
        protocols.push(p.iter().map(|&b| b as char).collect());
    }
    // §4.2.1 point 9 and §9.1.
    let mut extensions = Vec::new();
    for value in headers.get_all("Sec-WebSocket-Extensions") {
        ExtensionOffer::parse_list_into(value, &mut extensions)
            .map_err(|_| HandshakeError::InvalidExtensionHeader)?;
    }
    Ok((protocols, extensions))
}
