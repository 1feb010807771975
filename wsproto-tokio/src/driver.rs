//! The run loop of the core's `Connection` as poll functions: the one place
//! that reads, writes and keeps time for a WebSocket, whether whole
//! ([`WebSocketStream`](crate::WebSocketStream)) or split
//! ([`split`](crate::split)).
//!
//! Every function here runs to the first `Pending` and keeps nothing in a
//! local between calls: bytes read are handed to the connection in the same
//! call that read them, events are taken out only when they are returned,
//! output leaves the connection's queue only as the transport accepts it.
//! So dropping any future that polls a driver (a `select!` that lets
//! `next()` go) loses nothing: the state is all in the connection, which
//! the caller owns.

use std::cell::RefCell;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Instant;
use wsproto::{CloseCause, CloseCode, Connection, SendError, State};

use crate::error::Error;
use crate::idle::IdleRelease;
use crate::message::Message;
use crate::sleep::LazySleep;

/// Most slices handed to one vectored write. Small frames share one
/// staging chunk, so this bounds only how many large payloads (each its own
/// chunk) one write takes: 8 of at least 4 KiB, 32 KiB or more. Both arrays
/// of this size are filled on every write, so it is kept small.
const MAX_SLICES: usize = 16;

/// The size of a read while messages are small: into a buffer of the
/// thread's, shared by every connection it polls, copied into the
/// connection in the same call (so a connection holds no read buffer of its
/// own). A read that fills it suggests a large transfer, and the next one
/// goes straight into the connection's receive buffer, [`LARGE_READ`] at
/// once, with no copy. As large as mio_echo's shared buffer: one buffer per
/// thread costs little, and a smaller one splits bursts (16 pipelined
/// messages of 1 KiB, 16.5 KiB, took two reads from a 16 KiB buffer, with
/// two passes through the scheduler).
const SMALL_READ: usize = 64 << 10;

