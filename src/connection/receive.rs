//! Lending the receive buffer for a read straight into it, append only.

use bytes::BytesMut;

/// The connection's receive buffer, lent for one read
/// ([`Connection::receive_buffer`](super::Connection::receive_buffer)).
///
/// It can only append: [`spare`](Self::spare) gives room past the bytes
/// the connection holds, [`commit`](Self::commit) adds the first `n` bytes
/// of that room, and whatever was not committed is gone when the lender is
/// dropped. So a caller cannot cut a frame the connection is in the middle
/// of decoding, or slip in bytes that were never unmasked, as it could
/// with the buffer itself (tokio's `ReadBuf` and `bytes`' `BufMut` lend
/// memory the same way).
#[derive(Debug)]
pub struct ReceiveBuffer<'a> {
    rx: &'a mut BytesMut,
    /// The length of what the connection holds plus what was committed.
    committed: usize,
    /// Set when bytes are committed: input for the keepalive.
    input_seen: &'a mut bool,
}

impl<'a> ReceiveBuffer<'a> {
    pub(super) fn new(rx: &'a mut BytesMut, input_seen: &'a mut bool) -> ReceiveBuffer<'a> {
        ReceiveBuffer {
            committed: rx.len(),
            rx,
            input_seen,
        }
    }

    /// Room for at least `min` bytes to read into, zeroed, past the bytes
    /// the connection holds (and those committed already): the buffer's
    /// spare capacity, up to 64 KiB, or `min` if that is more. Reuses the
    /// buffer's capacity: in steady state nothing is allocated.
    pub fn spare(&mut self, min: usize) -> &mut [u8] {
        const AT_MOST: usize = 64 << 10;
        self.rx.truncate(self.committed);
        let room = min.max((self.rx.capacity() - self.committed).min(AT_MOST));
        self.rx.resize(self.committed + room, 0);
        &mut self.rx[self.committed..]
    }

    /// Adds the first `n` bytes of the [spare](Self::spare) room to the
    /// input (more than the room given is cut to it), and ends the loan.
    pub fn commit(mut self, n: usize) {
        self.add(n);
    }

    fn add(&mut self, n: usize) {
        let n = n.min(self.rx.len().saturating_sub(self.committed));
        self.committed += n;
        if n > 0 {
            *self.input_seen = true;
        }
    }

    /// Copies `bytes` in, as [`Connection::handle_input`] does.
    ///
    /// [`Connection::handle_input`]: super::Connection::handle_input
    pub fn extend_from_slice(&mut self, bytes: &[u8]) {
        self.rx.truncate(self.committed);
        self.rx.extend_from_slice(bytes);
        self.add(bytes.len());
    }
}

impl Drop for ReceiveBuffer<'_> {
    fn drop(&mut self) {
        // Room handed out and not committed holds no input.
        self.rx.truncate(self.committed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_committed_bytes_are_kept() {
        let mut rx = BytesMut::from(&b"held"[..]);
        let mut seen = false;
        let mut lender = ReceiveBuffer::new(&mut rx, &mut seen);
        let room = lender.spare(8);
        assert!(room.len() >= 8 && room.iter().all(|&b| b == 0));
        room[..3].copy_from_slice(b"abc");
        lender.commit(3);
        assert_eq!(&rx[..], b"heldabc");
        assert!(seen);

        // Room handed out and not committed is gone with the lender.
        let mut seen = false;
        let mut lender = ReceiveBuffer::new(&mut rx, &mut seen);
        lender.spare(2)[..2].copy_from_slice(b"de");
        drop(lender);
        assert_eq!((&rx[..], seen), (&b"heldabc"[..], false));

        // More than the room is cut to it; nothing handed out adds nothing.
        let mut seen = false;
        let mut lender = ReceiveBuffer::new(&mut rx, &mut seen);
        let room = lender.spare(4).len();
        lender.commit(room + 100);
        assert_eq!(rx.len(), 7 + room);
        let mut seen = false;
        ReceiveBuffer::new(&mut rx, &mut seen).commit(5);
        assert_eq!((rx.len(), seen), (7 + room, false));
    }
}
