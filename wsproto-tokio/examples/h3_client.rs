//! WebSockets over one HTTP/3 connection (RFC 9220), checked against an
//! echo server such as `h3_echo`:
//!
//! ```text
//! h3_client URL --ca FILE [--sockets N]
//! ```
//!
//! `wss://HOST:PORT/path`: QUIC to HOST:PORT (UDP), TLS 1.3 asking for
//! `h3` by ALPN and trusting the PEM certificates of `--ca`. It opens N
//! WebSockets (default 20) at once as request streams of the one QUIC
//! connection; on each it sends a text, a 64 KiB binary and a ping, and
//! the first also a 16 MiB binary; it checks every echo and the pong,
//! then closes with code 4000 + its number and checks that the server's
//! close frame echoes it. Exits non-zero on any difference; a server that
//! did not enable extended CONNECT is refused.
//!
//! ```text
//! cargo run -p wsproto-tokio --example h3_client --features http3 -- \
//!     wss://127.0.0.1:9003/ --ca cert.pem
//! ```

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

use tokio::time::timeout;
use wsproto_tokio::handshake::WsUrl;
use wsproto_tokio::http3::quinn::rustls::pki_types::pem::PemObject;
use wsproto_tokio::http3::quinn::rustls::pki_types::CertificateDer;
use wsproto_tokio::http3::quinn::rustls::RootCertStore;
use wsproto_tokio::http3::{self, quinn, Http3Client};

#[path = "support/exercise.rs"]
mod exercise;

use exercise::{exercise_all, Args, BoxError, LIMIT};

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let started = Instant::now();
    const USAGE: &str = "usage: h3_client URL --ca FILE [--sockets N]";
    let args = Args::parse(USAGE, 20)?;
    let ca = args
        .ca
        .as_deref()
        .ok_or(format!("--ca is needed\n{USAGE}"))?;
    let url = WsUrl::parse(&args.url)?;
    if !url.is_secure() {
        return Err("HTTP/3 is always TLS: a wss:// URL".into());
    }
    let server: SocketAddr = (url.host(), url.port())
        .to_socket_addrs()?
        .next()
        .ok_or("the host has no address")?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca)? {
        roots.add(cert?)?;
    }
    // A UDP socket of the server's family; on loopback for a server there.
    let local: SocketAddr = match (server.is_ipv4(), server.ip().is_loopback()) {
        (true, true) => "127.0.0.1:0".parse()?,
        (true, false) => "0.0.0.0:0".parse()?,
        (false, true) => "[::1]:0".parse()?,
        (false, false) => "[::]:0".parse()?,
    };
    let mut endpoint = quinn::Endpoint::client(local)?;
    endpoint.set_default_client_config(http3::client_config(roots));
    let quic = timeout(LIMIT, endpoint.connect(server, url.host())?).await??;
    let client = timeout(LIMIT, Http3Client::handshake(quic)).await??;
    let over = "one HTTP/3 connection";
    exercise_all(&args, over, started, || client.connect(args.url.as_str())).await?;
    drop(client);
    // Let the QUIC close reach the server before the process ends.
    endpoint.close(0u32.into(), b"done");
    let _ = timeout(Duration::from_secs(1), endpoint.wait_idle()).await;
    Ok(())
}
