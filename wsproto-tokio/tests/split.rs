//! The split halves: two tasks on one connection, pongs and close replies
//! written while the writer is idle, and no deadlock when either half is
//! dropped.

mod common;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::time::timeout;
use wsproto_tokio::{Message, WebSocketStream};

use common::pair;

const LIMIT: Duration = Duration::from_secs(20);

/// One task sends 20,000 messages, another reads the echoes, on a runtime
/// with worker threads: every echo arrives, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reader_and_writer_in_two_tasks() {
    const N: usize = 20_000;
    let (client, mut server) = pair().await;
    let echo = tokio::spawn(async move {
        while let Some(message) = server.next().await {
            let message = message.unwrap();
            if message.is_text() {
                server.feed(message).await.unwrap();
                // Batches writes while input keeps coming.
                if server.pending_transmit() > 16 << 10 {
                    server.flush().await.unwrap();
                }
            }
            if futures_util::FutureExt::now_or_never(server.flush()).is_none() {
                server.flush().await.unwrap();
            }
        }
    });
    let (mut write, mut read) = client.split();
    let writer = tokio::spawn(async move {
        for i in 0..N {
            write.feed(Message::text(format!("{i}"))).await.unwrap();
            if i % 100 == 99 {
                write.flush().await.unwrap();
            }
        }
        write.close().await.unwrap();
        write
    });
    let reader = tokio::spawn(async move {
        let mut n = 0;
        while let Some(message) = read.next().await {
            match message.unwrap() {
                Message::Text(text) => {
                    assert_eq!(text.as_str(), n.to_string());
                    n += 1;
                }
                Message::Close(_) => {}
                other => panic!("{other:?}"),
            }
        }
        (n, read)
    });
    let write = timeout(LIMIT, writer).await.unwrap().unwrap();
    let (n, read) = timeout(LIMIT, reader).await.unwrap().unwrap();
    assert_eq!(n, N);
    timeout(LIMIT, echo).await.unwrap().unwrap();
    let whole = WebSocketStream::reunite(write, read).unwrap();
    assert!(whole.is_terminated());
}

/// Pings from `server` and waits for the pong.
async fn ping_pong(server: &mut WebSocketStream<tokio::io::DuplexStream>, payload: &'static str) {
    server.send(Message::Ping(payload.into())).await.unwrap();
    let answer = timeout(LIMIT, server.next()).await.unwrap();
    assert_eq!(answer.unwrap().unwrap(), Message::Pong(payload.into()));
}

/// The peer pings while the write half sits idle: the read half writes
/// the pong. Then the write half is dropped: the read half still answers,
/// and writes the close reply.
#[tokio::test]
async fn read_half_answers_while_the_writer_is_idle_or_gone() {
    let (client, mut server) = pair().await;
    let (write, mut read) = client.split();
    let reader = tokio::spawn(async move {
        let mut seen = Vec::new();
        while let Some(message) = read.next().await {
            seen.push(message.unwrap());
        }
        seen
    });
    ping_pong(&mut server, "one").await;
    drop(write);
    ping_pong(&mut server, "two").await;
    server.close(None).await.unwrap();
    // The close reply comes back, then the server ends the transport.
    assert!(matches!(
        timeout(LIMIT, server.next()).await.unwrap(),
        Some(Ok(Message::Close(_)))
    ));
    assert!(timeout(LIMIT, server.next()).await.unwrap().is_none());
    let seen = timeout(LIMIT, reader).await.unwrap().unwrap();
    assert_eq!(seen.len(), 3, "{seen:?}");
}

/// The read half dropped: the write half still sends and closes.
#[tokio::test]
async fn write_half_works_alone() {
    let (client, mut server) = pair().await;
    let (mut write, read) = client.split();
    drop(read);
    for i in 0..100 {
        write.feed(Message::text(format!("{i}"))).await.unwrap();
    }
    timeout(LIMIT, write.flush()).await.unwrap().unwrap();
    for i in 0..100 {
        assert_eq!(
            server.next().await.unwrap().unwrap(),
            Message::text(format!("{i}"))
        );
    }
    timeout(LIMIT, write.close()).await.unwrap().unwrap();
    assert!(matches!(
        server.next().await,
        Some(Ok(Message::Close(Some(f)))) if f.code == wsproto_tokio::CloseCode::NORMAL
    ));
    assert!(server.next().await.is_none());
}

/// A reader parked on an idle connection does not hold the writer up (no
/// lock is held across an await), and the writer's output wakes nobody
/// wrongly: both finish.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn halves_do_not_wait_on_each_other() {
    let (client, mut server) = pair().await;
    let (mut write, mut read) = client.split();
    let reader = tokio::spawn(async move { read.next().await.map(Result::unwrap) });
    // The reader is parked in `next()` now, on an idle connection.
    tokio::time::sleep(Duration::from_millis(50)).await;
    for i in 0..1000 {
        timeout(LIMIT, write.send(Message::text(format!("{i}"))))
            .await
            .unwrap()
            .unwrap();
    }
    for i in 0..1000 {
        assert_eq!(
            server.next().await.unwrap().unwrap(),
            Message::text(format!("{i}"))
        );
    }
    server.send(Message::text("wake")).await.unwrap();
    assert_eq!(
        timeout(LIMIT, reader).await.unwrap().unwrap(),
        Some(Message::text("wake"))
    );
}
