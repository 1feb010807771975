//! One connection, two tasks: one reads, the other writes, on tokio.
//!
//! ```sh
//! cargo run --example split_halves            # 10,000 messages
//! cargo run --example split_halves -- 100000
//! ```
//!
//! The example starts an echo server in-process, connects to it, and then
//! splits the client's work: a **sender** task queues N numbered messages,
//! a **writer** task puts the queued bytes on the socket, and a **reader**
//! task reads, feeds the connection and checks that the N echoes arrive
//! whole and in order. It exits non-zero if any is missing.
//!
//! The pattern:
//!
//! - The sans-IO [`Connection`] is plain data: share it as
//!   `Arc<Mutex<Connection>>` (a `std` mutex) and hold the lock only for
//!   the synchronous calls (`handle_input`, `poll_event`, `send_*`,
//!   `poll_transmit`/`advance_transmit`), **never across an `.await`**.
//!   The compiler enforces it here: `tokio::spawn` needs a `Send` future and
//!   a `std::sync::MutexGuard` is not `Send`.
//! - The socket is split (`into_split`): the reader owns the read half and
//!   a buffer of its own; the writer owns the write half. Neither needs the
//!   lock while it waits on the socket.
//! - The reader reads into its own buffer, *then* locks and calls
//!   `handle_input`. The writer copies what `poll_transmit` offers into its
//!   own buffer under the lock, writes it unlocked, then locks again to
//!   `advance_transmit`. Only the writer advances the output, so nothing
//!   moves under it meanwhile.
//! - Whoever queues output (a `send_*`, or the reader, whose input may owe
//!   a pong or a close reply) wakes the writer with a [`Notify`]; a wake-up
//!   given while the writer is busy is kept as a permit, never lost.
//! - The writer stops when the connection says so, even in the middle of a
//!   write that never finishes (a peer that stopped reading): the reader
//!   runs the timers, the connection's close timeout drops the unwritten
//!   output and says to close the transport, and a second [`Notify`] wakes
//!   the writer out of its write.
//! - Cancelling a read loses no bytes: the reader's `select!` races the read
//!   against a 1 ms timer, and the timer often wins, dropping the read.
//!   `AsyncReadExt::read` is cancel-safe (a dropped read has read nothing),
//!   and a finished one hands its bytes to the connection before the next
//!   `.await`. Partial frames live in the connection, which the caller
//!   owns, not in a future that a `select!` may drop.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::time::Instant;

use wsproto::frame::Status;
use wsproto::handshake::{Accept, ClientConfig, ClientHandshake, ServerHandshake, WsUrl};
use wsproto::{CloseCode, Connection, Event};

/// What the tasks share: the connection, and the writer's wake-ups.
struct Shared {
    conn: Mutex<Connection>,
    output_queued: Notify,
    /// The connection says to close the transport.
    closing: Notify,
    /// The connection's clock: timers are `Duration`s since this.
    start: Instant,
}

impl Shared {
    /// Runs `f` on the connection under the lock, then wakes the writer if
    /// output is waiting. The lock is released before this returns: call it
    /// between `.await`s, never across one.
    fn with_conn<T>(&self, f: impl FnOnce(&mut Connection) -> T) -> T {
        let mut conn = self.conn.lock().unwrap();
        let result = f(&mut conn);
        if conn.should_close_transport() {
            self.closing.notify_one();
        }
        if conn.pending_transmit() > 0 || conn.should_close_transport() {
            self.output_queued.notify_one();
        }
        result
    }
}

