//! The echo server of `echo_server.rs` on an event loop: one thread, `mio`
//! (epoll on Linux, kqueue on the BSDs and macOS), non-blocking sockets,
//! thousands of connections.
//!
//! ```sh
//! cargo run --release --example mio_echo -- 127.0.0.1:9004
//! cargo run --release --example mio_echo -- 127.0.0.1:9004 --threads 4
//! cargo run --release --example mio_echo -- 127.0.0.1:9004 --lent
//! ```
//!
//! Every text and binary message is sent back unchanged; with the `deflate`
//! feature, permessage-deflate is negotiated when offered. The first line on
//! stdout names the address listened on (`127.0.0.1:0` picks a free port).
//!
//! # How it runs
//!
//! Readiness is edge-triggered (mio's only mode): an event says "something
//! changed", so a connection is driven until the socket would block, or
//! until it is told to wait. Driving one connection is the library's loop:
//!
//! 1. **write** what is queued (the 101 response, then the connection's
//!    output) with one vectored write of `transmit_chunks`; a short write
//!    keeps the rest queued until the socket is writable again;
//! 2. **read** into one buffer shared by all connections and hand the bytes
//!    to `handle_input`, then drain the events, queueing each echo by
//!    reference (`send_text`/`send_binary` of the event's shared bytes:
//!    the payload received is the one sent);
//! 3. repeat, with two brakes:
//!    - **backpressure**: past [`MAX_PENDING`] bytes of unsent output the
//!      connection is not read from until the peer has taken some (TCP's
//!      flow control then slows the peer down), so no queue grows without
//!      bound;
//!    - **fairness**: after [`READS_PER_TURN`] reads a connection that still
//!      has input goes to the back of the line, so one fast peer cannot
//!      hold the loop.
//!
//! A connection that has had no input and no output pending for a whole
//! [`SWEEP_EVERY`] is quiet: `release_idle_buffers` hands its buffers back,
//! so an idle connection holds no heap beyond its own `Box` (see the
//! `--stats` line). Busy connections keep theirs between messages, so
//! steady traffic does not allocate (releasing on every would-block instead
//! cost about 65 ns of user time per echoed message here, of ~4.7 us in all).
//!
//! `--lent` drains the events with `poll_event_ref` instead: each payload
//! is lent where it lies in the receive buffer and copied into the echo,
//! as a server does that handles each message before the next (and the
//! conformance run of the borrowed path).
//!
//! Timers (the handshake deadline, and the connection's own `poll_timeout`)
//! sit in one heap of deadlines, at most one live entry per connection.
//!
//! # Across cores
//!
//! `--threads N` runs N such loops, each on its own thread with its own
//! listening socket bound to the same address with `SO_REUSEPORT`: the
//! kernel spreads new connections over the N sockets, and a connection
//! then lives on one loop for good. The loops share nothing, no lock and no
//! queue, so they scale with the cores as long as connections are spread
//! evenly; what one loop holds (its slots, timers and read buffer) is
//! its own. On 64 cores that is 64 independent loops, the shape
//! uWebSockets and nginx use; what would stop it scaling is shared state,
//! and there is none on the hot path.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::{self, IoSlice, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

#[cfg(feature = "deflate")]
use wsproto::extensions::deflate::DeflateConfig;
use wsproto::frame::Status;
use wsproto::handshake::{Accept, Request, Response, ServerHandshake};
use wsproto::{Config, Connection, Event, EventRef, MessageKind};

/// Unsent output beyond which a connection is not read from.
const MAX_PENDING: usize = 256 << 10;

/// The read buffer shared by all connections.
const READ_BUFFER: usize = 64 << 10;

/// Reads one connection may do before the others get their turn.
const READS_PER_TURN: usize = 16;

/// Most slices handed to one vectored write.
const MAX_SLICES: usize = 64;

/// How long a client has to send its opening handshake (a peer that sends
/// it a byte at a time cannot hold a connection open for long).
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How often quiet connections are looked for (see the module docs).
const SWEEP_EVERY: Duration = Duration::from_secs(1);

const LISTENER: Token = Token(usize::MAX);

/// Limits for peers that send big messages (the Autobahn suite sends 16 MiB).
fn config() -> Config {
    Config::default()
        .max_frame_payload(32 << 20)
        .max_message_size(64 << 20)
}

