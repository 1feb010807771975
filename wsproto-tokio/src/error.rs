//! One error type for the adapter, typed by who is at fault, as in the core.

use std::io;

use wsproto::handshake::{HandshakeError, UsageError};
use wsproto::proxy::{ProxyConfigError, ProxyError};
use wsproto::{ProtocolError, SendError};

/// What can go wrong on a WebSocket stream or its handshake.
///
/// The end of a connection is not an error: a stream that has closed
/// (normally or not) ends, its `next()` returning `None`. What ended it is
/// [`WebSocketStream::close_cause`](crate::WebSocketStream::close_cause).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The transport failed (a reset, a broken pipe, a TLS failure...).
    #[error("I/O: {0}")]
    Io(#[from] io::Error),
    /// The peer broke a rule of RFC 6455 (the peer's fault). The
    /// connection has failed (§7.1.7): its close frame, with
    /// [`ProtocolError::close_code`], is on its way, and the stream ends
    /// after it.
    #[error("protocol: {0}")]
    Protocol(#[from] ProtocolError),
    /// A message could not be sent (the caller's fault: e.g. after a
    /// close, or a ping of more than 125 bytes). Nothing was queued.
    #[error("send: {0}")]
    Send(#[from] SendError),
    /// The opening handshake failed: a malformed or refused request (a
    /// server has answered it with its HTTP status), or, for a client, a
    /// response that is not a valid `101` ([`HandshakeError::Rejected`]
    /// carries the server's answer, e.g. a 401 or a redirect).
    #[error("handshake: {0}")]
    Handshake(#[from] HandshakeError),
    /// A handshake was refused by the server's callback, which answered
    /// with this status.
    #[error("handshake refused with HTTP {0}")]
    Refused(u16),
    /// The URL, a header or another argument could not be used (the
    /// caller's fault).
    #[error("usage: {0}")]
    Usage(#[from] UsageError),
    /// The HTTP proxy (`HTTP_PROXY`, `HTTPS_PROXY`) did not open a tunnel.
    #[error("proxy: {0}")]
    Proxy(#[from] ProxyError),
    /// The proxy configuration in the environment could not be used.
    #[error("proxy configuration: {0}")]
    ProxyConfig(#[from] ProxyConfigError),
    /// A `wss://` URL without the `rustls` feature, or a scheme this crate
    /// does not speak.
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
    /// The HTTP upgrade (hyper, axum) failed.
    #[cfg(feature = "hyper")]
    #[cfg_attr(docsrs, doc(cfg(feature = "hyper")))]
    #[error("upgrade: {0}")]
    Upgrade(#[from] hyper::Error),
    /// The HTTP/2 connection failed, or refused a stream (feature
    /// `http2`).
    #[cfg(feature = "http2")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http2")))]
    #[error("HTTP/2: {0}")]
    Http2(#[from] h2::Error),
    /// The HTTP/2 or HTTP/3 server did not send
    /// `SETTINGS_ENABLE_CONNECT_PROTOCOL` = 1, so it cannot be asked for a
    /// WebSocket (RFC 8441 §4, and RFC 9220 §3 for HTTP/3: "A client MUST
    /// NOT send a CONNECT request with the :protocol pseudo-header unless
    /// the server has sent this setting").
    #[cfg(any(feature = "http2", feature = "http3"))]
    #[cfg_attr(docsrs, doc(cfg(any(feature = "http2", feature = "http3"))))]
    #[error("the server did not enable extended CONNECT (RFC 8441, RFC 9220)")]
    ExtendedConnectDisabled,
    /// The HTTP/3 connection failed or was closed (feature `http3`).
    #[cfg(feature = "http3")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http3")))]
    #[error("HTTP/3: {0}")]
    Http3(#[from] hpx_h3::error::ConnectionError),
    /// An HTTP/3 request stream failed: the peer reset it, or the
    /// connection under it failed (feature `http3`).
    #[cfg(feature = "http3")]
    #[cfg_attr(docsrs, doc(cfg(feature = "http3")))]
    #[error("HTTP/3 stream: {0}")]
    Http3Stream(#[from] hpx_h3::error::StreamError),
}

impl Error {
    /// For an error that failed the connection because of the peer, the
    /// close code that was sent (RFC 6455 §7.4.1).
    pub fn close_code(&self) -> Option<wsproto::CloseCode> {
        match self {
            Error::Protocol(e) => Some(e.close_code()),
            _ => None,
        }
    }
}

/// The adapter's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;
