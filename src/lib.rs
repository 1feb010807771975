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
//! - [`extensions`]: permessage-deflate (feature `deflate`);
//! - [`proxy`]: an HTTP `CONNECT` tunnel through a proxy, for clients, and
//!   the proxy the environment names (`HTTP_PROXY`, `NO_PROXY`, ...).
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
//! 5. ask [`Connection::poll_timeout`] for the next deadline, given the
//!    time; when it comes, call [`Connection::handle_timeout`];
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
//!
//! # Reading and writing from different tasks
//!
//! A [`Connection`] is plain data with no I/O inside, so one read task and
//! one write task can share it as `Arc<std::sync::Mutex<Connection>>`,
//! each taking the lock only for synchronous calls, never across an
//! `.await` (with tokio a `std` guard is not `Send`, so `tokio::spawn`
//! refuses a task that holds one across an `.await`):
//!
//! - the **reader** reads into a buffer it owns, *then* locks and calls
//!   [`Connection::handle_input`] and drains [`Connection::poll_event`];
//! - the **writer** locks to copy what [`Connection::poll_transmit`]
//!   offers, writes it unlocked, then locks to call
//!   [`Connection::advance_transmit`] with the count written; it is the only
//!   one to advance, so the queued bytes do not move under it;
//! - whoever queues output (any `send_*`, or the reader: input may owe a
//!   pong or a close reply) then wakes the writer (e.g. a
//!   `tokio::sync::Notify`, whose permit is kept if the writer is busy).
//!
//! Cancelling a read (a `select!` whose other branch wins) loses no bytes:
//! a cancel-safe read that is dropped has read nothing, and one that
//! finishes hands its bytes to the connection before the next `.await`.
//! A partial frame is kept by the connection, which the caller owns, not by
//! a future that may be dropped. The `split_halves` example runs this
//! pattern on tokio and checks that every message arrives, in order.
#![cfg_attr(not(test), no_std)]
#![deny(missing_docs)]
// Denied everywhere; allowed in one place, the run-time AVX2 dispatch of
// `mask`, which a benchmark earns (see that module).
#![deny(unsafe_code)]
#![warn(unreachable_pub, rust_2018_idioms)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[allow(unused_extern_crates)]
extern crate alloc;

/// A setter per field for a `#[non_exhaustive]` configuration struct, so
/// that callers build one from its defaults (`T::default().field(value)`)
/// and a new field is not a breaking change. Each is documented on its
/// field.
macro_rules! setters {
    ($ty:ident { $($field:ident: $fty:ty),* $(,)? }) => {
        impl $ty {
            $(
                #[doc = concat!("Sets [`", stringify!($ty), "::", stringify!($field), "`].")]
                #[must_use]
                pub const fn $field(mut self, $field: $fty) -> $ty {
                    self.$field = $field;
                    self
                }
            )*
        }
    };
}
#[cfg(all(feature = "std", not(test)))]
extern crate std;

pub mod close;
mod config;
pub mod connection;
mod error;
mod event;
mod event_ref;
pub mod extensions;
pub mod frame;
pub mod handshake;
pub mod mask;
pub mod proxy;
mod role;
pub mod utf8;

pub use close::CloseCode;
#[cfg(feature = "rand")]
pub use config::thread_rng_source;
pub use config::{Config, RandomSource};
pub use connection::{
    BinaryPayload, CloseCause, Connection, PreparedMessage, ReceiveBuffer, SendError, State,
    TextPayload,
};
pub use error::{BufferTooSmall, ProtocolError};
pub use event::{CloseFrame, Event, MessageKind, Utf8Bytes};
pub use event_ref::{BytesRef, EventRef, TextRef};
pub use frame::Status;
pub use role::Role;

/// The README's code blocks, compiled as doctests so they stay true (with
/// `deflate`, which its quick starts turn on).
#[cfg(all(doctest, feature = "deflate"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
