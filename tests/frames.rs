//! The frame layer (RFC 6455 §5) from the outside: the §5.7 examples byte for
//! byte, every rule with a malformed input and the exact error it must give,
//! the close code each error maps to, and property tests (encode/decode round
//! trips in both roles; any split of a stream decodes to the same frames).

use proptest::prelude::*;
use wsproto::frame::{
    encode_frame, FrameDecoder, FrameHeader, OpCode, Rsv, Status, DEFAULT_MAX_FRAME_PAYLOAD,
    MAX_HEADER_LEN,
};
use wsproto::{BufferTooSmall, CloseCode, ProtocolError, Role};

const ALL_OPCODES: [OpCode; 6] = [
    OpCode::Continuation,
    OpCode::Text,
    OpCode::Binary,
    OpCode::Close,
    OpCode::Ping,
    OpCode::Pong,
];
const RESERVED_OPCODES: [u8; 10] = [3, 4, 5, 6, 7, 11, 12, 13, 14, 15];
const ROLES: [Role; 2] = [Role::Client, Role::Server];
const RFC_KEY: [u8; 4] = [0x37, 0xfa, 0x21, 0x3d];

/// A frame as the tests compare it: the header and an owned payload.
type OwnedFrame = (FrameHeader, Vec<u8>);

/// Decodes one whole frame from `wire`, which must hold exactly one frame.
fn decode_one(decoder: FrameDecoder, wire: &[u8]) -> OwnedFrame {
    let mut buf = wire.to_vec();
    match decoder.decode(&mut buf) {
        Ok(Status::Complete(frame)) => {
            assert_eq!(
                frame.consumed,
                wire.len(),
                "the frame must take the whole input"
            );
            (frame.header, frame.payload.to_vec())
        }
        other => panic!("expected a complete frame, got {other:?}"),
    }
}

/// The error decoding `wire` gives (whatever follows the bytes given).
fn decode_err(decoder: FrameDecoder, wire: &[u8]) -> ProtocolError {
    let mut buf = wire.to_vec();
    match decoder.decode(&mut buf) {
        Err(e) => e,
        Ok(status) => panic!("expected an error, got {status:?}"),
    }
}

/// Encodes a frame into a vector of exactly the size required.
fn encode(header: FrameHeader, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0; MAX_HEADER_LEN + payload.len()];
    let n = encode_frame(header, payload, &mut out).expect("buffer is large enough");
    out.truncate(n);
    out
}

fn header(opcode: OpCode, fin: bool, mask: Option<[u8; 4]>, len: u64) -> FrameHeader {
    FrameHeader {
        fin,
        rsv: Rsv::NONE,
        opcode,
        mask,
        payload_len: len,
    }
}

/// The role that receives what `sender` sends.
fn receiver(sender: Role) -> FrameDecoder {
    FrameDecoder::new(sender.peer())
}

/// A receive buffer as a connection keeps one: append what arrived, decode
/// frames while whole ones are there, drain what they consumed.
#[derive(Default)]
struct ReceiveBuffer {
    buf: Vec<u8>,
    frames: Vec<OwnedFrame>,
    /// Everything received, as it arrived, and where `buf` starts in it: the
    /// decoder may change only the frames it completes.
    raw: Vec<u8>,
    start: usize,
}

impl ReceiveBuffer {
    /// Appends `chunk` and decodes every whole frame now present; stops at
    /// the first error and returns it.
    fn receive(&mut self, decoder: FrameDecoder, chunk: &[u8]) -> Result<(), ProtocolError> {
        self.buf.extend_from_slice(chunk);
        self.raw.extend_from_slice(chunk);
        loop {
            let len = self.buf.len();
            let consumed = match decoder.decode(&mut self.buf)? {
                Status::Complete(frame) => {
                    assert!(frame.consumed > 0 && frame.consumed <= len);
                    self.frames.push((frame.header, frame.payload.to_vec()));
                    frame.consumed
                }
                Status::Partial => 0,
            };
            // Bytes after the frame (all of them, on a partial decode) are
            // left untouched. Checking a bounded window keeps byte-at-a-time
            // feeding of large frames linear.
            let after = self.start + consumed;
            let window = (len - consumed).min(512);
            assert_eq!(
                self.buf[consumed..consumed + window],
                self.raw[after..after + window],
                "the decoder changed bytes it did not consume"
            );
            if consumed == 0 {
                // "Need more bytes" consumes nothing.
                return Ok(());
            }
            self.buf.drain(..consumed);
            self.start = after;
        }
    }
}

