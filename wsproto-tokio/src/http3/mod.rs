//! WebSocket clients over HTTP/3 (feature `http3`): RFC 9220's extended
//! CONNECT, many WebSockets as request streams of one QUIC connection.
//!
//! [`Http3Client::handshake`] starts HTTP/3 on a QUIC connection the
//! caller opened with quinn (TLS 1.3 with ALPN [`ALPN`], `h3`), and waits
//! for the server's SETTINGS; [`Http3Client::connect`] then opens a
//! WebSocket on a new request stream, as often as needed, from any task
//! (the client is a cheap `Clone`). The HTTP/3 layer is `hpx-h3`,
//! re-exported here with quinn so that a server can be built on the same
//! versions (see the `h3_echo` example).
//!
//! ```no_run
//! use futures_util::{SinkExt, StreamExt};
//! use wsproto_tokio::http3::{self, quinn, Http3Client};
//!
//! # async fn run(roots: quinn::rustls::RootCertStore) -> Result<(), Box<dyn std::error::Error>> {
//! let mut endpoint = quinn::Endpoint::client("127.0.0.1:0".parse()?)?;
//! endpoint.set_default_client_config(http3::client_config(roots)); // TLS 1.3, ALPN "h3"
//! let quic = endpoint.connect("127.0.0.1:9003".parse()?, "localhost")?.await?;
//! let client = Http3Client::handshake(quic).await?;
//! let (mut a, _) = client.connect("wss://localhost:9003/a").await?;
//! let (mut b, _) = client.connect("wss://localhost:9003/b").await?; // same QUIC connection
//! a.send("hello".into()).await?;
//! b.send("world".into()).await?;
//! println!("{:?} {:?}", a.next().await, b.next().await);
//! # Ok(())
//! # }
//! ```
//!
//! # The server's consent
//!
//! RFC 9220 §3: "\[the\] SETTINGS_ENABLE_CONNECT_PROTOCOL SETTINGS
//! Parameter \[...\] is defined for HTTP/3 with the same default value
//! and meaning" as in HTTP/2, with the same identifier (0x08), so RFC 8441
//! §4 holds: "A client MUST NOT send a CONNECT request with the :protocol
//! pseudo-header unless the server has sent this setting". The handshake
//! waits for the server's SETTINGS, the first frame of its control stream
//! (RFC 9114 §6.2.1), and a server that did not enable the setting is
//! refused with [`Error::ExtendedConnectDisabled`] before any request goes
//! out. A server sends the setting with `hpx-h3`'s
//! `server::Builder::enable_extended_connect(true)`; it must also let the
//! client open as many bidirectional streams as it wants WebSockets at
//! once (quinn's `TransportConfig::max_concurrent_bidi_streams`).
//!
//! # The stream is the connection
//!
//! Each WebSocket runs over an [`Http3Stream`]: the request stream's DATA
//! frames carry the WebSocket frames, masked by the client as over TCP
//! (RFC 9220 changes nothing of RFC 6455's framing: "the client MUST
//! mask" still holds), under QUIC flow control. The FIN, sent after the
//! close frames, stands for TCP's orderly close, and a stream error
//! H3_REQUEST_CANCELLED for an abort (see [`Http3Stream`]). Unlike over
//! HTTP/1.1, no connection is closed when a WebSocket ends: the other
//! streams go on.

mod stream;

use std::borrow::Cow;
use std::future::poll_fn;

use bytes::Bytes;
use hpx_h3::client::SendRequest;
use hpx_h3::ConnectionState;
use tokio::sync::oneshot;
use wsproto::handshake::Response;

use crate::client::IntoClientRequest;
use crate::config::WebSocketConfig;
use crate::error::Error;
use crate::extended_connect::Opening;
use crate::stream::WebSocketStream;

pub use stream::Http3Stream;

/// The HTTP/3 layer this module runs on (a published fork of the `h3`
/// crate that knows `:protocol websocket`).
pub use hpx_h3;
/// The QUIC implementation the client and servers run on.
pub use quinn;

/// The ALPN protocol identifier of HTTP/3 (RFC 9114 §3.1), for the TLS
/// configuration of both ends.
pub const ALPN: &[u8] = b"h3";

/// A QUIC client configuration for HTTP/3: TLS 1.3 (QUIC's only version,
/// RFC 9001 §4.2) with rustls and ring, trusting `roots`, asking for
/// [`ALPN`] `h3`. For `quinn::Endpoint::set_default_client_config`.
pub fn client_config(roots: quinn::rustls::RootCertStore) -> quinn::ClientConfig {
    use quinn::crypto::rustls::QuicClientConfig;
    use quinn::rustls;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("ring supports TLS 1.3")
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let quic = QuicClientConfig::try_from(tls).expect("ring has TLS 1.3's QUIC initial suite");
    quinn::ClientConfig::new(std::sync::Arc::new(quic))
}

