//! Just enough of the Redis protocol (RESP2) for pub/sub, so that several
//! chat processes share their rooms: `PUBLISH` on one connection, and a
//! `SUBSCRIBE`d connection that delivers every message published, by any
//! process, in the one order Redis gives them.

use std::io::{self, BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::Mutex;

/// The largest message taken from Redis (the chat's own limit is 4 MiB).
const MAX_BULK: usize = 8 << 20;

/// `redis://HOST:PORT` as the address to connect to.
pub fn address(url: &str) -> io::Result<String> {
    url.strip_prefix("redis://")
        .map(|rest| rest.trim_end_matches('/').to_string())
        .filter(|addr| !addr.is_empty())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "expected redis://HOST:PORT"))
}

/// A command as RESP: an array of bulk strings.
fn command(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", parts.len()).into_bytes();
    for part in parts {
        out.extend_from_slice(format!("${}\r\n", part.len()).as_bytes());
        out.extend_from_slice(part);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// One RESP reply.
#[derive(Debug)]
enum Reply {
    Simple,
    Integer,
    Bulk(Option<Vec<u8>>),
    Array(Vec<Reply>),
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("redis: {what}"))
}

/// A line without its CRLF.
fn line(reader: &mut impl BufRead) -> io::Result<Vec<u8>> {
    let mut line = Vec::new();
    reader.read_until(b'\n', &mut line)?;
    if !line.ends_with(b"\r\n") {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    line.truncate(line.len() - 2);
    Ok(line)
}

fn number(bytes: &[u8]) -> io::Result<i64> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| invalid("bad number"))
}

/// Reads one reply (an array of arrays is not something pub/sub sends,
/// so arrays hold plain values only).
fn read_reply(reader: &mut impl BufRead, nested: bool) -> io::Result<Reply> {
    let line = line(reader)?;
    let (kind, rest) = line.split_first().ok_or_else(|| invalid("empty line"))?;
    match kind {
        b'+' => Ok(Reply::Simple),
        b'-' => Err(invalid(&String::from_utf8_lossy(rest))),
        b':' => number(rest).map(|_| Reply::Integer),
        b'$' => match number(rest)? {
            -1 => Ok(Reply::Bulk(None)),
            len if (0..=MAX_BULK as i64).contains(&len) => {
                let mut data = vec![0; len as usize + 2];
                io::Read::read_exact(reader, &mut data)?;
                data.truncate(len as usize);
                Ok(Reply::Bulk(Some(data)))
            }
            _ => Err(invalid("bulk string too long")),
        },
        b'*' if !nested => {
            let count = number(rest)?.clamp(0, 16);
            (0..count)
                .map(|_| read_reply(reader, true))
                .collect::<io::Result<_>>()
                .map(Reply::Array)
        }
        _ => Err(invalid("unexpected reply")),
    }
}

/// Publishes on one connection, shared by every connection's thread (the
/// lock is held for one command and its reply).
pub struct Publisher {
    conn: Mutex<BufReader<TcpStream>>,
}

impl Publisher {
    pub fn connect(addr: &str) -> io::Result<Publisher> {
        let stream = TcpStream::connect(addr)?;
        stream.set_nodelay(true)?;
        Ok(Publisher {
            conn: Mutex::new(BufReader::new(stream)),
        })
    }

    /// `PUBLISH channel message`.
    pub fn publish(&self, channel: &str, message: &[u8]) -> io::Result<()> {
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        conn.get_mut()
            .write_all(&command(&[b"PUBLISH", channel.as_bytes(), message]))?;
        match read_reply(&mut *conn, false)? {
            Reply::Integer => Ok(()),
            other => Err(invalid(&format!("PUBLISH answered {other:?}"))),
        }
    }
}

/// A connection subscribed to one channel.
pub struct Subscriber {
    reader: BufReader<TcpStream>,
}

impl Subscriber {
    /// `SUBSCRIBE channel`, returning once Redis has confirmed it: from
    /// then on nothing published on the channel is missed.
    pub fn connect(addr: &str, channel: &str) -> io::Result<Subscriber> {
        let mut stream = TcpStream::connect(addr)?;
        stream.write_all(&command(&[b"SUBSCRIBE", channel.as_bytes()]))?;
        let mut subscriber = Subscriber {
            reader: BufReader::new(stream),
        };
        match subscriber.next_push()? {
            Push::Subscribed => Ok(subscriber),
            Push::Message(_) => Err(invalid("a message before the subscription")),
        }
    }

    /// Calls `deliver` with every message published on the channel, in
    /// order, until the connection ends.
    pub fn run(mut self, mut deliver: impl FnMut(Vec<u8>)) -> io::Result<()> {
        loop {
            if let Push::Message(message) = self.next_push()? {
                deliver(message);
            }
        }
    }

    fn next_push(&mut self) -> io::Result<Push> {
        let Reply::Array(parts) = read_reply(&mut self.reader, false)? else {
            return Err(invalid("a pub/sub push that is not an array"));
        };
        match parts.as_slice() {
            [Reply::Bulk(Some(kind)), _, Reply::Bulk(Some(message))] if kind == b"message" => {
                Ok(Push::Message(message.clone()))
            }
            [Reply::Bulk(Some(kind)), ..] if kind == b"subscribe" => Ok(Push::Subscribed),
            other => Err(invalid(&format!("unexpected push {other:?}"))),
        }
    }
}

/// What a subscribed connection is sent.
enum Push {
    Subscribed,
    Message(Vec<u8>),
}
