//! A client's transport: plain TCP for `ws://`, TLS (rustls, feature
//! `rustls`) for `wss://`.

use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A stream that is plain or TLS, as the URL's scheme asked
/// (tokio-tungstenite's type of the same name).
#[derive(Debug)]
#[non_exhaustive]
pub enum MaybeTlsStream<S> {
    /// `ws://`: the stream as it is.
    Plain(S),
    /// `wss://`: TLS with rustls.
    #[cfg(feature = "rustls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "rustls")))]
    Rustls(Box<tokio_rustls::client::TlsStream<S>>),
}

macro_rules! each {
    ($self:ident, $s:ident => $e:expr) => {
        match $self.get_mut() {
            MaybeTlsStream::Plain($s) => {
                let $s = Pin::new($s);
                $e
            }
            #[cfg(feature = "rustls")]
            MaybeTlsStream::Rustls($s) => {
                let $s = Pin::new(&mut **$s);
                $e
            }
        }
    };
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncRead for MaybeTlsStream<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        each!(self, s => s.poll_read(cx, buf))
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncWrite for MaybeTlsStream<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        each!(self, s => s.poll_write(cx, buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        each!(self, s => s.poll_write_vectored(cx, bufs))
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            MaybeTlsStream::Plain(s) => s.is_write_vectored(),
            #[cfg(feature = "rustls")]
            MaybeTlsStream::Rustls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, s => s.poll_flush(cx))
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        each!(self, s => s.poll_shutdown(cx))
    }
}

#[cfg(feature = "rustls")]
pub(crate) use with_rustls::connect;

#[cfg(feature = "rustls")]
mod with_rustls {
    use std::io;
    use std::sync::{Arc, OnceLock};

    use tokio::io::{AsyncRead, AsyncWrite};
    use tokio_rustls::rustls::pki_types::ServerName;
    use tokio_rustls::rustls::{ClientConfig, RootCertStore};
    use tokio_rustls::TlsConnector;

    use super::MaybeTlsStream;
    use crate::config::WebSocketConfig;
    use crate::error::Error;

    /// The default client configuration: the Mozilla roots, ring.
    fn default_config() -> Result<Arc<ClientConfig>, Error> {
        static CONFIG: OnceLock<Arc<ClientConfig>> = OnceLock::new();
        if let Some(config) = CONFIG.get() {
            return Ok(config.clone());
        }
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        // The provider is named, not the process default, so that another
        // crate turning on a second one changes nothing here.
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Io(io::Error::other(e)))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(CONFIG.get_or_init(|| Arc::new(config)).clone())
    }

    /// TLS as a client on `io` for `host` (a name, or an address the
    /// certificate must name).
    pub(crate) async fn connect<S>(
        config: &WebSocketConfig,
        host: &str,
        io: S,
    ) -> Result<MaybeTlsStream<S>, Error>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let tls = match &config.tls {
            Some(tls) => tls.clone(),
            None => default_config()?,
        };
        let name = ServerName::try_from(host.to_string())
            .map_err(|e| Error::Io(io::Error::new(io::ErrorKind::InvalidInput, e)))?;
        let stream = TlsConnector::from(tls).connect(name, io).await?;
        Ok(MaybeTlsStream::Rustls(Box::new(stream)))
    }
}
