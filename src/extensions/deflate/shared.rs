//! One compressor per thread for the messages that take no context over.
//!
//! RFC 7692 §7.1.1.1: with `server_no_context_takeover` "the server [...]
//! MUST start compressing each new message with an empty LZ77 sliding
//! window" (and §7.1.1.2 likewise for the client). Such a message depends
//! on nothing the connection sent before, so the compressor that makes it
//! need not be the connection's: every connection of a thread borrows the
//! thread's, for the length of one whole message, and leaves it reset.
//! A connection then holds no compressor at all (134-260 KiB with zlib-rs),
//! which is what lets many thousands of them compress; the thread holds one
//! per window and level in use (at most [`KEYS`], the most recent kept).
//!
//! A streamed message (`send_fragment`) keeps one context across calls and
//! so uses the connection's own compressor (see
//! [`Compressor`](super::codec::Compressor)).

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::cell::RefCell;

use zlib_rs::Deflate as Compress;

use super::codec::SharedKey;

/// How many compressors (one per window and level) a thread keeps.
const KEYS: usize = 4;

std::thread_local! {
    /// The thread's compressors, the most recently used last.
    static COMPRESSORS: RefCell<Vec<(SharedKey, Box<Compress>)>> =
        const { RefCell::new(Vec::new()) };
}

/// Runs `f` with a compressor for `key` whose context is empty, and resets
/// it after. The compressor is taken out of the thread's store for the
/// call, so a call from within `f` (none is made today) or from a thread
/// whose storage is being torn down gets a fresh one instead of a panic.
pub(crate) fn with<R>(key: SharedKey, f: impl FnOnce(&mut Compress) -> R) -> R {
    let mut compress = COMPRESSORS
        .try_with(|cell| {
            let mut kept = cell.try_borrow_mut().ok()?;
            let i = kept.iter().position(|(k, _)| *k == key)?;
            Some(kept.remove(i).1)
        })
        .ok()
        .flatten()
        .unwrap_or_else(|| Box::new(key.compressor()));
    let result = f(&mut compress);
    compress.reset();
    let _ = COMPRESSORS.try_with(|cell| {
        if let Ok(mut kept) = cell.try_borrow_mut() {
            if kept.len() == KEYS {
                kept.remove(0);
            }
            kept.push((key, compress));
        }
    });
    result
}
