//! The `pubsub` example: every subscriber of a topic gets every message in
//! order, or, when it falls too far behind, a close with 1013; topics do
//! not leak into each other.

mod peers;

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::Duration;

use peers::{build_examples, ChildGuard, Driver};
use wsproto::handshake::{ClientConfig, ClientHandshake, WsUrl};
use wsproto::{CloseCode, Event};

const TIMEOUT: Duration = Duration::from_secs(60);

fn start() -> (ChildGuard, u16) {
    let path = build_examples(&["pubsub"]).remove(0);
    let mut child = ChildGuard::spawn(
        Command::new(path)
            // Long enough for the stalled subscriber below to be read only
            // after the others, however loaded the machine.
            .args(["127.0.0.1:0", "--close-timeout", "120"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null()),
    );
    let mut line = String::new();
    BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));
    (child, port)
}

fn subscribe(port: u16, topic: &str) -> Driver {
    subscribe_over(
        TcpStream::connect(("127.0.0.1", port)).unwrap(),
        port,
        topic,
    )
}

/// A subscriber whose socket takes in little (a small receive buffer), so
/// that when it stops reading the server's queue for it grows at once.
fn subscribe_small(port: u16, topic: &str) -> Driver {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let addr: std::net::SocketAddr = ([127, 0, 0, 1], port).into();
    socket.connect(&addr.into()).unwrap();
    subscribe_over(socket.into(), port, topic)
}

fn subscribe_over(mut stream: TcpStream, port: u16, topic: &str) -> Driver {
    stream.set_read_timeout(Some(TIMEOUT)).unwrap();
    let url = WsUrl::parse(&format!("ws://127.0.0.1:{port}{topic}")).unwrap();
    let mut handshake = ClientHandshake::new_random(&url, ClientConfig::new()).unwrap();
    let accepted = peers::client_handshake(&mut stream, &mut handshake, &[]);
    Driver::new(stream, accepted.connection)
}

fn texts(driver: &mut Driver, count: usize) -> Vec<String> {
    (0..count)
        .map(|_| match driver.next_event() {
            Some(Event::Text(t)) => t.as_str().to_owned(),
            other => panic!("{other:?}"),
        })
        .collect()
}

#[test]
fn every_subscriber_gets_every_message_of_its_topic_in_order() {
    let (_server, port) = start();
    let mut subscribers: Vec<Driver> = (0..3).map(|_| subscribe(port, "/prices")).collect();
    let mut elsewhere = subscribe(port, "/news");
    // Joined before anything is published: ask each for a round trip.
    for (i, s) in subscribers.iter_mut().enumerate() {
        s.conn.send_text(format!("hello {i}")).unwrap();
        s.flush();
    }
    let hellos: Vec<String> = (0..3).map(|i| format!("hello {i}")).collect();
    for s in &mut subscribers {
        let mut got = texts(s, 3);
        got.sort();
        assert_eq!(got, hellos);
    }
    // The first one publishes; all three (itself included) get it all.
    let sent: Vec<String> = (0..500).map(|i| format!("tick {i}")).collect();
    for message in &sent {
        subscribers[0].conn.send_text(message.as_str()).unwrap();
    }
    for s in &mut subscribers {
        assert_eq!(texts(s, sent.len()), sent);
    }
    // Nothing of /prices reached /news.
    elsewhere.conn.send_text("news").unwrap();
    assert_eq!(texts(&mut elsewhere, 1), ["news"]);
}

#[test]
fn a_stalled_subscriber_is_closed_with_1013_and_the_others_lose_nothing() {
    let (_server, port) = start();
    let mut publisher = subscribe(port, "/feed");
    let mut reader = subscribe(port, "/feed");
    // A subscriber that completes the handshake, then reads nothing.
    let mut stalled = subscribe_small(port, "/feed");
    publisher.conn.send_text("ready").unwrap();
    assert_eq!(texts(&mut publisher, 1), ["ready"]);
    assert_eq!(texts(&mut reader, 1), ["ready"]);

    let big = "x".repeat(60 << 10);
    let sent: Vec<String> = (0..100).map(|i| format!("{i:03}{big}")).collect();
    for (i, message) in sent.iter().enumerate() {
        publisher.conn.send_text(message.as_str()).unwrap();
        // Keep the two readers draining as they go.
        assert_eq!(texts(&mut publisher, 1)[0], sent[i]);
        assert_eq!(texts(&mut reader, 1)[0], sent[i]);
    }
    // The stalled one got a prefix, in order, then the 1013.
    match stalled.next_event() {
        Some(Event::Text(t)) => assert_eq!(t.as_str(), "ready"),
        other => panic!("{other:?}"),
    }
    let mut got = 0;
    loop {
        match stalled.next_event() {
            Some(Event::Text(t)) => {
                assert_eq!(t.as_str(), sent[got]);
                got += 1;
            }
            Some(Event::Close(frame)) => {
                assert_eq!(frame.code, CloseCode::TRY_AGAIN_LATER);
                break;
            }
            other => panic!("after {got} messages: {other:?}"),
        }
    }
    assert!(got < sent.len(), "it was never too far behind");
}
