//! The server of `h3_echo`: QUIC connections served as HTTP/3, WebSockets
//! accepted as extended CONNECT request streams (RFC 9220) and echoed,
//! and what happened reported as [`Event`]s. The example prints them; the
//! tests (`tests/http3.rs`) assert on them.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::mpsc::UnboundedSender;
use wsproto_tokio::handshake::extended_connect::{error_response, ConnectRequest};
use wsproto_tokio::handshake::Accept;
use wsproto_tokio::http3::hpx_h3::ext::Protocol;
use wsproto_tokio::http3::hpx_h3::server::RequestStream;
use wsproto_tokio::http3::quinn::crypto::rustls::QuicServerConfig;
use wsproto_tokio::http3::quinn::rustls;
use wsproto_tokio::http3::quinn::rustls::pki_types::pem::PemObject;
use wsproto_tokio::http3::quinn::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use wsproto_tokio::http3::{hpx_h3, quinn, Http3Stream, ALPN};
use wsproto_tokio::{CloseCause, CloseFrame, WebSocketConfig, WebSocketStream};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The request streams a client may have open at once: as many
/// WebSockets on one QUIC connection (RFC 9000 §4.6, MAX_STREAMS).
pub const MAX_STREAMS: u32 = 100;

type Stream = RequestStream<hpx_h3::quinn::BidiStream<Bytes>, Bytes>;

/// What the server saw, one WebSocket at a time.
#[derive(Debug)]
pub enum Event {
    /// A QUIC connection was established.
    Connected { remote: SocketAddr },
    /// A WebSocket was accepted (an extended CONNECT answered `200`).
    Opened { path: String },
    /// A request that was not a valid WebSocket request, answered
    /// `status`.
    Refused {
        path: String,
        status: http::StatusCode,
    },
    /// A WebSocket ended: how, and the close frame received, if any.
    Closed {
        path: String,
        cause: Option<CloseCause>,
        status: Option<CloseFrame>,
    },
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Event::Connected { remote } => write!(f, "connection from {remote}"),
            Event::Opened { path } => write!(f, "websocket HTTP/3.0 CONNECT {path}"),
            Event::Refused { path, status } => write!(f, "refused HTTP/3.0 {path}: {status}"),
            Event::Closed {
                path,
                cause,
                status,
            } => write!(f, "closed {path}: {cause:?} {status:?}"),
        }
    }
}

/// How connections are served.
#[derive(Clone, Debug)]
pub struct Server {
    /// Whether connections send SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC
    /// 9220 §3). Always, but for the test of a client facing a server
    /// without it.
    pub connect_protocol: bool,
    /// Where the events go.
    pub events: UnboundedSender<Event>,
}

impl Server {
    /// Accepts QUIC connections on `endpoint` until it is closed, each
    /// served on a task of its own.
    pub async fn run(self, endpoint: quinn::Endpoint) {
        while let Some(incoming) = endpoint.accept().await {
            let server = self.clone();
            tokio::spawn(async move {
                if let Err(e) = server.serve(incoming).await {
                    eprintln!("connection: {e}");
                }
            });
        }
    }

    /// One QUIC connection as HTTP/3: every request stream is handled on a
    /// task of its own, so WebSockets on one connection run side by side.
    async fn serve(&self, incoming: quinn::Incoming) -> Result<(), BoxError> {
        let quic = incoming.await?;
        let _ = self.events.send(Event::Connected {
            remote: quic.remote_address(),
        });
        let mut h3 = hpx_h3::server::builder()
            // RFC 9220 §3: the setting that lets a client send extended
            // CONNECT.
            .enable_extended_connect(self.connect_protocol)
            .build::<_, Bytes>(hpx_h3::quinn::Connection::new(quic))
            .await?;
        loop {
            match h3.accept().await {
                Ok(Some(resolver)) => {
                    let server = self.clone();
                    tokio::spawn(async move {
                        if let Ok((request, stream)) = resolver.resolve_request().await {
                            server.handle(request, stream).await;
                        }
                    });
                }
                // The client closed the connection (H3_NO_ERROR, or QUIC's
                // own close): the end of its WebSockets.
                Ok(None) => return Ok(()),
                Err(e) if e.is_h3_no_error() => return Ok(()),
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// An extended CONNECT for `websocket` is accepted (`200`) and echoed;
    /// anything else is refused with the status the core's check gives.
    async fn handle(&self, request: http::Request<()>, mut stream: Stream) {
        let path = request.uri().path().to_owned();
        let protocol = request.extensions().get::<Protocol>().map(Protocol::as_str);
        let offer = match ConnectRequest::from_http(&request, protocol) {
            Ok(offer) => offer,
            Err(e) => {
                let (head, body) = error_response(&e).into_parts();
                let _ = self.events.send(Event::Refused {
                    path,
                    status: head.status,
                });
                let _ = stream
                    .send_response(http::Response::from_parts(head, ()))
                    .await;
                let _ = stream.send_data(Bytes::from(body)).await;
                let _ = stream.finish().await;
                return;
            }
        };
        let Ok(accepted) = offer.accept(Accept::new()) else {
            return;
        };
        if stream.send_response(accepted.response).await.is_err() {
            return;
        }
        let _ = self.events.send(Event::Opened { path: path.clone() });
        // The default message limit (64 MiB) lets large messages through.
        let ws = WebSocketStream::from_connection(
            Http3Stream::from_server(stream),
            accepted.connection,
            &WebSocketConfig::default(),
        );
        echo(ws, path, self.events.clone()).await;
    }
}

/// Sends back every text and binary message until the WebSocket ends.
async fn echo(mut ws: WebSocketStream<Http3Stream>, path: String, events: UnboundedSender<Event>) {
    while let Some(message) = ws.next().await {
        let Ok(message) = message else { break };
        if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err() {
            break;
        }
    }
    // Drain what is left of the closing handshake.
    while ws.next().await.is_some() {}
    let _ = events.send(Event::Closed {
        path,
        cause: ws.close_cause().cloned(),
        status: ws.close_status().cloned(),
    });
}

/// The QUIC server configuration: TLS 1.3 (QUIC's only version, RFC 9001
/// §4.2) with a certificate chain and key in PEM (PKCS#8, SEC1 or PKCS#1:
/// an EC P-256 key as `openssl req -newkey ec` writes it, or RSA), ALPN
/// `h3`, and up to [`MAX_STREAMS`] request streams open at once per
/// connection.
pub fn server_config(cert_pem: &[u8], key_pem: &[u8]) -> Result<quinn::ServerConfig, BoxError> {
    let certs = CertificateDer::pem_slice_iter(cert_pem).collect::<Result<Vec<_>, _>>()?;
    if certs.is_empty() {
        return Err("no certificate in the PEM file".into());
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem)?;
    let mut tls = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    tls.alpn_protocols = vec![ALPN.to_vec()];
    let mut config = quinn::ServerConfig::with_crypto(Arc::new(QuicServerConfig::try_from(tls)?));
    let mut transport = quinn::TransportConfig::default();
    transport.max_concurrent_bidi_streams(MAX_STREAMS.into());
    config.transport_config(Arc::new(transport));
    Ok(config)
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}
