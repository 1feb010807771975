//! Helpers shared by the behaviour tests: an in-memory pair of endpoints and
//! a reader of what an endpoint wrote.
#![allow(dead_code)]

use wsproto::frame::{FrameDecoder, FrameHeader, OpCode, Status};
use wsproto::handshake::{Accept, ClientConfig, ClientHandshake, ServerHandshake, WsUrl};
use wsproto::{Config, Connection, Event, ProtocolError, Role};

/// Everything `conn` has queued for writing, drained.
pub fn drain_output(conn: &mut Connection) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(bytes) = conn.poll_transmit() {
        let n = bytes.len();
        out.extend_from_slice(bytes);
        conn.advance_transmit(n);
    }
    out
}

/// Frames written by an endpoint of `role`, decoded as its peer would.
pub fn frames_sent_by(role: Role, wire: Vec<u8>) -> Vec<(FrameHeader, Vec<u8>)> {
    let decoder = FrameDecoder::new(role.peer()).with_max_payload(u64::MAX >> 1);
    decode_frames(&decoder, wire)
}

/// Every frame in `wire`, decoded by `decoder`; an invalid or truncated
/// frame panics.
pub fn decode_frames(decoder: &FrameDecoder, mut wire: Vec<u8>) -> Vec<(FrameHeader, Vec<u8>)> {
    let mut frames = Vec::new();
    let mut at = 0;
    while at < wire.len() {
        match decoder
            .decode(&mut wire[at..])
            .expect("endpoint wrote an invalid frame")
        {
            Status::Complete(frame) => {
                frames.push((frame.header, frame.payload.to_vec()));
                at += frame.consumed;
            }
            Status::Partial => panic!("endpoint wrote a truncated frame"),
        }
    }
    frames
}

/// The close code in the single close frame `conn` wrote, if any.
pub fn sent_close_code(conn: &mut Connection) -> Option<u16> {
    let role = conn.role();
    close_code_in(&frames_sent_by(role, drain_output(conn)))
}

/// The code of the first close frame among `frames`, if any.
pub fn close_code_in(frames: &[(FrameHeader, Vec<u8>)]) -> Option<u16> {
    frames
        .iter()
        .find(|(h, _)| h.opcode == OpCode::Close)
        .map(|(_, p)| u16::from_be_bytes([p[0], p[1]]))
}

/// Every event `conn` yields from its buffered input; the error, if any, last.
pub fn events(conn: &mut Connection) -> (Vec<Event>, Option<ProtocolError>) {
    let mut out = Vec::new();
    loop {
        match conn.poll_event() {
            Ok(Some(event)) => out.push(event),
            Ok(None) => return (out, None),
            Err(error) => return (out, Some(error)),
        }
    }
}

/// A client and a server connection, already open.
pub fn pair(config: Config) -> (Connection, Connection) {
    (
        Connection::new(Role::Client, config.clone()),
        Connection::new(Role::Server, config),
    )
}

/// A client and a server that ran the opening handshake in memory, as on
/// the wire: the client's request written and parsed, the server's 101
/// written and checked. Each side's connection is what its handshake
/// handed over.
pub fn handshake_pair(client: ClientConfig, server: Accept) -> (Connection, Connection) {
    let url = WsUrl::parse("ws://example.com/chat").unwrap();
    let mut handshake = ClientHandshake::new(&url, client, [7; 16]).unwrap();
    let request = handshake.request_to_vec().unwrap();
    let request = ServerHandshake::new(Default::default())
        .handle_input(&request)
        .unwrap()
        .complete()
        .expect("the request is complete");
    let accepted = request.accept(server).unwrap();
    let response = accepted.response.to_vec().unwrap();
    let done = handshake
        .handle_input(&response)
        .unwrap()
        .complete()
        .expect("the response is complete");
    (done.connection, accepted.connection)
}

/// Moves `from`'s output into `to`'s input and returns `to`'s events.
pub fn pump(from: &mut Connection, to: &mut Connection) -> Vec<Event> {
    let bytes = drain_output(from);
    to.handle_input(&bytes);
    let (events, error) = events(to);
    assert_eq!(error, None);
    events
}

/// A masked client frame, as a server receives it.
pub fn client_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    raw_frame(fin, 0, opcode, Some([0x11, 0x22, 0x33, 0x44]), payload)
}

/// Any frame, legal or not, written by hand.
pub fn raw_frame(fin: bool, rsv: u8, opcode: u8, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![(fin as u8) << 7 | rsv << 4 | opcode];
    let m = (mask.is_some() as u8) << 7;
    match payload.len() {
        n if n < 126 => out.push(m | n as u8),
        n if n <= 0xffff => {
            out.push(m | 126);
            out.extend_from_slice(&(n as u16).to_be_bytes());
        }
        n => {
            out.push(m | 127);
            out.extend_from_slice(&(n as u64).to_be_bytes());
        }
    }
    let mut body = payload.to_vec();
    if let Some(key) = mask {
        out.extend_from_slice(&key);
        for (i, b) in body.iter_mut().enumerate() {
            *b ^= key[i % 4];
        }
    }
    out.extend_from_slice(&body);
    out
}

/// Deterministic noise: incompressible (xorshift from `seed`).
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}
