//! Steady state allocates nothing: decoding, answering pings and echoing
//! unfragmented messages that fit the receive buffer, after a warm-up, with
//! a counting global allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use wsproto::{Config, Connection, Event, EventRef, Role};

struct Counting;

// Counted per thread: the test harness allocates on its own threads while a
// test runs, and only what the test's thread does is measured.
thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
    static LIVE_BYTES: Cell<isize> = const { Cell::new(0) };
}

fn count(allocations: usize, bytes: isize) {
    // `try_with`: the thread's counters may already be gone at its exit.
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + allocations));
    let _ = LIVE_BYTES.try_with(|c| c.set(c.get() + bytes));
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

fn live_bytes() -> isize {
    LIVE_BYTES.with(Cell::get)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(1, layout.size() as isize);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(0, -(layout.size() as isize));
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(1, new_size as isize - layout.size() as isize);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// A client's wire: `count` text messages of 16 bytes, a ping every tenth.
fn client_wire(count: usize) -> Vec<u8> {
    let mut client = Connection::new(Role::Client, Config::default());
    for i in 0..count {
        client.send_text(format!("message {i:>8}")).unwrap();
        if i % 10 == 0 {
            client.send_ping(b"ping").unwrap();
        }
    }
    let mut wire = Vec::new();
    while let Some(bytes) = client.poll_transmit() {
        let n = bytes.len();
        wire.extend_from_slice(bytes);
        client.advance_transmit(n);
    }
    wire
}

/// Feeds `wire` in reads of `read` bytes, echoing every message and writing
/// the output into `sink` (cleared, never grown past its capacity).
fn serve(server: &mut Connection, wire: &[u8], read: usize, sink: &mut Vec<u8>) -> (usize, usize) {
    let (mut messages, mut pings) = (0, 0);
    for chunk in wire.chunks(read) {
        server.handle_input(chunk);
        while let Some(event) = server.poll_event().unwrap() {
            match event {
                Event::Text(text) => {
                    messages += 1;
                    server.send_text(text).unwrap();
                }
                Event::Ping(_) => pings += 1,
                other => panic!("{other:?}"),
            }
        }
        while let Some(bytes) = server.poll_transmit() {
            let n = bytes.len().min(sink.capacity() - sink.len());
            sink.extend_from_slice(&bytes[..n]);
            server.advance_transmit(n);
            if sink.len() == sink.capacity() {
                sink.clear();
            }
        }
    }
    (messages, pings)
}

#[test]
fn decode_pong_and_echo_allocate_nothing_after_warm_up() {
    let warm_up = client_wire(2000);
    let wire = client_wire(10_000);
    let mut server = Connection::new(Role::Server, Config::default());
    let mut sink = Vec::with_capacity(64 << 10);
    serve(&mut server, &warm_up, 4096, &mut sink);

    // Three rounds, so a periodic allocation (a buffer that is not
    // reclaimed but regrown) could not hide behind the warm-up.
    for round in 0..3 {
        let before = allocations();
        let (messages, pings) = serve(&mut server, &wire, 4096, &mut sink);
        let allocations = allocations() - before;
        assert_eq!((messages, pings), (10_000, 1_000));
        assert_eq!(allocations, 0, "allocations in steady state, round {round}");
    }
}

/// The same with the borrowed events of `poll_event_ref`, the text echoed
/// from the lent `&str`.
#[test]
fn lent_events_allocate_nothing_after_warm_up() {
    let warm_up = client_wire(2000);
    let wire = client_wire(10_000);
    let mut server = Connection::new(Role::Server, Config::default());
    let mut sink = Vec::with_capacity(64 << 10);
    let mut serve_lent = |server: &mut Connection, wire: &[u8]| {
        let (mut messages, mut pings) = (0, 0);
        for chunk in wire.chunks(4096) {
            server.handle_input(chunk);
            while let Some(event) = server.poll_event_ref().unwrap() {
                match event {
                    EventRef::Text(text) => {
                        let text = text.as_bytes();
                        messages += 1;
                        // Copied out before the next call into `server`.
                        let mut copy = [0u8; 32];
                        copy[..text.len()].copy_from_slice(text);
                        let len = text.len();
                        server
                            .send_text(std::str::from_utf8(&copy[..len]).unwrap())
                            .unwrap();
                    }
                    EventRef::Ping(_) => pings += 1,
                    other => panic!("{other:?}"),
                }
            }
            while let Some(bytes) = server.poll_transmit() {
                let n = bytes.len().min(sink.capacity() - sink.len());
                sink.extend_from_slice(&bytes[..n]);
                server.advance_transmit(n);
                if sink.len() == sink.capacity() {
                    sink.clear();
                }
            }
        }
        (messages, pings)
    };
    serve_lent(&mut server, &warm_up);
    for round in 0..3 {
        let before = allocations();
        let (messages, pings) = serve_lent(&mut server, &wire);
        let allocations = allocations() - before;
        assert_eq!((messages, pings), (10_000, 1_000));
        assert_eq!(allocations, 0, "allocations in steady state, round {round}");
    }
}

/// Heap bytes allocated while running `f`, still live after it returns.
fn heap_kept_by<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let before = live_bytes();
    let value = f();
    (value, (live_bytes() - before).max(0) as usize)
}

#[test]
fn an_idle_connection_holds_under_one_kib_in_all() {
    let size = std::mem::size_of::<Connection>();
    assert!(size <= 700, "size_of::<Connection>() = {size}");
    let (mut server, heap) = heap_kept_by(|| Connection::new(Role::Server, Config::default()));
    assert_eq!(heap, 0, "a new connection allocates nothing");

    // After traffic, including a large message, the buffers can be let go.
    let mut wire = client_wire(100);
    let mut big = Connection::new(Role::Client, Config::default());
    big.send_binary(vec![7; 1 << 20]).unwrap();
    while let Some(bytes) = big.poll_transmit() {
        let n = bytes.len();
        wire.extend_from_slice(bytes);
        big.advance_transmit(n);
    }
    let ((), heap) = heap_kept_by(|| {
        let mut sink = Vec::with_capacity(64 << 10);
        for chunk in wire.chunks(4096) {
            server.handle_input(chunk);
            while let Some(event) = server.poll_event().unwrap() {
                if let Event::Text(text) = event {
                    server.send_text(text).unwrap();
                }
            }
            while let Some(bytes) = server.poll_transmit() {
                let n = bytes.len().min(sink.capacity() - sink.len());
                sink.extend_from_slice(&bytes[..n]);
                server.advance_transmit(n);
                sink.clear();
            }
        }
        server.release_idle_buffers();
    });
    assert_eq!(
        heap, 0,
        "heap kept by an idle connection after release_idle_buffers"
    );
    assert!(size + heap <= 1024);
}
