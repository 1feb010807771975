//! A blocking driver shared by the examples: the socket is theirs, the
//! protocol is the library's. This is the whole of the glue a thread-per-
//! connection program needs around a sans-IO connection.
#![allow(dead_code)]

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

#[cfg(feature = "deflate")]
use wsproto::extensions::deflate::DeflateConfig;
use wsproto::frame::Status;
use wsproto::handshake::{Accept, ClientConfig, ClientHandshake, Request, ServerHandshake, WsUrl};
use wsproto::{Config, Connection, Event, Role};

/// Limits for peers that send big messages (the Autobahn suite sends 16 MiB).
pub fn large_message_config() -> Config {
    Config {
        max_frame_payload: 32 << 20,
        max_message_size: 64 << 20,
        ..Config::default()
    }
}

/// Reads a handshake request from `stream`. Errors are answered with the
/// status they map to.
pub fn read_request(stream: &mut TcpStream) -> io::Result<Request> {
    let mut handshake = ServerHandshake::new(Default::default());
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        match handshake.handle_input(&buf[..n]) {
            Ok(Status::Partial) => continue,
            Ok(Status::Complete(request)) => return Ok(request),
            Err(error) => {
                let mut out = Vec::new();
                error.to_response().write_to_vec(&mut out);
                stream.write_all(&out)?;
                return Err(io::Error::new(io::ErrorKind::InvalidData, error));
            }
        }
    }
}

/// Accepts an upgrade request: writes the 101 response and returns the
/// open connection, fed with any bytes that followed the request.
/// With the `deflate` feature, permessage-deflate is negotiated when the
/// client offers it.
pub fn accept(stream: &mut TcpStream, request: Request, config: Config) -> io::Result<Connection> {
    #[cfg(feature = "deflate")]
    let deflate = DeflateConfig::default().negotiate(request.extensions());
    #[allow(unused_mut)]
    let mut answer = Accept::new();
    #[cfg(feature = "deflate")]
    if let Some((response, _)) = &deflate {
        answer = answer.extension(response.clone());
    }
    let accepted = request
        .accept(answer)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let mut out = Vec::new();
    accepted.response.write_to_vec(&mut out);
    stream.write_all(&out)?;
    let mut conn = Connection::new(Role::Server, config);
    #[cfg(feature = "deflate")]
    if let Some((_, params)) = deflate {
        conn.enable_deflate(params);
    }
    conn.handle_input(&accepted.negotiated.leftover);
    Ok(conn)
}

/// Connects to a `ws://` URL and performs the client handshake (offering
/// permessage-deflate with the `deflate` feature).
pub fn connect(url: &str, config: Config) -> io::Result<(TcpStream, Connection)> {
    let invalid =
        |e: &dyn std::fmt::Display| io::Error::new(io::ErrorKind::InvalidInput, e.to_string());
    let url = WsUrl::parse(url).map_err(|e| invalid(&e))?;
    if url.is_secure() {
        return Err(invalid(
            &"wss:// needs TLS, which this example does not carry",
        ));
    }
    let mut stream = TcpStream::connect((url.host().trim_matches(['[', ']']), url.port()))?;
    stream.set_nodelay(true)?;
    #[allow(unused_mut)]
    let mut offer = ClientConfig::new();
    #[cfg(feature = "deflate")]
    {
        offer = offer.extension(DeflateConfig::default().offer());
    }
    let mut handshake = ClientHandshake::new_random(&url, offer).map_err(|e| invalid(&e))?;
    let mut request = Vec::new();
    handshake.write_request_to_vec(&mut request);
    stream.write_all(&request)?;
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        match handshake.handle_input(&buf[..n]) {
            Ok(Status::Partial) => continue,
            Ok(Status::Complete(accepted)) => {
                let mut conn = Connection::new(Role::Client, config);
                #[cfg(feature = "deflate")]
                if let Some(params) = DeflateConfig::default()
                    .check_response(&accepted.negotiated.extensions)
                    .map_err(|e| invalid(&e))?
                {
                    conn.enable_deflate(params);
                }
                conn.handle_input(&accepted.negotiated.leftover);
                return Ok((stream, conn));
            }
            Err(error) => return Err(io::Error::new(io::ErrorKind::InvalidData, error)),
        }
    }
}

/// Writes everything the connection has queued.
pub fn flush(stream: &mut TcpStream, conn: &mut Connection) -> io::Result<()> {
    while let Some(bytes) = conn.poll_transmit() {
        let n = stream.write(bytes)?;
        if n == 0 {
            return Err(io::ErrorKind::WriteZero.into());
        }
        conn.advance_transmit(n);
    }
    Ok(())
}

/// Work to do when the socket has been quiet for a while.
pub type IdleHook<'a> = &'a mut dyn FnMut(&mut Connection);

/// Drives `conn` over `stream` until the transport should close, handing
/// every event to `on_event`. `on_idle` runs whenever a read times out
/// after `idle` (for programs with other input, like stdin).
pub fn run(
    stream: &mut TcpStream,
    conn: &mut Connection,
    mut on_event: impl FnMut(&mut Connection, Event),
    idle: Option<(Duration, IdleHook<'_>)>,
) -> io::Result<()> {
    let start = Instant::now();
    let mut buf = vec![0u8; 256 << 10];
    let (idle_every, mut on_idle) = match idle {
        Some((every, f)) => (Some(every), Some(f)),
        None => (None, None),
    };
    loop {
        loop {
            match conn.poll_event() {
                Ok(Some(event)) => on_event(conn, event),
                Ok(None) => break,
                Err(error) => {
                    eprintln!(
                        "protocol error: {error} (closing with {})",
                        error.close_code()
                    );
                    break;
                }
            }
        }
        flush(stream, conn)?;
        if conn.should_close_transport() {
            let _ = stream.shutdown(std::net::Shutdown::Both);
            return Ok(());
        }
        let until_timer = conn
            .poll_timeout()
            .map(|at| at.saturating_sub(start.elapsed()));
        if until_timer == Some(Duration::ZERO) {
            conn.handle_timeout(start.elapsed());
            continue;
        }
        let wait = [until_timer, idle_every].into_iter().flatten().min();
        stream.set_read_timeout(wait.map(|w| w.max(Duration::from_millis(1))))?;
        match stream.read(&mut buf) {
            Ok(0) => conn.handle_eof(),
            Ok(n) => conn.handle_input(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                conn.handle_timeout(start.elapsed());
                if let Some(f) = on_idle.as_mut() {
                    f(conn);
                }
            }
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => conn.handle_eof(),
            Err(e) => return Err(e),
        }
    }
}

/// Echoes every message back unchanged (text as text, binary as binary),
/// without copying: the payload received is the payload queued.
pub fn echo(conn: &mut Connection, event: Event) {
    let _ = match event {
        Event::Text(text) => conn.send_text_shared(text),
        Event::Binary(data) => conn.send_binary_shared(data),
        _ => Ok(()),
    };
}
