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
//! 4xx. Each WebSocket is logged on stdout with the HTTP version that
//! carried it (`websocket HTTP/2.0 CONNECT /path`), so that a test can see
//! how a client came.
//!
//! ```text
//! cargo run -p wsproto-tokio --example h2_echo --features hyper,http2,rustls -- 127.0.0.1:9002
//! ```

mod server;

use std::net::SocketAddr;

use tokio::net::TcpListener;

use server::{tls_acceptor, Server};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse()?;
    let tls = match (&args.cert, &args.key) {
        (Some(cert), Some(key)) => Some(tls_acceptor(&std::fs::read(cert)?, &std::fs::read(key)?)?),
        _ => None,
    };
    let (events, mut log) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(event) = log.recv().await {
            println!("{event}");
        }
    });
    let server = Server {
        connect_protocol: true,
        events,
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
        let (tls, server) = (tls.clone(), server.clone());
        tokio::spawn(async move {
            let served = match tls {
                Some(tls) => match tls.accept(tcp).await {
                    Ok(stream) => server.serve(stream).await,
                    Err(e) => Err(e.into()),
                },
                None => server.serve(tcp).await,
            };
            if let Err(e) = served {
                eprintln!("connection: {e}");
            }
        });
    }
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
