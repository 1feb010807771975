//! permessage-deflate (RFC 7692): negotiation, the RFC's examples byte for
//! byte, round trips through connections in memory, every way compressed
//! input can be bad, and what it all costs in memory.
//!
//! The memory figures come from a counting global allocator whose counters
//! are per thread, so tests running side by side do not disturb each other.
#![cfg(feature = "deflate")]

mod endpoints;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use bytes::Bytes;
use endpoints::*;
use wsproto::extensions::deflate::{DeflateConfig, DeflateNegotiationError, DeflateParams};
use wsproto::frame::{FrameDecoder, FrameHeader, OpCode, Rsv};
use wsproto::handshake::{Accept, ClientConfig, ExtensionOffer};
use wsproto::{Config, Connection, Event, MessageKind, ProtocolError, Role};

// ----- a counting allocator ------------------------------------------------

/// Counts the bytes each thread holds, and the most it held.
struct Counting;

thread_local! {
    static CURRENT: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn note(delta: isize) {
    let _ = CURRENT.try_with(|current| {
        let now = current.get() + delta;
        current.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size() as isize);
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size() as isize);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        note(-(layout.size() as isize));
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size as isize - layout.size() as isize);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` on this thread; returns its result, the bytes it left allocated
/// (net) and the most it held at once above the starting point (peak).
fn measure<T>(f: impl FnOnce() -> T) -> (T, isize, isize) {
    let start = CURRENT.with(Cell::get);
    PEAK.with(|p| p.set(start));
    let out = f();
    let net = CURRENT.with(Cell::get) - start;
    let peak = PEAK.with(Cell::get) - start;
    (out, net, peak)
}

// ----- helpers ---------------------------------------------------------------

/// Frames written by an endpoint of `role`, decoded as its peer with
/// permessage-deflate would (RSV1 allowed).
fn frames_of(role: Role, wire: Vec<u8>) -> Vec<(FrameHeader, Vec<u8>)> {
    let decoder = FrameDecoder::new(role.peer())
        .with_allowed_rsv(Rsv::RSV1)
        .with_max_payload(u64::MAX >> 1);
    decode_frames(&decoder, wire)
}

/// The close code in the close frame `conn` wrote, if any.
fn close_code_of(conn: &mut Connection) -> Option<u16> {
    let role = conn.role();
    close_code_in(&frames_of(role, drain_output(conn)))
}

fn offers(s: &str) -> Vec<ExtensionOffer> {
    ExtensionOffer::parse_list(s).unwrap()
}

fn text(s: &str) -> Event {
    Event::Text(s.to_string().into())
}

/// Always compress (the RFC examples are shorter than the default threshold).
fn eager() -> DeflateConfig {
    DeflateConfig::default().min_compress_size(0)
}

/// The defaults with context takeover asked of neither end: the
/// configuration the negotiation tests start from (the default asks the
/// client for `client_no_context_takeover`, see
/// `defaults_ask_the_client_for_no_context_takeover`).
fn takeover() -> DeflateConfig {
    DeflateConfig::default().client_no_context_takeover(false)
}

/// Runs the handshake's negotiation through the header syntax, as it goes
/// on the wire: the client's offer, the server's choice, the client's check.
fn negotiate(client: &DeflateConfig, server: &DeflateConfig) -> (DeflateParams, DeflateParams) {
    let offer = offers(&client.offer().to_string());
    let (response, server_params) = server.negotiate(&offer).expect("server declined");
    let response = offers(&response.to_string());
    let client_params = client
        .check_response(&response)
        .expect("client rejected the response")
        .expect("client saw no permessage-deflate");
    assert_eq!(
        (
            client_params.server_max_window_bits,
            client_params.client_max_window_bits,
            client_params.server_no_context_takeover
        ),
        (
            server_params.server_max_window_bits,
            server_params.client_max_window_bits,
            server_params.server_no_context_takeover
        ),
        "the two ends disagree"
    );
    (client_params, server_params)
}

/// A client and a server with permessage-deflate negotiated between them
/// by the opening handshake, in memory.
fn deflate_pair(
    config: Config,
    client: &DeflateConfig,
    server: &DeflateConfig,
) -> (Connection, Connection) {
    let (c, s) = handshake_pair(
        ClientConfig::new()
            .deflate(client.clone())
            .config(config.clone()),
        Accept::new().deflate(server.clone()).config(config),
    );
    assert!(c.is_deflate_enabled() && s.is_deflate_enabled());
    (c, s)
}

fn default_deflate_pair() -> (Connection, Connection) {
    deflate_pair(
        Config::default(),
        &DeflateConfig::default(),
        &DeflateConfig::default(),
    )
}

/// A client and a server that negotiated the defaults without a threshold.
fn eager_pair() -> (Connection, Connection) {
    deflate_pair(Config::default(), &eager(), &eager())
}

/// The `role` end of a connection with permessage-deflate negotiated
/// between `client` and `server`.
fn deflate_end(
    role: Role,
    config: Config,
    client: &DeflateConfig,
    server: &DeflateConfig,
) -> Connection {
    let (c, s) = deflate_pair(config, client, server);
    match role {
        Role::Client => c,
        Role::Server => s,
    }
}

/// The `role` end of a connection that negotiated the defaults without a
/// threshold.
fn eager_end(role: Role, config: Config) -> Connection {
    deflate_end(role, config, &eager(), &eager())
}

/// `conn` fed `wire`: its events, its error and the close code it sent.
fn receives(mut conn: Connection, wire: &[u8]) -> (Vec<Event>, Option<ProtocolError>, Option<u16>) {
    conn.handle_input(wire);
    let (events, error) = events(&mut conn);
    (events, error, close_code_of(&mut conn))
}

/// A client that negotiated the defaults (without a threshold), fed `wire`.
fn client_receives(wire: &[u8]) -> (Vec<Event>, Option<ProtocolError>, Option<u16>) {
    receives(eager_end(Role::Client, Config::default()), wire)
}

/// A server that negotiated the defaults, fed `wire`.
fn server_receives(
    config: Config,
    wire: &[u8],
) -> (Vec<Event>, Option<ProtocolError>, Option<u16>) {
    receives(eager_end(Role::Server, config), wire)
}

/// Moves what `from` wrote into `to`; returns `to`'s events and error.
fn deliver(from: &mut Connection, to: &mut Connection) -> (Vec<Event>, Option<ProtocolError>) {
    to.handle_input(&drain_output(from));
    events(to)
}

/// Runs `f` from the client to the server, then the other way.
fn both_ways(
    client: &mut Connection,
    server: &mut Connection,
    mut f: impl FnMut(&mut Connection, &mut Connection),
) {
    f(client, server);
    f(server, client);
}

/// A masked frame with RSV1 set, as a client sends a compressed message.
fn compressed_client_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    raw_frame(fin, 0b100, opcode, Some([0x11, 0x22, 0x33, 0x44]), payload)
}

/// JSON-like text, `len` bytes (ASCII, so any cut is valid UTF-8).
fn json_text(len: usize) -> String {
    let mut s = String::from("[");
    let mut i = 0u64;
    while s.len() < len {
        s.push_str(&format!(
            "{{\"id\":{i},\"name\":\"user{}\",\"active\":{},\"score\":{}.{}}},",
            i * 7919 % 1000,
            i % 3 == 0,
            i * 31 % 997,
            i % 10
        ));
        i += 1;
    }
    s.truncate(len);
    s
}

/// Random lowercase letters: valid text that compresses only a little.
fn noisy_text(len: usize, seed: u64) -> String {
    noise(len, seed)
        .into_iter()
        .map(|b| (b'a' + b % 26) as char)
        .collect()
}

fn message_event(kind: MessageKind, data: &[u8]) -> Event {
    match kind {
        MessageKind::Text => text(std::str::from_utf8(data).unwrap()),
        MessageKind::Binary => Event::Binary(Bytes::copy_from_slice(data)),
    }
}

fn send(conn: &mut Connection, kind: MessageKind, data: &[u8]) {
    match kind {
        MessageKind::Text => conn.send_text(std::str::from_utf8(data).unwrap()),
        MessageKind::Binary => conn.send_binary(data),
    }
    .unwrap();
}

/// Sends each message from `from`, delivers the wire to `to`, checks the
/// events; returns the frames that went over.
fn round_trip(
    from: &mut Connection,
    to: &mut Connection,
    messages: &[(MessageKind, Vec<u8>)],
) -> Vec<(FrameHeader, Vec<u8>)> {
    for (kind, data) in messages {
        send(from, *kind, data);
    }
    let wire = drain_output(from);
    to.handle_input(&wire);
    let (got, error) = events(to);
    assert_eq!(error, None);
    let expected: Vec<_> = messages
        .iter()
        .map(|(kind, data)| message_event(*kind, data))
        .collect();
    assert_eq!(got.len(), expected.len());
    for (i, (got, expected)) in got.iter().zip(&expected).enumerate() {
        assert!(got == expected, "message {i} differs");
    }
    frames_of(from.role(), wire)
}

fn rsv1(header: &FrameHeader) -> bool {
    header.rsv.rsv1()
}

// ----- RFC 7692 §7.2.3: the examples, byte for byte --------------------------

const HELLO: [u8; 9] = [0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00];

#[test]
fn rfc_7_2_3_1_a_server_sends_hello_as_the_rfc_bytes() {
    let mut server = eager_end(Role::Server, Config::default());
    server.send_text("Hello").unwrap();
    assert_eq!(drain_output(&mut server), HELLO);
}

#[test]
fn rfc_7_2_3_1_a_client_receives_hello_whole_and_fragmented() {
    assert_eq!(client_receives(&HELLO), (vec![text("Hello")], None, None));
    // The same message in two frames: RSV1 on the first only.
    let wire = [
        0x41, 0x03, 0xf2, 0x48, 0xcd, 0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00,
    ];
    assert_eq!(client_receives(&wire), (vec![text("Hello")], None, None));
}

#[test]
fn rfc_7_2_3_2_the_second_hello_refers_back_to_the_first() {
    let mut wire = HELLO.to_vec();
    wire.extend([0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00]);
    assert_eq!(
        client_receives(&wire),
        (vec![text("Hello"), text("Hello")], None, None)
    );
    // Without the first message the back reference has nothing to point to.
    let (_, error, code) = client_receives(&[0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00]);
    assert_eq!(
        (error, code),
        (Some(ProtocolError::BadCompressedData), Some(1007))
    );
}

#[test]
fn rfc_7_2_3_2_a_server_with_context_takeover_sends_a_shorter_second_hello() {
    let (mut client, mut server) = eager_pair();
    server.send_text("Hello").unwrap();
    server.send_text("Hello").unwrap();
    let wire = drain_output(&mut server);
    assert_eq!(wire[..9], HELLO);
    assert!(wire.len() - 9 < HELLO.len(), "{:x?}", &wire[9..]);
    client.handle_input(&wire);
    assert_eq!(
        events(&mut client),
        (vec![text("Hello"), text("Hello")], None)
    );
}

#[test]
fn rfc_7_2_3_3_a_stored_block() {
    let wire = [
        0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00,
    ];
    assert_eq!(client_receives(&wire), (vec![text("Hello")], None, None));
}

#[test]
fn rfc_7_2_3_4_a_block_with_bfinal_set_and_a_message_after_it() {
    let mut wire = vec![0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00];
    // After a final block the sender starts a new stream for the next message.
    wire.extend(HELLO);
    assert_eq!(
        client_receives(&wire),
        (vec![text("Hello"), text("Hello")], None, None)
    );
    // A final empty stored block, its LEN and NLEN removed as the tail.
    let mut wire = vec![0xc1, 0x01, 0x01];
    wire.extend(HELLO);
    assert_eq!(
        client_receives(&wire),
        (vec![text(""), text("Hello")], None, None)
    );
}

#[test]
fn rfc_7_2_3_5_two_deflate_blocks_in_one_message() {
    let wire = [
        0xc1, 0x0d, 0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00,
    ];
    assert_eq!(client_receives(&wire), (vec![text("Hello")], None, None));
}

#[test]
fn rfc_7_2_3_6_an_empty_message_is_one_byte() {
    // §7.2.3.6: an empty compressed payload is the empty block's first byte.
    assert_eq!(
        client_receives(&[0xc1, 0x01, 0x00]),
        (vec![text("")], None, None)
    );
    let mut server = eager_end(Role::Server, Config::default());
    server.send_binary(b"").unwrap();
    server.send_binary(b"").unwrap();
    server.send_binary(b"Hello").unwrap();
    let wire = drain_output(&mut server);
    let frames = frames_of(Role::Server, wire.clone());
    assert_eq!(frames[0].1, [0x00]);
    assert_eq!(frames[1].1, [0x00], "a second empty message is no emptier");
    assert_eq!(
        client_receives(&wire),
        (
            vec![
                Event::Binary(Bytes::new()),
                Event::Binary(Bytes::new()),
                Event::Binary(Bytes::from_static(b"Hello"))
            ],
            None,
            None
        )
    );
}

#[test]
fn a_server_inflates_a_masked_compressed_hello() {
    let wire = compressed_client_frame(true, 0x1, &HELLO[2..]);
    assert_eq!(
        server_receives(Config::default(), &wire),
        (vec![text("Hello")], None, None)
    );
}

// ----- negotiation: the server ------------------------------------------------

#[test]
fn server_accepts_a_plain_offer_with_a_plain_response() {
    let (response, params) = takeover().negotiate(&offers("permessage-deflate")).unwrap();
    assert_eq!(response.to_string(), "permessage-deflate");
    assert_eq!(
        params,
        DeflateParams::default()
            .server_no_context_takeover(false)
            .client_no_context_takeover(false)
            .server_max_window_bits(15)
            .client_max_window_bits(15)
            .level(1)
            .min_compress_size(32)
    );
    // The name is case-insensitive.
    assert!(takeover()
        .negotiate(&offers("Permessage-Deflate"))
        .is_some());
    assert!(takeover()
        .negotiate(&offers("x-webkit-deflate-frame"))
        .is_none());
    assert!(takeover().negotiate(&[]).is_none());
}

#[test]
fn server_declines_offers_it_must_not_accept() {
    // §7: "A server MUST decline an extension negotiation offer for this
    // extension if any of the following conditions are met: [...] unknown
    // parameter [...] multiple extension parameters with the same name [...]
    // an invalid value."
    for offer in [
        "permessage-deflate; foo",
        "permessage-deflate; foo=1",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; client_no_context_takeover; Client_No_Context_Takeover",
        "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
        "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits=08",
        "permessage-deflate; server_max_window_bits=+9",
        "permessage-deflate; server_max_window_bits=9x",
        "permessage-deflate; server_max_window_bits=255",
        "permessage-deflate; server_max_window_bits=264",
        "permessage-deflate; client_max_window_bits=7",
        "permessage-deflate; client_max_window_bits=16",
        "permessage-deflate; client_max_window_bits=010",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_no_context_takeover=true",
    ] {
        assert_eq!(
            DeflateConfig::default().negotiate(&offers(offer)),
            None,
            "{offer}"
        );
    }
}

#[test]
fn server_picks_the_first_acceptable_offer() {
    let list = offers(
        "x-foo, permessage-deflate; bogus, permessage-deflate; server_max_window_bits=10, \
         permessage-deflate; server_max_window_bits=12",
    );
    let (response, params) = takeover().negotiate(&list).unwrap();
    assert_eq!(
        response.to_string(),
        "permessage-deflate; server_max_window_bits=10"
    );
    assert_eq!(params.server_max_window_bits, 10);
    // A quoted value is the same value (§9.1).
    let (response, _) = takeover()
        .negotiate(&offers("permessage-deflate; server_max_window_bits=\"11\""))
        .unwrap();
    assert_eq!(
        response.to_string(),
        "permessage-deflate; server_max_window_bits=11"
    );
}

#[test]
fn server_honours_server_max_window_bits() {
    let server = |bits: u8| takeover().server_max_window_bits(bits);
    // §7.1.2.1: asked for a window, the server uses at most it and says so.
    for (offer, ours, expected) in [
        ("permessage-deflate; server_max_window_bits=10", 15, 10),
        ("permessage-deflate; server_max_window_bits=15", 15, 15),
        ("permessage-deflate; server_max_window_bits=8", 15, 8),
        ("permessage-deflate; server_max_window_bits=13", 11, 11),
        ("permessage-deflate; server_max_window_bits=9", 11, 9),
        ("permessage-deflate", 12, 12),
    ] {
        let (response, params) = server(ours).negotiate(&offers(offer)).unwrap();
        assert_eq!(
            response.to_string(),
            format!("permessage-deflate; server_max_window_bits={expected}"),
            "{offer} with {ours}"
        );
        assert_eq!(params.server_max_window_bits, expected);
    }
    let (response, params) = server(15).negotiate(&offers("permessage-deflate")).unwrap();
    assert_eq!(response.to_string(), "permessage-deflate");
    assert_eq!(params.server_max_window_bits, 15);
}

#[test]
fn server_honours_client_max_window_bits() {
    let server = |bits: u8| takeover().client_max_window_bits(bits);
    for (offer, ours, response, expected) in [
        // Without a value: the server may name a window, or not.
        (
            "permessage-deflate; client_max_window_bits",
            15,
            "permessage-deflate",
            15,
        ),
        (
            "permessage-deflate; client_max_window_bits",
            10,
            "permessage-deflate; client_max_window_bits=10",
            10,
        ),
        // With a value: never larger than it.
        (
            "permessage-deflate; client_max_window_bits=12",
            15,
            "permessage-deflate; client_max_window_bits=12",
            12,
        ),
        (
            "permessage-deflate; client_max_window_bits=12",
            9,
            "permessage-deflate; client_max_window_bits=9",
            9,
        ),
        // §7.1.2.2: not offered, so it must not be in the response; the
        // client then uses up to 15, which we can inflate.
        ("permessage-deflate", 10, "permessage-deflate", 15),
        ("permessage-deflate", 15, "permessage-deflate", 15),
    ] {
        let (got, params) = server(ours).negotiate(&offers(offer)).unwrap();
        assert_eq!(got.to_string(), response, "{offer} with {ours}");
        assert_eq!(
            params.client_max_window_bits, expected,
            "{offer} with {ours}"
        );
    }
}

#[test]
fn server_adds_no_context_takeover_as_configured_or_asked() {
    let config = takeover()
        .server_no_context_takeover(true)
        .client_no_context_takeover(true);
    let (response, params) = config.negotiate(&offers("permessage-deflate")).unwrap();
    assert_eq!(
        response.to_string(),
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
    );
    assert!(params.server_no_context_takeover && params.client_no_context_takeover);
    // Asked by the client: the server must agree (§7.1.1.1).
    let (response, params) = takeover()
        .negotiate(&offers("permessage-deflate; server_no_context_takeover"))
        .unwrap();
    assert_eq!(
        response.to_string(),
        "permessage-deflate; server_no_context_takeover"
    );
    assert!(params.server_no_context_takeover);
    // The client's own hint needs no answer.
    let (response, _) = takeover()
        .negotiate(&offers("permessage-deflate; client_no_context_takeover"))
        .unwrap();
    assert_eq!(response.to_string(), "permessage-deflate");
}

// ----- negotiation: the client ------------------------------------------------

/// The defaults are chosen for many connections: a server asks the client
/// not to take its context over (so the server's decompressor holds
/// nothing between messages), and a client promises it; the server's own
/// messages keep the last 4 KiB sent as context.
#[test]
fn defaults_ask_the_client_for_no_context_takeover() {
    let config = DeflateConfig::default();
    assert!(config.client_no_context_takeover && !config.server_no_context_takeover);
    assert_eq!((config.memory_level, config.context_size), (1, 4096));
    assert_eq!(
        config.offer().to_string(),
        "permessage-deflate; client_no_context_takeover; client_max_window_bits"
    );
    // A browser's offer.
    let (response, params) = config
        .negotiate(&offers("permessage-deflate; client_max_window_bits"))
        .unwrap();
    assert_eq!(
        response.to_string(),
        "permessage-deflate; client_no_context_takeover"
    );
    assert!(params.client_no_context_takeover && !params.server_no_context_takeover);
    let (client, server) = negotiate(&config, &config);
    assert_eq!(client, server);
}

#[test]
fn client_offers_what_it_is_configured_for() {
    assert_eq!(
        takeover().offer().to_string(),
        "permessage-deflate; client_max_window_bits"
    );
    let config = takeover()
        .server_no_context_takeover(true)
        .client_no_context_takeover(true)
        .server_max_window_bits(10)
        .client_max_window_bits(9);
    assert_eq!(
        config.offer().to_string(),
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
         server_max_window_bits=10; client_max_window_bits=9"
    );
    // Our own server accepts every offer our client makes.
    for bits in 8..=15 {
        let config = takeover()
            .server_max_window_bits(bits)
            .client_max_window_bits(bits);
        let (c, s) = negotiate(&config, &takeover());
        assert_eq!(
            (c.server_max_window_bits, c.client_max_window_bits),
            (bits, bits)
        );
        assert_eq!(s.server_max_window_bits, bits);
    }
}

#[test]
fn client_accepts_valid_responses() {
    let check = |config: &DeflateConfig, response: &str| {
        config.check_response(&offers(response)).unwrap().unwrap()
    };
    let params = check(&DeflateConfig::default(), "permessage-deflate");
    assert_eq!(
        (params.server_max_window_bits, params.client_max_window_bits),
        (15, 15)
    );
    let params = check(
        &DeflateConfig::default(),
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; \
         server_max_window_bits=9; client_max_window_bits=8",
    );
    assert_eq!(
        params,
        DeflateParams::default()
            .server_no_context_takeover(true)
            .client_no_context_takeover(true)
            .server_max_window_bits(9)
            .client_max_window_bits(8)
            .level(1)
            .min_compress_size(32)
    );
    // Our own promise to reset holds even if the server does not repeat it.
    let promise = DeflateConfig::default().client_no_context_takeover(true);
    assert!(check(&promise, "permessage-deflate").client_no_context_takeover);
    // A smaller server window than asked is fine.
    let asked = DeflateConfig::default().server_max_window_bits(10);
    assert_eq!(
        check(&asked, "permessage-deflate; server_max_window_bits=9").server_max_window_bits,
        9
    );
}

#[test]
fn client_declined_means_no_compression() {
    let config = DeflateConfig::default();
    assert_eq!(config.check_response(&[]), Ok(None));
    assert_eq!(config.check_response(&offers("x-foo; a=1")), Ok(None));
}

/// Issue 14, item 9: a client configured for a 12-bit window kept a 15-bit
/// compressor when the response did not name `client_max_window_bits`.
#[test]
fn client_window_setting_holds_without_the_parameter() {
    for bits in 8..=15 {
        let config = DeflateConfig::default().client_max_window_bits(bits);
        for response in [
            "permessage-deflate",
            "permessage-deflate; server_no_context_takeover",
        ] {
            let params = config.check_response(&offers(response)).unwrap().unwrap();
            assert_eq!(params.client_max_window_bits, bits, "{response}");
        }
        // A smaller window named by the server still wins.
        let params = config
            .check_response(&offers("permessage-deflate; client_max_window_bits=8"))
            .unwrap()
            .unwrap();
        assert_eq!(params.client_max_window_bits, 8);
    }
}

#[test]
fn client_rejects_invalid_responses() {
    use DeflateNegotiationError::*;
    let asked_10 = DeflateConfig::default()
        .server_max_window_bits(10)
        .client_max_window_bits(10);
    for (config, response, expected) in [
        (
            DeflateConfig::default(),
            "permessage-deflate; foo",
            UnknownParameter("foo".into()),
        ),
        (
            DeflateConfig::default(),
            "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
            DuplicateParameter("server_no_context_takeover".into()),
        ),
        (
            DeflateConfig::default(),
            "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
            DuplicateParameter("server_max_window_bits".into()),
        ),
        (
            DeflateConfig::default(),
            "permessage-deflate; server_max_window_bits",
            InvalidValue("server_max_window_bits".into()),
        ),
        (
            DeflateConfig::default(),
            "permessage-deflate; server_max_window_bits=16",
            InvalidValue("server_max_window_bits".into()),
        ),
        (
            DeflateConfig::default(),
            "permessage-deflate; server_max_window_bits=08",
            InvalidValue("server_max_window_bits".into()),
        ),
        (
            DeflateConfig::default(),
            "permessage-deflate; client_max_window_bits=7",
            InvalidValue("client_max_window_bits".into()),
        ),
        // §7.1.2.2: a response's client_max_window_bits must have a value.
        (
            DeflateConfig::default(),
            "permessage-deflate; client_max_window_bits",
            InvalidValue("client_max_window_bits".into()),
        ),
        (
            DeflateConfig::default(),
            "permessage-deflate; client_no_context_takeover=1",
            InvalidValue("client_no_context_takeover".into()),
        ),
        // A server window larger than asked, or none when one was asked.
        (
            asked_10.clone(),
            "permessage-deflate; server_max_window_bits=11",
            WindowNotOffered,
        ),
        (asked_10.clone(), "permessage-deflate", WindowNotOffered),
        // A client window larger than offered.
        (
            asked_10.clone(),
            "permessage-deflate; server_max_window_bits=10; client_max_window_bits=12",
            WindowNotOffered,
        ),
        (
            DeflateConfig::default(),
            "permessage-deflate, permessage-deflate",
            DuplicateParameter("permessage-deflate".into()),
        ),
    ] {
        assert_eq!(
            config.check_response(&offers(response)),
            Err(expected),
            "{response}"
        );
    }
}

// ----- the data path ----------------------------------------------------------

#[test]
fn round_trips_both_ways_at_every_size() {
    let (mut client, mut server) = default_deflate_pair();
    for &len in &[0usize, 1, 31, 32, 1000, 100_000, 1 << 20] {
        let messages = vec![
            (MessageKind::Text, json_text(len).into_bytes()),
            (MessageKind::Text, noisy_text(len, len as u64).into_bytes()),
            (MessageKind::Binary, json_text(len).into_bytes()),
            (MessageKind::Binary, noise(len, len as u64 + 1)),
        ];
        both_ways(&mut client, &mut server, |from, to| {
            let frames = round_trip(from, to, &messages);
            assert_eq!(frames.len(), messages.len());
            for ((header, payload), (_, data)) in frames.iter().zip(&messages) {
                // Below the threshold: sent as is, RSV1 clear.
                assert_eq!(rsv1(header), len >= 32, "{len}");
                if len < 32 {
                    assert_eq!(payload, data);
                }
            }
            if len >= 1000 {
                assert!(frames[0].1.len() < len / 3, "JSON compresses well");
                // Noise grows: level 1 (zlib-rs's deflate_quick) codes
                // every literal with the fixed Huffman table, 8 or 9 bits.
                let grown = frames[3].1.len();
                assert!(grown <= len + len / 14 + 16, "{len}: {grown}");
            }
        });
    }
}

#[test]
fn context_takeover_shrinks_repeated_messages_and_no_context_takeover_does_not() {
    let message = json_text(2000);
    let sizes = |client: DeflateConfig, server: DeflateConfig| {
        let (mut c, mut s) = deflate_pair(Config::default(), &client, &server);
        let msgs = vec![(MessageKind::Text, message.clone().into_bytes()); 3];
        let from_client: Vec<_> = round_trip(&mut c, &mut s, &msgs)
            .iter()
            .map(|(_, p)| p.len())
            .collect();
        let from_server: Vec<_> = round_trip(&mut s, &mut c, &msgs)
            .iter()
            .map(|(_, p)| p.len())
            .collect();
        (from_client, from_server)
    };
    let (c, s) = sizes(takeover(), takeover());
    assert!(c[1] < c[0] / 4 && c[2] < c[0] / 4, "{c:?}");
    assert!(s[1] < s[0] / 4 && s[2] < s[0] / 4, "{s:?}");

    // Each setting from its own end, or asked for by the other.
    let from_either_end =
        |config: DeflateConfig| [(config.clone(), takeover()), (takeover(), config)];
    // The server resets (asked by the client, or by its own choice).
    for (client, server) in from_either_end(takeover().server_no_context_takeover(true)) {
        let (c, s) = sizes(client, server);
        assert!(c[1] < c[0] / 4, "{c:?}");
        assert!(s[0] == s[1] && s[1] == s[2], "{s:?}");
    }
    // The client resets (its own promise, or asked by the server).
    for (client, server) in from_either_end(takeover().client_no_context_takeover(true)) {
        let (c, s) = sizes(client, server);
        assert!(c[0] == c[1] && c[1] == c[2], "{c:?}");
        assert!(s[1] < s[0] / 4, "{s:?}");
    }
}

#[test]
fn every_window_size_round_trips_both_ways() {
    // Longer-range repeats than the small windows can reach.
    let block = noisy_text(3000, 7);
    let repeats = block.repeat(20);
    let messages = vec![
        (MessageKind::Text, json_text(50_000).into_bytes()),
        (MessageKind::Text, repeats.clone().into_bytes()),
        (MessageKind::Binary, noise(5000, 3)),
        (MessageKind::Text, json_text(50_000).into_bytes()),
        (MessageKind::Text, b"short".to_vec()),
        (MessageKind::Binary, vec![0; 300_000]),
    ];
    for bits in 8..=15u8 {
        for no_context_takeover in [false, true] {
            let config = DeflateConfig::default()
                .server_max_window_bits(bits)
                .client_max_window_bits(bits)
                .server_no_context_takeover(no_context_takeover)
                .client_no_context_takeover(no_context_takeover);
            let (mut client, mut server) = deflate_pair(Config::default(), &config, &config);
            both_ways(&mut client, &mut server, |from, to| {
                let frames = round_trip(from, to, &messages);
                let json = frames[0].1.len();
                if bits == 8 {
                    // zlib cannot deflate with a 256-byte window: stored blocks.
                    assert!(json >= 50_000, "{bits}: {json}");
                } else {
                    assert!(json < 50_000 / 3, "{bits}: {json}");
                }
                let far = frames[1].1.len();
                if bits >= 12 {
                    assert!(far < repeats.len() / 5, "{bits}: {far}");
                }
            });
        }
    }
}

#[test]
fn a_compressed_message_split_into_frames_by_max_send_frame() {
    let config = Config::default().max_send_frame(Some(100));
    let (mut client, mut server) =
        deflate_pair(config, &DeflateConfig::default(), &DeflateConfig::default());
    let message = noisy_text(5000, 9);
    both_ways(&mut client, &mut server, |from, to| {
        from.send_text(&message).unwrap();
        from.send_text(&message).unwrap();
        let wire = drain_output(from);
        let frames = frames_of(from.role(), wire.clone());
        assert!(frames.len() > 40);
        let first = &frames[0].0;
        assert!(rsv1(first) && first.opcode == OpCode::Text && !first.fin);
        for (header, payload) in &frames {
            assert!(payload.len() <= 100);
            // RFC 7692 §6.1: RSV1 on the first frame of the message only.
            assert_eq!(rsv1(header), header.opcode == OpCode::Text);
        }
        to.handle_input(&wire);
        assert_eq!(events(to), (vec![text(&message), text(&message)], None));
    });
}

#[test]
fn send_fragment_streams_a_compressed_message() {
    let (mut client, mut server) = default_deflate_pair();
    let pieces: [&[u8]; 6] = [b"Hel", b"", b"lo, ", b"wor", b"ld", b""];
    both_ways(&mut client, &mut server, |from, to| {
        for (i, piece) in pieces.iter().enumerate() {
            from.send_fragment(MessageKind::Text, piece, i == pieces.len() - 1)
                .unwrap();
            if i == 2 {
                from.send_ping(b"between").unwrap();
            }
        }
        // Then a message that refers back to the streamed one.
        from.send_text("Hello, world".repeat(4)).unwrap();
        // A streamed message whose last piece is empty, then another message.
        from.send_fragment(MessageKind::Binary, &[1; 100], false)
            .unwrap();
        from.send_fragment(MessageKind::Binary, b"", true).unwrap();
        from.send_text("Hello, world".repeat(4)).unwrap();
        let wire = drain_output(from);
        let frames = frames_of(from.role(), wire.clone());
        let shape: Vec<_> = frames
            .iter()
            .map(|(h, _)| (h.opcode, rsv1(h), h.fin))
            .collect();
        assert_eq!(
            shape,
            [
                (OpCode::Text, true, false),
                (OpCode::Continuation, false, false),
                (OpCode::Continuation, false, false),
                (OpCode::Ping, false, true),
                (OpCode::Continuation, false, false),
                (OpCode::Continuation, false, false),
                (OpCode::Continuation, false, true),
                (OpCode::Text, true, true),
                (OpCode::Binary, true, false),
                (OpCode::Continuation, false, true),
                (OpCode::Text, true, true),
            ]
        );
        to.handle_input(&wire);
        assert_eq!(
            events(to),
            (
                vec![
                    Event::Ping(Bytes::from_static(b"between")),
                    text("Hello, world"),
                    text(&"Hello, world".repeat(4)),
                    Event::Binary(Bytes::from(vec![1; 100])),
                    text(&"Hello, world".repeat(4)),
                ],
                None
            )
        );
        let _ = drain_output(to); // the pong
    });
}

#[test]
fn compressed_input_fed_byte_by_byte_gives_the_same_events() {
    let config = Config::default().max_send_frame(Some(300));
    let (mut client, _) = deflate_pair(
        config.clone(),
        &DeflateConfig::default(),
        &DeflateConfig::default(),
    );
    client.send_text(json_text(3000)).unwrap();
    client.send_ping(b"p").unwrap();
    client.send_binary(noise(1000, 1)).unwrap();
    client
        .send_fragment(MessageKind::Text, json_text(200).as_bytes(), false)
        .unwrap();
    client
        .send_fragment(MessageKind::Text, json_text(400).as_bytes(), true)
        .unwrap();
    client.send_text(json_text(3000)).unwrap();
    let wire = drain_output(&mut client);
    let default = DeflateConfig::default();
    for deliver_fragments in [false, true] {
        let config = Config::default().deliver_fragments(deliver_fragments);
        let mut whole = deflate_end(Role::Server, config.clone(), &default, &default);
        whole.handle_input(&wire);
        let (expected, error) = events(&mut whole);
        assert_eq!(error, None);

        let mut bytewise = deflate_end(Role::Server, config, &default, &default);
        let mut got = Vec::new();
        for byte in &wire {
            bytewise.handle_input(std::slice::from_ref(byte));
            let (events, error) = events(&mut bytewise);
            assert_eq!(error, None);
            got.extend(events);
        }
        if deliver_fragments {
            // Pieces differ; what they add up to does not.
            assert_eq!(join_fragments(&got), join_fragments(&expected));
        } else {
            assert_eq!(got, expected);
            assert_eq!(expected.len(), 5);
            assert_eq!(expected[0], text(&json_text(3000)));
        }
    }
}

/// Fragment events joined into whole messages (other events kept).
fn join_fragments(events: &[Event]) -> Vec<Event> {
    let mut out = Vec::new();
    let mut acc = Vec::new();
    for event in events {
        match event {
            Event::Fragment {
                kind,
                data,
                is_last,
            } => {
                acc.extend_from_slice(data);
                if *is_last {
                    out.push(message_event(*kind, &acc));
                    acc.clear();
                }
            }
            other => out.push(other.clone()),
        }
    }
    out
}

#[test]
fn control_frames_are_never_compressed() {
    let (mut client, mut server) = default_deflate_pair();
    let long = [b'p'; 125];
    for conn in [&mut client, &mut server] {
        conn.send_ping(&long).unwrap();
        conn.send_pong(&long).unwrap();
        conn.send_text(json_text(1000)).unwrap();
    }
    // Auto-pong and the close handshake too.
    let wire = drain_output(&mut client);
    server.handle_input(&wire);
    let (_, error) = events(&mut server);
    assert_eq!(error, None);
    client
        .close(wsproto::CloseCode::NORMAL, &"r".repeat(100))
        .unwrap();
    server.handle_input(&drain_output(&mut client));
    let _ = events(&mut server);
    let frames = frames_of(Role::Server, drain_output(&mut server));
    let kinds: Vec<_> = frames.iter().map(|(h, _)| (h.opcode, rsv1(h))).collect();
    assert_eq!(
        kinds,
        [
            (OpCode::Ping, false),
            (OpCode::Pong, false),
            (OpCode::Text, true),
            (OpCode::Pong, false),
            (OpCode::Close, false),
        ]
    );
    assert_eq!(frames[0].1, long);
    assert_eq!(frames[3].1, long);
}

#[test]
fn rsv1_on_a_continuation_or_control_frame_fails_with_1002() {
    let mut continuation = compressed_client_frame(false, 0x1, &HELLO[2..5]);
    continuation.extend(compressed_client_frame(true, 0x0, &HELLO[5..]));
    for wire in [
        continuation,
        compressed_client_frame(true, 0x9, b"ping"),
        compressed_client_frame(true, 0xA, b"pong"),
        compressed_client_frame(true, 0x8, &[0x03, 0xe8]),
        // Uncompressed first frame, RSV1 on its continuation.
        [
            client_frame(false, 0x1, b"Hel"),
            compressed_client_frame(true, 0x0, b"lo"),
        ]
        .concat(),
    ] {
        let (events, error, code) = server_receives(Config::default(), &wire);
        assert_eq!(events, []);
        assert_eq!(
            (error, code),
            (
                Some(ProtocolError::CompressedControlOrContinuation),
                Some(1002)
            )
        );
    }
}

#[test]
fn rsv1_without_deflate_is_a_reserved_bit() {
    let server = Connection::new(Role::Server, Config::default());
    assert!(!server.is_deflate_enabled());
    assert_eq!(
        receives(server, &compressed_client_frame(true, 0x1, &HELLO[2..])),
        (vec![], Some(ProtocolError::ReservedBits(0b100)), Some(1002))
    );
    // RSV2 and RSV3 stay reserved with deflate on.
    for rsv in [0b010, 0b001, 0b110] {
        let wire = raw_frame(true, rsv, 0x1, Some([1, 2, 3, 4]), &HELLO[2..]);
        let (_, error, code) = server_receives(Config::default(), &wire);
        assert_eq!(
            (error, code),
            (Some(ProtocolError::ReservedBits(rsv)), Some(1002))
        );
    }
}

#[test]
fn messages_under_the_threshold_go_out_uncompressed() {
    let config = DeflateConfig::default().min_compress_size(100);
    let (mut client, mut server) = deflate_pair(Config::default(), &config, &config);
    let messages = vec![
        (MessageKind::Text, json_text(99).into_bytes()),
        (MessageKind::Text, json_text(100).into_bytes()),
        (MessageKind::Binary, vec![0; 99]),
        (MessageKind::Binary, vec![0; 100]),
    ];
    both_ways(&mut client, &mut server, |from, to| {
        let flags: Vec<_> = round_trip(from, to, &messages)
            .iter()
            .map(|(h, _)| rsv1(h))
            .collect();
        assert_eq!(flags, [false, true, false, true]);
    });
    // An uncompressed message from a peer with deflate on is fine too.
    let (events, error, _) = server_receives(Config::default(), &client_frame(true, 0x1, b"plain"));
    assert_eq!((events, error), (vec![text("plain")], None));
}

#[test]
fn garbage_compressed_data_fails_with_1007() {
    for payload in [
        &[0xff, 0xff, 0xff, 0xff][..],         // BTYPE 11: reserved
        &[0x00, 0x05, 0x00, 0x00, 0x00, b'H'], // stored block: LEN and NLEN disagree
        &[0xf2, 0x00, 0x11, 0x00, 0x00],       // a back reference before the start
        &[0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0xff, 0xff], // junk after a final block
    ] {
        let wire = compressed_client_frame(true, 0x2, payload);
        let (events, error, code) = server_receives(Config::default(), &wire);
        assert_eq!(events, [], "{payload:x?}");
        assert_eq!(
            (error, code),
            (Some(ProtocolError::BadCompressedData), Some(1007)),
            "{payload:x?}"
        );
    }
}

#[test]
fn invalid_utf8_inside_a_compressed_text_message_fails_with_1007() {
    let (mut client, mut server) = eager_pair();
    // send_fragment does not check UTF-8: a way to compress bad text.
    server
        .send_fragment(MessageKind::Text, b"caf\xc3\xa9 \xff", true)
        .unwrap();
    assert_eq!(
        deliver(&mut server, &mut client),
        (vec![], Some(ProtocolError::InvalidUtf8))
    );
    assert_eq!(close_code_of(&mut client), Some(1007));
}

#[test]
fn invalid_utf8_fails_fast_in_the_first_compressed_fragment() {
    let (mut client, mut server) = eager_pair();
    server
        .send_fragment(MessageKind::Text, &[b'a', 0xff, b'b'].repeat(20), false)
        .unwrap();
    // Only the first frame: the final one has not been sent.
    assert_eq!(
        deliver(&mut server, &mut client),
        (vec![], Some(ProtocolError::InvalidUtf8))
    );
    assert_eq!(close_code_of(&mut client), Some(1007));
    // A code point cut between fragments is fine.
    let (mut client, mut server) = eager_pair();
    server
        .send_fragment(MessageKind::Text, b"caf\xc3", false)
        .unwrap();
    server
        .send_fragment(MessageKind::Text, b"\xa9", true)
        .unwrap();
    assert_eq!(
        deliver(&mut server, &mut client),
        (vec![text("café")], None)
    );
}

// ----- limits and memory --------------------------------------------------------

/// 10 MB of zeros, compressed by a server at level 9, in frames of at most
/// `max_frame` bytes.
fn zip_bomb(max_frame: Option<usize>) -> Vec<u8> {
    let config = DeflateConfig::default().level(9);
    let mut server = deflate_end(
        Role::Server,
        Config::default().max_send_frame(max_frame),
        &DeflateConfig::default(),
        &config,
    );
    server.send_binary(vec![0; 10_000_000]).unwrap();
    drain_output(&mut server)
}

#[test]
fn a_zip_bomb_fails_with_1009_without_inflating_it() {
    for max_frame in [None, Some(1000)] {
        let bomb = zip_bomb(max_frame);
        assert!(bomb.len() < 20_000, "{}", bomb.len());
        for deliver_fragments in [false, true] {
            let mut client = deflate_end(
                Role::Client,
                Config::default()
                    .max_message_size(1 << 20)
                    .deliver_fragments(deliver_fragments),
                &DeflateConfig::default(),
                &DeflateConfig::default(),
            );
            let ((delivered, error), _, peak) = measure(|| {
                client.handle_input(&bomb);
                let (events, error) = events(&mut client);
                let delivered: usize = events
                    .iter()
                    .map(|e| match e {
                        Event::Fragment { data, .. } => data.len(),
                        _ => panic!("{e:?}"),
                    })
                    .sum();
                (delivered, error)
            });
            assert_eq!(
                error,
                Some(ProtocolError::MessageTooLarge { max: 1 << 20 }),
                "{max_frame:?}"
            );
            assert!(delivered <= 1 << 20);
            assert_eq!(close_code_of(&mut client), Some(1009));
            eprintln!(
                "zip bomb ({} bytes on the wire, frames {max_frame:?}, fragments {deliver_fragments}): peak heap growth {peak} bytes",
                bomb.len()
            );
            assert!(peak < 4 << 20, "peak {peak}");
        }
    }
    // Under a generous limit the same message goes through.
    let bomb = zip_bomb(None);
    let mut client = deflate_end(
        Role::Client,
        Config::default(),
        &DeflateConfig::default(),
        &DeflateConfig::default(),
    );
    client.handle_input(&bomb);
    match events(&mut client) {
        (events, None) if events.len() == 1 => {
            let Event::Binary(data) = &events[0] else {
                panic!()
            };
            assert!(data.len() == 10_000_000 && data.iter().all(|&b| b == 0));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_message_exactly_at_the_limit_passes_and_one_byte_more_fails() {
    for (len, ok) in [(4096, true), (4097, false)] {
        let mut server = eager_end(Role::Server, Config::default());
        server.send_binary(vec![b'x'; len]).unwrap();
        let mut client = eager_end(Role::Client, Config::default().max_message_size(4096));
        let (events, error) = deliver(&mut server, &mut client);
        if ok {
            assert_eq!((events.len(), error), (1, None));
        } else {
            assert_eq!(error, Some(ProtocolError::MessageTooLarge { max: 4096 }));
        }
    }
}

/// A compressed binary frame's header alone (RSV1 set), as `role`'s peer
/// sends it: masked to a server, 14 bytes; unmasked to a client, 10 bytes.
fn compressed_header_to(role: Role, len: u64) -> Vec<u8> {
    let mut wire = vec![0xc2, 127];
    wire.extend_from_slice(&len.to_be_bytes());
    if role == Role::Server {
        wire[1] |= 0x80;
        wire.extend_from_slice(&[0x11, 0x22, 0x33, 0x44]);
    }
    wire
}

#[test]
fn a_16_mib_compressed_frame_fails_with_1009_from_its_header_alone() {
    // The limit is 64 KiB once inflated; a 16 MiB compressed frame (within
    // the default frame limit) used to be reserved and buffered whole, the
    // size unchecked until it was inflated. Now the header is enough.
    for role in [Role::Server, Role::Client] {
        for deliver_fragments in [false, true] {
            let config = Config::default()
                .max_message_size(64 << 10)
                .deliver_fragments(deliver_fragments);
            let mut conn = eager_end(role, config);
            let header = compressed_header_to(role, 16 << 20);
            let ((events, error), _, peak) = measure(|| {
                conn.handle_input(&header);
                events(&mut conn)
            });
            assert_eq!(events, []);
            assert_eq!(
                error,
                Some(ProtocolError::MessageTooLarge { max: 64 << 10 }),
                "{role:?}, fragments {deliver_fragments}"
            );
            assert_eq!(close_code_of(&mut conn), Some(1009));
            eprintln!("16 MiB compressed header to a {role:?}: peak heap growth {peak} bytes");
            assert!(peak < 4 << 10, "{role:?}: peak {peak}");
        }
    }
}

#[test]
fn a_compressed_frame_of_2_pow_62_fails_with_1009_and_does_not_abort() {
    // With the frame limit lifted, this 14-byte header used to make the
    // connection reserve 2^62 bytes: the process aborted.
    let config = Config::default().max_frame_payload(u64::MAX);
    let mut server = eager_end(Role::Server, config);
    let header = compressed_header_to(Role::Server, 1 << 62);
    assert_eq!(header.len(), 14);
    let ((events, error), _, peak) = measure(|| {
        server.handle_input(&header);
        events(&mut server)
    });
    assert_eq!(events, []);
    assert_eq!(
        error,
        Some(ProtocolError::MessageTooLarge { max: 64 << 20 })
    );
    assert_eq!(close_code_of(&mut server), Some(1009));
    assert!(peak < 4 << 10, "peak {peak}");
}

#[test]
fn a_compressed_message_at_the_limit_arrives_though_its_frame_is_larger() {
    // Incompressible bytes come out of deflate a little longer than they
    // went in: the compressed frame is over the 64 KiB limit, the message
    // is not, and it must arrive. At every level (0 is stored blocks),
    // whole and streamed in flushed 1000-byte frames.
    const LIMIT: usize = 64 << 10;
    for level in [0, 1, 9] {
        let sender = eager().level(level);
        for (len, ok) in [(LIMIT - 1, true), (LIMIT, true), (LIMIT + 1, false)] {
            let data = noise(len, level.into());
            for streamed in [false, true] {
                let mut server = deflate_end(Role::Server, Config::default(), &eager(), &sender);
                let config = Config::default().max_message_size(LIMIT as u64);
                let mut client = eager_end(Role::Client, config);
                if streamed {
                    let pieces: Vec<_> = data.chunks(1000).collect();
                    for (i, piece) in pieces.iter().enumerate() {
                        let last = i + 1 == pieces.len();
                        server
                            .send_fragment(MessageKind::Binary, piece, last)
                            .unwrap();
                    }
                } else {
                    server.send_binary(&data).unwrap();
                    let wire = drain_output(&mut server);
                    let frames = frames_of(Role::Server, wire.clone());
                    assert!(rsv1(&frames[0].0));
                    assert!(
                        frames[0].1.len() > LIMIT,
                        "level {level}: {}",
                        frames[0].1.len()
                    );
                    client.handle_input(&wire);
                }
                let (events, error) = if streamed {
                    deliver(&mut server, &mut client)
                } else {
                    events(&mut client)
                };
                let what = format!("level {level}, {len} bytes, streamed {streamed}");
                if ok {
                    assert_eq!(error, None, "{what}");
                    assert_eq!(events.len(), 1, "{what}");
                    assert!(
                        events[0] == Event::Binary(Bytes::from(data.clone())),
                        "{what}"
                    );
                } else {
                    assert_eq!(
                        error,
                        Some(ProtocolError::MessageTooLarge { max: LIMIT as u64 }),
                        "{what}"
                    );
                }
            }
        }
    }
}

/// The heap a connection holds: after `new` and `enable_deflate`, then after
/// a compressed message each way (the decompressor's window is allocated
/// when first used).
fn connection_memory(bits: Option<u8>) -> (isize, isize) {
    let config = DeflateConfig::default()
        .server_max_window_bits(bits.unwrap_or(15))
        .client_max_window_bits(bits.unwrap_or(15));
    let params = bits.map(|_| negotiate(&config, &config));
    let (mut server, at_start, _) = measure(|| {
        let mut server = Connection::new(Role::Server, Config::default());
        if let Some((_, p)) = params {
            server.enable_deflate(p);
        }
        server
    });
    let mut client = Connection::new(Role::Client, Config::default());
    if let Some((p, _)) = params {
        client.enable_deflate(p);
    }
    let message = json_text(100_000);
    client.send_text(&message).unwrap();
    let wire = drain_output(&mut client);
    let (_, in_use, _) = measure(|| {
        server.handle_input(&wire);
        let (events, error) = events(&mut server);
        assert_eq!((events.len(), error), (1, None));
        drop(events);
        server.send_text(&message).unwrap();
        let out = drain_output(&mut server);
        if bits.is_some_and(|b| b > 8) {
            assert!(out.len() < message.len());
        }
    });
    drop(server);
    (at_start, at_start + in_use)
}

#[test]
fn memory_per_connection() {
    let (plain, plain_in_use) = connection_memory(None);
    eprintln!("no deflate: {plain} bytes after new, {plain_in_use} after a message each way");
    // A connection without deflate allocates nothing up front.
    assert_eq!(plain, 0);
    for bits in [8, 9, 12, 15] {
        let (start, in_use) = connection_memory(Some(bits));
        let codec_and_scratch = in_use - plain_in_use;
        eprintln!(
            "window bits {bits}: {start} bytes after enable_deflate; \
             after a 100 kB message each way {in_use} bytes, {codec_and_scratch} \
             more than a plain connection"
        );
        // The codec's state is made when first used.
        assert_eq!(start, 0, "{bits}");
        // The codec (under 450 KiB) and its scratch space: the inflate
        // buffer (the largest message so far, as the receive buffer is
        // without deflate) and at most 32 KiB of compressor output.
        assert!(
            codec_and_scratch < (450 + 320) << 10,
            "{bits}: {codec_and_scratch}"
        );
    }
}

/// The compressor and decompressor alone, as `SharedKey::compressor` and
/// `Decompressor` build them (zlib-rs), for the split documented in
/// `src/extensions/deflate/mod.rs`: the compressor at zlib's default memory
/// level (8) and at ours (1).
#[test]
fn memory_of_the_codec_halves() {
    use zlib_rs::{Deflate, DeflateFlush, Inflate, InflateFlush};
    for bits in [9u8, 12, 15] {
        let mut sizes = Vec::new();
        for memory_level in [8, 1] {
            let (mut compress, c_start, _) = measure(|| {
                Box::new(Deflate::new_with_config(zlib_rs::DeflateConfig {
                    level: 1,
                    window_bits: -i32::from(bits),
                    mem_level: memory_level,
                    ..zlib_rs::DeflateConfig::default()
                }))
            });
            let (mut decompress, d_start, _) = measure(|| Box::new(Inflate::new(false, bits)));
            let input = json_text(10_000);
            let mut out = vec![0; 20_000];
            let (_, c_used, _) = measure(|| {
                compress
                    .compress(input.as_bytes(), &mut out, DeflateFlush::SyncFlush)
                    .unwrap()
            });
            let n = compress.total_out() as usize;
            let mut back = vec![0; 20_000];
            let (_, d_used, _) = measure(|| {
                decompress
                    .decompress(&out[..n], &mut back, InflateFlush::SyncFlush)
                    .unwrap()
            });
            assert_eq!(&back[..decompress.total_out() as usize], input.as_bytes());
            eprintln!(
                "window bits {bits}, memory level {memory_level}: compressor {c_start} \
                 (+{c_used} in use), decompressor {d_start} (+{d_used} in use)"
            );
            assert!(c_start + c_used < 400 << 10);
            assert!(d_start + d_used < 100 << 10);
            sizes.push(c_start + c_used);
        }
        // memLevel 1 saves the 112 KiB of pending buffers of level 8.
        assert!(sizes[0] - sizes[1] > 100 << 10, "{bits}: {sizes:?}");
    }
}

/// A prepared message sent on a connection that negotiated compression is
/// compressed by that connection (its context is its own), and arrives.
#[test]
fn a_prepared_message_is_compressed_by_each_connection() {
    let message = wsproto::PreparedMessage::text(json_text(2000));
    let (mut client, mut server) = default_deflate_pair();
    server.send_prepared(&message).unwrap();
    let wire = drain_output(&mut server);
    let frames = frames_of(Role::Server, wire.clone());
    assert!(rsv1(&frames[0].0) && wire.len() < 2000 / 2);
    client.handle_input(&wire);
    let (events, error) = events(&mut client);
    assert_eq!((events, error), (vec![text(&json_text(2000))], None));
}

/// Without context takeover a message always compresses to the same bytes:
/// compressed once, it goes to every connection that agreed on those
/// parameters as it is; the others compress it themselves.
#[test]
fn a_prepared_message_is_compressed_once_for_connections_without_context_takeover() {
    let json = json_text(3000);
    let server_config = DeflateConfig::default().server_no_context_takeover(true);
    let params = DeflateParams::default().server_no_context_takeover(true);
    let message = wsproto::PreparedMessage::text(json.clone()).compressed_for(&params);
    let mut wires = Vec::new();
    for _ in 0..3 {
        let (mut client, mut server) =
            deflate_pair(Config::default(), &DeflateConfig::default(), &server_config);
        server.send_prepared(&message).unwrap();
        server.send_prepared(&message).unwrap();
        let wire = drain_output(&mut server);
        let frames = frames_of(Role::Server, wire.clone());
        assert_eq!(frames.len(), 2);
        assert!(frames.iter().all(|(h, _)| rsv1(h)));
        assert_eq!(frames[0].1, frames[1].1, "no context: the same bytes twice");
        client.handle_input(&wire);
        assert_eq!(events(&mut client), (vec![text(&json), text(&json)], None));
        wires.push(wire);
    }
    assert!(wires.windows(2).all(|w| w[0] == w[1]));
    // What a connection compressing it itself would have sent.
    let (_, mut own) = deflate_pair(Config::default(), &DeflateConfig::default(), &server_config);
    own.send_text(json.as_str()).unwrap();
    own.send_text(json.as_str()).unwrap();
    assert_eq!(drain_output(&mut own), wires[0]);

    // Large enough to be queued by reference: every connection hands out
    // the one compressed frame, not a compression of its own.
    let big = noisy_text(40_000, 3);
    let message = wsproto::PreparedMessage::text(big).compressed_for(&params);
    let mut fronts = Vec::new();
    for _ in 0..2 {
        let (_, mut server) =
            deflate_pair(Config::default(), &DeflateConfig::default(), &server_config);
        server.send_prepared(&message).unwrap();
        let front = server.poll_transmit().unwrap();
        assert!(front.len() > 4096 && front[0] & 0x40 != 0);
        fronts.push(front.as_ptr());
    }
    assert_eq!(fronts[0], fronts[1]);
}

/// A server connection's heap with deflate negotiated by `config` at both
/// ends: after a 2,000-byte JSON
/// message each way ("active"), then after `release_idle_buffers`
/// ("idle"). Only what the server does is measured: the client works
/// outside the measurement, and the thread's shared compressor (see
/// `src/extensions/deflate/shared.rs`) is made before it, as it belongs to
/// the thread, not to a connection.
fn server_memory(config: &DeflateConfig) -> (isize, isize) {
    let (client_params, server_params) = negotiate(config, config);
    let message = json_text(2000);
    drop(wsproto::PreparedMessage::text(message.clone()).compressed_for(&server_params));
    let mut client = Connection::new(Role::Client, Config::default());
    client.enable_deflate(client_params);
    let (mut server, mut active, _) = measure(|| {
        let mut server = Connection::new(Role::Server, Config::default());
        server.enable_deflate(server_params);
        server
    });
    for _ in 0..2 {
        client.send_text(&message).unwrap();
        let wire = drain_output(&mut client);
        let (reply, held, _) = measure(|| {
            server.handle_input(&wire);
            assert_eq!(events(&mut server), (vec![text(&message)], None));
            server.send_text(&message).unwrap();
            drain_output(&mut server)
        });
        // The reply is the test's, not the server's.
        active += held - reply.capacity() as isize;
        client.handle_input(&reply);
        assert_eq!(events(&mut client), (vec![text(&message)], None));
    }
    let ((), released, _) = measure(|| server.release_idle_buffers());
    (active, active + released)
}

/// What a deflate connection holds while active and once idle, at every
/// window size: with the defaults (the server keeping 4 KiB of context, the
/// client asked for no context takeover), with a compressor of its own
/// keeping the whole window and context taken over both ways (the defaults
/// before memory was made configurable, memory level 8 as zlib's), and
/// with no context takeover both ways. Printed with `--nocapture` for
/// `docs/deflate.md`.
#[test]
fn memory_active_and_idle_per_window() {
    for bits in 8..=15 {
        let config = DeflateConfig::default()
            .server_max_window_bits(bits)
            .client_max_window_bits(bits);
        let (active, idle) = server_memory(&config);
        eprintln!(
            "window bits {bits:>2}, defaults: active {active:>7} B ({:>6.1} KiB), \
             idle {idle:>7} B ({:>6.1} KiB)",
            active as f64 / 1024.0,
            idle as f64 / 1024.0
        );
        assert!(idle <= 4 << 10, "{bits}: idle {idle}");
        assert!(active <= 64 << 10, "{bits}: active {active}");
        let whole = config
            .client_no_context_takeover(false)
            .context_size(usize::MAX)
            .memory_level(8);
        let (active, idle) = server_memory(&whole);
        eprintln!(
            "window bits {bits:>2}, whole window, memory level 8: active {active:>7} B \
             ({:>6.1} KiB), idle {idle:>7} B ({:>6.1} KiB)",
            active as f64 / 1024.0,
            idle as f64 / 1024.0
        );
        // Both contexts kept: the decompressor, and the compressor but at
        // 8 bits (stored blocks, which refer to nothing, need none).
        let kept = if bits == 8 { 40 << 10 } else { 150 << 10 };
        assert!(idle > kept, "{bits}: idle {idle}");
    }
    for nct in [true] {
        for bits in 8..=15 {
            let config = DeflateConfig::default()
                .server_max_window_bits(bits)
                .client_max_window_bits(bits)
                .server_no_context_takeover(nct)
                .client_no_context_takeover(nct);
            let (active, idle) = server_memory(&config);
            eprintln!(
                "window bits {bits:>2}, no context takeover {nct:>5}: \
                 active {active:>7} B ({:>6.1} KiB), idle {idle:>7} B ({:>6.1} KiB)",
                active as f64 / 1024.0,
                idle as f64 / 1024.0
            );
            assert!(idle <= active, "{bits} {nct}: {idle} > {active}");
            if nct {
                // Nothing to keep between messages: the connection's codec
                // state goes with release_idle_buffers, and it never makes
                // a compressor of its own for whole messages.
                assert!(idle <= 4 << 10, "{bits}: idle {idle}");
                assert!(active <= 64 << 10, "{bits}: active {active}");
            }
        }
    }
}

/// Releasing while a streamed message is under way keeps its context: the
/// message's later pieces still refer to the earlier ones, on the sending
/// and on the receiving side, with and without context takeover.
#[test]
fn release_idle_buffers_inside_a_message_keeps_its_context() {
    let json = json_text(3000);
    let pieces: Vec<&str> = vec![&json[..1000], &json[1000..2000], &json[2000..]];
    for nct in [false, true] {
        let config = DeflateConfig::default()
            .server_no_context_takeover(nct)
            .client_no_context_takeover(nct);
        let (mut client, mut server) = deflate_pair(Config::default(), &config, &config);
        // The same without releasing: the bytes sent must not differ.
        let (_, mut kept) = deflate_pair(Config::default(), &config, &config);
        for round in 0..2 {
            let mut got = Vec::new();
            for (i, piece) in pieces.iter().enumerate() {
                let fin = i == pieces.len() - 1;
                server
                    .send_fragment(MessageKind::Text, piece.as_bytes(), fin)
                    .unwrap();
                kept.send_fragment(MessageKind::Text, piece.as_bytes(), fin)
                    .unwrap();
                server.release_idle_buffers();
                let wire = drain_output(&mut server);
                assert_eq!(wire, drain_output(&mut kept), "{nct} {round} {i}");
                // The receiver is handed each frame alone, and releases too.
                client.handle_input(&wire);
                client.release_idle_buffers();
                let (events, error) = events(&mut client);
                assert_eq!(error, None, "{nct} {round} {i}");
                got.extend(events);
            }
            assert_eq!(got, vec![text(&json)], "{nct} {round}");
        }
    }
}

/// A connection without context takeover compresses a message to the same
/// bytes whether its state was released in between or not, and whether
/// another connection on the thread (another window) compressed in between.
#[test]
fn released_and_shared_compressors_send_the_same_bytes() {
    let json = json_text(3000);
    let config = eager().server_no_context_takeover(true);
    let (_, mut server) = deflate_pair(Config::default(), &eager(), &config);
    let other_config = config.clone().server_max_window_bits(10);
    let (mut other_client, mut other) = deflate_pair(
        Config::default(),
        &eager().server_max_window_bits(10),
        &other_config,
    );
    let mut wires = Vec::new();
    for _ in 0..3 {
        server.send_text(json.as_str()).unwrap();
        wires.push(drain_output(&mut server));
        server.release_idle_buffers();
        other.send_text(json.as_str()).unwrap();
        other_client.handle_input(&drain_output(&mut other));
        assert_eq!(events(&mut other_client), (vec![text(&json)], None));
    }
    assert!(wires[0].len() < json.len() / 2);
    assert!(wires.windows(2).all(|w| w[0] == w[1]));
}

/// `memory_level` is zlib's memLevel for the sender: carried through the
/// negotiation into both ends' parameters, it sizes the compressor (112 KiB
/// apart between 1 and 8) and every level round-trips.
#[test]
fn memory_level_sizes_the_compressor() {
    let json = json_text(100_000);
    let mut sizes = Vec::new();
    for memory_level in [1u8, 4, 8, 9] {
        // A compressor of the connection's own: the whole window as context.
        let config = DeflateConfig::default()
            .level(6)
            .memory_level(memory_level)
            .context_size(usize::MAX);
        let (client_params, server_params) = negotiate(&config, &config);
        assert_eq!(
            (client_params.memory_level, server_params.memory_level),
            (memory_level, memory_level)
        );
        let mut client = Connection::new(Role::Client, Config::default());
        client.enable_deflate(client_params);
        let (mut server, _, _) = measure(|| {
            let mut server = Connection::new(Role::Server, Config::default());
            server.enable_deflate(server_params);
            server
        });
        client.send_text(json.as_str()).unwrap();
        server.handle_input(&drain_output(&mut client));
        assert_eq!(events(&mut server), (vec![text(&json)], None));
        let (wire, held, _) = measure(|| {
            server.send_text(json.as_str()).unwrap();
            drain_output(&mut server)
        });
        assert!(
            wire.len() < json.len() / 4,
            "{memory_level}: {}",
            wire.len()
        );
        client.handle_input(&wire);
        assert_eq!(events(&mut client), (vec![text(&json)], None));
        sizes.push(held - wire.capacity() as isize);
    }
    eprintln!("compressor and output space by memory level 1, 4, 8, 9: {sizes:?}");
    assert!(sizes.windows(2).all(|w| w[0] < w[1]), "{sizes:?}");
    assert!(sizes[2] - sizes[0] > 100 << 10, "{sizes:?}");
}

/// The defaults keep the last 4 KiB sent as context, through the thread's
/// compressor: a long run of whole and streamed messages of every size
/// (under, at and over the context), some repeated, with idle releases
/// between them, arrives intact; a message repeated right after itself
/// costs a few bytes when it fits the context, and each connection's bytes
/// are its own (two connections interleaved on one thread).
#[test]
fn recent_context_through_the_shared_compressor_round_trips() {
    let config = eager();
    let (mut client_a, mut server_a) = deflate_pair(Config::default(), &config, &config);
    let (mut client_b, mut server_b) = deflate_pair(Config::default(), &config, &config);
    for i in 0..40usize {
        let len = [10, 1000, 4095, 4096, 4097, 9000, 70_000][i % 7];
        let json = json_text(len + i);
        for (server, client) in [
            (&mut server_a, &mut client_a),
            (&mut server_b, &mut client_b),
        ] {
            if i % 4 == 1 {
                let (head, tail) = json.split_at(json.len() / 2);
                server
                    .send_fragment(MessageKind::Text, head.as_bytes(), false)
                    .unwrap();
                server
                    .send_fragment(MessageKind::Text, tail.as_bytes(), true)
                    .unwrap();
            } else {
                server.send_text(json.as_str()).unwrap();
            }
            let wire = drain_output(server);
            client.handle_input(&wire);
            assert_eq!(events(client), (vec![text(&json)], None), "{i} {len}");
            // The same again: all of it in the context when it fits.
            server.send_text(json.as_str()).unwrap();
            let again = drain_output(server);
            if json.len() <= 4096 - 10 && json.len() > 500 {
                assert!(again.len() < 40, "{i} {len}: {}", again.len());
            }
            client.handle_input(&again);
            assert_eq!(events(client), (vec![text(&json)], None), "{i} {len}");
            if i % 10 == 9 {
                server.release_idle_buffers();
                client.release_idle_buffers();
            }
        }
    }
}
