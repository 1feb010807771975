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

use futures_util::StreamExt;
use tokio::time::timeout;
use wsproto_tokio::handshake::WsUrl;
use wsproto_tokio::http3::quinn::rustls::pki_types::pem::PemObject;
use wsproto_tokio::http3::quinn::rustls::pki_types::CertificateDer;
use wsproto_tokio::http3::quinn::rustls::RootCertStore;
use wsproto_tokio::http3::{self, quinn, Http3Client, Http3WebSocket};
use wsproto_tokio::{CloseCode, CloseFrame, Message};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The longest any one exchange may take.
const LIMIT: Duration = Duration::from_secs(60);

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let started = Instant::now();
    let args = Args::parse()?;
    let url = WsUrl::parse(&args.url)?;
    if !url.is_secure() {
        return Err("HTTP/3 is always TLS: a wss:// URL".into());
    }
    let server: SocketAddr = (url.host(), url.port())
        .to_socket_addrs()?
        .next()
        .ok_or("the host has no address")?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&args.ca)? {
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
    let mut sockets = Vec::new();
    for i in 0..args.sockets {
        let (ws, _) = timeout(LIMIT, client.connect(args.url.as_str())).await??;
        sockets.push(tokio::spawn(exercise(ws, i)));
    }
    for socket in sockets {
        socket.await??;
    }
    println!(
        "{} WebSockets over one HTTP/3 connection to {}: all echoed, all closed ({:?})",
        args.sockets,
        args.url,
        started.elapsed()
    );
    drop(client);
    // Let the QUIC close reach the server before the process ends.
    endpoint.close(0u32.into(), b"done");
    let _ = timeout(Duration::from_secs(1), endpoint.wait_idle()).await;
    Ok(())
}

/// The exchanges of one WebSocket, then its close.
async fn exercise(mut ws: Http3WebSocket, i: u16) -> Result<(), BoxError> {
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

async fn next(ws: &mut Http3WebSocket) -> Result<Message, BoxError> {
    Ok(timeout(LIMIT, ws.next())
        .await?
        .ok_or("the WebSocket ended")??)
}

/// `len` bytes that differ from one socket to the next.
fn pattern(len: usize, i: u16) -> Vec<u8> {
    (0..len).map(|n| (n as u16 ^ i) as u8).collect()
}

struct Args {
    url: String,
    ca: String,
    sockets: u16,
}

impl Args {
    fn parse() -> Result<Args, String> {
        const USAGE: &str = "usage: h3_client URL --ca FILE [--sockets N]";
        let mut args = std::env::args().skip(1);
        let url = args.next().ok_or(USAGE)?;
        let (mut ca, mut sockets) = (None, 20);
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
        let ca = ca.ok_or(format!("--ca is needed\n{USAGE}"))?;
        Ok(Args { url, ca, sockets })
    }
}
