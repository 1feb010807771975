//! Which end of the connection we are: the one place masking direction is decided.

/// The role of an endpoint, which fixes the direction of masking.
///
/// RFC 6455 §5.1: "a client MUST mask all frames that it sends to the server
/// [...] A server MUST NOT mask any frames that it sends to the client."
/// and, for the receiving side, "The server MUST close the connection upon
/// receiving a frame that is not masked [...] A client MUST close a
/// connection if it detects a masked frame."
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The endpoint that opened the connection: masks what it sends.
    Client,
    /// The endpoint that accepted the connection: never masks.
    Server,
}

impl Role {
    /// Whether frames this endpoint *sends* carry a masking key.
    #[inline]
    pub const fn masks_outgoing(self) -> bool {
        matches!(self, Role::Client)
    }

    /// Whether frames this endpoint *receives* must carry a masking key.
    #[inline]
    pub const fn expects_masked_incoming(self) -> bool {
        matches!(self, Role::Server)
    }

    /// The other end's role.
    #[inline]
    pub const fn peer(self) -> Role {
        match self {
            Role::Client => Role::Server,
            Role::Server => Role::Client,
        }
    }
}