/// Feeds `wire` in chunks of the given sizes (cycled; the rest whole at the
/// end). Returns the frames decoded, and the error if one stopped decoding.
fn feed_in_chunks(
    decoder: FrameDecoder,
    wire: &[u8],
    sizes: &[usize],
) -> (Vec<OwnedFrame>, Option<ProtocolError>) {
    let mut rx = ReceiveBuffer::default();
    let mut rest = wire;
    let mut sizes = sizes.iter().cycle();
    while !rest.is_empty() {
        let n = sizes.next().map_or(rest.len(), |&n| n.clamp(1, rest.len()));
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        if let Err(e) = rx.receive(decoder, chunk) {
            return (rx.frames, Some(e));
        }
    }
    (rx.frames, None)
}

// ---------------------------------------------------------------------------
// RFC 6455 §5.7, byte for byte: decoded by the receiver, and encoded by the
// sender into exactly the same bytes.

/// Checks that `wire` decodes (by the receiver of `sender`) to `expected`, and
/// that encoding `expected` as `sender` gives `wire` back.
fn check_vector(sender: Role, wire: &[u8], expected: FrameHeader, payload: &[u8]) {
    assert_eq!(
        decode_one(receiver(sender), wire),
        (expected, payload.to_vec())
    );
    assert_eq!(encode(expected, payload), wire);
    // Every proper prefix is "need more bytes".
    for cut in 0..wire.len() {
        let mut buf = wire[..cut].to_vec();
        assert_eq!(
            receiver(sender).decode(&mut buf),
            Ok(Status::Partial),
            "cut at {cut}"
        );
    }
}

#[test]
fn rfc_single_frame_unmasked_text() {
    // "A single-frame unmasked text message: 0x81 0x05 0x48 0x65 0x6c 0x6c 0x6f
    // (contains "Hello")"
    let wire = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    check_vector(
        Role::Server,
        &wire,
        header(OpCode::Text, true, None, 5),
        b"Hello",
    );
}

#[test]
fn rfc_single_frame_masked_text() {
    // "A single-frame masked text message: 0x81 0x85 0x37 0xfa 0x21 0x3d 0x7f
    // 0x9f 0x4d 0x51 0x58 (contains "Hello")"
    let wire = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    check_vector(
        Role::Client,
        &wire,
        header(OpCode::Text, true, Some(RFC_KEY), 5),
        b"Hello",
    );
}

#[test]
fn rfc_fragmented_unmasked_text() {
    // "A fragmented unmasked text message: 0x01 0x03 0x48 0x65 0x6c (contains
    // "Hel") 0x80 0x02 0x6c 0x6f (contains "lo")"
    let first = [0x01, 0x03, 0x48, 0x65, 0x6c];
    let second = [0x80, 0x02, 0x6c, 0x6f];
    check_vector(
        Role::Server,
        &first,
        header(OpCode::Text, false, None, 3),
        b"Hel",
    );
    check_vector(
        Role::Server,
        &second,
        header(OpCode::Continuation, true, None, 2),
        b"lo",
    );

    // Both in one stream, whole and byte by byte.
    let wire = [&first[..], &second[..]].concat();
    let expected = vec![
        (header(OpCode::Text, false, None, 3), b"Hel".to_vec()),
        (header(OpCode::Continuation, true, None, 2), b"lo".to_vec()),
    ];
    let decoder = FrameDecoder::new(Role::Client);
    assert_eq!(
        feed_in_chunks(decoder, &wire, &[]),
        (expected.clone(), None)
    );
    assert_eq!(feed_in_chunks(decoder, &wire, &[1]), (expected, None));
}

