//! A load generator for WebSocket echo servers, over 127.0.0.1: wsproto
//! client connections on one `mio` thread, closed loop (each connection
//! keeps a window of messages in flight, one by default: it sends, checks
//! each echo in order, records its latency, and sends the next).
//!
//! ```sh
//! cargo build --release -p wsproto-tools --bin load   # target/release/load
//! # messages/s and p50/p99 latency, 1 KiB binary messages, 100 connections
//! load echo 127.0.0.1:9004 --conns 100 --server-pid PID
//! # the same with 16 messages in flight per connection (pipelined)
//! load echo 127.0.0.1:9004 --conns 100 --in-flight 16 --server-pid PID
//! # server RSS per idle connection (handshake done, then quiet)
//! load idle 127.0.0.1:9004 --conns 1000 --server-pid PID
//! # the echo load with 10% misbehaving clients: fails (exit 1) if a good
//! # client sees an error or loses a message
//! load misbehave 127.0.0.1:9004 --conns 1000 --server-pid PID
//! ```
//!
//! Options: `--conns N` (default 100), `--in-flight N` (1: messages sent
//! ahead of their echoes per connection), `--size BYTES` (1024), `--warmup S`
//! (1), `--duration S` (5), `--server-pid PID` (reads the server's
//! `/proc/PID/status` for RSS and `/proc/PID/stat` for CPU time),
//! `--bad-percent P` (10, misbehave only), `--label NAME` (echoed in the
//! result line). The last line printed is `RESULT key=value ...`, for
//! scripts (`benches/load.sh`).
//!
//! Misbehaving clients (blocking threads, in equal shares, each repeating
//! its act until the run ends): a frame cut off mid-header or mid-payload
//! by an abrupt disconnect; an opening handshake sent one byte a second; a
//! frame header announcing a 1 TiB payload; a text message that is not
//! UTF-8. The well-behaved clients must see every echo, intact, and no
//! error; the server's RSS is read before the run and 2 s after every
//! client has gone.
//!
//! Linux only (it reads `/proc`); raise `ulimit -n` above the connection
//! count.

use std::collections::VecDeque;
use std::io::{self, IoSlice, Read, Write};
use std::net::{SocketAddr, TcpStream as StdStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};

use wsproto::frame::Status;
use wsproto::handshake::{ClientConfig, ClientHandshake, WsUrl};
use wsproto::{Connection, Event, MessageKind};

const MAX_SLICES: usize = 16;

#[derive(Clone, Debug)]
struct Options {
    mode: String,
    addr: SocketAddr,
    conns: usize,
    /// Messages in flight per connection: the pipelining window.
    in_flight: usize,
    size: usize,
    warmup: Duration,
    duration: Duration,
    server_pid: Option<u32>,
    bad_percent: usize,
    label: String,
}

fn usage(problem: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{problem}\nusage: load echo|idle|misbehave ADDR [--conns N] [--in-flight N] [--size BYTES] \
             [--warmup S] [--duration S] [--server-pid PID] [--bad-percent P] [--label NAME]"
        ),
    )
}

fn parse_options() -> io::Result<Options> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().ok_or_else(|| usage("no mode"))?;
    if !["echo", "idle", "misbehave"].contains(&mode.as_str()) {
        return Err(usage(&format!("unknown mode {mode}")));
    }
    let addr: SocketAddr = args
        .next()
        .ok_or_else(|| usage("no address"))?
        .parse()
        .map_err(|e| usage(&format!("address: {e}")))?;
    if !addr.ip().is_loopback() {
        return Err(usage("the address must be a loopback address"));
    }
    let mut options = Options {
        mode,
        addr,
        conns: 100,
        in_flight: 1,
        size: 1024,
        warmup: Duration::from_secs(1),
        duration: Duration::from_secs(5),
        server_pid: None,
        bad_percent: 10,
        label: String::new(),
    };
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| usage(&format!("{flag} needs a value")))?;
        let number = || -> io::Result<f64> {
            value
                .parse::<f64>()
                .map_err(|e| usage(&format!("{flag}: {e}")))
        };
        match flag.as_str() {
            "--conns" => options.conns = number()? as usize,
            "--in-flight" => options.in_flight = number()? as usize,
            "--size" => options.size = (number()? as usize).max(8),
            "--warmup" => options.warmup = Duration::from_secs_f64(number()?),
            "--duration" => options.duration = Duration::from_secs_f64(number()?),
            "--server-pid" => options.server_pid = Some(number()? as u32),
            "--bad-percent" => options.bad_percent = (number()? as usize).min(100),
            "--label" => options.label = value,
            _ => return Err(usage(&format!("unknown option {flag}"))),
        }
    }
    // Bounded: at most 10,000 connections and 60 s.
    if options.conns == 0 || options.conns > 10_000 {
        return Err(usage("--conns must be 1..=10000"));
    }
    if options.in_flight == 0 || options.in_flight > 1024 {
        return Err(usage("--in-flight must be 1..=1024"));
    }
    if options.warmup + options.duration > Duration::from_secs(60) {
        return Err(usage("--warmup plus --duration must be at most 60 s"));
    }
    Ok(options)
}

