//! The `CONNECT` exchange itself (RFC 9110 §9.3.6): the request a client
//! writes and the reader of the proxy's answer. See the [module
//! docs](super) for the steps.

use crate::frame::Status;
use crate::handshake::{
    measure, put_field, put_request_line, write_into, write_to_vec, Authority, HandshakeError,
    HeadReader, Limits, Response, ResponseHead, Sink, UsageError, WriteError,
};
use alloc::boxed::Box;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use base64::Engine as _;
use bytes::BytesMut;

/// A `CONNECT` request for a tunnel to `host:port`.
///
/// RFC 9110 §9.3.6: "A client sending a CONNECT request MUST send the
/// authority form of request-target (Section 3.2.3 of \[HTTP/1.1\]); i.e.,
/// the request-target consists of only the host name and port number of
/// the tunnel destination, separated by a colon." The same authority goes
/// in `Host` (RFC 9112 §3.2: "A client MUST send a Host header field in all
/// HTTP/1.1 request messages").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyRequest {
    /// `host:port`, with brackets around an IPv6 literal.
    authority: String,
    /// The whole `Proxy-Authorization` value, e.g. `Basic YW5uOnMzY3JldA==`.
    authorization: Option<String>,
}

impl ProxyRequest {
    /// A request for a tunnel to `host` (a name, an IPv4 address, or an
    /// IPv6 address with or without brackets) on `port`.
    ///
    /// A host that could not be an authority (empty, or outside the RFC 3986
    /// `reg-name` and IP literal grammar) is refused with
    /// [`UsageError::InvalidUrl`].
    pub fn new(host: &str, port: u16) -> Result<ProxyRequest, UsageError> {
        let bracketed;
        let host = if host.contains(':') && !host.starts_with('[') {
            bracketed = format!("[{host}]");
            &bracketed
        } else {
            host
        };
        let parsed = Authority::parse(host).map_err(UsageError::InvalidUrl)?;
        if parsed.port.is_some() || parsed.host.len() != host.len() {
            return Err(UsageError::InvalidUrl("invalid host"));
        }
        Ok(ProxyRequest {
            authority: format!("{}:{port}", parsed.host),
            authorization: None,
        })
    }

    /// Sends `Proxy-Authorization: Basic` with these credentials (RFC 7617:
    /// the base64 encoding of `user:password`, as UTF-8).
    ///
    /// RFC 7617 §2: "a user-id containing a colon character is invalid":
    /// such a `user` is refused with [`UsageError::InvalidHeader`].
    pub fn basic_auth(mut self, user: &str, password: &str) -> Result<ProxyRequest, UsageError> {
        if user.contains(':') {
            return Err(UsageError::InvalidHeader("Proxy-Authorization".into()));
        }
        // `base64` is built without its `alloc` feature: encode into a
        // buffer of the exact size.
        let credentials = format!("{user}:{password}");
        let len = base64::encoded_len(credentials.len(), true).unwrap_or(usize::MAX);
        let mut value = vec![0u8; "Basic ".len() + len];
        value[..6].copy_from_slice(b"Basic ");
        let written = base64::engine::general_purpose::STANDARD
            .encode_slice(&credentials, &mut value[6..])
            .unwrap_or(0);
        value.truncate(6 + written);
        // Base64 output is ASCII.
        self.authorization = Some(String::from_utf8(value).unwrap_or_default());
        Ok(self)
    }

    /// The tunnel's destination, `host:port`.
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// Writes the request into `out`, returning the length, or the size
    /// required, writing nothing.
    pub fn write(&self, out: &mut [u8]) -> Result<usize, WriteError> {
        write_into(out, |s| self.encode(s))
    }

    /// The number of bytes [`ProxyRequest::write`] needs.
    pub fn encoded_len(&self) -> usize {
        // Checked at construction: the measure cannot fail.
        measure(|s| self.encode(s)).unwrap_or_default()
    }

    /// Appends the request to `out`.
    pub fn write_to_vec(&self, out: &mut Vec<u8>) -> Result<(), UsageError> {
        write_to_vec(out, |s| self.encode(s)).map(|_| ())
    }

