//! Structured frames, encoded with `encode_frame` and decoded by the peer.
//!
//! Invariants asserted:
//! - for a frame legal for the sender's role (reserved bits allowed, control
//!   frames final and at most 125 bytes, masked exactly when a client sends,
//!   within the receiver's payload limit), decode(encode(x)) == x: the same
//!   header (masking key included) and payload, consuming exactly the bytes
//!   written, and bytes after the frame untouched;
//! - for an illegal one, decoding fails with one of the errors its faults call
//!   for (whichever the decoder checks first);
//! - the encoder writes the minimal length form; one byte short of the size it
//!   needs, it reports that size and writes nothing; the header-only path plus
//!   in-place masking (for vectored writes) gives the same bytes.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use wsproto::frame::{
    encode_frame, FrameDecoder, FrameHeader, OpCode, Rsv, Status, MAX_HEADER_LEN,
};
use wsproto::mask::apply_mask;
use wsproto::{BufferTooSmall, ProtocolError, Role};

#[derive(Arbitrary, Debug)]
enum Sender {
    Client,
    Server,
}

#[derive(Arbitrary, Debug)]
enum Op {
    Continuation,
    Text,
    Binary,
    Close,
    Ping,
    Pong,
}

#[derive(Arbitrary, Debug)]
struct Input {
    sender: Sender,
    opcode: Op,
    fin: bool,
    rsv: u8,
    allowed_rsv: u8,
    mask: Option<[u8; 4]>,
    /// The receiver's payload limit; `None` for the default.
    max_payload: Option<u16>,
    payload: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let sender = match input.sender {
        Sender::Client => Role::Client,
        Sender::Server => Role::Server,
    };
    let opcode = match input.opcode {
        Op::Continuation => OpCode::Continuation,
        Op::Text => OpCode::Text,
        Op::Binary => OpCode::Binary,
        Op::Close => OpCode::Close,
        Op::Ping => OpCode::Ping,
        Op::Pong => OpCode::Pong,
    };
    let payload = &input.payload[..];
    let len = payload.len() as u64;
    let header = FrameHeader {
        fin: input.fin,
        rsv: Rsv::from_bits(input.rsv),
        opcode,
        mask: input.mask,
        payload_len: len,
    };
    let allowed_rsv = Rsv::from_bits(input.allowed_rsv);
    let mut decoder = FrameDecoder::new(sender.peer()).with_allowed_rsv(allowed_rsv);
    if let Some(max) = input.max_payload {
        decoder = decoder.with_max_payload(max.into());
    }

    // Encode: exactly the size required, the minimal length form.
    let header_len =
        2 + match len {
            0..=125 => 0,
            126..=65535 => 2,
            _ => 8,
        } + if header.mask.is_some() { 4 } else { 0 };
    assert_eq!(header.encoded_len(), header_len);
    let required = header_len + payload.len();
    let mut short = vec![0xa5; required - 1];
    assert_eq!(
        encode_frame(header, payload, &mut short),
        Err(BufferTooSmall { required })
    );
    assert!(short.iter().all(|&b| b == 0xa5), "a failed encode wrote");
    // Three guard bytes after the frame, standing in for the next one.
    let mut wire = vec![0xee; required + 3];
    assert_eq!(encode_frame(header, payload, &mut wire), Ok(required));
    assert_eq!(wire[required..], [0xee; 3]);

    // The vectored-write path gives the same bytes.
    let mut head = [0; MAX_HEADER_LEN];
    assert_eq!(header.encode(&mut head), Ok(header_len));
    assert_eq!(head[..header_len], wire[..header_len]);
    let mut body = payload.to_vec();
    if let Some(key) = header.mask {
        apply_mask(&mut body, key);
    }
    assert!(body[..] == wire[header_len..required]);

    // The faults this frame has for its receiver.
    let mut faults = Vec::new();
    if !allowed_rsv.contains(header.rsv) {
        faults.push(ProtocolError::ReservedBits(header.rsv.bits()));
    }
    if opcode.is_control() && !header.fin {
        faults.push(ProtocolError::FragmentedControlFrame);
    }
    if opcode.is_control() && len > 125 {
        // Reported as the 7-bit length field, which says 126 or 127.
        faults.push(ProtocolError::ControlFrameTooLong(u64::from(
            wire[1] & 0x7f,
        )));
    }
    match (sender, header.mask) {
        (Role::Client, None) => faults.push(ProtocolError::UnmaskedFrame),
        (Role::Server, Some(_)) => faults.push(ProtocolError::MaskedFrame),
        _ => {}
    }
    if len > decoder.max_payload() {
        faults.push(ProtocolError::FrameTooLarge {
            len,
            max: decoder.max_payload(),
        });
    }

    match decoder.decode(&mut wire) {
        Ok(Status::Complete(frame)) => {
            assert!(faults.is_empty(), "accepted a frame with faults {faults:?}");
            assert_eq!(frame.header, header);
            assert!(frame.payload[..] == *payload);
            assert_eq!(frame.consumed, required);
        }
        Ok(Status::Partial) => panic!("a whole frame decoded as partial"),
        Err(e) => assert!(
            faults.contains(&e),
            "{e:?} is none of the faults {faults:?}"
        ),
    }
    assert_eq!(
        wire[required..],
        [0xee; 3],
        "the decoder touched the next frame"
    );
});
