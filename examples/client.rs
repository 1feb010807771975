//! A command-line client: sends each line of stdin as a text message and
//! prints each message received; exits cleanly on close.
//!
//! ```sh
//! cargo run --example client -- ws://127.0.0.1:9002/
//! ```

mod support;

use std::sync::mpsc;
use std::time::Duration;

use wsproto::{CloseCode, Event};

fn main() -> std::io::Result<()> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "ws://127.0.0.1:9002/".into());
    let (mut stream, mut conn) = support::connect(&url, support::large_message_config())?;
    eprintln!("connected to {url}; type lines to send, end with Ctrl-D");

    let (lines_tx, lines) = mpsc::channel::<Option<String>>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if lines_tx.send(Some(line)).is_err() {
                return;
            }
        }
        let _ = lines_tx.send(None);
    });

    let mut send_lines = |conn: &mut wsproto::Connection| {
        while let Ok(line) = lines.try_recv() {
            let _ = match line {
                Some(line) => conn.send_text(&line),
                None => conn.close(CloseCode::NORMAL, ""),
            };
        }
    };
    support::run(
        &mut stream,
        &mut conn,
        |_, event| match event {
            Event::Text(text) => println!("{text}"),
            Event::Binary(data) => println!("<{} bytes of binary>", data.len()),
            Event::Close(close) => eprintln!("closed by peer: {} {}", close.code, close.reason),
            _ => {}
        },
        Some((Duration::from_millis(20), &mut send_lines)),
    )?;
    if let Some(status) = conn.close_status() {
        eprintln!("connection closed: {}", status.code);
    }
    Ok(())
}
