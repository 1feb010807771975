//! An axum 0.8 extractor for WebSocket upgrades (feature `axum`), in the
//! style of axum's own `WebSocketUpgrade`: HTTP/1.1 `GET` upgrades and
//! HTTP/2 extended CONNECT (RFC 8441), which `axum::serve` turns on.
//!
//! ```no_run
//! use axum::{response::Response, routing::any, Router};
//! use wsproto_tokio::axum::{WebSocket, WebSocketUpgrade};
//!
//! async fn handler(ws: WebSocketUpgrade) -> Response {
//!     ws.protocols(["chat.v2"]).on_upgrade(echo)
//! }
//!
//! async fn echo(mut socket: WebSocket) {
//!     while let Some(Ok(message)) = socket.recv().await {
//!         if (message.is_text() || message.is_binary()) && socket.send(message).await.is_err() {
//!             return;
//!         }
//!     }
//! }
//!
//! // `any`, not `get`: an HTTP/2 WebSocket is a CONNECT request.
//! let app: Router = Router::new().route("/ws", any(handler));
//! ```

use std::borrow::Cow;
use std::fmt;
use std::future::Future;

use axum_core::body::Body;
use axum_core::extract::FromRequestParts;
use axum_core::response::{IntoResponse, Response};
use http::request::Parts;
use hyper::upgrade::OnUpgrade;
use wsproto::handshake::HandshakeError;

use crate::config::WebSocketConfig;
use crate::error::Error;
use crate::server::server_accept;
use crate::upgrade::{error_response, Offer, UpgradeFut};

/// A WebSocket over an axum (hyper) upgrade.
pub type WebSocket = crate::upgrade::WebSocket;

/// Extractor of a WebSocket upgrade: checks the request (RFC 6455 §4.2.1
/// over HTTP/1.1, RFC 8441 over HTTP/2), and [`on_upgrade`] answers it
/// and hands the WebSocket to a task.
///
/// [`on_upgrade`]: WebSocketUpgrade::on_upgrade
pub struct WebSocketUpgrade<F = DefaultOnFailedUpgrade> {
    offer: Offer,
    on_upgrade: OnUpgrade,
    config: WebSocketConfig,
    protocol: Option<String>,
    on_failed_upgrade: F,
}

impl<F> fmt::Debug for WebSocketUpgrade<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocketUpgrade")
            .field("offer", &self.offer)
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

impl<F> WebSocketUpgrade<F> {
    /// The whole configuration: limits, keepalive, the send queue's bound,
    /// permessage-deflate.
    #[must_use]
    pub fn config(mut self, config: WebSocketConfig) -> Self {
        self.config = config;
        self
    }

    /// The largest message received (after inflation). Default 64 MiB.
    #[must_use]
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.config = self.config.max_message_size(bytes as u64);
        self
    }

    /// The largest frame payload received. Default 16 MiB.
    #[must_use]
    pub fn max_frame_size(mut self, bytes: usize) -> Self {
        self.config = self.config.max_frame_size(bytes as u64);
        self
    }

    /// The send queue's bound (see [`WebSocketConfig::send_high_water`]).
    #[must_use]
    pub fn max_write_buffer_size(mut self, bytes: usize) -> Self {
        self.config = self.config.send_high_water(bytes);
        self
    }

    /// The subprotocols the server speaks, in its order of preference: the
    /// first that the client offered is chosen and sent back in
    /// `Sec-WebSocket-Protocol` (as axum does).
    #[must_use]
    pub fn protocols<I>(mut self, protocols: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<Cow<'static, str>>,
    {
        let offered: Vec<&str> = self.offer.protocols().collect();
        self.protocol = protocols
            .into_iter()
            .map(Into::into)
            .find(|p| offered.contains(&p.as_ref()))
            .map(Cow::into_owned);
        self
    }

    /// The subprotocol chosen by [`protocols`](Self::protocols), if any.
    pub fn selected_protocol(&self) -> Option<&str> {
        self.protocol.as_deref()
    }

    /// The request: path, query, headers, `Origin`, offered subprotocols.
    pub fn offer(&self) -> &Offer {
        &self.offer
    }

    /// What to do when the upgrade fails after the response was sent (by
    /// default, nothing).
    pub fn on_failed_upgrade<C: OnFailedUpgrade>(self, callback: C) -> WebSocketUpgrade<C> {
        WebSocketUpgrade {
            offer: self.offer,
            on_upgrade: self.on_upgrade,
            config: self.config,
            protocol: self.protocol,
            on_failed_upgrade: callback,
        }
    }

    /// Answers the request (101 Switching Protocols, or 200 for an HTTP/2
    /// CONNECT) and, once the connection has switched over, runs `callback`
    /// with the WebSocket in a task of its own. Return the response from
    /// the handler.
    pub fn on_upgrade<C, Fut>(self, callback: C) -> Response
    where
        C: FnOnce(WebSocket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
        F: OnFailedUpgrade,
    {
        let mut accept = server_accept(&self.config);
        if let Some(protocol) = &self.protocol {
            accept = accept.protocol(protocol.as_str());
        }
        let (response, protocol, connection) = match self.offer.accept(accept) {
            Ok(accepted) => accepted,
            Err(error) => {
                // Only the server's own settings can fail here.
                return (http::StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
                    .into_response();
            }
        };
        let upgrade = UpgradeFut::new(self.on_upgrade, connection, &self.config, protocol);
        let on_failed_upgrade = self.on_failed_upgrade;
        tokio::spawn(async move {
            match upgrade.await {
                Ok(socket) => callback(socket).await,
                Err(error) => on_failed_upgrade.call(error),
            }
        });
        response.map(|()| Body::empty())
    }
}

/// What to do when an upgrade fails after the response was sent.
pub trait OnFailedUpgrade: Send + 'static {
    /// Called with the error.
    fn call(self, error: Error);
}

impl<F: FnOnce(Error) + Send + 'static> OnFailedUpgrade for F {
    fn call(self, error: Error) {
        self(error)
    }
}

