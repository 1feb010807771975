//! Reading an HTTP/1.x head incrementally, for both roles: buffering within
//! the limits, driving `httparse`, and handing over the bytes after the head.

use super::headers::Headers;
use super::HandshakeError;
use crate::frame::Status;
use alloc::string::String;
use alloc::vec;
use bytes::BytesMut;

/// Field tables up to this size (the default limit) stay on the stack.
const STACK_FIELDS: usize = 64;

/// Bounds on an HTTP head, checked as bytes arrive: past one, the handshake
/// fails (431 for a request) and nothing more is buffered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The most bytes the head may take, request or status line and final
    /// empty line included. Default 8 KiB.
    pub max_head_bytes: usize,
    /// The most header fields the head may carry. Default 64. The parser's
    /// field table has this size: on the stack up to 64, else allocated
    /// for each parse attempt.
    pub max_headers: usize,
}

impl Limits {
    /// The defaults: 8 KiB, 64 fields.
    pub const DEFAULT: Limits = Limits {
        max_head_bytes: 8 << 10,
        max_headers: 64,
    };

    /// Limits of `max_head_bytes` bytes and `max_headers` fields.
    pub const fn new(max_head_bytes: usize, max_headers: usize) -> Limits {
        Limits {
            max_head_bytes,
            max_headers,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// A head type the reader can produce: an owned copy of what `httparse`
/// found, so nothing borrows the reader's buffer.
pub(crate) trait ParseHead: Sized {
    /// Parses `buf` with room for `headers.len()` fields: the head and its
    /// length, `Partial`, or the parser's error.
    fn parse<'b>(
        buf: &'b [u8],
        headers: &mut [httparse::Header<'b>],
    ) -> httparse::Result<(Self, usize)>;
}

/// A request head, as parsed.
#[derive(Debug)]
pub(crate) struct RequestHead {
    pub(crate) method: String,
    pub(crate) target: String,
    pub(crate) minor_version: u8,
    pub(crate) headers: Headers,
}

impl ParseHead for RequestHead {
    fn parse<'b>(
        buf: &'b [u8],
        headers: &mut [httparse::Header<'b>],
    ) -> httparse::Result<(Self, usize)> {
        let mut req = httparse::Request::new(headers);
        Ok(match req.parse(buf)? {
            httparse::Status::Partial => httparse::Status::Partial,
            httparse::Status::Complete(n) => httparse::Status::Complete((
                RequestHead {
                    method: req.method.unwrap_or_default().into(),
                    target: req.path.unwrap_or_default().into(),
                    minor_version: req.version.unwrap_or_default(),
                    headers: Headers::from_parsed(req.headers),
                },
                n,
            )),
        })
    }
}

/// A response head, as parsed.
#[derive(Debug)]
pub(crate) struct ResponseHead {
    pub(crate) minor_version: u8,
    pub(crate) status: u16,
    pub(crate) reason: String,
    pub(crate) headers: Headers,
}

impl ParseHead for ResponseHead {
    fn parse<'b>(
        buf: &'b [u8],
        headers: &mut [httparse::Header<'b>],
    ) -> httparse::Result<(Self, usize)> {
        let mut res = httparse::Response::new(headers);
        Ok(match res.parse(buf)? {
            httparse::Status::Partial => httparse::Status::Partial,
            httparse::Status::Complete(n) => httparse::Status::Complete((
                ResponseHead {
                    minor_version: res.version.unwrap_or_default(),
                    status: res.code.unwrap_or_default(),
                    reason: res.reason.unwrap_or_default().into(),
                    headers: Headers::from_parsed(res.headers),
                },
                n,
            )),
        })
    }
}

/// The reader's life: reading, then done or failed for good.
#[derive(Debug)]
enum State {
    Reading,
    Done,
    Failed(HandshakeError),
}

/// Buffers a head as it arrives, never past [`Limits::max_head_bytes`].
#[derive(Debug)]
pub(crate) struct HeadReader {
    buf: BytesMut,
    /// Where the head being read starts in `buf`: after the heads skipped
    /// (a proxy's informational answers), which count against the limit.
    start: usize,
    limits: Limits,
    state: State,
}

impl HeadReader {
    pub(crate) fn new(limits: Limits) -> HeadReader {
        HeadReader {
            buf: BytesMut::new(),
            start: 0,
            limits,
            state: State::Reading,
        }
    }

    /// Records a failure so that every later call returns it too.
    pub(crate) fn fail(&mut self, error: HandshakeError) -> HandshakeError {
        self.buf = BytesMut::new();
        self.start = 0;
        self.state = State::Failed(error.clone());
        error
    }

    /// Takes `data`: `Partial` while the head is incomplete (everything
    /// kept), then the head and the bytes that followed it, from this call
    /// and earlier ones.
    ///
    /// Only bytes that can still belong to the head are buffered: a head
    /// that has not ended within `max_head_bytes` fails with
    /// [`HandshakeError::HeadTooLarge`], whatever the size of `data`.
    pub(crate) fn read<H: ParseHead>(
        &mut self,
        data: &[u8],
    ) -> Result<Status<(H, BytesMut)>, HandshakeError> {
        self.read_skipping(data, |_: &H| false)
    }

    /// As [`HeadReader::read`], but heads for which `skip` is true are
    /// passed over and the next one read from the bytes after them, in the
    /// same buffer, without copying: every head read, skipped or not,
    /// counts against the one `max_head_bytes`.
    pub(crate) fn read_skipping<H: ParseHead>(
        &mut self,
        data: &[u8],
        skip: impl Fn(&H) -> bool,
    ) -> Result<Status<(H, BytesMut)>, HandshakeError> {
        match &self.state {
            State::Reading => {}
            State::Done => return Err(HandshakeError::Finished),
            State::Failed(e) => return Err(e.clone()),
        }
        let max = self.limits.max_head_bytes;
        let take = data.len().min(max.saturating_sub(self.buf.len()));
        let (head_part, rest) = data.split_at(take);
        self.buf.extend_from_slice(head_part);
        // Parse again whenever bytes were added, so that an error shows at
        // the same byte whatever the split. The field table lives on the
        // stack up to `STACK_FIELDS`, else it is allocated at the limit.
        if !head_part.is_empty() {
            let max_headers = self.limits.max_headers;
            let mut on_stack = [httparse::EMPTY_HEADER; STACK_FIELDS];
            let mut on_heap;
            let fields = if max_headers <= STACK_FIELDS {
                &mut on_stack[..max_headers]
            } else {
                on_heap = vec![httparse::EMPTY_HEADER; max_headers];
                &mut on_heap[..]
            };
            loop {
                match H::parse(&self.buf[self.start..], fields) {
                    Ok(httparse::Status::Complete((head, len))) if skip(&head) => {
                        self.start += len;
                    }
                    Ok(httparse::Status::Complete((head, len))) => {
                        let mut leftover = self.buf.split_off(self.start + len);
                        leftover.extend_from_slice(rest);
                        self.buf = BytesMut::new();
                        self.start = 0;
                        self.state = State::Done;
                        return Ok(Status::Complete((head, leftover)));
                    }
                    Ok(httparse::Status::Partial) => break,
                    Err(httparse::Error::TooManyHeaders) => {
                        return Err(self.fail(HandshakeError::TooManyHeaders {
                            max: self.limits.max_headers,
                        }));
                    }
                    Err(e) => return Err(self.fail(HandshakeError::MalformedHttp(describe(e)))),
                }
            }
        }
        if self.buf.len() >= max {
            return Err(self.fail(HandshakeError::HeadTooLarge { max }));
        }
        Ok(Status::Partial)
    }
}

/// A static description of a parser error.
fn describe(e: httparse::Error) -> &'static str {
    match e {
        httparse::Error::HeaderName => "invalid header name",
        httparse::Error::HeaderValue => "invalid header value",
        httparse::Error::NewLine => "invalid line ending",
        httparse::Error::Status => "invalid status line",
        httparse::Error::Token => "invalid token",
        httparse::Error::TooManyHeaders => "too many headers",
        httparse::Error::Version => "invalid HTTP version",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reader(max_head_bytes: usize, max_headers: usize) -> HeadReader {
        HeadReader::new(Limits::new(max_head_bytes, max_headers))
    }

    #[test]
    fn head_exactly_at_the_limit_is_accepted() {
        let head = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        let mut r = reader(head.len(), 4);
        let mut data = head.to_vec();
        data.extend_from_slice(b"frames");
        let (req, rest) = r.read::<RequestHead>(&data).unwrap().complete().unwrap();
        assert_eq!((req.method.as_str(), &rest[..]), ("GET", &b"frames"[..]));
        assert_eq!(
            r.read::<RequestHead>(b"x").unwrap_err(),
            HandshakeError::Finished
        );
    }

    #[test]
    fn one_byte_over_fails_and_stays_failed() {
        let head = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
        let mut r = reader(head.len() - 1, 4);
        let err = r.read::<RequestHead>(head).unwrap_err();
        assert_eq!(
            err,
            HandshakeError::HeadTooLarge {
                max: head.len() - 1
            }
        );
        assert_eq!(r.read::<RequestHead>(b"").unwrap_err(), err);
        assert!(r.buf.is_empty());
    }

    #[test]
    fn field_count_limit() {
        let mut r = reader(1024, 1);
        let err = r
            .read::<RequestHead>(b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n")
            .unwrap_err();
        assert_eq!(err, HandshakeError::TooManyHeaders { max: 1 });
    }
}
