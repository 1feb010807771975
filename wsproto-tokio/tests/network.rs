//! Over 127.0.0.1: `connect` and `accept` on TCP, interoperation with
//! tungstenite in both roles, and `wss://` with rustls. Every test is
//! bounded by a timeout and stops the servers it starts.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpListener;
use tokio::time::timeout;
use wsproto_tokio::Message;

const LIMIT: Duration = Duration::from_secs(20);

/// An echo server on 127.0.0.1 (this crate's `accept`), for one
/// connection; its address and its task.
async fn echo_once() -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let mut ws = wsproto_tokio::accept(tcp).await.unwrap();
        while let Some(message) = ws.next().await {
            let message = message.unwrap();
            if message.is_text() || message.is_binary() {
                ws.send(message).await.unwrap();
            }
        }
    });
    (addr, task)
}

#[tokio::test]
async fn connect_and_accept_over_tcp() {
    let (addr, server) = echo_once().await;
    let (mut ws, response) = timeout(LIMIT, wsproto_tokio::connect(format!("ws://{addr}/x")))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(response.status, 101);
    let big = vec![42u8; 3 << 20];
    ws.send(Message::binary(big.clone())).await.unwrap();
    ws.send("small".into()).await.unwrap();
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::binary(big));
    assert_eq!(ws.next().await.unwrap().unwrap(), Message::text("small"));
    ws.close(None).await.unwrap();
    // `close(None)` sends 1000, which the server echoes.
    assert!(matches!(
        ws.next().await,
        Some(Ok(Message::Close(Some(f)))) if f.code == wsproto_tokio::CloseCode::NORMAL
    ));
    assert!(timeout(LIMIT, ws.next()).await.unwrap().is_none());
    timeout(LIMIT, server).await.unwrap().unwrap();
}

/// A tungstenite client (blocking, on a thread) against `accept`.
#[tokio::test]
async fn tungstenite_client_interop() {
    let (addr, server) = echo_once().await;
    let client = tokio::task::spawn_blocking(move || {
        let (mut ws, _) = tungstenite::connect(format!("ws://{addr}/")).unwrap();
        for i in 0..100 {
            ws.send(tungstenite::Message::text(format!("{i}"))).unwrap();
            assert_eq!(
                ws.read().unwrap(),
                tungstenite::Message::text(format!("{i}"))
            );
        }
        ws.close(None).unwrap();
        while ws.read().is_ok() {}
    });
    timeout(LIMIT, client).await.unwrap().unwrap();
    timeout(LIMIT, server).await.unwrap().unwrap();
}

/// `connect` against a tungstenite server (blocking, on a thread).
#[tokio::test]
async fn tungstenite_server_interop() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let server = std::thread::spawn(move || {
        let (tcp, _) = listener.accept().unwrap();
        let mut ws = tungstenite::accept(tcp).unwrap();
        loop {
            match ws.read() {
                Ok(m) if m.is_text() || m.is_binary() => ws.send(m).unwrap(),
                Ok(_) => {}
                Err(_) => break,
            }
        }
    });
    let (mut ws, _) = timeout(LIMIT, wsproto_tokio::connect(format!("ws://{addr}/")))
        .await
        .unwrap()
        .unwrap();
    for i in 0..100 {
        ws.feed(Message::text(format!("{i}"))).await.unwrap();
    }
    ws.flush().await.unwrap();
    for i in 0..100 {
        assert_eq!(
            timeout(LIMIT, ws.next()).await.unwrap().unwrap().unwrap(),
            Message::text(format!("{i}"))
        );
    }
    ws.close(None).await.unwrap();
    while timeout(LIMIT, ws.next()).await.unwrap().is_some() {}
    tokio::task::spawn_blocking(move || server.join().unwrap())
        .await
        .unwrap();
}

/// `wss://`: a rustls server with a certificate for 127.0.0.1, the client
/// trusting it through `WebSocketConfig::tls`.
#[cfg(feature = "rustls")]
#[tokio::test]
async fn wss_with_rustls() {
    use std::sync::Arc;
    use tokio_rustls::rustls::{self, pki_types::PrivateKeyDer};

    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
    let der = cert.cert.der().clone();
    let key = PrivateKeyDer::try_from(cert.key_pair.serialize_der()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server_config = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![der.clone()], key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(server_config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await.unwrap();
        let tls = acceptor.accept(tcp).await.unwrap();
        let mut ws = wsproto_tokio::accept(tls).await.unwrap();
        while let Some(message) = ws.next().await {
            let message = message.unwrap();
            if message.is_text() {
                ws.send(message).await.unwrap();
            }
        }
    });
    let mut roots = rustls::RootCertStore::empty();
    roots.add(der).unwrap();
    let client_config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let config = wsproto_tokio::WebSocketConfig::default().tls(Arc::new(client_config));
    let (mut ws, _) = timeout(
        LIMIT,
        wsproto_tokio::connect_with(format!("wss://{addr}/"), config),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(matches!(
        ws.get_ref(),
        wsproto_tokio::MaybeTlsStream::Rustls(_)
    ));
    for i in 0..10 {
        ws.feed(Message::text(format!("{i}"))).await.unwrap();
    }
    ws.flush().await.unwrap();
    for i in 0..10 {
        assert_eq!(
            ws.next().await.unwrap().unwrap(),
            Message::text(format!("{i}"))
        );
    }
    ws.close(None).await.unwrap();
    while timeout(LIMIT, ws.next()).await.unwrap().is_some() {}
    timeout(LIMIT, server).await.unwrap().unwrap();
}

#[cfg(not(feature = "rustls"))]
#[tokio::test]
async fn wss_without_rustls_is_unsupported() {
    let result = wsproto_tokio::connect("wss://127.0.0.1:9/").await;
    assert!(matches!(result, Err(wsproto_tokio::Error::Unsupported(_))));
}