    /// The request, through the handshake's checked head writer like every
    /// head this crate writes.
    fn encode(&self, s: &mut dyn Sink) {
        put_request_line(s, "CONNECT", &self.authority);
        put_field(s, "Host", self.authority.as_bytes());
        if let Some(authorization) = &self.authorization {
            put_field(s, "Proxy-Authorization", authorization.as_bytes());
        }
        s.put(b"\r\n");
    }
}

/// An open tunnel: the proxy's 2xx answer and what followed it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Tunnel {
    /// The proxy's answer (its body is empty: see [`Tunnel::leftover`]).
    pub response: Response,
    /// The bytes after the proxy's head: RFC 9110 §9.3.6, "data received
    /// after that header section is from the server identified by the
    /// request target". Feed them to the next layer (TLS, or the WebSocket
    /// handshake) before anything read later.
    pub leftover: BytesMut,
}

/// The proxy did not open the tunnel. Errors are sticky: after one, every
/// call to [`ProxyResponse::handle_input`] returns it again.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// RFC 9110 §9.3.6: "Any response other than a successful response
    /// indicates that the tunnel has not yet been formed." The proxy's
    /// answer: status, reason, headers (a 407 carries `Proxy-Authenticate`)
    /// and the body bytes that arrived with the head. The transport is of no
    /// further use for the tunnel: close it (or, for a 407, open a new one
    /// with credentials).
    #[error("proxy answered {} {} to CONNECT", .0.status, .0.reason)]
    Refused(Box<Response>),
    /// The answer is not an HTTP/1.x response head (the reason as described
    /// by the HTTP parser).
    #[error("malformed HTTP head from the proxy: {0}")]
    MalformedHttp(&'static str),
    /// The head did not end within [`Limits::max_head_bytes`].
    #[error("proxy's HTTP head longer than {max} bytes")]
    HeadTooLarge {
        /// The configured limit.
        max: usize,
    },
    /// The head carries more than [`Limits::max_headers`] fields.
    #[error("more than {max} header fields from the proxy")]
    TooManyHeaders {
        /// The configured limit.
        max: usize,
    },
    /// Input was fed after the tunnel had opened (the caller's fault: the
    /// bytes after the head were handed over already; nothing was read).
    #[error("input fed to a proxy response that has already completed")]
    Finished,
}

/// Where the reader is.
#[derive(Debug)]
enum State {
    Reading,
    Done,
    Failed(ProxyError),
}

impl From<HandshakeError> for ProxyError {
    /// The head reader is shared with the handshake; its errors about the
    /// head itself say the same of the proxy's answer.
    fn from(error: HandshakeError) -> ProxyError {
        match error {
            HandshakeError::HeadTooLarge { max } => ProxyError::HeadTooLarge { max },
            HandshakeError::TooManyHeaders { max } => ProxyError::TooManyHeaders { max },
            HandshakeError::MalformedHttp(why) => ProxyError::MalformedHttp(why),
            _ => ProxyError::Finished,
        }
    }
}

/// Reads the proxy's answer to a [`ProxyRequest`], as it arrives.
///
/// Informational (1xx) heads are skipped; the first final head decides: 2xx
/// opens the [`Tunnel`], anything else is [`ProxyError::Refused`]. The
/// heads, informational ones included, are bounded together by [`Limits`]
/// (8 KiB and 64 fields by default); bytes beyond the final head are never
/// parsed, only handed over.
#[derive(Debug)]
pub struct ProxyResponse {
    reader: HeadReader,
    limits: Limits,
    state: State,
}

impl Default for ProxyResponse {
    fn default() -> Self {
        ProxyResponse::new()
    }
}

impl ProxyResponse {
    /// A reader with the default [`Limits`].
    pub fn new() -> ProxyResponse {
        ProxyResponse::with_limits(Limits::DEFAULT)
    }

    /// A reader with these limits on the proxy's head.
    pub fn with_limits(limits: Limits) -> ProxyResponse {
        ProxyResponse {
            reader: HeadReader::new(limits),
            limits,
            state: State::Reading,
        }
    }

