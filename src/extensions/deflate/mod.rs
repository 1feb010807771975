//! permessage-deflate (RFC 7692): negotiation here, and in `codec` the
//! compressor and decompressor a connection uses once it was agreed.
//!
//! # Negotiation
//!
//! A client sends [`DeflateConfig::offer`] and checks the server's answer
//! with [`DeflateConfig::check_response`]; a server picks the first offer it
//! can honour with [`DeflateConfig::negotiate`], declining (no compression)
//! rather than agreeing to something it cannot do. Either way the result is
//! a [`DeflateParams`] for [`Connection::enable_deflate`](crate::Connection::enable_deflate).
//!
//! # Memory
//!
//! A connection that negotiated nothing allocates nothing for compression
//! (`Connection::new` allocates nothing at all). One that did makes its
//! zlib-rs state when first needed, not in
//! [`Connection::enable_deflate`](crate::Connection::enable_deflate), and
//! the defaults are chosen so that it keeps little of it:
//!
//! - A zlib-rs compressor takes 134-260 KiB at window bits 9-15 with
//!   [`memory_level`](DeflateConfig::memory_level) 1 (245-371 KiB at
//!   zlib's 8): a 128 KiB hash table whatever the settings, and the window
//!   and its chain. So a connection keeps none by default: each whole
//!   message is compressed by one compressor per thread (see `shared`),
//!   from an empty window without context takeover, or else from the last
//!   [`context_size`](DeflateConfig::context_size) bytes sent (4 KiB, see
//!   `context`), set as its dictionary. A `context_size` of 32 KiB or
//!   more keeps a compressor of the connection's own with its whole
//!   window, made on the first message: faster, a better ratio, and the
//!   memory above for the connection's life. A streamed message
//!   (`send_fragment`) makes one of its own for its length.
//! - The decompressor (47 KiB whatever the window) is made on the first
//!   compressed message received, and
//!   [`Connection::release_idle_buffers`](crate::Connection::release_idle_buffers)
//!   lets it go between messages when the peer takes no context over,
//!   which a server asks by default (`client_no_context_takeover`).
//!
//! Measured (`tests/deflate.rs`; the table is in `docs/deflate.md`): a
//! server at the defaults holds 54-58 KiB after a message each way and at
//! most 4 KiB (its context) after `release_idle_buffers`; with a
//! compressor of its own and context taken over both ways, 299-427 KiB
//! and 292-418 KiB. Receiving keeps an inflate buffer the size of the
//! largest message seen, as the receive buffer does without compression,
//! and sending keeps at most 32 KiB of compressor output space; both go
//! with `release_idle_buffers`. A compressed frame is buffered whole
//! before it is inflated (unless fragments are delivered as they arrive),
//! so its length is held from its header to what the rest of the message
//! can take compressed (`max_compressed_len`): the message limit, plus an
//! eighth, plus 1 KiB.

use alloc::string::ToString;
use alloc::vec::Vec;

use crate::connection::Connection;
use crate::extensions::Codec;
use crate::handshake::ExtensionOffer;

pub(crate) mod codec;
mod context;
mod shared;

/// The extension's registered name.
pub const NAME: &str = "permessage-deflate";

/// What an endpoint is willing to negotiate, and how it compresses. Built
/// from the defaults with a setter per field
/// (`DeflateConfig::default().client_max_window_bits(12)`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeflateConfig {
    /// Ask (client) or decide (server) that the server resets its
    /// compression context after each message.
    pub server_no_context_takeover: bool,
    /// Ask (server) or promise (client) that the client resets its
    /// compression context after each message. Default on: a server's
    /// decompressor then keeps nothing between messages (RFC 7692
    /// §7.1.1.2: a server may ask it in its response, and the client then
    /// compresses each message from an empty window), at the cost of the
    /// ratio of what the client sends (2.3x instead of 4.9x on 1 KiB JSON
    /// messages).
    pub client_no_context_takeover: bool,
    /// The largest LZ77 window, as a power of two (8..=15), the server may
    /// use: a client asks for it, a server uses at most this.
    pub server_max_window_bits: u8,
    /// The largest window (8..=15) the client may use: a client offers it
    /// (without a value when 15), a server asks for it when the client
    /// allowed it.
    pub client_max_window_bits: u8,
    /// zlib compression level, 0..=9. Default 1, the fastest level, which
    /// keeps most of the gain on chatty text at a fraction of the CPU.
    pub level: u32,
    /// zlib's `memLevel` (1..=9) for the compressor: the size of its
    /// buffers of pending symbols and output, 2^(memory_level + 6) symbols
    /// (7 bytes each with zlib-rs). Default 1: 896 bytes instead of the
    /// 112 KiB of zlib's default 8. At level 1 the output is the same
    /// (zlib-rs codes level 1 with the fixed Huffman codes, so the size of
    /// a block changes nothing); at level 6 smaller blocks cost 2-11% of
    /// the ratio on JSON-like text (`docs/deflate.md`), so raise it with
    /// the level. zlib-rs's hash table (128 KiB) does not shrink with it,
    /// unlike C zlib's. The decompressor has no such setting.
    pub memory_level: u8,
    /// With context takeover, how many of the last bytes sent a message
    /// may refer back to. Default 4 KiB, kept per connection, with the
    /// thread's compressor doing the work (each message primed with them
    /// as its dictionary): 4 KiB of context per connection instead of a
    /// compressor of its own (134-260 KiB), for 5-9% of the ratio on
    /// JSON-like messages and more CPU per message (`docs/deflate.md`).
    /// 32 KiB (the largest window) or more, e.g. `usize::MAX`: a compressor
    /// of the connection's own keeps its whole window, the fastest and the
    /// best ratio. 0: no context at all, as without context takeover.
    pub context_size: usize,
    /// Messages shorter than this are sent uncompressed (RSV1 clear): the
    /// deflate overhead would outweigh the gain. Default 32 bytes.
    pub min_compress_size: usize,
}

