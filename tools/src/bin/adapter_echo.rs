//! The echo server on the tokio adapter, for the load generator: what a
//! `wsproto-tokio` user writes (`accept`, then `next` and `feed`), on a
//! single-threaded tokio runtime, one task per connection, as the
//! fastwebsockets peer runs.
//!
//! ```sh
//! cargo run --release -p wsproto-tools --bin adapter_echo -- 127.0.0.1:9007
//! ```
//!
//! Replies are fed, never flushed: `next()` writes what was fed once the
//! input read so far is drained, before it waits for more, so a burst of
//! messages is answered with one write and a lone message at once.

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;

async fn serve(tcp: tokio::net::TcpStream) -> Result<(), wsproto_tokio::Error> {
    tcp.set_nodelay(true)?;
    let mut ws = wsproto_tokio::accept(tcp).await?;
    while let Some(message) = ws.next().await {
        let message = message?;
        if message.is_text() || message.is_binary() {
            ws.feed(message).await?;
        }
    }
    Ok(())
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9007".into());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(&addr).await?;
        println!("echo server listening on ws://{}", listener.local_addr()?);
        loop {
            let (tcp, _) = listener.accept().await?;
            tokio::spawn(async move {
                if let Err(e) = serve(tcp).await {
                    eprintln!("connection ended: {e}");
                }
            });
        }
    })
}
