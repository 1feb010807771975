//! Which proxy a client goes through, as the conventional environment
//! variables configure it: the rules are on [`ProxyEnv`].

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::net::IpAddr;

use super::ProxyRequest;
use crate::handshake::UsageError;

/// A proxy to tunnel through: where it listens, and the credentials it
/// wants, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Proxy {
    /// The proxy's host: a name, or an IP address without brackets.
    pub host: String,
    /// The proxy's port (80 unless the value names one).
    pub port: u16,
    /// `user` and `password` for `Proxy-Authorization: Basic`, decoded.
    pub credentials: Option<(String, String)>,
}

/// A proxy setting that cannot be used. The messages never repeat the
/// value: it may hold a password.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyConfigError {
    /// A scheme other than `http://`, e.g. `socks5://` or `https://`.
    #[error("only http:// proxies are supported, not {0}://")]
    UnsupportedScheme(String),
    /// No host before the port (`http://:8080`).
    #[error("no host in the proxy setting")]
    NoHost,
    /// The port is not a number from 0 to 65535.
    #[error("invalid port in the proxy setting")]
    InvalidPort,
    /// The credentials hold a `%` not followed by two hex digits, or do not
    /// decode to UTF-8.
    #[error("invalid percent-encoding in the proxy credentials")]
    InvalidCredentials,
}

impl Proxy {
    /// Parses `[http://][user:password@]host[:port]`: what the proxy
    /// variables hold. A path after the authority is ignored; an IPv6
    /// address is written in brackets (`http://[::1]:3128`). The user and
    /// password are percent-decoded (RFC 3986 §2.1), so that `@`, `:` or
    /// `%` can appear in them.
    pub fn parse(value: &str) -> Result<Proxy, ProxyConfigError> {
        let value = value.trim();
        let rest = match value.split_once("://") {
            None => value,
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some((scheme, _)) => {
                return Err(ProxyConfigError::UnsupportedScheme(scheme.to_string()))
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
            Some((host, port)) if !port.contains(']') => (
                host,
                port.parse().map_err(|_| ProxyConfigError::InvalidPort)?,
            ),
            _ => (host_port, 80),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(ProxyConfigError::NoHost);
        }
        Ok(Proxy {
            host: host.to_string(),
            port,
            credentials,
        })
    }

    /// The proxy the environment configures for a connection to `host`
    /// (`secure`: a `wss://` URL), or `None` to connect directly:
    /// [`ProxyEnv::from_env`] then [`ProxyEnv::proxy_for`].
    #[cfg(feature = "std")]
    pub fn from_env(host: &str, secure: bool) -> Result<Option<Proxy>, ProxyConfigError> {
        ProxyEnv::from_env().proxy_for(host, secure)
    }

    /// The `CONNECT` request for a tunnel to `host:port` through this
    /// proxy, with its credentials if it has some.
    pub fn request(&self, host: &str, port: u16) -> Result<ProxyRequest, UsageError> {
        let request = ProxyRequest::new(host, port)?;
        match &self.credentials {
            Some((user, password)) => request.basic_auth(user, password),
            None => Ok(request),
        }
    }
}

/// The proxy settings of an environment, each already chosen between its
/// lowercase and uppercase variable.
///
/// The variables have no standard; curl's reading is the one most tools
/// follow, and this one follows it:
///
/// - a `wss://` URL uses `https_proxy`, a `ws://` URL `http_proxy`; either
///   falls back to `all_proxy`. Each name is looked up in lowercase first,
///   then in uppercase; a variable set to the empty string counts as unset
///   (so an empty `https_proxy` does not hide `HTTPS_PROXY`).
/// - `no_proxy` lists the hosts reached directly (see [`no_proxy_covers`]);
///   nothing bypasses the proxy unless listed, loopback addresses included.
/// - a proxy is written `[http://][user:password@]host[:port]`, port 80 by
///   default, the credentials percent-encoded (see [`Proxy::parse`]). Only
///   plain-HTTP proxies: for `wss://` the tunnel itself carries the TLS.
///
/// One difference: curl never reads the uppercase `HTTP_PROXY`, because a
/// CGI server turns a request's `Proxy:` header into that variable
/// (CVE-2016-5385, "httpoxy"). Clients here honour it, as most users expect,
/// except when `REQUEST_METHOD` is set (Go's `net/http` makes the same
/// call): then it comes from a request, and only `http_proxy` counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProxyEnv {
    /// `http_proxy`, else `HTTP_PROXY` (not in a CGI request): for `ws://`.
    pub http_proxy: Option<String>,
    /// `https_proxy`, else `HTTPS_PROXY`: for `wss://`.
    pub https_proxy: Option<String>,
    /// `all_proxy`, else `ALL_PROXY`: for either, when its own is unset.
    pub all_proxy: Option<String>,
    /// `no_proxy`, else `NO_PROXY`: the hosts reached directly.
    pub no_proxy: Option<String>,
}