/// Where a client stands. (The client is boxed whole, so the large
/// variant is not boxed again: that would be a second allocation.)
#[allow(clippy::large_enum_variant)]
enum Phase {
    /// Reading the opening handshake, until `deadline`.
    Handshake {
        handshake: ServerHandshake,
        deadline: Duration,
    },
    /// The WebSocket is open (the 101 response may still be in `head`).
    Open(Connection),
    /// An HTTP answer that is not an upgrade (an error, or the page for a
    /// plain GET) is in `head`; once written, the socket is closed.
    Answer,
}

struct Client {
    stream: TcpStream,
    phase: Phase,
    /// An HTTP response head still to be written before anything else;
    /// empty (and holding no heap) once it is.
    head: Vec<u8>,
    /// The peer closed its side (or reset the connection).
    eof: bool,
    /// Input arrived since the last sweep for quiet connections.
    active: bool,
    /// The deadline this client has in the timer heap, if any.
    timer: Option<Duration>,
    /// Tells a timer entry for this slot from one for a former occupant.
    generation: u32,
}

/// What to do with a client after driving it.
enum Next {
    /// Wait for the next readiness event.
    Wait,
    /// Input is left unread (fairness): drive it again after the others.
    Again,
    /// Close the socket and forget the client.
    Close,
}

impl Client {
    fn new(stream: TcpStream, now: Duration, generation: u32) -> Client {
        Client {
            stream,
            phase: Phase::Handshake {
                handshake: ServerHandshake::new(Default::default()),
                deadline: now + HANDSHAKE_TIMEOUT,
            },
            head: Vec::new(),
            eof: false,
            active: true,
            timer: None,
            generation,
        }
    }

    /// Bytes queued for writing.
    fn pending(&self) -> usize {
        self.head.len()
            + match &self.phase {
                Phase::Open(conn) => conn.pending_transmit(),
                _ => 0,
            }
    }

    /// When this client next needs `on_timer`, given the time `now`.
    fn deadline(&mut self, now: Duration) -> Option<Duration> {
        match &mut self.phase {
            Phase::Handshake { deadline, .. } => Some(*deadline),
            Phase::Open(conn) => conn.poll_timeout(now),
            Phase::Answer => None,
        }
    }

