//! The client's side (RFC 6455 §4.1): write the request, read and validate
//! the server's response.

use super::accept::{encode_key, AcceptKey};
use super::error::WriteError;
use super::error::{HandshakeError, UsageError};
use super::extension::ExtensionOffer;
use super::head::{HeadReader, Limits, ResponseHead};
use super::headers::Headers;
use super::open::{Agreed, Extensions};
use super::response::Response;
use super::url::WsUrl;
use super::write::{self, put_field, put_request_line, Sink};
use super::{check_extra_header, is_token, Accepted, Negotiated};
use crate::config::Config;
use crate::frame::Status;
use crate::role::Role;
use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;

/// What a client asks for beyond the URL: `Origin`, subprotocols, the
/// extensions it is willing to run, extra header fields, limits on the
/// response head, and the configuration of the connection that results.
#[derive(Clone, Debug, Default)]
pub struct ClientConfig {
    pub(super) origin: Option<String>,
    pub(super) protocols: Vec<String>,
    pub(super) extensions: Extensions,
    pub(super) headers: Headers,
    limits: Limits,
    pub(super) config: Config,
}

impl ClientConfig {
    /// No origin, subprotocol, extension or extra field; default limits
    /// and connection [`Config`].
    pub fn new() -> ClientConfig {
        ClientConfig::default()
    }

    /// Sends `Origin` (§4.1 point 8: required of browser clients, optional
    /// for others).
    pub fn origin(mut self, origin: impl Into<String>) -> ClientConfig {
        self.origin = Some(origin.into());
        self
    }

    /// Offers a subprotocol; offers are sent in the order added, the most
    /// preferred first. Each must be a token, and unique.
    pub fn protocol(mut self, protocol: impl Into<String>) -> ClientConfig {
        self.protocols.push(protocol.into());
        self
    }

    /// Offers permessage-deflate (RFC 7692 §5.1) with this configuration;
    /// the server's answer is checked (§5: an answer the client cannot
    /// accept fails the handshake with
    /// [`HandshakeError::InvalidExtensionResponse`]) and, when it accepts,
    /// the connection compresses and inflates from its first frame.
    #[cfg(feature = "deflate")]
    #[cfg_attr(docsrs, doc(cfg(feature = "deflate")))]
    pub fn deflate(mut self, deflate: crate::extensions::deflate::DeflateConfig) -> ClientConfig {
        self.extensions.deflate = Some(deflate);
        self
    }

    /// Adds a header field (e.g. `Authorization`, `Cookie`). The
    /// handshake's own fields (`Host`, `Upgrade`, `Sec-WebSocket-*`, ...)
    /// and invalid fields are refused when the handshake is built.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<Vec<u8>>) -> ClientConfig {
        self.headers.append(name, value);
        self
    }

    /// The configuration of the connection (limits, timers, keepalive, the
    /// source of masking keys).
    pub fn config(mut self, config: Config) -> ClientConfig {
        self.config = config;
        self
    }

    /// Sets the limits on the server's response head.
    pub fn limits(mut self, limits: Limits) -> ClientConfig {
        self.limits = limits;
        self
    }

    /// The fields every opening request carries after the key and `Origin`
    /// (HTTP/1.1 Upgrade and extended CONNECT alike): subprotocols,
    /// `Sec-WebSocket-Version: 13`, extension offers, extra fields.
    pub(super) fn for_each_offer_field(&self, f: &mut dyn FnMut(&str, &[u8])) {
        if !self.protocols.is_empty() {
            f(
                "Sec-WebSocket-Protocol",
                self.protocols.join(", ").as_bytes(),
            );
        }
        f("Sec-WebSocket-Version", b"13");
        let offers = self.extensions.offers();
        if !offers.is_empty() {
            let mut value = String::new();
            let _ = ExtensionOffer::write_list(&offers, &mut value);
            f("Sec-WebSocket-Extensions", value.as_bytes());
        }
        for (name, value) in self.headers.iter() {
            f(name, value);
        }
    }

    /// Checks everything the request will carry.
    pub(super) fn check(&self) -> Result<(), UsageError> {
        // §4.1 point 10: "The elements that comprise this value MUST be
        // non-empty strings with characters in the range U+0021 to U+007E not
        // including separator characters [...] and MUST all be unique strings."
        for (i, p) in self.protocols.iter().enumerate() {
            if !is_token(p.as_bytes()) || self.protocols[..i].contains(p) {
                return Err(UsageError::InvalidProtocol(p.clone()));
            }
        }
        if let Some(origin) = &self.origin {
            check_extra_header("Origin", origin.as_bytes())?;
        }
        for (name, value) in self.headers.iter() {
            check_extra_header(name, value)?;
        }
        Ok(())
    }
}

