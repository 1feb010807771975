//! A command-line client: sends each line of stdin as a text message and
//! prints each message received; exits cleanly on close.
//!
//! ```sh
//! cargo run --example client -- ws://127.0.0.1:9002/
//! cargo run --example client -- wss://127.0.0.1:9443/ --ca ca.pem
//! ```
//!
//! - `wss://` runs over rustls, trusting the Mozilla roots (`webpki-roots`)
//!   and the PEM certificates of `--ca FILE` or `$WSPROTO_CA_FILE`.
//! - Proxies come from the environment: `https_proxy`/`HTTPS_PROXY` for
//!   `wss://`, `http_proxy`/`HTTP_PROXY` for `ws://` (then `ALL_PROXY`),
//!   `http://[user:password@]host[:port]`, tunnelled with `CONNECT`; hosts
//!   listed in `no_proxy`/`NO_PROXY` are reached directly (see
//!   `support/proxy.rs` for the matching rules).
//! - Redirects (301, 302, 303, 307, 308) are followed, at most 5, to
//!   `ws://`, `wss://` or relative URLs; a redirect from `wss://` to `ws://`
//!   is refused.

mod support;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use wsproto::{CloseCode, Event};

fn main() -> ExitCode {
    match client() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("client: {e}");
            ExitCode::FAILURE
        }
    }
}

fn client() -> std::io::Result<()> {
    let mut options = support::ClientOptions::from_env();
    let mut url = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--ca" => {
                let file = args.next().ok_or_else(|| usage("--ca needs a file"))?;
                options.ca_file = Some(PathBuf::from(file));
            }
            _ if arg.starts_with("--") => return Err(usage(&format!("unknown option {arg}"))),
            _ if url.is_none() => url = Some(arg),
            _ => return Err(usage("more than one URL")),
        }
    }
    let url = url.unwrap_or_else(|| "ws://127.0.0.1:9002/".into());
    let (mut stream, mut conn) =
        support::connect_with(&url, support::large_message_config(), &options)?;
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

fn usage(problem: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("{problem}\nusage: client [URL] [--ca FILE]"),
    )
}
