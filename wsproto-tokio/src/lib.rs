//! WebSocket streams on tokio, over the sans-IO [`wsproto`] core: a
//! drop-in for tokio-tungstenite (and axum's `ws` module) users.
//!
//! The core does the protocol (RFC 6455, and RFC 7692 permessage-deflate
//! with the `deflate` feature) and never touches I/O; this crate drives it
//! over any `AsyncRead + AsyncWrite` transport and gives it the shape
//! tokio-tungstenite users know:
//!
//! - [`WebSocketStream`]: a `Stream<Item = Result<Message, Error>>` and a
//!   `Sink<Message>`; `next()` is cancel-safe; `feed` + `flush` batch
//!   writes into one vectored write; the send queue is bounded.
//! - Servers: [`accept`], [`accept_with`] (a callback that picks a
//!   subprotocol, adds headers or refuses), [`accept_with_config`].
//! - Clients: [`connect`], [`connect_with`] for `ws://` and `wss://`
//!   (feature `rustls`), through the proxy that `HTTP_PROXY` /
//!   `HTTPS_PROXY` / `NO_PROXY` name; [`client_over`] on a stream of
//!   your own.
//! - [`WebSocketStream::split`]: a write half and a read half for two
//!   tasks, which never wait on each other.
//! - Keepalive pings, the pong deadline and the close timeout of the
//!   core's [`Config`], on tokio's clock.
//! - hyper 1.x (`upgrade::upgrade`, feature `hyper`) and
//!   axum 0.8 (`axum::WebSocketUpgrade`, feature
//!   `axum`), HTTP/1.1 upgrades and HTTP/2 extended CONNECT (RFC 8441).
//! - WebSocket clients over HTTP/2 (`http2::Http2Client`, feature
//!   `http2`): many WebSockets as streams of one connection (RFC 8441).
//! - WebSocket clients over HTTP/3 (`http3::Http3Client`, feature
//!   `http3`): many WebSockets as request streams of one QUIC connection
//!   (RFC 9220).
//!
//! ```no_run
//! use futures_util::{SinkExt, StreamExt};
//! use tokio::net::TcpListener;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), wsproto_tokio::Error> {
//!     let listener = TcpListener::bind("127.0.0.1:9002").await?;
//!     loop {
//!         let (tcp, _) = listener.accept().await?;
//!         tokio::spawn(async move {
//!             let mut ws = wsproto_tokio::accept(tcp).await?;
//!             while let Some(message) = ws.next().await {
//!                 let message = message?;
//!                 if message.is_text() || message.is_binary() {
//!                     ws.send(message).await?;
//!                 }
//!             }
//!             Ok::<_, wsproto_tokio::Error>(())
//!         });
//!     }
//! }
//! ```
//!
//! Coming from tokio-tungstenite: `docs/from-tokio-tungstenite.md` in the
//! repository maps every function to its counterpart.
//!
//! # Over HTTP/2
//!
//! A WebSocket over HTTP/2 is a stream, not a connection. A server sends
//! SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (hyper:
//! `http2::Builder::enable_connect_protocol`, which axum's `serve` calls)
//! and accepts the extended CONNECT with `upgrade::upgrade` or the axum
//! extractor; a client opens streams with `http2::Http2Client`. The frames
//! on the stream are RFC 6455's, masked by the client as over TCP; the
//! stream's END_STREAM, sent after the close frames, is the orderly close,
//! and RST_STREAM with CANCEL the abort (RFC 8441 §5).
//!
//! # Over HTTP/3
//!
//! The same over a QUIC connection (RFC 9220): the server sends
//! SETTINGS_ENABLE_CONNECT_PROTOCOL (0x08, as in HTTP/2) = 1, the
//! WebSocket is a request stream opened by the same extended CONNECT,
//! the client still masks its frames, a FIN after the close frames is
//! the orderly close and a stream error H3_REQUEST_CANCELLED the abort.
//! A client opens streams with `http3::Http3Client`; a server (see the
//! `h3_echo` example) runs a `WebSocketStream` over
//! `http3::Http3Stream::from_server`.
//!
//! # Features
//!
//! | feature | what it adds |
//! | --- | --- |
//! | `deflate` | permessage-deflate, offered and accepted by default |
//! | `rustls` | `wss://` for clients (rustls with ring, the `webpki-roots` CAs) |
//! | `tungstenite` | `Message` to and from `tungstenite::Message` |
//! | `hyper` | `upgrade::upgrade`: a hyper 1.x server's upgrade |
//! | `axum` | `axum::WebSocketUpgrade`, an axum 0.8 extractor |
//! | `http2` | `http2::Http2Client`: WebSockets over HTTP/2 streams (RFC 8441), on h2 |
//! | `http3` | `http3::Http3Client`, `http3::Http3Stream`: WebSockets over HTTP/3 request streams (RFC 9220), on quinn and hpx-h3 |
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![warn(unreachable_pub, rust_2018_idioms)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod client;
#[cfg(feature = "tungstenite")]
#[cfg_attr(docsrs, doc(cfg(feature = "tungstenite")))]
pub mod compat;
mod config;
mod driver;
mod error;
#[cfg(any(feature = "http2", feature = "http3"))]
mod extended_connect;
mod idle;
mod message;
pub mod proxy;
mod server;
mod sleep;
pub mod split;
mod stream;
mod tls;

#[cfg(feature = "hyper")]
#[cfg_attr(docsrs, doc(cfg(feature = "hyper")))]
pub mod upgrade;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;

#[cfg(feature = "http2")]
#[cfg_attr(docsrs, doc(cfg(feature = "http2")))]
pub mod http2;

#[cfg(feature = "http3")]
#[cfg_attr(docsrs, doc(cfg(feature = "http3")))]
pub mod http3;

pub use client::{client_over, connect, connect_with, ClientRequest, IntoClientRequest};
pub use config::{WebSocketConfig, DEFAULT_SEND_HIGH_WATER};
pub use error::{Error, Result};
pub use message::Message;
pub use server::{accept, accept_with, accept_with_config};
pub use split::{ReadHalf, WriteHalf};
pub use stream::WebSocketStream;
pub use tls::MaybeTlsStream;

pub use bytes::Bytes;
/// The core crate.
pub use wsproto;
/// The core's handshake types: what a server's callback sees and answers
/// with, and what a client's handshake returns.
pub use wsproto::handshake;
/// The core's types that appear in this crate's API.
pub use wsproto::{CloseCause, CloseCode, CloseFrame, Config, Role, Utf8Bytes};

/// The migration guide's code, compiled as doctests so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../docs/from-tokio-tungstenite.md")]
pub struct MigrationGuide;

/// The README's code, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct Readme;
