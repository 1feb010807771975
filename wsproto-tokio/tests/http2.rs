//! WebSockets over HTTP/2 (RFC 8441) against the `h2_echo` example's
//! server, in process on 127.0.0.1: the `http2` client opening streams of
//! one connection (h2c with prior knowledge, and TLS with ALPN), HTTP/1.1
//! on the same port, the refusals (a bad version, a server without
//! SETTINGS_ENABLE_CONNECT_PROTOCOL), and how a stream's end maps onto
//! the close handshake.
#![cfg(all(feature = "hyper", feature = "http2", feature = "rustls"))]

#[path = "../examples/h2_echo/server.rs"]
mod server;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};
use tokio::task::JoinHandle;
use tokio::time::timeout;
use tokio_rustls::rustls;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::TlsAcceptor;
use wsproto_tokio::handshake::extended_connect::{ConnectClient, PROTOCOL};
use wsproto_tokio::handshake::{ClientConfig, WsUrl};
use wsproto_tokio::http2::Http2Client;
use wsproto_tokio::{CloseCause, CloseCode, CloseFrame, Error, Message};

use server::{Event, Server};

/// The bound on any one step: generous, since a 16 MiB echo in a debug
/// build on a loaded machine takes tens of seconds.
const LIMIT: Duration = Duration::from_secs(120);

/// The server on 127.0.0.1: what it reports, and how many TCP
/// connections it accepted.
struct Fixture {
    addr: SocketAddr,
    events: UnboundedReceiver<Event>,
    connections: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Fixture {
    async fn start(connect_protocol: bool, tls: Option<TlsAcceptor>) -> Fixture {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (events, rx) = unbounded_channel();
        let server = Server {
            connect_protocol,
            events,
        };
        let connections = Arc::new(AtomicUsize::new(0));
        let count = connections.clone();
        let task = tokio::spawn(async move {
            loop {
                let (tcp, _) = listener.accept().await.unwrap();
                count.fetch_add(1, Ordering::SeqCst);
                let (server, tls) = (server.clone(), tls.clone());
                tokio::spawn(async move {
                    let _ = match tls {
                        Some(tls) => server.serve(tls.accept(tcp).await.unwrap()).await,
                        None => server.serve(tcp).await,
                    };
                });
            }
        });
        Fixture {
            addr,
            events: rx,
            connections,
            task,
        }
    }

    async fn h2c(connect_protocol: bool) -> (Fixture, Http2Client) {
        let fixture = Fixture::start(connect_protocol, None).await;
        let tcp = TcpStream::connect(fixture.addr).await.unwrap();
        let client = timeout(LIMIT, Http2Client::handshake(tcp))
            .await
            .unwrap()
            .unwrap();
        (fixture, client)
    }

    fn url(&self, path: &str) -> String {
        format!("ws://{}{path}", self.addr)
    }

    async fn event(&mut self) -> Event {
        timeout(LIMIT, self.events.recv())
            .await
            .expect("an event from the server in time")
            .expect("the server is running")
    }

    /// The next event, which must be a WebSocket's end.
    async fn closed(&mut self) -> (String, Option<CloseCause>, Option<CloseFrame>) {
        match self.event().await {
            Event::Closed {
                path,
                cause,
                status,
            } => (path, cause, status),
            other => panic!("{other:?} instead of a close"),
        }
    }

    /// The next event, which must be a WebSocket opened over `version`
    /// with `method` at `path`.
    async fn opened(&mut self, version: http::Version, method: http::Method, path: &str) {
        match self.event().await {
            Event::Opened {
                version: v,
                method: m,
                path: p,
            } => assert_eq!((v, m, p.as_str()), (version, method, path)),
            other => panic!("{other:?} instead of an opening"),
        }
    }
}

async fn next<S>(ws: &mut wsproto_tokio::WebSocketStream<S>) -> Message
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    timeout(LIMIT, ws.next())
        .await
        .expect("a message in time")
        .expect("the WebSocket is open")
        .expect("no error")
}

async fn echoes<S>(ws: &mut wsproto_tokio::WebSocketStream<S>, message: Message)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    ws.send(message.clone()).await.unwrap();
    assert_eq!(next(ws).await, message);
}

/// Closes with `code` and reads to the end: the server echoes the code.
async fn close_with<S>(ws: &mut wsproto_tokio::WebSocketStream<S>, code: u16)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    ws.close(Some(CloseFrame {
        code: CloseCode::from(code),
        reason: "bye".into(),
    }))
    .await
    .unwrap();
    while timeout(LIMIT, ws.next()).await.unwrap().is_some() {}
    assert_eq!(ws.close_cause(), Some(&CloseCause::Handshake));
    assert_eq!(ws.close_status().map(|f| u16::from(f.code)), Some(code));
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ seed)
        .collect()
}

