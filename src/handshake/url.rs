//! `ws://` and `wss://` URLs (RFC 6455 §3), just enough for a handshake.

use super::authority::Authority;
use super::error::UsageError;
use alloc::format;
use alloc::string::String;
use core::fmt;

/// A parsed WebSocket URL.
///
/// §3: `ws-URI = "ws:" "//" host [ ":" port ] path [ "?" query ]`, and the
/// same for `wss` (TLS). "Fragment identifiers are meaningless in the
/// context of WebSocket URIs and MUST NOT be used on these URIs", so a `#`
/// is refused, as is user information (not in the grammar).
///
/// ```
/// use wsproto::handshake::WsUrl;
///
/// let url = WsUrl::parse("wss://[::1]:8443/chat?room=1").unwrap();
/// assert_eq!((url.host(), url.port(), url.resource()), ("::1", 8443, "/chat?room=1"));
/// assert_eq!(url.host_header(), "[::1]:8443");
/// assert_eq!(WsUrl::parse("ws://example.com:80").unwrap().host_header(), "example.com");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WsUrl {
    secure: bool,
    /// As written, with brackets for an IPv6 literal.
    host: String,
    port: u16,
    /// Path and query; at least `/`.
    resource: String,
}

impl WsUrl {
    /// Parses a `ws://` or `wss://` URL (scheme and host case-insensitive,
    /// kept as written; an empty path becomes `/`).
    pub fn parse(url: &str) -> Result<WsUrl, UsageError> {
        let (scheme, rest) = url
            .split_once("://")
            .ok_or(UsageError::InvalidUrl("no scheme"))?;
        let secure = if scheme.eq_ignore_ascii_case("ws") {
            false
        } else if scheme.eq_ignore_ascii_case("wss") {
            true
        } else {
            return Err(UsageError::InvalidUrl("scheme is not ws or wss"));
        };
        if rest.contains('#') {
            return Err(UsageError::InvalidUrl("fragments MUST NOT be used (§3)"));
        }
        let split = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, resource) = rest.split_at(split);
        let authority = Authority::parse(authority).map_err(UsageError::InvalidUrl)?;
        let host = authority.host;
        let port = authority.port.unwrap_or(if secure { 443 } else { 80 });
        // The resource goes on the request line: printable ASCII only.
        if !resource.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(UsageError::InvalidUrl(
                "path or query not printable ASCII (percent-encode it)",
            ));
        }
        let resource = if resource.starts_with('/') {
            resource.into()
        } else {
            format!("/{resource}")
        };
        Ok(WsUrl {
            secure,
            host: host.into(),
            port,
            resource,
        })
    }

    /// Whether the scheme is `wss` (TLS).
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The host to connect to: a name or an address, without the brackets
    /// of an IPv6 literal.
    pub fn host(&self) -> &str {
        Authority::parse(&self.host).map_or(&self.host, |a| a.bare_host())
    }

    /// The port: as given, or 80 for `ws` and 443 for `wss`.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// §3 "resource name": the path (at least `/`) and the query.
    pub fn resource(&self) -> &str {
        &self.resource
    }

    /// The `Host` header value. §4.1: "The request MUST contain a |Host|
    /// header field whose value contains /host/ plus optionally ":" followed
    /// by /port/ (when not using the default port)."
    pub fn host_header(&self) -> String {
        if self.port == if self.secure { 443 } else { 80 } {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl fmt::Display for WsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.secure { "wss" } else { "ws" };
        write!(f, "{scheme}://{}{}", self.host_header(), self.resource)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn parses_the_parts() {
        let u = WsUrl::parse("WS://Example.com:8080?x=1").unwrap();
        assert_eq!(
            (u.is_secure(), u.host(), u.port(), u.resource()),
            (false, "Example.com", 8080, "/?x=1")
        );
        assert_eq!(u.to_string(), "ws://Example.com:8080/?x=1");
        let u = WsUrl::parse("wss://h/a/b?c").unwrap();
        assert_eq!(
            (u.port(), u.resource(), u.host_header().as_str()),
            (443, "/a/b?c", "h")
        );
        assert_eq!(WsUrl::parse("wss://h:443/").unwrap().host_header(), "h");
        assert_eq!(WsUrl::parse("ws://h:443/").unwrap().host_header(), "h:443");
        assert_eq!(
            WsUrl::parse("ws://[fe80::1]").unwrap().host_header(),
            "[fe80::1]"
        );
        assert_eq!(WsUrl::parse("ws://h:").unwrap().port(), 80);
    }

    #[test]
    fn refuses_what_section_3_does_not_allow() {
        for bad in [
            "http://h/",
            "h/",
            "ws://h/#frag",
            "ws://u@h/",
            "ws:///path",
            "ws://h:99999/",
            "ws://h:8x/",
            "ws://[::1/",
            "ws://[::1]x/",
            "ws://[]/",
            "ws://h/a b",
            "ws://h/é",
        ] {
            assert!(
                matches!(WsUrl::parse(bad), Err(UsageError::InvalidUrl(_))),
                "{bad}"
            );
        }
    }
}
