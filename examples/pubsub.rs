//! Publish/subscribe on one event loop: the URL path is the topic, and
//! every message a client sends goes to every subscriber of its topic, the
//! sender included, in the order the server received them.
//!
//! ```sh
//! cargo run --release --example pubsub -- 127.0.0.1:9005
//! # ws://127.0.0.1:9005/prices, ws://127.0.0.1:9005/chat/room-1, ...
//! ```
//!
//! `--close-timeout SECS` (default 5) bounds how long a closed subscriber
//! may take to read what is queued for it and answer the close.
//!
//! A published message is framed once ([`PreparedMessage`]) and queued by
//! reference on each subscriber (`send_prepared`); small ones are copied
//! into the subscriber's output, so that every publish a subscriber gets
//! while the loop handles one batch of input leaves in one write.
//!
//! Nothing is lost silently: a subscriber either gets every message of its
//! topic, in order, or, once more than [`MAX_BEHIND`] bytes wait for it
//! (a slow or stalled reader), it is closed with 1013 (try again later),
//! and its close timeout ends the transport if it never reads again. A
//! publisher is not read from while its own output is backed up.

use std::collections::HashMap;
use std::io::{self, IoSlice, Read, Write};
use std::time::{Duration, Instant};

use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

use wsproto::frame::Status;
use wsproto::handshake::{Accept, Response, ServerHandshake};
use wsproto::{CloseCode, Config, Connection, Event, PreparedMessage, State};

/// Bytes waiting for one subscriber past which it is closed with 1013.
const MAX_BEHIND: usize = 1 << 20;
/// How often timers (close timeouts) are looked at.
const TICK: Duration = Duration::from_millis(100);
const LISTENER: Token = Token(usize::MAX);

/// One client: its socket, then its connection and topic once upgraded.
struct Peer {
    stream: TcpStream,
    handshake: ServerHandshake,
    /// The HTTP response to write before anything the connection queues.
    head: Vec<u8>,
    conn: Option<Connection>,
    topic: String,
    /// Answered with a plain HTTP response: close once it is written.
    answered: bool,
}

impl Peer {
    /// Writes what is queued until it is all gone or the socket is full.
    fn write_out(&mut self) -> io::Result<()> {
        while !self.head.is_empty() {
            let n = self.stream.write(&self.head)?;
            self.head.drain(..n);
        }
        let Some(conn) = &mut self.conn else {
            return Ok(());
        };
        loop {
            let mut chunks: [&[u8]; 16] = [&[]; 16];
            let count = conn.transmit_chunks(&mut chunks);
            if count == 0 {
                return Ok(());
            }
            let slices: Vec<IoSlice<'_>> =
                chunks[..count].iter().map(|c| IoSlice::new(c)).collect();
            let n = self.stream.write_vectored(&slices)?;
            conn.advance_transmit(n);
        }
    }

    /// Whether the socket can be closed and the peer forgotten.
    fn is_done(&self) -> bool {
        match &self.conn {
            Some(conn) => conn.should_close_transport(),
            None => self.answered && self.head.is_empty(),
        }
    }
}

struct Server {
    poll: Poll,
    listener: TcpListener,
    peers: HashMap<usize, Peer>,
    next: usize,
    /// Subscribers of each topic, in the order they joined.
    topics: HashMap<String, Vec<usize>>,
    origin: Instant,
    /// Each subscriber's connection settings.
    config: Config,
}

impl Server {
    fn accept_all(&mut self) -> io::Result<()> {
        loop {
            let (mut stream, _) = match self.listener.accept() {
                Ok(accepted) => accepted,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                Err(e) => return Err(e),
            };
            stream.set_nodelay(true)?;
            let id = self.next;
            self.next += 1;
            self.poll.registry().register(
                &mut stream,
                Token(id),
                Interest::READABLE | Interest::WRITABLE,
            )?;
            let peer = Peer {
                stream,
                handshake: ServerHandshake::new(Default::default()),
                head: Vec::new(),
                conn: None,
                topic: String::new(),
                answered: false,
            };
            self.peers.insert(id, peer);
        }
    }

    /// Reads what `id` sent and acts on it: the handshake, then messages,
    /// each published to its topic.
    fn read(&mut self, id: usize, buf: &mut [u8]) {
        let mut published = Vec::new();
        let Some(peer) = self.peers.get_mut(&id) else {
            return;
        };
        loop {
            if peer.answered
                || peer
                    .conn
                    .as_ref()
                    .is_some_and(|c| c.pending_transmit() > MAX_BEHIND)
            {
                break; // backed up: read again once its output has drained
            }
            let n = match peer.stream.read(buf) {
                Ok(0) => {
                    if let Some(conn) = &mut peer.conn {
                        conn.handle_eof();
                    } else {
                        peer.answered = true;
                    }
                    break;
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    peer.answered = true;
                    peer.conn = None;
                    break;
                }
            };
            match &mut peer.conn {
                Some(conn) => conn.handle_input(&buf[..n]),
                None => match peer.handshake.handle_input(&buf[..n]) {
                    Ok(Status::Partial) => continue,
                    Ok(Status::Complete(request)) if request.is_upgrade() => {
                        peer.topic = request.path().to_string();
                        match request.accept(Accept::new().config(self.config.clone())) {
                            Ok(accepted) => {
                                peer.head = accepted.response.to_vec().unwrap_or_default();
                                peer.conn = Some(accepted.connection);
                                self.topics.entry(peer.topic.clone()).or_default().push(id);
                            }
                            Err(_) => answer(peer, &Response::new(500)),
                        }
                    }
                    Ok(Status::Complete(request)) => answer(
                        peer,
                        &request.reject(426, "a WebSocket pub/sub server: the path is the topic\n"),
                    ),
                    Err(error) => answer(peer, &error.to_response()),
                },
            }
            let Some(conn) = &mut peer.conn else { continue };
            loop {
                match conn.poll_event() {
                    Ok(Some(Event::Text(text))) => published.push(PreparedMessage::text(text)),
                    Ok(Some(Event::Binary(data))) => published.push(PreparedMessage::binary(data)),
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => break,
                }
            }
        }
        let topic = self
            .peers
            .get(&id)
            .map(|p| p.topic.clone())
            .unwrap_or_default();
        for message in &published {
            self.publish(&topic, message);
        }
        self.flush(id);
    }

