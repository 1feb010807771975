//! Where a connection stands, and every way it moves: one enum, and all of
//! its transitions in this file.
//!
//! ```text
//!                 close()                       the peer's Close
//!   ┌──────┐ ─────────────────▶ ┌──────────┐ ──────────────────────┐
//!   │ Open │                    │ CloseSent│                       │
//!   └──────┘ ──┐                └──────────┘ ──┐                   ▼
//!      │       │ the peer's Close               │ close timeout  ┌────────┐
//!      │       │ (our reply queued at once) ────┼──────────────▶ │ Closed │
//!      │       │                                │                └────────┘
//!      │       └─ violation (§7.1.7), pong       │                   │
//!      │          deadline, end of stream ───────┴──────────────────▶│
//!      └──────────────────────────────────────────────────────────────┘
//!
//!   Closed { transport }:
//!     AfterOutput ─── output written ──────────────────▶ close the transport
//!     AwaitPeerClose ─ the server closes TCP (client) ─▶ AfterOutput
//!     either ─────── close timeout: output dropped ───▶ close the transport
//! ```
//!
//! - `Open`: messages flow both ways.
//! - `CloseSent`: our Close frame is queued; we send no more data (§5.5.1:
//!   "The application MUST NOT send any more data frames after sending a
//!   Close frame") but still receive, until the peer's Close.
//! - `Closed`: nothing more is decoded or sent. It remembers how it ended
//!   ([`CloseCause`]), the status of §7.1.5, and what is left to do with the
//!   transport: a server closes it as soon as the output is written (§7.1.1:
//!   "the server MUST close the underlying TCP connection first"), a
//!   client waits for the server to close it (`AwaitPeerClose`) unless the
//!   connection failed. The close timeout bounds every wait.

use crate::close::CloseCode;
use crate::error::ProtocolError;
use crate::event::{CloseFrame, Utf8Bytes};
use crate::role::Role;
use alloc::boxed::Box;

/// Where the connection stands, as the caller sees it (the transitions are
/// in the [`connection`](crate::connection) module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum State {
    /// Messages flow both ways.
    Open,
    /// We sent a close frame and await the peer's; received data is still
    /// delivered, but no data may be sent (§5.5.1).
    Closing,
    /// Both close frames were exchanged, or the connection failed or was
    /// cut: nothing more is decoded or sent.
    Closed,
}

/// How a closed connection ended.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseCause {
    /// Both ends sent a Close frame: the closing handshake of §7.1.2.
    Handshake,
    /// The peer broke a rule and we _Failed the WebSocket Connection_
    /// (§7.1.7), sending the close code the error calls for.
    Failed(ProtocolError),
    /// No pong answered our keepalive ping in time; we closed with 1011.
    KeepaliveTimeout,
    /// Our Close frame was not answered within the close timeout.
    CloseTimeout,
    /// The transport ended before the closing handshake did (§7.1.5: the
    /// close code is then 1006).
    TransportEnded,
}

/// What is left to do with the transport once `Closed`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Transport {
    /// Close it once the output is written.
    AfterOutput,
    /// A client after the closing handshake: the server closes TCP first
    /// (§7.1.1: "the server MUST close the underlying TCP connection
    /// first"); then [`Transport::AfterOutput`].
    AwaitPeerClose,
}

/// The connection's life. Boxed once closed: an open connection, the
/// common and long-lived case, carries one word for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Lifecycle {
    Open,
    CloseSent,
    Closed(Box<Closed>),
}

/// What a closed connection keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Closed {
    cause: CloseCause,
    /// §7.1.5 "The WebSocket Connection Close Code" and reason.
    status: CloseFrame,
    transport: Transport,
}

impl Lifecycle {
    /// The caller's view.
    pub(crate) fn state(&self) -> State {
        match self {
            Lifecycle::Open => State::Open,
            Lifecycle::CloseSent => State::Closing,
            Lifecycle::Closed(_) => State::Closed,
        }
    }

    pub(crate) fn is_open(&self) -> bool {
        matches!(self, Lifecycle::Open)
    }