    /// Runs the client until the socket would block, it must wait for the
    /// peer to read (backpressure), or its turn is over.
    ///
    /// `drained_on_short_read`: the readiness event did not report the
    /// peer's close, so a read that returns less than the buffer means the
    /// socket is empty (epoll(7)), and the read that would say so is saved.
    fn drive(&mut self, buf: &mut [u8], drained_on_short_read: bool) -> Next {
        let mut reads = 0;
        loop {
            match self.write_out() {
                Ok(()) => {}
                Err(_) => return Next::Close,
            }
            if self.is_done() {
                return Next::Close;
            }
            if self.eof || self.pending() >= MAX_PENDING {
                // Nothing to read, or not now: the next writable event
                // brings us back.
                return Next::Wait;
            }
            if reads == READS_PER_TURN {
                return Next::Again;
            }
            reads += 1;
            match self.stream.read(buf) {
                Ok(0) => self.on_eof(),
                Ok(n) => {
                    self.active = true;
                    self.on_input(&buf[..n]);
                    if n < buf.len() && drained_on_short_read {
                        // Write the replies, then wait for more input.
                        if self.write_out().is_err() {
                            return Next::Close;
                        }
                        if self.is_done() {
                            return Next::Close;
                        }
                        return Next::Wait;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Next::Wait,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => self.on_eof(),
                Err(_) => return Next::Close,
            }
        }
    }

    /// Called every [`SWEEP_EVERY`]: a connection with no input since the
    /// last call and no output pending lets its buffers go.
    fn sweep(&mut self) {
        if let Phase::Open(conn) = &mut self.phase {
            if !std::mem::take(&mut self.active) && conn.pending_transmit() == 0 {
                conn.release_idle_buffers();
            }
        }
    }

    /// Whether the socket should be closed now.
    fn is_done(&self) -> bool {
        match &self.phase {
            Phase::Handshake { .. } => self.eof,
            Phase::Open(conn) => self.head.is_empty() && conn.should_close_transport(),
            Phase::Answer => self.head.is_empty(),
        }
    }

    fn on_eof(&mut self) {
        self.eof = true;
        if let Phase::Open(conn) = &mut self.phase {
            conn.handle_eof();
        }
    }

    fn on_input(&mut self, bytes: &[u8]) {
        match &mut self.phase {
            Phase::Handshake { handshake, .. } => match handshake.handle_input(bytes) {
                Ok(Status::Partial) => {}
                Ok(Status::Complete(request)) => self.on_request(request),
                Err(error) => self.answer(&error.to_response()),
            },
            Phase::Open(conn) => {
                conn.handle_input(bytes);
                echo_all(conn);
            }
            // The answer is final: what follows the request is ignored.
            Phase::Answer => {}
        }
    }

    /// Accepts an upgrade (negotiating permessage-deflate with the
    /// `deflate` feature), or answers a plain request with a page.
    fn on_request(&mut self, request: Request) {
        if !request.is_upgrade() {
            let page = Response::new(426)
                .with_header("Sec-WebSocket-Version", "13")
                .with_body("this is a WebSocket echo server\n");
            return self.answer(&page);
        }
        let accept = Accept::new().config(config());
        #[cfg(feature = "deflate")]
        let accept = accept.deflate(DeflateConfig::default());
        let accepted = match request.accept(accept) {
            Ok(accepted) => accepted,
            Err(_) => return self.answer(&Response::new(500)),
        };
        accepted
            .response
            .write_to_vec(&mut self.head)
            .expect("a head this program built is valid");
        let mut conn = accepted.connection;
        echo_all(&mut conn);
        self.phase = Phase::Open(conn);
    }

    fn answer(&mut self, response: &Response) {
        response
            .write_to_vec(&mut self.head)
            .expect("a head this program built is valid");
        self.phase = Phase::Answer;
    }

    /// Writes the response head, then the connection's output, until all
    /// is written or the socket would block.
    fn write_out(&mut self) -> io::Result<()> {
        while !self.head.is_empty() {
            match self.stream.write(&self.head) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.head.drain(..n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        // Let the head's buffer go: an open connection keeps no copy of it.
        self.head = Vec::new();
        let Phase::Open(conn) = &mut self.phase else {
            return Ok(());
        };
        while conn.pending_transmit() > 0 {
            let mut chunks = [&[][..]; MAX_SLICES];
            let filled = conn.transmit_chunks(&mut chunks);
            let mut slices = [IoSlice::new(&[]); MAX_SLICES];
            for (slice, chunk) in slices.iter_mut().zip(&chunks[..filled]) {
                *slice = IoSlice::new(chunk);
            }
            match self.stream.write_vectored(&slices[..filled]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => conn.advance_transmit(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// A deadline passed: the handshake took too long, or the connection's
    /// timers are due.
    fn on_timer(&mut self, now: Duration) -> bool {
        match &mut self.phase {
            Phase::Handshake { deadline, .. } if *deadline <= now => false,
            Phase::Open(conn) => {
                conn.handle_timeout(now);
                true
            }
            _ => true,
        }
    }
}

/// `--lent`: events drained with `poll_event_ref` (see the module docs).
static LENT: AtomicBool = AtomicBool::new(false);

/// Drains the connection's events, queueing every data message back.
fn echo_all(conn: &mut Connection) {
    if LENT.load(Ordering::Relaxed) {
        return echo_all_lent(conn);
    }
    loop {
        let queued = match conn.poll_event() {
            Ok(Some(Event::Text(text))) => conn.send_text(text),
            Ok(Some(Event::Binary(data))) => conn.send_binary(data),
            Ok(Some(_)) => Ok(()),
            Ok(None) => return,
            // The connection queued the close code; it closes once written.
            Err(_) => return,
        };
        // Sending fails only once the connection is closing: nothing to do.
        let _ = queued;
    }
}

/// [`echo_all`] with lent events: each payload copied out of the receive
/// buffer (the event borrows the connection) and sent from the copy.
fn echo_all_lent(conn: &mut Connection) {
    let mut copy = Vec::new();
    loop {
        let kind = match conn.poll_event_ref() {
            Ok(Some(EventRef::Text(text))) => {
                copy.clear();
                copy.extend_from_slice(text.as_bytes());
                MessageKind::Text
            }
            Ok(Some(EventRef::Binary(data))) => {
                copy.clear();
                copy.extend_from_slice(&data);
                MessageKind::Binary
            }
            Ok(Some(_)) => continue,
            Ok(None) | Err(_) => return,
        };
        let _ = match kind {
            MessageKind::Text => match std::str::from_utf8(&copy) {
                Ok(text) => conn.send_text(text),
                Err(_) => unreachable!("text events are UTF-8"),
            },
            MessageKind::Binary => conn.send_binary(&copy[..]),
        };
    }
}

/// The connections, in slots reused through a free list; a client is boxed
/// so that the table holds a pointer per slot and growing it moves little.
struct Server {
    poll: Poll,
    listener: TcpListener,
    slots: Vec<Option<Box<Client>>>,
    /// Generation of each slot's latest occupant.
    generations: Vec<u32>,
    free: Vec<usize>,
    /// (deadline, slot, generation), earliest first; stale entries (for a
    /// client gone, or moved to a later deadline) are skipped when popped.
    timers: BinaryHeap<Reverse<(Duration, usize, u32)>>,
    /// Clients to drive again after this round (fairness).
    again: Vec<usize>,
    origin: Instant,
    open: usize,
}

impl Server {
    fn accept_all(&mut self) {
        loop {
            let stream = match self.listener.accept() {
                Ok((stream, _)) => stream,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // E.g. out of file descriptors: the connection waits in
                    // the backlog until the next accept event.
                    eprintln!("accept: {e}");
                    return;
                }
            };
            let _ = stream.set_nodelay(true);
            let slot = match self.free.pop() {
                Some(slot) => slot,
                None => {
                    self.slots.push(None);
                    self.generations.push(0);
                    self.slots.len() - 1
                }
            };
            let generation = self.generations[slot].wrapping_add(1);
            self.generations[slot] = generation;
            let now = self.origin.elapsed();
            let mut client = Box::new(Client::new(stream, now, generation));
            let interest = Interest::READABLE | Interest::WRITABLE;
            if let Err(e) = self
                .poll
                .registry()
                .register(&mut client.stream, Token(slot), interest)
            {
                eprintln!("register: {e}");
                self.free.push(slot);
                continue;
            }
            self.slots[slot] = Some(client);
            self.open += 1;
            self.schedule(slot);
        }
    }

    /// Drives the client in `slot` and acts on the outcome.
    fn drive(&mut self, slot: usize, buf: &mut [u8], drained_on_short_read: bool) {
        let Some(client) = self.slots.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        match client.drive(buf, drained_on_short_read) {
            Next::Wait => self.schedule(slot),
            Next::Again => {
                self.again.push(slot);
                self.schedule(slot);
            }
            Next::Close => self.remove(slot),
        }
    }

    /// Puts the client's deadline in the heap unless an earlier (or equal)
    /// entry is there already; a later one is caught up when it pops.
    fn schedule(&mut self, slot: usize) {
        let now = self.origin.elapsed();
        let Some(client) = self.slots[slot].as_mut() else {
            return;
        };
        let Some(at) = client.deadline(now) else {
            return;
        };
        if client.timer.is_none_or(|scheduled| at < scheduled) {
            client.timer = Some(at);
            self.timers.push(Reverse((at, slot, client.generation)));
        }
    }

    /// Fires the deadlines that have passed.
    fn fire_timers(&mut self, buf: &mut [u8]) {
        let now = self.origin.elapsed();
        while let Some(&Reverse((at, slot, generation))) = self.timers.peek() {
            if at > now {
                return;
            }
            self.timers.pop();
            let Some(client) = self.slots[slot].as_mut() else {
                continue;
            };
            if client.generation != generation || client.timer != Some(at) {
                continue; // stale
            }
            client.timer = None;
            match client.deadline(now) {
                Some(due) if due <= now => {
                    if client.on_timer(now) {
                        self.drive(slot, buf, false);
                    } else {
                        self.remove(slot);
                    }
                }
                // Moved later (or off) since it was scheduled.
                _ => self.schedule(slot),
            }
        }
    }

    fn remove(&mut self, slot: usize) {
        if let Some(mut client) = self.slots[slot].take() {
            let _ = self.poll.registry().deregister(&mut client.stream);
            self.free.push(slot);
            self.open -= 1;
        }
    }

    /// How long the loop may sleep: until the next deadline (or sweep),
    /// or not at all when clients wait for their next turn.
    fn poll_timeout(&self, next_sweep: Duration) -> Duration {
        if !self.again.is_empty() {
            return Duration::ZERO;
        }
        let at = match self.timers.peek() {
            Some(Reverse((at, _, _))) => next_sweep.min(*at),
            None => next_sweep,
        };
        // Round up to the millisecond epoll sleeps in, so as not to wake
        // early and spin.
        let wait = at.saturating_sub(self.origin.elapsed());
        Duration::from_millis(wait.as_micros().div_ceil(1000) as u64)
    }

    fn sweep(&mut self) {
        for client in self.slots.iter_mut().flatten() {
            client.sweep();
        }
    }
}

fn main() -> io::Result<()> {
    let usage = "usage: mio_echo [ADDR] [--threads N] [--stats] [--lent]";
    let mut addr = None;
    let mut stats = false;
    let mut threads = 1usize;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--stats" => stats = true,
            "--lent" => LENT.store(true, Ordering::Relaxed),
            "--threads" => {
                threads = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, usage))?;
            }
            _ if addr.is_none() && !arg.starts_with("--") => addr = Some(arg),
            _ => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("unexpected argument {arg}\n{usage}"),
                ))
            }
        }
    }
    let addr: std::net::SocketAddr = addr
        .as_deref()
        .unwrap_or("127.0.0.1:9004")
        .parse()
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, format!("{e}\n{usage}")))?;
    // The first socket fixes the port (`:0` picks one); the others join it.
    let first = listen(addr, threads > 1)?;
    let addr = first.local_addr()?;
    println!("echo server listening on ws://{addr}");
    if stats {
        println!(
            "size_of: Client {} bytes (Connection {}), table slot {} bytes",
            std::mem::size_of::<Client>(),
            std::mem::size_of::<Connection>(),
            std::mem::size_of::<Option<Box<Client>>>() + std::mem::size_of::<u32>(),
        );
    }
    let mut loops = Vec::new();
    for _ in 1..threads {
        let listener = listen(addr, true)?;
        loops.push(std::thread::spawn(move || run(listener, false)));
    }
    run(first, stats)
}

