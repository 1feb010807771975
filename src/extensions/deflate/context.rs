//! What a sender keeps of the messages it sent, for the next ones to refer
//! back to (context takeover, RFC 7692 §7.1.1), when it keeps less than
//! its whole window.
//!
//! RFC 7692 §7.1.1.1: "a server [using context takeover] can use the LZ77
//! sliding window [...] used in compressing the previous messages". A
//! sender *may* refer back that far; nothing obliges it to. Its peer keeps
//! the whole window either way, so any shorter stretch of the most recent
//! bytes is a valid context. Keeping only the last few KiB and handing them
//! to a fresh compressor as its preset dictionary (zlib's
//! `deflateSetDictionary`) lets a connection take its context over with a
//! few KiB of its own and the thread's shared compressor, instead of a
//! compressor of its own (134-260 KiB with zlib-rs). On JSON-like messages
//! most of what context takeover gains comes from the last few KiB (the
//! keys and values that repeat); see `docs/deflate.md` for the figures.

use alloc::vec::Vec;

use zlib_rs::Deflate as Compress;

/// The last bytes sent, at most `limit` of them.
#[derive(Debug)]
pub(crate) struct Recent {
    bytes: Vec<u8>,
    limit: usize,
}

impl Recent {
    /// Nothing sent yet; allocates nothing until something is.
    pub(crate) fn new(limit: usize) -> Recent {
        Recent {
            bytes: Vec::new(),
            limit,
        }
    }

    /// Adds `sent` (plain bytes of a message, in order), keeping the last
    /// `limit` bytes. The buffer is allocated once, at exactly `limit`.
    pub(crate) fn remember(&mut self, sent: &[u8]) {
        let limit = self.limit;
        if sent.len() >= limit {
            self.bytes.clear();
            self.bytes.reserve_exact(limit);
            self.bytes.extend_from_slice(&sent[sent.len() - limit..]);
            return;
        }
        let excess = (self.bytes.len() + sent.len()).saturating_sub(limit);
        self.bytes.drain(..excess);
        self.bytes.reserve_exact(limit - self.bytes.len());
        self.bytes.extend_from_slice(sent);
    }

    /// Sets what was remembered as the preset dictionary of `compress`,
    /// which must be fresh (made or reset, nothing compressed yet). zlib
    /// refuses a dictionary only on a stream already under way; should it
    /// refuse, the message is compressed without one, which is valid too
    /// (it just refers back to nothing).
    pub(crate) fn prime(&self, compress: &mut Compress) {
        if !self.bytes.is_empty() {
            let _ = compress.set_dictionary(&self.bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_limit_bytes_in_one_allocation() {
        let mut recent = Recent::new(8);
        assert_eq!(recent.bytes.capacity(), 0);
        recent.remember(b"abc");
        assert_eq!(
            (recent.bytes.as_slice(), recent.bytes.capacity()),
            (&b"abc"[..], 8)
        );
        recent.remember(b"defgh");
        assert_eq!(recent.bytes, b"abcdefgh");
        recent.remember(b"ij");
        assert_eq!(recent.bytes, b"cdefghij");
        recent.remember(b"0123456789");
        assert_eq!(recent.bytes, b"23456789");
        recent.remember(b"");
        assert_eq!(
            (recent.bytes.as_slice(), recent.bytes.capacity()),
            (&b"23456789"[..], 8)
        );
    }
}
