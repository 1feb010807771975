//! The echo server of `echo_server.rs`, on tokio: how a sans-IO connection
//! is driven from an async read/write loop.
//!
//! ```sh
//! cargo run --release --example tokio_echo -- 127.0.0.1:9003
//! ```
//!
//! One single-threaded runtime, one task per connection. Each task runs the
//! library's loop (input, events, output, timers) around one `select!`:
//!
//! - **read** into the connection, but only while less than
//!   [`MAX_PENDING`] bytes wait to be written: a peer that sends faster
//!   than it reads is not read from until it has drained our replies
//!   (backpressure; TCP's own flow control then slows the peer down);
//! - **write** the queued output whenever there is some: wait until the
//!   socket is writable, then one vectored write of `transmit_chunks`
//!   (`try_write_vectored`), reported with `advance_transmit`;
//! - **sleep** until the connection's next timer (`poll_timeout`), on the
//!   connection's clock: a `Duration` since a per-connection `Instant`.
//!
//! The task ends when `should_close_transport()` says so, and only then.
//! A peer that stops reading cannot keep it waiting for writability: once
//! the connection is closing or closed, its close timeout is among the
//! deadlines, and when it runs out the connection drops the unwritten
//! output and says to close.
//!
//! Why cancelling a branch loses nothing: `select!` drops the branches that
//! did not finish. The read (`read_into`) reads into the room the
//! connection's receive buffer lends (`receive_buffer().spare(..)`) and
//! commits what it read in the same step that completes the future.
//! tokio's `read` is cancel-safe: a dropped read has read nothing (the
//! lender, dropped with it, adds nothing), and a completed one has put
//! every byte where `poll_event` will find it; no bytes ever sit in a
//! local buffer between the socket and the connection. Waiting for writability
//! and sleeping are cancel-safe too: they hold no data. The write itself
//! (`try_write_vectored`) runs after `select!`, never cancelled.

use std::io::{self, IoSlice};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::WriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

#[cfg(feature = "deflate")]
use wsproto::extensions::deflate::DeflateConfig;
use wsproto::frame::Status;
use wsproto::handshake::{Accept, Response, ServerHandshake};
use wsproto::{Config, Connection, Event};

/// Output queued beyond which the task stops reading.
const MAX_PENDING: usize = 1 << 20;

/// Room made in the receive buffer before each read, so that a read can
/// take a large piece at once.
const READ_ROOM: usize = 64 << 10;

/// Most slices handed to one vectored write.
const MAX_SLICES: usize = 64;

/// Limits for peers that send big messages (the Autobahn suite sends 16 MiB).
fn config() -> Config {
    Config::default()
        .max_frame_payload(32 << 20)
        .max_message_size(64 << 20)
}

/// Reads the opening handshake and answers it: the open connection, or
/// `None` when the request was answered otherwise (an error, a plain page).
async fn handshake(stream: &mut TcpStream) -> io::Result<Option<Connection>> {
    let mut handshake = ServerHandshake::new(Default::default());
    let mut buf = vec![0u8; 4096];
    let request = loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        match handshake.handle_input(&buf[..n]) {
            Ok(Status::Partial) => continue,
            Ok(Status::Complete(request)) => break request,
            Err(error) => {
                write_response(stream, &error.to_response()).await?;
                return Ok(None);
            }
        }
    };
    if !request.is_upgrade() {
        let page = Response::new(426)
            .with_header("Sec-WebSocket-Version", "13")
            .with_body("this is a WebSocket echo server\n");
        write_response(stream, &page).await?;
        return Ok(None);
    }
    let answer = Accept::new().config(config());
    #[cfg(feature = "deflate")]
    let answer = answer.deflate(DeflateConfig::default());
    let accepted = request
        .accept(answer)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e))?;
    write_response(stream, &accepted.response).await?;
    Ok(Some(accepted.connection))
}

async fn write_response(stream: &mut TcpStream, response: &Response) -> io::Result<()> {
    let mut out = Vec::new();
    response
        .write_to_vec(&mut out)
        .expect("a head this program built is valid");
    stream.write_all(&out).await
}

