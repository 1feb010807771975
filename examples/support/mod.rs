//! A blocking driver shared by the examples: the socket is theirs, the
//! protocol is the library's. This is the whole of the glue a thread-per-
//! connection program needs around a sans-IO connection, over TCP or TLS
//! (rustls, in `tls.rs`), directly or through an HTTP proxy (`proxy.rs`).
#![allow(dead_code)]

pub mod proxy;
pub mod tls;

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[cfg(feature = "deflate")]
use wsproto::extensions::deflate::DeflateConfig;
use wsproto::frame::Status;
use wsproto::handshake::{
    Accept, ClientConfig, ClientHandshake, HandshakeError, Request, Response, ServerHandshake,
    WsUrl,
};
use wsproto::{Config, Connection, Event};

/// A byte stream the driver runs a connection over: `Read + Write`, plus
/// the two socket operations the run loop needs.
pub trait Transport: Read + Write {
    /// Bounds the next reads (`None`: block), for timers and idle work.
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()>;
    /// Bounds the next writes (`None`: block), so that a peer that stops
    /// reading cannot keep the connection's timers from running.
    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()>;
    /// Ends the stream: TLS says `close_notify` first, then TCP shuts down.
    fn close(&mut self) -> io::Result<()>;
}

impl Transport for TcpStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_read_timeout(self, timeout)
    }

    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        TcpStream::set_write_timeout(self, timeout)
    }

    fn close(&mut self) -> io::Result<()> {
        self.shutdown(Shutdown::Both)
    }
}

impl<C, D> Transport for rustls::StreamOwned<C, TcpStream>
where
    C: std::ops::DerefMut<Target = rustls::ConnectionCommon<D>> + 'static,
    D: rustls::SideData,
{
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.sock.set_read_timeout(timeout)
    }

    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        self.sock.set_write_timeout(timeout)
    }

    fn close(&mut self) -> io::Result<()> {
        self.conn.send_close_notify();
        self.flush()?;
        self.sock.shutdown(Shutdown::Both)
    }
}

/// A client's stream: plain for `ws://`, TLS for `wss://`.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<tls::ClientTls>),
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.write(buf),
            Stream::Tls(s) => s.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.flush(),
            Stream::Tls(s) => s.flush(),
        }
    }
}

impl Transport for Stream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Plain(s) => Transport::set_read_timeout(s, timeout),
            Stream::Tls(s) => s.set_read_timeout(timeout),
        }
    }

    fn set_write_timeout(&mut self, timeout: Option<Duration>) -> io::Result<()> {
        match self {
            Stream::Plain(s) => Transport::set_write_timeout(s, timeout),
            Stream::Tls(s) => s.set_write_timeout(timeout),
        }
    }

    fn close(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.close(),
            Stream::Tls(s) => s.close(),
        }
    }
}

/// Limits for peers that send big messages (the Autobahn suite sends 16 MiB).
pub fn large_message_config() -> Config {
    Config::default()
        .max_frame_payload(32 << 20)
        .max_message_size(64 << 20)
}

/// Reads a handshake request from `stream`. Errors are answered with the
/// status they map to.
pub fn read_request(stream: &mut (impl Read + Write)) -> io::Result<Request> {
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
                error
                    .to_response()
                    .write_to_vec(&mut out)
                    .expect("a head this program built is valid");
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
pub fn accept(stream: &mut impl Write, request: Request, config: Config) -> io::Result<Connection> {
    let answer = Accept::new().config(config);
    #[cfg(feature = "deflate")]
    let answer = answer.deflate(DeflateConfig::default());
    let accepted = request
        .accept(answer)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    let mut out = Vec::new();
    accepted
        .response
        .write_to_vec(&mut out)
        .expect("a head this program built is valid");
    stream.write_all(&out)?;
    stream.flush()?;
    Ok(accepted.connection)
}

/// How a client reaches servers: which CAs it trusts for `wss://` beyond
/// the Mozilla roots, and how many redirects it follows.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// A PEM file of extra trusted certificates (`--ca`, or the
    /// `WSPROTO_CA_FILE` environment variable).
    pub ca_file: Option<PathBuf>,
    /// Redirects (3xx with a `Location`) followed before giving up.
    pub max_redirects: usize,
}

