//! The HTTP/1.1 Upgrade handshake on the `http` crate's types (feature
//! `http`): what hyper and axum hand to an application that upgrades.
//!
//! Nothing here re-implements a rule: an `http::Request` becomes the same
//! header list the HTTP/1.1 parser produces and goes through the same
//! §4.2.1 checks ([`Request::from_http`]), the answer is the same
//! [`Response`] ([`Response::to_http`]), and a client's request and the
//! server's answer use the same fields and §4.1 checks as
//! [`ClientHandshake::write_request`] and [`ClientHandshake::handle_input`]
//! ([`ClientHandshake::to_http_request`],
//! [`ClientHandshake::handle_http_response`]).
//!
//! There is no leftover on this path: the HTTP library owns the bytes read
//! after the head (hyper hands them over inside its upgraded stream), so
//! [`Negotiated::leftover`] is empty.

use super::error::{HandshakeError, UsageError};
use super::head::RequestHead;
use super::headers::Headers;
use super::response::Response;
use super::{Accepted, ClientHandshake, Request};
use crate::role::Role;
use alloc::boxed::Box;
use alloc::vec::Vec;
use bytes::BytesMut;

/// The fields of an `http::HeaderMap` as a [`Headers`] list (names come
/// lowercase from `http`; every lookup is case-insensitive anyway).
pub(super) fn headers_from_map(map: &http::HeaderMap) -> Headers {
    map.iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()))
        .collect()
}

/// The `http::HeaderMap` for a [`Headers`] list, in order. The fields were
/// checked against the same grammar as on the HTTP/1.1 path (which is
/// stricter than `http`'s); a field `http` still refuses is reported as
/// [`UsageError::InvalidHeader`].
pub(super) fn map_from_headers(headers: &Headers) -> Result<http::HeaderMap, UsageError> {
    let mut map = http::HeaderMap::with_capacity(headers.len());
    for (name, value) in headers.iter() {
        let invalid = || UsageError::InvalidHeader(name.into());
        map.append(
            http::HeaderName::try_from(name).map_err(|_| invalid())?,
            http::HeaderValue::from_bytes(value).map_err(|_| invalid())?,
        );
    }
    Ok(map)
}

impl Request {
    /// Checks an `http::Request` (HTTP/1.x, as hyper or axum hold it before
    /// an upgrade) with exactly the rules of [`ServerHandshake::handle_input`]:
    /// the same §4.2.1 checks, in the same order, failing with the same
    /// [`HandshakeError`] (answer it with [`HandshakeError::to_response`]
    /// and [`Response::to_http`]). A request that does not ask for
    /// WebSocket is returned as a plain one ([`Request::is_upgrade`] is
    /// false). The body is not looked at.
    ///
    /// The request target is the URI as hyper holds it: path and query, or
    /// an absolute URI, whose authority [`Request::host`] then gives (RFC
    /// 9112 §3.2.2). HTTP/2 and HTTP/3
    /// have no Upgrade mechanism: such a request fails with
    /// [`HandshakeError::MalformedHttp`]; use
    /// [`extended_connect`](super::extended_connect) (RFC 8441, RFC 9220).
    ///
    /// ```
    /// use wsproto::handshake::{Accept, Request};
    /// use wsproto::{Config, Connection};
    ///
    /// // What a hyper or axum handler holds.
    /// let request = http::Request::get("/chat")
    ///     .header("host", "example.com")
    ///     .header("upgrade", "websocket")
    ///     .header("connection", "Upgrade")
    ///     .header("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ==")
    ///     .header("sec-websocket-version", "13")
    ///     .body(())
    ///     .unwrap();
    /// let request = Request::from_http(&request).unwrap();
    /// assert!(request.is_upgrade());
    /// let accepted = request.accept(Accept::new()).unwrap();
    /// let response = accepted.response.to_http().unwrap();
    /// assert_eq!(response.status(), http::StatusCode::SWITCHING_PROTOCOLS);
    /// assert_eq!(response.headers()["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    /// // Send `response`, then run the connection over the upgraded stream.
    /// let conn = Connection::new(accepted.negotiated.role, Config::default());
    /// # drop(conn);
    /// ```
    ///
    /// [`ServerHandshake::handle_input`]: super::ServerHandshake::handle_input
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub fn from_http<B>(request: &http::Request<B>) -> Result<Request, HandshakeError> {
        let minor_version = match request.version() {
            http::Version::HTTP_09 | http::Version::HTTP_10 => 0,
            http::Version::HTTP_11 => 1,
            _ => {
                return Err(HandshakeError::MalformedHttp(
                    "no Upgrade in HTTP/2 or HTTP/3: use extended CONNECT (RFC 8441, RFC 9220)",
                ))
            }
        };
        // An absolute-form target keeps its authority (RFC 9112 §3.2.2: it,
        // not `Host`, names the host), checked as on the HTTP/1.1 path.
        let uri = request.uri();
        let path = uri.path_and_query().map_or("/", |pq| pq.as_str());
        let target = match (uri.scheme_str(), uri.authority()) {
            (Some(scheme), Some(authority)) => alloc::format!("{scheme}://{authority}{path}"),
            _ => path.into(),
        };
        let head = RequestHead {
            method: request.method().as_str().into(),
            target,
            minor_version,
            headers: headers_from_map(request.headers()),
        };
        Request::validate(head, BytesMut::new())
    }
}

