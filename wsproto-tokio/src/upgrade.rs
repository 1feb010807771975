//! Upgrading a hyper 1.x server's request to a WebSocket (feature
//! `hyper`): the HTTP/1.1 `GET` + `Upgrade: websocket` of RFC 6455, and
//! the HTTP/2 extended CONNECT of RFC 8441.
//!
//! ```no_run
//! use futures_util::StreamExt;
//! use http_body_util::Empty;
//! use hyper::body::{Bytes, Incoming};
//!
//! async fn handle(
//!     mut request: http::Request<Incoming>,
//! ) -> Result<http::Response<Empty<Bytes>>, wsproto_tokio::Error> {
//!     let (response, upgrade) = wsproto_tokio::upgrade::upgrade(&mut request)?;
//!     tokio::spawn(async move {
//!         let mut ws = upgrade.await?;
//!         while let Some(message) = ws.next().await {
//!             let message = message?;
//!             if message.is_text() || message.is_binary() {
//!                 ws.send(message).await?;
//!             }
//!         }
//!         Ok::<_, wsproto_tokio::Error>(())
//!     });
//!     Ok(response)
//! }
//! ```
//!
//! Serve the connection with upgrades on (`http1::Builder::serve_connection
//! (..).with_upgrades()`); for HTTP/2, turn on extended CONNECT
//! (`http2::Builder::enable_connect_protocol`), which axum's `serve` does.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use http_body_util::Empty;
use hyper::upgrade::{OnUpgrade, Upgraded};
use hyper_util::rt::TokioIo;
use wsproto::handshake::extended_connect::{self, ConnectRequest};
use wsproto::handshake::{Accept, HandshakeError, Headers, Request, Response};
use wsproto::Connection;

use crate::config::WebSocketConfig;
use crate::error::Error;
use crate::server::server_accept;
use crate::stream::WebSocketStream;

/// A WebSocket over a hyper upgrade.
pub type WebSocket = WebSocketStream<TokioIo<Upgraded>>;

/// A client's request for a WebSocket over HTTP: an HTTP/1.1 upgrade or
/// an HTTP/2 extended CONNECT, checked (RFC 6455 §4.2.1, RFC 8441 §5).
#[derive(Clone, Debug)]
pub enum Offer {
    /// `GET` with `Upgrade: websocket` (HTTP/1.1).
    Upgrade(Request),
    /// `CONNECT` with `:protocol: websocket` (HTTP/2, RFC 8441).
    Connect(ConnectRequest),
}

impl Offer {
    /// Checks a request: a `CONNECT` as an extended CONNECT (its
    /// `:protocol` is hyper's `hyper::ext::Protocol` extension), anything
    /// else as an HTTP/1.1 upgrade. A request that does not ask for a
    /// WebSocket at all is [`HandshakeError::MissingUpgrade`].
    pub fn from_http<B>(request: &http::Request<B>) -> Result<Offer, HandshakeError> {
        if request.method() == http::Method::CONNECT {
            let protocol = request
                .extensions()
                .get::<hyper::ext::Protocol>()
                .map(hyper::ext::Protocol::as_str);
            return ConnectRequest::from_http(request, protocol).map(Offer::Connect);
        }
        let request = Request::from_http(request)?;
        if !request.is_upgrade() {
            return Err(HandshakeError::MissingUpgrade);
        }
        Ok(Offer::Upgrade(request))
    }

    /// The target's path.
    pub fn path(&self) -> &str {
        match self {
            Offer::Upgrade(r) => r.path(),
            Offer::Connect(r) => r.path(),
        }
    }

    /// The target's query, if any.
    pub fn query(&self) -> Option<&str> {
        match self {
            Offer::Upgrade(r) => r.query(),
            Offer::Connect(r) => r.query(),
        }
    }

    /// The header fields.
    pub fn headers(&self) -> &Headers {
        match self {
            Offer::Upgrade(r) => r.headers(),
            Offer::Connect(r) => r.headers(),
        }
    }

    /// The `Origin` field.
    pub fn origin(&self) -> Option<&str> {
        match self {
            Offer::Upgrade(r) => r.origin(),
            Offer::Connect(r) => r.origin(),
        }
    }

    /// The subprotocols offered, in the client's order of preference.
    pub fn protocols(&self) -> Box<dyn Iterator<Item = &str> + '_> {
        match self {
            Offer::Upgrade(r) => Box::new(r.protocols()),
            Offer::Connect(r) => Box::new(r.protocols()),
        }
    }

    /// Accepts: the response to send (101, or 200 for a CONNECT), the
    /// subprotocol agreed, and the connection to run over the upgraded
    /// stream.
    pub fn accept(
        self,
        accept: Accept,
    ) -> Result<(http::Response<()>, Option<String>, Connection), Error> {
        match self {
            Offer::Upgrade(request) => {
                let accepted = request.accept(accept)?;
                let response = accepted.response.to_http()?.map(|_| ());
                Ok((response, accepted.negotiated.protocol, accepted.connection))
            }
            Offer::Connect(request) => {
                let accepted = request.accept(accept)?;
                Ok((
                    accepted.response,
                    accepted.negotiated.protocol,
                    accepted.connection,
                ))
            }
        }
    }
}

