//! The opening handshake (RFC 6455 §4), for both roles, sans-IO.
//!
//! Both sides feed the bytes they receive as they arrive; the parser answers
//! [`Status::Partial`] (nothing lost, nothing to do) until the HTTP head is
//! complete, then hands over the parsed head and every byte that followed it
//! (frames may be pipelined right behind the head). Heads are bounded by
//! [`Limits`]: past a limit the handshake fails, the buffer never grows.
//!
//! A server:
//! 1. feeds bytes to [`ServerHandshake::handle_input`] until it yields a
//!    [`Request`] (or a [`HandshakeError`], answered with
//!    [`HandshakeError::to_response`]);
//! 2. looks at it: a plain HTTP request ([`Request::is_upgrade`] is false)
//!    is served like any other; an upgrade exposes its target, `Origin`,
//!    offered subprotocols and extensions;
//! 3. [accepts](Request::accept) it with an [`Accept`] (one offered
//!    subprotocol or none, the extensions it runs, extra headers, the
//!    connection's [`Config`](crate::Config)) or rejects it with a
//!    [`Response`] of its choice ([`Request::forbid`] for 403);
//! 4. writes the 101 [`Response`] and runs the [`Connection`] the
//!    [`Accepted`] outcome hands over: set up with the role, configuration
//!    and extensions agreed, the bytes after the head already fed in.
//!
//! ```
//! use wsproto::frame::Status;
//! use wsproto::handshake::{Accept, ServerHandshake};
//! use wsproto::Event;
//!
//! let mut handshake = ServerHandshake::new(Default::default());
//! let wire = b"GET /chat HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n\
//!              Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
//!              Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat\r\n\r\n\x81\x80\0\0\0\0";
//! assert!(handshake.handle_input(&wire[..20]).unwrap().is_partial());
//! let Status::Complete(request) = handshake.handle_input(&wire[20..]).unwrap() else { panic!() };
//! assert_eq!((request.path(), request.protocols().next()), ("/chat", Some("chat")));
//! let accepted = request.accept(Accept::new().protocol("chat")).unwrap();
//! let mut out = [0u8; 256];
//! let n = accepted.response.write(&mut out).unwrap();
//! assert!(out[..n].starts_with(b"HTTP/1.1 101 Switching Protocols\r\n"));
//! // The frame that came behind the head is the connection's first event.
//! let mut connection = accepted.connection;
//! assert!(matches!(connection.poll_event(), Ok(Some(Event::Text(t))) if t.is_empty()));
//! ```
//!
//! A client writes the request of a [`ClientHandshake`], then feeds the
//! response to [`ClientHandshake::handle_input`] until it yields the
//! [`Accepted`] outcome and its [`Connection`] (a non-101 answer is
//! [`HandshakeError::Rejected`], carrying the response so a redirect or a
//! 401 can be handled).
//!
//! ```
//! use wsproto::frame::Status;
//! use wsproto::handshake::{ClientConfig, ClientHandshake, WsUrl};
//!
//! let url = WsUrl::parse("ws://example.com/chat").unwrap();
//! let config = ClientConfig::new().protocol("chat");
//! let key = *b"the sample nonce"; // use fresh random bytes; see ClientHandshake::new_random
//! let mut handshake = ClientHandshake::new(&url, config, key).unwrap();
//! let mut out = [0u8; 512];
//! let n = handshake.write_request(&mut out).unwrap();
//! assert!(out[..n].starts_with(b"GET /chat HTTP/1.1\r\nHost: example.com\r\n"));
//! let response = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
//!                  Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n\r\n";
//! let Status::Complete(accepted) = handshake.handle_input(response).unwrap() else { panic!() };
//! assert_eq!(accepted.negotiated.protocol.as_deref(), Some("chat"));
//! ```

use crate::connection::Connection;
use crate::role::Role;
use alloc::string::String;
use alloc::vec::Vec;

