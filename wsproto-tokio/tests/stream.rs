//! The stream and the sink over in-memory pipes: messages both ways,
//! cancel safety, batching, the send queue's bound, timers, closing.

mod common;

use std::sync::atomic::Ordering;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wsproto_tokio::{CloseCause, CloseCode, Config, Error, Message, WebSocketConfig};

use common::{pair, pair_with, Counting, Trickle};

#[tokio::test]
async fn messages_both_ways() {
    let (mut client, mut server) = pair().await;
    client.send(Message::text("hello")).await.unwrap();
    client.send(Message::binary(vec![1, 2, 3])).await.unwrap();
    client.send(Message::Ping("p".into())).await.unwrap();
    assert_eq!(
        server.next().await.unwrap().unwrap(),
        Message::text("hello")
    );
    assert_eq!(
        server.next().await.unwrap().unwrap(),
        Message::binary(vec![1, 2, 3])
    );
    assert_eq!(
        server.next().await.unwrap().unwrap(),
        Message::Ping("p".into())
    );
    // The server's read wrote the pong.
    assert_eq!(
        client.next().await.unwrap().unwrap(),
        Message::Pong("p".into())
    );
    server.send("back".into()).await.unwrap();
    assert_eq!(client.next().await.unwrap().unwrap(), Message::text("back"));
}

#[tokio::test]
async fn closing_handshake_ends_both_streams() {
    let (mut client, mut server) = pair().await;
    client
        .close(Some(wsproto_tokio::CloseFrame {
            code: CloseCode::NORMAL,
            reason: "bye".into(),
        }))
        .await
        .unwrap();
    match server.next().await {
        Some(Ok(Message::Close(Some(frame)))) => {
            assert_eq!(
                (frame.code, frame.reason.as_str()),
                (CloseCode::NORMAL, "bye")
            )
        }
        other => panic!("{other:?}"),
    }
    // The reply is written and the server closes the transport first.
    assert!(server.next().await.is_none());
    assert!(matches!(
        client.next().await,
        Some(Ok(Message::Close(Some(_))))
    ));
    assert!(client.next().await.is_none());
    assert!(matches!(client.close_cause(), Some(CloseCause::Handshake)));
    // Sending after the close is the caller's error, not a panic.
    assert!(matches!(
        client.send("late".into()).await,
        Err(Error::Send(_))
    ));
}

/// `next()` is cancel-safe: a `select!` drops it thousands of times, most
/// of them in the middle of a frame (the transport hands out 7 bytes at a
/// time, and has none every other read), and every message arrives, whole
/// and in order.
#[tokio::test]
async fn next_is_cancel_safe() {
    const N: usize = 2_000;
    let (a, b) = tokio::io::duplex(1 << 10);
    let server = tokio::spawn(async move {
        let mut ws = wsproto_tokio::accept(b).await.unwrap();
        for i in 0..N {
            ws.feed(Message::text(format!(
                "message {i} {}",
                "x".repeat(i % 300)
            )))
            .await
            .unwrap();
            if i % 7 == 0 {
                ws.flush().await.unwrap();
                tokio::task::yield_now().await;
            }
        }
        ws.close(None).await.unwrap();
        while ws.next().await.is_some() {}
    });
    let (mut client, _) = wsproto_tokio::client_over(
        Trickle::new(a, 7),
        "ws://localhost/",
        WebSocketConfig::default(),
    )
    .await
    .unwrap();
    let (mut received, mut cancelled) = (0, 0);
    loop {
        tokio::select! {
            biased;
            // Ready at once every other poll: `next()` is dropped
            // whenever it is not ready on the first try.
            () = tokio::task::yield_now() => cancelled += 1,
            message = client.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    let want = format!("message {received} {}", "x".repeat(received % 300));
                    assert_eq!(text.as_str(), want);
                    received += 1;
                }
                Some(Ok(Message::Close(_))) => {}
                None => break,
                other => panic!("{other:?}"),
            },
        }
    }
    server.await.unwrap();
    assert_eq!(received, N);
    assert!(cancelled > N, "only {cancelled} cancellations");
}

