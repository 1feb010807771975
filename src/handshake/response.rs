//! An HTTP/1.1 response: what a server writes (101, an error, or a plain
//! page) and what a client receives.

use super::headers::Headers;
use super::{put_display, put_header, write_into, Sink};
use crate::error::BufferTooSmall;
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
    /// The body. When writing a final (2xx-5xx) response, a
    /// `Content-Length` is added for it unless one is already present.
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

    /// Writes the response into `out`, returning the length, or the size
    /// required, writing nothing.
    pub fn write(&self, out: &mut [u8]) -> Result<usize, BufferTooSmall> {
        write_into(out, |s| self.encode(s))
    }

    /// The number of bytes [`Response::write`] needs.
    pub fn encoded_len(&self) -> usize {
        let mut count = super::Count(0);
        self.encode(&mut count);
        count.0
    }

    /// Appends the response to `out`.
    pub fn write_to_vec(&self, out: &mut Vec<u8>) {
        self.encode(out);
    }

    /// Whether a `Content-Length` is written: RFC 7230 §3.3.2 forbids it on
    /// 1xx and 204, and on 304 it would describe another response.
    fn needs_length(&self) -> bool {
        !matches!(self.status, 100..=199 | 204 | 304) && !self.headers.contains("Content-Length")
    }

    fn encode(&self, s: &mut dyn Sink) {
        s.put(b"HTTP/1.1 ");
        put_display(s, &self.status);
        s.put(b" ");
        s.put(self.reason.as_bytes());
        s.put(b"\r\n");
        for (name, value) in self.headers.iter() {
            put_header(s, name, value);
        }
        if self.needs_length() {
            s.put(b"Content-Length: ");
            put_display(s, &self.body.len());
            s.put(b"\r\n");
        }
        s.put(b"\r\n");
        s.put(&self.body);
    }
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

    #[test]
    fn writes_length_for_final_responses_only() {
        let page = Response::new(200)
            .with_header("Content-Type", "text/plain")
            .with_body("hi");
        let mut out = [0u8; 128];
        let n = page.write(&mut out).unwrap();
        assert_eq!(
            &out[..n],
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi"
        );
        assert_eq!(page.encoded_len(), n);
        let n = Response::new(101).write(&mut out).unwrap();
        assert_eq!(&out[..n], b"HTTP/1.1 101 Switching Protocols\r\n\r\n");
        assert_eq!(
            page.write(&mut out[..10]),
            Err(BufferTooSmall {
                required: page.encoded_len()
            })
        );
    }
}
