//! A chat room for browsers: one port serves the page at `/` and the
//! WebSocket endpoint at `/ws`, as RFC 6455 §1.7 intends (HTTP and
//! WebSocket sharing a port).
//!
//! ```sh
//! cargo run --release --example chat                      # http://127.0.0.1:8080/
//! cargo run --release --example chat -- 127.0.0.1:9000    # another address
//! cargo run --release --features deflate --example chat   # with permessage-deflate
//! # several processes sharing the room through Redis pub/sub:
//! cargo run --release --example chat -- 127.0.0.1:9001 --redis redis://127.0.0.1:6379
//! cargo run --release --example chat -- 127.0.0.1:9002 --redis redis://127.0.0.1:6379
//! ```
//!
//! Every message a browser sends is broadcast to every connected browser,
//! as a small JSON object; joins and leaves are announced.
//!
//! The sockets and threads are this program's; the protocol is the
//! library's. Each connection has a thread and a bounded queue of messages
//! to send. A broadcast never waits: when a client's queue is full, the
//! client has fallen too far behind and is closed with 1013 (try again
//! later), so a slow or dead browser cannot stall the others. A thread also
//! stops reading from its socket while its own output is backed up.
//!
//! With `--redis`, the room spans every process started with the same
//! Redis: what a browser sends is published on one channel, and each
//! process delivers what the channel carries to its own browsers. Redis
//! orders the channel, so every browser, whichever process it is connected
//! to, sees the same messages in the same order. Behind a load balancer,
//! N such processes serve one room (see the README).

#[path = "chat/redis.rs"]
mod redis;
mod support;

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wsproto::handshake::{Request, Response};
use wsproto::{CloseCode, Config, Connection, Event, State, Utf8Bytes};

/// The page, plain HTML and JavaScript, served at `/`.
const PAGE: &str = include_str!("chat/index.html");

/// Messages waiting for one client before it counts as too far behind.
const QUEUE_MESSAGES: usize = 64;
/// Output bytes queued in one connection past which its thread takes no
/// more broadcasts and reads nothing until the socket drains.
const OUTPUT_BOUND: usize = 8 << 20;
/// The largest message a browser may send (4 MiB).
const MAX_MESSAGE: u64 = 4 << 20;
/// How long a thread blocks on its socket before it looks at its queue.
const TICK: Duration = Duration::from_millis(10);
/// Connections beyond this are refused with 503.
const MAX_CLIENTS: usize = 1000;

/// The connection limits: 4 MiB messages, a ping after 30 s of silence.
fn config() -> Config {
    Config::default()
        .max_frame_payload(MAX_MESSAGE)
        .max_message_size(MAX_MESSAGE)
        .keepalive_interval(Some(Duration::from_secs(30)))
}

/// One connected browser, as the others see it.
struct Client {
    name: String,
    queue: SyncSender<Utf8Bytes>,
    /// Set when the queue overflowed: the client's thread closes with 1013.
    kicked: Arc<AtomicBool>,
}

/// The Redis channel the processes of one room share.
const CHANNEL: &str = "wsproto-chat";

/// The room: every client's queue, behind one lock held only for
/// non-blocking work.
#[derive(Default)]
struct Hub {
    next_id: AtomicU64,
    clients: Mutex<HashMap<u64, Client>>,
    /// With `--redis`: where room-wide messages go, to come back through
    /// the subscription (to this process and the others).
    relay: Option<redis::Publisher>,
    /// What tells this process's guests apart from the others' (its port).
    node: String,
}

/// What a connection's thread keeps of its registration.
struct Member {
    id: u64,
    name: String,
    queue: Receiver<Utf8Bytes>,
    kicked: Arc<AtomicBool>,
}

