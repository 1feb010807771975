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
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use wsproto_tokio::handshake::WsUrl;
use wsproto_tokio::http2::{Http2Client, Http2WebSocket};
use wsproto_tokio::{CloseCode, CloseFrame, Message};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The longest any one exchange may take.
const LIMIT: Duration = Duration::from_secs(60);

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let started = Instant::now();
    let args = Args::parse()?;
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
    let mut sockets = Vec::new();
    for i in 0..args.sockets {
        let (ws, _) = timeout(LIMIT, client.connect(args.url.as_str())).await??;
        sockets.push(tokio::spawn(exercise(ws, i)));
    }
    for socket in sockets {
        socket.await??;
    }
    println!(
        "{} WebSockets over one HTTP/2 connection to {}: all echoed, all closed ({:?})",
        args.sockets,
        args.url,
        started.elapsed()
    );
    Ok(())
}

/// The exchanges of one WebSocket, then its close.
async fn exercise(mut ws: Http2WebSocket, i: u16) -> Result<(), BoxError> {
    let mut messages = vec![
        Message::text(format!("hello from {i}")),
        Message::binary(pattern(64 << 10, i)),
    ];
    if i == 0 {
        messages.push(Message::binary(pattern(16 << 20, i)));
    }
    for message in messages {
        ws.send(message.clone()).await?;
        let echo = next(&mut ws).await?;
        if echo != message {
            return Err(format!(
                "socket {i}: the echo differs ({} bytes sent)",
                message.len()
            )
            .into());
        }
    }
    ws.send(Message::Ping(vec![i as u8; 4].into())).await?;
    match next(&mut ws).await? {
        Message::Pong(data) if data[..] == [i as u8; 4] => {}
        other => return Err(format!("socket {i}: {other:?} instead of the pong").into()),
    }
    let code = CloseCode::from(4000 + i);
    ws.close(Some(CloseFrame {
        code,
        reason: "done".into(),
    }))
    .await?;
    while timeout(LIMIT, ws.next()).await?.transpose()?.is_some() {}
    match ws.close_status() {
        Some(frame) if frame.code == code => Ok(()),
        other => Err(format!("socket {i}: closed with {other:?}, not {code:?}").into()),
    }
}

async fn next(ws: &mut Http2WebSocket) -> Result<Message, BoxError> {
    Ok(timeout(LIMIT, ws.next())
        .await?
        .ok_or("the WebSocket ended")??)
}

/// `len` bytes that differ from one socket to the next.
fn pattern(len: usize, i: u16) -> Vec<u8> {
    (0..len).map(|n| (n as u16 ^ i) as u8).collect()
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

struct Args {
    url: String,
    ca: Option<String>,
    sockets: u16,
}

impl Args {
    fn parse() -> Result<Args, String> {
        const USAGE: &str = "usage: h2_client URL [--ca FILE] [--sockets N]";
        let mut args = std::env::args().skip(1);
        let url = args.next().ok_or(USAGE)?;
        let (mut ca, mut sockets) = (None, 10);
        while let Some(arg) = args.next() {
            let value = args.next().ok_or(USAGE)?;
            match arg.as_str() {
                "--ca" => ca = Some(value),
                "--sockets" => {
                    sockets = value
                        .parse()
                        .ok()
                        .filter(|&n| (1..=1000).contains(&n))
                        .ok_or("--sockets: 1 to 1000")?
                }
                _ => return Err(format!("unknown argument {arg}\n{USAGE}")),
            }
        }
        Ok(Args { url, ca, sockets })
    }
}
