//! One HTTP/2 stream as a byte transport: the DATA frames of an extended
//! CONNECT (RFC 8441) as `AsyncRead + AsyncWrite`, under HTTP/2 flow
//! control, for a [`WebSocketStream`](crate::WebSocketStream) to run over.
//!
//! RFC 8441 §5: "The HTTP/2 stream closure is also analogous to the TCP
//! connection closure of \[RFC6455\]. Orderly TCP-level closures are
//! represented as END_STREAM flags \[...\]. RST exceptions are represented
//! with the RST_STREAM frame \[...\] with the CANCEL error code."
//!
//! - **Orderly close** (TCP FIN): `poll_shutdown` sends an empty DATA
//!   frame with END_STREAM. The WebSocket connection shuts its transport
//!   down once the close frames have been exchanged
//!   (`Connection::should_close_transport`), so END_STREAM follows the
//!   close frames; the peer's END_STREAM reads as the end of input.
//! - **Abort** (TCP RST): dropping the stream before its END_STREAM sends
//!   RST_STREAM with CANCEL; a RST_STREAM from the peer reads as
//!   `ConnectionReset`, which the WebSocket takes as the end of its
//!   transport: without a close frame, 1006.

use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use h2::{Reason, RecvStream, SendStream};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The most a write hands to h2 at once: a bound on the copy a vectored
/// write gathers, and on the capacity one stream asks of the connection.
const MAX_WRITE: usize = 256 << 10;

/// An HTTP/2 stream's DATA, both ways, as a byte transport.
#[derive(Debug)]
pub struct Http2Stream {
    send: SendStream<Bytes>,
    recv: RecvStream,
    /// What the last DATA frame carried beyond what the reader took.
    unread: Bytes,
    /// END_STREAM was sent.
    send_ended: bool,
}

impl Http2Stream {
    pub(crate) fn new(send: SendStream<Bytes>, recv: RecvStream) -> Http2Stream {
        Http2Stream {
            send,
            recv,
            unread: Bytes::new(),
            send_ended: false,
        }
    }

    /// The stream's id on its connection.
    pub fn stream_id(&self) -> u32 {
        self.send.stream_id().as_u32()
    }

    /// Waits for send capacity (HTTP/2 flow control, RFC 9113 §5.2) for up
    /// to `len` bytes, and returns how much there is.
    fn poll_send_capacity(&mut self, cx: &mut Context<'_>, len: usize) -> Poll<io::Result<usize>> {
        if self.send_ended {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        // Ask for what this write needs, no more: a request left standing
        // while idle would hold connection window other streams could use.
        self.send.reserve_capacity(len.min(MAX_WRITE));
        while self.send.capacity() == 0 {
            match ready!(self.send.poll_capacity(cx)) {
                Some(Ok(_)) => {}
                Some(Err(e)) => return Poll::Ready(Err(to_io_error(e))),
                // The stream can no longer send: the peer reset it.
                None => return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into())),
            }
        }
        Poll::Ready(Ok(self.send.capacity().min(len)))
    }

    /// Hands `data` to h2 as DATA, then gives back any capacity it did not
    /// use.
    fn send_data(&mut self, data: Bytes) -> io::Result<()> {
        self.send.send_data(data, false).map_err(to_io_error)?;
        self.send.reserve_capacity(0);
        Ok(())
    }
}

impl AsyncRead for Http2Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        while this.unread.is_empty() {
            match ready!(this.recv.poll_data(cx)) {
                Some(Ok(data)) => {
                    // The bytes are ours now: let the peer send more
                    // (RFC 9113 §6.9, WINDOW_UPDATE). What is kept is at
                    // most one DATA frame.
                    let _ = this.recv.flow_control().release_capacity(data.len());
                    this.unread = data;
                }
                // END_STREAM: the peer's orderly close.
                None => return Poll::Ready(Ok(())),
                Some(Err(e)) => {
                    return match e.reason() {
                        // A reset is the end of the stream, as a TCP RST
                        // is the end of a connection: the WebSocket says
                        // whether it closed cleanly (1006 if not).
                        Some(_) if e.is_reset() => {
                            Poll::Ready(Err(io::ErrorKind::ConnectionReset.into()))
                        }
                        _ => Poll::Ready(Err(to_io_error(e))),
                    };
                }
            }
        }
        let n = this.unread.len().min(buf.remaining());
        buf.put_slice(&this.unread[..n]);
        this.unread.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Http2Stream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let n = ready!(self.poll_send_capacity(cx, buf.len()))?;
        self.send_data(Bytes::copy_from_slice(&buf[..n]))?;
        Poll::Ready(Ok(n))
    }

    /// Gathers the slices into one DATA frame's worth, so that a frame's
    /// header and its payload go out together.
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        if total == 0 {
            return Poll::Ready(Ok(0));
        }
        let n = ready!(self.poll_send_capacity(cx, total))?;
        let mut data = BytesMut::with_capacity(n);
        for buf in bufs {
            let take = buf.len().min(n - data.len());
            data.extend_from_slice(&buf[..take]);
            if data.len() == n {
                break;
            }
        }
        self.send_data(data.freeze())?;
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    /// h2 writes on its connection's task: nothing is buffered here.
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// END_STREAM: the orderly end of this side (TCP's FIN).
    fn poll_shutdown(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.send_ended {
            return Poll::Ready(Ok(()));
        }
        self.send_ended = true;
        self.send.reserve_capacity(0);
        Poll::Ready(self.send.send_data(Bytes::new(), true).map_err(to_io_error))
    }
}

