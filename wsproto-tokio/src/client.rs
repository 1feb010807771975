//! The client's side: `connect` opens TCP (through a proxy if the
//! environment names one), TLS for `wss://`, and runs the opening
//! handshake; `client_over` runs the handshake over a stream the caller
//! opened.

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use wsproto::frame::Status;
use wsproto::handshake::{ClientConfig, ClientHandshake, Response, UsageError, WsUrl};

use crate::config::WebSocketConfig;
use crate::error::Error;
use crate::proxy::{tunnel, Proxy};
use crate::stream::WebSocketStream;
use crate::tls::MaybeTlsStream;

/// What a client asks for: the URL, and the subprotocols, `Origin` and
/// extra header fields of its opening request.
///
/// ```
/// use wsproto_tokio::ClientRequest;
///
/// let request = ClientRequest::new("wss://example.com/chat")?
///     .protocol("chat.v2")
///     .header("Authorization", "Bearer abc");
/// assert_eq!(request.url().host(), "example.com");
/// # Ok::<_, wsproto_tokio::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct ClientRequest {
    url: WsUrl,
    protocols: Vec<String>,
    origin: Option<String>,
    headers: Vec<(String, Vec<u8>)>,
}

impl ClientRequest {
    /// A request for a `ws://` or `wss://` URL.
    pub fn new(url: &str) -> Result<ClientRequest, Error> {
        Ok(ClientRequest::from_url(WsUrl::parse(url)?))
    }

    /// A request for a parsed URL.
    pub fn from_url(url: WsUrl) -> ClientRequest {
        ClientRequest {
            url,
            protocols: Vec::new(),
            origin: None,
            headers: Vec::new(),
        }
    }

    /// Offers a subprotocol (`Sec-WebSocket-Protocol`), in order of
    /// preference.
    #[must_use]
    pub fn protocol(mut self, protocol: impl Into<String>) -> ClientRequest {
        self.protocols.push(protocol.into());
        self
    }

    /// Sends `Origin`.
    #[must_use]
    pub fn origin(mut self, origin: impl Into<String>) -> ClientRequest {
        self.origin = Some(origin.into());
        self
    }

