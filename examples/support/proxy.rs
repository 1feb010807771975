//! Reaching a server through an HTTP proxy with the library's sans-IO
//! `CONNECT` helper, over a blocking `TcpStream`. Which proxy, if any, is
//! the library's reading of `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and
//! `NO_PROXY` ([`wsproto::proxy::Proxy::from_env`]).

use std::io::{self, Read, Write};
use std::net::TcpStream;

use bytes::BytesMut;
use wsproto::frame::Status;
use wsproto::proxy::{Proxy, ProxyError, ProxyResponse};

fn invalid(what: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, what.to_string())
}

/// The proxy the environment configures for `host` (`secure`: a `wss://`
/// URL), or `None` to connect directly.
pub fn from_env(host: &str, secure: bool) -> io::Result<Option<Proxy>> {
    Proxy::from_env(host, secure).map_err(invalid)
}

/// Connects to `proxy` and asks it for a tunnel to `host:port`: the
/// tunnel's stream and the bytes that arrived after the proxy's answer
/// (from the server, to be fed to the next layer first).
pub fn tunnel(proxy: &Proxy, host: &str, port: u16) -> io::Result<(TcpStream, BytesMut)> {
    let mut tcp = TcpStream::connect((proxy.host.as_str(), proxy.port))?;
    tcp.set_nodelay(true)?;
    let request = proxy.request(host, port).map_err(invalid)?;
    let mut out = Vec::new();
    request
        .write_to_vec(&mut out)
        .expect("a head this program built is valid");
    tcp.write_all(&out)?;
    let mut response = ProxyResponse::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tcp.read(&mut buf)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the proxy closed the connection before answering CONNECT",
            ));
        }
        match response.handle_input(&buf[..n]) {
            Ok(Status::Partial) => continue,
            Ok(Status::Complete(tunnel)) => return Ok((tcp, tunnel.leftover)),
            Err(ProxyError::Refused(response)) => {
                let mut message = format!(
                    "proxy {}:{} refused CONNECT {}: {} {}",
                    proxy.host,
                    proxy.port,
                    request.authority(),
                    response.status,
                    response.reason
                );
                if let Some(challenge) = response.headers.get_str("Proxy-Authenticate") {
                    message += &format!(" (Proxy-Authenticate: {challenge})");
                }
                let kind = if response.status == 407 {
                    io::ErrorKind::PermissionDenied
                } else {
                    io::ErrorKind::ConnectionRefused
                };
                return Err(io::Error::new(kind, message));
            }
            Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
        }
    }
}
