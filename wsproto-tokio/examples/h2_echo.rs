//! An echo server for WebSockets over HTTP/1.1 and HTTP/2 on one port:
//!
//! ```text
//! h2_echo ADDR [--cert FILE --key FILE]
//! ```
//!
//! Without a certificate, cleartext: HTTP/1.1 `GET` + `Upgrade` and
//! HTTP/2 with prior knowledge (h2c), told apart by the client's first
//! bytes. With `--cert` and `--key` (PEM), TLS offering `h2` and
//! `http/1.1` by ALPN. Over HTTP/2 it sends SETTINGS_ENABLE_CONNECT_PROTOCOL
//! = 1 and takes WebSockets as extended CONNECT streams (RFC 8441), as
//! many at once on one connection as the client opens. Every text and
//! binary message is sent back; a request that is not a valid WebSocket
//! request (a `Sec-WebSocket-Version` other than 13...) is refused with a
//! 4xx. Each WebSocket is logged on stdout, with the HTTP version that
//! carried it (`websocket HTTP/2.0 CONNECT /path`), so that a test can see
//! how a client came.
//!
//! ```text
//! cargo run -p wsproto-tokio --example h2_echo --features hyper,http2,rustls -- 127.0.0.1:9002
//! ```

use std::net::SocketAddr;
use std::sync::Arc;

use futures_util::StreamExt;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;
use wsproto_tokio::upgrade::{self, UpgradeFut};
use wsproto_tokio::{Error, WebSocketConfig};

type Body = Full<Bytes>;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse()?;
    let tls = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => Some(tls_acceptor(cert, key)?),
        _ => None,
    };
    let listener = TcpListener::bind(args.addr).await?;
    println!(
        "listening on {} ({})",
        listener.local_addr()?,
        if tls.is_some() {
            "TLS, ALPN h2 and http/1.1"
        } else {
            "cleartext HTTP/1.1 and HTTP/2 with prior knowledge"
        }
    );
    loop {
        let (tcp, _) = listener.accept().await?;
        let _ = tcp.set_nodelay(true);
        let tls = tls.clone();
        tokio::spawn(async move {
            let served = match tls {
                Some(tls) => match tls.accept(tcp).await {
                    Ok(stream) => serve(stream).await,
                    Err(e) => Err(e.into()),
                },
                None => serve(tcp).await,
            };
            if let Err(e) = served {
                eprintln!("connection: {e}");
            }
        });
    }
}

/// One connection, HTTP/1.1 or HTTP/2 as its first bytes say (over TLS,
/// they follow the ALPN choice).
async fn serve<S>(io: S) -> Result<(), Box<dyn std::error::Error + Send + Sync>>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // RFC 8441 §3: the setting that lets a client send extended CONNECT.
    builder.http2().enable_connect_protocol();
    builder
        .serve_connection_with_upgrades(TokioIo::new(io), service_fn(handle))
        .await
}

/// A WebSocket request is accepted (101 or 200) and echoed on a task of
/// its own; anything else is refused in the request's HTTP version.
async fn handle(mut request: http::Request<Incoming>) -> Result<http::Response<Body>, Error> {
    let version = request.version();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    // 16 MiB messages and more: the default limit is 64 MiB.
    match upgrade::upgrade_with(&mut request, WebSocketConfig::default(), |_, accept| {
        Ok(accept)
    }) {
        Ok((response, ws)) => {
            println!("websocket {version:?} {method} {path}");
            tokio::spawn(echo(ws));
            Ok(response.map(|_| Body::default()))
        }
        Err(Error::Handshake(e)) => {
            println!("refused {version:?} {method} {path}: {e}");
            Ok(upgrade::error_response(&e, version).map(Body::from))
        }
        Err(e) => Err(e),
    }
}

async fn echo(ws: UpgradeFut) {
    let mut ws = match ws.await {
        Ok(ws) => ws,
        Err(e) => return eprintln!("upgrade: {e}"),
    };
    while let Some(message) = ws.next().await {
        let message = match message {
            Ok(message) => message,
            Err(e) => return eprintln!("websocket: {e}"),
        };
        if (message.is_text() || message.is_binary()) && ws.send(message).await.is_err() {
            return;
        }
    }
}

fn tls_acceptor(cert: &str, key: &str) -> Result<TlsAcceptor, Box<dyn std::error::Error>> {
    let certs = CertificateDer::pem_file_iter(cert)?.collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(key)?;
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_no_client_auth()
    .with_single_cert(certs, key)?;
    // RFC 7301: the server picks from the client's list; h2 first.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

struct Args {
    addr: SocketAddr,
    cert: Option<String>,
    key: Option<String>,
}

impl Args {
    fn parse() -> Result<Args, String> {
        const USAGE: &str = "usage: h2_echo ADDR [--cert FILE --key FILE]";
        let mut args = std::env::args().skip(1);
        let addr = args
            .next()
            .ok_or(USAGE)?
            .parse()
            .map_err(|e| format!("ADDR: {e}\n{USAGE}"))?;
        let (mut cert, mut key) = (None, None);
        while let Some(arg) = args.next() {
            let slot = match arg.as_str() {
                "--cert" => &mut cert,
                "--key" => &mut key,
                _ => return Err(format!("unknown argument {arg}\n{USAGE}")),
            };
            *slot = Some(args.next().ok_or(USAGE)?);
        }
        if cert.is_some() != key.is_some() {
            return Err(format!("--cert and --key go together\n{USAGE}"));
        }
        Ok(Args { addr, cert, key })
    }
}