// ----- /proc --------------------------------------------------------------

/// `(VmRSS, VmHWM)` of a process, in KiB.
fn memory_kib(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        line.split_whitespace().nth(1)?.parse().ok()
    };
    Some((field("VmRSS:")?, field("VmHWM:")?))
}

/// User and system CPU time of a process (all its threads), in clock
/// ticks of 10 ms (`CLK_TCK` is 100 on Linux).
fn cpu_ticks(pid: &str) -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces), from field 3.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some((utime, stime))
}

const TICK: Duration = Duration::from_millis(10);

// ----- connecting ----------------------------------------------------------

/// A blocking connection and handshake; the socket keeps 5 s timeouts.
fn connect(addr: SocketAddr) -> io::Result<(StdStream, Connection)> {
    let mut stream = StdStream::connect_timeout(&addr, Duration::from_secs(5))?;
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let url = WsUrl::parse(&format!("ws://{addr}/")).map_err(other)?;
    let mut handshake = ClientHandshake::new_random(&url, ClientConfig::new()).map_err(other)?;
    let mut request = Vec::new();
    handshake
        .write_request_to_vec(&mut request)
        .expect("a head this program built is valid");
    stream.write_all(&request)?;
    let mut buf = [0u8; 4096];
    let accepted = loop {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        if let Status::Complete(accepted) = handshake.handle_input(&buf[..n]).map_err(other)? {
            break accepted;
        }
    };
    Ok((stream, accepted.connection))
}

fn other(e: impl std::fmt::Display) -> io::Error {
    io::Error::other(e.to_string())
}

// ----- the closed loop -------------------------------------------------------

/// A well-behaved client connection and its window of messages in flight.
struct Peer {
    stream: TcpStream,
    conn: Connection,
    /// Sequence number of the next message to send (in its first 8 bytes).
    next_seq: u64,
    /// When each message in flight was sent, oldest first. Echoes come back
    /// in the order sent (a WebSocket is one ordered stream), so the front
    /// is the one the next echo must match.
    sent_at: VecDeque<Instant>,
    failed: bool,
}

impl Peer {
    fn in_flight(&self) -> usize {
        self.sent_at.len()
    }

    /// The sequence number the next echo must carry.
    fn expected_seq(&self) -> u64 {
        self.next_seq - self.sent_at.len() as u64
    }

    fn fail(&mut self, outcome: &mut Outcome, what: String) {
        self.failed = true;
        outcome.error(what);
    }
}

/// What the well-behaved clients saw.
#[derive(Default)]
struct Outcome {
    /// Latencies (ns) of the echoes received inside the measured window.
    latencies: Vec<u32>,
    /// Every echo received, warm-up and drain included.
    echoes: u64,
    errors: u64,
    /// Messages never echoed (in flight when the drain period ended).
    lost: u64,
    first_error: Option<String>,
    /// (server, own) CPU ticks and the time, at the window's start and end.
    cpu: Option<[CpuSample; 2]>,
}

type CpuSample = (Option<(u64, u64)>, Option<(u64, u64)>, Instant);

fn cpu_sample(server_pid: Option<&str>) -> CpuSample {
    let own = std::process::id().to_string();
    (
        server_pid.and_then(cpu_ticks),
        cpu_ticks(&own),
        Instant::now(),
    )
}

impl Outcome {
    fn error(&mut self, what: String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some(what);
        }
    }
}

