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

/// A staging buffer larger than this is let go once written, so that an
/// idle connection does not keep the room a big message took.
const KEEP_CAPACITY: usize = 64 << 10;

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
    /// How many of the staging bytes have gone out, when the queue is
    /// empty and a write took only part of them. They stay where they are
    /// until the rest has gone too: advancing the buffer past them would
    /// leave room at its front that only a new allocation gets back.
    written: usize,
}

impl Outbound {
    /// Appends one frame. `header.payload_len` must match `payload`.
    #[inline]
    pub(crate) fn push_frame(&mut self, header: FrameHeader, payload: Payload<'_>) {
        let body = payload.as_slice();
        debug_assert_eq!(header.payload_len, body.len() as u64);
        let mut head = [0; MAX_HEADER_LEN];
        let head_len = header.encode(&mut head).unwrap_or_default();
        if header.mask.is_none() && body.len() >= SHARE_AT_LEAST {
            if let Payload::Shared(bytes) = payload {
                self.staging.extend_from_slice(&head[..head_len]);
                self.seal_staging();
                self.queue.push_back(bytes);
                return;
            }
        }
        // Header and payload with one reservation; the header in a copy of
        // known size where it can be.
        self.staging.reserve(head_len + body.len());
        match head_len {
            2 => self.staging.extend_from_slice(&head[..2]),
            4 => self.staging.extend_from_slice(&head[..4]),
            _ => self.staging.extend_from_slice(&head[..head_len]),
        }
        let start = self.staging.len();
        self.staging.extend_from_slice(body);
        if let Some(key) = header.mask {
            apply_mask(&mut self.staging[start..], key);
        }
    }

    /// Appends frames encoded already (a prepared message): shared when
    /// large, copied into the staging buffer when small, so that several
    /// small ones go out in one write.
    pub(crate) fn push_encoded(&mut self, frames: &Bytes) {
        if frames.len() >= SHARE_AT_LEAST {
            self.seal_staging();
            self.queue.push_back(frames.clone());
        } else {
            self.staging.extend_from_slice(frames);
        }
    }

    fn seal_staging(&mut self) {
        self.staging.advance(core::mem::take(&mut self.written));
        if !self.staging.is_empty() {
            self.queue.push_back(self.staging.split().freeze());
        }
    }

    /// Frees the buffers once everything has been written.
    pub(crate) fn release_idle_buffers(&mut self) {
        if self.is_empty() {
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
        let queued: usize = self.queue.iter().map(Bytes::len).sum();
        queued + self.staging.len() - self.written
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.queue.is_empty() && self.staging.len() == self.written
    }

    /// The staging bytes not written yet.
    #[inline]
    fn unwritten(&self) -> &[u8] {
        &self.staging[self.written..]
    }

    /// The next bytes to write: the first queued segment, or the staging
    /// bytes after the last (which stay where they are written, so that
    /// the staging buffer is reused, not split, in the common case of
    /// nothing shared).
    #[inline]
    pub(crate) fn front(&self) -> Option<&[u8]> {
        match self.queue.front() {
            Some(segment) => Some(segment),
            None if self.staging.len() == self.written => None,
            None => Some(self.unwritten()),
        }
    }

    /// Fills `out` with the queued segments in order, the staging bytes
    /// last; returns how many.
    pub(crate) fn chunks<'a>(&'a self, out: &mut [&'a [u8]]) -> usize {
        let staging = Some(self.unwritten()).filter(|rest| !rest.is_empty());
        let segments = self.queue.iter().map(|b| &b[..]).chain(staging);
        let mut n = 0;
        for (slot, segment) in out.iter_mut().zip(segments) {
            *slot = segment;
            n += 1;
        }
        n
    }

    /// Marks `n` bytes as written (more than are queued counts as all).
    #[inline]
    pub(crate) fn advance(&mut self, mut n: usize) {
        while n > 0 {
            let Some(front) = self.queue.front_mut() else {
                break;
            };
            let step = n.min(front.len());
            front.advance(step);
            n -= step;
            if front.is_empty() {
                self.queue.pop_front();
            }
        }
        if !self.queue.is_empty() {
            return;
        }
        self.written = self.staging.len().min(self.written.saturating_add(n));
        if self.written == self.staging.len() {
            // Everything written: the staging buffer is reused from its
            // start, unless a big message left it big.
            self.staging.clear();
            self.written = 0;
            if self.staging.capacity() > KEEP_CAPACITY {
                self.staging = BytesMut::new();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::OpCode;

    #[test]
    fn a_partial_write_leaves_the_staging_buffer_whole_for_reuse() {
        let mut out = Outbound::default();
        out.push_frame(
            FrameHeader::new(OpCode::Text, 5),
            Payload::Borrowed(b"hello"),
        );
        let capacity = out.staging.capacity();
        out.advance(3);
        assert_eq!((out.front(), out.len()), (Some(&b"ello"[..]), 4));
        let mut chunks = [&[][..]; 2];
        assert_eq!((out.chunks(&mut chunks), chunks[0]), (1, &b"ello"[..]));
        out.advance(100);
        assert!(out.is_empty() && out.front().is_none());
        // Reused from its start: the same room for the next frame.
        assert_eq!(out.staging.capacity(), capacity);
    }

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
