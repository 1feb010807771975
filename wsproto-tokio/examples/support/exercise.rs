//! What `h2_client` and `h3_client` do on each WebSocket, and their
//! command line: the exchanges are the same whatever HTTP version carries
//! the stream.

use std::future::Future;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::timeout;
use wsproto_tokio::{CloseCode, CloseFrame, Message, WebSocketStream};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The longest any one exchange may take.
pub const LIMIT: Duration = Duration::from_secs(60);

/// Opens `args.sockets` WebSockets with `open`, runs [`exercise`] on all
/// of them at once, and reports (`over`: what carried them).
pub async fn exercise_all<S, R, E, F, Fut>(
    args: &Args,
    over: &str,
    started: Instant,
    mut open: F,
) -> Result<(), BoxError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    E: Into<BoxError>,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(WebSocketStream<S>, R), E>>,
{
    let mut sockets = Vec::new();
    for i in 0..args.sockets {
        let (ws, _) = timeout(LIMIT, open()).await?.map_err(Into::into)?;
        sockets.push(tokio::spawn(exercise(ws, i)));
    }
    for socket in sockets {
        socket.await??;
    }
    println!(
        "{} WebSockets over {over} to {}: all echoed, all closed ({:?})",
        args.sockets,
        args.url,
        started.elapsed()
    );
    Ok(())
}

/// The exchanges of one WebSocket, then its close.
pub async fn exercise<S: AsyncRead + AsyncWrite + Unpin>(
    mut ws: WebSocketStream<S>,
    i: u16,
) -> Result<(), BoxError> {
    let mut messages = vec![
        Message::text(format!("hello from {i}")),
        Message::binary(pattern(64 << 10, i)),
    ];
    if i == 0 {
        messages.push(Message::binary(pattern(16 << 20, i)));
    }
    for message in messages {
        ws.send(message.clone()).await?;
        let echo = next(&mut ws).await?;
        if echo != message {
            return Err(format!(
                "socket {i}: the echo differs ({} bytes sent)",
                message.len()
            )
            .into());
        }
    }
    ws.send(Message::Ping(vec![i as u8; 4].into())).await?;
    match next(&mut ws).await? {
        Message::Pong(data) if data[..] == [i as u8; 4] => {}
        other => return Err(format!("socket {i}: {other:?} instead of the pong").into()),
    }
    let code = CloseCode::from(4000 + i);
    ws.close(Some(CloseFrame {
        code,
        reason: "done".into(),
    }))
    .await?;
    while timeout(LIMIT, ws.next()).await?.transpose()?.is_some() {}
    match ws.close_status() {
        Some(frame) if frame.code == code => Ok(()),
        other => Err(format!("socket {i}: closed with {other:?}, not {code:?}").into()),
    }
}

async fn next<S: AsyncRead + AsyncWrite + Unpin>(
    ws: &mut WebSocketStream<S>,
) -> Result<Message, BoxError> {
    Ok(timeout(LIMIT, ws.next())
        .await?
        .ok_or("the WebSocket ended")??)
}

/// `len` bytes that differ from one socket to the next.
fn pattern(len: usize, i: u16) -> Vec<u8> {
    (0..len).map(|n| (n as u16 ^ i) as u8).collect()
}

/// The command line: `URL [--ca FILE] [--sockets N]`.
pub struct Args {
    pub url: String,
    pub ca: Option<String>,
    pub sockets: u16,
}

impl Args {
    /// Parses the command line, `sockets` WebSockets unless it says.
    pub fn parse(usage: &str, sockets: u16) -> Result<Args, String> {
        let mut args = std::env::args().skip(1);
        let url = args.next().ok_or(usage)?;
        let (mut ca, mut sockets) = (None, sockets);
        while let Some(arg) = args.next() {
            let value = args.next().ok_or(usage)?;
            match arg.as_str() {
                "--ca" => ca = Some(value),
                "--sockets" => {
                    sockets = value
                        .parse()
                        .ok()
                        .filter(|&n| (1..=1000).contains(&n))
                        .ok_or("--sockets: 1 to 1000")?
                }
                _ => return Err(format!("unknown argument {arg}\n{usage}")),
            }
        }
        Ok(Args { url, ca, sockets })
    }
}
