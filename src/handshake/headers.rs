//! A list of header fields in arrival order, with the lookups the handshake
//! needs: by name (ASCII case-insensitive), repeated fields, and the elements
//! of comma-separated lists across repeated fields.

use super::split_list;
use alloc::string::String;
use alloc::vec::Vec;

/// Header fields in the order they were received or added.
///
/// Names compare ASCII case-insensitively (RFC 7230 §3.2). Values are kept
/// as bytes: HTTP allows `obs-text` (bytes 0x80-0xFF) in a value;
/// [`Headers::get_str`] gives the UTF-8 view.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers {
    entries: Vec<(String, Vec<u8>)>,
}

impl Headers {
    /// An empty list.
    pub const fn new() -> Headers {
        Headers {
            entries: Vec::new(),
        }
    }

    /// Adds a field at the end, after any of the same name.
    pub fn append(&mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) {
        self.entries.push((name.into(), value.into()));
    }

    /// The value of the first field called `name`.
    pub fn get(&self, name: &str) -> Option<&[u8]> {
        self.entries
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// The value of the first field called `name`, if it is UTF-8.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(|v| core::str::from_utf8(v).ok())
    }

    /// The values of every field called `name`, in order.
    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.entries
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }

    /// How many fields are called `name`.
    pub fn count(&self, name: &str) -> usize {
        self.get_all(name).count()
    }

    /// Whether a field called `name` is present.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// The elements of the comma-separated lists in every field called
    /// `name`, trimmed of whitespace, empty elements skipped (RFC 7230 §7:
    /// a repeated field is equivalent to one field whose values are joined
    /// with commas). For lists without quoted strings: `Connection`,
    /// `Upgrade`, `Sec-WebSocket-Protocol`, `Sec-WebSocket-Version`.
    pub fn list<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.get_all(name).flat_map(split_list)
    }

    /// Whether the comma-separated lists of the fields called `name`
    /// contain `token`, compared ASCII case-insensitively.
    pub fn has_token(&self, name: &str, token: &str) -> bool {
        self.list(name)
            .any(|t| t.eq_ignore_ascii_case(token.as_bytes()))
    }

    /// Every field as `(name, value)`, in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> + '_ {
        self.entries.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Copies the fields a parser found.
    pub(crate) fn from_parsed(parsed: &[httparse::Header<'_>]) -> Headers {
        let entries = parsed
            .iter()
            .map(|h| (String::from(h.name), Vec::from(h.value)))
            .collect();
        Headers { entries }
    }
}

impl<N: Into<String>, V: Into<Vec<u8>>> FromIterator<(N, V)> for Headers {
    fn from_iter<I: IntoIterator<Item = (N, V)>>(iter: I) -> Self {
        let entries = iter
            .into_iter()
            .map(|(n, v)| (n.into(), v.into()))
            .collect();
        Headers { entries }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_span_repeated_fields() {
        let h: Headers = [
            ("Connection", "keep-alive, Upgrade"),
            ("connection", " , close ,"),
        ]
        .into_iter()
        .collect();
        let all: Vec<&[u8]> = h.list("CONNECTION").collect();
        assert_eq!(all, [&b"keep-alive"[..], b"Upgrade", b"close"]);
        assert!(h.has_token("Connection", "upgrade"));
        assert!(!h.has_token("Connection", "upgrad"));
        assert_eq!(h.count("connection"), 2);
        assert_eq!(h.get_str("Connection"), Some("keep-alive, Upgrade"));
    }
}