impl Response {
    /// The response as an `http::Response` (status, header fields in
    /// order, body), e.g. the 101 of [`Request::accept`] for hyper or axum
    /// to send. No `Content-Length` is added: the HTTP library frames the
    /// body. Fails, as [`Response::write`] does and by the same check, on
    /// anything that could not be written: a status outside 100-999, a
    /// field that is not a token and a field value, content on a 1xx, 204
    /// or 304...
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub fn to_http(&self) -> Result<http::Response<Vec<u8>>, UsageError> {
        self.check()?;
        let mut response = http::Response::new(self.body.clone());
        *response.status_mut() = http::StatusCode::from_u16(self.status)
            .map_err(|_| UsageError::InvalidStatus(self.status))?;
        *response.headers_mut() = map_from_headers(&self.headers)?;
        Ok(response)
    }

    /// A received `http::Response` as a [`Response`]: status, standard
    /// reason, header fields; the body is left out.
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub fn from_http<B>(response: &http::Response<B>) -> Response {
        let mut ours = Response::new(response.status().as_u16());
        ours.headers = headers_from_map(response.headers());
        ours
    }
}

impl ClientHandshake {
    /// The opening request as an `http::Request` (e.g. for a hyper client
    /// connection): `GET`, HTTP/1.1, the URL's resource name as an
    /// origin-form URI, and the same header fields, in the same order, as
    /// [`ClientHandshake::write_request`], checked by the same code (they
    /// were checked when the handshake was built: this does not fail in
    /// practice).
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub fn to_http_request(&self) -> Result<http::Request<()>, UsageError> {
        super::write::measure(|s| self.encode(s))?;
        let mut headers = Headers::new();
        self.for_each_field(&mut |name, value| headers.append(name, value));
        let mut request = http::Request::new(());
        *request.uri_mut() =
            http::Uri::try_from(self.resource.as_str()).map_err(|_| UsageError::InvalidTarget)?;
        *request.version_mut() = http::Version::HTTP_11;
        *request.headers_mut() = map_from_headers(&headers)?;
        Ok(request)
    }

    /// Checks the server's answer received as an `http::Response` with the
    /// rules of [`ClientHandshake::handle_input`] (§4.1): a status other
    /// than 101 is [`HandshakeError::Rejected`] (its body left out), a 101
    /// must carry the right `Sec-WebSocket-Accept` and offered values only.
    /// The leftover is empty (the HTTP library keeps the bytes after the
    /// head). A failure is recorded: `handle_input` returns it from then on.
    #[cfg_attr(docsrs, doc(cfg(feature = "http")))]
    pub fn handle_http_response<B>(
        &mut self,
        response: &http::Response<B>,
    ) -> Result<Accepted, HandshakeError> {
        self.check_http_response(response)
            .map_err(|e| self.reader.fail(e))
    }

    fn check_http_response<B>(
        &self,
        response: &http::Response<B>,
    ) -> Result<Accepted, HandshakeError> {
        let ours = Response::from_http(response);
        if ours.status != 101 {
            return Err(HandshakeError::Rejected(Box::new(ours)));
        }
        let minor_version = match response.version() {
            http::Version::HTTP_09 | http::Version::HTTP_10 => 0,
            http::Version::HTTP_11 => 1,
            _ => {
                return Err(HandshakeError::MalformedHttp(
                    "101 Switching Protocols exists only in HTTP/1.1",
                ))
            }
        };
        let (negotiated, agreed) = self.check(minor_version, &ours.headers)?;
        let connection = agreed.open(Role::Client, self.config.config.clone(), &[]);
        Ok(Accepted {
            response: ours,
            negotiated,
            connection,
        })
    }
}