    /// Takes bytes received from the proxy: [`Status::Partial`] while the
    /// answer is incomplete (everything kept), then the [`Tunnel`] with the
    /// bytes that followed the head, from this call and earlier ones.
    pub fn handle_input(&mut self, data: &[u8]) -> Result<Status<Tunnel>, ProxyError> {
        match &self.state {
            State::Reading => {}
            State::Done => return Err(ProxyError::Finished),
            State::Failed(e) => return Err(e.clone()),
        }
        // RFC 9110 §15.2: "A client MUST be able to parse one or more 1xx
        // responses received prior to a final response". They are skipped
        // in place, all of them counted against the one head limit. (A 101
        // to CONNECT would be meaningless: it is refused.)
        let informational =
            |head: &ResponseHead| matches!(head.status, 100..=199 if head.status != 101);
        let (head, rest) = match self.reader.read_skipping(data, informational) {
            Ok(Status::Partial) => return Ok(Status::Partial),
            Ok(Status::Complete(head)) => head,
            Err(e) => return Err(self.fail(e.into())),
        };
        let mut response = Response::new(head.status);
        response.reason = head.reason;
        response.headers = head.headers;
        if (200..=299).contains(&response.status) {
            // RFC 9110 §9.3.6: "A client MUST ignore any Content-Length or
            // Transfer-Encoding header fields received in a successful
            // response to CONNECT."
            self.state = State::Done;
            Ok(Status::Complete(Tunnel {
                response,
                leftover: rest,
            }))
        } else {
            response.body = rest.to_vec();
            Err(self.fail(ProxyError::Refused(Box::new(response))))
        }
    }

