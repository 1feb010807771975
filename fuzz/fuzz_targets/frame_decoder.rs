//! Arbitrary bytes fed to `FrameDecoder` as a receive buffer would feed them.
//!
//! The first byte picks the configuration: bit 0 the role (client or server),
//! bits 1-3 the reserved bits an extension is allowed, bits 4-7 the payload
//! limit (from a table of edge values). The rest is the bytes received, on
//! which frames are decoded in a loop, each from where the last one ended.
//!
//! Invariants asserted:
//! - no panic, whatever the input;
//! - `consumed <= input.len()`, and `consumed > 0` on `Complete`; `consumed`
//!   is exactly header plus payload, the header at least as long as its
//!   minimal encoding;
//! - a complete frame obeys every rule for the role: allowed reserved bits,
//!   control frames final and at most 125 bytes, masked exactly when a server
//!   receives, the payload within the limit; its payload is the input unmasked
//!   (checked against a byte loop); `decode_header` agrees with `decode`;
//! - `Partial` consumes nothing and changes nothing, and every prefix of a
//!   partial input is partial as well (the status is monotonic: no prefix
//!   errors); every proper prefix of a complete frame is partial;
//! - an error is judged from the header alone (at most 14 bytes give it), every
//!   prefix of the input gives `Partial` or that same error, and it maps to
//!   close code 1002 or 1009;
//! - bytes after a decoded frame are never touched;
//! - no allocation: the decoder works on one fixed slice, which never grows,
//!   and a counting global allocator sees no allocation while decoding.
#![no_main]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use libfuzzer_sys::fuzz_target;
use wsproto::frame::{FrameDecoder, Rsv, Status, DEFAULT_MAX_FRAME_PAYLOAD, MAX_HEADER_LEN};
use wsproto::{CloseCode, ProtocolError, Role};

/// Counts every allocation made through Rust's allocator.
struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Payload limits around every boundary of the length forms.
const LIMITS: [u64; 16] = [
    0,
    1,
    124,
    125,
    126,
    127,
    65_535,
    65_536,
    65_537,
    1 << 20,
    DEFAULT_MAX_FRAME_PAYLOAD,
    DEFAULT_MAX_FRAME_PAYLOAD + 1,
    u32::MAX as u64,
    (u64::MAX >> 1) - 1,
    u64::MAX >> 1,
    u64::MAX,
];

/// The decoder under test and the configuration it was built with.
#[derive(Clone, Copy)]
struct Setup {
    decoder: FrameDecoder,
    role: Role,
    allowed_rsv: Rsv,
    max_payload: u64,
}

fuzz_target!(|data: &[u8]| {
    let Some((&config, received)) = data.split_first() else {
        return;
    };
    let role = if config & 1 == 0 {
        Role::Client
    } else {
        Role::Server
    };
    let allowed_rsv = Rsv::from_bits(config >> 1);
    let max_payload = LIMITS[usize::from(config >> 4)];
    let decoder = FrameDecoder::new(role)
        .with_allowed_rsv(allowed_rsv)
        .with_max_payload(max_payload);
    assert_eq!((decoder.role(), decoder.max_payload()), (role, max_payload));
    let setup = Setup {
        decoder,
        role,
        allowed_rsv,
        max_payload,
    };

    // The receive buffer: one fixed slice, allocated once, never grown.
    let mut buf = received.to_vec();
    let (ptr, len, capacity) = (buf.as_ptr(), buf.len(), buf.capacity());
    let allocations = ALLOCATIONS.load(Ordering::Relaxed);

    let mut pos = 0;
    while let Some(consumed) = decode_at(setup, &mut buf, received, pos) {
        pos += consumed;
    }

    assert_eq!(
        ALLOCATIONS.load(Ordering::Relaxed),
        allocations,
        "the decoder allocated"
    );
    assert_eq!(
        (buf.as_ptr(), buf.len(), buf.capacity()),
        (ptr, len, capacity)
    );
    // Nothing after the last complete frame was touched.
    assert!(buf[pos..] == received[pos..]);
});

