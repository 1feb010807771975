//! One HTTP/3 request stream as a byte transport: the DATA frames of an
//! extended CONNECT (RFC 9220) as `AsyncRead + AsyncWrite`, for a
//! [`WebSocketStream`](crate::WebSocketStream) to run over.
//!
//! RFC 9220 §3: "The HTTP/3 stream closure is also analogous to the TCP
//! connection closure of \[RFC6455\]. Orderly TCP-level closures are
//! represented as a FIN bit on the stream (Section 4.4 of \[HTTP/3\]). RST
//! exceptions are represented with a stream error (Section 8 of
//! \[HTTP/3\]) of type H3_REQUEST_CANCELLED (Section 8.1 of \[HTTP/3\])."
//!
//! - **Orderly close** (TCP FIN): `poll_shutdown` ends the request
//!   stream with a FIN. The WebSocket connection shuts its transport down
//!   once the close frames have been exchanged
//!   (`Connection::should_close_transport`), so the FIN follows the close
//!   frames; the peer's FIN reads as the end of input.
//! - **Abort** (TCP RST): dropping the stream before its FIN resets the
//!   sending side and stops the receiving side, both with
//!   H3_REQUEST_CANCELLED; a reset from the peer reads as
//!   `ConnectionReset`, which the WebSocket takes as the end of its
//!   transport: without a close frame, 1006.
//!
//! The HTTP/3 layer (`hpx-h3`) sends DATA with `async fn`s that borrow the
//! stream; a write hands one to the send half and is done when QUIC has
//! taken the bytes (its flow control is the backpressure). The half waits
//! in an uncontended lock between writes, so that a stream dropped in the
//! middle of one can still be reset: quinn would otherwise end a stream
//! dropped unfinished with a FIN, an orderly close it never was.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use hpx_h3::error::{Code, StreamError};
use hpx_h3::quic;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Mutex;

/// The most one write hands to the HTTP/3 layer: one DATA frame, and a
/// bound on the copy a vectored write gathers.
const MAX_WRITE: usize = 256 << 10;

/// A send in progress, which owns the lock on the send half.
type SendFuture = Pin<Box<dyn Future<Output = Result<(), StreamError>> + Send>>;

/// The sending half of a request stream, of either role (`hpx-h3` has a
/// client's and a server's type, with the same methods).
pub(crate) trait SendHalf: Send + 'static {
    /// Sends `data` as one DATA frame.
    fn send<'a>(
        &'a mut self,
        data: Bytes,
    ) -> Pin<Box<dyn Future<Output = Result<(), StreamError>> + Send + 'a>>;
    /// Ends the stream with a FIN.
    fn finish(&mut self) -> Pin<Box<dyn Future<Output = Result<(), StreamError>> + Send + '_>>;
    /// Resets the stream (QUIC RESET_STREAM) with `code`.
    fn reset(&mut self, code: Code);
}

/// The receiving half of a request stream, of either role.
pub(crate) trait RecvHalf: Send + 'static {
    /// The next DATA frame's payload, `None` at the peer's FIN.
    fn poll_data(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Bytes>, StreamError>>;
    /// Asks the peer to stop sending (QUIC STOP_SENDING) with `code`.
    fn stop(&mut self, code: Code);
}

/// Both roles' request streams have the same methods under different
/// types: one implementation of the halves for each.
macro_rules! request_stream_halves {
    ($role:ident) => {
        impl<S> SendHalf for hpx_h3::$role::RequestStream<S, Bytes>
        where
            S: quic::SendStream<Bytes> + Send + 'static,
        {
            fn send<'a>(
                &'a mut self,
                data: Bytes,
            ) -> Pin<Box<dyn Future<Output = Result<(), StreamError>> + Send + 'a>> {
                Box::pin(self.send_data(data))
            }

            fn finish(
                &mut self,
            ) -> Pin<Box<dyn Future<Output = Result<(), StreamError>> + Send + '_>> {
                Box::pin(hpx_h3::$role::RequestStream::finish(self))
            }

            fn reset(&mut self, code: Code) {
                self.stop_stream(code);
            }
        }

        impl<S> RecvHalf for hpx_h3::$role::RequestStream<S, Bytes>
        where
            S: quic::RecvStream + Send + 'static,
        {
            fn poll_data(
                &mut self,
                cx: &mut Context<'_>,
            ) -> Poll<Result<Option<Bytes>, StreamError>> {
                self.poll_recv_data(cx)
                    .map_ok(|data| data.map(|mut data| data.copy_to_bytes(data.remaining())))
            }

            fn stop(&mut self, code: Code) {
                self.stop_sending(code);
            }
        }
    };
}