/// The writer: copy out under the lock, write unlocked, advance under it;
/// stop when the connection says to close the transport.
async fn writer(shared: Arc<Shared>, mut socket: OwnedWriteHalf) -> io::Result<()> {
    let mut chunk = Vec::with_capacity(64 << 10);
    loop {
        let done = {
            let mut conn = shared.conn.lock().unwrap();
            chunk.clear();
            if let Some(bytes) = conn.poll_transmit() {
                chunk.extend_from_slice(bytes);
            }
            chunk.is_empty() && conn.should_close_transport()
        }; // unlocked here, before any .await
        if done {
            return socket.shutdown().await;
        }
        if chunk.is_empty() {
            shared.output_queued.notified().await;
            continue;
        }
        let mut written = 0;
        while written < chunk.len() {
            // A write to a peer that stopped reading never finishes; the
            // close timeout then drops the output (`closing` says so). A
            // `write` dropped by `select!` has written nothing.
            tokio::select! {
                n = socket.write(&chunk[written..]) => {
                    let n = n?;
                    if n == 0 {
                        return Err(io::ErrorKind::WriteZero.into());
                    }
                    shared.conn.lock().unwrap().advance_transmit(n);
                    written += n;
                }
                () = shared.closing.notified() => break,
            }
        }
    }
}

/// What the reader saw.
struct Received {
    messages: usize,
    cancelled_reads: usize,
}

/// The reader: read into a task-owned buffer, then lock and feed.
async fn reader(
    shared: Arc<Shared>,
    mut socket: OwnedReadHalf,
    expected: usize,
) -> io::Result<Received> {
    let mut buf = vec![0u8; 64 << 10];
    let mut received = Received {
        messages: 0,
        cancelled_reads: 0,
    };
    loop {
        let read = tokio::select! {
            read = socket.read(&mut buf) => Some(read?),
            // Periodic work (here: the connection's timers). When this wins,
            // the read above is dropped, having read nothing.
            _ = tokio::time::sleep(Duration::from_millis(1)) => None,
        };
        let (events, finished) = shared.with_conn(|conn| {
            match read {
                Some(0) => conn.handle_eof(),
                Some(n) => conn.handle_input(&buf[..n]),
                None => conn.handle_timeout(shared.start.elapsed()),
            }
            let mut events = Vec::new();
            loop {
                match conn.poll_event() {
                    Ok(Some(event)) => events.push(event),
                    Ok(None) => break,
                    Err(e) => {
                        eprintln!("protocol error: {e}");
                        break;
                    }
                }
            }
            (events, conn.should_close_transport())
        });
        if read.is_none() {
            received.cancelled_reads += 1;
        }
        // The events are handled unlocked: they own their payloads.
        for event in events {
            match event {
                Event::Text(text) => {
                    let want = format!("message {}", received.messages);
                    if text.as_str() != want {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidData,
                            format!("expected {want:?}, got {:?}", text.as_str()),
                        ));
                    }
                    received.messages += 1;
                }
                Event::Close(close) => eprintln!("reader: close {}", close.code),
                _ => {}
            }
        }
        if finished || read == Some(0) {
            if received.messages != expected {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    format!("{} of {expected} messages arrived", received.messages),
                ));
            }
            return Ok(received);
        }
    }
}

/// The sender: queues the messages, a few at a time, then closes.
async fn sender(shared: Arc<Shared>, count: usize) {
    // Let the reader wait on an idle socket first: its timer wins, and the
    // dropped reads are the cancellations the example is about.
    tokio::time::sleep(Duration::from_millis(20)).await;
    for i in 0..count {
        shared.with_conn(|conn| conn.send_text(format!("message {i}")).unwrap());
        if i % 1000 == 999 {
            // A pause now and then: the reader's timer fires while frames
            // are in flight, cancelling reads mid-stream.
            tokio::time::sleep(Duration::from_millis(2)).await;
        } else if i % 64 == 63 {
            tokio::task::yield_now().await;
        }
    }
    shared.with_conn(|conn| conn.close(CloseCode::NORMAL, "done").unwrap());
}

/// Connects and runs the client handshake.
async fn connect(port: u16) -> io::Result<(TcpStream, Connection)> {
    let invalid = |e: &dyn std::fmt::Display| io::Error::other(e.to_string());
    let url = WsUrl::parse(&format!("ws://127.0.0.1:{port}/")).map_err(|e| invalid(&e))?;
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
    stream.set_nodelay(true)?;
    let mut handshake =
        ClientHandshake::new_random(&url, ClientConfig::new()).map_err(|e| invalid(&e))?;
    let mut request = Vec::new();
    handshake
        .write_request_to_vec(&mut request)
        .expect("a head this program built is valid");
    stream.write_all(&request).await?;
    let mut buf = vec![0u8; 4096];
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        if let Status::Complete(accepted) =
            handshake.handle_input(&buf[..n]).map_err(|e| invalid(&e))?
        {
            return Ok((stream, accepted.connection));
        }
    }
}

