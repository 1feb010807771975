//! `Sec-WebSocket-Accept` (RFC 6455 §4.2.2), computed without allocating.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use core::fmt;
use sha1::{Digest, Sha1};

/// The GUID of §1.3, appended to the key before hashing.
pub const WEBSOCKET_GUID: &[u8; 36] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// The value of `Sec-WebSocket-Accept` for a key: 28 ASCII bytes, held inline.
///
/// §4.2.2: "concatenate this with the Globally Unique Identifier [...]
/// "258EAFA5-E914-47DA-95CA-C5AB0DC85B11" in string form, [...] take the
/// SHA-1 hash of this concatenated value to obtain a 20-byte value and
/// base64-encode [...] this 20-byte hash."
///
/// ```
/// use wsproto::handshake::AcceptKey;
///
/// // RFC 6455 §1.3.
/// let accept = AcceptKey::from_key(b"dGhlIHNhbXBsZSBub25jZQ==");
/// assert_eq!(accept.as_str(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct AcceptKey([u8; 28]);

impl AcceptKey {
    /// The accept value for `key`, the `Sec-WebSocket-Key` value exactly as
    /// sent (§4.2.2: "as a string, not base64-decoded"), whitespace trimmed.
    pub fn from_key(key: &[u8]) -> AcceptKey {
        let digest = Sha1::new()
            .chain_update(key)
            .chain_update(WEBSOCKET_GUID)
            .finalize();
        let mut out = [0u8; 28];
        // 20 bytes always encode to exactly 28 base64 characters.
        let written = STANDARD.encode_slice(digest, &mut out);
        debug_assert_eq!(written, Ok(28));
        AcceptKey(out)
    }

    /// The value as text.
    pub fn as_str(&self) -> &str {
        // Base64 output is ASCII.
        core::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The value as bytes.
    pub const fn as_bytes(&self) -> &[u8; 28] {
        &self.0
    }
}

impl fmt::Display for AcceptKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for AcceptKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AcceptKey({})", self.as_str())
    }
}

/// The `Sec-WebSocket-Key` for 16 nonce bytes: their base64 encoding, 24
/// ASCII bytes (§4.1: "a randomly selected 16-byte value that has been
/// base64-encoded").
pub fn encode_key(nonce: &[u8; 16]) -> [u8; 24] {
    let mut out = [0u8; 24];
    let written = STANDARD.encode_slice(nonce, &mut out);
    debug_assert_eq!(written, Ok(24));
    out
}

/// Whether `key` is the base64 encoding of exactly 16 bytes (§4.2.1), in
/// canonical form (padding present, no stray bits).
pub fn is_valid_key(key: &[u8]) -> bool {
    let mut decoded = [0u8; 18];
    key.len() == 24 && matches!(STANDARD.decode_slice(key, &mut decoded), Ok(16))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_vector() {
        assert_eq!(
            AcceptKey::from_key(b"dGhlIHNhbXBsZSBub25jZQ==").as_bytes(),
            b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
        );
        assert_eq!(
            &encode_key(b"the sample nonce"),
            b"dGhlIHNhbXBsZSBub25jZQ=="
        );
    }

    #[test]
    fn key_validity() {
        assert!(is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ=="));
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ")); // no padding
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZR==")); // stray bits
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ=")); // 23 bytes
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZSE=")); // 17 bytes
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25j")); // 15 bytes
        assert!(!is_valid_key(b"dGhlIHNhbXBsZSBub25jZQ=*"));
    }
}
