//! A client `Connection` fed arbitrary bytes as a server's frames (unmasked).
//!
//! The harness, the input format and every invariant asserted are in
//! `common/connection.rs`, shared with `connection_server`: no panic; a
//! protocol error returned once, then inert; no event beyond the limits and
//! text always valid UTF-8; everything written decodes as valid, masked
//! server-bound frames, carrying exactly the messages sent, pongs only for
//! pings received, and the right close code.
#![no_main]

#[path = "common/connection.rs"]
mod connection;

use wsproto::Role;

libfuzzer_sys::fuzz_target!(|data: &[u8]| connection::run(Role::Client, data));