    pub(crate) fn is_closed(&self) -> bool {
        matches!(self, Lifecycle::Closed(_))
    }

    /// `Open` → `CloseSent`: we queued our Close frame (`close()`).
    pub(crate) fn send_close(&mut self) {
        if self.is_open() {
            *self = Lifecycle::CloseSent;
        }
    }

    /// → `Closed`, how it ended. The first ending is the one kept: a close
    /// status once known stays (§7.1.5), and a client waits for the server
    /// to close TCP only after a closing handshake.
    ///
    /// `status` is the peer's Close when one came; without one it is 1006
    /// (§7.1.5: "If _The WebSocket Connection is Closed_ and no Close
    /// control frame was received by the endpoint [...] _The WebSocket
    /// Connection Close Code_ is considered to be 1006").
    pub(crate) fn close(&mut self, role: Role, cause: CloseCause, status: Option<CloseFrame>) {
        if self.is_closed() {
            return;
        }
        let transport = match (role, &cause) {
            (Role::Client, CloseCause::Handshake) => Transport::AwaitPeerClose,
            _ => Transport::AfterOutput,
        };
        let status = status.unwrap_or(CloseFrame {
            code: CloseCode::ABNORMAL,
            reason: Utf8Bytes::default(),
        });
        *self = Lifecycle::Closed(Box::new(Closed {
            cause,
            status,
            transport,
        }));
    }

    /// The transport ended (end of stream), or we gave up on it: once the
    /// output is written (or dropped), it is closed.
    pub(crate) fn end_transport(&mut self, role: Role) {
        match self {
            Lifecycle::Closed(closed) => closed.transport = Transport::AfterOutput,
            _ => self.close(role, CloseCause::TransportEnded, None),
        }
    }

    /// Whether the transport is to be closed once the output is written.
    pub(crate) fn transport_after_output(&self) -> bool {
        matches!(self, Lifecycle::Closed(closed) if closed.transport == Transport::AfterOutput)
    }

    pub(crate) fn status(&self) -> Option<&CloseFrame> {
        match self {
            Lifecycle::Closed(closed) => Some(&closed.status),
            _ => None,
        }
    }

    pub(crate) fn cause(&self) -> Option<&CloseCause> {
        match self {
            Lifecycle::Closed(closed) => Some(&closed.cause),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normal() -> Option<CloseFrame> {
        Some(CloseFrame {
            code: CloseCode::NORMAL,
            reason: Utf8Bytes::default(),
        })
    }

    #[test]
    fn a_client_waits_for_the_server_only_after_a_handshake() {
        let mut client = Lifecycle::Open;
        client.send_close();
        assert_eq!(client.state(), State::Closing);
        client.close(Role::Client, CloseCause::Handshake, normal());
        assert!(!client.transport_after_output());
        client.end_transport(Role::Client);
        assert!(client.transport_after_output());
        assert_eq!(client.status().map(|s| s.code), Some(CloseCode::NORMAL));

        let mut failed = Lifecycle::Open;
        failed.close(
            Role::Client,
            CloseCause::Failed(ProtocolError::InvalidUtf8),
            None,
        );
        assert!(failed.transport_after_output());
        assert_eq!(failed.status().map(|s| s.code), Some(CloseCode::ABNORMAL));
    }

    #[test]
    fn the_first_ending_is_kept() {
        let mut server = Lifecycle::Open;
        server.close(Role::Server, CloseCause::Handshake, normal());
        server.close(Role::Server, CloseCause::KeepaliveTimeout, None);
        server.end_transport(Role::Server);
        assert_eq!(server.cause(), Some(&CloseCause::Handshake));
        assert_eq!(server.status().map(|s| s.code), Some(CloseCode::NORMAL));

        let mut cut = Lifecycle::CloseSent;
        cut.end_transport(Role::Server);
        assert_eq!(cut.cause(), Some(&CloseCause::TransportEnded));
        assert_eq!(cut.status().map(|s| s.code), Some(CloseCode::ABNORMAL));
    }
}