    /// Records a failure so that every later call returns it too.
    fn fail(&mut self, error: ProxyError) -> ProxyError {
        self.reader = HeadReader::new(self.limits);
        self.state = State::Failed(error.clone());
        error
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &[u8] = b"HTTP/1.0 200 Connection established\r\nProxy-Agent: t\r\n\r\n";

    fn request_bytes(request: &ProxyRequest) -> Vec<u8> {
        let mut out = Vec::new();
        request.write_to_vec(&mut out).unwrap();
        out
    }

    #[test]
    fn writes_the_authority_form() {
        let r = ProxyRequest::new("::1", 8443).unwrap();
        assert_eq!(r.authority(), "[::1]:8443");
        assert_eq!(
            request_bytes(&r),
            b"CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n\r\n"
        );
        assert_eq!(
            ProxyRequest::new("[::1]", 1).unwrap().authority(),
            "[::1]:1"
        );
        for bad in [
            "",
            "a b",
            "a\r\nX: y",
            "a/b",
            "u@h",
            "[::g]",
            "::1]",
            "h:80",
            "a%2",
        ] {
            assert!(ProxyRequest::new(bad, 80).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn basic_auth_and_buffer_sizes() {
        // RFC 7617 §2's example.
        let r = ProxyRequest::new("h", 1)
            .unwrap()
            .basic_auth("Aladdin", "open sesame")
            .unwrap();
        let bytes = request_bytes(&r);
        let field = b"Proxy-Authorization: Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==\r\n";
        assert!(bytes.windows(field.len()).any(|w| w == field));
        assert_eq!(r.encoded_len(), bytes.len());
        let mut short = vec![0u8; bytes.len() - 1];
        assert_eq!(
            r.write(&mut short),
            Err(WriteError::BufferTooSmall(crate::BufferTooSmall {
                required: bytes.len()
            }))
        );
        assert!(short.iter().all(|&b| b == 0));
        let mut exact = vec![0u8; bytes.len()];
        assert_eq!(r.write(&mut exact), Ok(bytes.len()));
        assert_eq!(exact, bytes);
        assert!(ProxyRequest::new("h", 1)
            .unwrap()
            .basic_auth("a:b", "c")
            .is_err());
    }

    #[test]
    fn tunnel_at_every_split_keeps_the_leftover() {
        let mut wire = b"HTTP/1.1 100 Continue\r\n\r\n".to_vec();
        wire.extend_from_slice(OK);
        wire.extend_from_slice(b"HTTP/1.1 101 server bytes");
        for split in 0..=wire.len() {
            let mut r = ProxyResponse::new();
            let first = r.handle_input(&wire[..split]).unwrap();
            let tunnel = match first {
                // The rest of the wire came later, from the server.
                Status::Complete(mut t) => {
                    t.leftover.extend_from_slice(&wire[split..]);
                    t
                }
                Status::Partial => match r.handle_input(&wire[split..]).unwrap() {
                    Status::Complete(t) => t,
                    Status::Partial => panic!("partial at {split}"),
                },
            };
            assert_eq!(tunnel.response.status, 200, "{split}");
            assert_eq!(tunnel.response.headers.get_str("proxy-agent"), Some("t"));
            assert_eq!(
                &tunnel.leftover[..],
                b"HTTP/1.1 101 server bytes",
                "{split}"
            );
            assert_eq!(r.handle_input(b"x"), Err(ProxyError::Finished));
        }
    }

    #[test]
    fn refusals_carry_the_response_and_stick() {
        let mut r = ProxyResponse::new();
        let answer = b"HTTP/1.1 407 Proxy Authentication Required\r\n\
                       Proxy-Authenticate: Basic realm=\"x\"\r\n\r\nno";
        let Err(ProxyError::Refused(response)) = r.handle_input(answer) else {
            panic!()
        };
        assert_eq!(
            (response.status, response.reason.as_str()),
            (407, "Proxy Authentication Required")
        );
        assert_eq!(
            response.headers.get_str("proxy-authenticate"),
            Some("Basic realm=\"x\"")
        );
        assert_eq!(response.body, b"no");
        assert_eq!(r.handle_input(b""), Err(ProxyError::Refused(response)));

        let mut r = ProxyResponse::new();
        assert!(matches!(
            r.handle_input(b"HTTP/1.1 101 Switching Protocols\r\n\r\n"),
            Err(ProxyError::Refused(_))
        ));
        let mut r = ProxyResponse::new();
        assert!(matches!(
            r.handle_input(b"SSH-2.0-OpenSSH\r\n"),
            Err(ProxyError::MalformedHttp(_))
        ));
    }

    #[test]
    fn limits_apply() {
        let mut r = ProxyResponse::with_limits(Limits::new(OK.len() - 1, 4));
        assert_eq!(
            r.handle_input(OK),
            Err(ProxyError::HeadTooLarge { max: OK.len() - 1 })
        );
        assert_eq!(
            r.handle_input(b"more"),
            Err(ProxyError::HeadTooLarge { max: OK.len() - 1 })
        );
        let mut r = ProxyResponse::with_limits(Limits::new(OK.len(), 4));
        assert!(r.handle_input(OK).unwrap().complete().is_some());
        let mut r = ProxyResponse::with_limits(Limits::new(1024, 0));
        assert_eq!(
            r.handle_input(OK),
            Err(ProxyError::TooManyHeaders { max: 0 })
        );
        // A head that never ends stops growing at the limit.
        let mut r = ProxyResponse::new();
        assert!(r.handle_input(b"HTTP/1.1 200 OK\r\n").unwrap().is_partial());
        let endless = vec![b'a'; 4096];
        let mut result = Ok(Status::Partial);
        for _ in 0..3 {
            result = r.handle_input(&endless);
        }
        assert!(matches!(result, Err(ProxyError::HeadTooLarge { .. })));
    }

    /// Issue 14, item 7: informational heads share the one head limit and
    /// are skipped in place. Before, each `100 Continue` reset the limit
    /// and copied the rest of the input again: megabytes of them took
    /// seconds and were still `Partial`.
    #[test]
    fn informational_heads_share_one_limit() {
        const CONTINUE: &[u8] = b"HTTP/1.1 100 Continue\r\n\r\n";
        let flood: Vec<u8> = CONTINUE.repeat((4 << 20) / CONTINUE.len());
        let max = Limits::DEFAULT.max_head_bytes;
        let mut r = ProxyResponse::new();
        assert_eq!(
            r.handle_input(&flood),
            Err(ProxyError::HeadTooLarge { max })
        );
        // Fed a head at a time, the same.
        let mut r = ProxyResponse::new();
        let mut result = Ok(Status::Partial);
        for head in flood.chunks(CONTINUE.len()) {
            result = r.handle_input(head);
            if result.is_err() {
                break;
            }
        }
        assert_eq!(result, Err(ProxyError::HeadTooLarge { max }));
        // Within the limit, informational heads are skipped.
        let mut wire = CONTINUE.repeat(3);
        wire.extend_from_slice(OK);
        let budget = wire.len();
        let mut r = ProxyResponse::with_limits(Limits::new(budget, 4));
        assert!(r.handle_input(&wire).unwrap().complete().is_some());
        let mut r = ProxyResponse::with_limits(Limits::new(budget - 1, 4));
        assert_eq!(
            r.handle_input(&wire),
            Err(ProxyError::HeadTooLarge { max: budget - 1 })
        );
    }
}
