//! An echo server over `std::net`, a thread per connection.
//!
//! ```sh
//! cargo run --release --example echo_server -- 127.0.0.1:9002
//! ```
//!
//! Every text and binary message is sent back unchanged. A peer that breaks
//! the protocol gets the right close code; the others are unaffected.

mod support;

use std::net::{TcpListener, TcpStream};

fn serve(mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let request = support::read_request(&mut stream)?;
    if !request.is_upgrade() {
        let response = wsproto::handshake::Response::new(426)
            .with_header("Sec-WebSocket-Version", "13")
            .with_body("this is a WebSocket echo server\n");
        let mut out = Vec::new();
        response.write_to_vec(&mut out);
        return std::io::Write::write_all(&mut stream, &out);
    }
    let mut conn = support::accept(&mut stream, request, support::large_message_config())?;
    support::run(&mut stream, &mut conn, support::echo, None)
}

fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9002".into());
    let listener = TcpListener::bind(&addr)?;
    println!("echo server listening on ws://{}", listener.local_addr()?);
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        std::thread::spawn(move || {
            if let Err(e) = serve(stream) {
                eprintln!("connection ended: {e}");
            }
        });
    }
    Ok(())
}
