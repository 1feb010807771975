//! `host [":" port]`, the authority of a URL and the value of `Host` (RFC
//! 3986 §3.2.2-3.2.3, RFC 9110 §7.2), parsed in one place for the URL of a
//! client, the `Host` a server receives, and a proxy's `CONNECT` target.

use core::net::Ipv6Addr;

/// A parsed `uri-host [":" port]`, borrowing the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Authority<'a> {
    /// The host as written, with the brackets of an IPv6 literal.
    pub(crate) host: &'a str,
    /// The port, if one was written (`host:` has none).
    pub(crate) port: Option<u16>,
}

impl<'a> Authority<'a> {
    /// Parses `uri-host [":" port]`, refusing user information, an empty
    /// host and anything outside the grammar (the reason, for an error):
    ///
    /// ```text
    /// uri-host    = IP-literal / IPv4address / reg-name
    /// IP-literal  = "[" IPv6address "]"          ; IPvFuture is refused
    /// reg-name    = *( unreserved / pct-encoded / sub-delims )
    /// port        = *DIGIT                        ; at most 65535 here
    /// ```
    pub(crate) fn parse(text: &'a str) -> Result<Authority<'a>, &'static str> {
        if text.contains('@') {
            return Err("user information is not allowed");
        }
        let (host, port) = if let Some(v6) = text.strip_prefix('[') {
            let (addr, after) = v6.split_once(']').ok_or("unclosed IPv6 literal")?;
            if addr.parse::<Ipv6Addr>().is_err() {
                return Err("invalid IPv6 literal");
            }
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or("junk after IPv6 literal")?),
            };
            (&text[..addr.len() + 2], port)
        } else {
            let (host, port) = match text.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (text, None),
            };
            if host.is_empty() || !is_reg_name(host.as_bytes()) {
                return Err("invalid host");
            }
            (host, port)
        };
        let port = match port {
            None | Some("") => None,
            Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => {
                Some(p.parse().map_err(|_| "port out of range")?)
            }
            Some(_) => return Err("invalid port"),
        };
        Ok(Authority { host, port })
    }

    /// The host without the brackets of an IPv6 literal.
    pub(crate) fn bare_host(&self) -> &'a str {
        self.host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(self.host)
    }
}

/// RFC 3986 §3.2.2: `reg-name = *( unreserved / pct-encoded / sub-delims )`
/// (an IPv4 address is a reg-name too).
fn is_reg_name(name: &[u8]) -> bool {
    let mut i = 0;
    while let Some(&b) = name.get(i) {
        if b == b'%' {
            match name.get(i + 1..i + 3) {
                Some([h, l]) if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => i += 3,
                _ => return false,
            }
        } else if b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=".contains(&b) {
            i += 1;
        } else {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hosts_and_ports() {
        let a = Authority::parse("example.com:8080").unwrap();
        assert_eq!((a.host, a.port), ("example.com", Some(8080)));
        let a = Authority::parse("[::1]:443").unwrap();
        assert_eq!((a.host, a.bare_host(), a.port), ("[::1]", "::1", Some(443)));
        assert_eq!(Authority::parse("h:").unwrap().port, None);
        assert_eq!(Authority::parse("10.0.0.1").unwrap().host, "10.0.0.1");
        assert_eq!(Authority::parse("a%20b").unwrap().host, "a%20b");
    }

    #[test]
    fn refuses_what_is_not_an_authority() {
        for bad in [
            "", ":80", "a b", "a@b/c", "a@b", "a/b", "a?b", "a#b", "h:99999", "h:8x", "h:-1",
            "[::1", "[::1]x", "[]", "[zz]", "[::1]:x", "a%2", "a%zz", "a\r\nb", "a\0", "é",
            "h:80:80",
        ] {
            assert!(Authority::parse(bad).is_err(), "{bad:?}");
        }
    }
}
