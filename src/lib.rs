//! A sans-IO implementation of the WebSocket protocol (RFC 6455) and of
//! permessage-deflate (RFC 7692).
//!
//! This crate is a protocol core: it never touches a socket, a clock or a
//! thread. Callers push received bytes in, pull events out, and take the
//! bytes to write over whatever transport they own.
//!
//! The layers, bottom up:
//! - [`mask`]: payload masking, public and fast;
//! - [`frame`]: a frame header type, a push decoder that borrows payloads
//!   from the caller's buffer and unmasks them in place, and an encoder into
//!   caller buffers; it never allocates;
//! - [`utf8`] and [`close`]: incremental UTF-8 validation and close codes;
//! - [`handshake`]: the opening handshake for both roles;
//! - [`Connection`]: the state machine users drive, after the handshake;
//! - [`extensions`]: permessage-deflate (feature `deflate`).
//!
//! # The run loop
//!
//! After the handshake, a [`Connection`] is driven in the same few steps
//! whatever the I/O model:
//!
//! 1. feed received bytes with [`Connection::handle_input`];
//! 2. drain events with [`Connection::poll_event`] until `Ok(None)`;
//! 3. send what the application wants (`send_*`, `close`);
//! 4. drain output with [`Connection::poll_transmit`] and
//!    [`Connection::advance_transmit`] until empty;
//! 5. at [`Connection::poll_timeout`], call [`Connection::handle_timeout`];
//! 6. close the transport when [`Connection::should_close_transport`] says so.
//!
//! ```
//! use wsproto::{Config, Connection, Event, Role};
//!
//! // Two endpoints in memory: what one writes, the other reads.
//! let mut client = Connection::new(Role::Client, Config::default());
//! let mut server = Connection::new(Role::Server, Config::default());
//! client.send_text("hello").unwrap();
//! while let Some(bytes) = client.poll_transmit() {
//!     let n = bytes.len();
//!     server.handle_input(bytes);
//!     client.advance_transmit(n);
//! }
//! match server.poll_event().unwrap() {
//!     Some(Event::Text(text)) => assert_eq!(text.as_str(), "hello"),
//!     other => panic!("{other:?}"),
//! }
//! ```
//!
//! The frame layer stands alone too:
//!
//! ```
//! use wsproto::frame::{encode_frame, FrameDecoder, FrameHeader, OpCode, Status};
//! use wsproto::Role;
//!
//! // A client encodes a masked text frame...
//! let header = FrameHeader { mask: Some([1, 2, 3, 4]), ..FrameHeader::new(OpCode::Text, 0) };
//! let mut wire = [0u8; 64];
//! let n = encode_frame(header, b"hello", &mut wire).unwrap();
//!
//! // ...and a server decodes it, whatever the split it arrives in.
//! let decoder = FrameDecoder::new(Role::Server);
//! assert_eq!(decoder.decode(&mut wire[..3]).unwrap(), Status::Partial);
//! let Status::Complete(frame) = decoder.decode(&mut wire[..n]).unwrap() else { unreachable!() };
//! assert_eq!((frame.header.opcode, &*frame.payload), (OpCode::Text, &b"hello"[..]));
//! ```
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]
#![forbid(unsafe_code)]
#![warn(unreachable_pub, rust_2018_idioms)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[allow(unused_extern_crates)]
extern crate alloc;
#[cfg(all(feature = "std", not(test)))]
extern crate std;

pub mod close;
mod config;
pub mod connection;
mod error;
mod event;
pub mod extensions;
pub mod frame;
pub mod handshake;
pub mod mask;
mod role;
pub mod utf8;

pub use close::CloseCode;
#[cfg(feature = "rand")]
pub use config::thread_rng_source;
pub use config::{Config, RandomSource};
pub use connection::{Connection, SendError, State};
pub use error::{BufferTooSmall, ProtocolError};
pub use event::{CloseFrame, Event, MessageKind, Utf8Bytes};
pub use role::Role;

/// The README's code blocks, compiled as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
