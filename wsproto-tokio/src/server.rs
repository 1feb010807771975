//! The server's side over a plain transport: read the opening request,
//! let the application decide, answer, and run the connection.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use wsproto::frame::Status;
use wsproto::handshake::{Accept, HandshakeError, Request, Response, ServerHandshake};

use crate::config::WebSocketConfig;
use crate::error::Error;
use crate::stream::WebSocketStream;

/// Accepts a WebSocket on `stream` (after TCP, or TLS, was accepted) with
/// the default configuration: any path, no subprotocol, permessage-deflate
/// when the client offers it (feature `deflate`).
///
/// A request that is not a valid upgrade is answered with its HTTP status
/// (400, 426...) and returned as [`Error::Handshake`].
///
/// ```no_run
/// use futures_util::StreamExt;
/// use tokio::net::TcpListener;
///
/// # async fn run() -> Result<(), wsproto_tokio::Error> {
/// let listener = TcpListener::bind("127.0.0.1:9002").await?;
/// let (tcp, _) = listener.accept().await?;
/// let mut ws = wsproto_tokio::accept(tcp).await?;
/// while let Some(message) = ws.next().await {
///     let message = message?;
///     if message.is_text() || message.is_binary() {
///         ws.send(message).await?;
///     }
/// }
/// # Ok(())
/// # }
/// ```
pub async fn accept<S>(stream: S) -> Result<WebSocketStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    accept_with_config(stream, WebSocketConfig::default(), |_: &Request, accept| {
        Ok(accept)
    })
    .await
}

/// [`accept`] with a callback that sees the request (path, query,
/// `Origin`, headers, offered subprotocols) and answers it: with the
/// [`Accept`] it is handed, changed or not (a subprotocol among those
/// offered, extra header fields, another configuration), or with a
/// [`Response`] that refuses it (e.g. [`Request::forbid`] for a 403, or
/// [`Request::reject`] with any status).
///
/// ```no_run
/// use wsproto_tokio::handshake::{Accept, Request, Response};
///
/// # async fn run(tcp: tokio::net::TcpStream) -> Result<(), wsproto_tokio::Error> {
/// let ws = wsproto_tokio::accept_with(tcp, |request: &Request, accept: Accept| {
///     if request.path() != "/chat" {
///         return Err(request.reject(404, "no such room\n"));
///     }
///     match request.protocols().find(|p| *p == "chat.v2") {
///         Some(p) => Ok(accept.protocol(p).header("Set-Cookie", "seen=1")),
///         None => Ok(accept),
///     }
/// })
/// .await?;
/// # Ok(())
/// # }
/// ```
pub async fn accept_with<S, F>(stream: S, callback: F) -> Result<WebSocketStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(&Request, Accept) -> Result<Accept, Response>,
{
    accept_with_config(stream, WebSocketConfig::default(), callback).await
}

/// [`accept_with`] with a configuration: the [`Accept`] handed to the
/// callback carries it (limits, timers, permessage-deflate).
pub async fn accept_with_config<S, F>(
    mut stream: S,
    config: WebSocketConfig,
    callback: F,
) -> Result<WebSocketStream<S>, Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
    F: FnOnce(&Request, Accept) -> Result<Accept, Response>,
{
    let mut handshake = ServerHandshake::new(config.limits);
    let mut buf = vec![0u8; 4096];
    let request = loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err(Error::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        match handshake.handle_input(&buf[..n]) {
            Ok(Status::Partial) => {}
            Ok(Status::Complete(request)) => break request,
            Err(error) => {
                answer(&mut stream, &error.to_response()).await?;
                return Err(Error::Handshake(error));
            }
        }
    };
    if !request.is_upgrade() {
        // RFC 9110 §15.5.22: "The server MUST send an Upgrade header field
        // in a 426 response".
        let page = Response::new(426)
            .with_header("Upgrade", "websocket")
            .with_header("Sec-WebSocket-Version", "13")
            .with_header("Connection", "close")
            .with_body("this is a WebSocket endpoint\n");
        answer(&mut stream, &page).await?;
        return Err(Error::Handshake(HandshakeError::MissingUpgrade));
    }
    let offered = server_accept(&config);
    let accept = match callback(&request, offered) {
        Ok(accept) => accept,
        Err(refusal) => {
            answer(&mut stream, &refusal).await?;
            return Err(Error::Refused(refusal.status));
        }
    };
    let accepted = match request.accept(accept) {
        Ok(accepted) => accepted,
        Err(usage) => {
            // The callback's answer could not be sent (a subprotocol the
            // client did not offer, a reserved header): the server's fault.
            answer(&mut stream, &Response::new(500)).await?;
            return Err(Error::Usage(usage));
        }
    };
    stream.write_all(&accepted.response.to_vec()?).await?;
    stream.flush().await?;
    Ok(
        WebSocketStream::from_connection(stream, accepted.connection, &config)
            .with_protocol(accepted.negotiated.protocol),
    )
}

/// The [`Accept`] a configuration stands for: its connection settings and
/// permessage-deflate.
pub(crate) fn server_accept(config: &WebSocketConfig) -> Accept {
    let accept = Accept::new().config(config.core());
    #[cfg(feature = "deflate")]
    let accept = match config.deflate.clone() {
        Some(deflate) => accept.deflate(deflate),
        None => accept,
    };
    accept
}

/// Writes a refusal and ends the stream.
async fn answer<S: AsyncWrite + Unpin>(stream: &mut S, response: &Response) -> Result<(), Error> {
    stream.write_all(&response.to_vec()?).await?;
    stream.shutdown().await?;
    Ok(())
}