thread_local! {
    /// The thread's buffer for small reads (see [`SMALL_READ`]).
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Room asked of the connection's receive buffer for a read during a large
/// transfer.
const LARGE_READ: usize = 64 << 10;

/// Below this, queued chunks are gathered into one buffer for a transport
/// that has no vectored write (TLS), so that one write takes them all.
const GATHER_BELOW: usize = 64 << 10;

/// A connection and its transport, driven by polling.
pub(crate) struct Driver<S> {
    pub(crate) io: S,
    pub(crate) conn: Connection,
    /// The connection's clock: timers are `Duration`s since this.
    origin: Instant,
    /// Wakes the task for the next deadline.
    sleep: LazySleep,
    /// When the connection, quiet, lets its buffers go.
    idle: IdleRelease,
    /// The bound of the send queue (see `WebSocketConfig::send_high_water`).
    pub(crate) high_water: usize,
    /// Whether the last read filled the thread's buffer: read large next.
    read_large: bool,
    /// Chunks gathered for a transport without vectored writes.
    gather: Vec<u8>,
    /// Bytes were written since the transport was last flushed (a TLS
    /// stream may hold them until then).
    unflushed: bool,
    /// The transport reached its end of stream.
    read_eof: bool,
    /// The stream has ended: it yields `None` from now on.
    ended: bool,
    /// The subprotocol agreed in the handshake.
    pub(crate) protocol: Option<String>,
}

impl<S> Driver<S> {
    pub(crate) fn new(
        io: S,
        conn: Connection,
        high_water: usize,
        protocol: Option<String>,
    ) -> Driver<S> {
        let origin = Instant::now();
        Driver {
            io,
            conn,
            origin,
            sleep: LazySleep::new(origin),
            idle: IdleRelease::new(),
            high_water,
            read_large: false,
            gather: Vec::new(),
            unflushed: false,
            read_eof: false,
            ended: false,
            protocol,
        }
    }

    fn now(&self) -> Duration {
        self.origin.elapsed()
    }

    /// Whether the stream has ended (it yields `None`).
    pub(crate) fn is_ended(&self) -> bool {
        self.ended
    }

    /// Why the connection ended, once it has.
    pub(crate) fn close_cause(&self) -> Option<&CloseCause> {
        self.conn.close_cause()
    }

    /// Runs the timers that are due (the connection's, and the release of
    /// idle buffers) and sets the sleep for the next one; whether any of
    /// the connection's ran (it may have queued output: a keepalive ping,
    /// a close frame).
    ///
    /// The sleep is moved only to an earlier deadline, and polled only
    /// when it may have fired ([`LazySleep`]): steady traffic does not touch
    /// the timer wheel per message.
    fn poll_timers(&mut self, cx: &mut Context<'_>) -> bool {
        let mut fired = false;
        loop {
            let now = self.now();
            let conn_at = self.conn.poll_timeout(now);
            if conn_at.is_some_and(|at| at <= now) {
                self.conn.handle_timeout(now);
                fired = true;
                continue;
            }
            if self.idle.is_due(now, self.conn.pending_transmit() == 0) {
                self.conn.release_idle_buffers();
            }
            let at = match (conn_at, self.idle.deadline(now)) {
                (Some(conn_at), Some(idle_at)) => conn_at.min(idle_at),
                (conn_at, idle_at) => match conn_at.or(idle_at) {
                    Some(at) => at,
                    None => return fired,
                },
            };
            if self.sleep.poll_until(cx, at, now).is_pending() {
                return fired;
            }
            // The sleep's deadline has passed: look again at what is due.
        }
    }

    /// Marks the stream ended after a transport failure.
    fn fail_io(&mut self, error: io::Error) -> Error {
        self.conn.handle_eof();
        self.ended = true;
        Error::Io(error)
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Driver<S> {
    /// Writes queued output until it is drained (`Ready(Ok)`) or the
    /// transport would block: one vectored write of the queued chunks at a
    /// time, so messages queued together leave in one system call.
    fn poll_write_out(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        loop {
            // (A pong owed but not queued is queued by `transmit_chunks`
            // while the queue it waited behind drains: with nothing queued,
            // none is owed.)
            if self.conn.pending_transmit() == 0 {
                return Poll::Ready(Ok(()));
            }
            let mut chunks = [&[][..]; MAX_SLICES];
            let filled = self.conn.transmit_chunks(&mut chunks);
            if filled == 0 {
                return Poll::Ready(Ok(()));
            }
            let chunks = &chunks[..filled];
            let io = Pin::new(&mut self.io);
            let poll = if filled > 1 && !io.is_write_vectored() && chunks[0].len() < GATHER_BELOW {
                self.gather.clear();
                for chunk in chunks {
                    let room = GATHER_BELOW.saturating_sub(self.gather.len());
                    if room == 0 {
                        break;
                    }
                    self.gather
                        .extend_from_slice(&chunk[..chunk.len().min(room)]);
                }
                io.poll_write(cx, &self.gather)
            } else {
                let mut slices = [IoSlice::new(&[]); MAX_SLICES];
                for (slice, chunk) in slices.iter_mut().zip(chunks) {
                    *slice = IoSlice::new(chunk);
                }
                io.poll_write_vectored(cx, &slices[..filled])
            };
            match ready!(poll) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(n) => {
                    self.conn.advance_transmit(n);
                    self.unflushed = true;
                }
                Err(e) => return Poll::Ready(Err(e)),
            }
        }
    }

    /// Writes the queued output and flushes the transport, without
    /// waiting: what the stream's side does, so that pongs and close
    /// replies leave even through a TLS stream that buffers (a plain
    /// socket's flush is free). `Pending` means it will be woken.
    fn poll_write_and_flush(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.poll_write_out(cx))?;
        if self.unflushed {
            ready!(Pin::new(&mut self.io).poll_flush(cx))?;
            self.unflushed = false;
        }
        Poll::Ready(Ok(()))
    }

    /// Writes what it can, now, without waiting, if taking an event queued
    /// output (`queued_before` is what was queued before): a pong, a close
    /// reply, the close frame of a failure, so that it leaves even if the
    /// caller stops polling. Output the caller queued is left to be written
    /// in one write once the input is drained. An error is left for the
    /// next poll.
    fn write_if_owed(&mut self, cx: &mut Context<'_>, queued_before: usize) {
        if self.conn.pending_transmit() > queued_before {
            let _ = self.poll_write_and_flush(cx);
        }
    }

    /// Reads once into the connection: `Ready(Ok(0))` at end of stream.
    fn poll_read_in(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<usize>> {
        let io = Pin::new(&mut self.io);
        if self.read_large {
            // Straight into the connection's buffer; a read that does not
            // complete commits nothing (the lender is dropped).
            let mut lender = self.conn.receive_buffer();
            let mut buf = ReadBuf::new(lender.spare(LARGE_READ));
            ready!(io.poll_read(cx, &mut buf))?;
            let n = buf.filled().len();
            lender.commit(n);
            self.read_large = n == LARGE_READ;
            return Poll::Ready(Ok(n));
        }
        let conn = &mut self.conn;
        let poll = SCRATCH.with(|scratch| {
            let read_into = |buf: &mut [u8]| -> Poll<io::Result<usize>> {
                let mut buf = ReadBuf::new(buf);
                ready!(io.poll_read(cx, &mut buf))?;
                conn.handle_input(buf.filled());
                Poll::Ready(Ok(buf.filled().len()))
            };
            match scratch.try_borrow_mut() {
                Ok(mut buf) => {
                    if buf.is_empty() {
                        buf.resize(SMALL_READ, 0);
                    }
                    read_into(&mut buf)
                }
                // Taken by a read further up this thread's stack (a
                // transport that is itself driven from here): a buffer of
                // this read's own.
                Err(_) => read_into(&mut vec![0; SMALL_READ]),
            }
        });
        let n = ready!(poll)?;
        self.read_large = n == SMALL_READ;
        Poll::Ready(Ok(n))
    }

    /// The stream's next message: the body of `Stream::poll_next`.
    pub(crate) fn poll_next_message(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Message, Error>>> {
        loop {
            if self.ended {
                return Poll::Ready(None);
            }
            // 1. The next event, if the input holds one. Output waits for
            //    step 2 unless this event owes some: so that the replies
            //    to a burst of messages read at once leave in one write.
            let queued_before = self.conn.pending_transmit();
            match self.conn.poll_event() {
                Ok(Some(event)) => {
                    self.write_if_owed(cx, queued_before);
                    if let Some(message) = Message::from_event(event) {
                        return Poll::Ready(Some(Ok(message)));
                    }
                    continue;
                }
                Ok(None) => {}
                Err(error) => {
                    // The connection failed (§7.1.7): its close frame is
                    // queued; send it now, the caller may stop here.
                    self.write_if_owed(cx, queued_before);
                    return Poll::Ready(Some(Err(Error::Protocol(error))));
                }
            }
            // 2. Output, now that the input read so far is answered:
            //    replies owed and whatever the caller queued, before
            //    waiting for more input.
            if let Poll::Ready(Err(e)) = self.poll_write_and_flush(cx) {
                return Poll::Ready(Some(Err(self.fail_io(e))));
            }
            // 3. The end: the connection says the transport is done with.
            if self.conn.should_close_transport() {
                return match Pin::new(&mut self.io).poll_shutdown(cx) {
                    Poll::Pending => Poll::Pending,
                    // The peer may be gone already: the connection is over
                    // either way.
                    Poll::Ready(_) => {
                        self.ended = true;
                        Poll::Ready(None)
                    }
                };
            }
            // 4. Input, unless the transport has ended (then the output
            //    still queued, or the close timeout, is what is awaited).
            let read = if self.read_eof {
                Poll::Pending
            } else {
                self.poll_read_in(cx)
            };
            let Poll::Ready(read) = read else {
                // 5. Timers, before waiting: a keepalive ping, a pong that
                //    did not come, the close timeout, the release of idle
                //    buffers. Looked at only here, once per wait rather
                //    than once per message read; input that never lets a
                //    read wait still does, every 128 reads (tokio's
                //    cooperative budget makes the read wait).
                if self.poll_timers(cx) {
                    continue;
                }
                return Poll::Pending;
            };
            match read {
                Ok(0) => {
                    self.read_eof = true;
                    self.conn.handle_eof();
                }
                Ok(_) => self.idle.saw_input(),
                // The peer reset the connection, or a TLS peer closed TCP
                // without `close_notify`: the end of the stream, as far as
                // the WebSocket is concerned. Whether it closed cleanly is
                // the closing handshake's to say (`close_cause`), as
                // §7.1.5 has it: without a close frame, 1006.
                Err(e) if is_end_of_stream(&e) => {
                    self.read_eof = true;
                    self.conn.handle_eof();
                }
                Err(e) => {
                    self.read_eof = true;
                    return Poll::Ready(Some(Err(self.fail_io(e))));
                }
            }
        }
    }

    /// Writes while queued output is at the high-water mark or above:
    /// `Sink::poll_ready`.
    pub(crate) fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        loop {
            if self.ended {
                return Poll::Ready(Err(Error::Send(SendError::Closed)));
            }
            if self.conn.pending_transmit() < self.high_water {
                return Poll::Ready(Ok(()));
            }
            match self.poll_write_out(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(e)) => return Poll::Ready(Err(self.fail_io(e))),
                // A peer that stopped reading: the close timeout, if it
                // runs, drops the output.
                Poll::Pending if self.poll_timers(cx) => {}
                Poll::Pending => return Poll::Pending,
            }
        }
    }

    /// Queues a message: `Sink::start_send`. Nothing is written.
    pub(crate) fn start_send(&mut self, message: Message) -> Result<(), Error> {
        let conn = &mut self.conn;
        match message {
            Message::Text(text) => conn.send_text(text)?,
            Message::Binary(data) => conn.send_binary(data)?,
            Message::Ping(data) => conn.send_ping(&data)?,
            Message::Pong(data) => conn.send_pong(&data)?,
            Message::Close(frame) => {
                // As tungstenite: closing what is closing or closed already
                // is not an error, the close is under way.
                if conn.state() == State::Open {
                    match frame {
                        Some(frame) => conn.close(frame.code, frame.reason.as_str())?,
                        None => conn.close(CloseCode::NORMAL, "")?,
                    }
                    // The close timeout runs from now: the connection
                    // reads the clock after a command.
                    let now = self.origin.elapsed();
                    self.conn.poll_timeout(now);
                }
            }
        }
        Ok(())
    }

    /// Writes everything queued, then flushes the transport:
    /// `Sink::poll_flush`.
    pub(crate) fn poll_flush(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        loop {
            match self.poll_write_out(cx) {
                Poll::Ready(Ok(())) => break,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(self.fail_io(e))),
                Poll::Pending if self.poll_timers(cx) => {}
                Poll::Pending => return Poll::Pending,
            }
        }
        if self.ended {
            return Poll::Ready(Ok(()));
        }
        match ready!(Pin::new(&mut self.io).poll_flush(cx)) {
            Ok(()) => {
                self.unflushed = false;
                Poll::Ready(Ok(()))
            }
            Err(e) => Poll::Ready(Err(self.fail_io(e))),
        }
    }

    /// Starts the closing handshake if it has not started, and writes the
    /// close frame: `Sink::poll_close`. The peer's answer arrives on the
    /// stream, which ends after it.
    pub(crate) fn poll_close(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Error>> {
        if self.conn.state() == State::Open {
            // Only an invalid code could fail, and this one is valid.
            let _ = self.conn.close(CloseCode::NORMAL, "");
            let now = self.now();
            self.conn.poll_timeout(now);
        }
        ready!(self.poll_flush(cx))?;
        if self.conn.should_close_transport() && !self.ended {
            let _ = ready!(Pin::new(&mut self.io).poll_shutdown(cx));
            self.ended = true;
        }
        Poll::Ready(Ok(()))
    }
}

/// Read errors that only say the transport ended.
fn is_end_of_stream(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionReset | io::ErrorKind::UnexpectedEof
    )
}