request_stream_halves!(client);
request_stream_halves!(server);

/// An HTTP/3 request stream's DATA, both ways, as a byte transport.
pub struct Http3Stream {
    send: Arc<Mutex<Box<dyn SendHalf>>>,
    /// The write or FIN in progress (it holds the lock on `send`).
    pending: Option<SendFuture>,
    recv: Box<dyn RecvHalf>,
    /// What the last DATA frame carried beyond what the reader took.
    unread: Bytes,
    /// A FIN was asked for (by `poll_shutdown`), and `fin_sent` once the
    /// QUIC layer took it.
    fin_asked: bool,
    fin_sent: bool,
    /// The peer's FIN was read.
    recv_ended: bool,
    /// Holds the client's connection open while the stream lives
    /// (`hpx-h3` closes it when its last request sender is dropped).
    _connection: Option<Box<dyn Send>>,
}

impl std::fmt::Debug for Http3Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http3Stream")
            .field("unread", &self.unread.len())
            .field("fin_sent", &self.fin_sent)
            .field("recv_ended", &self.recv_ended)
            .finish_non_exhaustive()
    }
}

impl Http3Stream {
    pub(crate) fn new(
        send: impl SendHalf,
        recv: impl RecvHalf,
        connection: Option<Box<dyn Send>>,
    ) -> Http3Stream {
        Http3Stream {
            send: Arc::new(Mutex::new(Box::new(send))),
            pending: None,
            recv: Box::new(recv),
            unread: Bytes::new(),
            fin_asked: false,
            fin_sent: false,
            recv_ended: false,
            _connection: connection,
        }
    }

    /// A server's request stream, after it has sent the `200` of an
    /// extended CONNECT (RFC 9220 §3), as the WebSocket's transport.
    pub fn from_server<S>(stream: hpx_h3::server::RequestStream<S, Bytes>) -> Http3Stream
    where
        S: quic::BidiStream<Bytes>,
        S::SendStream: Send + 'static,
        S::RecvStream: Send + 'static,
    {
        let (send, recv) = stream.split();
        Http3Stream::new(send, recv, None)
    }

    /// Drives the write or FIN in progress to its end.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(pending) = &mut self.pending {
            let result = ready!(pending.as_mut().poll(cx));
            self.pending = None;
            result.map_err(to_io_error)?;
        }
        Poll::Ready(Ok(()))
    }

    /// Starts sending `data` (or the FIN, for `None`) and drives it as far
    /// as it goes now. `Pending` means it is the stream's: the next write,
    /// flush or shutdown waits for it and reports its failure.
    fn poll_start(&mut self, cx: &mut Context<'_>, data: Option<Bytes>) -> Poll<io::Result<()>> {
        let send = self.send.clone();
        self.pending = Some(Box::pin(async move {
            let mut half = send.lock_owned().await;
            match data {
                Some(data) => half.send(data).await,
                None => half.finish().await,
            }
        }));
        self.poll_pending(cx)
    }

    /// Starts a write: see [`Http3Stream::poll_start`].
    fn start_send(&mut self, cx: &mut Context<'_>, data: Bytes) -> io::Result<()> {
        match self.poll_start(cx, Some(data)) {
            Poll::Ready(result) => result,
            Poll::Pending => Ok(()),
        }
    }
}

