//! Incremental UTF-8 validation across frames and fragments (RFC 6455 §8.1).
//!
//! §8.1: "When an endpoint is to interpret a byte stream as UTF-8 but finds
//! that the byte stream is not, in fact, a valid UTF-8 stream, that endpoint
//! MUST _Fail the WebSocket Connection_." A text message may be split at any
//! byte, so a code point may straddle two frames; this validator keeps the
//! (at most 3) bytes of an unfinished code point and fails at the first byte
//! that cannot start or continue a valid sequence, not only at the end.

/// Whether `bytes` are valid UTF-8, whole: a short ASCII check first (most
/// text is ASCII, and messages short), then the validator that does not
/// locate errors, a fraction of the cost of the one that does.
#[inline]
pub(crate) fn is_utf8(bytes: &[u8]) -> bool {
    (bytes.len() < 64 && bytes.is_ascii()) || simdutf8::basic::from_utf8(bytes).is_ok()
}

/// `bytes` as text if they are valid UTF-8, whole: the standard library's
/// check for short input (the vector check's own fallback there), the
/// vector check for the rest.
#[inline]
pub(crate) fn as_str(bytes: &[u8]) -> Option<&str> {
    if bytes.len() < 64 {
        core::str::from_utf8(bytes).ok()
    } else {
        simdutf8::basic::from_utf8(bytes).ok()
    }
}

/// The validation state of one text message in progress.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Utf8Validator {
    /// The bytes of a code point cut off by the end of the last piece.
    pending: [u8; 4],
    pending_len: u8,
}

/// The input is not UTF-8, or the message ended inside a code point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid UTF-8")]
pub struct Utf8Error;

impl Utf8Validator {
    /// A validator at the start of a message.
    pub const fn new() -> Utf8Validator {
        Utf8Validator {
            pending: [0; 4],
            pending_len: 0,
        }
    }

    /// Validates the next piece of the message.
    ///
    /// Fails as soon as a byte cannot be part of valid UTF-8 whatever follows;
    /// an unfinished code point at the end of `input` is kept for the next call.
    pub fn feed(&mut self, mut input: &[u8]) -> Result<(), Utf8Error> {
        // The common case first: whole and valid (the validator that
        // locates errors only runs when this check fails).
        if self.pending_len == 0 && is_utf8(input) {
            return Ok(());
        }
        if self.pending_len > 0 {
            input = self.finish_pending(input)?;
            if self.pending_len > 0 {
                return Ok(());
            }
        }
        match simdutf8::compat::from_utf8(input) {
            Ok(_) => Ok(()),
            Err(e) if e.error_len().is_some() => Err(Utf8Error),
            Err(e) => {
                // A truncated but so far valid code point: at most 3 bytes.
                let tail = &input[e.valid_up_to()..];
                self.pending[..tail.len()].copy_from_slice(tail);
                self.pending_len = tail.len() as u8;
                Ok(())
            }
        }
    }

    /// Validates the last piece of the message: it must not end inside a
    /// code point. The validator is reset for the next message.
    pub fn finish(&mut self, input: &[u8]) -> Result<(), Utf8Error> {
        self.feed(input)?;
        let complete = self.pending_len == 0;
        *self = Utf8Validator::new();
        if complete {
            Ok(())
        } else {
            Err(Utf8Error)
        }
    }

    /// Whether the input so far ends inside a code point.
    pub fn is_mid_code_point(&self) -> bool {
        self.pending_len > 0
    }

    /// Completes the pending code point with bytes from `input`; returns the
    /// rest of `input`.
    fn finish_pending<'a>(&mut self, input: &'a [u8]) -> Result<&'a [u8], Utf8Error> {
        let have = usize::from(self.pending_len);
        let width = match self.pending[0] {
            0xc2..=0xdf => 2,
            0xe0..=0xef => 3,
            _ => 4, // only 0xf0..=0xf4 can have been kept
        };
        let take = (width - have).min(input.len());
        let mut buf = self.pending;
        buf[have..have + take].copy_from_slice(&input[..take]);
        match simdutf8::compat::from_utf8(&buf[..have + take]) {
            Ok(_) => {
                self.pending_len = 0;
                Ok(&input[take..])
            }
            Err(e) if e.error_len().is_some() => Err(Utf8Error),
            Err(_) => {
                // Still short of the whole code point: input is exhausted.
                self.pending = buf;
                self.pending_len = (have + take) as u8;
                Ok(&input[take..])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_validates(bytes: &[u8]) -> Vec<bool> {
        // For every split point, whether validating in two pieces succeeds.
        (0..=bytes.len())
            .map(|cut| {
                let mut v = Utf8Validator::new();
                v.feed(&bytes[..cut]).is_ok() && v.finish(&bytes[cut..]).is_ok()
            })
            .collect()
    }

    #[test]
    fn agrees_with_core_at_every_split() {
        let samples: &[&[u8]] = &[
            "κόσμε".as_bytes(),
            "\u{10ffff}a€".as_bytes(),
            b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",
            b"\xf4\x90\x80\x80",
            b"\xc0\xaf",
            b"ab\xe2\x82",
            b"\xf0\x9f\x98",
        ];
        for s in samples {
            let expected = core::str::from_utf8(s).is_ok();
            for (cut, ok) in split_validates(s).into_iter().enumerate() {
                assert_eq!(ok, expected, "{s:x?} cut at {cut}");
            }
        }
    }

    #[cfg(not(miri))]
    proptest::proptest! {
        /// Any bytes, cut anywhere: the same verdict as `core::str::from_utf8`.
        #[test]
        fn agrees_with_core_on_any_input_and_split(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            text in "\\PC{0,50}",
            cuts in proptest::collection::vec(0usize..250, 0..6),
        ) {
            for input in [bytes, text.into_bytes()] {
                let mut cuts: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
                cuts.sort();
                let mut v = Utf8Validator::new();
                let mut at = 0;
                let mut ok = true;
                for &cut in &cuts {
                    ok &= v.feed(&input[at..cut]).is_ok();
                    at = cut;
                }
                ok = ok && v.finish(&input[at..]).is_ok();
                proptest::prop_assert_eq!(ok, core::str::from_utf8(&input).is_ok());
            }
        }
    }

    #[test]
    fn byte_by_byte_fails_at_the_first_bad_byte() {
        // 0xed 0xa0 starts a surrogate: invalid from the second byte on.
        let bytes = b"ok\xed\xa0\x80";
        let mut v = Utf8Validator::new();
        assert!(v.feed(&bytes[..3]).is_ok());
        assert_eq!(v.feed(&bytes[3..4]), Err(Utf8Error));
    }

    #[test]
    fn truncated_message_fails_at_finish() {
        let mut v = Utf8Validator::new();
        assert!(v.feed(b"\xe2\x82").is_ok());
        assert!(v.is_mid_code_point());
        assert_eq!(v.finish(b""), Err(Utf8Error));
    }
}
