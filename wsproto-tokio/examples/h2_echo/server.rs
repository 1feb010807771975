//! The server of `h2_echo`: one connection served as HTTP/1.1 or HTTP/2,
//! WebSockets accepted either way and echoed, and what happened reported
//! as [`Event`]s. The example prints them; the tests
//! (`tests/http2.rs`) assert on them.

use std::sync::Arc;

use futures_util::StreamExt;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc::UnboundedSender;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;
use wsproto_tokio::upgrade::{self, UpgradeFut};
use wsproto_tokio::{CloseCause, CloseFrame, Error, WebSocketConfig};

type Body = Full<Bytes>;

/// The page at `/`: a WebSocket to `/browser` on the page's own origin
/// (so a browser may run it over the HTTP/2 connection that brought the
/// page), one message echoed, the outcome in the title.
const PAGE: &str = r#"<!doctype html>
<title>h2_echo</title>
<pre id="log">connecting</pre>
<script>
const log = (line) => { document.getElementById("log").textContent = line; };
const scheme = location.protocol === "https:" ? "wss" : "ws";
const ws = new WebSocket(`${scheme}://${location.host}/browser`);
ws.onopen = () => ws.send("hello from the browser");
ws.onmessage = (e) => { log(`echo: ${e.data}`); document.title = "echoed"; ws.close(1000); };
ws.onerror = () => { log("error"); document.title = "error"; };
</script>
"#;

/// What the server saw, one WebSocket at a time.
#[derive(Debug)]
pub enum Event {
    /// The page at `/` was served.
    Page { version: http::Version },
    /// A WebSocket was accepted: an HTTP/1.1 `GET` or an HTTP/2 `CONNECT`.
    Opened {
        version: http::Version,
        method: http::Method,
        path: String,
    },
    /// A request that was not a valid WebSocket request, answered `status`.
    Refused {
        version: http::Version,
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
            Event::Page { version } => write!(f, "page {version:?}"),
            Event::Opened {
                version,
                method,
                path,
            } => write!(f, "websocket {version:?} {method} {path}"),
            Event::Refused {
                version,
                path,
                status,
            } => write!(f, "refused {version:?} {path}: {status}"),
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
    /// Whether HTTP/2 connections send SETTINGS_ENABLE_CONNECT_PROTOCOL =
    /// 1 (RFC 8441 §3). Always, but for the test of a client facing a
    /// server without it.
    pub connect_protocol: bool,
    /// Where the events go.
    pub events: UnboundedSender<Event>,
}

impl Server {
    /// One connection, HTTP/1.1 or HTTP/2 as its first bytes say (over
    /// TLS, they follow the ALPN choice).
    pub async fn serve<S>(&self, io: S) -> Result<(), Box<dyn std::error::Error + Send + Sync>>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let mut builder = auto::Builder::new(TokioExecutor::new());
        if self.connect_protocol {
            // RFC 8441 §3: the setting that lets a client send extended
            // CONNECT.
            builder.http2().enable_connect_protocol();
        }
        let server = self.clone();
        let service = service_fn(move |request| {
            let server = server.clone();
            async move { server.handle(request) }
        });
        builder
            .serve_connection_with_upgrades(TokioIo::new(io), service)
            .await
    }

    /// A WebSocket request is accepted (101, or 200 for a CONNECT) and
    /// echoed on a task of its own; anything else is refused in the
    /// request's HTTP version.
    fn handle(&self, mut request: http::Request<Incoming>) -> Result<http::Response<Body>, Error> {
        let version = request.version();
        let method = request.method().clone();
        let path = request.uri().path().to_owned();
        if method == http::Method::GET
            && path == "/"
            && !request.headers().contains_key(http::header::UPGRADE)
        {
            let _ = self.events.send(Event::Page { version });
            return Ok(http::Response::builder()
                .header(http::header::CONTENT_TYPE, "text/html; charset=utf-8")
                .body(Body::from(PAGE))
                .expect("a valid response"));
        }
        // The default message limit (64 MiB) lets 16 MiB messages through.
        match upgrade::upgrade_with(&mut request, WebSocketConfig::default(), |_, accept| {
            Ok(accept)
        }) {
            Ok((response, ws)) => {
                let _ = self.events.send(Event::Opened {
                    version,
                    method,
                    path: path.clone(),
                });
                tokio::spawn(echo(ws, path, self.events.clone()));
                Ok(response.map(|_| Body::default()))
            }
            Err(Error::Handshake(e)) => {
                let response = upgrade::error_response(&e, version).map(Body::from);
                let _ = self.events.send(Event::Refused {
                    version,
                    path,
                    status: response.status(),
                });
                Ok(response)
            }
            Err(e) => Err(e),
        }
    }
}

/// Sends back every text and binary message until the WebSocket ends.
async fn echo(ws: UpgradeFut, path: String, events: UnboundedSender<Event>) {
    let Ok(mut ws) = ws.await else { return };
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

/// TLS with a certificate chain and key in PEM, offering `h2` and
/// `http/1.1` by ALPN (RFC 7301: the server picks from the client's list;
/// h2 first).
pub fn tls_acceptor(
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<TlsAcceptor, Box<dyn std::error::Error>> {
    let certs = CertificateDer::pem_slice_iter(cert_pem).collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_slice(key_pem)?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