/// Fills `payload` for message `seq`: the number, then a fixed pattern.
fn stamp(payload: &mut [u8], seq: u64) {
    payload[..8].copy_from_slice(&seq.to_le_bytes());
}

fn pattern(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 7 + 1) as u8).collect()
}

struct Window {
    warm_end: Instant,
    end: Instant,
    /// When to give up on echoes still in flight after `end`.
    drain_end: Instant,
}

/// What every connection's turn needs: the run's plan, the message buffer
/// and what was seen so far.
struct Run<'a> {
    window: &'a Window,
    /// Messages kept in flight per connection.
    depth: usize,
    /// The message, stamped with each sequence number in turn.
    payload: Vec<u8>,
    outcome: Outcome,
}

/// Runs the closed loop over `peers` until `window.end`, then waits for
/// the echoes in flight until `window.drain_end`.
///
/// CPU time is sampled at the window's edges from this loop itself (a
/// helper thread would not be scheduled in time on a saturated core).
fn closed_loop(
    peers: &mut [Peer],
    options: &Options,
    window: &Window,
    server_pid: Option<&str>,
) -> io::Result<Outcome> {
    let mut poll = Poll::new()?;
    for (i, peer) in peers.iter_mut().enumerate() {
        poll.registry().register(
            &mut peer.stream,
            Token(i),
            Interest::READABLE | Interest::WRITABLE,
        )?;
    }
    let mut run = Run {
        window,
        depth: options.in_flight,
        payload: pattern(options.size),
        outcome: Outcome {
            latencies: Vec::with_capacity(1 << 20),
            ..Outcome::default()
        },
    };
    for peer in peers.iter_mut() {
        fill_window(peer, &mut run);
    }
    let mut in_flight: usize = peers.iter().map(Peer::in_flight).sum();
    let mut events = Events::with_capacity(1024);
    let mut buf = vec![0u8; 64 << 10];
    let mut first_sample = None;
    loop {
        let now = Instant::now();
        if first_sample.is_none() && now >= window.warm_end {
            first_sample = Some(cpu_sample(server_pid));
        }
        if let (Some(first), None, true) = (first_sample, run.outcome.cpu, now >= window.end) {
            run.outcome.cpu = Some([first, cpu_sample(server_pid)]);
        }
        if (now >= window.end && in_flight == 0) || now >= window.drain_end {
            break;
        }
        let until = if now < window.warm_end {
            window.warm_end - now
        } else if now < window.end {
            window.end - now
        } else {
            window.drain_end - now
        };
        poll.poll(&mut events, Some(until.min(Duration::from_millis(100))))?;
        for event in events.iter() {
            let peer = &mut peers[event.token().0];
            if peer.failed {
                continue;
            }
            let before = peer.in_flight();
            let closed = event.is_read_closed() || event.is_error();
            drive_peer(peer, &mut buf, !closed, &mut run);
            in_flight = in_flight + peer.in_flight() - before;
        }
    }
    run.outcome.lost = peers.iter().map(|p| p.in_flight() as u64).sum();
    Ok(run.outcome)
}

/// Queues messages until the window is full, then writes them all: the
/// first window leaves in one write, as a pipelining client sends it.
fn fill_window(peer: &mut Peer, run: &mut Run<'_>) {
    while peer.in_flight() < run.depth {
        if !queue_next(peer, run) {
            return;
        }
    }
    if let Err(e) = flush(peer) {
        peer.fail(&mut run.outcome, format!("write: {e}"));
    }
}

/// Queues the next message (written by the next `flush`); false if the
/// connection refused it.
fn queue_next(peer: &mut Peer, run: &mut Run<'_>) -> bool {
    stamp(&mut run.payload, peer.next_seq);
    if let Err(e) = peer.conn.send_binary(&run.payload[..]) {
        peer.fail(&mut run.outcome, format!("send: {e}"));
        return false;
    }
    peer.next_seq += 1;
    peer.sent_at.push_back(Instant::now());
    true
}