/// The default [`OnFailedUpgrade`]: ignores the error.
#[derive(Debug, Clone, Copy, Default)]
#[non_exhaustive]
pub struct DefaultOnFailedUpgrade;

impl OnFailedUpgrade for DefaultOnFailedUpgrade {
    fn call(self, _: Error) {}
}

/// Why a request could not be upgraded, answered with its HTTP status.
#[derive(Debug)]
#[non_exhaustive]
pub enum WebSocketUpgradeRejection {
    /// The request is not a valid WebSocket request (RFC 6455 §4.2.1, RFC
    /// 8441 §5): 400, 426 (wrong version) or 405 (wrong method).
    Handshake {
        /// What was wrong.
        error: HandshakeError,
        /// The request's HTTP version, for the answer's form.
        version: http::Version,
    },
    /// The connection cannot be upgraded: it is not served with upgrades
    /// on (hyper's `with_upgrades`, or extended CONNECT for HTTP/2).
    ConnectionNotUpgradable,
}

impl fmt::Display for WebSocketUpgradeRejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WebSocketUpgradeRejection::Handshake { error, .. } => error.fmt(f),
            WebSocketUpgradeRejection::ConnectionNotUpgradable => {
                f.write_str("the connection cannot be upgraded")
            }
        }
    }
}

impl std::error::Error for WebSocketUpgradeRejection {}

impl IntoResponse for WebSocketUpgradeRejection {
    fn into_response(self) -> Response {
        match self {
            WebSocketUpgradeRejection::Handshake { error, version } => {
                error_response(&error, version).map(Body::from)
            }
            WebSocketUpgradeRejection::ConnectionNotUpgradable => (
                http::StatusCode::UPGRADE_REQUIRED,
                "the connection cannot be upgraded\n",
            )
                .into_response(),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for WebSocketUpgrade<DefaultOnFailedUpgrade> {
    type Rejection = WebSocketUpgradeRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // The checks read a request; the parts stay the handler's.
        let mut probe = http::Request::new(());
        *probe.method_mut() = parts.method.clone();
        *probe.uri_mut() = parts.uri.clone();
        *probe.version_mut() = parts.version;
        *probe.headers_mut() = parts.headers.clone();
        if let Some(protocol) = parts.extensions.get::<hyper::ext::Protocol>() {
            probe.extensions_mut().insert(protocol.clone());
        }
        let offer =
            Offer::from_http(&probe).map_err(|error| WebSocketUpgradeRejection::Handshake {
                error,
                version: parts.version,
            })?;
        let on_upgrade = parts
            .extensions
            .remove::<OnUpgrade>()
            .ok_or(WebSocketUpgradeRejection::ConnectionNotUpgradable)?;
        Ok(WebSocketUpgrade {
            offer,
            on_upgrade,
            config: WebSocketConfig::default(),
            protocol: None,
            on_failed_upgrade: DefaultOnFailedUpgrade,
        })
    }
}
