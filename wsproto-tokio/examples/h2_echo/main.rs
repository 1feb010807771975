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
#[path = "../support/server_args.rs"]
mod server_args;

use tokio::net::TcpListener;

use server::{tls_acceptor, Server};
use server_args::Args;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse("usage: h2_echo ADDR [--cert FILE --key FILE]")?;
    let tls = match &args.tls {
        Some((cert, key)) => Some(tls_acceptor(&std::fs::read(cert)?, &std::fs::read(key)?)?),
        None => None,
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