#[test]
fn rfc_unmasked_ping_and_masked_pong() {
    // "Unmasked Ping request and masked Ping response: 0x89 0x05 0x48 0x65 0x6c
    // 0x6c 0x6f (contains a body of "Hello", but the contents of the body are
    // arbitrary) 0x8a 0x85 0x37 0xfa 0x21 0x3d 0x7f 0x9f 0x4d 0x51 0x58
    // (contains a body of "Hello", matching the body of the ping)"
    let ping = [0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    check_vector(
        Role::Server,
        &ping,
        header(OpCode::Ping, true, None, 5),
        b"Hello",
    );
    let pong = [
        0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    check_vector(
        Role::Client,
        &pong,
        header(OpCode::Pong, true, Some(RFC_KEY), 5),
        b"Hello",
    );
}

#[test]
fn unmasked_pong() {
    // The unmasked form of the pong above, as a server sends it.
    let pong = [0x8a, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    check_vector(
        Role::Server,
        &pong,
        header(OpCode::Pong, true, None, 5),
        b"Hello",
    );
}

#[test]
fn rfc_256_bytes_binary_in_a_single_unmasked_frame() {
    // "256 bytes binary message in a single unmasked frame: 0x82 0x7E 0x0100
    // [256 bytes of binary data]"
    let payload: Vec<u8> = (0..=255).collect();
    let wire = [&[0x82, 0x7e, 0x01, 0x00][..], &payload].concat();
    check_vector(
        Role::Server,
        &wire,
        header(OpCode::Binary, true, None, 256),
        &payload,
    );
}

#[test]
fn rfc_64k_binary_in_a_single_unmasked_frame() {
    // "64KiB binary message in a single unmasked frame: 0x82 0x7F
    // 0x0000000000010000 [65536 bytes of binary data]"
    let payload: Vec<u8> = (0..65536u32).map(|i| (i * 31 + 7) as u8).collect();
    let wire = [&[0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0][..], &payload].concat();
    let expected = header(OpCode::Binary, true, None, 65536);
    assert_eq!(
        decode_one(FrameDecoder::new(Role::Client), &wire),
        (expected, payload.clone())
    );
    assert_eq!(encode(expected, &payload), wire);
    // The header alone, and the header with all but one payload byte, are partial.
    for cut in [1, 2, 9, 10, wire.len() - 1] {
        let mut buf = wire[..cut].to_vec();
        assert_eq!(
            FrameDecoder::new(Role::Client).decode(&mut buf),
            Ok(Status::Partial)
        );
    }
}

// ---------------------------------------------------------------------------
// Every rule, with a malformed input and the exact error it must give.

#[test]
fn reserved_opcodes_are_rejected_in_both_roles() {
    // §5.2: "%x3-7 are reserved for further non-control frames", "%xB-F are
    // reserved for further control frames"; "If an unknown opcode is
    // received, the receiving endpoint MUST _Fail the WebSocket Connection_."
    for role in ROLES {
        let decoder = FrameDecoder::new(role);
        let mask_bit = if role == Role::Server { 0x80 } else { 0 };
        for op in RESERVED_OPCODES {
            let expected = ProtocolError::ReservedOpcode(op);
            for fin in [0x80, 0x00] {
                let wire = [fin | op, mask_bit, 1, 2, 3, 4];
                assert_eq!(decode_err(decoder, &wire), expected, "{role:?} opcode {op}");
                // Judged from the first byte alone.
                assert_eq!(
                    decode_err(decoder, &wire[..1]),
                    expected,
                    "{role:?} opcode {op}"
                );
            }
        }
        for op in ALL_OPCODES {
            assert_eq!(OpCode::from_u8(op as u8), Some(op));
        }
    }
}

#[test]
fn reserved_bits_are_rejected_unless_allowed() {
    // §5.2: "RSV1, RSV2, RSV3: 1 bit each. MUST be 0 unless an extension is
    // negotiated that defines meanings for non-zero values."
    for role in ROLES {
        let mask_bit = if role == Role::Server { 0x80 } else { 0 };
        for bits in 1..8u8 {
            let wire = [0x80 | bits << 4 | 0x2, mask_bit, 1, 2, 3, 4];
            let plain = FrameDecoder::new(role);
            assert_eq!(decode_err(plain, &wire), ProtocolError::ReservedBits(bits));
            assert_eq!(
                decode_err(plain, &wire[..1]),
                ProtocolError::ReservedBits(bits)
            );

            // Allowed: exactly these bits, or a superset of them.
            for allowed in [Rsv::from_bits(bits), Rsv::from_bits(0b111)] {
                let decoder = FrameDecoder::new(role).with_allowed_rsv(allowed);
                let len = if role == Role::Server { 6 } else { 2 };
                let (h, payload) = decode_one(decoder, &wire[..len]);
                assert_eq!(
                    (h.rsv, h.opcode, payload.len()),
                    (Rsv::from_bits(bits), OpCode::Binary, 0)
                );
            }
        }
    }
    // RSV1 allowed (permessage-deflate) does not allow RSV2; the error reports
    // every reserved bit the frame set.
    let deflate = FrameDecoder::new(Role::Client).with_allowed_rsv(Rsv::RSV1);
    assert_eq!(decode_one(deflate, &[0xc1, 0x00]).0.rsv, Rsv::RSV1);
    assert_eq!(
        decode_err(deflate, &[0xa1, 0x00]),
        ProtocolError::ReservedBits(0b010)
    );
    assert_eq!(
        decode_err(deflate, &[0xe1, 0x00]),
        ProtocolError::ReservedBits(0b110)
    );
}

#[test]
fn control_frames_must_not_be_fragmented() {
    // §5.5: "All control frames [...] MUST NOT be fragmented."
    for role in ROLES {
        let mask_bit = if role == Role::Server { 0x80 } else { 0 };
        for op in [OpCode::Close, OpCode::Ping, OpCode::Pong] {
            let wire = [op as u8, mask_bit, 1, 2, 3, 4];
            let err = decode_err(FrameDecoder::new(role), &wire[..2]);
            assert_eq!(
                err,
                ProtocolError::FragmentedControlFrame,
                "{role:?} {op:?}"
            );
        }
    }
}

#[test]
fn control_frames_carry_at_most_125_bytes() {
    // §5.5: "All control frames MUST have a payload length of 125 bytes or less".
    for op in [OpCode::Close, OpCode::Ping, OpCode::Pong] {
        let b0 = 0x80 | op as u8;
        let decoder = FrameDecoder::new(Role::Client);
        // 125 is fine.
        let wire = [&[b0, 125][..], &[0x20; 125]].concat();
        assert_eq!(decode_one(decoder, &wire).1.len(), 125);
        // 126 and 127 (the extended forms) are rejected from the second byte,
        // whatever the extended length says.
        assert_eq!(
            decode_err(decoder, &[b0, 126]),
            ProtocolError::ControlFrameTooLong(126)
        );
        assert_eq!(
            decode_err(decoder, &[b0, 126, 0, 5]),
            ProtocolError::ControlFrameTooLong(126)
        );
        assert_eq!(
            decode_err(decoder, &[b0, 127]),
            ProtocolError::ControlFrameTooLong(127)
        );
        // The same for a server receiving masked control frames.
        let err = decode_err(FrameDecoder::new(Role::Server), &[b0, 0x80 | 126]);
        assert_eq!(err, ProtocolError::ControlFrameTooLong(126));
    }
}

#[test]
fn a_server_rejects_unmasked_frames() {
    // §5.1: "The server MUST close the connection upon receiving a frame that
    // is not masked."
    let decoder = FrameDecoder::new(Role::Server);
    for op in ALL_OPCODES {
        let err = decode_err(decoder, &[0x80 | op as u8, 0x00]);
        assert_eq!(err, ProtocolError::UnmaskedFrame, "{op:?}");
    }
    let hello = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    assert_eq!(decode_err(decoder, &hello), ProtocolError::UnmaskedFrame);
}

#[test]
fn a_client_rejects_masked_frames() {
    // §5.1: "A client MUST close a connection if it detects a masked frame."
    let decoder = FrameDecoder::new(Role::Client);
    for op in ALL_OPCODES {
        let err = decode_err(decoder, &[0x80 | op as u8, 0x80]);
        assert_eq!(err, ProtocolError::MaskedFrame, "{op:?}");
    }
    let hello = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    assert_eq!(decode_err(decoder, &hello), ProtocolError::MaskedFrame);
}

#[test]
fn a_64_bit_length_with_its_top_bit_set_is_rejected() {
    // §5.2: "If 127, the following 8 bytes interpreted as a 64-bit unsigned
    // integer (the most significant bit MUST be 0) are the payload length."
    let unlimited = u64::MAX;
    for (role, mask_bit) in [(Role::Client, 0x00), (Role::Server, 0x80)] {
        let decoder = FrameDecoder::new(role).with_max_payload(unlimited);
        for len in [1 << 63, u64::MAX, (1 << 63) | 5] {
            let wire = [&[0x82, mask_bit | 127][..], &len.to_be_bytes()].concat();
            assert_eq!(
                decode_err(decoder, &wire),
                ProtocolError::LengthOverflow,
                "{len:#x}"
            );
        }
        // The largest legal length passes the header checks (and waits for
        // its payload).
        let wire = [
            &[0x82, mask_bit | 127][..],
            &(u64::MAX >> 1).to_be_bytes(),
            &[7; 4][..mask_bit as usize / 32], // the key, for a server
        ]
        .concat();
        let (h, n) = decoder.decode_header(&wire).unwrap().complete().unwrap();
        assert_eq!((h.payload_len, n), (u64::MAX >> 1, wire.len()));
        assert_eq!(h.mask, (role == Role::Server).then_some([7; 4]));
        assert_eq!(decoder.decode(&mut wire.clone()), Ok(Status::Partial));
    }
}

#[test]
fn the_payload_limit_is_checked_from_the_header_alone() {
    // A frame over the limit fails as soon as its length is known, before any
    // payload (or the masking key) has arrived.
    for (role, mask_bit) in [(Role::Client, 0x00), (Role::Server, 0x80)] {
        for (max, len) in [
            (0u64, 1u64),
            (100, 101),
            (125, 126),
            (65535, 65536),
            (65536, 1 << 40),
        ] {
            let decoder = FrameDecoder::new(role).with_max_payload(max);
            let mut wire = vec![0x82];
            if len < 126 {
                wire.push(mask_bit | len as u8);
            } else if len <= 65535 {
                wire.push(mask_bit | 126);
                wire.extend_from_slice(&(len as u16).to_be_bytes());
            } else {
                wire.push(mask_bit | 127);
                wire.extend_from_slice(&len.to_be_bytes());
            }
            assert_eq!(
                decode_err(decoder, &wire),
                ProtocolError::FrameTooLarge { len, max }
            );
            // One byte less is accepted (and waits for its payload).
            let at_limit = FrameDecoder::new(role).with_max_payload(len);
            assert_eq!(at_limit.decode(&mut wire.clone()), Ok(Status::Partial));
        }
    }
    // The default limit.
    let decoder = FrameDecoder::new(Role::Client);
    assert_eq!(decoder.max_payload(), DEFAULT_MAX_FRAME_PAYLOAD);
    let len = DEFAULT_MAX_FRAME_PAYLOAD + 1;
    let wire = [&[0x82, 127][..], &len.to_be_bytes()].concat();
    let max = DEFAULT_MAX_FRAME_PAYLOAD;
    assert_eq!(
        decode_err(decoder, &wire),
        ProtocolError::FrameTooLarge { len, max }
    );
}

#[test]
fn the_encoder_reports_the_size_required_and_writes_nothing() {
    for (mask, len) in [
        (None, 0),
        (None, 5),
        (Some([1, 2, 3, 4]), 5),
        (None, 300),
        (Some([9; 4]), 70_000),
    ] {
        let payload = vec![0x5a; len];
        let h = FrameHeader {
            mask,
            ..FrameHeader::new(OpCode::Binary, 0)
        };
        let required = encode(h, &payload).len();
        for short in [0, 1, required / 2, required - 1] {
            let mut out = vec![0xAA; short];
            assert_eq!(
                encode_frame(h, &payload, &mut out),
                Err(BufferTooSmall { required })
            );
            assert!(out.iter().all(|&b| b == 0xAA), "nothing may be written");
        }
        // Room to spare: exactly `required` bytes are written, no more.
        let mut out = vec![0xAA; required + 3];
        assert_eq!(encode_frame(h, &payload, &mut out), Ok(required));
        assert_eq!(out[required..], [0xAA; 3]);

        // The header alone, for a vectored write.
        let h = FrameHeader {
            payload_len: len as u64,
            ..h
        };
        let header_len = h.encoded_len();
        let mut out = vec![0xAA; header_len - 1];
        assert_eq!(
            h.encode(&mut out),
            Err(BufferTooSmall {
                required: header_len
            })
        );
        assert!(out.iter().all(|&b| b == 0xAA));
    }
}

#[test]
fn the_encoder_uses_the_minimal_length_form() {
    // §5.2: "in all cases, the minimal number of bytes MUST be used to encode
    // the length".
    let cases: [(usize, &[u8]); 6] = [
        (0, &[0x82, 0]),
        (125, &[0x82, 125]),
        (126, &[0x82, 126, 0, 126]),
        (65535, &[0x82, 126, 0xff, 0xff]),
        (65536, &[0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]),
        (70_000, &[0x82, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]),
    ];
    for (len, head) in cases {
        let payload = vec![7; len];
        let wire = encode(FrameHeader::new(OpCode::Binary, 0), &payload);
        assert_eq!(&wire[..head.len()], head, "{len}");
        assert_eq!(wire.len(), head.len() + len);
        // Masked: the same length form, the key after it.
        let masked = FrameHeader {
            mask: Some([1, 2, 3, 4]),
            ..FrameHeader::new(OpCode::Binary, 0)
        };
        let wire = encode(masked, &payload);
        assert_eq!(wire[1], 0x80 | head[1]);
        assert_eq!(wire[2..head.len()], head[2..]);
        assert_eq!(wire[head.len()..head.len() + 4], [1, 2, 3, 4]);
    }
}

#[test]
fn the_decoder_accepts_non_minimal_lengths() {
    // The encoder must use the minimal form; a receiver is not told to reject
    // a longer one, so it is accepted.
    let decoder = FrameDecoder::new(Role::Client);
    let wire = [0x82, 126, 0, 5, 1, 2, 3, 4, 5];
    assert_eq!(
        decode_one(decoder, &wire),
        (FrameHeader::new(OpCode::Binary, 5), vec![1, 2, 3, 4, 5])
    );
    let wire = [0x82, 127, 0, 0, 0, 0, 0, 0, 0, 5, 1, 2, 3, 4, 5];
    assert_eq!(
        decode_one(decoder, &wire),
        (FrameHeader::new(OpCode::Binary, 5), vec![1, 2, 3, 4, 5])
    );
    let wire = [&[0x82, 127, 0, 0, 0, 0, 0, 0, 1, 0][..], &[9; 256]].concat();
    assert_eq!(
        decode_one(decoder, &wire),
        (FrameHeader::new(OpCode::Binary, 256), vec![9; 256])
    );
    // A control frame may use the 7-bit form only, so it has no non-minimal form.
    let wire = [0x89, 0, 1, 2, 3, 4, 5];
    assert_eq!(
        decode_err(decoder, &[0x89, 126, 0, 5]),
        ProtocolError::ControlFrameTooLong(126)
    );
    assert_eq!(
        decode_one(decoder, &wire[..2]).0,
        FrameHeader::new(OpCode::Ping, 0)
    );
}

#[test]
fn errors_map_to_close_codes() {
    // §7.4.1: 1002 for a protocol error, 1009 for a message too big to
    // process, 1007 for data inconsistent with the message type.
    use ProtocolError::*;
    let table = [
        (ReservedOpcode(3), 1002),
        (ReservedBits(0b100), 1002),
        (FragmentedControlFrame, 1002),
        (ControlFrameTooLong(126), 1002),
        (UnmaskedFrame, 1002),
        (MaskedFrame, 1002),
        (LengthOverflow, 1002),
        (UnexpectedContinuation, 1002),
        (ExpectedContinuation, 1002),
        (ClosePayloadTooShort, 1002),
        (InvalidCloseCode(1005), 1002),
        (CompressedControlOrContinuation, 1002),
        (FrameTooLarge { len: 2, max: 1 }, 1009),
        (MessageTooLarge { max: 1 }, 1009),
        (TooManyFragments { max: 1 }, 1009),
        (InvalidUtf8, 1007),
        (InvalidCloseReason, 1007),
        (BadCompressedData, 1007),
    ];
    for (err, code) in table {
        assert_eq!(err.close_code(), CloseCode(code), "{err:?}");
        assert!(err.close_code().is_valid_on_wire());
    }
    assert_eq!(CloseCode::PROTOCOL_ERROR, CloseCode(1002));
    assert_eq!(CloseCode::MESSAGE_TOO_BIG, CloseCode(1009));
    assert_eq!(CloseCode::INVALID_PAYLOAD, CloseCode(1007));
}

#[test]
fn a_bad_frame_after_good_ones_fails_at_every_split() {
    // Two good frames, then a reserved opcode: the same frames come out and
    // then the same error, whatever the split.
    let wire = [
        &[0x89, 0x00][..],
        &[0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f],
        &[0x83, 0x00],
        &[0x81, 0x00],
    ]
    .concat();
    let expected = vec![
        (FrameHeader::new(OpCode::Ping, 0), vec![]),
        (FrameHeader::new(OpCode::Text, 5), b"Hello".to_vec()),
    ];
    let decoder = FrameDecoder::new(Role::Client);
    for cut in 0..=wire.len() {
        let result = feed_in_chunks(decoder, &wire, &[cut.max(1), wire.len()]);
        assert_eq!(
            result,
            (expected.clone(), Some(ProtocolError::ReservedOpcode(3))),
            "cut {cut}"
        );
    }
    assert_eq!(
        feed_in_chunks(decoder, &wire, &[1]),
        (expected, Some(ProtocolError::ReservedOpcode(3)))
    );
}

// ---------------------------------------------------------------------------
// Properties.

/// A frame legal for its sender, with the decoder that must accept it.
#[derive(Clone, Debug)]
struct LegalFrame {
    sender: Role,
    header: FrameHeader,
    payload: Vec<u8>,
}

impl LegalFrame {
    fn decoder(&self) -> FrameDecoder {
        receiver(self.sender).with_allowed_rsv(self.header.rsv)
    }
}

fn payload(max_len: usize) -> impl Strategy<Value = Vec<u8>> {
    // Mostly short (the 7- and 16-bit length forms), occasionally large, and
    // sometimes just around 64 KiB, where the 64-bit form starts.
    let bytes =
        |range: core::ops::RangeInclusive<usize>| proptest::collection::vec(any::<u8>(), range);
    let small = bytes(0..=300.min(max_len));
    if max_len < 70_000 {
        return small.boxed();
    }
    prop_oneof![12 => small, 1 => bytes(0..=max_len), 1 => bytes(65_530..=max_len)].boxed()
}

fn legal_frame(sender: Role) -> impl Strategy<Value = LegalFrame> {
    let opcode = proptest::sample::select(&ALL_OPCODES[..]);
    (opcode, any::<bool>(), 0..8u8, any::<[u8; 4]>()).prop_flat_map(
        move |(opcode, fin, rsv, key)| {
            let control = opcode.is_control();
            let max_len = if control { 125 } else { 70_000 };
            payload(max_len).prop_map(move |payload| LegalFrame {
                sender,
                header: FrameHeader {
                    fin: fin || control,
                    rsv: Rsv::from_bits(rsv),
                    opcode,
                    mask: sender.masks_outgoing().then_some(key),
                    payload_len: payload.len() as u64,
                },
                payload,
            })
        },
    )
}

fn any_legal_frame() -> impl Strategy<Value = LegalFrame> {
    prop_oneof![legal_frame(Role::Client), legal_frame(Role::Server)]
}

/// Several frames from one sender, as one byte stream.
fn stream(sender: Role) -> impl Strategy<Value = Vec<LegalFrame>> {
    proptest::collection::vec(legal_frame(sender), 1..6)
}

fn encode_stream(frames: &[LegalFrame]) -> Vec<u8> {
    frames
        .iter()
        .flat_map(|f| encode(f.header, &f.payload))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn decode_of_encode_is_the_identity(frame in any_legal_frame()) {
        let wire = encode(frame.header, &frame.payload);
        prop_assert_eq!(wire.len(), frame.header.encoded_len() + frame.payload.len());
        let decoded = decode_one(frame.decoder(), &wire);
        prop_assert_eq!(decoded, (frame.header, frame.payload.clone()));

        // The vectored-write path (header alone, payload masked in place)
        // gives the same bytes.
        let mut head = [0; MAX_HEADER_LEN];
        let n = frame.header.encode(&mut head).unwrap();
        let mut body = frame.payload.clone();
        if let Some(key) = frame.header.mask {
            wsproto::mask::apply_mask(&mut body, key);
        }
        prop_assert_eq!([&head[..n], &body[..]].concat(), wire);
    }

    #[test]
    fn any_split_decodes_to_the_same_frames(
        sender in prop_oneof![Just(Role::Client), Just(Role::Server)],
        frames in stream(Role::Client),
        sizes in proptest::collection::vec(1..40usize, 1..8),
    ) {
        // Re-target the frames to the chosen sender: the mask follows the role.
        let frames: Vec<LegalFrame> = frames
            .into_iter()
            .map(|f| LegalFrame {
                sender,
                header: FrameHeader { mask: f.header.mask.filter(|_| sender.masks_outgoing()), ..f.header },
                payload: f.payload,
            })
            .collect();
        let wire = encode_stream(&frames);
        let decoder = receiver(sender).with_allowed_rsv(Rsv::from_bits(0b111));
        let expected: Vec<OwnedFrame> = frames.iter().map(|f| (f.header, f.payload.clone())).collect();

        let whole = feed_in_chunks(decoder, &wire, &[]);
        prop_assert_eq!(&whole, &(expected.clone(), None));
        prop_assert_eq!(feed_in_chunks(decoder, &wire, &sizes), whole.clone());
        // A large chunk size then small ones, so frames start mid-chunk.
        let mixed = [wire.len() / 3 + 1, 1, 2, 3];
        prop_assert_eq!(feed_in_chunks(decoder, &wire, &mixed), whole);
    }
}

proptest! {
    // Byte at a time is the slow case: fewer, shorter streams.
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn byte_at_a_time_decodes_to_the_same_frames(
        frames in prop_oneof![stream(Role::Client), stream(Role::Server)],
    ) {
        let wire = encode_stream(&frames);
        let decoder = receiver(frames[0].sender).with_allowed_rsv(Rsv::from_bits(0b111));
        let expected: Vec<OwnedFrame> = frames.iter().map(|f| (f.header, f.payload.clone())).collect();
        prop_assert_eq!(feed_in_chunks(decoder, &wire, &[]), (expected.clone(), None));
        prop_assert_eq!(feed_in_chunks(decoder, &wire, &[1]), (expected, None));
    }
}
