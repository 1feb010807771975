//! The end of a handshake: the extensions agreed on and a [`Connection`]
//! set up with them, so no caller wires one to the other by hand.
//!
//! Extensions are configured on the handshake ([`Accept::deflate`],
//! [`ClientConfig::deflate`]); this module is the one place that turns that
//! configuration into offers, answers and checks, and the agreement into
//! the connection's codec.
//!
//! [`Accept::deflate`]: super::Accept::deflate
//! [`ClientConfig::deflate`]: super::ClientConfig::deflate

use super::error::HandshakeError;
use super::extension::ExtensionOffer;
use crate::config::Config;
use crate::connection::Connection;
use crate::extensions::Codec;
use crate::role::Role;
use alloc::vec::Vec;

#[cfg(feature = "deflate")]
use crate::extensions::deflate::{DeflateConfig, DeflateParams};

/// The extensions an endpoint is willing to run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Extensions {
    #[cfg(feature = "deflate")]
    pub(super) deflate: Option<DeflateConfig>,
}

/// What both ends agreed on: the `Sec-WebSocket-Extensions` elements in
/// use, in order, and the parameters each needs.
#[derive(Debug, Default)]
pub(super) struct Agreed {
    pub(super) extensions: Vec<ExtensionOffer>,
    #[cfg(feature = "deflate")]
    deflate: Option<DeflateParams>,
}

impl Extensions {
    /// A client's offers (RFC 6455 §9.1), most preferred first.
    pub(super) fn offers(&self) -> Vec<ExtensionOffer> {
        #[allow(unused_mut)]
        let mut offers = Vec::new();
        #[cfg(feature = "deflate")]
        if let Some(deflate) = &self.deflate {
            offers.push(deflate.offer());
        }
        offers
    }

    /// A server's answer to a client's offers: the extensions it accepts,
    /// each with its response parameters (RFC 7692 §5.1 for deflate).
    pub(super) fn answer(&self, _offers: &[ExtensionOffer]) -> Agreed {
        #[allow(unused_mut)]
        let mut agreed = Agreed::default();
        #[cfg(feature = "deflate")]
        if let Some((response, params)) = self.deflate.as_ref().and_then(|d| d.negotiate(_offers)) {
            agreed.extensions.push(response);
            agreed.deflate = Some(params);
        }
        agreed
    }

    /// A client's check of the extensions a server's answer put in use
    /// (each one offered, by name, was checked before): RFC 7692 §5 for
    /// deflate, "the client MUST _Fail the WebSocket Connection_" on an
    /// answer it cannot accept.
    pub(super) fn check_answer(
        &self,
        extensions: Vec<ExtensionOffer>,
    ) -> Result<Agreed, HandshakeError> {
        #[cfg(feature = "deflate")]
        let deflate = match &self.deflate {
            Some(config) => config
                .check_response(&extensions)
                .map_err(|e| HandshakeError::InvalidExtensionResponse(alloc::format!("{e}")))?,
            None => None,
        };
        Ok(Agreed {
            extensions,
            #[cfg(feature = "deflate")]
            deflate,
        })
    }
}

impl Agreed {
    /// The connection of a completed handshake: `role`, `config`, the
    /// extensions' codecs, and the bytes that followed the head fed in.
    pub(super) fn open(&self, role: Role, config: Config, leftover: &[u8]) -> Connection {
        let mut connection = Connection::new(role, config);
        connection.install_codec(self.codec(role));
        connection.handle_input(leftover);
        connection
    }

    /// The message codec of the agreed extensions, for `role`'s end (the
    /// empty one when none was agreed).
    fn codec(&self, _role: Role) -> Codec {
        #[cfg(feature = "deflate")]
        if let Some(params) = &self.deflate {
            return Codec::deflate(_role, params);
        }
        Codec::default()
    }
}