/// A client's opening handshake: the request to write, then the server's
/// response to read.
///
/// Write the request ([`ClientHandshake::write_request`]), then call
/// [`ClientHandshake::handle_input`] with each chunk received until it
/// returns the [`Accepted`] outcome or an error. After a failure every call
/// returns the same error; §4.1: the client then _Fails the WebSocket
/// Connection_ (closes the transport).
#[derive(Debug)]
pub struct ClientHandshake {
    pub(super) host: String,
    pub(super) resource: String,
    key: [u8; 24],
    pub(super) config: ClientConfig,
    pub(super) reader: HeadReader,
}

impl ClientHandshake {
    /// A handshake for `url` with the 16 nonce bytes of the key given by the
    /// caller. §4.1: "The nonce MUST be selected randomly for each
    /// connection": pass fresh bytes from a strong random source (fixed
    /// bytes only in tests).
    pub fn new(
        url: &WsUrl,
        config: ClientConfig,
        nonce: [u8; 16],
    ) -> Result<ClientHandshake, UsageError> {
        config.check()?;
        Ok(ClientHandshake {
            host: url.host_header(),
            resource: url.resource().into(),
            key: encode_key(&nonce),
            reader: HeadReader::new(config.limits),
            config,
        })
    }

    /// A handshake for `url` with a nonce from the thread-local CSPRNG.
    #[cfg(feature = "rand")]
    pub fn new_random(url: &WsUrl, config: ClientConfig) -> Result<ClientHandshake, UsageError> {
        use rand::RngCore;
        let mut nonce = [0u8; 16];
        rand::rng().fill_bytes(&mut nonce);
        ClientHandshake::new(url, config, nonce)
    }

    /// The `Sec-WebSocket-Key` sent.
    pub fn key(&self) -> &str {
        // Base64 output is ASCII.
        core::str::from_utf8(&self.key).unwrap_or_default()
    }

    /// Writes the request into `out`, returning its length, or the size
    /// required, writing nothing. Every field was checked when the
    /// handshake was built and is checked again as it is written (the one
    /// check every HTTP head written goes through).
    pub fn write_request(&self, out: &mut [u8]) -> Result<usize, WriteError> {
        write::write_into(out, |s| self.encode(s))
    }

    /// Appends the request to `out` (nothing appended on an error).
    pub fn write_request_to_vec(&self, out: &mut Vec<u8>) -> Result<(), UsageError> {
        write::write_to_vec(out, |s| self.encode(s)).map(|_| ())
    }

    /// The request as bytes.
    pub fn request_to_vec(&self) -> Result<Vec<u8>, UsageError> {
        write::to_vec(|s| self.encode(s))
    }

    /// The request, in the order of the example of §1.2: `GET` of the
    /// resource name, then the fields of [`Self::for_each_field`].
    pub(super) fn encode(&self, s: &mut dyn Sink) {
        put_request_line(s, "GET", &self.resource);
        self.for_each_field(&mut |name, value| put_field(s, name, value));
        s.put(b"\r\n");
    }

    /// The request's header fields, in the order of the example of §1.2:
    /// `Host`, `Upgrade: websocket`, `Connection: Upgrade`, the key,
    /// `Origin` and subprotocols if any, version 13, then extension offers
    /// and extra fields. Shared by the HTTP/1.1 writer and the `http`
    /// feature's `http::Request`.
    pub(super) fn for_each_field(&self, f: &mut dyn FnMut(&str, &[u8])) {
        f("Host", self.host.as_bytes());
        f("Upgrade", b"websocket");
        f("Connection", b"Upgrade");
        f("Sec-WebSocket-Key", &self.key);
        if let Some(origin) = &self.config.origin {
            f("Origin", origin.as_bytes());
        }
        self.config.for_each_offer_field(f);
    }

