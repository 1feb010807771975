//! An axum router that echoes every message, on any path, over HTTP/1.1
//! upgrades and HTTP/2 extended CONNECT (RFC 8441), with
//! permessage-deflate and large messages allowed (the Autobahn suite sends
//! 16 MiB).
//!
//! ```sh
//! cargo run --release -p wsproto-tokio --features axum,deflate --example axum_echo -- 127.0.0.1:9032
//! ```

use axum::response::Response;
use axum::routing::any;
use axum::Router;
use tokio::net::TcpListener;
use wsproto_tokio::axum::{WebSocket, WebSocketUpgrade};
use wsproto_tokio::{Config, WebSocketConfig};

/// Limits for peers that send big messages.
fn config() -> WebSocketConfig {
    WebSocketConfig::default().config(
        Config::default()
            .max_frame_payload(32 << 20)
            .max_message_size(64 << 20),
    )
}

async fn upgrade(ws: WebSocketUpgrade) -> Response {
    ws.config(config()).on_upgrade(echo)
}

/// Echoes text as text and binary as binary; pings and closes are answered
/// by the connection. An error (the peer broke the protocol) is not the
/// end: the stream ends after the close frame it owes is written.
async fn echo(mut socket: WebSocket) {
    while let Some(message) = socket.recv().await {
        match message {
            Ok(message) if message.is_text() || message.is_binary() => {
                if let Err(e) = socket.send(message).await {
                    eprintln!("send: {e}");
                }
            }
            Ok(_) => {}
            Err(e) => eprintln!("connection: {e}"),
        }
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9032".into());
    let app = Router::new()
        .route("/", any(upgrade))
        .route("/{*path}", any(upgrade));
    let listener = TcpListener::bind(&addr).await?;
    println!("echo server listening on ws://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
