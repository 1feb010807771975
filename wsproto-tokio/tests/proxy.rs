//! `connect` through the HTTP proxy that `HTTP_PROXY` names, and around it
//! for the hosts `NO_PROXY` lists. One test in its own binary: the
//! environment is the process's.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use wsproto_tokio::Message;

const LIMIT: Duration = Duration::from_secs(20);

/// A CONNECT proxy on 127.0.0.1 that counts the tunnels it opens.
async fn proxy() -> (String, Arc<AtomicUsize>, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let tunnels = Arc::new(AtomicUsize::new(0));
    let count = tunnels.clone();
    let task = tokio::spawn(async move {
        loop {
            let (mut client, _) = listener.accept().await.unwrap();
            let count = count.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if client.read(&mut byte).await.unwrap() == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let head = String::from_utf8(head).unwrap();
                let target = head
                    .strip_prefix("CONNECT ")
                    .and_then(|rest| rest.split(' ').next())
                    .unwrap()
                    .to_string();
                let mut server = TcpStream::connect(target).await.unwrap();
                count.fetch_add(1, Ordering::SeqCst);
                client
                    .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
                    .await
                    .unwrap();
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            });
        }
    });
    (format!("http://{addr}"), tunnels, task)
}

/// An echo server on 127.0.0.1 for any number of connections.
async fn echo() -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            tokio::spawn(async move {
                let mut ws = wsproto_tokio::accept(tcp).await.unwrap();
                while let Some(Ok(message)) = ws.next().await {
                    if message.is_text() {
                        ws.send(message).await.unwrap();
                    }
                }
            });
        }
    });
    (format!("ws://{addr}/"), task)
}

async fn round_trip(url: &str) {
    let (mut ws, _) = timeout(LIMIT, wsproto_tokio::connect(url))
        .await
        .unwrap()
        .unwrap();
    ws.send("through".into()).await.unwrap();
    assert_eq!(
        timeout(LIMIT, ws.next()).await.unwrap().unwrap().unwrap(),
        Message::text("through")
    );
    ws.close(None).await.unwrap();
    while timeout(LIMIT, ws.next()).await.unwrap().is_some() {}
}

#[tokio::test]
async fn proxies_from_the_environment() {
    let (proxy_url, tunnels, proxy) = proxy().await;
    let (url, server) = echo().await;
    for name in [
        "http_proxy",
        "all_proxy",
        "ALL_PROXY",
        "no_proxy",
        "NO_PROXY",
    ] {
        std::env::remove_var(name);
    }
    std::env::set_var("HTTP_PROXY", &proxy_url);
    round_trip(&url).await;
    assert_eq!(tunnels.load(Ordering::SeqCst), 1);
    // Listed in NO_PROXY: straight to the server.
    std::env::set_var("NO_PROXY", "localhost,127.0.0.1");
    round_trip(&url).await;
    assert_eq!(tunnels.load(Ordering::SeqCst), 1);
    std::env::remove_var("NO_PROXY");
    std::env::remove_var("HTTP_PROXY");
    proxy.abort();
    server.abort();
}
