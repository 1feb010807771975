//! The output queue: frames encoded once, handed to the caller as slices.
//!
//! Headers and small or masked payloads are written into one staging buffer;
//! a large unmasked payload already held in [`Bytes`] is queued by reference
//! after the staging bytes before it, so it goes out with a vectored write
//! and is never copied. In steady state nothing here allocates: the staging
//! buffer is reclaimed once the caller has written it.

use alloc::collections::VecDeque;
use bytes::{Buf, Bytes, BytesMut};

use crate::frame::{FrameHeader, MAX_HEADER_LEN};
use crate::mask::apply_mask;

/// Payloads at least this long are queued by reference rather than copied.
const SHARE_AT_LEAST: usize = 4096;

/// A payload to send: borrowed (copied once into the queue) or shared.
pub(crate) enum Payload<'a> {
    Borrowed(&'a [u8]),
    Shared(Bytes),
}

impl Payload<'_> {
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Payload::Borrowed(b) => b,
            Payload::Shared(b) => b,
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct Outbound {
    /// Segments ready to go, in order.
    queue: VecDeque<Bytes>,
    /// Bytes written after the last queued segment.
    staging: BytesMut,
    /// Total bytes in `queue` and `staging`.
    len: usize,
}

impl Outbound {
    /// Appends one frame. `header.payload_len` must match `payload`.
    pub(crate) fn push_frame(&mut self, header: FrameHeader, payload: Payload<'_>) {
        let body = payload.as_slice();
        debug_assert_eq!(header.payload_len, body.len() as u64);
        self.len += header.encoded_len() + body.len();
        let mut head = [0; MAX_HEADER_LEN];
        let head_len = header.encode(&mut head).unwrap_or_default();
        self.staging.extend_from_slice(&head[..head_len]);
        match (payload, header.mask) {
            (Payload::Shared(bytes), None) if bytes.len() >= SHARE_AT_LEAST => {
                self.seal_staging();
                self.queue.push_back(bytes);
            }
            (payload, mask) => {
                let start = self.staging.len();
                self.staging.extend_from_slice(payload.as_slice());
                if let Some(key) = mask {
                    apply_mask(&mut self.staging[start..], key);
                }
            }
        }
    }

    fn seal_staging(&mut self) {
        if !self.staging.is_empty() {
            self.queue.push_back(self.staging.split().freeze());
        }
    }

    /// Frees the buffers once everything has been written.
    pub(crate) fn release_idle_buffers(&mut self) {
        if self.len == 0 {
            self.queue = VecDeque::new();
            self.staging = BytesMut::new();
        }
    }

    /// Drops everything queued, written in part or not at all, and the
    /// buffers with it: the transport is being given up on.
    pub(crate) fn discard(&mut self) {
        *self = Outbound::default();
    }

    /// Total bytes waiting to be written.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The next bytes to write.
    pub(crate) fn front(&mut self) -> Option<&[u8]> {
        if self.queue.is_empty() {
            self.seal_staging();
        }
        self.queue.front().map(|b| &b[..])
    }

    /// Fills `out` with the queued segments in order; returns how many.
    pub(crate) fn chunks<'a>(&'a mut self, out: &mut [&'a [u8]]) -> usize {
        self.seal_staging();
        let mut n = 0;
        for (slot, seg) in out.iter_mut().zip(self.queue.iter()) {
            *slot = seg;
            n += 1;
        }
        n
    }

    /// Marks `n` bytes as written.
    pub(crate) fn advance(&mut self, mut n: usize) {
        n = n.min(self.len);
        self.len -= n;
        while n > 0 {
            let Some(front) = self.queue.front_mut() else {
                self.staging.advance(n);
                break;
            };
            let step = n.min(front.len());
            front.advance(step);
            n -= step;
            if front.is_empty() {
                self.queue.pop_front();
            }
        }
        if self.len == 0 {
            // Drop the last references so the staging buffer can be reused.
            self.queue.clear();
            self.staging.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::OpCode;

    #[test]
    fn discard_drops_a_partly_written_queue_and_its_buffers() {
        let mut out = Outbound::default();
        out.push_frame(
            FrameHeader::new(OpCode::Binary, 5),
            Payload::Borrowed(b"hello"),
        );
        let big = Bytes::from(vec![1; SHARE_AT_LEAST]);
        out.push_frame(
            FrameHeader::new(OpCode::Binary, big.len() as u64),
            Payload::Shared(big),
        );
        out.advance(3);
        assert!(out.len() > SHARE_AT_LEAST);
        out.discard();
        assert_eq!((out.len(), out.front()), (0, None));
        assert_eq!(out.staging.capacity(), 0);
        // Whatever the caller reports as written afterwards is ignored.
        out.advance(100);
        assert!(out.is_empty());
    }
}
