//! The grammar of HTTP header fields and status lines (RFC 9110 §5, RFC 9112
//! §4), in one place: what the parsers accept from a peer and what the
//! writers accept from the caller.
//!
//! Every HTTP head this crate writes (the 101, a rejection, a plain page, a
//! client's request, a proxy `CONNECT`, the `http` crate's types) is checked
//! here, field by field, before a byte is written: a value holding CR or LF
//! would end its field early and let the caller's input write a second
//! response (response splitting, CWE-113).

use super::error::UsageError;

/// RFC 9110 §5.6.2: `tchar`, a byte allowed in a token.
pub(super) const fn is_tchar(b: u8) -> bool {
    matches!(
        b,
        b'!' | b'#'
            | b'$'
            | b'%'
            | b'&'
            | b'\''
            | b'*'
            | b'+'
            | b'-'
            | b'.'
            | b'^'
            | b'_'
            | b'`'
            | b'|'
            | b'~'
    ) || b.is_ascii_alphanumeric()
}

/// RFC 9110 §5.6.2: `token = 1*tchar`.
pub(super) fn is_token(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(|&b| is_tchar(b))
}

/// RFC 9110 §5.5: `field-vchar = VCHAR / obs-text`, a visible byte.
const fn is_field_vchar(b: u8) -> bool {
    matches!(b, 0x21..=0x7E | 0x80..=0xFF)
}

/// RFC 9110 §5.5:
///
/// ```text
/// field-value   = *field-content
/// field-content = field-vchar [ 1*( SP / HTAB / field-vchar ) field-vchar ]
/// ```
///
/// Visible bytes with spaces or tabs between them: no control byte but HTAB
/// (so no CR, LF or NUL: "Field values containing CR, LF, or NUL characters
/// are invalid and dangerous"), no whitespace at either end.
pub(super) fn is_field_value(value: &[u8]) -> bool {
    let inner_ok = value
        .iter()
        .all(|&b| is_field_vchar(b) || b == b' ' || b == b'\t');
    let ends_ok = match (value.first(), value.last()) {
        (Some(&first), Some(&last)) => is_field_vchar(first) && is_field_vchar(last),
        _ => true,
    };
    inner_ok && ends_ok
}

/// RFC 9112 §4: `reason-phrase = 1*( HTAB / SP / VCHAR / obs-text )`
/// (optional, so empty is allowed), without `obs-text` when writing: it is
/// obsolete, and parsers (httparse among them) drop a reason that has it.
fn is_reason_phrase(reason: &str) -> bool {
    reason
        .bytes()
        .all(|b| b.is_ascii_graphic() || b == b' ' || b == b'\t')
}

/// Strips optional whitespace (`OWS = *( SP / HTAB )`) from both ends.
pub(super) fn trim_ows(mut s: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = s {
        s = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

/// The non-empty, trimmed elements of a comma-separated list (RFC 9110
/// §5.6.1: "a recipient MUST parse and ignore a reasonable number of empty
/// list elements").
pub(super) fn split_list(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value
        .split(|&b| b == b',')
        .map(trim_ows)
        .filter(|e| !e.is_empty())
}

/// Checks a header field the caller gave: a token name and a field value.
pub(super) fn check_field(name: &str, value: &[u8]) -> Result<(), UsageError> {
    if is_token(name.as_bytes()) && is_field_value(value) {
        Ok(())
    } else {
        Err(UsageError::InvalidHeader(name.into()))
    }
}

/// Checks a status line the caller gave. RFC 9112 §4: `status-code =
/// 3DIGIT`; RFC 9110 §15: "Values outside the range 100..599 are invalid"
/// for the semantics, but the syntax allows 100-999, which is what a
/// recipient must parse ("A client MUST be able to parse [...] any status
/// code"); below 100 cannot be written as three digits.
pub(super) fn check_status_line(status: u16, reason: &str) -> Result<(), UsageError> {
    if !(100..=999).contains(&status) {
        return Err(UsageError::InvalidStatus(status));
    }
    if !is_reason_phrase(reason) {
        return Err(UsageError::InvalidReason);
    }
    Ok(())
}

/// Whether a response with `status` may carry content. RFC 9110 §6.4.1:
/// "All 1xx (Informational), 204 (No Content), and 304 (Not Modified)
/// responses do not include content."
pub(super) const fn may_have_content(status: u16) -> bool {
    !matches!(status, 100..=199 | 204 | 304)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    #[test]
    fn tokens_and_lists() {
        assert!(is_token(b"permessage-deflate"));
        assert!(!is_token(b"") && !is_token(b"a b") && !is_token(b"a,b") && !is_token(b"\"a\""));
        assert_eq!(trim_ows(b" \t a b\t "), b"a b");
        assert_eq!(split_list(b" a ,, b,\t").collect::<Vec<_>>(), [b"a", b"b"]);
    }

    #[test]
    fn field_values() {
        for good in [
            &b""[..],
            b"a",
            b"Basic x==",
            b"a\tb",
            b"caf\xc3\xa9",
            b"\"q\"",
        ] {
            assert!(is_field_value(good), "{good:?}");
        }
        for bad in [
            &b"a\r\nb"[..],
            b"a\rb",
            b"a\nb",
            b"a\0b",
            b"a\x01b",
            b"a\x7fb",
            b"a\x1bb",
            b" a",
            b"a ",
            b"\ta",
            b" ",
        ] {
            assert!(!is_field_value(bad), "{bad:?}");
        }
        // Every byte: only HTAB, SP, VCHAR and obs-text inside a value.
        for b in 0..=255u8 {
            let value = [b'a', b, b'a'];
            let allowed = b == b'\t' || b == b' ' || (0x21..=0x7E).contains(&b) || b >= 0x80;
            assert_eq!(is_field_value(&value), allowed, "{b:#x}");
        }
    }

    #[test]
    fn status_lines() {
        assert_eq!(check_status_line(101, "Switching Protocols"), Ok(()));
        assert_eq!(check_status_line(999, ""), Ok(()));
        assert_eq!(check_status_line(7, "x"), Err(UsageError::InvalidStatus(7)));
        assert_eq!(
            check_status_line(99, "x"),
            Err(UsageError::InvalidStatus(99))
        );
        assert_eq!(
            check_status_line(1000, "x"),
            Err(UsageError::InvalidStatus(1000))
        );
        assert_eq!(
            check_status_line(200, "OK\r\nX: y"),
            Err(UsageError::InvalidReason)
        );
        assert_eq!(
            check_status_line(200, "caf\u{e9}"),
            Err(UsageError::InvalidReason)
        );
        assert_eq!(check_status_line(200, "A\tB C"), Ok(()));
        assert!(!may_have_content(101) && !may_have_content(204) && !may_have_content(304));
        assert!(may_have_content(200) && may_have_content(404));
    }
}