impl Drop for Http2Stream {
    /// A stream dropped before its orderly end is aborted: RST_STREAM with
    /// CANCEL (RFC 9113 §7: "CANCEL (0x08): Used by the endpoint to
    /// indicate that the stream is no longer needed"), which discards
    /// whatever DATA h2 still holds for it, as a TCP RST does.
    ///
    /// After END_STREAM nothing is aborted here. A WebSocket client shuts
    /// its side down only once the server has ended its own (RFC 6455
    /// §7.1.1: the server closes first), so the stream is closed both ways
    /// and h2 lets it go. Dropped with the peer's side still open (a close
    /// timeout), h2 cancels the stream it no longer has a reader for, and
    /// what it still held for it is not sent, as a TCP RST would.
    fn drop(&mut self) {
        if !self.send_ended {
            self.send.send_reset(Reason::CANCEL);
        }
    }
}

fn to_io_error(error: h2::Error) -> io::Error {
    if error.is_io() {
        error
            .into_io()
            .unwrap_or_else(|| io::ErrorKind::Other.into())
    } else {
        io::Error::other(error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// The server's end of the stream (h2's own server).
    struct Peer {
        send: SendStream<Bytes>,
        recv: RecvStream,
    }

    /// A client's stream over an in-memory HTTP/2 connection, and the
    /// server's end of it.
    async fn stream_pair() -> (Http2Stream, Peer) {
        let (a, b) = tokio::io::duplex(1 << 16);
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let mut connection = h2::server::handshake(b).await.unwrap();
            let (request, mut respond) = connection.accept().await.unwrap().unwrap();
            let send = respond
                .send_response(http::Response::new(()), false)
                .unwrap();
            let _ = tx.send(Peer {
                send,
                recv: request.into_body(),
            });
            while connection.accept().await.is_some() {}
        });
        let (send_request, connection) = h2::client::handshake(a).await.unwrap();
        tokio::spawn(connection);
        let mut send_request = send_request.ready().await.unwrap();
        let request = http::Request::post("http://localhost/").body(()).unwrap();
        let (response, send) = send_request.send_request(request, false).unwrap();
        let recv = response.await.unwrap().into_body();
        (Http2Stream::new(send, recv), rx.await.unwrap())
    }

    #[tokio::test]
    async fn shutdown_is_end_stream_after_the_data() {
        let (mut stream, mut peer) = stream_pair().await;
        stream.write_all(b"close frame").await.unwrap();
        stream.shutdown().await.unwrap();
        let data = peer.recv.data().await.unwrap().unwrap();
        assert_eq!(&data[..], b"close frame");
        // END_STREAM, not a reset: the body ends cleanly (h2 hands over
        // the empty DATA frame that carried the flag, then the end).
        while let Some(data) = peer.recv.data().await {
            assert!(data.unwrap().is_empty());
        }
        assert!(peer.recv.is_end_stream());
        // The peer ends its side too: the stream is closed, and dropping
        // it resets nothing.
        peer.send.send_data(Bytes::new(), true).unwrap();
        assert_eq!(stream.read(&mut [0; 16]).await.unwrap(), 0);
        drop(stream);
        assert!(peer.recv.data().await.is_none());
    }

    #[tokio::test]
    async fn a_drop_before_shutdown_is_cancel() {
        let (stream, mut peer) = stream_pair().await;
        drop(stream);
        let error = peer.recv.data().await.unwrap().unwrap_err();
        assert_eq!(error.reason(), Some(Reason::CANCEL));
    }

    #[tokio::test]
    async fn the_peers_end_stream_is_the_end_of_input() {
        let (mut stream, mut peer) = stream_pair().await;
        peer.send
            .send_data(Bytes::from_static(b"last words"), true)
            .unwrap();
        let mut input = Vec::new();
        stream.read_to_end(&mut input).await.unwrap();
        assert_eq!(input, b"last words");
    }

    #[tokio::test]
    async fn the_peers_reset_is_a_connection_reset() {
        let (mut stream, mut peer) = stream_pair().await;
        peer.send.send_reset(Reason::CANCEL);
        let error = stream.read(&mut [0; 16]).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::ConnectionReset);
    }

    /// More than a window's worth (64 KiB, h2's default here) goes
    /// through as the peer reads and hands window back.
    #[tokio::test]
    async fn writes_wait_for_window() {
        let (mut stream, mut peer) = stream_pair().await;
        let sent: Vec<u8> = (0..1 << 20).map(|i: u32| i as u8).collect();
        let expected = sent.clone();
        let writer = tokio::spawn(async move {
            stream.write_all(&sent).await.unwrap();
            stream.shutdown().await.unwrap();
            stream
        });
        let mut received = Vec::new();
        while let Some(data) = peer.recv.data().await {
            let data = data.unwrap();
            peer.recv
                .flow_control()
                .release_capacity(data.len())
                .unwrap();
            received.extend_from_slice(&data);
        }
        assert_eq!(received, expected);
        drop(writer.await.unwrap());
    }
}
