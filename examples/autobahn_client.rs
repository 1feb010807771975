//! Drives an Autobahn|Testsuite fuzzing server as a client, echoing each case.
//!
//! ```sh
//! cargo run --release --example autobahn_client -- ws://127.0.0.1:9001 [agent]
//! ```
//!
//! Without arguments it reads `AUTOBAHN_URL` and `AUTOBAHN_AGENT`.

mod support;

use wsproto::Event;

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let base = args
        .next()
        .or_else(|| std::env::var("AUTOBAHN_URL").ok())
        .unwrap_or("ws://127.0.0.1:9001".into());
    let agent = args
        .next()
        .or_else(|| std::env::var("AUTOBAHN_AGENT").ok())
        .unwrap_or("wsproto".into());

    let (mut stream, mut conn) = support::connect(
        &format!("{base}/getCaseCount"),
        support::large_message_config(),
    )?;
    let mut count = 0;
    support::run(
        &mut stream,
        &mut conn,
        |_, event| {
            if let Event::Text(text) = event {
                count = text.as_str().trim().parse().unwrap_or(0);
            }
        },
        None,
    )?;
    println!("{count} cases");

    for case in 1..=count {
        let url = format!("{base}/runCase?case={case}&agent={agent}");
        match support::connect(&url, support::large_message_config()) {
            Ok((mut stream, mut conn)) => {
                if let Err(e) = support::run(&mut stream, &mut conn, support::echo, None) {
                    eprintln!("case {case}: {e}");
                }
            }
            Err(e) => eprintln!("case {case}: {e}"),
        }
    }

    let (mut stream, mut conn) = support::connect(
        &format!("{base}/updateReports?agent={agent}"),
        Default::default(),
    )?;
    support::run(&mut stream, &mut conn, |_, _| {}, None)?;
    println!("reports updated");
    Ok(())
}