/// A non-blocking listening socket on `addr`, with `SO_REUSEPORT` when
/// several loops share the address.
fn listen(addr: std::net::SocketAddr, reuse_port: bool) -> io::Result<std::net::TcpListener> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)?;
    socket.set_reuse_address(true)?;
    #[cfg(unix)]
    socket.set_reuse_port(reuse_port)?;
    #[cfg(not(unix))]
    let _ = reuse_port;
    socket.bind(&addr.into())?;
    socket.listen(1024)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// One event loop, on the calling thread, serving what `listener` accepts.
fn run(listener: std::net::TcpListener, stats: bool) -> io::Result<()> {
    let mut server = Server {
        poll: Poll::new()?,
        listener: TcpListener::from_std(listener),
        slots: Vec::new(),
        generations: Vec::new(),
        free: Vec::new(),
        timers: BinaryHeap::new(),
        again: Vec::new(),
        origin: Instant::now(),
        open: 0,
    };
    server
        .poll
        .registry()
        .register(&mut server.listener, LISTENER, Interest::READABLE)?;
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; READ_BUFFER];
    let mut last_stats = Instant::now();
    let mut next_sweep = SWEEP_EVERY;
    loop {
        let timeout = server.poll_timeout(next_sweep);
        if let Err(e) = server.poll.poll(&mut events, Some(timeout)) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        for event in events.iter() {
            match event.token() {
                LISTENER => server.accept_all(),
                Token(slot) => {
                    let closed = event.is_read_closed() || event.is_error();
                    server.drive(slot, &mut buf, !closed);
                }
            }
        }
        for slot in std::mem::take(&mut server.again) {
            server.drive(slot, &mut buf, false);
        }
        server.fire_timers(&mut buf);
        if server.origin.elapsed() >= next_sweep {
            server.sweep();
            next_sweep = server.origin.elapsed() + SWEEP_EVERY;
        }
        if stats && last_stats.elapsed() >= Duration::from_secs(5) {
            last_stats = Instant::now();
            println!("open connections: {}", server.open);
        }
    }
}
