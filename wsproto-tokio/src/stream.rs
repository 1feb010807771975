//! `WebSocketStream`: a connection over a tokio transport, as a `Stream` of
//! messages and a `Sink` for them.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_sink::Sink;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use wsproto::{CloseCause, CloseFrame, Connection, Role};

use crate::config::WebSocketConfig;
use crate::driver::Driver;
use crate::error::Error;
use crate::message::Message;
use crate::split::{self, ReadHalf, WriteHalf};

/// A WebSocket over a transport `S` (a `TcpStream`, a TLS stream, hyper's
/// upgraded connection, a `tokio::io::duplex` pipe...): a
/// [`Stream`] of received [`Message`]s and a [`Sink`] of messages to send,
/// as tokio-tungstenite's type of the same name.
///
/// ```no_run
/// use futures_util::{SinkExt, StreamExt};
///
/// # async fn run() -> Result<(), wsproto_tokio::Error> {
/// let (mut ws, _response) = wsproto_tokio::connect("ws://127.0.0.1:9002/").await?;
/// ws.send("hello".into()).await?;
/// while let Some(message) = ws.next().await {
///     println!("{}", message?);
/// }
/// # Ok(())
/// # }
/// ```
///
/// # What drives it
///
/// There is no background task: the connection moves when the stream or
/// the sink is polled. Reading (`next()`) also writes what the connection
/// owes the peer (pongs, the close reply) and runs its timers (keepalive
/// pings, the close timeout); sending writes what was queued. So keep
/// reading, as with tokio-tungstenite: a task that only sends never sees
/// the peer's close.
///
/// # Cancel safety
///
/// `next()` is cancel-safe: a `select!` may drop it at any point and lose
/// nothing. Bytes are handed to the connection in the poll that read them,
/// and a message leaves the connection only in the poll that returns it;
/// partial frames wait in the connection, not in the future.
///
/// # Batching and backpressure
///
/// `feed` queues a message without writing; `flush` writes everything
/// queued with one vectored write where the transport allows. `send` is
/// `feed` + `flush`. `poll_ready` (and so `feed` and `send`) waits, writing,
/// while more than [`WebSocketConfig::send_high_water`] bytes are queued:
/// a peer that reads slowly holds back the sender, memory stays bounded.
///
/// `next()` also writes (and flushes) what was fed, once it has returned
/// every message already read and before it waits for more input. So a
/// server that answers each message with `feed` needs no `flush` of its
/// own, and the replies to a burst of messages read at once leave in one
/// write:
///
/// ```no_run
/// use futures_util::{SinkExt, StreamExt};
///
/// # async fn echo(mut ws: wsproto_tokio::WebSocketStream<tokio::net::TcpStream>) -> Result<(), wsproto_tokio::Error> {
/// while let Some(message) = ws.next().await {
///     let message = message?;
///     if message.is_text() || message.is_binary() {
///         ws.feed(message).await?;
///     }
/// }
/// # Ok(())
/// # }
/// ```
pub struct WebSocketStream<S> {
    driver: Driver<S>,
}

impl<S> WebSocketStream<S> {
    /// A stream over `io` running `connection`, which a handshake opened
    /// (the core's `Accepted::connection`, or an extended CONNECT's):
    /// for a transport this crate did not open or upgrade itself.
    pub fn from_connection(io: S, connection: Connection, config: &WebSocketConfig) -> Self {
        WebSocketStream {
            driver: Driver::new(io, connection, config.send_high_water, None),
        }
    }

    pub(crate) fn from_driver(driver: Driver<S>) -> Self {
        WebSocketStream { driver }
    }

    pub(crate) fn with_protocol(mut self, protocol: Option<String>) -> Self {
        self.driver.protocol = protocol;
        self
    }

    /// The subprotocol agreed in the handshake, if any.
    pub fn protocol(&self) -> Option<&str> {
        self.driver.protocol.as_deref()
    }

    /// Client or server.
    pub fn role(&self) -> Role {
        self.driver.conn.role()
    }