/// The in-process echo server: one task, one connection, the plain loop,
/// with the connection's timers raced against every read and write.
async fn echo_server(listener: TcpListener) -> io::Result<()> {
    let (mut stream, _) = listener.accept().await?;
    stream.set_nodelay(true)?;
    let mut handshake = ServerHandshake::new(Default::default());
    let mut buf = vec![0u8; 64 << 10];
    let request = loop {
        let n = stream.read(&mut buf).await?;
        match handshake.handle_input(&buf[..n]) {
            Ok(Status::Partial) if n > 0 => continue,
            Ok(Status::Complete(request)) => break request,
            _ => return Err(io::ErrorKind::InvalidData.into()),
        }
    };
    let accepted = request.accept(Accept::new()).map_err(io::Error::other)?;
    let mut out = Vec::new();
    accepted
        .response
        .write_to_vec(&mut out)
        .expect("a head this program built is valid");
    stream.write_all(&out).await?;
    let mut conn = accepted.connection;
    let start = Instant::now();
    loop {
        while let Some(event) = conn.poll_event().map_err(io::Error::other)? {
            let _ = match event {
                Event::Text(text) => conn.send_text(text),
                Event::Binary(data) => conn.send_binary(data),
                _ => Ok(()),
            };
        }
        // Write, read, or whichever timer comes first (a dropped `write`
        // or `read` has moved no bytes): a client that stops reading
        // cannot hold this task, its close timeout drops the output.
        let deadline = conn.poll_timeout(start.elapsed()).map(|at| start + at);
        if let Some(bytes) = conn.poll_transmit() {
            let written = tokio::select! {
                n = stream.write(bytes) => Some(n?),
                () = sleep_until(deadline) => None,
            };
            match written {
                Some(n) => conn.advance_transmit(n),
                None => conn.handle_timeout(start.elapsed()),
            }
            continue;
        }
        if conn.should_close_transport() {
            return stream.shutdown().await;
        }
        let read = tokio::select! {
            n = stream.read(&mut buf) => Some(n?),
            () = sleep_until(deadline) => None,
        };
        match read {
            Some(0) => conn.handle_eof(),
            Some(n) => conn.handle_input(&buf[..n]),
            None => conn.handle_timeout(start.elapsed()),
        }
    }
}

/// Sleeps until `deadline`; with none, forever.
async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> io::Result<()> {
    let count: usize = match std::env::args().nth(1) {
        Some(n) => n
            .parse()
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "usage: split_halves [N]"))?,
        None => 10_000,
    };
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let server = tokio::spawn(echo_server(listener));

    let started = Instant::now();
    let (stream, conn) = connect(port).await?;
    let (read_half, write_half) = stream.into_split();
    let shared = Arc::new(Shared {
        conn: Mutex::new(conn),
        output_queued: Notify::new(),
        closing: Notify::new(),
        start: Instant::now(),
    });
    let writer = tokio::spawn(writer(shared.clone(), write_half));
    let reader = tokio::spawn(reader(shared.clone(), read_half, count));
    let sender = tokio::spawn(sender(shared.clone(), count));

    let received = reader.await.map_err(io::Error::other)??;
    sender.await.map_err(io::Error::other)?;
    writer.await.map_err(io::Error::other)??;
    server.await.map_err(io::Error::other)??;
    let status = shared.conn.lock().unwrap().close_status().map(|c| c.code);
    println!(
        "sent {count} messages from one task, received {} in order in another, in {:.1?}; \
         {} reads cancelled by select!, no bytes lost; closed with {status:?}",
        received.messages,
        started.elapsed(),
        received.cancelled_reads,
    );
    if received.cancelled_reads == 0 {
        return Err(io::Error::other("no read was cancelled: nothing shown"));
    }
    Ok(())
}
