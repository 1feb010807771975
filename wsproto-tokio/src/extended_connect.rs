//! The client's side of an extended CONNECT, the same over HTTP/2 (RFC 8441
//! §4) and HTTP/3 (RFC 9220 §3): what the request carries and how the
//! response turns the stream into a WebSocket. Only the `:protocol`
//! pseudo-header's type and the stream differ between the two, and stay
//! with each.

use tokio::io::{AsyncRead, AsyncWrite};
use wsproto::handshake::extended_connect::ConnectClient;
use wsproto::handshake::Response;

use crate::client::IntoClientRequest;
use crate::config::WebSocketConfig;
use crate::error::Error;
use crate::stream::WebSocketStream;

/// An extended CONNECT on its way: the core's handshake, which checks the
/// response, and the configuration the WebSocket will run with.
pub(crate) struct Opening {
    handshake: ConnectClient,
    config: WebSocketConfig,
}

impl Opening {
    /// The handshake for `request`'s URL and fields, and the request to
    /// send (without `:protocol`, which each HTTP version adds as its
    /// library types it).
    pub(crate) fn new(
        request: impl IntoClientRequest,
        config: WebSocketConfig,
    ) -> Result<(Self, http::Request<()>), Error> {
        let request = request.into_client_request()?;
        let handshake = ConnectClient::new(request.url(), request.client_config(&config))?;
        let connect = handshake.request()?;
        Ok((Opening { handshake, config }, connect))
    }

    /// The WebSocket over `stream`, once `head` (a 2xx) accepted it; any
    /// other status is the core's `HandshakeError::Rejected`.
    pub(crate) fn finish<S: AsyncRead + AsyncWrite + Unpin>(
        self,
        stream: S,
        head: &http::Response<()>,
    ) -> Result<(WebSocketStream<S>, Response), Error> {
        let accepted = self.handshake.handle_response(head)?;
        let ws = WebSocketStream::from_connection(stream, accepted.connection, &self.config)
            .with_protocol(accepted.negotiated.protocol);
        Ok((ws, accepted.response))
    }
}