#[tokio::test]
async fn text_binary_ping_and_close_codes_over_h2c() {
    let (mut fixture, client) = Fixture::h2c(true).await;
    assert!(client.is_extended_connect_enabled());
    let (mut ws, response) = client.connect(fixture.url("/echo?x=1")).await.unwrap();
    assert_eq!(response.status, 200);
    fixture
        .opened(http::Version::HTTP_2, http::Method::CONNECT, "/echo")
        .await;
    echoes(&mut ws, Message::text("hello over HTTP/2")).await;
    echoes(&mut ws, Message::binary(pattern(64 << 10, 1))).await;
    ws.send(Message::Ping(Bytes::from_static(b"ping")))
        .await
        .unwrap();
    assert_eq!(
        next(&mut ws).await,
        Message::Pong(Bytes::from_static(b"ping"))
    );
    close_with(&mut ws, 4321).await;
    let (path, cause, status) = fixture.closed().await;
    assert_eq!(path, "/echo");
    assert_eq!(cause, Some(CloseCause::Handshake));
    assert_eq!(
        status.map(|f| (u16::from(f.code), f.reason.to_string())),
        Some((4321, "bye".into()))
    );
}

/// 16 MiB each way through windows of 2 MiB (the client's) and hyper's
/// (the server's): the message only gets through if both ends hand back
/// window (WINDOW_UPDATE) as they read.
#[tokio::test]
async fn sixteen_mib_under_flow_control() {
    let (mut fixture, client) = Fixture::h2c(true).await;
    let (mut ws, _) = client.connect(fixture.url("/big")).await.unwrap();
    echoes(&mut ws, Message::binary(pattern(16 << 20, 7))).await;
    close_with(&mut ws, 1000).await;
    fixture
        .opened(http::Version::HTTP_2, http::Method::CONNECT, "/big")
        .await;
    assert_eq!(fixture.closed().await.1, Some(CloseCause::Handshake));
}

/// 100 WebSockets at once, each a stream of the one TCP connection.
#[tokio::test]
async fn a_hundred_websockets_share_one_connection() {
    let (mut fixture, client) = Fixture::h2c(true).await;
    let mut tasks = Vec::new();
    for i in 0..100u16 {
        let client = client.clone();
        let url = fixture.url(&format!("/ws/{i}"));
        tasks.push(tokio::spawn(async move {
            let (mut ws, _) = client.connect(url).await.unwrap();
            echoes(&mut ws, Message::text(format!("socket {i}"))).await;
            echoes(&mut ws, Message::binary(pattern(64 << 10, i as u8))).await;
            close_with(&mut ws, 4000 + i).await;
        }));
    }
    for task in tasks {
        timeout(LIMIT, task).await.unwrap().unwrap();
    }
    assert_eq!(fixture.connections.load(Ordering::SeqCst), 1);
    let (mut opened, mut closed) = (0, Vec::new());
    while opened < 100 || closed.len() < 100 {
        match fixture.event().await {
            Event::Opened { version, .. } => {
                assert_eq!(version, http::Version::HTTP_2);
                opened += 1;
            }
            Event::Closed { cause, status, .. } => {
                assert_eq!(cause, Some(CloseCause::Handshake));
                closed.push(u16::from(status.unwrap().code));
            }
            other => panic!("{other:?}"),
        }
    }
    closed.sort_unstable();
    assert_eq!(closed, (4000..4100).collect::<Vec<_>>());
}

/// An extended CONNECT with `Sec-WebSocket-Version: 8`, sent with the h2
/// crate itself (the client API only sends 13): a 4xx that names the
/// version the server speaks (RFC 6455 §4.4).
#[tokio::test]
async fn a_bad_version_is_refused_with_a_4xx() {
    let mut fixture = Fixture::start(true, None).await;
    let tcp = TcpStream::connect(fixture.addr).await.unwrap();
    let (send, mut connection) = h2::client::handshake(tcp).await.unwrap();
    let mut ping = connection.ping_pong().unwrap();
    tokio::spawn(connection);
    ping.ping(h2::Ping::opaque()).await.unwrap();
    assert!(send.is_extended_connect_protocol_enabled());
    let url = WsUrl::parse(&fixture.url("/old")).unwrap();
    let mut request = ConnectClient::new(&url, ClientConfig::new())
        .unwrap()
        .request()
        .unwrap();
    request
        .headers_mut()
        .insert("sec-websocket-version", http::HeaderValue::from_static("8"));
    request
        .extensions_mut()
        .insert(h2::ext::Protocol::from(PROTOCOL));
    let mut send = send.ready().await.unwrap();
    let (response, _stream) = send.send_request(request, false).unwrap();
    let response = timeout(LIMIT, response).await.unwrap().unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
    assert_eq!(response.headers()["sec-websocket-version"], "13");
    match fixture.event().await {
        Event::Refused {
            version, status, ..
        } => assert_eq!(
            (version, status),
            (http::Version::HTTP_2, response.status())
        ),
        other => panic!("{other:?}"),
    }
}