/// Writes the peer's output until done or the socket would block.
fn flush(peer: &mut Peer) -> io::Result<()> {
    while peer.conn.pending_transmit() > 0 {
        let mut chunks = [&[][..]; MAX_SLICES];
        let filled = peer.conn.transmit_chunks(&mut chunks);
        let mut slices = [IoSlice::new(&[]); MAX_SLICES];
        for (slice, chunk) in slices.iter_mut().zip(&chunks[..filled]) {
            *slice = IoSlice::new(chunk);
        }
        match peer.stream.write_vectored(&slices[..filled]) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => peer.conn.advance_transmit(n),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// One turn of a connection that the poll reported ready: write what is
/// queued, then read until the socket is drained, checking each echo
/// against the oldest message in flight and queueing a message in its
/// place, written once per read.
fn drive_peer(peer: &mut Peer, buf: &mut [u8], drained_on_short_read: bool, run: &mut Run<'_>) {
    if let Err(e) = flush(peer) {
        return peer.fail(&mut run.outcome, format!("write: {e}"));
    }
    loop {
        let n = match peer.stream.read(buf) {
            Ok(0) => {
                return peer.fail(&mut run.outcome, "the server closed the connection".into());
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return peer.fail(&mut run.outcome, format!("read: {e}")),
        };
        peer.conn.handle_input(&buf[..n]);
        loop {
            match peer.conn.poll_event() {
                Ok(Some(Event::Binary(data))) => {
                    let received = Instant::now();
                    let seq = peer.expected_seq();
                    stamp(&mut run.payload, seq);
                    let Some(sent_at) = peer.sent_at.pop_front().filter(|_| *data == *run.payload)
                    else {
                        return peer.fail(
                            &mut run.outcome,
                            format!("echo {seq} of {} bytes does not match", data.len()),
                        );
                    };
                    run.outcome.echoes += 1;
                    if received >= run.window.warm_end && received <= run.window.end {
                        let ns = (received - sent_at).as_nanos();
                        run.outcome.latencies.push(ns.min(u32::MAX as u128) as u32);
                    }
                    if received < run.window.end && !queue_next(peer, run) {
                        return;
                    }
                }
                Ok(Some(Event::Ping(_) | Event::Pong(_))) => {}
                Ok(Some(other)) => {
                    return peer.fail(&mut run.outcome, format!("unexpected {other:?}"));
                }
                Ok(None) => break,
                Err(e) => return peer.fail(&mut run.outcome, format!("protocol error: {e}")),
            }
        }
        if let Err(e) = flush(peer) {
            return peer.fail(&mut run.outcome, format!("write: {e}"));
        }
        if n < buf.len() && drained_on_short_read {
            return;
        }
    }
}

fn open_peers(addr: SocketAddr, count: usize) -> io::Result<Vec<Peer>> {
    let mut peers = Vec::with_capacity(count);
    for i in 0..count {
        let (stream, conn) =
            connect(addr).map_err(|e| other(format!("connection {i} of {count}: {e}")))?;
        stream.set_nonblocking(true)?;
        peers.push(Peer {
            stream: TcpStream::from_std(stream),
            conn,
            next_seq: 0,
            sent_at: VecDeque::new(),
            failed: false,
        });
    }
    Ok(peers)
}

fn percentile(sorted: &[u32], p: usize) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[(sorted.len() * p / 100).min(sorted.len() - 1)] as f64 / 1000.0
}

/// Runs the closed loop on `good` connections and reports what it measured.
fn measure(options: &Options, peers: &mut [Peer]) -> io::Result<(Outcome, Vec<(String, String)>)> {
    let start = Instant::now();
    let window = Window {
        warm_end: start + options.warmup,
        end: start + options.warmup + options.duration,
        drain_end: start + options.warmup + options.duration + Duration::from_secs(5),
    };
    let pid = options.server_pid.map(|p| p.to_string());
    let mut outcome = closed_loop(peers, options, &window, pid.as_deref())?;
    let [(server0, own0, t0), (server1, own1, t1)] = outcome.cpu.expect("window ended");
    let seconds = options.duration.as_secs_f64();
    let messages = outcome.latencies.len() as f64;
    outcome.latencies.sort_unstable();
    let mut fields = vec![
        ("msgs_per_s".into(), format!("{:.0}", messages / seconds)),
        (
            "p50_us".into(),
            format!("{:.0}", percentile(&outcome.latencies, 50)),
        ),
        (
            "p99_us".into(),
            format!("{:.0}", percentile(&outcome.latencies, 99)),
        ),
    ];
    let wall = (t1 - t0).as_secs_f64();
    let ticks = |(user, system): (u64, u64)| (user as u32 * TICK, system as u32 * TICK);
    if let (Some(a), Some(b)) = (server0, server1) {
        let (user, system) = ticks((b.0 - a.0, b.1 - a.1));
        let cpu = (user + system).as_secs_f64();
        let per_msg = |d: Duration| format!("{:.0}", d.as_secs_f64() * 1e9 / messages.max(1.0));
        fields.push((
            "server_cpu_pct".into(),
            format!("{:.0}", 100.0 * cpu / wall),
        ));
        fields.push(("server_ns_per_msg".into(), per_msg(user + system)));
        fields.push(("server_user_ns_per_msg".into(), per_msg(user)));
        fields.push(("server_sys_ns_per_msg".into(), per_msg(system)));
    }
    if let (Some(a), Some(b)) = (own0, own1) {
        let (user, system) = ticks((b.0 - a.0, b.1 - a.1));
        let cpu = (user + system).as_secs_f64();
        fields.push(("gen_cpu_pct".into(), format!("{:.0}", 100.0 * cpu / wall)));
    }
    Ok((outcome, fields))
}

// ----- misbehaving clients ---------------------------------------------------

/// A client frame with a payload length claim of `claimed` bytes and the
/// first bytes of `payload`, masked.
fn raw_frame(first_byte: u8, claimed: u64, payload: &[u8]) -> Vec<u8> {
    let mut frame = vec![first_byte];
    match claimed {
        0..=125 => frame.push(0x80 | claimed as u8),
        126..=0xffff => {
            frame.push(0x80 | 126);
            frame.extend_from_slice(&(claimed as u16).to_be_bytes());
        }
        _ => {
            frame.push(0x80 | 127);
            frame.extend_from_slice(&claimed.to_be_bytes());
        }
    }
    let key = [0x37, 0xfa, 0x21, 0x3d];
    frame.extend_from_slice(&key);
    frame.extend(payload.iter().enumerate().map(|(i, b)| b ^ key[i % 4]));
    frame
}

/// Reads until the server closes (or 5 s pass).
fn read_to_end(stream: &mut StdStream) {
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
    }
}

/// One act of misbehaviour of kind `kind`; `round` varies its details.
fn misbehave_once(kind: usize, addr: SocketAddr, round: u64, stop: &AtomicBool) -> io::Result<()> {
    match kind {
        // A frame cut off by an abrupt disconnect: mid-header or mid-payload.
        0 => {
            let (mut stream, _) = connect(addr)?;
            let frame = raw_frame(0x82, 1024, &[0x55; 1024]);
            let cut = if round % 2 == 0 { 3 } else { 400 };
            stream.write_all(&frame[..cut])?;
            std::thread::sleep(Duration::from_millis(5));
            drop(stream);
        }
        // An opening handshake a byte a second.
        1 => {
            let mut stream = StdStream::connect(addr)?;
            let url = WsUrl::parse(&format!("ws://{addr}/")).map_err(other)?;
            let handshake =
                ClientHandshake::new_random(&url, ClientConfig::new()).map_err(other)?;
            let mut request = Vec::new();
            handshake
                .write_request_to_vec(&mut request)
                .expect("a head this program built is valid");
            for byte in request {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                stream.write_all(&[byte])?;
                for _ in 0..10 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
        // A frame announcing a 1 TiB payload (every server's limit is far
        // below), with the first 64 KiB of it.
        2 => {
            let (mut stream, _) = connect(addr)?;
            stream.write_all(&raw_frame(0x82, 1 << 40, &[0xaa; 64 << 10]))?;
            read_to_end(&mut stream);
        }
        // A text message that is not UTF-8 (a surrogate, then 0xff).
        _ => {
            let (mut stream, mut conn) = connect(addr)?;
            let invalid = b"caf\xed\xa0\x80 \xff";
            conn.send_fragment(MessageKind::Text, invalid, true)
                .map_err(other)?;
            while let Some(bytes) = conn.poll_transmit() {
                let n = stream.write(bytes)?;
                conn.advance_transmit(n);
            }
            read_to_end(&mut stream);
        }
    }
    Ok(())
}

fn spawn_misbehaving(
    addr: SocketAddr,
    count: usize,
    stop: &Arc<AtomicBool>,
    acts: &Arc<AtomicU64>,
) -> Vec<std::thread::JoinHandle<()>> {
    (0..count)
        .map(|i| {
            let (stop, acts) = (stop.clone(), acts.clone());
            std::thread::spawn(move || {
                let mut round = 0;
                while !stop.load(Ordering::Relaxed) {
                    // Errors (a reset, a refused handshake) are expected.
                    let _ = misbehave_once(i % 4, addr, round, &stop);
                    acts.fetch_add(1, Ordering::Relaxed);
                    round += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
        })
        .collect()
}

// ----- main ------------------------------------------------------------------

fn print_result(options: &Options, fields: &[(String, String)]) {
    let mut line = format!(
        "RESULT mode={} label={} conns={} in_flight={}",
        options.mode, options.label, options.conns, options.in_flight
    );
    for (key, value) in fields {
        line.push_str(&format!(" {key}={value}"));
    }
    println!("{line}");
}

fn main() -> io::Result<()> {
    let options = parse_options()?;
    let memory = || options.server_pid.and_then(memory_kib);
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut ok = true;
    match options.mode.as_str() {
        "idle" => {
            std::thread::sleep(Duration::from_millis(300));
            let before = memory();
            let peers = open_peers(options.addr, options.conns)?;
            // Let the server finish with the handshakes and go quiet.
            std::thread::sleep(Duration::from_secs(1));
            let after = memory();
            if let (Some((before, _)), Some((after, _))) = (before, after) {
                let per = (after as f64 - before as f64) * 1024.0 / options.conns as f64;
                println!(
                    "server RSS {before} KiB -> {after} KiB with {} idle connections: {per:.0} bytes each",
                    options.conns
                );
                fields.push(("rss_before_kib".into(), before.to_string()));
                fields.push(("rss_after_kib".into(), after.to_string()));
                fields.push(("idle_bytes_per_conn".into(), format!("{per:.0}")));
            }
            drop(peers);
        }
        "echo" => {
            let mut peers = open_peers(options.addr, options.conns)?;
            let (outcome, measured) = measure(&options, &mut peers)?;
            fields.extend(measured);
            fields.push(("errors".into(), outcome.errors.to_string()));
            fields.push(("lost".into(), outcome.lost.to_string()));
            if let Some((_, peak)) = memory() {
                fields.push(("peak_rss_kib".into(), peak.to_string()));
            }
            if let Some(error) = &outcome.first_error {
                eprintln!("first error: {error}");
            }
        }
        _ => {
            std::thread::sleep(Duration::from_millis(300));
            let baseline = memory();
            let bad = options.conns * options.bad_percent / 100;
            let good = options.conns - bad;
            let mut peers = open_peers(options.addr, good)?;
            let (stop, acts) = (
                Arc::new(AtomicBool::new(false)),
                Arc::new(AtomicU64::new(0)),
            );
            let threads = spawn_misbehaving(options.addr, bad, &stop, &acts);
            let (outcome, measured) = measure(&options, &mut peers)?;
            stop.store(true, Ordering::Relaxed);
            for thread in threads {
                let _ = thread.join();
            }
            let peak = memory().map(|(_, peak)| peak);
            drop(peers);
            std::thread::sleep(Duration::from_secs(2));
            let after = memory();
            fields.extend(measured);
            fields.push(("good".into(), good.to_string()));
            fields.push(("bad".into(), bad.to_string()));
            fields.push(("bad_acts".into(), acts.load(Ordering::Relaxed).to_string()));
            fields.push(("echoes".into(), outcome.echoes.to_string()));
            fields.push(("errors".into(), outcome.errors.to_string()));
            fields.push(("lost".into(), outcome.lost.to_string()));
            if let Some(error) = &outcome.first_error {
                eprintln!("first error of a well-behaved client: {error}");
            }
            if let (Some((before, _)), Some((after, _)), Some(peak)) = (baseline, after, peak) {
                println!("server RSS: {before} KiB before, peak {peak} KiB, {after} KiB 2 s after");
                fields.push(("rss_before_kib".into(), before.to_string()));
                fields.push(("peak_rss_kib".into(), peak.to_string()));
                fields.push(("rss_after_kib".into(), after.to_string()));
            }
            ok = outcome.errors == 0 && outcome.lost == 0 && outcome.echoes > 0;
            fields.push(("ok".into(), ok.to_string()));
        }
    }
    print_result(&options, &fields);
    if ok {
        Ok(())
    } else {
        Err(other("well-behaved clients saw errors or lost messages"))
    }
}
