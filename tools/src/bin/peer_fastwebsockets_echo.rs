//! A peer for the load generator (`tools/src/bin/load.rs`): an echo server
//! on fastwebsockets 0.10, as its own `echo_server` example builds it: hyper 1 serves the HTTP/1.1
//! upgrade, a `FragmentCollector` reassembles messages, one task per
//! connection on a single-threaded tokio runtime.
//!
//! ```sh
//! cargo run --release -p wsproto-tools --bin peer_fastwebsockets_echo -- 127.0.0.1:9006
//! ```

use fastwebsockets::{upgrade, FragmentCollector, OpCode, WebSocketError};
use http_body_util::Empty;
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use tokio::net::TcpListener;

async fn echo(upgrade: upgrade::UpgradeFut) -> Result<(), WebSocketError> {
    let mut ws = FragmentCollector::new(upgrade.await?);
    loop {
        let frame = ws.read_frame().await?;
        match frame.opcode {
            OpCode::Close => return Ok(()),
            OpCode::Text | OpCode::Binary => ws.write_frame(frame).await?,
            // Pings are answered by the library (auto_pong).
            _ => {}
        }
    }
}

async fn upgrade(mut request: Request<Incoming>) -> Result<Response<Empty<Bytes>>, WebSocketError> {
    let (response, upgrade) = upgrade::upgrade(&mut request)?;
    tokio::task::spawn(async move {
        if let Err(e) = tokio::task::unconstrained(echo(upgrade)).await {
            match e {
                WebSocketError::ConnectionClosed | WebSocketError::UnexpectedEOF => {}
                e => eprintln!("connection ended: {e}"),
            }
        }
    });
    Ok(response)
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9006".into());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(&addr).await?;
        println!("echo server listening on ws://{}", listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(stream);
                let served = http1::Builder::new()
                    .serve_connection(io, service_fn(upgrade))
                    .with_upgrades();
                let _ = served.await;
            });
        }
    })
}
