//! An echo server for WebSockets over HTTP/3 (RFC 9220):
//!
//! ```text
//! h3_echo ADDR --cert FILE --key FILE
//! ```
//!
//! QUIC on the UDP port ADDR, TLS 1.3 with the PEM certificate chain and
//! key (an EC P-256 key in PKCS#8, as `openssl req -newkey ec` writes it,
//! loads), ALPN `h3`. It sends SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 and
//! takes WebSockets as extended CONNECT request streams, up to 100 at once
//! on one connection. Every text and binary message is sent back; a
//! request that is not a valid WebSocket request (a
//! `Sec-WebSocket-Version` other than 13...) is refused with a 4xx. Each
//! WebSocket is logged on stdout (`websocket HTTP/3.0 CONNECT /path`),
//! so that a test can see how a client came.
//!
//! ```text
//! cargo run -p wsproto-tokio --example h3_echo --features http3 -- \
//!     127.0.0.1:9003 --cert cert.pem --key key.pem
//! ```

mod server;
#[path = "../support/server_args.rs"]
mod server_args;

use wsproto_tokio::http3::quinn;

use server::{server_config, BoxError, Server};
use server_args::Args;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    const USAGE: &str = "usage: h3_echo ADDR --cert FILE --key FILE";
    let args = Args::parse(USAGE)?;
    let (cert, key) = args.tls.ok_or(format!(
        "--cert and --key are needed (QUIC is always TLS)\n{USAGE}"
    ))?;
    let config = server_config(&std::fs::read(cert)?, &std::fs::read(key)?)?;
    let endpoint = quinn::Endpoint::server(config, args.addr)?;
    let (events, mut log) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(event) = log.recv().await {
            println!("{event}");
        }
    });
    println!("listening on {} (QUIC, HTTP/3)", endpoint.local_addr()?);
    Server {
        connect_protocol: true,
        events,
    }
    .run(endpoint)
    .await;
    Ok(())
}