impl AsyncRead for Http3Stream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        while this.unread.is_empty() {
            if this.recv_ended {
                return Poll::Ready(Ok(()));
            }
            match ready!(this.recv.poll_data(cx)) {
                Ok(Some(data)) => this.unread = data,
                // The FIN: the peer's orderly close.
                Ok(None) => this.recv_ended = true,
                Err(e) => return Poll::Ready(Err(to_io_error(e))),
            }
        }
        let n = this.unread.len().min(buf.remaining());
        buf.put_slice(&this.unread[..n]);
        this.unread.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Http3Stream {
    /// Waits for the previous write to be taken by QUIC, then starts this
    /// one (at most 256 KiB of `buf`).
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending(cx))?;
        if self.fin_asked {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let n = buf.len().min(MAX_WRITE);
        self.start_send(cx, Bytes::copy_from_slice(&buf[..n]))?;
        Poll::Ready(Ok(n))
    }

    /// Gathers the slices into one DATA frame, so that a WebSocket frame's
    /// header and its payload go out together.
    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        ready!(self.poll_pending(cx))?;
        if self.fin_asked {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let total: usize = bufs.iter().map(|b| b.len()).sum();
        if total == 0 {
            return Poll::Ready(Ok(0));
        }
        let n = total.min(MAX_WRITE);
        let mut data = BytesMut::with_capacity(n);
        for buf in bufs {
            let take = buf.len().min(n - data.len());
            data.extend_from_slice(&buf[..take]);
            if data.len() == n {
                break;
            }
        }
        self.start_send(cx, data.freeze())?;
        Poll::Ready(Ok(n))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    /// Done when QUIC has taken every byte written.
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_pending(cx)
    }

    /// The FIN after the data: the orderly end of this side (TCP's FIN).
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_pending(cx))?;
        if !self.fin_asked {
            self.fin_asked = true;
            ready!(self.poll_start(cx, None))?;
        }
        self.fin_sent = true;
        Poll::Ready(Ok(()))
    }
}

impl Drop for Http3Stream {
    /// A stream dropped before its FIN is aborted: RESET_STREAM and
    /// STOP_SENDING with H3_REQUEST_CANCELLED (RFC 9114 §8.1: "The request
    /// or its response \[...\] is cancelled"), which discards what QUIC
    /// still holds for it, as a TCP RST does.
    ///
    /// After the FIN, the close frames have crossed: what the peer may
    /// still send is its FIN. A server drops its WebSocket then, as it
    /// closes TCP, and stops the receiving side with H3_NO_ERROR (RFC 9114
    /// §4.1.1: "When the server does not need to receive the remainder of
    /// the request, it MAY abort reading the request stream, send a
    /// complete response, and cleanly close the sending part of the
    /// stream. The error code H3_NO_ERROR SHOULD be used").
    ///
    /// One gap, hpx-h3's: while a read is waiting on the stream, its QUIC
    /// receive half is inside that read, and a stop asked for then is
    /// lost when the read is dropped with the stream; quinn then stops the
    /// receiving side itself, with code 0. The reset of the sending side,
    /// which is what the peer reads as the abort, always carries
    /// H3_REQUEST_CANCELLED.
    fn drop(&mut self) {
        // A write in progress gives the send half back when dropped.
        self.pending = None;
        if !self.fin_sent {
            if let Ok(mut send) = self.send.try_lock() {
                send.reset(Code::H3_REQUEST_CANCELLED);
            }
        }
        if !self.recv_ended {
            self.recv.stop(if self.fin_sent {
                Code::H3_NO_ERROR
            } else {
                Code::H3_REQUEST_CANCELLED
            });
        }
    }
}

