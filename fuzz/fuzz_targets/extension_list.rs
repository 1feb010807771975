//! Arbitrary bytes as a `Sec-WebSocket-Extensions` value (RFC 6455 §9.1):
//! `ExtensionOffer::parse_list` and `write_list`.
//!
//! The first byte is where the value splits into two header fields; the rest
//! is the value.
//!
//! Invariants asserted:
//! - no panic, whatever the input;
//! - an error's offset is within the value, and `parse_list_into` leaves the
//!   list it appends to as it was;
//! - `parse_list` (text) and `parse_list_into` (bytes) agree;
//! - when the parse succeeds: every element is valid (name, parameter names
//!   and values all tokens, quoted values unescaped), and
//!   parse(write(parse(x))) == parse(x), the written form being a fixed point
//!   of write(parse(_));
//! - a repeated header field continues the same list: when both halves parse,
//!   parsing them one after the other into one list gives the same list as
//!   parsing the two joined with a comma.
#![no_main]

use wsproto::handshake::ExtensionOffer;

fn write(list: &[ExtensionOffer]) -> String {
    let mut s = String::new();
    ExtensionOffer::write_list(list, &mut s).expect("writing to a String fails");
    s
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&split, value)) = data.split_first() else {
        return;
    };

    // One element that must survive every failure below.
    let kept = ExtensionOffer::new("kept");
    let mut list = vec![kept.clone()];
    let parsed = ExtensionOffer::parse_list_into(value, &mut list);
    if let Ok(text) = std::str::from_utf8(value) {
        let by_text = ExtensionOffer::parse_list(text);
        match (&parsed, &by_text) {
            (Ok(()), Ok(l)) => assert_eq!(&list[1..], &l[..]),
            (Err(a), Err(b)) => assert_eq!(a, b),
            _ => panic!("parse_list and parse_list_into disagree: {parsed:?} {by_text:?}"),
        }
    }
    match parsed {
        Err(e) => {
            assert!(e.offset <= value.len(), "offset {} past the end", e.offset);
            assert_eq!(list, [kept], "a failed parse changed the list");
            return;
        }
        Ok(()) => {
            assert_eq!(list[0], kept);
            list.remove(0);
        }
    }
    assert!(!list.is_empty(), "an empty list parsed");
    for ext in &list {
        assert!(ext.is_valid(), "{ext:?} is not all tokens");
    }

    // The round trip, and the written form is canonical.
    let written = write(&list);
    let reparsed = ExtensionOffer::parse_list(&written)
        .unwrap_or_else(|e| panic!("our own {written:?} does not parse: {e}"));
    assert_eq!(reparsed, list, "through {written:?}");
    assert_eq!(write(&reparsed), written);

    // Two header fields: the halves one after the other, as one list.
    let split = usize::from(split).min(value.len());
    let (a, b) = value.split_at(split);
    let mut halves = Vec::new();
    if ExtensionOffer::parse_list_into(a, &mut halves).is_ok()
        && ExtensionOffer::parse_list_into(b, &mut halves).is_ok()
    {
        let joined = [a, b",", b].concat();
        let mut one = Vec::new();
        ExtensionOffer::parse_list_into(&joined, &mut one)
            .expect("two valid fields joined with a comma do not parse");
        assert_eq!(halves, one);
    }
});
