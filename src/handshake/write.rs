//! Writing an HTTP/1.1 head: every writer (the 101, a rejection, a plain
//! page, a client's request, a proxy `CONNECT`) encodes through a [`Sink`]
//! twice, first to measure and check, then to write. The measuring pass
//! checks each piece the caller supplied against the [grammar](super::field);
//! only a head that passed is written, into a buffer known to be large
//! enough. So a bad field is a typed error with nothing written, and a
//! too-small buffer reports the size required, also with nothing written.

use super::error::{UsageError, WriteError};
use super::field;
use crate::error::BufferTooSmall;
use alloc::vec::Vec;
use core::fmt;

/// Where encoded bytes go.
pub(crate) trait Sink {
    /// Takes bytes of the head.
    fn put(&mut self, bytes: &[u8]);
    /// Takes the verdict on a piece of the caller's input; the measuring
    /// pass keeps the first failure.
    fn check(&mut self, verdict: Result<(), UsageError>);
}

/// The measuring pass: counts bytes and keeps the first failed check.
#[derive(Default)]
struct Measure {
    len: usize,
    error: Option<UsageError>,
}

impl Sink for Measure {
    fn put(&mut self, bytes: &[u8]) {
        self.len = self.len.saturating_add(bytes.len());
    }

    fn check(&mut self, verdict: Result<(), UsageError>) {
        if let (None, Err(e)) = (&self.error, verdict) {
            self.error = Some(e);
        }
    }
}

/// Writes into a slice the measuring pass found large enough.
struct Cursor<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl Sink for Cursor<'_> {
    fn put(&mut self, bytes: &[u8]) {
        // Measured first; never panic regardless.
        let end = self.pos.saturating_add(bytes.len()).min(self.buf.len());
        self.buf[self.pos..end].copy_from_slice(&bytes[..end - self.pos]);
        self.pos = end;
    }

    fn check(&mut self, _: Result<(), UsageError>) {}
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }

    fn check(&mut self, _: Result<(), UsageError>) {}
}

/// Measures and checks a head: its length, or the first failed check.
pub(crate) fn measure(encode: impl Fn(&mut dyn Sink)) -> Result<usize, UsageError> {
    let mut measure = Measure::default();
    encode(&mut measure);
    match measure.error {
        Some(e) => Err(e),
        None => Ok(measure.len),
    }
}

/// Writes a checked head into `out`: its length, or why nothing was
/// written.
pub(crate) fn write_into(
    out: &mut [u8],
    encode: impl Fn(&mut dyn Sink),
) -> Result<usize, WriteError> {
    let required = measure(&encode)?;
    if out.len() < required {
        return Err(WriteError::BufferTooSmall(BufferTooSmall { required }));
    }
    let mut cursor = Cursor { buf: out, pos: 0 };
    encode(&mut cursor);
    Ok(cursor.pos)
}

/// Appends a checked head to `out`: its length, or the failed check with
/// nothing appended.
pub(crate) fn write_to_vec(
    out: &mut Vec<u8>,
    encode: impl Fn(&mut dyn Sink),
) -> Result<usize, UsageError> {
    let len = measure(&encode)?;
    out.reserve(len);
    encode(out);
    Ok(len)
}

/// A checked head in a new vector.
pub(crate) fn to_vec(encode: impl Fn(&mut dyn Sink)) -> Result<Vec<u8>, UsageError> {
    let mut out = Vec::new();
    write_to_vec(&mut out, encode)?;
    Ok(out)
}

/// `fmt::Write` over a [`Sink`], for numbers.
struct FmtSink<'a>(&'a mut dyn Sink);

impl fmt::Write for FmtSink<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.put(s.as_bytes());
        Ok(())
    }
}

/// Writes `v` as text. Our `Display` impls never fail.
pub(crate) fn put_display(sink: &mut dyn Sink, v: &dyn fmt::Display) {
    let _ = fmt::write(&mut FmtSink(sink), format_args!("{v}"));
}

/// Writes a status line, checked (RFC 9112 §4).
pub(crate) fn put_status_line(sink: &mut dyn Sink, status: u16, reason: &str) {
    sink.check(field::check_status_line(status, reason));
    sink.put(b"HTTP/1.1 ");
    put_display(sink, &status);
    sink.put(b" ");
    sink.put(reason.as_bytes());
    sink.put(b"\r\n");
}

/// Writes a request line, checked (RFC 9112 §3: `method SP request-target
/// SP HTTP-version`; the target is visible ASCII, so it cannot hold the
/// space or CRLF that would end the line).
pub(crate) fn put_request_line(sink: &mut dyn Sink, method: &str, target: &str) {
    let target_ok = !target.is_empty() && target.bytes().all(|b| b.is_ascii_graphic());
    sink.check(if field::is_token(method.as_bytes()) && target_ok {
        Ok(())
    } else {
        Err(UsageError::InvalidTarget)
    });
    sink.put(method.as_bytes());
    sink.put(b" ");
    sink.put(target.as_bytes());
    sink.put(b" HTTP/1.1\r\n");
}

/// Writes a header field line, checked (RFC 9110 §5).
pub(crate) fn put_field(sink: &mut dyn Sink, name: &str, value: &[u8]) {
    sink.check(field::check_field(name, value));
    sink.put(name.as_bytes());
    sink.put(b": ");
    sink.put(value);
    sink.put(b"\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_written_when_short_or_invalid() {
        let mut out = [0u8; 3];
        let err = write_into(&mut out, |s| s.put(b"abcd")).unwrap_err();
        assert_eq!(
            (err, out),
            (
                WriteError::BufferTooSmall(BufferTooSmall { required: 4 }),
                [0; 3]
            )
        );
        assert_eq!(write_into(&mut [0u8; 4], |s| s.put(b"abcd")), Ok(4));

        let mut out = [0u8; 64];
        let err = write_into(&mut out, |s| put_field(s, "X", b"a\r\nb")).unwrap_err();
        assert_eq!(
            err,
            WriteError::Invalid(UsageError::InvalidHeader("X".into()))
        );
        assert_eq!(out, [0; 64]);
        let mut vec = Vec::new();
        assert!(write_to_vec(&mut vec, |s| put_status_line(s, 42, "")).is_err());
        assert!(vec.is_empty());
    }

    #[test]
    fn request_lines() {
        let mut vec = Vec::new();
        write_to_vec(&mut vec, |s| put_request_line(s, "GET", "/a?b")).unwrap();
        assert_eq!(vec, b"GET /a?b HTTP/1.1\r\n");
        for (method, target) in [("GET", "/a b"), ("GET", ""), ("G T", "/"), ("GET", "/\r\n")] {
            assert_eq!(
                measure(|s| put_request_line(s, method, target)),
                Err(UsageError::InvalidTarget)
            );
        }
    }
}
