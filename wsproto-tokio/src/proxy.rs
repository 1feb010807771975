//! Reaching a server through an HTTP proxy, as the usual environment
//! variables configure it, with the core's sans-IO `CONNECT`
//! ([`wsproto::proxy`]).
//!
//! - `wss://` URLs use `https_proxy` / `HTTPS_PROXY`, `ws://` URLs use
//!   `http_proxy` / `HTTP_PROXY`; either falls back to `all_proxy` /
//!   `ALL_PROXY`. The lowercase name wins. An empty value means no proxy.
//! - A proxy is written `[http://][user:password@]host[:port]` (port 80 by
//!   default; user and password may be percent-encoded). Only plain-HTTP
//!   proxies: the tunnel itself carries TLS for `wss://`.
//! - `no_proxy` / `NO_PROXY` is a comma-separated list of hosts reached
//!   directly: `*` (every host), a host name (that host and its
//!   subdomains: `example.com` and `.example.com` both cover
//!   `a.example.com`), or an IP address (that address only; no CIDR
//!   ranges). A `:port` suffix on an entry is ignored. Nothing bypasses the
//!   proxy unless listed, loopback addresses included.

use std::net::IpAddr;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wsproto::frame::Status;
use wsproto::proxy::{ProxyRequest, ProxyResponse};

use crate::error::Error;

/// A proxy to tunnel through.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Proxy {
    /// The proxy's host.
    pub host: String,
    /// The proxy's port.
    pub port: u16,
    /// `user` and `password` for `Proxy-Authorization: Basic`.
    pub credentials: Option<(String, String)>,
}

fn invalid(what: impl std::fmt::Display) -> Error {
    Error::ProxyConfig(what.to_string())
}

/// The first non-empty value among these environment variables.
fn env_first(names: &[&str]) -> Option<String> {
    names
        .iter()
        .filter_map(|name| std::env::var(name).ok())
        .find(|v| !v.trim().is_empty())
}

impl Proxy {
    /// The proxy the environment configures for `host` (`secure`: a
    /// `wss://` URL), or `None` to connect directly.
    pub fn from_env(host: &str, secure: bool) -> Result<Option<Proxy>, Error> {
        if let Some(list) = env_first(&["no_proxy", "NO_PROXY"]) {
            if bypasses(&list, host) {
                return Ok(None);
            }
        }
        let names: &[&str] = if secure {
            &["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]
        } else {
            &["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]
        };
        env_first(names)
            .map(|value| Proxy::parse(&value))
            .transpose()
    }

    /// Parses `[http://][user:password@]host[:port]`.
    pub fn parse(value: &str) -> Result<Proxy, Error> {
        let value = value.trim();
        let rest = match value.split_once("://") {
            None => value,
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some((scheme, _)) => {
                return Err(invalid(format_args!(
                    "proxy {value:?}: only http:// proxies are supported, not {scheme}://"
                )))
            }
        };
        let authority = rest.split('/').next().unwrap_or_default();
        let (credentials, host_port) = match authority.rsplit_once('@') {
            Some((userinfo, host_port)) => {
                let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
                (
                    Some((percent_decode(user)?, percent_decode(password)?)),
                    host_port,
                )
            }
            None => (None, authority),
        };
        let (host, port) = match host_port.rsplit_once(':') {
            // Not the colons inside an IPv6 literal.
            Some((host, port)) if !port.contains(']') => {
                let port = port
                    .parse()
                    .map_err(|_| invalid(format_args!("proxy {value:?}: invalid port")))?;
                (host, port)
            }
            _ => (host_port, 80),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(invalid(format_args!("proxy {value:?}: no host")));
        }
        Ok(Proxy {
            host: host.to_string(),
            port,
            credentials,
        })
    }

    /// Connects to the proxy and asks it for a tunnel to `host:port`: the
    /// tunnel, and the bytes that came after the proxy's answer (the
    /// server's, for the next layer).
    pub async fn tunnel(&self, host: &str, port: u16) -> Result<(TcpStream, BytesMut), Error> {
        let mut tcp = TcpStream::connect((self.host.as_str(), self.port)).await?;
        tcp.set_nodelay(true)?;
        let mut request = ProxyRequest::new(host, port)?;
        if let Some((user, password)) = &self.credentials {
            request = request.basic_auth(user, password)?;
        }
        let mut out = Vec::new();
        request.write_to_vec(&mut out)?;
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
}

fn percent_decode(s: &str) -> Result<String, Error> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            out.push(hex.ok_or_else(|| invalid("invalid percent-encoding in proxy credentials"))?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(invalid)
}

/// Whether the `NO_PROXY` list covers `host`.
pub fn bypasses(list: &str, host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host_is_ip = host.parse::<IpAddr>().is_ok();
    list.split(',').map(str::trim).any(|entry| {
        if entry == "*" {
            return true;
        }
        // Drop a `:port` (but not the colons of a bare IPv6 address).
        let entry = match entry.rsplit_once(':') {
            Some((name, port))
                if !name.is_empty()
                    && port.bytes().all(|b| b.is_ascii_digit())
                    && (name.ends_with(']') || !name.contains(':')) =>
            {
                name
            }
            _ => entry,
        };
        let entry = entry.trim_start_matches('[').trim_end_matches(']');
        let entry = entry.trim_start_matches("*.").trim_start_matches('.');
        if entry.is_empty() {
            return false;
        }
        if host.eq_ignore_ascii_case(entry) {
            return true;
        }
        // A domain covers its subdomains; an address covers only itself.
        !host_is_ip
            && host.len() > entry.len()
            && host.as_bytes()[host.len() - entry.len() - 1] == b'.'
            && host[host.len() - entry.len()..].eq_ignore_ascii_case(entry)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_proxies() {
        let proxy = Proxy::parse("http://ann:s%40cret@proxy.local:3128/").unwrap();
        assert_eq!((proxy.host.as_str(), proxy.port), ("proxy.local", 3128));
        assert_eq!(
            proxy.credentials,
            Some(("ann".to_string(), "s@cret".to_string()))
        );
        assert_eq!(Proxy::parse("[::1]").unwrap().port, 80);
        assert!(Proxy::parse("socks5://h:1").is_err());
        assert!(Proxy::parse("http://:8080").is_err());
    }

    #[test]
    fn no_proxy_lists() {
        assert!(bypasses("*", "example.com"));
        assert!(bypasses("example.com", "a.example.com"));
        assert!(bypasses(".example.com", "example.com"));
        assert!(bypasses("localhost, 127.0.0.1:80", "127.0.0.1"));
        assert!(!bypasses("example.com", "badexample.com"));
        assert!(!bypasses("0.0.1", "127.0.0.1"));
        assert!(bypasses("[::1]", "::1"));
    }
}
