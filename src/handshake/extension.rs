//! The `Sec-WebSocket-Extensions` grammar (RFC 6455 §9.1, with the list and
//! quoted-string rules of RFC 7230 §7 and §3.2.6): a parser and a writer.
//!
//! ```text
//! extension-list = 1#extension
//! extension      = extension-token *( ";" extension-param )
//! extension-token = registered-token
//! registered-token = token
//! extension-param = token [ "=" (token | quoted-string) ]
//!     ;When using the quoted-string syntax variant, the value
//!     ;after quoted-string unescaping MUST conform to the
//!     ;'token' ABNF.
//! ```
//!
//! Negotiation (which offers to accept, with which parameters) belongs to
//! each extension; this module only reads and writes the syntax.

use super::field::{is_tchar, is_token};
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

/// One element of an extension list: an offer in a client's request, or an
/// accepted extension in a server's response.
///
/// ```
/// use wsproto::handshake::ExtensionOffer;
///
/// let offers = ExtensionOffer::parse_list("permessage-deflate; client_max_window_bits, x-foo; a=\"1\"").unwrap();
/// assert_eq!(offers[0].name, "permessage-deflate");
/// assert_eq!(offers[0].param("client_max_window_bits"), Some(None));
/// assert_eq!(offers[1].param("a"), Some(Some("1")));
/// assert_eq!(offers[1].to_string(), "x-foo; a=1");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ExtensionOffer {
    /// The extension's registered token, e.g. `permessage-deflate`.
    pub name: String,
    /// Its parameters in order: a name, and a value unless the parameter is
    /// a bare flag. Quoted values are stored unescaped.
    pub params: Vec<(String, Option<String>)>,
}

/// A `Sec-WebSocket-Extensions` value that does not follow §9.1; the byte
/// offset where parsing stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid extension list at byte {offset}")]
pub struct ExtensionSyntaxError {
    /// Offset into the value where the grammar was broken.
    pub offset: usize,
}

impl ExtensionOffer {
    /// An extension with no parameters.
    pub fn new(name: impl Into<String>) -> ExtensionOffer {
        ExtensionOffer {
            name: name.into(),
            params: Vec::new(),
        }
    }

    /// Adds a parameter, `name` or `name=value`.
    pub fn with_param(
        mut self,
        name: impl Into<String>,
        value: Option<impl Into<String>>,
    ) -> ExtensionOffer {
        self.params.push((name.into(), value.map(Into::into)));
        self
    }

    /// The first parameter called `name` (ASCII case-insensitive):
    /// `Some(None)` for a flag, `Some(Some(value))` for a value.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }

    /// Whether the name, every parameter name and every value are tokens, so
    /// the writer produces a value the §9.1 grammar accepts.
    pub fn is_valid(&self) -> bool {
        is_token(self.name.as_bytes())
            && self.params.iter().all(|(n, v)| {
                is_token(n.as_bytes()) && v.as_ref().is_none_or(|v| is_token(v.as_bytes()))
            })
    }

    /// Parses one header value, a non-empty comma-separated list.
    pub fn parse_list(value: &str) -> Result<Vec<ExtensionOffer>, ExtensionSyntaxError> {
        let mut out = Vec::new();
        Self::parse_list_into(value.as_bytes(), &mut out)?;
        Ok(out)
    }

    /// Parses one header value and appends its elements to `out` (a
    /// repeated header field continues the same list). On error `out` is
    /// left as it was.
    pub fn parse_list_into(
        value: &[u8],
        out: &mut Vec<ExtensionOffer>,
    ) -> Result<(), ExtensionSyntaxError> {
        let before = out.len();
        let result = Parser { s: value, pos: 0 }.list(out);
        if result.is_err() {
            out.truncate(before);
        }
        result
    }

    /// Writes a list as one header value: elements joined with `", "`.
    pub fn write_list(list: &[ExtensionOffer], w: &mut dyn fmt::Write) -> fmt::Result {
        for (i, ext) in list.iter().enumerate() {
            if i > 0 {
                w.write_str(", ")?;
            }
            write!(w, "{ext}")?;
        }
        Ok(())
    }
}

/// Writes `name; param; param=value`, quoting a value that is not a token.
impl fmt::Display for ExtensionOffer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        for (name, value) in &self.params {
            write!(f, "; {name}")?;
            match value {
                None => {}
                Some(v) if is_token(v.as_bytes()) => write!(f, "={v}")?,
                Some(v) => {
                    f.write_str("=\"")?;
                    for c in v.chars() {
                        if c == '"' || c == '\\' {
                            f.write_str("\\")?;
                        }
                        write!(f, "{c}")?;
                    }
                    f.write_str("\"")?;
                }
            }
        }
        Ok(())
    }
}