    /// Adds a header field (e.g. `Authorization`, `Cookie`). The
    /// handshake's own fields are refused when connecting.
    #[must_use]
    pub fn header(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> ClientRequest {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The URL.
    pub fn url(&self) -> &WsUrl {
        &self.url
    }

    /// The core's handshake configuration for this request.
    pub(crate) fn client_config(&self, config: &WebSocketConfig) -> ClientConfig {
        let mut client = ClientConfig::new()
            .config(config.core())
            .limits(config.limits);
        #[cfg(feature = "deflate")]
        if let Some(deflate) = config.deflate.clone() {
            client = client.deflate(deflate);
        }
        for protocol in &self.protocols {
            client = client.protocol(protocol.as_str());
        }
        if let Some(origin) = &self.origin {
            client = client.origin(origin.as_str());
        }
        for (name, value) in &self.headers {
            client = client.header(name.as_str(), value.as_slice());
        }
        client
    }
}

/// What [`connect_with`] and [`client_over`] accept as a request: a URL
/// (`&str`, `String`, [`WsUrl`]), a [`ClientRequest`], or an
/// `http::Request<()>` (as tokio-tungstenite's `IntoClientRequest` builds
/// one: its URI, and its header fields as extra fields, but those the
/// handshake writes itself).
pub trait IntoClientRequest {
    /// The request.
    fn into_client_request(self) -> Result<ClientRequest, Error>;
}

impl IntoClientRequest for ClientRequest {
    fn into_client_request(self) -> Result<ClientRequest, Error> {
        Ok(self)
    }
}

impl IntoClientRequest for &str {
    fn into_client_request(self) -> Result<ClientRequest, Error> {
        ClientRequest::new(self)
    }
}

impl IntoClientRequest for String {
    fn into_client_request(self) -> Result<ClientRequest, Error> {
        ClientRequest::new(&self)
    }
}

impl IntoClientRequest for &String {
    fn into_client_request(self) -> Result<ClientRequest, Error> {
        ClientRequest::new(self)
    }
}

impl IntoClientRequest for WsUrl {
    fn into_client_request(self) -> Result<ClientRequest, Error> {
        Ok(ClientRequest::from_url(self))
    }
}

impl IntoClientRequest for http::Request<()> {
    fn into_client_request(self) -> Result<ClientRequest, Error> {
        let mut request = ClientRequest::new(&self.uri().to_string())?;
        for (name, value) in self.headers() {
            match name.as_str() {
                // Written by the handshake itself.
                "host"
                | "upgrade"
                | "connection"
                | "sec-websocket-key"
                | "sec-websocket-version"
                | "sec-websocket-extensions" => {}
                "sec-websocket-protocol" => {
                    let list = value.to_str().map_err(|_| {
                        Error::Usage(UsageError::InvalidHeader(name.as_str().into()))
                    })?;
                    for protocol in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                        request = request.protocol(protocol);
                    }
                }
                "origin" => {
                    let origin = value.to_str().map_err(|_| {
                        Error::Usage(UsageError::InvalidHeader(name.as_str().into()))
                    })?;
                    request = request.origin(origin);
                }
                _ => request = request.header(name.as_str(), value.as_bytes()),
            }
        }
        Ok(request)
    }
}

/// Connects to a `ws://` or `wss://` URL with the default configuration:
/// the WebSocket, and the server's `101` response (its extra fields, such
/// as `Set-Cookie`).
///
/// `HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY` and `NO_PROXY` are honoured
/// (see [`Proxy`]). `wss://` needs the `rustls` feature.
///
/// ```no_run
/// # async fn run() -> Result<(), wsproto_tokio::Error> {
/// let (ws, response) = wsproto_tokio::connect("wss://example.com/socket").await?;
/// # Ok(())
/// # }
/// ```
pub async fn connect(
    request: impl IntoClientRequest,
) -> Result<(WebSocketStream<MaybeTlsStream<TcpStream>>, Response), Error> {
    connect_with(request, WebSocketConfig::default()).await
}

/// [`connect`] with a request (subprotocols, headers) and a configuration.
pub async fn connect_with(
    request: impl IntoClientRequest,
    config: WebSocketConfig,
) -> Result<(WebSocketStream<MaybeTlsStream<TcpStream>>, Response), Error> {
    let request = request.into_client_request()?;
    let url = request.url();
    if url.is_secure() && !cfg!(feature = "rustls") {
        return Err(Error::Unsupported(
            "wss:// needs the `rustls` feature of wsproto-tokio",
        ));
    }
    let (tcp, early) = match Proxy::from_env(url.host(), url.is_secure())? {
        Some(proxy) => tunnel(&proxy, url.host(), url.port()).await?,
        None => (
            TcpStream::connect((url.host(), url.port())).await?,
            BytesMut::new(),
        ),
    };
    tcp.set_nodelay(config.nodelay)?;
    let stream = if url.is_secure() {
        // A TLS server does not speak first: nothing can have come after
        // the proxy's answer.
        if !early.is_empty() {
            return Err(Error::Unsupported(
                "bytes from the server before the TLS handshake",
            ));
        }
        secure(&config, url.host(), tcp).await?
    } else {
        MaybeTlsStream::Plain(tcp)
    };
    handshake(stream, request, config, &early).await
}

#[cfg(feature = "rustls")]
async fn secure(
    config: &WebSocketConfig,
    host: &str,
    tcp: TcpStream,
) -> Result<MaybeTlsStream<TcpStream>, Error> {
    crate::tls::connect(config, host, tcp).await
}

#[cfg(not(feature = "rustls"))]
async fn secure(
    _: &WebSocketConfig,
    _: &str,
    _: TcpStream,
) -> Result<MaybeTlsStream<TcpStream>, Error> {
    Err(Error::Unsupported(
        "wss:// needs the `rustls` feature of wsproto-tokio",
    ))
}

/// Runs the client's opening handshake over a stream the caller opened
/// (TCP, TLS, a Unix socket, a proxy's tunnel...): for `request`'s URL,
/// whose scheme says nothing here (the stream is what it is).
pub async fn client_over<S>(
    stream: S,
    request: impl IntoClientRequest,
    config: WebSocketConfig,
) -> Result<(WebSocketStream<S>, Response), Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    handshake(stream, request.into_client_request()?, config, &[]).await
}

/// Writes the request, reads the response (`early`: bytes read already).
async fn handshake<S>(
    mut stream: S,
    request: ClientRequest,
    config: WebSocketConfig,
    early: &[u8],
) -> Result<(WebSocketStream<S>, Response), Error>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut handshake = ClientHandshake::new_random(request.url(), request.client_config(&config))?;
    stream.write_all(&handshake.request_to_vec()?).await?;
    stream.flush().await?;
    let mut status = if early.is_empty() {
        Status::Partial
    } else {
        handshake.handle_input(early)?
    };
    let mut buf = vec![0u8; 4096];
    let accepted = loop {
        if let Status::Complete(accepted) = status {
            break accepted;
        }
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err(Error::Io(std::io::ErrorKind::UnexpectedEof.into()));
        }
        status = handshake.handle_input(&buf[..n])?;
    };
    let ws = WebSocketStream::from_connection(stream, accepted.connection, &config)
        .with_protocol(accepted.negotiated.protocol);
    Ok((ws, accepted.response))
}
