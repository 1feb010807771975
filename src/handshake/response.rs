//! An HTTP/1.1 response: what a server writes (101, an error, or a plain
//! page) and what a client receives.

use super::error::{UsageError, WriteError};
use super::field;
use super::headers::Headers;
use super::write::{self, Sink};
use alloc::string::String;
use alloc::vec::Vec;

/// An HTTP/1.1 response head and body.
///
/// Built by a server with [`Response::new`] (or by the handshake: see
/// [`Request::accept`](super::Request::accept) and
/// [`HandshakeError::to_response`](super::HandshakeError::to_response)) and
/// written with [`Response::write`]; received by a client, complete with
/// the body bytes that came with the head.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Response {
    /// The status code, e.g. 101.
    pub status: u16,
    /// The reason phrase, e.g. `Switching Protocols`.
    pub reason: String,
    /// The header fields, in order.
    pub headers: Headers,
    /// The body. When writing a response that may have content (not 1xx,
    /// 204 or 304), a `Content-Length` is added for it unless one is
    /// already present (it must then be the body's length).
    /// When received by a client, the bytes that arrived with the head.
    pub body: Vec<u8>,
}

impl Response {
    /// A response with `status`, its standard [reason](reason_phrase), no
    /// fields and no body.
    pub fn new(status: u16) -> Response {
        Response {
            status,
            reason: reason_phrase(status).into(),
            headers: Headers::new(),
            body: Vec::new(),
        }
    }

    /// Adds a header field.
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> Response {
        self.headers.append(name, value);
        self
    }

    /// Sets the body.
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Response {
        self.body = body.into();
        self
    }

    /// Checks the response against the HTTP grammar and the RFCs without
    /// writing it: what [`Response::write`] would refuse.
    pub fn check(&self) -> Result<(), UsageError> {
        write::measure(|s| self.encode(s)).map(|_| ())
    }

    /// Writes the response into `out`, returning the length. Nothing is
    /// written when `out` is too small (the size required is returned) or
    /// when the response is invalid:
    ///
    /// - a status outside 100-999 or a reason with a control byte;
    /// - a field whose name is not a token or whose value is not a field
    ///   value (no CR, LF, NUL or other control byte but HTAB, no
    ///   whitespace at either end): the caller's input can never end a field
    ///   early and write a second response (CWE-113);
    /// - content on a 1xx, 204 or 304 response; a `Content-Length` that
    ///   differs from the body, or on a 1xx or 204; any
    ///   `Transfer-Encoding` (the body is written as is, framed by its
    ///   length).
    pub fn write(&self, out: &mut [u8]) -> Result<usize, WriteError> {
        write::write_into(out, |s| self.encode(s))
    }

    /// The number of bytes [`Response::write`] needs, or why it would
    /// refuse.
    pub fn encoded_len(&self) -> Result<usize, UsageError> {
        write::measure(|s| self.encode(s))
    }

    /// Appends the response to `out`, checked as [`Response::write`] does
    /// (nothing appended on an error).
    pub fn write_to_vec(&self, out: &mut Vec<u8>) -> Result<(), UsageError> {
        write::write_to_vec(out, |s| self.encode(s)).map(|_| ())
    }

    /// The response as bytes, checked as [`Response::write`] does.
    pub fn to_vec(&self) -> Result<Vec<u8>, UsageError> {
        write::to_vec(|s| self.encode(s))
    }

    /// Checks how the content is framed (RFC 9110 §6.4.1, §8.6; RFC 9112
    /// §6): whether a `Content-Length` is to be added for the body.
    fn check_framing(&self) -> Result<bool, UsageError> {
        if self.headers.contains("Transfer-Encoding") {
            return Err(UsageError::ContentFraming("Transfer-Encoding"));
        }
        let lengths = self.headers.count("Content-Length");
        if !field::may_have_content(self.status) {
            if !self.body.is_empty() {
                return Err(UsageError::ContentNotAllowed(self.status));
            }
            // A 304's Content-Length describes the selected representation.
            if lengths > 0 && self.status != 304 {
                return Err(UsageError::ContentFraming("Content-Length"));
            }
            return Ok(false);
        }
        match self.headers.get("Content-Length") {
            None => Ok(true),
            Some(given) if lengths == 1 && parse_length(given) == Some(self.body.len()) => {
                Ok(false)
            }
            Some(_) => Err(UsageError::ContentFraming("Content-Length")),
        }
    }