impl ClientOptions {
    /// `WSPROTO_CA_FILE` if set; 5 redirects.
    pub fn from_env() -> ClientOptions {
        ClientOptions {
            ca_file: std::env::var_os("WSPROTO_CA_FILE").map(PathBuf::from),
            max_redirects: 5,
        }
    }
}

fn invalid(e: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, e.to_string())
}

/// Connects to a `ws://` or `wss://` URL with [`ClientOptions::from_env`]
/// (proxies from the environment, see `proxy.rs`) and performs the client
/// handshake (offering permessage-deflate with the `deflate` feature).
pub fn connect(url: &str, config: Config) -> io::Result<(Stream, Connection)> {
    connect_with(url, config, &ClientOptions::from_env())
}

/// [`connect`] with explicit options. Redirects (301, 302, 303, 307, 308)
/// are followed to `ws://`, `wss://` and relative URLs, never from `wss://`
/// down to `ws://`.
pub fn connect_with(
    url: &str,
    config: Config,
    options: &ClientOptions,
) -> io::Result<(Stream, Connection)> {
    let mut url = WsUrl::parse(url).map_err(invalid)?;
    let mut redirects = 0;
    loop {
        let response = match handshake(&url, config.clone(), options)? {
            Ok(connected) => return Ok(connected),
            Err(response) => response,
        };
        let location = response.headers.get_str("Location");
        let (true, Some(location)) = (is_redirect(response.status), location) else {
            let error = HandshakeError::Rejected(response);
            return Err(io::Error::new(io::ErrorKind::ConnectionRefused, error));
        };
        if redirects == options.max_redirects {
            return Err(invalid(format_args!(
                "more than {} redirects (the last to {location})",
                options.max_redirects
            )));
        }
        redirects += 1;
        let next = resolve(&url, location)?;
        if url.is_secure() && !next.is_secure() {
            return Err(invalid(format_args!(
                "refusing the redirect from {url} to {next}: a downgrade from wss to ws"
            )));
        }
        eprintln!("redirected ({}) to {next}", response.status);
        url = next;
    }
}

/// The statuses that carry a `Location` to retry at (RFC 9110 §15.4).
fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// Resolves a `Location` against the URL that answered it: absolute
/// (`ws://`, `wss://`), scheme-relative (`//host/path`), absolute-path
/// (`/path`), query (`?q`) or path-relative (`next`, against the directory).
pub fn resolve(base: &WsUrl, location: &str) -> io::Result<WsUrl> {
    let scheme = if base.is_secure() { "wss" } else { "ws" };
    let origin = format!("{scheme}://{}", base.host_header());
    let path = base.resource().split('?').next().unwrap_or("/");
    let absolute = if location.contains("://") {
        location.to_string()
    } else if location.starts_with("//") {
        format!("{scheme}:{location}")
    } else if location.starts_with('/') {
        format!("{origin}{location}")
    } else if location.starts_with('?') {
        format!("{origin}{path}{location}")
    } else {
        let dir = &path[..path.rfind('/').map_or(0, |i| i + 1)];
        format!("{origin}{dir}{location}")
    };
    WsUrl::parse(&absolute).map_err(|e| invalid(format_args!("redirect to {location:?}: {e}")))
}

