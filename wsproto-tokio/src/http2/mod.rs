//! WebSocket clients over HTTP/2 (feature `http2`): RFC 8441's extended
//! CONNECT, many WebSockets as streams of one HTTP/2 connection.
//!
//! [`Http2Client::handshake`] starts HTTP/2 on a connection the caller
//! opened (TCP for cleartext HTTP/2 with prior knowledge, or TLS that
//! negotiated `h2` by ALPN) and waits for the server's SETTINGS;
//! [`Http2Client::connect`] then opens a WebSocket on a new stream, as
//! often as needed, from any task (the client is a cheap `Clone`).
//!
//! ```no_run
//! use futures_util::{SinkExt, StreamExt};
//! use wsproto_tokio::http2::Http2Client;
//!
//! # async fn run() -> Result<(), wsproto_tokio::Error> {
//! let tcp = tokio::net::TcpStream::connect("127.0.0.1:9002").await?;
//! let client = Http2Client::handshake(tcp).await?;
//! let (mut a, _) = client.connect("ws://127.0.0.1:9002/a").await?;
//! let (mut b, _) = client.connect("ws://127.0.0.1:9002/b").await?; // same TCP connection
//! a.send("hello".into()).await?;
//! b.send("world".into()).await?;
//! println!("{:?} {:?}", a.next().await, b.next().await);
//! # Ok(())
//! # }
//! ```
//!
//! # The server's consent
//!
//! RFC 8441 §4: "A client MUST NOT send a CONNECT request with the
//! :protocol pseudo-header unless the server has sent this setting"
//! (`SETTINGS_ENABLE_CONNECT_PROTOCOL` = 1). The server's SETTINGS are the
//! first frame it sends (RFC 9113 §3.4), so the handshake pings the
//! server once: when the PING's ACK arrives, the SETTINGS before it have
//! been applied. A server that did not send the setting is refused with
//! [`Error::ExtendedConnectDisabled`], before any request goes out.
//!
//! # The stream is the connection
//!
//! Each WebSocket runs over an [`Http2Stream`]: the stream's DATA frames
//! carry the WebSocket frames, masked by the client as over TCP (RFC 8441
//! §5 changes nothing of RFC 6455's framing), under HTTP/2 flow control;
//! END_STREAM, sent after the close frames, stands for TCP's orderly
//! close, and RST_STREAM with CANCEL for an abort (see [`Http2Stream`]).

mod stream;

use bytes::Bytes;
use h2::client::SendRequest;
use tokio::io::{AsyncRead, AsyncWrite};
use wsproto::handshake::extended_connect::PROTOCOL;
use wsproto::handshake::Response;

use crate::client::IntoClientRequest;
use crate::config::WebSocketConfig;
use crate::error::Error;
use crate::extended_connect::Opening;
use crate::stream::WebSocketStream;

pub use stream::Http2Stream;

/// A WebSocket over an HTTP/2 stream.
pub type Http2WebSocket = WebSocketStream<Http2Stream>;

/// The receive windows this client advertises: a stream's (2 MiB) and the
/// connection's (5 MiB), as hyper's HTTP/2 client has them. h2's defaults
/// (the protocol's 64 KiB) would make a large message wait for a round
/// trip every 64 KiB.
const STREAM_WINDOW: u32 = 2 << 20;
const CONNECTION_WINDOW: u32 = 5 << 20;

/// A client's HTTP/2 connection, on which WebSockets open as streams
/// (RFC 8441). Cloning it is cheap; the connection lives until the last
/// clone and the last of its WebSockets are dropped.
#[derive(Clone, Debug)]
pub struct Http2Client {
    send_request: SendRequest<Bytes>,
}

impl Http2Client {
    /// Starts HTTP/2 as a client on `io` (the connection preface and
    /// SETTINGS of RFC 9113 §3.4), drives the connection on a task of its
    /// own, and waits for the server's SETTINGS (see the [module
    /// docs](self)). Whether they enabled extended CONNECT is
    /// [`Http2Client::is_extended_connect_enabled`].
    ///
    /// A server that never answers keeps this waiting: put a timeout
    /// around it, as around any connect.
    pub async fn handshake<T>(io: T) -> Result<Http2Client, Error>
    where
        T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (send_request, mut connection) = h2::client::Builder::new()
            .initial_window_size(STREAM_WINDOW)
            .initial_connection_window_size(CONNECTION_WINDOW)
            .handshake::<_, Bytes>(io)
            .await?;
        // Taken once, here: a new connection always has it.
        let ping_pong = connection.ping_pong();
        tokio::spawn(async move {
            // The connection's end (the peer's GOAWAY, a broken TCP
            // connection) reaches every stream as an error of its own.
            let _ = connection.await;
        });
        // RFC 9113 §3.4: "The server connection preface consists of a
        // potentially empty SETTINGS frame [...] that MUST be the first
        // frame the server sends in the HTTP/2 connection." So once the
        // PING's ACK is in, so are the SETTINGS that preceded it.
        if let Some(mut ping_pong) = ping_pong {
            ping_pong.ping(h2::Ping::opaque()).await?;
        }
        Ok(Http2Client { send_request })
    }

    /// Whether the server sent `SETTINGS_ENABLE_CONNECT_PROTOCOL` = 1
    /// (RFC 8441 §3): without it, [`Http2Client::connect`] refuses.
    pub fn is_extended_connect_enabled(&self) -> bool {
        self.send_request.is_extended_connect_protocol_enabled()
    }

    /// Opens a WebSocket on a new stream with the default configuration:
    /// the extended CONNECT of RFC 8441 §5 for `request`'s URL (`ws://` is
    /// sent as `:scheme` `http`, `wss://` as `https`; the URL names the
    /// resource, the connection is this one), and the server's `200`.
    pub async fn connect(
        &self,
        request: impl IntoClientRequest,
    ) -> Result<(Http2WebSocket, Response), Error> {
        self.connect_with(request, WebSocketConfig::default()).await
    }

    /// [`Http2Client::connect`] with a request (subprotocols, `Origin`,
    /// header fields) and a configuration.
    ///
    /// A server that did not enable extended CONNECT is
    /// [`Error::ExtendedConnectDisabled`]; a status other than 2xx (a
    /// `Sec-WebSocket-Version` it does not speak, a refused origin...) is
    /// the core's `HandshakeError::Rejected`, with the response.
    pub async fn connect_with(
        &self,
        request: impl IntoClientRequest,
        config: WebSocketConfig,
    ) -> Result<(Http2WebSocket, Response), Error> {
        if !self.is_extended_connect_enabled() {
            return Err(Error::ExtendedConnectDisabled);
        }
        let (opening, mut connect) = Opening::new(request, config)?;
        connect
            .extensions_mut()
            .insert(h2::ext::Protocol::from(PROTOCOL));
        // Streams are opened one after the other as the peer's
        // SETTINGS_MAX_CONCURRENT_STREAMS allows.
        let mut send_request = self.send_request.clone().ready().await?;
        let (response, send) = send_request.send_request(connect, false)?;
        let response = response.await?;
        let (head, recv) = response.into_parts();
        let head = http::Response::from_parts(head, ());
        // A refusal drops `send` without END_STREAM: the stream is
        // cancelled (RST_STREAM), which is what a failed CONNECT calls for.
        opening.finish(Http2Stream::new(send, recv), &head)
    }
}
