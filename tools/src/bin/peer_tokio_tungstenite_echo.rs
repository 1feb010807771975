//! A peer for the load generator (`tools/src/bin/load.rs`): an echo server
//! on tokio-tungstenite 0.30, the tokio adapter that `wsproto-tokio`
//! replaces, written as its users write one (`accept_async`, then
//! `StreamExt::next` and `SinkExt::feed`/`flush`), one task per connection
//! on a single-threaded tokio runtime, TCP_NODELAY.
//!
//! ```sh
//! cargo run --release -p wsproto-tools --bin peer_tokio_tungstenite_echo -- 127.0.0.1:9008
//! ```
//!
//! tokio-tungstenite writes what was fed only when flushed (its `next()`
//! writes only the replies it owes, pongs and close), so the loop flushes,
//! but only once no more input is ready: a burst of messages is answered
//! with one write, as `adapter_echo`'s answers it. (`send` per message, as
//! its examples write, would cost a write per message under pipelining.)

use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::Error;

async fn serve(tcp: TcpStream) -> Result<(), Error> {
    tcp.set_nodelay(true)?;
    let mut ws = tokio_tungstenite::accept_async(tcp).await?;
    loop {
        // Flush only when nothing more is ready: tokio-tungstenite's
        // `next()` keeps its state in the stream, so trying it and
        // dropping it loses nothing.
        let message = match ws.next().now_or_never() {
            Some(message) => message,
            None => {
                ws.flush().await?;
                ws.next().await
            }
        };
        let Some(message) = message else { break };
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
        .unwrap_or_else(|| "127.0.0.1:9008".into());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(&addr).await?;
        println!("echo server listening on ws://{}", listener.local_addr()?);
        loop {
            let (tcp, _) = listener.accept().await?;
            tokio::spawn(async move {
                match serve(tcp).await {
                    Ok(()) | Err(Error::ConnectionClosed | Error::AlreadyClosed) => {}
                    Err(e) => eprintln!("connection ended: {e}"),
                }
            });
        }
    })
}