/// Runs one connection until the transport should close.
async fn serve(mut stream: TcpStream) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let Some(mut conn) = handshake(&mut stream).await? else {
        return Ok(());
    };
    let (mut reader, mut writer) = stream.split();
    // The connection's clock: time since this origin.
    let origin = Instant::now();
    let mut eof = false;
    loop {
        // 1. Drain events; echo data messages (pings and closes are
        //    answered by the connection itself).
        loop {
            match conn.poll_event() {
                Ok(Some(Event::Text(text))) => {
                    let _ = conn.send_text(text);
                }
                Ok(Some(Event::Binary(data))) => {
                    let _ = conn.send_binary(data);
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(error) => {
                    eprintln!(
                        "protocol error: {error} (closing with {})",
                        error.close_code()
                    );
                    break;
                }
            }
        }
        // 2. Done when the connection says so: its output is written, or
        //    its close timeout gave up on a peer that stopped reading.
        if conn.should_close_transport() {
            let _ = writer.shutdown().await;
            return Ok(());
        }
        // 3. Wait for whichever comes first: input (unless we are too far
        //    behind on output), room to write, or the next timer.
        let can_read = !eof && conn.pending_transmit() < MAX_PENDING;
        let has_output = conn.pending_transmit() > 0;
        let deadline = conn.poll_timeout(origin.elapsed()).map(|at| origin + at);
        tokio::select! {
            read = read_into(&mut reader, &mut conn), if can_read => match read {
                Ok(0) => {
                    eof = true;
                    conn.handle_eof();
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    eof = true;
                    conn.handle_eof();
                }
                Err(e) => return Err(e),
            },
            ready = writer.writable(), if has_output => {
                ready?;
                write_some(&writer, &mut conn)?;
            }
            () = sleep_until(deadline), if deadline.is_some() => {
                conn.handle_timeout(origin.elapsed());
            }
            // Reading stops only at EOF or with output queued; after EOF the
            // connection is closed, so with its output written it has said
            // to close the transport (step 2).
            else => unreachable!("closed after EOF, output written: step 2 returned"),
        }
    }
}

/// One vectored write of the queued output, once the socket is writable.
///
/// Why not `write_vectored(...)` as the `select!` branch itself: its
/// future would borrow the connection's output queue for as long as the
/// read future borrows its receive buffer, and both come from `&mut conn`.
/// Waiting for writability borrows only the socket; the slices are taken
/// after `select!` has dropped the read.
fn write_some(writer: &WriteHalf<'_>, conn: &mut Connection) -> io::Result<()> {
    let mut chunks = [&[][..]; MAX_SLICES];
    let filled = conn.transmit_chunks(&mut chunks);
    let mut slices = [IoSlice::new(&[]); MAX_SLICES];
    for (slice, chunk) in slices.iter_mut().zip(&chunks[..filled]) {
        *slice = IoSlice::new(chunk);
    }
    match writer.try_write_vectored(&slices[..filled]) {
        Ok(0) => Err(io::ErrorKind::WriteZero.into()),
        Ok(n) => {
            conn.advance_transmit(n);
            Ok(())
        }
        // The readiness was stale: wait again.
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
        Err(e) => Err(e),
    }
}

/// Reads once straight into the connection's receive buffer: the lent
/// room, then the bytes read committed (cancel-safe, see the module docs).
async fn read_into(
    reader: &mut (impl AsyncReadExt + Unpin),
    conn: &mut Connection,
) -> io::Result<usize> {
    let mut lender = conn.receive_buffer();
    let n = reader.read(lender.spare(READ_ROOM)).await?;
    lender.commit(n);
    Ok(n)
}

async fn sleep_until(deadline: Option<Instant>) {
    if let Some(at) = deadline {
        tokio::time::sleep_until(at).await;
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9003".into());
    let listener = TcpListener::bind(&addr).await?;
    println!("echo server listening on ws://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(async move {
            if let Err(e) = serve(stream).await {
                eprintln!("connection ended: {e}");
            }
        });
    }
}
