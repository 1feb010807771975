//! TLS for the examples, with rustls: the library itself never sees it. A
//! WebSocket over TLS is the same connection driven over a different
//! `Read + Write`.

use std::io;
use std::net::TcpStream;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};

/// A TLS client stream over TCP.
pub type ClientTls = rustls::StreamOwned<ClientConnection, TcpStream>;

/// A TLS server stream over TCP.
pub type ServerTls = rustls::StreamOwned<ServerConnection, TcpStream>;

fn invalid(what: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, what.to_string())
}

/// The crypto provider, named explicitly (rather than the process default)
/// so that another crate turning on a second provider changes nothing.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A client configuration trusting the Mozilla roots (`webpki-roots`) and,
/// when given, the certificates of the PEM file `ca_file` (a private CA, or
/// a test one).
pub fn client_config(ca_file: Option<&Path>) -> io::Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        let mut added = 0;
        for cert in CertificateDer::pem_file_iter(path)
            .map_err(|e| invalid(format_args!("{}: {e}", path.display())))?
        {
            let cert = cert.map_err(|e| invalid(format_args!("{}: {e}", path.display())))?;
            roots.add(cert).map_err(invalid)?;
            added += 1;
        }
        if added == 0 {
            return Err(invalid(format_args!(
                "{}: no PEM certificate",
                path.display()
            )));
        }
    }
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(invalid)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// A server configuration from a PEM certificate chain and a PEM private key.
pub fn server_config(cert_file: &Path, key_file: &Path) -> io::Result<Arc<ServerConfig>> {
    let chain = CertificateDer::pem_file_iter(cert_file)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| invalid(format_args!("{}: {e}", cert_file.display())))?;
    let key = PrivateKeyDer::from_pem_file(key_file)
        .map_err(|e| invalid(format_args!("{}: {e}", key_file.display())))?;
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(invalid)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(invalid)?;
    Ok(Arc::new(config))
}

/// Starts TLS as a client on `tcp` for `host` (a name, or an IP address
/// the certificate must name). `early` holds bytes already received on
/// `tcp` (after a proxy's answer): they are fed to TLS first. The handshake
/// itself runs on the first read or write.
pub fn connect(
    config: Arc<ClientConfig>,
    host: &str,
    tcp: TcpStream,
    early: &[u8],
) -> io::Result<ClientTls> {
    let name = ServerName::try_from(host.to_string()).map_err(invalid)?;
    let mut tls = ClientConnection::new(config, name).map_err(invalid)?;
    if !early.is_empty() {
        tls.read_tls(&mut &early[..])?;
        tls.process_new_packets()
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    }
    Ok(rustls::StreamOwned::new(tls, tcp))
}

/// Starts TLS as a server on an accepted `tcp`; the handshake runs on the
/// first read.
pub fn accept(config: Arc<ServerConfig>, tcp: TcpStream) -> io::Result<ServerTls> {
    let tls = ServerConnection::new(config).map_err(invalid)?;
    Ok(rustls::StreamOwned::new(tls, tcp))
}
