//! hyper and axum upgrades over 127.0.0.1: an axum router with the
//! extractor, reached over HTTP/1.1 (`connect`) and over HTTP/2 extended
//! CONNECT (a hyper client, RFC 8441); and the bare hyper helper.
#![cfg(feature = "axum")]

use std::net::SocketAddr;
use std::time::Duration;

use axum::response::Response;
use axum::routing::any;
use axum::Router;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::Empty;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use wsproto_tokio::axum::{WebSocket, WebSocketUpgrade};
use wsproto_tokio::handshake::extended_connect::ConnectClient;
use wsproto_tokio::handshake::{ClientConfig, WsUrl};
use wsproto_tokio::{ClientRequest, Message, WebSocketConfig, WebSocketStream};

const LIMIT: Duration = Duration::from_secs(20);

async fn handler(ws: WebSocketUpgrade) -> Response {
    ws.protocols(["v3", "v2"]).on_upgrade(echo)
}

async fn echo(mut socket: WebSocket) {
    let hello = format!("protocol {:?}", socket.protocol());
    if socket.send(Message::text(hello)).await.is_err() {
        return;
    }
    while let Some(Ok(message)) = socket.recv().await {
        if (message.is_text() || message.is_binary()) && socket.send(message).await.is_err() {
            return;
        }
    }
}

/// The router of `examples/axum_echo.rs`, served on 127.0.0.1.
async fn serve() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let app = Router::new().route("/{*path}", any(handler));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, task)
}

async fn exchange<S>(ws: &mut WebSocketStream<S>, protocol: &str)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    assert_eq!(
        timeout(LIMIT, ws.next()).await.unwrap().unwrap().unwrap(),
        Message::text(format!("protocol {protocol}"))
    );
    for i in 0..20 {
        ws.feed(Message::text(format!("{i}"))).await.unwrap();
    }
    ws.feed(Message::binary(vec![9u8; 1 << 20])).await.unwrap();
    ws.flush().await.unwrap();
    for i in 0..20 {
        assert_eq!(
            timeout(LIMIT, ws.next()).await.unwrap().unwrap().unwrap(),
            Message::text(format!("{i}"))
        );
    }
    assert_eq!(
        timeout(LIMIT, ws.next()).await.unwrap().unwrap().unwrap(),
        Message::binary(vec![9u8; 1 << 20])
    );
    ws.close(None).await.unwrap();
    while timeout(LIMIT, ws.next()).await.unwrap().is_some() {}
}

#[tokio::test]
async fn axum_over_http1() {
    let (addr, server) = serve().await;
    let request = ClientRequest::new(&format!("ws://{addr}/any/path"))
        .unwrap()
        .protocol("v1")
        .protocol("v2");
    let (mut ws, response) = timeout(
        LIMIT,
        wsproto_tokio::connect_with(request, WebSocketConfig::default()),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(response.status, 101);
    assert_eq!(ws.protocol(), Some("v2"));
    exchange(&mut ws, "Some(\"v2\")").await;
    server.abort();
}

#[tokio::test]
async fn axum_refuses_a_plain_request() {
    let (addr, server) = serve().await;
    let status = tokio::task::spawn_blocking(move || {
        use std::io::{Read, Write};
        let mut tcp = std::net::TcpStream::connect(addr).unwrap();
        tcp.set_read_timeout(Some(LIMIT)).unwrap();
        tcp.write_all(b"GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = Vec::new();
        let _ = tcp.read_to_end(&mut answer);
        String::from_utf8_lossy(&answer[..12.min(answer.len())]).to_string()
    })
    .await
    .unwrap();
    assert_eq!(status, "HTTP/1.1 426");
    server.abort();
}

/// RFC 8441 over HTTP/2 (h2c, prior knowledge): a hyper client sends the
/// extended CONNECT the core's `ConnectClient` builds.
#[tokio::test]
async fn axum_over_http2_extended_connect() {
    let (addr, server) = serve().await;
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http2::Builder::new(TokioExecutor::new())
        .handshake::<_, Empty<Bytes>>(TokioIo::new(tcp))
        .await
        .unwrap();
    tokio::spawn(connection);
    let url = WsUrl::parse(&format!("ws://{addr}/over/h2")).unwrap();
    let client = ConnectClient::new(&url, ClientConfig::new().protocol("v3")).unwrap();
    // The server's SETTINGS (with ENABLE_CONNECT_PROTOCOL) may not have
    // arrived yet: retry a little.
    let mut response = None;
    for _ in 0..100 {
        let mut request = client.request().unwrap().map(|()| Empty::<Bytes>::new());
        request
            .extensions_mut()
            .insert(hyper::ext::Protocol::from_static("websocket"));
        sender.ready().await.unwrap();
        match sender.send_request(request).await {
            Ok(r) => {
                response = Some(r);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
    let mut response = response.expect("the extended CONNECT was refused");
    assert_eq!(response.status(), http::StatusCode::OK);
    let accepted = client.handle_response(&response).unwrap();
    assert_eq!(accepted.negotiated.protocol.as_deref(), Some("v3"));
    let upgraded = timeout(LIMIT, hyper::upgrade::on(&mut response))
        .await
        .unwrap()
        .unwrap();
    let mut ws = WebSocketStream::from_connection(
        TokioIo::new(upgraded),
        accepted.connection,
        &WebSocketConfig::default(),
    );
    exchange(&mut ws, "Some(\"v3\")").await;
    server.abort();
}

/// The bare hyper helper on an HTTP/1.1 connection.
#[tokio::test]
async fn hyper_upgrade_helper() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let service = hyper::service::service_fn(|mut request| async move {
            let (response, upgrade) = wsproto_tokio::upgrade::upgrade(&mut request)?;
            tokio::spawn(async move {
                let mut ws = upgrade.await.unwrap();
                ws.send(Message::text("protocol None")).await.unwrap();
                while let Some(Ok(message)) = ws.next().await {
                    if message.is_text() || message.is_binary() {
                        ws.send(message).await.unwrap();
                    }
                }
            });
            Ok::<_, wsproto_tokio::Error>(response)
        });
        hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(tcp), service)
            .with_upgrades()
            .await
            .unwrap();
    });
    let (mut ws, _) = timeout(LIMIT, wsproto_tokio::connect(format!("ws://{addr}/")))
        .await
        .unwrap()
        .unwrap();
    exchange(&mut ws, "None").await;
    timeout(LIMIT, server).await.unwrap().unwrap();
}
