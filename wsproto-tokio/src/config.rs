//! The adapter's configuration: the core's connection settings, plus what
//! only an I/O driver has (the send queue's bound, the handshake's limits,
//! TLS).

use wsproto::handshake::Limits;
use wsproto::Config;

#[cfg(feature = "deflate")]
use wsproto::extensions::deflate::DeflateConfig;

/// The default bound of the send queue: 1 MiB.
pub const DEFAULT_SEND_HIGH_WATER: usize = 1 << 20;

/// How a [`WebSocketStream`](crate::WebSocketStream) runs, on top of the
/// core's [`Config`] (message and frame limits, keepalive pings, the close
/// timeout).
///
/// Built from the defaults with a setter per field:
///
/// ```
/// use std::time::Duration;
/// use wsproto_tokio::{Config, WebSocketConfig};
///
/// let config = WebSocketConfig::default()
///     .send_high_water(256 << 10)
///     .config(Config::default().keepalive_interval(Some(Duration::from_secs(20))));
/// assert_eq!(config.send_high_water, 256 << 10);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct WebSocketConfig {
    /// The connection's settings: limits (`max_message_size`,
    /// `max_frame_payload`), keepalive (`keepalive_interval`,
    /// `keepalive_timeout`), `close_timeout`... Their timers run on tokio's
    /// clock. `deliver_fragments` is ignored: the stream yields whole
    /// messages.
    pub config: Config,
    /// The send queue's bound, in bytes: the sink's `poll_ready` waits
    /// (writing) while more than this is queued, so a peer that reads
    /// slowly holds back the sender instead of growing memory. One message
    /// may overshoot it (it is queued whole). Default 1 MiB.
    pub send_high_water: usize,
    /// Limits of the opening handshake's HTTP head (8 KiB, 64 fields).
    pub limits: Limits,
    /// permessage-deflate (RFC 7692): a client offers it, a server accepts
    /// it when offered. Default on, with the core's defaults; `None` turns
    /// it off.
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    pub deflate: Option<DeflateConfig>,
    /// Disable Nagle's algorithm on TCP streams this crate opens. Default
    /// on: a WebSocket writes whole frames, batched by the sink.
    pub nodelay: bool,
    /// The TLS client configuration for `wss://`. Default: the Mozilla
    /// roots of `webpki-roots`, ring.
    #[cfg(feature = "rustls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
    pub tls: Option<std::sync::Arc<tokio_rustls::rustls::ClientConfig>>,
}

impl Default for WebSocketConfig {
    fn default() -> Self {
        WebSocketConfig {
            config: Config::default(),
            send_high_water: DEFAULT_SEND_HIGH_WATER,
            limits: Limits::default(),
            #[cfg(feature = "deflate")]
            deflate: Some(DeflateConfig::default()),
            nodelay: true,
            #[cfg(feature = "rustls")]
            tls: None,
        }
    }
}

impl WebSocketConfig {
    /// Sets [`WebSocketConfig::config`].
    #[must_use]
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Sets [`WebSocketConfig::send_high_water`].
    #[must_use]
    pub fn send_high_water(mut self, bytes: usize) -> Self {
        self.send_high_water = bytes;
        self
    }

    /// Sets [`WebSocketConfig::limits`].
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Sets [`WebSocketConfig::deflate`].
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    #[must_use]
    pub fn deflate(mut self, deflate: Option<DeflateConfig>) -> Self {
        self.deflate = deflate;
        self
    }

    /// Sets [`WebSocketConfig::nodelay`].
    #[must_use]
    pub fn nodelay(mut self, nodelay: bool) -> Self {
        self.nodelay = nodelay;
        self
    }

    /// Sets [`WebSocketConfig::tls`].
    #[cfg(feature = "rustls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
    #[must_use]
    pub fn tls(mut self, tls: std::sync::Arc<tokio_rustls::rustls::ClientConfig>) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Sets the largest message received, after inflation
    /// ([`Config::max_message_size`]).
    #[must_use]
    pub fn max_message_size(mut self, bytes: u64) -> Self {
        self.config = self.config.max_message_size(bytes);
        self
    }

    /// Sets the largest frame payload received ([`Config::max_frame_payload`]).
    #[must_use]
    pub fn max_frame_size(mut self, bytes: u64) -> Self {
        self.config = self.config.max_frame_payload(bytes);
        self
    }

    /// The core's configuration as the adapter runs it: whole messages.
    pub(crate) fn core(&self) -> Config {
        self.config.clone().deliver_fragments(false)
    }
}