    /// Takes bytes received from the server: [`Status::Partial`] until the
    /// response head is complete (every byte is kept), then the validated
    /// outcome, holding the bytes that followed the head.
    pub fn handle_input(&mut self, data: &[u8]) -> Result<Status<Accepted>, HandshakeError> {
        let (head, leftover) = match self.reader.read::<ResponseHead>(data)? {
            Status::Complete(parsed) => parsed,
            Status::Partial => return Ok(Status::Partial),
        };
        let mut response = Response::new(head.status);
        response.reason = head.reason;
        response.headers = head.headers;
        if head.status != 101 {
            response.body = leftover.to_vec();
            return Err(self
                .reader
                .fail(HandshakeError::Rejected(Box::new(response))));
        }
        match self.check(head.minor_version, &response.headers) {
            Ok((negotiated, agreed)) => {
                let connection = agreed.open(Role::Client, self.config.config.clone(), &leftover);
                Ok(Status::Complete(Accepted {
                    response,
                    negotiated,
                    connection,
                }))
            }
            Err(e) => Err(self.reader.fail(e)),
        }
    }

    /// Checks a 101 response against §4.1: the subprotocol and extensions
    /// in use, or the rule broken.
    pub(super) fn check(
        &self,
        minor_version: u8,
        headers: &Headers,
    ) -> Result<(Negotiated, Agreed), HandshakeError> {
        if minor_version < 1 {
            return Err(HandshakeError::ResponseVersion(minor_version));
        }
        // §4.1 point 2: an |Upgrade| "ASCII case-insensitive match for the
        // value "websocket"" (repeated or listed, every value must be it).
        let mut upgrade = headers.list("Upgrade").peekable();
        if upgrade.peek().is_none() || !upgrade.all(|u| u.eq_ignore_ascii_case(b"websocket")) {
            return Err(HandshakeError::MissingUpgrade);
        }
        // §4.1 point 3.
        if !headers.has_token("Connection", "Upgrade") {
            return Err(HandshakeError::MissingConnectionUpgrade);
        }
        // §4.1 point 4.
        let expected = AcceptKey::from_key(&self.key);
        match headers.count("Sec-WebSocket-Accept") {
            0 => return Err(HandshakeError::MissingAccept),
            1 => {
                let got = headers
                    .get("Sec-WebSocket-Accept")
                    .map(super::trim_ows)
                    .unwrap_or_default();
                if got != expected.as_bytes() {
                    return Err(HandshakeError::AcceptMismatch);
                }
            }
            _ => return Err(HandshakeError::AcceptMismatch),
        }
        self.config.check_negotiated(headers)
    }
}

impl ClientConfig {
    /// §4.1 points 5 and 6 on a server's answer (101, or the 200 of an
    /// extended CONNECT): the extensions and the subprotocol in use, each
    /// one that was offered, and the extensions' own checks of their
    /// parameters.
    pub(super) fn check_negotiated(
        &self,
        headers: &Headers,
    ) -> Result<(Negotiated, Agreed), HandshakeError> {
        // §4.1 point 5: only extensions that were offered (by name).
        let mut extensions = Vec::new();
        for value in headers.get_all("Sec-WebSocket-Extensions") {
            ExtensionOffer::parse_list_into(value, &mut extensions)
                .map_err(|_| HandshakeError::InvalidExtensionHeader)?;
        }
        let offers = self.extensions.offers();
        if let Some(e) = extensions
            .iter()
            .find(|e| !offers.iter().any(|o| o.name.eq_ignore_ascii_case(&e.name)))
        {
            return Err(HandshakeError::ExtensionNotOffered(e.name.clone()));
        }
        // §4.1 point 6: a single value, one of those offered.
        let mut protocols = headers.list("Sec-WebSocket-Protocol");
        let protocol = match (protocols.next(), protocols.next()) {
            (None, _) => None,
            (Some(p), None) if self.protocols.iter().any(|o| o.as_bytes() == p) => {
                Some(String::from_utf8_lossy(p).into_owned())
            }
            _ => {
                let all = headers
                    .get_all("Sec-WebSocket-Protocol")
                    .collect::<Vec<_>>()
                    .join(&b", "[..]);
                return Err(HandshakeError::ProtocolNotOffered(
                    String::from_utf8_lossy(&all).into_owned(),
                ));
            }
        };
        let agreed = self.extensions.check_answer(extensions)?;
        let negotiated = Negotiated {
            role: Role::Client,
            protocol,
            extensions: agreed.extensions.clone(),
        };
        Ok((negotiated, agreed))
    }
}
