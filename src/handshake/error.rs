//! Handshake errors, typed by who is at fault: [`HandshakeError`] when the
//! peer broke a rule of RFC 6455 §4 (each mapped to an HTTP status in one
//! place), [`UsageError`] when the caller asked for something the RFC forbids.

use super::response::Response;
use crate::error::BufferTooSmall;
use alloc::boxed::Box;
use alloc::string::String;

/// The peer's opening handshake broke a rule of RFC 6455 §4 (or of HTTP/1.1).
///
/// A server answers a broken request with the status of
/// [`HandshakeError::http_status`] (the response is built by
/// [`HandshakeError::to_response`]); a client that meets one in the server's
/// response must _Fail the WebSocket Connection_ (§4.1). Errors are sticky:
/// once a handshake has failed, every further call returns the same error.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The bytes are not an HTTP/1.x message head (the reason as described
    /// by the HTTP parser).
    #[error("malformed HTTP head: {0}")]
    MalformedHttp(&'static str),
    /// The head did not end within the configured number of bytes: parsing
    /// stopped there and nothing more was buffered (431 for a request).
    #[error("HTTP head longer than {max} bytes")]
    HeadTooLarge {
        /// The configured limit.
        max: usize,
    },
    /// The head carries more header fields than the configured limit (431
    /// for a request).
    #[error("more than {max} header fields")]
    TooManyHeaders {
        /// The configured limit.
        max: usize,
    },

    // --- In a client's request (§4.2.1), detected by a server. ---
    /// §4.2.1: "An HTTP/1.1 or higher GET request".
    #[error("handshake request method is {0:?}, not GET")]
    MethodNotGet(String),
    /// §4.1: "The method of the request MUST be GET, and the HTTP version
    /// MUST be at least 1.1." The minor version of `HTTP/1.x` received.
    #[error("HTTP/1.{0} is older than HTTP/1.1")]
    HttpVersionTooOld(u8),
    /// §4.2.1: "A |Host| header field containing the server's authority."
    #[error("missing Host header")]
    MissingHost,
    /// RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request)
    /// status code to any HTTP/1.1 request message that lacks a Host header
    /// field and to any request message that contains more than one Host
    /// header field line or a Host header field with an invalid field
    /// value."
    #[error("more than one Host header")]
    DuplicateHost,
    /// The `Host` field, or the authority of an absolute-form target, is
    /// not `uri-host [":" port]` (RFC 9110 §7.2, RFC 3986 §3.2.2): empty,
    /// with user information, a space, a path... (RFC 9112 §3.2, as for
    /// [`HandshakeError::DuplicateHost`]).
    #[error("invalid Host header or target authority")]
    InvalidHost,
    /// The request target is in none of the forms of RFC 9112 §3.2 that
    /// the method allows (an upgrade: origin-form `/path?query` or
    /// absolute-form `http://host/path`).
    #[error("invalid request target")]
    InvalidTarget,
    /// An upgrade request that declares content (`Transfer-Encoding`, or a
    /// `Content-Length` other than 0): the bytes after its head would be
    /// read as frames here and as a body by an intermediary, the request
    /// smuggling of CWE-444 (RFC 9112 §11.2).
    #[error("an upgrade request carries content (Transfer-Encoding or Content-Length)")]
    UpgradeWithContent,
    /// §4.2.1: "A |Sec-WebSocket-Key| header field with a base64-encoded
    /// [...] value that, when decoded, is 16 bytes in length."
    #[error("missing Sec-WebSocket-Key header")]
    MissingKey,
    /// §11.3.1: "The |Sec-WebSocket-Key| header field MUST NOT appear more
    /// than once in an HTTP request."
    #[error("more than one Sec-WebSocket-Key header")]
    DuplicateKey,
    /// §4.2.1: the key is not the base64 encoding of exactly 16 bytes.
    #[error("Sec-WebSocket-Key is not the base64 encoding of 16 bytes")]
    InvalidKey,
    /// §4.2.1: "A |Sec-WebSocket-Version| header field, with a value of 13."
    #[error("missing Sec-WebSocket-Version header")]
    MissingVersion,
    /// §4.2.2: "If this version does not match a version understood by the
    /// server, the server MUST abort the WebSocket handshake [...] and
    /// instead send an appropriate HTTP error code (such as 426 Upgrade
    /// Required) and a |Sec-WebSocket-Version| header field indicating the
    /// version(s) the server is capable of understanding."
    #[error("unsupported Sec-WebSocket-Version (only 13 is)")]
    UnsupportedVersion,
    /// §4.1: a subprotocol "MUST be a non-empty string with characters in
    /// the range U+0021 to U+007E not including separator characters".
    #[error("Sec-WebSocket-Protocol is not a list of tokens")]
    InvalidProtocolHeader,
    /// §9.1: the `Sec-WebSocket-Extensions` value does not follow the
    /// grammar (`extension-list = 1#extension`).
    #[error("Sec-WebSocket-Extensions does not follow the §9.1 grammar")]
    InvalidExtensionHeader,

    // --- Shared by both directions. ---
    /// §4.2.1: "An |Upgrade| header field containing the value "websocket",
    /// treated as an ASCII case-insensitive value." and §4.1: "If the
    /// response lacks an |Upgrade| header field or the |Upgrade| header
    /// field contains a value that is not an ASCII case-insensitive match
    /// for the value "websocket", the client MUST _Fail the WebSocket
    /// Connection_."
    #[error("Upgrade header missing or not \"websocket\"")]
    MissingUpgrade,
    /// §4.2.1: "A |Connection| header field that includes the token
    /// "Upgrade", treated as an ASCII case-insensitive value." and §4.1:
    /// "If the response lacks a |Connection| header field or the
    /// |Connection| header field doesn't contain a token that is an ASCII
    /// case-insensitive match for the value "Upgrade", the client MUST
    /// _Fail the WebSocket Connection_."
    #[error("Connection header missing or without the token \"Upgrade\"")]
    MissingConnectionUpgrade,

    // --- In a server's response (§4.1), detected by a client. ---
    /// §4.1: "If the status code received from the server is not 101, the
    /// client handles the response per HTTP \[RFC2616\] procedures." The
    /// response (status, headers, the body bytes received with the head) is
    /// kept so the caller can follow a redirect or answer a 401. The same
    /// error reports an extended CONNECT (RFC 8441 §5, RFC 9220 §3) answered
    /// with anything but a 2xx.
    #[error("server refused the WebSocket with status {}", .0.status)]
    Rejected(Box<Response>),
    /// The status line is not HTTP/1.1 (a 101 needs at least HTTP/1.1).
    #[error("response is HTTP/1.{0}, not HTTP/1.1")]
    ResponseVersion(u8),
    /// §4.1: "If the response lacks a |Sec-WebSocket-Accept| header field
    /// [...] the client MUST _Fail the WebSocket Connection_."
    #[error("missing Sec-WebSocket-Accept header")]
    MissingAccept,
    /// §4.1: "[...] or the |Sec-WebSocket-Accept| contains a value other
    /// than the base64-encoded SHA-1 of the concatenation of the
    /// |Sec-WebSocket-Key| (as a string, not base64-decoded) with the string
    /// "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" [...] the client MUST _Fail
    /// the WebSocket Connection_."
    #[error("Sec-WebSocket-Accept does not match the key sent")]
    AcceptMismatch,
    /// §4.1: "If the response includes a |Sec-WebSocket-Protocol| header
    /// field and this header field indicates the use of a subprotocol that
    /// was not present in the client's handshake [...] the client MUST
    /// _Fail the WebSocket Connection_." Also raised for a value that is
    /// not a single token (§4.2.2: "a single value").
    #[error("server chose subprotocol {0:?}, which was not offered")]
    ProtocolNotOffered(String),
    /// §4.1: "If the response includes a |Sec-WebSocket-Extensions| header
    /// field and this header field indicates the use of an extension that
    /// was not present in the client's handshake [...] the client MUST
    /// _Fail the WebSocket Connection_."
    #[error("server accepted extension {0:?}, which was not offered")]
    ExtensionNotOffered(String),

    /// The server's answer puts an extension in use with parameters the
    /// client cannot accept (RFC 7692 §5 for permessage-deflate: "the
    /// client MUST _Fail the WebSocket Connection_"); the reason.
    #[error("server's extension answer refused: {0}")]
    InvalidExtensionResponse(String),

    /// Input was fed after the handshake had completed (the caller's fault:
    /// the bytes after the head were handed over already; nothing was read).
    #[error("input fed to a handshake that has already completed")]
    Finished,
}