pub mod accept;
mod authority;
mod client;
mod error;
#[cfg(feature = "http")]
#[cfg_attr(docsrs, doc(cfg(feature = "http")))]
pub mod extended_connect;
pub mod extension;
mod field;
mod head;
mod headers;
#[cfg(feature = "http")]
mod http;
mod open;
mod response;
mod server;
mod url;
mod write;

pub use crate::frame::Status;
pub use accept::AcceptKey;
pub(crate) use authority::Authority;
pub use client::{ClientConfig, ClientHandshake};
pub use error::{HandshakeError, UsageError, WriteError};
pub use extension::ExtensionOffer;
use field::{is_token, split_list, trim_ows};
pub use head::Limits;
pub(crate) use head::{HeadReader, ResponseHead};
pub use headers::Headers;
pub use response::{reason_phrase, Response};
pub use server::{Accept, Request, ServerHandshake};
pub use url::WsUrl;
pub(crate) use write::{measure, put_field, put_request_line, write_into, write_to_vec, Sink};

/// A request target (`/chat?room=1`) as path and query (RFC 6455 §3's
/// resource name is both).
fn split_target(target: &str) -> (&str, Option<&str>) {
    match target.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (target, None),
    }
}

/// What a handshake agreed on, beside the connection it opened.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Negotiated {
    /// Which end of the connection this is.
    pub role: Role,
    /// The subprotocol agreed on (`Sec-WebSocket-Protocol`), if any.
    pub protocol: Option<String>,
    /// The extensions in use, in the order the server listed them (§9.1:
    /// that order is the order they apply in); the connection runs them.
    pub extensions: Vec<ExtensionOffer>,
}

/// A successful handshake: the `101 Switching Protocols` response (written
/// by a server, received by a client), what was agreed, and the connection,
/// ready.
#[derive(Debug)]
#[non_exhaustive]
pub struct Accepted {
    /// The 101 response. A server writes it with [`Response::write`] before
    /// anything the connection queues; a client reads extra headers (e.g.
    /// `Set-Cookie`) from it.
    pub response: Response,
    /// The subprotocol and extensions agreed on.
    pub negotiated: Negotiated,
    /// The connection, in the `Open` state: its role, configuration and
    /// extensions set up, and the bytes that followed the HTTP head (frames
    /// the peer sent right behind it) already fed in.
    pub connection: Connection,
}

/// The handshake-owned header fields, which extra headers may not repeat.
const RESERVED_HEADERS: &[&str] = &[
    "Host",
    "Upgrade",
    "Connection",
    "Content-Length",
    "Transfer-Encoding",
    "Sec-WebSocket-Key",
    "Sec-WebSocket-Accept",
    "Sec-WebSocket-Version",
    "Sec-WebSocket-Protocol",
    "Sec-WebSocket-Extensions",
];

/// Checks an extra header given by the caller: not one the handshake
/// writes itself, and a valid field (a token name, a field value).
fn check_extra_header(name: &str, value: &[u8]) -> Result<(), UsageError> {
    if RESERVED_HEADERS
        .iter()
        .any(|r| r.eq_ignore_ascii_case(name))
    {
        return Err(UsageError::ReservedHeader(name.into()));
    }
    field::check_field(name, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_headers_are_checked() {
        assert_eq!(check_extra_header("Set-Cookie", b"a=b"), Ok(()));
        assert!(matches!(
            check_extra_header("sec-websocket-accept", b"x"),
            Err(UsageError::ReservedHeader(_))
        ));
        for (name, value) in [
            ("X-A", &b"x\r\nEvil: 1"[..]),
            ("X A", b"x"),
            ("X-A", b"a\x1bb"),
            ("X-A", b"a\x7f"),
            ("X-A", b" padded"),
        ] {
            assert_eq!(
                check_extra_header(name, value),
                Err(UsageError::InvalidHeader(name.into())),
                "{value:?}"
            );
        }
    }
}