    /// The core's connection: its state, close status, configuration.
    pub fn connection(&self) -> &Connection {
        &self.driver.conn
    }

    /// The peer's close frame, once received (§7.1.5; 1006 if the
    /// connection ended without one).
    pub fn close_status(&self) -> Option<&CloseFrame> {
        self.driver.conn.close_status()
    }

    /// How the connection ended, once it has: the closing handshake, a
    /// failure and its error, a timeout, the transport's end.
    pub fn close_cause(&self) -> Option<&CloseCause> {
        self.driver.close_cause()
    }

    /// Whether the stream has ended (`next()` returns `None`).
    pub fn is_terminated(&self) -> bool {
        self.driver.is_ended()
    }

    /// Bytes queued to be written.
    pub fn pending_transmit(&self) -> usize {
        self.driver.conn.pending_transmit()
    }

    /// Changes the send queue's bound ([`WebSocketConfig::send_high_water`]).
    pub fn set_send_high_water(&mut self, bytes: usize) {
        self.driver.high_water = bytes;
    }

    /// The transport.
    pub fn get_ref(&self) -> &S {
        &self.driver.io
    }

    /// The transport, mutably: reading from or writing to it directly
    /// corrupts the WebSocket.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.driver.io
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> WebSocketStream<S> {
    /// The next message; `None` once the connection has closed and the
    /// transport is done with. Cancel-safe. (The inherent form of
    /// `StreamExt::next`, as axum's `WebSocket::recv`.)
    pub async fn recv(&mut self) -> Option<Result<Message, Error>> {
        self.next().await
    }

    /// Sends a message and flushes it (`SinkExt::send`, as an inherent
    /// method, as on axum's `WebSocket`).
    pub async fn send(&mut self, message: Message) -> Result<(), Error> {
        SinkExt::send(self, message).await
    }

    /// Starts the closing handshake with `frame` (`None`: 1000, normal
    /// closure) and writes the close frame, as tokio-tungstenite's `close`.
    /// Keep reading to see the peer's answer: the stream ends after it.
    pub async fn close(&mut self, frame: Option<CloseFrame>) -> Result<(), Error> {
        SinkExt::send(self, Message::Close(frame)).await
    }

    /// Splits the stream into a write half and a read half, for two
    /// tasks: `(sink, stream)`, the order of `StreamExt::split`, so that
    /// `let (mut write, mut read) = ws.split();` reads as it did with
    /// tokio-tungstenite. Unlike `StreamExt::split`, the halves never wait
    /// on each other, and the read half writes the pongs and close reply it
    /// owes even while the write half is idle (see the [`split`
    /// module](crate::split)).
    pub fn split(self) -> (WriteHalf<S>, ReadHalf<S>) {
        split::split(self.driver)
    }

    /// Puts the halves of one stream back together; they are handed back
    /// if they are not of the same stream.
    #[allow(clippy::result_large_err)]
    pub fn reunite(
        write: WriteHalf<S>,
        read: ReadHalf<S>,
    ) -> Result<Self, (WriteHalf<S>, ReadHalf<S>)> {
        split::reunite(write, read).map(WebSocketStream::from_driver)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Stream for WebSocketStream<S> {
    type Item = Result<Message, Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.driver.poll_next_message(cx)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> futures_util::stream::FusedStream for WebSocketStream<S> {
    fn is_terminated(&self) -> bool {
        self.driver.is_ended()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Sink<Message> for WebSocketStream<S> {
    type Error = Error;

    fn poll_ready(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.driver.poll_ready(cx)
    }

    fn start_send(mut self: Pin<&mut Self>, message: Message) -> Result<(), Error> {
        self.driver.start_send(message)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.driver.poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        self.driver.poll_close(cx)
    }
}

impl<S> fmt::Debug for WebSocketStream<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebSocketStream")
            .field("role", &self.driver.conn.role())
            .field("state", &self.driver.conn.state())
            .field("protocol", &self.driver.protocol)
            .finish_non_exhaustive()
    }
}