impl ProxyEnv {
    /// The settings from a lookup of variables by name (`None`: unset),
    /// with no access to the process's environment: what
    /// [`ProxyEnv::from_env`] does with `std::env::var`, for a caller whose
    /// variables live elsewhere, and for tests.
    pub fn from_lookup(var: impl Fn(&str) -> Option<String>) -> ProxyEnv {
        // curl's `curl_getenv` treats a variable set to "" as unset.
        let first = |names: &[&str]| {
            names
                .iter()
                .filter_map(|name| var(name))
                .find(|value| !value.trim().is_empty())
        };
        let cgi = var("REQUEST_METHOD").is_some_and(|method| !method.is_empty());
        ProxyEnv {
            http_proxy: first(if cgi {
                &["http_proxy"]
            } else {
                &["http_proxy", "HTTP_PROXY"]
            }),
            https_proxy: first(&["https_proxy", "HTTPS_PROXY"]),
            all_proxy: first(&["all_proxy", "ALL_PROXY"]),
            no_proxy: first(&["no_proxy", "NO_PROXY"]),
        }
    }

    /// The settings of this process's environment (variables that are not
    /// valid Unicode count as unset).
    #[cfg(feature = "std")]
    pub fn from_env() -> ProxyEnv {
        ProxyEnv::from_lookup(|name| std::env::var(name).ok())
    }

    /// The proxy for a connection to `host` (`secure`: a `wss://` URL), or
    /// `None` to connect directly: `None` when `no_proxy` covers the host
    /// or no variable applies, an error when the one that applies cannot
    /// be parsed.
    pub fn proxy_for(&self, host: &str, secure: bool) -> Result<Option<Proxy>, ProxyConfigError> {
        if let Some(list) = &self.no_proxy {
            if no_proxy_covers(list, host) {
                return Ok(None);
            }
        }
        let own = if secure {
            &self.https_proxy
        } else {
            &self.http_proxy
        };
        own.as_ref()
            .or(self.all_proxy.as_ref())
            .map(|value| Proxy::parse(value))
            .transpose()
    }
}

/// Whether a `no_proxy` list covers `host`, the host of the URL to connect
/// to (an IPv6 address with or without brackets).
///
/// The list is separated by commas (or spaces). An entry is `*` (every
/// host), a domain (that host and its subdomains: `example.com` and
/// `.example.com` both cover `example.com` and `a.example.com`, not
/// `badexample.com`; `*.example.com` is read as `.example.com`), or an IP
/// address (that address only: no CIDR ranges, and `0.0.1` is not a suffix
/// of `127.0.0.1`). A `:port` after an entry is ignored, as curl ignores it.
/// Names compare without regard to ASCII case and to one trailing dot.
pub fn no_proxy_covers(list: &str, host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let host = host.strip_suffix('.').unwrap_or(host);
    let host_is_ip = host.parse::<IpAddr>().is_ok();
    let entries = list.split(|c: char| c == ',' || c.is_ascii_whitespace());
    entries.filter(|entry| !entry.is_empty()).any(|entry| {
        if entry == "*" {
            return true;
        }
        let entry = without_port(entry);
        let entry = entry.trim_start_matches('[').trim_end_matches(']');
        let entry = entry.trim_start_matches("*.").trim_start_matches('.');
        let entry = entry.strip_suffix('.').unwrap_or(entry);
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
            && host.as_bytes()[host.len() - entry.len()..].eq_ignore_ascii_case(entry.as_bytes())
    })
}

/// `entry` without a `:port` suffix; a bare IPv6 address keeps its colons.
fn without_port(entry: &str) -> &str {
    match entry.rsplit_once(':') {
        Some((name, port))
            if !name.is_empty()
                && !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && (name.ends_with(']') || !name.contains(':')) =>
        {
            name
        }
        _ => entry,
    }
}