/// A server that did not send SETTINGS_ENABLE_CONNECT_PROTOCOL is never
/// asked (RFC 8441 §4): the typed error, and nothing reaches the server.
#[tokio::test]
async fn a_server_without_the_setting_is_refused() {
    let (mut fixture, client) = Fixture::h2c(false).await;
    assert!(!client.is_extended_connect_enabled());
    match client.connect(fixture.url("/nope")).await {
        Err(Error::ExtendedConnectDisabled) => {}
        other => panic!("{:?}", other.map(|(_, r)| r)),
    }
    assert!(fixture.events.try_recv().is_err());
}

/// HTTP/1.1 upgrades on the port that speaks HTTP/2.
#[tokio::test]
async fn http1_on_the_same_port() {
    let (mut fixture, client) = Fixture::h2c(true).await;
    let (mut ws1, response) = wsproto_tokio::connect(fixture.url("/one")).await.unwrap();
    assert_eq!(response.status, 101);
    fixture
        .opened(http::Version::HTTP_11, http::Method::GET, "/one")
        .await;
    let (mut ws2, _) = client.connect(fixture.url("/two")).await.unwrap();
    fixture
        .opened(http::Version::HTTP_2, http::Method::CONNECT, "/two")
        .await;
    echoes(&mut ws1, Message::text("one")).await;
    echoes(&mut ws2, Message::text("two")).await;
    close_with(&mut ws1, 1000).await;
    close_with(&mut ws2, 1000).await;
    assert_eq!(fixture.connections.load(Ordering::SeqCst), 2);
}

/// A certificate for `localhost`: the server's TLS with it, and a
/// client's TLS configuration that trusts it.
fn tls_pair() -> (TlsAcceptor, rustls::ClientConfig) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let acceptor = server::tls_acceptor(
        cert.cert.pem().as_bytes(),
        cert.key_pair.serialize_pem().as_bytes(),
    )
    .unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from(cert.cert.der().to_vec()))
        .unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    (acceptor, config)
}

/// TLS to the fixture, asking for `alpn`; the server must have chosen it.
async fn tls_connect(
    fixture: &Fixture,
    config: &rustls::ClientConfig,
    alpn: &[u8],
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let mut config = config.clone();
    config.alpn_protocols = vec![alpn.to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tcp = TcpStream::connect(fixture.addr).await.unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    let tls = timeout(LIMIT, connector.connect(name, tcp))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(alpn));
    tls
}

/// TLS: ALPN `h2` leads to HTTP/2 and extended CONNECT, ALPN `http/1.1`
/// to the HTTP/1.1 upgrade, on one port.
#[tokio::test]
async fn tls_with_alpn_h2_and_http1() {
    let (acceptor, config) = tls_pair();
    let mut fixture = Fixture::start(true, Some(acceptor)).await;
    let tls = tls_connect(&fixture, &config, b"h2").await;
    let client = Http2Client::handshake(tls).await.unwrap();
    let url = format!("wss://localhost:{}/secure", fixture.addr.port());
    let (mut ws, _) = client.connect(url.as_str()).await.unwrap();
    fixture
        .opened(http::Version::HTTP_2, http::Method::CONNECT, "/secure")
        .await;
    echoes(&mut ws, Message::binary(pattern(1 << 20, 3))).await;
    close_with(&mut ws, 1000).await;

    let tls = tls_connect(&fixture, &config, b"http/1.1").await;
    let (mut ws, response) = wsproto_tokio::client_over(tls, url.as_str(), Default::default())
        .await
        .unwrap();
    assert_eq!(response.status, 101);
    assert_eq!(fixture.closed().await.1, Some(CloseCause::Handshake));
    fixture
        .opened(http::Version::HTTP_11, http::Method::GET, "/secure")
        .await;
    echoes(&mut ws, Message::text("over HTTP/1.1 and TLS")).await;
    close_with(&mut ws, 1000).await;
}

/// A WebSocket dropped without its close handshake: the client's stream
/// is reset (RST_STREAM, CANCEL), which the server reads as the transport's
/// end (1006, no close frame); the connection and its other streams go
/// on.
#[tokio::test]
async fn a_dropped_websocket_resets_its_stream_only() {
    let (mut fixture, client) = Fixture::h2c(true).await;
    let (mut kept, _) = client.connect(fixture.url("/kept")).await.unwrap();
    fixture
        .opened(http::Version::HTTP_2, http::Method::CONNECT, "/kept")
        .await;
    let (mut dropped, _) = client.connect(fixture.url("/dropped")).await.unwrap();
    fixture
        .opened(http::Version::HTTP_2, http::Method::CONNECT, "/dropped")
        .await;
    echoes(&mut dropped, Message::text("about to go")).await;
    drop(dropped);
    let (path, cause, status) = fixture.closed().await;
    assert_eq!(path, "/dropped");
    assert_eq!(cause, Some(CloseCause::TransportEnded));
    assert_eq!(status.map(|f| f.code), Some(CloseCode::ABNORMAL));
    echoes(&mut kept, Message::text("still here")).await;
    let (mut another, _) = client.connect(fixture.url("/another")).await.unwrap();
    echoes(&mut another, Message::text("and a new one")).await;
    close_with(&mut kept, 1000).await;
    close_with(&mut another, 1000).await;
}
