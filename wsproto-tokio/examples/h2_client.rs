//! WebSockets over one HTTP/2 connection (RFC 8441), checked against an
//! echo server such as `h2_echo`:
//!
//! ```text
//! h2_client URL [--ca FILE] [--sockets N]
//! ```
//!
//! `ws://` is cleartext HTTP/2 with prior knowledge; `wss://` is TLS
//! asking for `h2` by ALPN, trusting the PEM certificates of `--ca` (else
//! the Mozilla roots). It opens N WebSockets (default 10) at once as
//! streams of the one connection; on each it sends a text, a 64 KiB
//! binary and a ping, and the first also a 16 MiB binary; it checks every
//! echo and the pong, then closes with code 4000 + its number and checks
//! that the server's close frame echoes it. Exits non-zero on any
//! difference; a server that did not enable extended CONNECT is refused.
//!
//! ```text
//! cargo run -p wsproto-tokio --example h2_client --features http2,rustls -- ws://127.0.0.1:9002/
//! ```

use std::sync::Arc;
use std::time::Instant;

use tokio::net::TcpStream;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use wsproto_tokio::handshake::WsUrl;
use wsproto_tokio::http2::Http2Client;

#[path = "support/exercise.rs"]
mod exercise;

use exercise::{exercise_all, Args, BoxError};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let started = Instant::now();
    let args = Args::parse("usage: h2_client URL [--ca FILE] [--sockets N]", 10)?;
    let url = WsUrl::parse(&args.url)?;
    let tcp = TcpStream::connect((url.host(), url.port())).await?;
    tcp.set_nodelay(true)?;
    let client = if url.is_secure() {
        let tls = tls_connector(args.ca.as_deref())?;
        let name = ServerName::try_from(url.host().to_owned())?;
        let stream = tls.connect(name, tcp).await?;
        let alpn = stream.get_ref().1.alpn_protocol().map(<[u8]>::to_vec);
        if alpn.as_deref() != Some(b"h2") {
            return Err(format!("the server chose {alpn:?} by ALPN, not h2").into());
        }
        Http2Client::handshake(stream).await?
    } else {
        Http2Client::handshake(tcp).await?
    };
    let over = "one HTTP/2 connection";
    exercise_all(&args, over, started, || client.connect(args.url.as_str())).await?;
    Ok(())
}

/// TLS asking for h2 by ALPN (RFC 7301; RFC 9113 §3.2: "h2" is HTTP/2
/// over TLS).
fn tls_connector(ca: Option<&str>) -> Result<tokio_rustls::TlsConnector, BoxError> {
    let mut roots = rustls::RootCertStore::empty();
    match ca {
        Some(path) => {
            for cert in CertificateDer::pem_file_iter(path)? {
                roots.add(cert?)?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()?
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}
