//! Opening a tunnel through an HTTP proxy with `CONNECT` (RFC 9110 §9.3.6),
//! sans-IO, on the client's side.
//!
//! A client behind a proxy connects to the proxy, not to the server, and
//! asks it for a tunnel; once the proxy answers 2xx, the connection carries
//! bytes to and from the server as if it were a direct one, and the
//! WebSocket handshake (and TLS before it, for `wss://`) starts on it.
//!
//! 0. find the proxy, if any: [`Proxy::from_env`] reads `HTTP_PROXY`,
//!    `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` as curl does (the rules are
//!    on [`ProxyEnv`], which also takes the values from elsewhere);
//! 1. write a [`ProxyRequest`] (with [`ProxyRequest::basic_auth`] when
//!    the proxy wants credentials; [`Proxy::request`] adds the proxy's);
//! 2. feed what the proxy answers to [`ProxyResponse::handle_input`] until
//!    it yields a [`Tunnel`] (or a [`ProxyError`]: a refusal carries the
//!    proxy's [`Response`](crate::handshake::Response), status and headers,
//!    407 included);
//! 3. start the next layer on the same transport, feeding it
//!    [`Tunnel::leftover`] first: the bytes that followed the proxy's head
//!    came from the server.
//!
//! ```
//! use wsproto::frame::Status;
//! use wsproto::proxy::{ProxyRequest, ProxyError, ProxyResponse};
//!
//! let request = ProxyRequest::new("example.com", 443).unwrap().basic_auth("ann", "s3cret").unwrap();
//! let mut out = [0u8; 256];
//! let n = request.write(&mut out).unwrap();
//! assert_eq!(
//!     &out[..n],
//!     b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\
//!       Proxy-Authorization: Basic YW5uOnMzY3JldA==\r\n\r\n"
//! );
//!
//! let mut response = ProxyResponse::new();
//! assert!(response.handle_input(b"HTTP/1.1 200 Connection est").unwrap().is_partial());
//! let Status::Complete(tunnel) = response.handle_input(b"ablished\r\n\r\n\x16\x03").unwrap() else {
//!     panic!()
//! };
//! assert_eq!(&tunnel.leftover[..], b"\x16\x03"); // the server's first bytes, kept
//!
//! let mut refused = ProxyResponse::new();
//! let answer = b"HTTP/1.1 407 Proxy Authentication Required\r\n\
//!                Proxy-Authenticate: Basic realm=\"corp\"\r\nContent-Length: 0\r\n\r\n";
//! match refused.handle_input(answer) {
//!     Err(ProxyError::Refused(response)) => {
//!         assert_eq!(response.status, 407);
//!         assert_eq!(response.headers.get_str("Proxy-Authenticate"), Some("Basic realm=\"corp\""));
//!     }
//!     other => panic!("{other:?}"),
//! }
//! ```

mod connect;
mod env;

pub use connect::{ProxyError, ProxyRequest, ProxyResponse, Tunnel};
pub use env::{no_proxy_covers, Proxy, ProxyConfigError, ProxyEnv};
