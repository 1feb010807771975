//! WebSockets over HTTP/3 (RFC 9220) against the `h3_echo` example's
//! server, in process on 127.0.0.1 (UDP): the `http3` client opening
//! request streams of one QUIC connection, the refusals (a bad version, a
//! server without SETTINGS_ENABLE_CONNECT_PROTOCOL), the certificate and
//! key the example loads, and how a stream's end maps onto the close
//! handshake.
#![cfg(feature = "http3")]

#[path = "../examples/h3_echo/server.rs"]
mod server;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Buf, Bytes};
use futures_util::StreamExt;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};
use tokio::task::JoinHandle;
use tokio::time::timeout;
use wsproto_tokio::handshake::extended_connect::ConnectClient;
use wsproto_tokio::handshake::{ClientConfig, WsUrl};
use wsproto_tokio::http3::quinn::rustls::pki_types::pem::PemObject;
use wsproto_tokio::http3::quinn::rustls::pki_types::CertificateDer;
use wsproto_tokio::http3::quinn::rustls::RootCertStore;
use wsproto_tokio::http3::{self, hpx_h3, quinn, Http3Client, Http3WebSocket};
use wsproto_tokio::{CloseCause, CloseCode, CloseFrame, Error, Message};

use server::{server_config, Event, Server, MAX_STREAMS};

const LIMIT: Duration = Duration::from_secs(30);

/// A self-signed certificate for `localhost` and its key, an EC P-256 key
/// in PKCS#8, both in PEM (as `openssl req -newkey ec` writes them).
struct Identity {
    cert_pem: String,
    key_pem: String,
}

