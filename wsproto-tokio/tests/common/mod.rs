//! Helpers shared by the tests: pairs of endpoints over in-memory pipes,
//! and transports that count or stall writes.
#![allow(dead_code)]

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, DuplexStream, ReadBuf};
use wsproto_tokio::{WebSocketConfig, WebSocketStream};

/// A client and a server over one in-memory pipe of `buffer` bytes each
/// way, after the opening handshake.
pub async fn pair_with(
    buffer: usize,
    client: WebSocketConfig,
    server: WebSocketConfig,
) -> (WebSocketStream<DuplexStream>, WebSocketStream<DuplexStream>) {
    let (a, b) = tokio::io::duplex(buffer);
    let server = tokio::spawn(async move {
        wsproto_tokio::accept_with_config(b, server, |_, accept| Ok(accept))
            .await
            .expect("server handshake")
    });
    let (client, _) = wsproto_tokio::client_over(a, "ws://localhost/", client)
        .await
        .expect("client handshake");
    (client, server.await.unwrap())
}

/// [`pair_with`], default configurations and a 64 KiB pipe.
pub async fn pair() -> (WebSocketStream<DuplexStream>, WebSocketStream<DuplexStream>) {
    pair_with(
        64 << 10,
        WebSocketConfig::default(),
        WebSocketConfig::default(),
    )
    .await
}

/// A transport that counts the writes that moved bytes, and can claim to
/// write vectored (gathering the slices into the pipe in one call).
pub struct Counting<S> {
    pub inner: S,
    pub writes: Arc<AtomicUsize>,
    pub vectored: bool,
}

impl<S> Counting<S> {
    pub fn new(inner: S, vectored: bool) -> Self {
        Counting {
            inner,
            writes: Arc::new(AtomicUsize::new(0)),
            vectored,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Counting<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Counting<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let poll = Pin::new(&mut self.inner).poll_write(cx, buf);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.writes.fetch_add(1, Ordering::SeqCst);
        }
        poll
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        if !self.vectored {
            let first = bufs
                .iter()
                .find(|b| !b.is_empty())
                .map_or(&[][..], |b| &**b);
            return self.poll_write(cx, first);
        }
        // One call, all slices: gathered into the pipe as a socket would.
        let all: Vec<u8> = bufs.iter().flat_map(|b| b.iter().copied()).collect();
        let poll = Pin::new(&mut self.inner).poll_write(cx, &all);
        if matches!(poll, Poll::Ready(Ok(n)) if n > 0) {
            self.writes.fetch_add(1, Ordering::SeqCst);
        }
        poll
    }

    fn is_write_vectored(&self) -> bool {
        self.vectored
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// A transport whose reads come `chunk` bytes at a time, and every other
/// read not yet (it wakes the task and answers `Pending`): frames arrive in
/// pieces, with waits in between, so that a dropped `next()` would lose a
/// partial frame if it held one.
pub struct Trickle<S> {
    pub inner: S,
    pub chunk: usize,
    stall: bool,
}

impl<S> Trickle<S> {
    pub fn new(inner: S, chunk: usize) -> Self {
        Trickle {
            inner,
            chunk,
            stall: false,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Trickle<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.stall = !self.stall;
        if self.stall {
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let chunk = self.chunk.min(buf.remaining());
        let mut small = vec![0u8; chunk];
        let mut small_buf = ReadBuf::new(&mut small);
        match Pin::new(&mut self.inner).poll_read(cx, &mut small_buf) {
            Poll::Ready(Ok(())) => {
                buf.put_slice(small_buf.filled());
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Trickle<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