impl Default for DeflateConfig {
    fn default() -> Self {
        DeflateConfig {
            server_no_context_takeover: false,
            client_no_context_takeover: true,
            server_max_window_bits: 15,
            client_max_window_bits: 15,
            level: 1,
            memory_level: 1,
            context_size: 4 << 10,
            min_compress_size: 32,
        }
    }
}

/// The parameters agreed for one connection, as
/// [`DeflateConfig::negotiate`] and [`DeflateConfig::check_response`] give
/// them (for [`Connection::enable_deflate`]); the default is what two
/// default configurations agree on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeflateParams {
    /// The server resets its compression context after each message.
    pub server_no_context_takeover: bool,
    /// The client resets its compression context after each message.
    pub client_no_context_takeover: bool,
    /// The server's window, 8..=15.
    pub server_max_window_bits: u8,
    /// The client's window, 8..=15.
    pub client_max_window_bits: u8,
    /// The sender's compression level.
    pub level: u32,
    /// The sender's zlib `memLevel` (1..=9).
    pub memory_level: u8,
    /// How much of what it sent the sender keeps as context.
    pub context_size: usize,
    /// The sender's threshold for compressing a message.
    pub min_compress_size: usize,
}

setters! {
    DeflateConfig {
        server_no_context_takeover: bool,
        client_no_context_takeover: bool,
        server_max_window_bits: u8,
        client_max_window_bits: u8,
        level: u32,
        memory_level: u8,
        context_size: usize,
        min_compress_size: usize,
    }
}

setters! {
    DeflateParams {
        server_no_context_takeover: bool,
        client_no_context_takeover: bool,
        server_max_window_bits: u8,
        client_max_window_bits: u8,
        level: u32,
        memory_level: u8,
        context_size: usize,
        min_compress_size: usize,
    }
}

impl Default for DeflateParams {
    fn default() -> Self {
        let config = DeflateConfig::default();
        DeflateParams {
            server_no_context_takeover: config.server_no_context_takeover,
            client_no_context_takeover: config.client_no_context_takeover,
            server_max_window_bits: config.server_max_window_bits,
            client_max_window_bits: config.client_max_window_bits,
            level: config.level,
            memory_level: config.memory_level,
            context_size: config.context_size,
            min_compress_size: config.min_compress_size,
        }
    }
}

impl crate::PreparedMessage {
    /// Compresses the message once for every server connection that agreed
    /// on `params` with `server_no_context_takeover` (RFC 7692 §7.1.1.1:
    /// the server then starts compressing each new message with an empty
    /// LZ77 sliding window, so a message always compresses to the same
    /// bytes): [`Connection::send_prepared`] queues that frame by
    /// reference on each, as it does the plain one. Connections with other
    /// parameters, or with context takeover, compress it themselves.
    pub fn compressed_for(mut self, params: &DeflateParams) -> crate::PreparedMessage {
        let params = params.server_no_context_takeover(true);
        let mut compressor = codec::Compressor::new(crate::Role::Server, &params);
        let key = compressor.shared_key();
        if let Some(key) = key {
            let compressed = compressor.compress(&self.payload(), true);
            let (frame, _) = Self::frame_of(self.kind(), codec::DeflateCodec::RSV, &compressed);
            self.forms.deflate = Some((key, frame));
        }
        self
    }
}