impl Hub {
    /// Registers a client, greets it with its name and announces it to the
    /// room (itself included). `None` when the room is full.
    fn join(&self) -> Option<Member> {
        let mut clients = self.clients.lock().unwrap();
        if clients.len() >= MAX_CLIENTS {
            return None;
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let name = format!("guest-{id}{}", self.node);
        let (tx, rx) = sync_channel(QUEUE_MESSAGES);
        let kicked = Arc::new(AtomicBool::new(false));
        let hello = format!(
            r#"{{"type":"hello","name":{},"online":{}}}"#,
            json_string(&name),
            clients.len() + 1
        );
        let _ = tx.try_send(hello.into());
        clients.insert(
            id,
            Client {
                name: name.clone(),
                queue: tx,
                kicked: kicked.clone(),
            },
        );
        drop(clients);
        let join = format!(r#"{{"type":"join","name":{}}}"#, json_string(&name));
        self.broadcast(join.into());
        Some(Member {
            id,
            name,
            queue: rx,
            kicked,
        })
    }

    /// Unregisters a client and announces its leaving to the others.
    fn leave(&self, member: &Member) {
        self.clients.lock().unwrap().remove(&member.id);
        let leave = format!(r#"{{"type":"leave","name":{}}}"#, json_string(&member.name));
        self.broadcast(leave.into());
    }

    /// Sends `message` to the whole room: through Redis when the room spans
    /// processes, else straight to this process's clients.
    fn broadcast(&self, message: Utf8Bytes) {
        match &self.relay {
            Some(relay) => {
                if let Err(e) = relay.publish(CHANNEL, message.as_bytes()) {
                    eprintln!("redis: publish failed: {e}");
                }
            }
            None => self.deliver(message),
        }
    }

    /// Queues `message` for every client of this process, without waiting.
    fn deliver(&self, message: Utf8Bytes) {
        Self::send_all(&mut self.clients.lock().unwrap(), message);
    }

    /// A client whose queue is full is dropped from the room and told to
    /// close: it cannot hold up the others.
    fn send_all(clients: &mut HashMap<u64, Client>, message: Utf8Bytes) {
        clients.retain(|_, client| match client.queue.try_send(message.clone()) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                eprintln!("{} fell too far behind: closing with 1013", client.name);
                client.kicked.store(true, Ordering::Relaxed);
                false
            }
            Err(TrySendError::Disconnected(_)) => false,
        });
    }
}

/// `text` as a JSON string literal, quotes included (RFC 8259 §7).
fn json_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c < ' ' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Answers one TCP connection: the page, a 404, or the chat.
fn serve(mut stream: TcpStream, hub: &Hub) -> io::Result<()> {
    stream.set_nodelay(true)?;
    let peer = stream.peer_addr()?;
    let request = support::read_request(&mut stream)?;
    let path = request.path();
    if !request.is_upgrade() {
        let response = match (request.method(), path) {
            ("GET", "/") => Response::new(200)
                .with_header("Content-Type", "text/html; charset=utf-8")
                .with_header("Cache-Control", "no-cache")
                .with_header("Connection", "close")
                .with_body(PAGE),
            _ => request.reject(404, "not found\n"),
        };
        return respond(stream, &response);
    }
    if path != "/ws" {
        return respond(stream, &request.reject(404, "not found\n"));
    }
    if !same_origin(&request) {
        return respond(stream, &request.forbid());
    }
    let Some(member) = hub.join() else {
        return respond(stream, &request.reject(503, "the room is full\n"));
    };
    let result = support::accept(&mut stream, request, config()).and_then(|mut conn| {
        let compression = if conn.is_deflate_enabled() {
            "permessage-deflate negotiated"
        } else {
            "no compression"
        };
        eprintln!("{} joined from {peer} ({compression})", member.name);
        let result = session(&mut stream, &mut conn, hub, &member);
        if member.kicked.load(Ordering::Relaxed) {
            eprintln!("{} dropped: too far behind", member.name);
        } else {
            let code = conn.close_status().map_or(1006, |status| status.code.0);
            eprintln!("{} left (code {code})", member.name);
        }
        result
    });
    hub.leave(&member);
    result
}

/// §10.2: a browser names the page's origin; refuse pages served by other
/// sites, so that they cannot talk to the room with a visitor's browser.
fn same_origin(request: &Request) -> bool {
    let Some(origin) = request.origin() else {
        return true; // not a browser
    };
    let origin_host = origin.split_once("://").map_or(origin, |(_, host)| host);
    request
        .host()
        .is_some_and(|host| host.eq_ignore_ascii_case(origin_host))
}

/// Writes a plain HTTP response and closes the connection.
fn respond(mut stream: TcpStream, response: &Response) -> io::Result<()> {
    let mut out = Vec::new();
    response
        .write_to_vec(&mut out)
        .expect("a head this program built is valid");
    stream.write_all(&out)?;
    // Half-close, then read until the client closes: closing with unread
    // input would reset the connection and could cut the response short.
    stream.shutdown(Shutdown::Write)?;
    stream.set_read_timeout(Some(Duration::from_secs(1)))?;
    let mut sink = [0u8; 1024];
    while matches!(stream.read(&mut sink), Ok(n) if n > 0) {}
    Ok(())
}

/// The run loop of one browser's connection: the library's six steps, with
/// the room's queue as the application's input.
fn session(
    stream: &mut TcpStream,
    conn: &mut Connection,
    hub: &Hub,
    member: &Member,
) -> io::Result<()> {
    let start = Instant::now();
    let mut buf = vec![0u8; 64 << 10];
    stream.set_read_timeout(Some(TICK))?;
    stream.set_write_timeout(Some(TICK))?;
    loop {
        // 1-2. What the browser sent: every text message goes to the room.
        loop {
            match conn.poll_event() {
                Ok(Some(Event::Text(text))) => hub.broadcast(
                    format!(
                        r#"{{"type":"message","name":{},"text":{}}}"#,
                        json_string(&member.name),
                        json_string(text.as_str())
                    )
                    .into(),
                ),
                Ok(Some(Event::Binary(_))) => {
                    let _ = conn.close(CloseCode::UNSUPPORTED_DATA, "text messages only");
                }
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(error) => {
                    eprintln!("{}: protocol error: {error}", member.name);
                    break;
                }
            }
            // Between events too, so that a burst from this browser does
            // not overflow its own queue with the echoes.
            take_from_room(conn, member);
        }
        // 3. What the room sent, on every turn.
        take_from_room(conn, member);
        // 4. Write what we can within a tick.
        flush(stream, conn)?;
        // 6. Done: the output is written, or the connection's close timeout
        //    gave up on a browser that stopped reading it.
        if conn.should_close_transport() {
            break;
        }
        // 5. Timers: the close handshake's and the keepalive ping's.
        if conn
            .poll_timeout(start.elapsed())
            .is_some_and(|at| at <= start.elapsed())
        {
            conn.handle_timeout(start.elapsed());
            continue;
        }
        // 1. Read, unless our output is backed up: then the browser waits.
        if conn.pending_transmit() >= OUTPUT_BOUND {
            continue;
        }
        match stream.read(&mut buf) {
            Ok(0) => conn.handle_eof(),
            Ok(n) => conn.handle_input(&buf[..n]),
            Err(e) if is_timeout(&e) => {}
            Err(e) if e.kind() == io::ErrorKind::ConnectionReset => conn.handle_eof(),
            Err(e) => return Err(e),
        }
    }
    let _ = stream.shutdown(Shutdown::Both);
    Ok(())
}

/// Moves queued broadcasts into the connection while its output is short;
/// closes with 1013 if the room gave up on this client.
fn take_from_room(conn: &mut Connection, member: &Member) {
    if member.kicked.load(Ordering::Relaxed) && conn.state() == State::Open {
        let _ = conn.close(CloseCode::TRY_AGAIN_LATER, "too far behind");
    }
    while conn.state() == State::Open && conn.pending_transmit() < OUTPUT_BOUND {
        match member.queue.try_recv() {
            Ok(message) => {
                let _ = conn.send_text(message);
            }
            Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
        }
    }
}

/// Writes queued output until it is drained or the socket is full for a
/// whole tick (the write timeout).
fn flush(stream: &mut TcpStream, conn: &mut Connection) -> io::Result<()> {
    while let Some(bytes) = conn.poll_transmit() {
        match stream.write(bytes) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => conn.advance_transmit(n),
            Err(e) if is_timeout(&e) => break,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let mut addr = "127.0.0.1:8080".to_string();
    let mut redis_url = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--redis" => redis_url = args.next(),
            _ => addr = arg,
        }
    }
    let listener = TcpListener::bind(&addr)?;
    let compression = if cfg!(feature = "deflate") {
        "permessage-deflate offered to browsers"
    } else {
        "no compression; build with --features deflate for permessage-deflate"
    };
    let local = listener.local_addr()?;
    let mut hub = Hub::default();
    if let Some(url) = &redis_url {
        let redis_addr = redis::address(url)?;
        hub.relay = Some(redis::Publisher::connect(&redis_addr)?);
        hub.node = format!("@{}", local.port());
        let subscriber = redis::Subscriber::connect(&redis_addr, CHANNEL)?;
        let hub = Arc::new(hub);
        let delivering = hub.clone();
        std::thread::spawn(move || {
            let result = subscriber.run(|message| match String::from_utf8(message) {
                Ok(text) => delivering.deliver(text.into()),
                Err(_) => eprintln!("redis: a message that is not UTF-8, dropped"),
            });
            // Without it the room would silently split: stop instead.
            eprintln!("redis: subscription ended: {result:?}");
            std::process::exit(1);
        });
        println!(
            "chat: open http://{local}/ in a browser ({compression}; room shared through {url})"
        );
        return serve_forever(listener, hub);
    }
    println!("chat: open http://{local}/ in a browser ({compression})");
    serve_forever(listener, Arc::new(hub))
}

/// A thread per connection, sharing the room.
fn serve_forever(listener: TcpListener, hub: Arc<Hub>) -> io::Result<()> {
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        let hub = hub.clone();
        std::thread::spawn(move || {
            if let Err(e) = serve(stream, &hub) {
                if e.kind() != io::ErrorKind::UnexpectedEof {
                    eprintln!("connection ended: {e}");
                }
            }
        });
    }
    Ok(())
}