/// A peer's reset is the end of the stream, as a TCP RST is the end of a
/// connection: the WebSocket says whether it closed cleanly (1006 if not).
fn to_io_error(error: StreamError) -> io::Error {
    match error {
        StreamError::RemoteTerminate { .. } => {
            io::Error::new(io::ErrorKind::ConnectionReset, error)
        }
        error => io::Error::other(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use quinn::crypto::rustls::QuicServerConfig;
    use quinn::rustls;
    use std::time::Duration;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    type ServerStream = hpx_h3::server::RequestStream<hpx_h3::quinn::BidiStream<Bytes>, Bytes>;

    /// What keeps the client's connection open (hpx-h3 closes it with its
    /// last request sender).
    type Connection = Box<dyn Send>;

    /// A client's request stream over QUIC on 127.0.0.1, as an
    /// `Http3Stream`, the server's end of it (hpx-h3's own server), and
    /// the client's connection.
    async fn stream_pair() -> (Http3Stream, ServerStream, Connection) {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap(),
            )
            .unwrap();
        tls.alpn_protocols = vec![super::super::ALPN.to_vec()];
        let config =
            quinn::ServerConfig::with_crypto(Arc::new(QuicServerConfig::try_from(tls).unwrap()));
        let server = quinn::Endpoint::server(config, "127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = server.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let quic = server.accept().await.unwrap().await.unwrap();
            let mut h3 = hpx_h3::server::builder()
                .build::<_, Bytes>(hpx_h3::quinn::Connection::new(quic))
                .await
                .unwrap();
            let resolver = h3.accept().await.unwrap().unwrap();
            let (_, mut stream) = resolver.resolve_request().await.unwrap();
            stream.send_response(http::Response::new(())).await.unwrap();
            let _ = tx.send(stream);
            // Keep the connection served (and the endpoint alive).
            while let Ok(Some(_)) = h3.accept().await {}
            drop(server);
        });
        let mut roots = rustls::RootCertStore::empty();
        roots.add(cert.der().clone()).unwrap();
        let mut client = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
        client.set_default_client_config(super::super::client_config(roots));
        let quic = client.connect(addr, "localhost").unwrap().await.unwrap();
        let (mut driver, mut send_request) =
            hpx_h3::client::new(hpx_h3::quinn::Connection::new(quic))
                .await
                .unwrap();
        tokio::spawn(async move { std::future::poll_fn(|cx| driver.poll_close(cx)).await });
        let request = http::Request::post("https://localhost/").body(()).unwrap();
        let (send, mut recv) = send_request.send_request(request).await.unwrap().split();
        recv.recv_response().await.unwrap();
        let stream = Http3Stream::new(send, recv, None);
        (stream, rx.await.unwrap(), Box::new((send_request, client)))
    }

    /// Everything the peer sends until its FIN, or the error that ended it.
    async fn read_all(peer: &mut ServerStream) -> (Vec<u8>, Result<(), StreamError>) {
        let mut received = Vec::new();
        loop {
            match peer.recv_data().await {
                Ok(Some(mut data)) => {
                    received.extend_from_slice(&data.copy_to_bytes(data.remaining()))
                }
                Ok(None) => return (received, Ok(())),
                Err(e) => return (received, Err(e)),
            }
        }
    }

    fn is_cancelled(result: &Result<(), StreamError>) -> bool {
        matches!(
            result,
            Err(StreamError::RemoteTerminate { code }) if *code == Code::H3_REQUEST_CANCELLED
        )
    }

    #[tokio::test]
    async fn shutdown_is_a_fin_after_the_data() {
        let (mut stream, mut peer, _connection) = stream_pair().await;
        stream.write_all(b"close frame").await.unwrap();
        stream.shutdown().await.unwrap();
        let (received, end) = read_all(&mut peer).await;
        assert_eq!(received, b"close frame");
        end.unwrap();
        // The peer ends its side too; dropping the stream then resets
        // nothing the peer could see.
        peer.finish().await.unwrap();
        assert_eq!(stream.read(&mut [0; 16]).await.unwrap(), 0);
        drop(stream);
    }

    /// Dropped after its FIN with the peer's side open (a server after
    /// the close handshake), the stream asks the peer to stop sending with
    /// H3_NO_ERROR, not as an abort.
    #[tokio::test]
    async fn a_drop_after_shutdown_stops_the_peer_with_no_error() {
        let (mut stream, mut peer, _connection) = stream_pair().await;
        stream.write_all(b"close frame").await.unwrap();
        stream.shutdown().await.unwrap();
        drop(stream);
        let (received, end) = read_all(&mut peer).await;
        assert_eq!(received, b"close frame");
        end.unwrap();
        // STOP_SENDING arrives within a round trip: the peer's writes fail
        // with its code.
        for _ in 0..500 {
            match peer.send_data(Bytes::from_static(b"x")).await {
                Ok(()) => tokio::time::sleep(Duration::from_millis(10)).await,
                Err(StreamError::RemoteTerminate { code }) => {
                    assert_eq!(code, Code::H3_NO_ERROR);
                    return;
                }
                Err(e) => panic!("{e:?}"),
            }
        }
        panic!("no STOP_SENDING within 5 s");
    }

    #[tokio::test]
    async fn a_drop_before_shutdown_is_h3_request_cancelled() {
        let (mut stream, mut peer, _connection) = stream_pair().await;
        stream.write_all(b"partial").await.unwrap();
        stream.flush().await.unwrap();
        drop(stream);
        let (_, end) = read_all(&mut peer).await;
        assert!(is_cancelled(&end), "{end:?}");
    }

    /// A write still waiting for flow control when the stream is dropped
    /// gives the stream back to be reset: no FIN, as quinn would send for
    /// a stream dropped unfinished.
    #[tokio::test]
    async fn a_drop_in_the_middle_of_a_write_is_h3_request_cancelled() {
        let (mut stream, mut peer, _connection) = stream_pair().await;
        let chunk = vec![7u8; MAX_WRITE];
        // Write until QUIC's window is full and a write waits.
        let mut written = 0;
        while tokio::time::timeout(Duration::from_millis(200), stream.write_all(&chunk))
            .await
            .is_ok()
        {
            written += chunk.len();
            assert!(written < 64 << 20, "the window never filled");
        }
        assert!(stream.pending.is_some());
        drop(stream);
        let (_, end) = read_all(&mut peer).await;
        assert!(is_cancelled(&end), "{end:?}");
    }

    #[tokio::test]
    async fn the_peers_fin_is_the_end_of_input() {
        let (mut stream, mut peer, _connection) = stream_pair().await;
        peer.send_data(Bytes::from_static(b"last words"))
            .await
            .unwrap();
        peer.finish().await.unwrap();
        let mut input = Vec::new();
        stream.read_to_end(&mut input).await.unwrap();
        assert_eq!(input, b"last words");
    }

    #[tokio::test]
    async fn the_peers_reset_is_a_connection_reset() {
        let (mut stream, mut peer, _connection) = stream_pair().await;
        peer.stop_stream(Code::H3_REQUEST_CANCELLED);
        let error = stream.read(&mut [0; 16]).await.unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::ConnectionReset);
    }

    /// More than QUIC's windows go through, in order, as the peer reads;
    /// vectored writes gather into DATA frames.
    #[tokio::test]
    async fn writes_wait_for_window() {
        let (mut stream, mut peer, _connection) = stream_pair().await;
        let sent: Vec<u8> = (0..4 << 20).map(|i: u32| (i % 251) as u8).collect();
        let expected = sent.clone();
        let writer = tokio::spawn(async move {
            for part in sent.chunks(100_000) {
                let (a, b) = part.split_at(7);
                let mut slices = [io::IoSlice::new(a), io::IoSlice::new(b)];
                let mut slices = &mut slices[..];
                while !slices.is_empty() {
                    let n = stream.write_vectored(slices).await.unwrap();
                    io::IoSlice::advance_slices(&mut slices, n);
                }
            }
            stream.shutdown().await.unwrap();
            stream
        });
        let (received, end) = read_all(&mut peer).await;
        end.unwrap();
        assert!(received == expected, "{} bytes received", received.len());
        drop(writer.await.unwrap());
    }
}