impl HandshakeError {
    /// The HTTP status a server answers this error with: 400 Bad Request for
    /// a malformed request, 426 Upgrade Required for another protocol
    /// version, 431 Request Header Fields Too Large past a limit.
    ///
    /// Errors only a client detects (in a server's response) map to 502 Bad
    /// Gateway, what a proxy relaying that response would answer; the
    /// caller's own [`HandshakeError::Finished`] maps to 500.
    pub const fn http_status(&self) -> u16 {
        use HandshakeError::*;
        match self {
            HeadTooLarge { .. } | TooManyHeaders { .. } => 431,
            UnsupportedVersion => 426,
            MalformedHttp(_)
            | MethodNotGet(_)
            | HttpVersionTooOld(_)
            | MissingHost
            | DuplicateHost
            | InvalidHost
            | InvalidTarget
            | UpgradeWithContent
            | MissingKey
            | DuplicateKey
            | InvalidKey
            | MissingVersion
            | InvalidProtocolHeader
            | InvalidExtensionHeader
            | MissingUpgrade
            | MissingConnectionUpgrade => 400,
            Rejected(_)
            | ResponseVersion(_)
            | MissingAccept
            | AcceptMismatch
            | ProtocolNotOffered(_)
            | ExtensionNotOffered(_)
            | InvalidExtensionResponse(_) => 502,
            Finished => 500,
        }
    }

