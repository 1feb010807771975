//! An echo server over `std::net`, a thread per connection; over TLS
//! (`wss://`) when given a certificate and its key.
//!
//! ```sh
//! cargo run --release --example echo_server -- 127.0.0.1:9002
//! cargo run --release --example echo_server -- 127.0.0.1:9443 --cert cert.pem --key key.pem
//! ```
//!
//! Every text and binary message is sent back unchanged. A peer that breaks
//! the protocol gets the right close code; the others are unaffected. The
//! first line on stdout names the address listened on (`127.0.0.1:0` picks
//! a free port).

mod support;

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;

use support::Transport;

fn serve(mut stream: impl Transport) -> std::io::Result<()> {
    let request = support::read_request(&mut stream)?;
    if !request.is_upgrade() {
        let response = wsproto::handshake::Response::new(426)
            .with_header("Sec-WebSocket-Version", "13")
            .with_body("this is a WebSocket echo server\n");
        let mut out = Vec::new();
        response
            .write_to_vec(&mut out)
            .expect("a head this program built is valid");
        std::io::Write::write_all(&mut stream, &out)?;
        return stream.close();
    }
    let mut conn = support::accept(&mut stream, request, support::large_message_config())?;
    support::run(&mut stream, &mut conn, support::echo, None)
}

fn main() -> std::io::Result<()> {
    let mut addr = None;
    let (mut cert, mut key) = (None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--cert" => cert = args.next().map(PathBuf::from),
            "--key" => key = args.next().map(PathBuf::from),
            _ if addr.is_none() && !arg.starts_with("--") => addr = Some(arg),
            _ => return Err(usage(&format!("unexpected argument {arg}"))),
        }
    }
    let tls = match (cert, key) {
        (Some(cert), Some(key)) => Some(support::tls::server_config(&cert, &key)?),
        (None, None) => None,
        _ => return Err(usage("--cert and --key go together")),
    };
    let addr = addr.unwrap_or_else(|| "127.0.0.1:9002".into());
    let listener = TcpListener::bind(&addr)?;
    let scheme = if tls.is_some() { "wss" } else { "ws" };
    println!(
        "echo server listening on {scheme}://{}",
        listener.local_addr()?
    );
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let tls = tls.clone();
        std::thread::spawn(move || {
            if let Err(e) = serve_tcp(stream, tls) {
                eprintln!("connection ended: {e}");
            }
        });
    }
    Ok(())
}

fn serve_tcp(stream: TcpStream, tls: Option<Arc<rustls::ServerConfig>>) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    match tls {
        Some(config) => serve(support::tls::accept(config, stream)?),
        None => serve(stream),
    }
}

fn usage(problem: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("{problem}\nusage: echo_server [ADDR] [--cert FILE --key FILE]"),
    )
}
