//! Close codes (RFC 6455 §7.4) and the close frame payload (§5.5.1).

use core::fmt;

/// A close status code: an open number space, so a newtype over `u16` with
/// named constants rather than an enum.
///
/// | range | meaning | may appear on the wire |
/// |---|---|---|
/// | 0-999 | not used | no |
/// | 1000-1003, 1007-1014 | defined by RFC 6455 and the IANA registry | yes |
/// | 1004, 1005, 1006, 1015 | reserved, or only reported locally | no |
/// | 1016-2999 | reserved for future protocol revisions | no |
/// | 3000-3999 | registered by libraries, frameworks, applications | yes |
/// | 4000-4999 | private use | yes |
/// | 5000+ | not defined | no |
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CloseCode(pub u16);

impl CloseCode {
    /// 1000: the purpose for which the connection was established has been fulfilled.
    pub const NORMAL: CloseCode = CloseCode(1000);
    /// 1001: an endpoint is going away (server shutdown, page navigated away).
    pub const GOING_AWAY: CloseCode = CloseCode(1001);
    /// 1002: the endpoint is terminating the connection due to a protocol error.
    pub const PROTOCOL_ERROR: CloseCode = CloseCode(1002);
    /// 1003: the endpoint received a type of data it cannot accept.
    pub const UNSUPPORTED_DATA: CloseCode = CloseCode(1003);
    /// 1005: no status code was present in the close frame. Never sent.
    pub const NO_STATUS: CloseCode = CloseCode(1005);
    /// 1006: the connection was closed without a close frame. Never sent.
    pub const ABNORMAL: CloseCode = CloseCode(1006);
    /// 1007: data within a message was not consistent with its type (e.g. non-UTF-8 text).
    pub const INVALID_PAYLOAD: CloseCode = CloseCode(1007);
    /// 1008: a message violated the endpoint's policy.
    pub const POLICY_VIOLATION: CloseCode = CloseCode(1008);
    /// 1009: a message was too big to process.
    pub const MESSAGE_TOO_BIG: CloseCode = CloseCode(1009);
    /// 1010: the client expected the server to negotiate an extension it did not.
    pub const MANDATORY_EXTENSION: CloseCode = CloseCode(1010);
    /// 1011: the server met an unexpected condition.
    pub const INTERNAL_ERROR: CloseCode = CloseCode(1011);
    /// 1012: the service is restarting.
    pub const SERVICE_RESTART: CloseCode = CloseCode(1012);
    /// 1013: try again later (temporary overload).
    pub const TRY_AGAIN_LATER: CloseCode = CloseCode(1013);
    /// 1014: a gateway or proxy received an invalid response upstream.
    pub const BAD_GATEWAY: CloseCode = CloseCode(1014);
    /// 1015: the TLS handshake failed. Never sent.
    pub const TLS_HANDSHAKE: CloseCode = CloseCode(1015);

    /// Whether this code may be sent in, or accepted from, a close frame.
    ///
    /// RFC 6455 §7.4.1/§7.4.2 and the IANA registry: 1000-1003 and 1007-1014
    /// are defined; 1004 is reserved; 1005, 1006 and 1015 "MUST NOT be set as
    /// a status code in a Close control frame by an endpoint"; 1016-2999 are
    /// reserved; 3000-4999 are for libraries and applications.
    pub const fn is_valid_on_wire(self) -> bool {
        matches!(self.0, 1000..=1003 | 1007..=1014 | 3000..=4999)
    }
}

impl From<u16> for CloseCode {
    fn from(code: u16) -> Self {
        CloseCode(code)
    }
}

impl From<CloseCode> for u16 {
    fn from(code: CloseCode) -> Self {
        code.0
    }
}

impl fmt::Debug for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CloseCode({})", self.0)
    }
}

impl fmt::Display for CloseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The largest reason a close frame can carry: a control frame payload is at
/// most 125 bytes (§5.5), two of which are the code.
pub const MAX_REASON_LEN: usize = 123;

/// A close frame's payload, parsed and validated (§5.5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClosePayload<'a> {
    /// The status code; `None` when the frame had an empty body (reported to
    /// the application as [`CloseCode::NO_STATUS`], §7.1.5).
    pub code: Option<CloseCode>,
    /// The reason, UTF-8, possibly empty.
    pub reason: &'a str,
}

impl<'a> ClosePayload<'a> {
    /// Parses a received close frame's payload.
    ///
    /// §5.5.1: "If there is a body, the first two bytes of the body MUST be a
    /// 2-byte unsigned integer [...] Following the 2-byte integer, the body
    /// MAY contain UTF-8-encoded data". So a one-byte body is malformed, the
    /// code must be one allowed on the wire, and the reason must be UTF-8.
    pub fn parse(payload: &'a [u8]) -> Result<Self, crate::ProtocolError> {
        use crate::ProtocolError;
        match payload {
            [] => Ok(ClosePayload {
                code: None,
                reason: "",
            }),
            [_] => Err(ProtocolError::ClosePayloadTooShort),
            [hi, lo, reason @ ..] => {
                let code = CloseCode(u16::from_be_bytes([*hi, *lo]));
                if !code.is_valid_on_wire() {
                    return Err(ProtocolError::InvalidCloseCode(code.0));
                }
                let reason = simdutf8::basic::from_utf8(reason)
                    .map_err(|_| ProtocolError::InvalidCloseReason)?;
                Ok(ClosePayload {
                    code: Some(code),
                    reason,
                })
            }
        }
    }

    /// The code the application should see: 1005 when the frame had none.
    pub fn code_or_no_status(&self) -> CloseCode {
        self.code.unwrap_or(CloseCode::NO_STATUS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ProtocolError;

    #[test]
    fn wire_validity_table() {
        for code in 0..=u16::MAX {
            let expected = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
            assert_eq!(CloseCode(code).is_valid_on_wire(), expected, "{code}");
        }
    }

    #[test]
    fn parse_close_payloads() {
        assert_eq!(
            ClosePayload::parse(&[]).unwrap().code_or_no_status(),
            CloseCode::NO_STATUS
        );
        assert_eq!(
            ClosePayload::parse(&[3]),
            Err(ProtocolError::ClosePayloadTooShort)
        );
        let p = ClosePayload::parse(&[0x03, 0xe8, b'o', b'k']).unwrap();
        assert_eq!(p.code, Some(CloseCode::NORMAL));
        assert_eq!(p.reason, "ok");
        assert_eq!(
            ClosePayload::parse(&[0x03, 0xed]),
            Err(ProtocolError::InvalidCloseCode(1005))
        );
        assert_eq!(
            ClosePayload::parse(&[0x03, 0xe8, 0xff]),
            Err(ProtocolError::InvalidCloseReason)
        );
    }
}