impl Connection {
    /// Turns on permessage-deflate with the parameters the handshake agreed
    /// (see [`extensions::deflate`](crate::extensions::deflate)). Call it
    /// before any frame is exchanged. Connections that never call it
    /// allocate no compression state, and RSV1 stays a protocol error.
    ///
    /// A handshake finished with [`Accept::deflate`] or
    /// [`ClientConfig::deflate`] has done so already.
    ///
    /// [`Accept::deflate`]: crate::handshake::Accept::deflate
    /// [`ClientConfig::deflate`]: crate::handshake::ClientConfig::deflate
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    pub fn enable_deflate(&mut self, params: DeflateParams) {
        let codec = Codec::deflate(self.role(), &params);
        self.install_codec(codec);
    }
}

/// Why a server's answer cannot be accepted (RFC 7692 §5: "the client MUST
/// _Fail the WebSocket Connection_").
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeflateNegotiationError {
    /// A parameter the extension does not define.
    #[error("unknown permessage-deflate parameter {0:?}")]
    UnknownParameter(alloc::string::String),
    /// A parameter given twice (§7: "a server MUST decline \[...\] if \[it\]
    /// includes multiple extension parameters with the same name").
    #[error("duplicate permessage-deflate parameter {0:?}")]
    DuplicateParameter(alloc::string::String),
    /// A value that is not what the parameter takes.
    #[error("invalid value for permessage-deflate parameter {0:?}")]
    InvalidValue(alloc::string::String),
    /// §7.1.2.2: the response has `client_max_window_bits` though the offer
    /// did not, or a window larger than the one offered.
    #[error("server answered a window size the client did not allow")]
    WindowNotOffered,
    /// The response names permessage-deflate but the client did not offer it.
    #[error("server accepted permessage-deflate, which was not offered")]
    NotOffered,
}

/// An offer or response, its parameters checked for §7's syntax rules.
#[derive(Default)]
struct Parsed {
    server_no_context_takeover: bool,
    client_no_context_takeover: bool,
    server_max_window_bits: Option<u8>,
    /// `Some(None)`: the parameter without a value (client offers only).
    client_max_window_bits: Option<Option<u8>>,
}

impl Parsed {
    fn from(ext: &ExtensionOffer) -> Result<Parsed, DeflateNegotiationError> {
        use DeflateNegotiationError::*;
        let mut parsed = Parsed::default();
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in &ext.params {
            let lower = name.to_ascii_lowercase();
            if seen.iter().any(|s| s.eq_ignore_ascii_case(name)) {
                return Err(DuplicateParameter(lower));
            }
            seen.push(name);
            let bits = |value: &Option<alloc::string::String>| -> Result<Option<u8>, DeflateNegotiationError> {
                match value.as_deref() {
                    None => Ok(None),
                    // §7.1.2.1: "The value [...] MUST be an integer in the
                    // range 8 to 15 inclusive [...] without leading zeros"
                    // (the ABNF is `1*DIGIT`: no sign, which `parse` takes).
                    Some(v)
                        if !v.starts_with('0') && v.bytes().all(|b| b.is_ascii_digit()) =>
                    {
                        match v.parse::<u8>() {
                            Ok(b @ 8..=15) => Ok(Some(b)),
                            _ => Err(InvalidValue(lower.clone())),
                        }
                    }
                    Some(_) => Err(InvalidValue(lower.clone())),
                }
            };
            match lower.as_str() {
                "server_no_context_takeover" | "client_no_context_takeover" => {
                    if value.is_some() {
                        return Err(InvalidValue(lower));
                    }
                    if lower.starts_with("server") {
                        parsed.server_no_context_takeover = true;
                    } else {
                        parsed.client_no_context_takeover = true;
                    }
                }
                "server_max_window_bits" => {
                    parsed.server_max_window_bits =
                        Some(bits(value)?.ok_or_else(|| InvalidValue(lower.clone()))?);
                }
                "client_max_window_bits" => parsed.client_max_window_bits = Some(bits(value)?),
                _ => return Err(UnknownParameter(lower)),
            }
        }
        Ok(parsed)
    }
}

impl DeflateConfig {
    /// The offer a client sends (RFC 7692 §5.1).
    pub fn offer(&self) -> ExtensionOffer {
        let mut offer = ExtensionOffer::new(NAME);
        if self.server_no_context_takeover {
            offer = offer.with_param("server_no_context_takeover", None::<&str>);
        }
        if self.client_no_context_takeover {
            offer = offer.with_param("client_no_context_takeover", None::<&str>);
        }
        if self.server_max_window_bits < 15 {
            offer = offer.with_param(
                "server_max_window_bits",
                Some(self.server_max_window_bits.to_string()),
            );
        }
        // Always allow the server to ask for a smaller client window: any
        // window can be honoured (see `Compressor::new`).
        offer = match self.client_max_window_bits {
            15 => offer.with_param("client_max_window_bits", None::<&str>),
            bits => offer.with_param("client_max_window_bits", Some(bits.to_string())),
        };
        offer
    }