/// `feed` queues, `flush` writes everything in one vectored write.
#[tokio::test]
async fn feed_then_flush_is_one_write() {
    for vectored in [true, false] {
        let (a, b) = tokio::io::duplex(1 << 20);
        let counting = Counting::new(a, vectored);
        let writes = counting.writes.clone();
        let server = tokio::spawn(async move { wsproto_tokio::accept(b).await.unwrap() });
        let (mut client, _) =
            wsproto_tokio::client_over(counting, "ws://localhost/", WebSocketConfig::default())
                .await
                .unwrap();
        let mut server = server.await.unwrap();
        let before = writes.load(Ordering::SeqCst);
        for i in 0..50 {
            client.feed(Message::text(format!("{i}"))).await.unwrap();
        }
        assert_eq!(writes.load(Ordering::SeqCst), before, "feed wrote");
        client.flush().await.unwrap();
        assert_eq!(
            writes.load(Ordering::SeqCst),
            before + 1,
            "vectored: {vectored}"
        );
        for i in 0..50 {
            assert_eq!(
                server.next().await.unwrap().unwrap(),
                Message::text(format!("{i}"))
            );
        }
    }
}

/// An echo of `next` and `feed` alone, never flushing, answers a burst
/// that arrived in one read with one write: `next()` returns the messages
/// already read without writing what was fed, and writes it once that
/// input is drained, before it waits.
#[tokio::test]
async fn replies_to_a_burst_leave_in_one_write() {
    const N: usize = 50;
    let (a, b) = tokio::io::duplex(1 << 20);
    let counting = Counting::new(b, true);
    let writes = counting.writes.clone();
    let server = tokio::spawn(async move { wsproto_tokio::accept(counting).await.unwrap() });
    let (mut client, _) =
        wsproto_tokio::client_over(a, "ws://localhost/", WebSocketConfig::default())
            .await
            .unwrap();
    let mut server = server.await.unwrap();
    for i in 0..N {
        client.feed(Message::text(format!("{i}"))).await.unwrap();
    }
    client.flush().await.unwrap();
    let before = writes.load(Ordering::SeqCst);
    for _ in 0..N {
        let message = server.next().await.unwrap().unwrap();
        server.feed(message).await.unwrap();
    }
    assert_eq!(
        writes.load(Ordering::SeqCst),
        before,
        "fed while input was left"
    );
    // Input drained: the replies leave, then `next()` waits.
    let waiting = tokio::time::timeout(Duration::from_millis(100), server.next()).await;
    assert!(waiting.is_err(), "{waiting:?}");
    assert_eq!(writes.load(Ordering::SeqCst), before + 1);
    for i in 0..N {
        assert_eq!(
            client.next().await.unwrap().unwrap(),
            Message::text(format!("{i}"))
        );
    }
}

/// A peer that does not read holds the sender back at the high-water mark:
/// queued output never grows past it by more than one message.
#[tokio::test]
async fn send_queue_is_bounded() {
    const HIGH_WATER: usize = 64 << 10;
    const MESSAGE: usize = 1 << 10;
    let config = WebSocketConfig::default().send_high_water(HIGH_WATER);
    let (mut client, server) = pair_with(16 << 10, config, WebSocketConfig::default()).await;
    // Incompressible and never repeated, so that permessage-deflate (if
    // on, with its context kept between messages) does not shrink it.
    let mut x = 0x2545_f491_u32;
    let mut noise = move || {
        let bytes: Vec<u8> = (0..MESSAGE)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        Message::binary(bytes)
    };
    let mut sent = 0;
    loop {
        match tokio::time::timeout(Duration::from_millis(200), client.feed(noise())).await {
            Ok(result) => result.unwrap(),
            Err(_) => break,
        }
        sent += 1;
        assert!(client.pending_transmit() <= HIGH_WATER + MESSAGE + 16);
        assert!(sent < 10_000, "never held back");
    }
    // About the pipe's 16 KiB plus the high-water mark went out, no more.
    assert!(
        sent * MESSAGE < HIGH_WATER + (16 << 10) + 4 * MESSAGE,
        "{sent}"
    );
    assert!(client.pending_transmit() >= HIGH_WATER);
    // Once the peer reads, the sender moves again.
    let reader = tokio::spawn(async move {
        let mut server = server;
        let mut n = 0;
        while let Some(Ok(Message::Binary(_))) = server.next().await {
            n += 1;
        }
        n
    });
    for _ in 0..100 {
        client.feed(noise()).await.unwrap();
    }
    client.close(None).await.unwrap();
    while client.next().await.is_some() {}
    assert_eq!(reader.await.unwrap(), sent + 100);
}

