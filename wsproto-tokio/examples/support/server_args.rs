//! The command line of `h2_echo` and `h3_echo`: `ADDR [--cert FILE --key
//! FILE]`, the certificate chain and its key as PEM files.

use std::net::SocketAddr;

pub struct Args {
    pub addr: SocketAddr,
    /// The certificate and key files, given together or not at all.
    pub tls: Option<(String, String)>,
}

impl Args {
    pub fn parse(usage: &str) -> Result<Args, String> {
        let mut args = std::env::args().skip(1);
        let addr = args
            .next()
            .ok_or(usage)?
            .parse()
            .map_err(|e| format!("ADDR: {e}\n{usage}"))?;
        let (mut cert, mut key) = (None, None);
        while let Some(arg) = args.next() {
            let slot = match arg.as_str() {
                "--cert" => &mut cert,
                "--key" => &mut key,
                _ => return Err(format!("unknown argument {arg}\n{usage}")),
            };
            *slot = Some(args.next().ok_or(usage)?);
        }
        if cert.is_some() != key.is_some() {
            return Err(format!("--cert and --key go together\n{usage}"));
        }
        Ok(Args {
            addr,
            tls: cert.zip(key),
        })
    }
}