/// A cursor over one header value.
struct Parser<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Parser<'_> {
    fn err(&self) -> ExtensionSyntaxError {
        ExtensionSyntaxError { offset: self.pos }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_ows(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
    }

    fn token(&mut self) -> Result<String, ExtensionSyntaxError> {
        let start = self.pos;
        while self.peek().is_some_and(is_tchar) {
            self.pos += 1;
        }
        if start == self.pos {
            return Err(self.err());
        }
        // tchar is ASCII.
        Ok(self.s[start..self.pos].iter().map(|&b| b as char).collect())
    }

    /// RFC 7230 §3.2.6: `quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE`,
    /// unescaped; §9.1 then requires the result to be a token.
    fn quoted(&mut self) -> Result<String, ExtensionSyntaxError> {
        let start = self.pos;
        self.pos += 1; // the opening quote
        let mut out = String::new();
        loop {
            match self.peek() {
                Some(b'"') => break,
                Some(b'\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(b) if is_tchar(b) => out.push(b as char),
                        _ => return Err(self.err()),
                    }
                }
                Some(b) if is_tchar(b) => out.push(b as char),
                _ => return Err(self.err()),
            }
            self.pos += 1;
        }
        self.pos += 1; // the closing quote
        if out.is_empty() {
            return Err(ExtensionSyntaxError { offset: start });
        }
        Ok(out)
    }

    fn extension(&mut self) -> Result<ExtensionOffer, ExtensionSyntaxError> {
        let mut ext = ExtensionOffer::new(self.token()?);
        self.skip_ows();
        while self.peek() == Some(b';') {
            self.pos += 1;
            self.skip_ows();
            let name = self.token()?;
            self.skip_ows();
            let value = if self.peek() == Some(b'=') {
                self.pos += 1;
                self.skip_ows();
                let v = if self.peek() == Some(b'"') {
                    self.quoted()?
                } else {
                    self.token()?
                };
                self.skip_ows();
                Some(v)
            } else {
                None
            };
            ext.params.push((name, value));
        }
        Ok(ext)
    }

    /// RFC 7230 §7: `1#element => *( "," OWS ) element *( OWS "," [ OWS element ] )`.
    fn list(&mut self, out: &mut Vec<ExtensionOffer>) -> Result<(), ExtensionSyntaxError> {
        let mut count = 0;
        loop {
            self.skip_ows();
            match self.peek() {
                None => break,
                Some(b',') => self.pos += 1,
                Some(_) => {
                    out.push(self.extension()?);
                    count += 1;
                    match self.peek() {
                        None | Some(b',') => {}
                        Some(_) => return Err(self.err()),
                    }
                }
            }
        }
        if count == 0 {
            return Err(self.err());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn rfc_7692_examples() {
        let v = "permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate";
        let list = ExtensionOffer::parse_list(v).unwrap();
        assert_eq!(
            list,
            [
                ExtensionOffer::new("permessage-deflate")
                    .with_param("client_max_window_bits", None::<String>)
                    .with_param("server_max_window_bits", Some("10")),
                ExtensionOffer::new("permessage-deflate"),
            ]
        );
        let mut written = String::new();
        ExtensionOffer::write_list(&list, &mut written).unwrap();
        assert_eq!(written, v);
    }

    #[test]
    fn whitespace_quotes_and_empty_elements() {
        let list = ExtensionOffer::parse_list(" , foo ;a = \"1\\0\" ;b,,\tbar\t,").unwrap();
        assert_eq!(
            list[0],
            ExtensionOffer::new("foo")
                .with_param("a", Some("10"))
                .with_param("b", None::<String>)
        );
        assert_eq!(list[1], ExtensionOffer::new("bar"));
    }

    #[test]
    fn syntax_errors() {
        for bad in [
            "",
            " , ",
            "a b",
            "a;",
            "a;=1",
            "a; b=",
            "a; b=\"\"",
            "a; b=\"x y\"",
            "a; b=\"x",
            "\"a\"",
            "a; b=c d",
        ] {
            assert!(ExtensionOffer::parse_list(bad).is_err(), "{bad:?}");
        }
        let mut out = alloc::vec![ExtensionOffer::new("kept")];
        assert!(ExtensionOffer::parse_list_into(b"x, y;", &mut out).is_err());
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn writer_quotes_non_tokens() {
        let ext = ExtensionOffer::new("x").with_param("p", Some("a b\"c"));
        assert_eq!(ext.to_string(), "x; p=\"a b\\\"c\"");
        assert!(!ext.is_valid());
    }
}
