//! Limits and switches of a connection, each with a documented safe default.

use core::time::Duration;

use crate::frame::DEFAULT_MAX_FRAME_PAYLOAD;

/// Fills a buffer with cryptographically secure random bytes.
///
/// Used for client masking keys (§5.3: "The masking key needs to be
/// unpredictable; thus, the masking key MUST be derived from a strong source
/// of entropy") and handshake keys. A plain function pointer, so a `no_std`
/// caller can route it to a hardware RNG without the connection holding state.
pub type RandomSource = fn(&mut [u8]);

/// The default random source: the thread-local CSPRNG of `rand`.
#[cfg(feature = "rand")]
pub fn thread_rng_source(buf: &mut [u8]) {
    use rand::RngCore;
    rand::rng().fill_bytes(buf);
}

/// Configuration of a [`Connection`](crate::Connection).
///
/// Every limit is checked before the memory it guards is spent: frame
/// lengths from the header alone, message sizes before a fragment is
/// appended.
///
/// Built from the defaults with a setter per field, so that a new setting
/// is not a breaking change:
///
/// ```
/// use core::time::Duration;
/// use wsproto::Config;
///
/// let config = Config::default()
///     .max_message_size(1 << 20)
///     .keepalive_interval(Some(Duration::from_secs(30)));
/// assert_eq!(config.max_message_size, 1 << 20);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// Largest payload of one received frame. Default 16 MiB. Exceeding it
    /// fails the connection with 1009, as does a length this target cannot
    /// address (beyond 4 GiB on a 32-bit target), whatever this says.
    pub max_frame_payload: u64,
    /// Largest received message (all fragments together; after
    /// decompression when permessage-deflate is on). Default 64 MiB.
    /// Exceeding it fails the connection with 1009. A compressed frame is
    /// held to it from its header too: it may carry at most what the rest
    /// of the message can take compressed (the room left, plus an eighth,
    /// plus 1 KiB), since it is buffered whole before it is inflated.
    pub max_message_size: u64,
    /// Most frames one received message may span. Default 100,000 (the
    /// Autobahn suite sends 65,536). Exceeding it fails the connection with 1009.
    pub max_fragments: u32,
    /// Answer pings with a pong automatically. Default on. If several pings
    /// arrive before the output is drained, only the latest is answered, as
    /// §5.5.3 allows, so pings cannot grow the output queue.
    pub auto_pong: bool,
    /// Deliver data as [`Event::Fragment`](crate::Event::Fragment)s as it
    /// arrives, instead of whole messages: memory then stays bounded by the
    /// receive buffer whatever the message size. Default off.
    pub deliver_fragments: bool,
    /// Split outgoing messages into frames of at most this many payload
    /// bytes. Default `None`: one frame per message.
    pub max_send_frame: Option<usize>,
    /// When closing, echo the code the peer sent (default), or answer 1000.
    pub echo_close_code: bool,
    /// How long to wait for the peer's close frame after sending ours; and,
    /// once the connection is closed, for the transport to be done with:
    /// the output written and, for a client, the server's closing of TCP
    /// (§7.1.1). When it runs out, the output still queued is dropped and
    /// [`Connection::should_close_transport`](crate::Connection::should_close_transport)
    /// becomes true, so a peer that stops reading cannot hold a connection
    /// open. Default 5 s.
    pub close_timeout: Duration,
    /// Send a ping after this long without input. Default `None`.
    pub keepalive_interval: Option<Duration>,
    /// Give up on the connection when no pong answers a keepalive ping
    /// within this long. Default 10 s.
    pub keepalive_timeout: Duration,
    /// Source of masking keys for a client. `None` without the `rand`
    /// feature: a client must then be given one.
    pub random: Option<RandomSource>,
}

setters! {
    Config {
    max_frame_payload: u64,
    max_message_size: u64,
    max_fragments: u32,
    auto_pong: bool,
    deliver_fragments: bool,
    max_send_frame: Option<usize>,
    echo_close_code: bool,
    close_timeout: Duration,
    keepalive_interval: Option<Duration>,
    keepalive_timeout: Duration,
    random: Option<RandomSource>,
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_frame_payload: DEFAULT_MAX_FRAME_PAYLOAD,
            max_message_size: 64 << 20,
            max_fragments: 100_000,
            auto_pong: true,
            deliver_fragments: false,
            max_send_frame: None,
            echo_close_code: true,
            close_timeout: Duration::from_secs(5),
            keepalive_interval: None,
            keepalive_timeout: Duration::from_secs(10),
            #[cfg(feature = "rand")]
            random: Some(thread_rng_source),
            #[cfg(not(feature = "rand"))]
            random: None,
        }
    }
}