/// Decodes the frame at `start`, checking every invariant; returns the bytes
/// it consumed if it was complete.
fn decode_at(setup: Setup, buf: &mut [u8], received: &[u8], start: usize) -> Option<usize> {
    let decoder = setup.decoder;
    let n = buf.len() - start;

    // Learn the outcome without changing anything, then check every prefix
    // before the real decode unmasks the payload.
    let head = decoder.decode_header(&buf[start..]);
    let end = match head {
        Ok(Status::Complete((h, header_len))) => {
            let end = (header_len as u64).saturating_add(h.payload_len);
            usize::try_from(end).unwrap_or(usize::MAX).min(n)
        }
        // An error must show within the header: no need to look further.
        Err(_) => n.min(MAX_HEADER_LEN + 1),
        Ok(Status::Partial) => n,
    };
    let mut first_error = None;
    for cut in 0..end {
        match decoder.decode(&mut buf[start..start + cut]) {
            Ok(Status::Partial) => {
                assert!(
                    first_error.is_none(),
                    "a longer prefix went back to partial"
                );
            }
            Ok(Status::Complete(_)) => panic!("a prefix of {cut} bytes gave a complete frame"),
            Err(e) => {
                assert!(
                    cut <= MAX_HEADER_LEN,
                    "an error needed more than the header"
                );
                if let Some(first) = &first_error {
                    assert_eq!(&e, first, "the error changed as bytes arrived");
                }
                first_error = Some(e);
            }
        }
    }

    match decoder.decode(&mut buf[start..]) {
        Err(e) => {
            assert_eq!(head, Err(e.clone()), "decode_header and decode disagree");
            // Given within the header (some prefix of at most 14 bytes).
            if n > MAX_HEADER_LEN {
                assert_eq!(
                    first_error,
                    Some(e.clone()),
                    "the error needed payload bytes"
                );
            } else if let Some(first) = first_error {
                assert_eq!(first, e, "a prefix gave a different error");
            }
            let code = e.close_code();
            if let ProtocolError::FrameTooLarge { len, max } = e {
                assert_eq!(code, CloseCode::MESSAGE_TOO_BIG);
                assert!(max == setup.max_payload && len > max);
            } else {
                assert_eq!(code, CloseCode::PROTOCOL_ERROR, "{e:?}");
            }
            None
        }
        Ok(Status::Partial) => {
            assert!(
                first_error.is_none(),
                "a prefix of a partial input gave an error"
            );
            assert!(head.is_ok());
            // Nothing consumed, nothing changed.
            assert!(buf[start..] == received[start..]);
            None
        }
        Ok(Status::Complete(frame)) => {
            assert!(first_error.is_none());
            let Ok(Status::Complete((h, header_len))) = head else {
                panic!("decode completed a frame whose header was {head:?}");
            };
            let header = frame.header;
            let consumed = frame.consumed;
            assert_eq!(header, h);
            assert!(consumed > 0 && consumed <= n);
            assert_eq!(consumed as u64, header_len as u64 + header.payload_len);
            assert_eq!(frame.payload.len() as u64, header.payload_len);

            // The header: its length, and every rule.
            let mask_len = if header.mask.is_some() { 4 } else { 0 };
            assert!(matches!(header_len - mask_len, 2 | 4 | 10));
            assert!(
                header.encoded_len() <= header_len,
                "the minimal form is longer"
            );
            assert!(setup.allowed_rsv.contains(header.rsv));
            if header.opcode.is_control() {
                assert!(header.fin && header.payload_len <= 125);
            }
            assert_eq!(header.mask.is_some(), setup.role == Role::Server);
            assert!(header.payload_len <= setup.max_payload);
            assert!(header.payload_len >> 63 == 0);

            // The payload is the received bytes, unmasked (a byte loop).
            let wire = &received[start + header_len..start + consumed];
            let key = header.mask.unwrap_or([0; 4]);
            for (i, (&got, &raw)) in frame.payload.iter().zip(wire).enumerate() {
                assert_eq!(got, raw ^ key[i % 4]);
            }
            // The next header is untouched (the rest is checked at the end).
            let after = start + consumed;
            let next = buf.len().min(after + MAX_HEADER_LEN);
            assert!(buf[after..next] == received[after..next]);
            Some(consumed)
        }
    }
}
