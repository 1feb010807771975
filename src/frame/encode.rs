//! Encoding a whole frame into a caller buffer.

use super::FrameHeader;
use crate::error::BufferTooSmall;
use crate::mask::apply_mask;

/// Writes `header` followed by `payload` into `out`, masking the payload
/// while copying when the header carries a key. `header.payload_len` is set
/// from `payload`. Returns the bytes written, or the size required, writing
/// nothing.
///
/// To send a large payload without copying it, write only the header with
/// [`FrameHeader::encode`] and hand header and payload to a vectored write
/// (masking the payload in place first, for a client).
///
/// ```
/// use wsproto::frame::{encode_frame, FrameHeader, OpCode};
///
/// // RFC 6455 §5.7: a single-frame masked text message, "Hello".
/// let header = FrameHeader { mask: Some([0x37, 0xfa, 0x21, 0x3d]), ..FrameHeader::new(OpCode::Text, 0) };
/// let mut out = [0; 16];
/// let n = encode_frame(header, b"Hello", &mut out).unwrap();
/// assert_eq!(&out[..n], &[0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58]);
/// ```
pub fn encode_frame(
    mut header: FrameHeader,
    payload: &[u8],
    out: &mut [u8],
) -> Result<usize, BufferTooSmall> {
    header.payload_len = payload.len() as u64;
    let header_len = header.encoded_len();
    let required = header_len + payload.len();
    if out.len() < required {
        return Err(BufferTooSmall { required });
    }
    header.encode(out)?;
    let body = &mut out[header_len..required];
    body.copy_from_slice(payload);
    if let Some(key) = header.mask {
        apply_mask(body, key);
    }
    Ok(required)
}
