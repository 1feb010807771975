//! A sans-IO implementation of the WebSocket protocol (RFC 6455).
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
//! - [`utf8`] and [`close`]: incremental UTF-8 validation and close codes.
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