    fn encode(&self, s: &mut dyn Sink) {
        write::put_status_line(s, self.status, &self.reason);
        for (name, value) in self.headers.iter() {
            write::put_field(s, name, value);
        }
        let add_length = self.check_framing();
        if add_length == Ok(true) {
            s.put(b"Content-Length: ");
            write::put_display(s, &self.body.len());
            s.put(b"\r\n");
        }
        s.check(add_length.map(|_| ()));
        s.put(b"\r\n");
        s.put(&self.body);
    }
}

/// A `Content-Length` value: `1*DIGIT`, within `usize`.
fn parse_length(value: &[u8]) -> Option<usize> {
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return None;
    }
    core::str::from_utf8(value).ok()?.parse().ok()
}

/// The standard reason phrase of a status code (RFC 9110 §15), or `""`.
pub const fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::BufferTooSmall;

    #[test]
    fn writes_length_for_responses_with_content_only() {
        let page = Response::new(200)
            .with_header("Content-Type", "text/plain")
            .with_body("hi");
        let mut out = [0u8; 128];
        let n = page.write(&mut out).unwrap();
        assert_eq!(
            &out[..n],
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi"
        );
        assert_eq!(page.encoded_len(), Ok(n));
        let n = Response::new(101).write(&mut out).unwrap();
        assert_eq!(&out[..n], b"HTTP/1.1 101 Switching Protocols\r\n\r\n");
        assert_eq!(
            page.write(&mut out[..10]),
            Err(WriteError::BufferTooSmall(BufferTooSmall {
                required: page.encoded_len().unwrap()
            }))
        );
        let given = Response::new(200)
            .with_header("content-length", "2")
            .with_body("hi");
        let mut vec = Vec::new();
        given.write_to_vec(&mut vec).unwrap();
        assert_eq!(vec, b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nhi");
    }

    /// Issue 14, item 1: every way the caller's input could split the head
    /// or frame content wrongly is refused, with nothing written.
    #[test]
    fn refuses_what_would_split_or_misframe_the_response() {
        let cases = [
            (
                Response::new(401)
                    .with_header("WWW-Authenticate", "Basic\r\n\r\nHTTP/1.1 200 OK\r\n"),
                UsageError::InvalidHeader("WWW-Authenticate".into()),
            ),
            (
                Response::new(200).with_header("X\r\nY", "1"),
                UsageError::InvalidHeader("X\r\nY".into()),
            ),
            (Response::new(7), UsageError::InvalidStatus(7)),
            (Response::new(1000), UsageError::InvalidStatus(1000)),
            (
                {
                    let mut r = Response::new(200);
                    r.reason = "OK\r\nSet-Cookie: a=b".into();
                    r
                },
                UsageError::InvalidReason,
            ),
            (
                Response::new(204).with_body("x"),
                UsageError::ContentNotAllowed(204),
            ),
            (
                Response::new(304).with_body("x"),
                UsageError::ContentNotAllowed(304),
            ),
            (
                Response::new(101).with_body("x"),
                UsageError::ContentNotAllowed(101),
            ),
            (
                Response::new(204).with_header("Content-Length", "0"),
                UsageError::ContentFraming("Content-Length"),
            ),
            (
                Response::new(200)
                    .with_header("Content-Length", "0")
                    .with_body("HTTP/1.1 200 OK\r\n\r\n"),
                UsageError::ContentFraming("Content-Length"),
            ),
            (
                Response::new(200)
                    .with_header("Content-Length", "2")
                    .with_header("Content-Length", "2")
                    .with_body("hi"),
                UsageError::ContentFraming("Content-Length"),
            ),
            (
                Response::new(200).with_header("Transfer-Encoding", "chunked"),
                UsageError::ContentFraming("Transfer-Encoding"),
            ),
        ];
        for (response, expected) in cases {
            let mut out = [0u8; 256];
            assert_eq!(
                response.write(&mut out),
                Err(WriteError::Invalid(expected.clone())),
                "{response:?}"
            );
            assert_eq!(out, [0; 256]);
            let mut vec = Vec::new();
            assert_eq!(response.write_to_vec(&mut vec), Err(expected.clone()));
            assert!(vec.is_empty());
            assert_eq!(response.check(), Err(expected));
        }
        // A 304 may describe its representation's length.
        assert_eq!(
            Response::new(304)
                .with_header("Content-Length", "10")
                .check(),
            Ok(())
        );
    }
}