/// Keepalive on tokio's clock: pings go out while the peer answers; a
/// peer that stops answering fails the connection with 1011 once the pong
/// deadline passes.
#[tokio::test(start_paused = true)]
async fn keepalive_pings_and_gives_up() {
    let keepalive = WebSocketConfig::default().config(
        Config::default()
            .keepalive_interval(Some(Duration::from_secs(1)))
            .keepalive_timeout(Duration::from_secs(2))
            .close_timeout(Duration::from_secs(1)),
    );
    let (mut client, mut server) = pair_with(64 << 10, keepalive, WebSocketConfig::default()).await;
    // The server reads (and so answers): 10 s of pings, all answered.
    let mut pings = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        tokio::select! {
            m = server.next() => match m {
                Some(Ok(Message::Ping(_))) => pings += 1,
                other => panic!("{other:?}"),
            },
            m = client.next() => match m {
                Some(Ok(Message::Pong(_))) => {}
                other => panic!("{other:?}"),
            },
            () = tokio::time::sleep_until(deadline) => break,
        }
    }
    assert!((8..=11).contains(&pings), "{pings} pings");
    // Now the server stops reading: no pong, the client gives up.
    let started = tokio::time::Instant::now();
    let end = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(m) = client.next().await {
            assert!(matches!(m, Ok(Message::Pong(_))), "{m:?}");
        }
    })
    .await;
    assert!(end.is_ok(), "the client never gave up");
    let waited = started.elapsed();
    assert!(waited <= Duration::from_secs(5), "{waited:?}");
    assert!(matches!(
        client.close_cause(),
        Some(CloseCause::KeepaliveTimeout)
    ));
    drop(server);
}

/// The close timeout: a peer that never answers our close frame cannot
/// hold the stream open.
#[tokio::test(start_paused = true)]
async fn close_timeout_ends_the_stream() {
    let config =
        WebSocketConfig::default().config(Config::default().close_timeout(Duration::from_secs(3)));
    let (a, mut b) = tokio::io::duplex(64 << 10);
    let server = tokio::spawn(async move {
        // A raw peer: answers the handshake, then reads and says nothing.
        let mut buf = vec![0u8; 4096];
        let n = b.read(&mut buf).await.unwrap();
        let request = String::from_utf8_lossy(&buf[..n]).to_string();
        let key = request
            .lines()
            .find_map(|l| l.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap()
            .trim()
            .to_string();
        let accept = wsproto_tokio::handshake::AcceptKey::from_key(key.as_bytes());
        let response = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
             Connection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
        );
        b.write_all(response.as_bytes()).await.unwrap();
        loop {
            if b.read(&mut buf).await.unwrap_or(0) == 0 {
                return;
            }
        }
    });
    let (mut client, _) = wsproto_tokio::client_over(a, "ws://localhost/", config)
        .await
        .unwrap();
    let started = tokio::time::Instant::now();
    client.close(None).await.unwrap();
    assert!(client.next().await.is_none());
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(3) && waited < Duration::from_secs(4),
        "{waited:?}"
    );
    assert!(matches!(
        client.close_cause(),
        Some(CloseCause::CloseTimeout)
    ));
    drop(client);
    server.await.unwrap();
}