    /// The response a server sends for this error: the status of
    /// [`HandshakeError::http_status`], `Connection: close`, a one-line
    /// plain-text body, and for a 426 the `Sec-WebSocket-Version: 13` that
    /// §4.2.2 requires.
    pub fn to_response(&self) -> Response {
        use alloc::string::ToString;
        let mut response = Response::new(self.http_status());
        if matches!(self, HandshakeError::UnsupportedVersion) {
            response.headers.append("Upgrade", "websocket");
            response.headers.append("Sec-WebSocket-Version", "13");
        }
        response.headers.append("Connection", "close");
        response
            .headers
            .append("Content-Type", "text/plain; charset=utf-8");
        let mut body = self.to_string().into_bytes();
        body.push(b'\n');
        response.body = body;
        response
    }
}

/// Why an HTTP head was not written; nothing was.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// A part given by the caller breaks the HTTP grammar or the RFCs.
    #[error(transparent)]
    Invalid(#[from] UsageError),
    /// The output buffer is too small: it needs [`BufferTooSmall::required`]
    /// bytes.
    #[error(transparent)]
    BufferTooSmall(#[from] BufferTooSmall),
}

/// The caller asked for a handshake the RFC forbids; nothing was sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UsageError {
    /// §4.2.2: the server's chosen subprotocol "MUST be derived from the
    /// values contained in the |Sec-WebSocket-Protocol| header field in the
    /// client's handshake". A server chose one the client did not offer.
    #[error("subprotocol {0:?} was not offered by the client")]
    ProtocolNotOffered(String),
    /// §4.2.2: the server's extensions "MUST be derived from the
    /// |Sec-WebSocket-Extensions| in the client's handshake, by selecting one
    /// or more of the values". A server accepted one by a name the client did
    /// not offer.
    #[error("extension {0:?} was not offered by the client")]
    ExtensionNotOffered(String),
    /// §4.1: subprotocol values "MUST be a non-empty string with characters
    /// in the range U+0021 to U+007E not including separator characters
    /// [...] and MUST all be unique strings."
    #[error("invalid or repeated subprotocol {0:?}")]
    InvalidProtocol(String),
    /// A header name that is not an RFC 9110 token, or a value that is not
    /// a field value (§5.5: a control byte other than HTAB, which CR, LF
    /// and NUL are, or whitespace at either end). Written, a CR or LF would
    /// end the field early and start another, or another response.
    #[error("invalid header {0:?}")]
    InvalidHeader(String),
    /// A status code outside 100-999 (RFC 9112 §4: `status-code = 3DIGIT`,
    /// and RFC 9110 §15: the first digit is the class, 1 to 5 in use).
    #[error("invalid status code {0}")]
    InvalidStatus(u16),
    /// A reason phrase with a byte other than HTAB, SP and visible ASCII
    /// (RFC 9112 §4: `reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )`,
    /// where `obs-text` is obsolete and not written).
    #[error("invalid reason phrase")]
    InvalidReason,
    /// Content on a response whose status has none (RFC 9110 §6.4.1: "All
    /// 1xx (Informational), 204 (No Content), and 304 (Not Modified)
    /// responses do not include content").
    #[error("a {0} response carries no content")]
    ContentNotAllowed(u16),
    /// A `Content-Length` or `Transfer-Encoding` field that would frame the
    /// content otherwise than it is written: the writer sends the body as
    /// is, with one `Content-Length` equal to its length (RFC 9110 §8.6: "A
    /// server MUST NOT send a Content-Length header field in any response
    /// with a status code of 1xx (Informational) or 204 (No Content)").
    #[error("{0} does not match the content written")]
    ContentFraming(&'static str),
    /// A request target or method that cannot go on a request line (RFC
    /// 9112 §3: visible ASCII, no space).
    #[error("invalid request target or method")]
    InvalidTarget,
    /// A header the handshake writes itself (`Upgrade`, `Connection`,
    /// `Sec-WebSocket-*`, `Host`, `Content-Length`), given as an extra one.
    #[error("header {0:?} is written by the handshake itself")]
    ReservedHeader(String),
    /// A connection-specific field (`Connection`, `Keep-Alive`,
    /// `Proxy-Connection`, `Transfer-Encoding`, `Upgrade`, `TE`) given for
    /// an HTTP/2 or HTTP/3 message (RFC 9113 §8.2.2: "An endpoint MUST NOT
    /// generate an HTTP/2 message containing connection-specific header
    /// fields").
    #[error("connection-specific header {0:?} in an HTTP/2 or HTTP/3 message")]
    ConnectionSpecificHeader(String),
    /// The request is not a WebSocket upgrade (see
    /// [`Request::is_upgrade`](super::Request::is_upgrade)): it can only be
    /// answered with a plain HTTP response.
    #[error("the request is not a WebSocket upgrade")]
    NotAnUpgrade,
    /// A `ws://` or `wss://` URL that §3 does not allow (the reason).
    #[error("invalid WebSocket URL: {0}")]
    InvalidUrl(&'static str),
}