impl Identity {
    fn new() -> Identity {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        Identity {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }
}

/// The server on 127.0.0.1, and a client endpoint that trusts it.
struct Fixture {
    addr: SocketAddr,
    events: UnboundedReceiver<Event>,
    client: quinn::Endpoint,
    task: JoinHandle<()>,
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Fixture {
    async fn start(connect_protocol: bool) -> Fixture {
        let identity = Identity::new();
        let config =
            server_config(identity.cert_pem.as_bytes(), identity.key_pem.as_bytes()).unwrap();
        let endpoint = quinn::Endpoint::server(config, "127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = endpoint.local_addr().unwrap();
        let (events, rx) = unbounded_channel();
        let server = Server {
            connect_protocol,
            events,
        };
        let task = tokio::spawn(server.run(endpoint));
        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(identity.cert_pem.as_bytes()) {
            roots.add(cert.unwrap()).unwrap();
        }
        let mut client = quinn::Endpoint::client("127.0.0.1:0".parse().unwrap()).unwrap();
        client.set_default_client_config(http3::client_config(roots));
        Fixture {
            addr,
            events: rx,
            client,
            task,
        }
    }

    /// A new QUIC connection to the server.
    async fn quic(&self) -> quinn::Connection {
        timeout(LIMIT, self.client.connect(self.addr, "localhost").unwrap())
            .await
            .unwrap()
            .unwrap()
    }

    /// The server, and an HTTP/3 client connected to it.
    async fn connected(connect_protocol: bool) -> (Fixture, Http3Client) {
        let mut fixture = Fixture::start(connect_protocol).await;
        let client = timeout(LIMIT, Http3Client::handshake(fixture.quic().await))
            .await
            .unwrap()
            .unwrap();
        assert!(matches!(fixture.event().await, Event::Connected { .. }));
        (fixture, client)
    }

    fn url(&self, path: &str) -> String {
        format!("wss://localhost:{}{path}", self.addr.port())
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

    async fn opened(&mut self, path: &str) {
        match self.event().await {
            Event::Opened { path: p } => assert_eq!(p, path),
            other => panic!("{other:?} instead of an opening"),
        }
    }
}

async fn next(ws: &mut Http3WebSocket) -> Message {
    timeout(LIMIT, ws.next())
        .await
        .expect("a message in time")
        .expect("the WebSocket is open")
        .expect("no error")
}

async fn echoes(ws: &mut Http3WebSocket, message: Message) {
    ws.send(message.clone()).await.unwrap();
    assert_eq!(next(ws).await, message);
}

/// Closes with `code` and waits for the end: the server's close frame
/// must echo the code.
async fn close_with(ws: &mut Http3WebSocket, code: u16) {
    ws.close(Some(CloseFrame {
        code: CloseCode::from(code),
        reason: "bye".into(),
    }))
    .await
    .unwrap();
    while let Some(message) = timeout(LIMIT, ws.next()).await.unwrap() {
        message.unwrap();
    }
    assert_eq!(ws.close_status().map(|f| u16::from(f.code)), Some(code));
    assert_eq!(ws.close_cause(), Some(&CloseCause::Handshake));
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|n| (n as u8) ^ seed).collect()
}

/// The example's key format: a P-256 key in PKCS#8 PEM loads; what is not
/// a key is an error, not a panic.
#[test]
fn a_p256_pkcs8_key_loads() {
    let identity = Identity::new();
    assert!(identity.key_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    server_config(identity.cert_pem.as_bytes(), identity.key_pem.as_bytes()).unwrap();
    assert!(server_config(identity.cert_pem.as_bytes(), b"not a key").is_err());
    assert!(server_config(b"", identity.key_pem.as_bytes()).is_err());
}

#[tokio::test]
async fn text_binary_ping_and_close_code() {
    let (mut fixture, client) = Fixture::connected(true).await;
    assert!(client.is_extended_connect_enabled());
    let (mut ws, response) = client.connect(fixture.url("/echo")).await.unwrap();
    assert_eq!(response.status, 200);
    fixture.opened("/echo").await;
    echoes(&mut ws, Message::text("héllo over h3")).await;
    echoes(&mut ws, Message::binary(pattern(10, 1))).await;
    echoes(&mut ws, Message::binary(pattern(64 << 10, 2))).await;
    ws.send(Message::Ping(Bytes::from_static(b"ping")))
        .await
        .unwrap();
    assert_eq!(
        next(&mut ws).await,
        Message::Pong(Bytes::from_static(b"ping"))
    );
    close_with(&mut ws, 4001).await;
    // The server saw the close handshake end in order: the client's
    // close frame, then the FIN.
    let (path, cause, status) = fixture.closed().await;
    assert_eq!(path, "/echo");
    assert_eq!(cause, Some(CloseCause::Handshake));
    assert_eq!(status.map(|f| u16::from(f.code)), Some(4001));
}

/// A message larger than QUIC's initial stream window goes through as the
/// server reads.
#[tokio::test]
async fn four_mib_under_flow_control() {
    let (_fixture, client) = Fixture::connected(true).await;
    let (mut ws, _) = client.connect(_fixture.url("/large")).await.unwrap();
    echoes(&mut ws, Message::binary(pattern(4 << 20, 3))).await;
    close_with(&mut ws, 1000).await;
}

/// 20 WebSockets at once on one QUIC connection, each its own request
/// stream: all echo their own messages and close with their own codes.
#[tokio::test]
async fn twenty_websockets_share_one_connection() {
    const SOCKETS: u16 = 20;
    assert!(u32::from(SOCKETS) <= MAX_STREAMS);
    let (mut fixture, client) = Fixture::connected(true).await;
    let mut sockets = Vec::new();
    for i in 0..SOCKETS {
        let (ws, _) = timeout(LIMIT, client.connect(fixture.url(&format!("/{i}"))))
            .await
            .unwrap()
            .unwrap();
        sockets.push(ws);
    }
    // All open before any exchange: 20 streams at once.
    let tasks: Vec<_> = sockets
        .into_iter()
        .enumerate()
        .map(|(i, mut ws)| {
            tokio::spawn(async move {
                echoes(&mut ws, Message::text(format!("socket {i}"))).await;
                echoes(&mut ws, Message::binary(pattern(64 << 10, i as u8))).await;
                close_with(&mut ws, 4000 + i as u16).await;
            })
        })
        .collect();
    for task in tasks {
        timeout(LIMIT, task).await.unwrap().unwrap();
    }
    let (mut opened, mut closed) = (Vec::new(), Vec::new());
    while closed.len() < usize::from(SOCKETS) {
        match fixture.event().await {
            Event::Opened { path } => opened.push(path),
            Event::Closed { path, status, .. } => {
                let i: u16 = path[1..].parse().unwrap();
                assert_eq!(status.map(|f| u16::from(f.code)), Some(4000 + i));
                closed.push(i);
            }
            other => panic!("{other:?}: one QUIC connection only"),
        }
    }
    assert_eq!(opened.len(), usize::from(SOCKETS));
    closed.sort_unstable();
    assert_eq!(closed, (0..SOCKETS).collect::<Vec<_>>());
}

/// An extended CONNECT with `Sec-WebSocket-Version: 8`, sent with hpx-h3
/// itself (the client API only sends 13): a 4xx that names the version
/// the server speaks (RFC 6455 §4.4).
#[tokio::test]
async fn a_bad_version_is_refused_with_a_4xx() {
    let mut fixture = Fixture::start(true).await;
    let quic = fixture.quic().await;
    let (mut driver, mut send) = hpx_h3::client::new(hpx_h3::quinn::Connection::new(quic))
        .await
        .unwrap();
    let driver =
        tokio::spawn(async move { std::future::poll_fn(|cx| driver.poll_close(cx)).await });
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
        .insert(hpx_h3::ext::Protocol::WEBSOCKET);
    let mut stream = send.send_request(request).await.unwrap();
    let response = timeout(LIMIT, stream.recv_response())
        .await
        .unwrap()
        .unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());
    assert_eq!(response.headers()["sec-websocket-version"], "13");
    // The body says why; the server then ends the stream.
    let mut body = Vec::new();
    while let Some(mut data) = timeout(LIMIT, stream.recv_data()).await.unwrap().unwrap() {
        body.extend_from_slice(&data.copy_to_bytes(data.remaining()));
    }
    assert!(!body.is_empty());
    assert!(matches!(fixture.event().await, Event::Connected { .. }));
    match fixture.event().await {
        Event::Refused { path, status } => {
            assert_eq!((path.as_str(), status), ("/old", response.status()))
        }
        other => panic!("{other:?}"),
    }
    driver.abort();
}

/// A server that did not send SETTINGS_ENABLE_CONNECT_PROTOCOL is never
/// asked (RFC 9220 §3, RFC 8441 §4): the typed error, and no request
/// reaches the server.
#[tokio::test]
async fn a_server_without_the_setting_is_refused() {
    let (mut fixture, client) = Fixture::connected(false).await;
    assert!(!client.is_extended_connect_enabled());
    match client.connect(fixture.url("/nope")).await {
        Err(Error::ExtendedConnectDisabled) => {}
        other => panic!("{:?}", other.map(|(_, r)| r)),
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(fixture.events.try_recv().is_err());
}

/// A WebSocket dropped without a close handshake is reset
/// (H3_REQUEST_CANCELLED), which the server reads as the transport's end
/// (1006, no close frame); the connection and its other streams go on.
#[tokio::test]
async fn a_dropped_websocket_resets_its_stream_only() {
    let (mut fixture, client) = Fixture::connected(true).await;
    let (mut kept, _) = client.connect(fixture.url("/kept")).await.unwrap();
    fixture.opened("/kept").await;
    let (mut dropped, _) = client.connect(fixture.url("/dropped")).await.unwrap();
    fixture.opened("/dropped").await;
    echoes(&mut dropped, Message::text("before the drop")).await;
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

/// The client's WebSockets keep the QUIC connection open after the
/// `Http3Client` is dropped (hpx-h3 closes it with its last request
/// sender).
#[tokio::test]
async fn a_websocket_outlives_its_client() {
    let (fixture, client) = Fixture::connected(true).await;
    let (mut ws, _) = client.connect(fixture.url("/alone")).await.unwrap();
    drop(client);
    tokio::time::sleep(Duration::from_millis(50)).await;
    echoes(&mut ws, Message::text("still connected")).await;
    close_with(&mut ws, 1000).await;
}

/// Past the server's limit of concurrent request streams (QUIC's
/// MAX_STREAMS, RFC 9000 §4.6), one more WebSocket waits instead of
/// failing, and opens on the same connection once WebSockets have ended
/// and the server has granted streams again (quinn grants them in
/// batches, once more than an eighth of its limit has been freed).
#[tokio::test]
async fn past_the_stream_limit_a_websocket_waits_for_streams_to_end() {
    let (fixture, client) = Fixture::connected(true).await;
    let mut sockets = Vec::new();
    for i in 0..MAX_STREAMS {
        let (ws, _) = timeout(LIMIT, client.connect(fixture.url(&format!("/{i}"))))
            .await
            .unwrap()
            .unwrap();
        sockets.push(ws);
    }
    let extra = {
        let (client, url) = (client.clone(), fixture.url("/extra"));
        tokio::spawn(async move { client.connect(url).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!extra.is_finished(), "a stream past the limit opened");
    for mut ws in sockets.drain(..(MAX_STREAMS / 8 + 1) as usize) {
        close_with(&mut ws, 1000).await;
    }
    let (mut ws, _) = timeout(LIMIT, extra).await.unwrap().unwrap().unwrap();
    echoes(&mut ws, Message::text("one past the limit")).await;
    close_with(&mut ws, 1000).await;
    // The others were open all along.
    echoes(&mut sockets[0], Message::text("still open")).await;
}