/// A protocol violation is reported once; the close frame with its code
/// is written even if the caller stops there.
#[tokio::test]
async fn protocol_error_sends_the_close_code() {
    let (a, mut b) = tokio::io::duplex(64 << 10);
    let server = tokio::spawn(async move {
        let mut ws = wsproto_tokio::accept(a).await.unwrap();
        let first = ws.next().await;
        assert!(
            matches!(&first, Some(Err(e)) if e.close_code() == Some(CloseCode::PROTOCOL_ERROR)),
            "{first:?}"
        );
        // Dropped here, after the error: the close frame was written.
    });
    let key = "dGhlIHNhbXBsZSBub25jZQ==";
    let request = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    b.write_all(request.as_bytes()).await.unwrap();
    // An unmasked text frame from a client: §5.1 says fail.
    b.write_all(b"\x81\x02hi").await.unwrap();
    let mut wire = Vec::new();
    b.read_to_end(&mut wire).await.unwrap();
    server.await.unwrap();
    let head_end = wire.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    // A close frame (unmasked, from the server) with 1002.
    assert_eq!(wire[head_end], 0x88);
    assert_eq!(&wire[head_end + 2..head_end + 4], &1002u16.to_be_bytes());
}

#[tokio::test]
async fn accept_with_chooses_a_protocol_and_adds_headers() {
    use wsproto_tokio::handshake::{Accept, Request};
    let (a, b) = tokio::io::duplex(64 << 10);
    let server = tokio::spawn(async move {
        wsproto_tokio::accept_with(b, |request: &Request, accept: Accept| {
            assert_eq!(request.path(), "/chat");
            let chosen = request.protocols().find(|p| *p == "v2").unwrap();
            Ok(accept.protocol(chosen).header("Set-Cookie", "seen=1"))
        })
        .await
        .unwrap()
    });
    let request = wsproto_tokio::ClientRequest::new("ws://localhost/chat")
        .unwrap()
        .protocol("v1")
        .protocol("v2");
    let (client, response) = wsproto_tokio::client_over(a, request, WebSocketConfig::default())
        .await
        .unwrap();
    let server = server.await.unwrap();
    assert_eq!(client.protocol(), Some("v2"));
    assert_eq!(server.protocol(), Some("v2"));
    assert_eq!(response.headers.get_str("Set-Cookie"), Some("seen=1"));
}

#[tokio::test]
async fn accept_with_rejects() {
    let (a, b) = tokio::io::duplex(64 << 10);
    let server = tokio::spawn(async move {
        wsproto_tokio::accept_with(b, |request: &_, _| Err(request.forbid())).await
    });
    let result = wsproto_tokio::client_over(a, "ws://localhost/", WebSocketConfig::default()).await;
    match result {
        Err(Error::Handshake(wsproto_tokio::handshake::HandshakeError::Rejected(response))) => {
            assert_eq!(response.status, 403)
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(server.await.unwrap(), Err(Error::Refused(403))));
}

#[tokio::test]
async fn a_plain_request_is_answered_426() {
    let (mut a, b) = tokio::io::duplex(64 << 10);
    let server = tokio::spawn(wsproto_tokio::accept(b));
    a.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    a.read_to_end(&mut answer).await.unwrap();
    assert!(answer.starts_with(b"HTTP/1.1 426 "), "{answer:?}");
    assert!(matches!(server.await.unwrap(), Err(Error::Handshake(_))));
}

/// permessage-deflate is negotiated by default with the feature, and the
/// messages survive it.
#[cfg(feature = "deflate")]
#[tokio::test]
async fn deflate_round_trip() {
    let (mut client, mut server) = pair().await;
    assert!(client.connection().is_deflate_enabled());
    assert!(server.connection().is_deflate_enabled());
    let big = "compressible ".repeat(10_000);
    client.send(Message::text(big.clone())).await.unwrap();
    assert_eq!(server.next().await.unwrap().unwrap(), Message::text(big));
}

#[cfg(feature = "tungstenite")]
#[test]
fn tungstenite_conversions() {
    let cases = [
        Message::text("hi"),
        Message::binary(vec![0, 1]),
        Message::Ping("a".into()),
        Message::Pong("b".into()),
        Message::Close(None),
        Message::close(CloseCode(4000), "custom"),
    ];
    for ours in cases {
        let theirs: tungstenite::Message = ours.clone().into();
        assert_eq!(Message::try_from(theirs).unwrap(), ours);
    }
}