    /// Queues `message` on every subscriber of `topic`, in order; one too
    /// far behind is closed with 1013 instead of growing without bound.
    fn publish(&mut self, topic: &str, message: &PreparedMessage) {
        let Some(subscribers) = self.topics.get(topic) else {
            return;
        };
        for id in subscribers {
            let Some(conn) = self.peers.get_mut(id).and_then(|p| p.conn.as_mut()) else {
                continue;
            };
            if conn.state() != State::Open {
                continue;
            }
            if conn.pending_transmit() > MAX_BEHIND {
                let _ = conn.close(CloseCode::TRY_AGAIN_LATER, "too far behind");
            } else {
                let _ = conn.send_prepared(message);
            }
        }
        // One write per subscriber for all it got from this batch.
        for id in subscribers.clone() {
            self.flush(id);
        }
    }

    /// Writes what `id` has queued; forgets it once it is done.
    fn flush(&mut self, id: usize) {
        let Some(peer) = self.peers.get_mut(&id) else {
            return;
        };
        let failed = match peer.write_out() {
            Ok(()) => false,
            Err(e) => e.kind() != io::ErrorKind::WouldBlock,
        };
        if failed || peer.is_done() {
            self.remove(id);
        }
    }

    fn remove(&mut self, id: usize) {
        if let Some(mut peer) = self.peers.remove(&id) {
            let _ = self.poll.registry().deregister(&mut peer.stream);
            if let Some(subscribers) = self.topics.get_mut(&peer.topic) {
                subscribers.retain(|&s| s != id);
                if subscribers.is_empty() {
                    self.topics.remove(&peer.topic);
                }
            }
        }
    }

    /// Fires the connections' timers that are due (close timeouts).
    fn tick(&mut self) {
        let now = self.origin.elapsed();
        let ids: Vec<usize> = self.peers.keys().copied().collect();
        for id in ids {
            if let Some(conn) = self.peers.get_mut(&id).and_then(|p| p.conn.as_mut()) {
                if conn.poll_timeout(now).is_some_and(|at| at <= now) {
                    conn.handle_timeout(now);
                }
            }
            self.flush(id);
        }
    }
}

/// Answers a plain HTTP request; the socket closes once it is written.
fn answer(peer: &mut Peer, response: &Response) {
    peer.head = response.to_vec().unwrap_or_default();
    peer.answered = true;
}

fn config(close_timeout: Duration) -> Config {
    Config::default()
        .max_message_size(1 << 20)
        .max_frame_payload(1 << 20)
        .close_timeout(close_timeout)
}

fn main() -> io::Result<()> {
    let invalid = |e: String| io::Error::new(io::ErrorKind::InvalidInput, e);
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9005".into());
    let addr = addr.parse().map_err(|e| invalid(format!("{e}")))?;
    let close_timeout = match (args.next().as_deref(), args.next()) {
        (None, _) => Duration::from_secs(5),
        (Some("--close-timeout"), Some(secs)) => {
            Duration::from_secs(secs.parse().map_err(|e| invalid(format!("{e}")))?)
        }
        _ => return Err(invalid("usage: pubsub ADDR [--close-timeout SECS]".into())),
    };
    let mut server = Server {
        poll: Poll::new()?,
        listener: TcpListener::bind(addr)?,
        peers: HashMap::new(),
        next: 0,
        topics: HashMap::new(),
        origin: Instant::now(),
        config: config(close_timeout),
    };
    server
        .poll
        .registry()
        .register(&mut server.listener, LISTENER, Interest::READABLE)?;
    println!("pubsub listening on ws://{}", server.listener.local_addr()?);
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 64 << 10];
    let mut next_tick = TICK;
    loop {
        let wait = next_tick.saturating_sub(server.origin.elapsed());
        server.poll.poll(&mut events, Some(wait))?;
        for event in events.iter() {
            match event.token() {
                LISTENER => server.accept_all()?,
                Token(id) => {
                    if event.is_writable() {
                        server.flush(id);
                    }
                    // Readable, or writable again: a publisher that was
                    // backed up is read from once its output drains.
                    server.read(id, &mut buf);
                }
            }
        }
        if server.origin.elapsed() >= next_tick {
            server.tick();
            next_tick = server.origin.elapsed() + TICK;
        }
    }
}