/// A WebSocket over an HTTP/3 request stream.
pub type Http3WebSocket = WebSocketStream<Http3Stream>;

type Sender = SendRequest<hpx_h3::quinn::OpenStreams, Bytes>;

/// A client's HTTP/3 connection, on which WebSockets open as request
/// streams (RFC 9220). Cloning it is cheap; the connection lives until
/// the last clone and the last of its WebSockets are dropped.
#[derive(Clone)]
pub struct Http3Client {
    send_request: Sender,
    extended_connect: bool,
}

impl std::fmt::Debug for Http3Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http3Client")
            .field("extended_connect", &self.extended_connect)
            .finish_non_exhaustive()
    }
}

impl Http3Client {
    /// Starts HTTP/3 as a client on `connection` (its control stream and
    /// SETTINGS, RFC 9114 §6.2.1), drives the connection on a task of its
    /// own, and waits for the server's SETTINGS (see the [module
    /// docs](self)). Whether they enabled extended CONNECT is
    /// [`Http3Client::is_extended_connect_enabled`]. A server that never
    /// sends them holds the handshake until the connection ends (QUIC's
    /// idle timeout): wrap it in a timeout of your own if that is too long.
    pub async fn handshake(connection: quinn::Connection) -> Result<Http3Client, Error> {
        let (mut driver, send_request) = hpx_h3::client::builder()
            .build::<_, _, Bytes>(hpx_h3::quinn::Connection::new(connection))
            .await?;
        let (settings_tx, settings_rx) = oneshot::channel();
        tokio::spawn(async move {
            let mut settings_tx = Some(settings_tx);
            poll_fn(|cx| {
                let closed = driver.poll_close(cx);
                // hpx-h3 tells of the peer's SETTINGS by lending them once
                // they arrived; before, it makes up the defaults.
                if matches!(driver.settings(), Cow::Borrowed(_)) {
                    if let Some(tx) = settings_tx.take() {
                        let _ = tx.send(Ok(()));
                    }
                }
                // The connection's end (the peer's GOAWAY, an idle
                // timeout) reaches every stream as an error of its own;
                // before the SETTINGS, it is the handshake's.
                closed.map(|error| {
                    if let Some(tx) = settings_tx.take() {
                        let _ = tx.send(Err(error));
                    }
                })
            })
            .await;
        });
        match settings_rx.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => return Err(error.into()),
            Err(_) => {
                return Err(std::io::Error::from(std::io::ErrorKind::ConnectionAborted).into())
            }
        }
        let extended_connect = send_request.settings().enable_extended_connect();
        Ok(Http3Client {
            send_request,
            extended_connect,
        })
    }

    /// Whether the server sent `SETTINGS_ENABLE_CONNECT_PROTOCOL` = 1
    /// (RFC 9220 §3): without it, [`Http3Client::connect`] refuses.
    pub fn is_extended_connect_enabled(&self) -> bool {
        self.extended_connect
    }

    /// Opens a WebSocket on a new request stream with the default
    /// configuration: the extended CONNECT of RFC 9220 §3 for `request`'s
    /// URL (`wss://`, sent as `:scheme` `https`; the URL names the
    /// resource, the connection is this one), and the server's `200`.
    pub async fn connect(
        &self,
        request: impl IntoClientRequest,
    ) -> Result<(Http3WebSocket, Response), Error> {
        self.connect_with(request, WebSocketConfig::default()).await
    }

    /// [`Http3Client::connect`] with a request (subprotocols, `Origin`,
    /// header fields) and a configuration.
    ///
    /// A server that did not enable extended CONNECT is
    /// [`Error::ExtendedConnectDisabled`]; a status other than 2xx (a
    /// `Sec-WebSocket-Version` it does not speak, a refused origin...) is
    /// the core's `HandshakeError::Rejected`, with the response. A
    /// connection carries at most as many request streams as the server
    /// allows (QUIC's MAX_STREAMS, RFC 9000 §4.6); past that, this waits
    /// for the server to allow more as streams end (a quinn server grants
    /// them in batches, once an eighth of its limit has been freed).
    pub async fn connect_with(
        &self,
        request: impl IntoClientRequest,
        config: WebSocketConfig,
    ) -> Result<(Http3WebSocket, Response), Error> {
        if !self.extended_connect {
            return Err(Error::ExtendedConnectDisabled);
        }
        let (opening, mut connect) = Opening::new(request, config)?;
        connect
            .extensions_mut()
            .insert(hpx_h3::ext::Protocol::WEBSOCKET);
        let mut send_request = self.send_request.clone();
        let (send, mut recv) = send_request.send_request(connect).await?.split();
        let head = recv.recv_response().await;
        // A refusal drops the stream before its FIN: it is cancelled
        // (H3_REQUEST_CANCELLED), which is what a failed CONNECT calls for.
        let stream = Http3Stream::new(send, recv, Some(Box::new(send_request)));
        opening.finish(stream, &head?)
    }
}