/// One attempt: TCP (direct or through a proxy), TLS for `wss://`, then the
/// WebSocket handshake. A non-101 answer is handed back, for a redirect.
fn handshake(
    url: &WsUrl,
    config: Config,
    options: &ClientOptions,
) -> io::Result<Result<(Stream, Connection), Box<Response>>> {
    let (tcp, early) = match proxy::from_env(url.host(), url.is_secure())? {
        Some(proxy) => proxy::tunnel(&proxy, url.host(), url.port())?,
        None => (
            TcpStream::connect((url.host(), url.port()))?,
            Default::default(),
        ),
    };
    tcp.set_nodelay(true)?;
    // Bytes the proxy passed on after its answer: the server's, for the
    // next layer (TLS, or the WebSocket handshake for ws://).
    let (mut stream, mut pending) = if url.is_secure() {
        let tls_config = tls::client_config(options.ca_file.as_deref())?;
        let tls = tls::connect(tls_config, url.host(), tcp, &early)?;
        (Stream::Tls(Box::new(tls)), Default::default())
    } else {
        (Stream::Plain(tcp), early)
    };
    let offer = ClientConfig::new().config(config);
    #[cfg(feature = "deflate")]
    let offer = offer.deflate(DeflateConfig::default());
    let mut handshake = ClientHandshake::new_random(url, offer).map_err(invalid)?;
    let mut request = Vec::new();
    handshake
        .write_request_to_vec(&mut request)
        .expect("a head this program built is valid");
    stream.write_all(&request)?;
    stream.flush()?;
    let mut buf = [0u8; 4096];
    loop {
        let outcome = if pending.is_empty() {
            let n = stream.read(&mut buf)?;
            if n == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            handshake.handle_input(&buf[..n])
        } else {
            handshake.handle_input(&std::mem::take(&mut pending))
        };
        match outcome {
            Ok(Status::Partial) => continue,
            Ok(Status::Complete(accepted)) => return Ok(Ok((stream, accepted.connection))),
            Err(HandshakeError::Rejected(response)) => return Ok(Err(response)),
            Err(error) => return Err(io::Error::new(io::ErrorKind::InvalidData, error)),
        }
    }
}

/// Writes what the connection has queued: all of it, or as much as the
/// stream takes before a write times out (the rest stays queued).
pub fn flush(stream: &mut impl Write, conn: &mut Connection) -> io::Result<()> {
    while let Some(bytes) = conn.poll_transmit() {
        match stream.write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => conn.advance_transmit(n),
            Err(e) if is_timeout(&e) => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    match stream.flush() {
        Err(e) if is_timeout(&e) => Ok(()),
        other => other,
    }
}

/// A read or write that ran into its timeout (`WouldBlock` on Unix).
fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// Work to do when the socket has been quiet for a while.
pub type IdleHook<'a> = &'a mut dyn FnMut(&mut Connection);

/// Drives `conn` over `stream` until the transport should close, handing
/// every event to `on_event`. `on_idle` runs whenever a read times out
/// after `idle` (for programs with other input, like stdin).
pub fn run(
    stream: &mut impl Transport,
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
        // Write, but not past the next timer: a peer that stops reading
        // would block the write forever, and the connection's close
        // timeout (which then drops the output) would never run.
        let until_timer = |conn: &mut Connection| {
            let now = start.elapsed();
            conn.poll_timeout(now).map(|at| at.saturating_sub(now))
        };
        let write_wait = until_timer(conn).map(|w| w.max(Duration::from_millis(1)));
        stream.set_write_timeout(write_wait)?;
        flush(stream, conn)?;
        if conn.should_close_transport() {
            let _ = stream.close();
            return Ok(());
        }
        let until_timer = until_timer(conn);
        if until_timer == Some(Duration::ZERO) {
            conn.handle_timeout(start.elapsed());
            continue;
        }
        let wait = [until_timer, idle_every].into_iter().flatten().min();
        stream.set_read_timeout(wait.map(|w| w.max(Duration::from_millis(1))))?;
        match stream.read(&mut buf) {
            Ok(0) => conn.handle_eof(),
            Ok(n) => conn.handle_input(&buf[..n]),
            Err(e) if is_timeout(&e) => {
                conn.handle_timeout(start.elapsed());
                if let Some(f) = on_idle.as_mut() {
                    f(conn);
                }
            }
            // A TLS peer that closes TCP without `close_notify` reads as
            // `UnexpectedEof`: the WebSocket closing handshake is what
            // tells a truncated stream from a finished one.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::UnexpectedEof
                ) =>
            {
                conn.handle_eof()
            }
            Err(e) => return Err(e),
        }
    }
}

/// Echoes every message back unchanged (text as text, binary as binary),
/// without copying: the payload received is the payload queued.
pub fn echo(conn: &mut Connection, event: Event) {
    let _ = match event {
        Event::Text(text) => conn.send_text(text),
        Event::Binary(data) => conn.send_binary(data),
        _ => Ok(()),
    };
}