/// Decodes `%XX` escapes (RFC 3986 §2.1) in a user or password.
fn percent_decode(s: &str) -> Result<String, ProxyConfigError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let byte = s
                .get(i + 1..i + 3)
                .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .ok_or(ProxyConfigError::InvalidCredentials)?;
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ProxyConfigError::InvalidCredentials)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::borrow::ToOwned;

    /// A lookup over these variables only.
    fn env(vars: &[(&str, &str)]) -> ProxyEnv {
        ProxyEnv::from_lookup(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    fn proxy(host: &str, port: u16) -> Option<Proxy> {
        Some(Proxy {
            host: host.into(),
            port,
            credentials: None,
        })
    }

    #[test]
    fn parses_proxy_settings() {
        let p = Proxy::parse(" http://ann:s%40cret%3a@proxy.local:3128/path ").unwrap();
        assert_eq!((p.host.as_str(), p.port), ("proxy.local", 3128));
        assert_eq!(p.credentials, Some(("ann".into(), "s@cret:".into())));
        assert_eq!(Proxy::parse("HTTP://h").unwrap(), proxy("h", 80).unwrap());
        assert_eq!(Proxy::parse("h:8080").unwrap(), proxy("h", 8080).unwrap());
        assert_eq!(Proxy::parse("[::1]").unwrap(), proxy("::1", 80).unwrap());
        assert_eq!(
            Proxy::parse("[::1]:3128").unwrap(),
            proxy("::1", 3128).unwrap()
        );
        let p = Proxy::parse("user@h").unwrap();
        assert_eq!(p.credentials, Some(("user".into(), String::new())));
        assert_eq!(
            Proxy::parse("socks5://h:1"),
            Err(ProxyConfigError::UnsupportedScheme("socks5".into()))
        );
        assert_eq!(
            Proxy::parse("https://h"),
            Err(ProxyConfigError::UnsupportedScheme("https".into()))
        );
        assert_eq!(Proxy::parse("http://:8080"), Err(ProxyConfigError::NoHost));
        assert_eq!(Proxy::parse("h:99999"), Err(ProxyConfigError::InvalidPort));
        assert_eq!(Proxy::parse("h:http"), Err(ProxyConfigError::InvalidPort));
        for bad in ["a%4@h", "a%zz@h", "a%+1@h", "a:%ff@h"] {
            assert_eq!(
                Proxy::parse(bad),
                Err(ProxyConfigError::InvalidCredentials),
                "{bad}"
            );
        }
    }

    #[test]
    fn errors_do_not_repeat_the_password() {
        let e = Proxy::parse("http://ann:hunter2%@:1").unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        let e = Proxy::parse("http://ann:hunter2@h:x").unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
    }

    #[test]
    fn the_request_carries_the_credentials() {
        let with = Proxy::parse("http://Aladdin:open%20sesame@p").unwrap();
        let mut out = Vec::new();
        with.request("example.com", 443)
            .unwrap()
            .write_to_vec(&mut out)
            .unwrap();
        assert_eq!(
            out,
            b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\
              Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n\r\n"
        );
        let without = Proxy::parse("p").unwrap().request("::1", 80).unwrap();
        let mut out = Vec::new();
        without.write_to_vec(&mut out).unwrap();
        assert_eq!(out, b"CONNECT [::1]:80 HTTP/1.1\r\nHost: [::1]:80\r\n\r\n");
        assert!(Proxy::parse("a%3ab@p").unwrap().request("h", 1).is_err());
    }

    #[test]
    fn no_proxy_star_and_domains() {
        assert!(no_proxy_covers("*", "example.com"));
        assert!(no_proxy_covers("*", "10.0.0.1"));
        assert!(!no_proxy_covers("*.*", "example.com"));
        for entry in ["example.com", ".example.com", "*.example.com"] {
            assert!(no_proxy_covers(entry, "example.com"), "{entry}");
            assert!(no_proxy_covers(entry, "a.example.com"), "{entry}");
            assert!(no_proxy_covers(entry, "a.b.example.com"), "{entry}");
            assert!(!no_proxy_covers(entry, "badexample.com"), "{entry}");
            assert!(!no_proxy_covers(entry, "example.com.evil"), "{entry}");
            assert!(!no_proxy_covers(entry, "com"), "{entry}");
        }
        assert!(no_proxy_covers("EXAMPLE.com", "a.Example.COM"));
        assert!(no_proxy_covers("example.com.", "a.example.com"));
        assert!(no_proxy_covers("example.com", "example.com."));
        assert!(!no_proxy_covers("", "example.com"));
        assert!(!no_proxy_covers(" , ,.", "example.com"));
    }

    #[test]
    fn no_proxy_lists_ports_and_addresses() {
        assert!(no_proxy_covers("a.test, localhost ,b.test", "localhost"));
        assert!(no_proxy_covers("a.test localhost", "localhost"));
        assert!(!no_proxy_covers("a.test,b.test", "localhost"));
        // A port is ignored, whichever the URL's.
        assert!(no_proxy_covers("localhost:8080", "localhost"));
        assert!(no_proxy_covers("127.0.0.1:80", "127.0.0.1"));
        assert!(no_proxy_covers("[::1]:443", "::1"));
        // Addresses match whole, never as suffixes, and not by value.
        assert!(no_proxy_covers("10.0.0.1", "10.0.0.1"));
        assert!(!no_proxy_covers("0.0.1", "127.0.0.1"));
        assert!(!no_proxy_covers("10.0.0.0/8", "10.0.0.1"));
        assert!(!no_proxy_covers("127.0.0.1", "localhost"));
        assert!(!no_proxy_covers("localhost", "127.0.0.1"));
        // IPv6, bracketed or not, on either side.
        assert!(no_proxy_covers("::1", "[::1]"));
        assert!(no_proxy_covers("[::1]", "::1"));
        assert!(no_proxy_covers("FE80::1", "[fe80::1]"));
        assert!(!no_proxy_covers("::1", "::2"));
    }

    #[test]
    fn lowercase_wins_and_empty_counts_as_unset() {
        let e = env(&[
            ("http_proxy", "http://lower:1"),
            ("HTTP_PROXY", "http://upper:1"),
            ("https_proxy", ""),
            ("HTTPS_PROXY", "upper-tls:2"),
            ("ALL_PROXY", "all:3"),
            ("no_proxy", " "),
            ("NO_PROXY", "skip.test"),
        ]);
        assert_eq!(e.http_proxy.as_deref(), Some("http://lower:1"));
        assert_eq!(e.https_proxy.as_deref(), Some("upper-tls:2"));
        assert_eq!(e.all_proxy.as_deref(), Some("all:3"));
        assert_eq!(e.no_proxy.as_deref(), Some("skip.test"));
        let e = env(&[
            ("HTTP_PROXY", "upper:1"),
            ("all_proxy", "a:1"),
            ("ALL_PROXY", "b:1"),
        ]);
        assert_eq!(e.http_proxy.as_deref(), Some("upper:1"));
        assert_eq!(e.all_proxy.as_deref(), Some("a:1"));
        assert_eq!(env(&[]), ProxyEnv::default());
    }

    #[test]
    fn a_cgi_request_cannot_set_the_http_proxy() {
        let cgi = env(&[("REQUEST_METHOD", "GET"), ("HTTP_PROXY", "evil:1")]);
        assert_eq!(cgi.http_proxy, None);
        assert_eq!(cgi.proxy_for("example.com", false), Ok(None));
        let cgi = env(&[("REQUEST_METHOD", "GET"), ("http_proxy", "p:1")]);
        assert_eq!(cgi.proxy_for("example.com", false), Ok(proxy("p", 1)));
        let cgi = env(&[("REQUEST_METHOD", "GET"), ("HTTPS_PROXY", "p:2")]);
        assert_eq!(cgi.proxy_for("example.com", true), Ok(proxy("p", 2)));
    }

    #[test]
    fn the_scheme_picks_the_variable() {
        let e = env(&[("http_proxy", "plain:1"), ("https_proxy", "tls:2")]);
        assert_eq!(e.proxy_for("example.com", false), Ok(proxy("plain", 1)));
        assert_eq!(e.proxy_for("example.com", true), Ok(proxy("tls", 2)));
        // Each falls back to all_proxy, never to the other's.
        let e = env(&[("http_proxy", "plain:1"), ("all_proxy", "all:3")]);
        assert_eq!(e.proxy_for("example.com", true), Ok(proxy("all", 3)));
        let e = env(&[("https_proxy", "tls:2")]);
        assert_eq!(e.proxy_for("example.com", false), Ok(None));
        assert_eq!(env(&[]).proxy_for("example.com", true), Ok(None));
    }

    #[test]
    fn no_proxy_comes_first_and_errors_surface() {
        let e = env(&[("https_proxy", "socks5://p:1"), ("no_proxy", "example.com")]);
        assert_eq!(e.proxy_for("a.example.com", true), Ok(None));
        assert_eq!(
            e.proxy_for("other.test", true),
            Err(ProxyConfigError::UnsupportedScheme("socks5".into()))
        );
        let e = env(&[("HTTP_PROXY", "p:1"), ("NO_PROXY", "*")]);
        assert_eq!(e.proxy_for("example.com", false), Ok(None));
    }
}
