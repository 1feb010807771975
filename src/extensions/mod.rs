//! Extensions (RFC 6455 §9): negotiation apart from the codec.
//!
//! The handshake only reads and writes the `Sec-WebSocket-Extensions`
//! syntax ([`ExtensionOffer`](crate::handshake::ExtensionOffer)); each
//! extension here decides which offers it can honour and how its data path
//! works. permessage-deflate (RFC 7692) is the one in use on the web.

#[cfg(feature = "deflate")]
pub mod deflate;
