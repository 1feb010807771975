//! Reaching a server through an HTTP proxy on tokio: the core's sans-IO
//! `CONNECT` ([`wsproto::proxy`]) over a tokio `TcpStream`.
//!
//! Which proxy, if any, is the core's reading of the environment
//! ([`Proxy::from_env`]): `HTTPS_PROXY` for `wss://`, `HTTP_PROXY` for
//! `ws://`, either falling back to `ALL_PROXY`, the lowercase names first,
//! and `NO_PROXY` for the hosts reached directly. Only plain-HTTP proxies:
//! the tunnel itself carries TLS for `wss://`.

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wsproto::frame::Status;
use wsproto::proxy::ProxyResponse;

pub use wsproto::proxy::{Proxy, ProxyConfigError, ProxyEnv};

use crate::error::Error;

/// Connects to `proxy` and asks it for a tunnel to `host:port`: the
/// tunnel, and the bytes that came after the proxy's answer (the server's,
/// for the next layer).
pub async fn tunnel(proxy: &Proxy, host: &str, port: u16) -> Result<(TcpStream, BytesMut), Error> {
    let mut tcp = TcpStream::connect((proxy.host.as_str(), proxy.port)).await?;
    tcp.set_nodelay(true)?;
    let mut out = Vec::new();
    proxy.request(host, port)?.write_to_vec(&mut out)?;
    tcp.write_all(&out).await?;
    let mut response = ProxyResponse::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = tcp.read(&mut buf).await?;
        if n == 0 {
            return Err(Error::Io(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "the proxy closed the connection before answering CONNECT",
            )));
        }
        if let Status::Complete(tunnel) = response.handle_input(&buf[..n])? {
            return Ok((tcp, tunnel.leftover));
        }
    }
}