    /// A server's choice among a client's extension offers (RFC 7692 §5.1,
    /// §7.1): the first permessage-deflate offer it can honour, with the
    /// response element to send and the parameters for the connection, or
    /// `None` to connect without compression. Offers with unknown,
    /// duplicate or malformed parameters are declined, as §7 requires.
    pub fn negotiate(&self, offers: &[ExtensionOffer]) -> Option<(ExtensionOffer, DeflateParams)> {
        offers
            .iter()
            .filter(|o| o.name.eq_ignore_ascii_case(NAME))
            .find_map(|offer| self.accept_offer(&Parsed::from(offer).ok()?))
    }

    fn accept_offer(&self, offer: &Parsed) -> Option<(ExtensionOffer, DeflateParams)> {
        let mut response = ExtensionOffer::new(NAME);
        let server_no_context_takeover =
            offer.server_no_context_takeover || self.server_no_context_takeover;
        if server_no_context_takeover {
            response = response.with_param("server_no_context_takeover", None::<&str>);
        }
        let client_no_context_takeover = self.client_no_context_takeover;
        if client_no_context_takeover {
            response = response.with_param("client_no_context_takeover", None::<&str>);
        }
        // §7.1.2.1: with server_max_window_bits in the offer, the server
        // must not use a larger window and says which it uses.
        let server_bits = offer
            .server_max_window_bits
            .unwrap_or(15)
            .min(self.server_max_window_bits);
        if server_bits < 15 || offer.server_max_window_bits.is_some() {
            response = response.with_param("server_max_window_bits", Some(server_bits.to_string()));
        }
        // §7.1.2.2: a client window may be asked for only if the client
        // offered client_max_window_bits, and no larger than its value.
        let client_bits = match offer.client_max_window_bits {
            None => 15,
            Some(offered) => {
                let bits = offered.unwrap_or(15).min(self.client_max_window_bits);
                if bits < 15 || offered.is_some() {
                    response =
                        response.with_param("client_max_window_bits", Some(bits.to_string()));
                }
                bits
            }
        };
        // A client that cannot shrink its window below what we need would
        // have been turned down here; with client_max_window_bits absent it
        // uses 15, and our decompressor takes any window.
        let params = DeflateParams {
            server_no_context_takeover,
            client_no_context_takeover,
            server_max_window_bits: server_bits,
            client_max_window_bits: client_bits,
            level: self.level,
            memory_level: self.memory_level,
            context_size: self.context_size,
            min_compress_size: self.min_compress_size,
        };
        Some((response, params))
    }

    /// Checks the server's answer to [`offer`](Self::offer) (RFC 7692 §5.1,
    /// §7.1): `Ok(None)` when it declined compression, the parameters to use
    /// otherwise, or why the client must fail the connection.
    pub fn check_response(
        &self,
        accepted: &[ExtensionOffer],
    ) -> Result<Option<DeflateParams>, DeflateNegotiationError> {
        let mut ours = accepted
            .iter()
            .filter(|e| e.name.eq_ignore_ascii_case(NAME));
        let Some(response) = ours.next() else {
            return Ok(None);
        };
        if ours.next().is_some() {
            return Err(DeflateNegotiationError::DuplicateParameter(NAME.into()));
        }
        let parsed = Parsed::from(response)?;
        let server_bits = parsed.server_max_window_bits.unwrap_or(15);
        if server_bits > self.server_max_window_bits {
            return Err(DeflateNegotiationError::WindowNotOffered);
        }
        // §7.1.2.2: without the parameter in the response "the
        // corresponding client can use any LZ77 sliding window size", but
        // a client that offered a value said it "will use an LZ77 sliding
        // window whose size is not bigger than the size specified": its own
        // setting holds.
        let client_bits = match parsed.client_max_window_bits {
            None => self.client_max_window_bits,
            Some(None) => {
                return Err(DeflateNegotiationError::InvalidValue(
                    "client_max_window_bits".into(),
                ))
            }
            Some(Some(bits)) if bits <= self.client_max_window_bits => bits,
            Some(Some(_)) => return Err(DeflateNegotiationError::WindowNotOffered),
        };
        Ok(Some(DeflateParams {
            server_no_context_takeover: parsed.server_no_context_takeover,
            client_no_context_takeover: parsed.client_no_context_takeover
                || self.client_no_context_takeover,
            server_max_window_bits: server_bits,
            client_max_window_bits: client_bits,
            level: self.level,
            memory_level: self.memory_level,
            context_size: self.context_size,
            min_compress_size: self.min_compress_size,
        }))
    }
}
