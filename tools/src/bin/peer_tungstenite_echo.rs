//! A peer for the load generator (`tools/src/bin/load.rs`): the echo
//! server of the core's `examples/echo_server.rs` on
//! tungstenite 0.30, built the same way (a thread per connection, blocking
//! `std::net` sockets), with tungstenite's default limits.
//!
//! ```sh
//! cargo run --release -p wsproto-tools --bin peer_tungstenite_echo -- 127.0.0.1:9005
//! ```

use std::net::{TcpListener, TcpStream};

use tungstenite::{Error, Message};

fn serve(stream: TcpStream) -> Result<(), Error> {
    stream.set_nodelay(true)?;
    let mut ws = tungstenite::accept(stream).map_err(|e| match e {
        tungstenite::HandshakeError::Failure(e) => e,
        tungstenite::HandshakeError::Interrupted(_) => Error::ConnectionClosed,
    })?;
    loop {
        // Pings are answered and closes replied to by `read`/`send`.
        if let message @ (Message::Text(_) | Message::Binary(_)) = ws.read()? {
            ws.send(message)?;
        }
    }
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9005".into());
    let listener = TcpListener::bind(&addr)?;
    println!("echo server listening on ws://{}", listener.local_addr()?);
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        std::thread::spawn(move || match serve(stream) {
            Ok(()) | Err(Error::ConnectionClosed | Error::AlreadyClosed) => {}
            Err(e) => eprintln!("connection ended: {e}"),
        });
    }
    Ok(())
}
