//! Drives an Autobahn|Testsuite fuzzing server as a client over
//! `wsproto_tokio::connect`, echoing each case.
//!
//! ```sh
//! cargo run --release -p wsproto-tokio --features deflate --example adapter_autobahn_client -- ws://127.0.0.1:9031 wsproto-tokio
//! ```
//!
//! Without arguments it reads `AUTOBAHN_URL` and `AUTOBAHN_AGENT`: the
//! steps are those of the core's `examples/autobahn_client.rs`: fetch
//! `URL/getCaseCount`, run each case `URL/runCase?case=N&agent=AGENT`
//! echoing everything, then `URL/updateReports?agent=AGENT`.

use futures_util::StreamExt;
use wsproto_tokio::{Config, Error, Message, WebSocketConfig};

/// Limits for peers that send big messages (the suite sends 16 MiB).
fn config() -> WebSocketConfig {
    WebSocketConfig::default().config(
        Config::default()
            .max_frame_payload(32 << 20)
            .max_message_size(64 << 20),
    )
}

/// Runs one case: echoes text as text and binary as binary until the
/// stream ends. Protocol errors are reported and reading goes on, so that
/// the close frame the failure owes is written.
async fn run_case(url: &str) -> Result<(), Error> {
    let (mut ws, _) = wsproto_tokio::connect_with(url, config()).await?;
    while let Some(message) = ws.next().await {
        match message {
            Ok(message @ (Message::Text(_) | Message::Binary(_))) => ws.send(message).await?,
            Ok(_) => {}
            Err(Error::Protocol(e)) => eprintln!("{url}: {e}"),
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let base = args
        .next()
        .or_else(|| std::env::var("AUTOBAHN_URL").ok())
        .unwrap_or("ws://127.0.0.1:9001".into());
    let agent = args
        .next()
        .or_else(|| std::env::var("AUTOBAHN_AGENT").ok())
        .unwrap_or("wsproto-tokio".into());

    let (mut ws, _) = wsproto_tokio::connect(format!("{base}/getCaseCount")).await?;
    let mut count = 0;
    while let Some(message) = ws.next().await {
        if let Message::Text(text) = message? {
            count = text.as_str().trim().parse().unwrap_or(0);
        }
    }
    if count == 0 {
        return Err(Error::Unsupported("no case count from the fuzzing server"));
    }
    println!("{count} cases");

    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={agent}");
        if let Err(e) = run_case(&url).await {
            eprintln!("case {case}: {e}");
        }
    }

    let (mut ws, _) = wsproto_tokio::connect(format!("{base}/updateReports?agent={agent}")).await?;
    while let Some(message) = ws.next().await {
        message?;
    }
    println!("reports updated");
    Ok(())
}