/// The answer to a request that is not a valid WebSocket request, in the
/// request's HTTP version: HTTP/2 and HTTP/3 without the
/// connection-specific fields (`Connection`, `Upgrade`) they forbid. Over
/// HTTP/1.1, a request that does not ask for an upgrade at all is answered
/// `426 Upgrade Required` with `Upgrade: websocket` (RFC 9110 §15.5.22: "The
/// server MUST send an Upgrade header field in a 426 response").
pub fn error_response(error: &HandshakeError, version: http::Version) -> http::Response<Vec<u8>> {
    if version >= http::Version::HTTP_2 {
        return extended_connect::error_response(error);
    }
    if matches!(error, HandshakeError::MissingUpgrade) {
        let mut response = http::Response::new(b"this is a WebSocket endpoint\n".to_vec());
        *response.status_mut() = http::StatusCode::UPGRADE_REQUIRED;
        let headers = response.headers_mut();
        headers.insert(
            http::header::UPGRADE,
            http::HeaderValue::from_static("websocket"),
        );
        headers.insert(
            http::header::CONNECTION,
            http::HeaderValue::from_static("Upgrade"),
        );
        headers.insert(
            http::header::SEC_WEBSOCKET_VERSION,
            http::HeaderValue::from_static("13"),
        );
        return response;
    }
    error
        .to_response()
        .to_http()
        .unwrap_or_else(|_| extended_connect::error_response(error))
}

/// Upgrades `request` with the default configuration: the response to
/// send back (101 for HTTP/1.1, 200 for an HTTP/2 extended CONNECT), and a
/// future that resolves to the WebSocket once hyper has switched the
/// connection over. Spawn a task that awaits it, and return the response.
///
/// A request that is not a valid WebSocket request is an
/// [`Error::Handshake`]; answer it with [`error_response`].
pub fn upgrade<B>(
    request: &mut http::Request<B>,
) -> Result<(http::Response<Empty<Bytes>>, UpgradeFut), Error> {
    upgrade_with(request, WebSocketConfig::default(), |_, accept| Ok(accept))
}

/// [`upgrade`] with a configuration and a callback, as
/// [`accept_with_config`](crate::accept_with_config): the callback sees
/// the request and answers with the [`Accept`] it is handed (a
/// subprotocol, header fields) or a [`Response`] that refuses it, returned
/// as [`Error::Refused`].
pub fn upgrade_with<B, F>(
    request: &mut http::Request<B>,
    config: WebSocketConfig,
    callback: F,
) -> Result<(http::Response<Empty<Bytes>>, UpgradeFut), Error>
where
    F: FnOnce(&Offer, Accept) -> Result<Accept, Response>,
{
    let offer = Offer::from_http(request)?;
    let accept = callback(&offer, server_accept(&config)).map_err(|r| Error::Refused(r.status))?;
    let (response, protocol, connection) = offer.accept(accept)?;
    let upgrade = UpgradeFut::new(hyper::upgrade::on(request), connection, &config, protocol);
    Ok((response.map(|()| Empty::new()), upgrade))
}

/// The WebSocket of an upgrade, once hyper has handed the connection over.
#[must_use = "the WebSocket is ready only when this future resolves"]
pub struct UpgradeFut {
    on_upgrade: OnUpgrade,
    ready: Option<(Connection, WebSocketConfig, Option<String>)>,
}

impl UpgradeFut {
    pub(crate) fn new(
        on_upgrade: OnUpgrade,
        connection: Connection,
        config: &WebSocketConfig,
        protocol: Option<String>,
    ) -> UpgradeFut {
        UpgradeFut {
            on_upgrade,
            ready: Some((connection, config.clone(), protocol)),
        }
    }
}

impl Future for UpgradeFut {
    type Output = Result<WebSocket, Error>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let upgraded = ready!(Pin::new(&mut self.on_upgrade).poll(cx))?;
        let (connection, config, protocol) = self
            .ready
            .take()
            .expect("UpgradeFut polled after completion");
        Poll::Ready(Ok(WebSocketStream::from_connection(
            TokioIo::new(upgraded),
            connection,
            &config,
        )
        .with_protocol(protocol)))
    }
}

impl std::fmt::Debug for UpgradeFut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpgradeFut").finish_non_exhaustive()
    }
}
