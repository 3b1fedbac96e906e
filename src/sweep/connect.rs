//! Connecting and logging in: implicit TLS, STARTTLS (RFC 3501 §6.2.1) or,
//! only when asked for explicitly, plain TCP; LOGIN with a password or
//! `AUTHENTICATE XOAUTH2` with a bearer token (the SASL mechanism of Gmail
//! and Microsoft 365).
//!
//! Certificates are always verified: against the system roots, or against
//! only the CA of `ca_file` when one is given. The stream is a boxed
//! [`Stream`] so that one [`Session`] type serves every mode.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use native_tls::{Certificate, TlsConnector};

use super::SweepError;
use super::config::{AccountSettings, Credential, Secret, TlsMode};

/// How long a connect or a single read or write may take.
pub const NETWORK_TIMEOUT: Duration = Duration::from_secs(120);

/// A byte stream to the server (TCP or TLS over TCP).
pub trait Stream: Read + Write + Send {
    /// The TCP connection underneath.
    fn tcp(&self) -> &TcpStream;
}

/// A TCP connection whose reads and writes are retried when a signal
/// interrupts them. A socket with a timeout (`SO_RCVTIMEO`) returns EINTR
/// even for handlers installed with SA_RESTART, and the exit of a
/// `password_command` child is enough to cause one; OpenSSL would take it
/// for a failed handshake.
#[derive(Debug)]
pub struct Tcp(TcpStream);

impl From<TcpStream> for Tcp {
    fn from(s: TcpStream) -> Tcp {
        Tcp(s)
    }
}

impl Read for Tcp {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            match self.0.read(buf) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                r => return r,
            }
        }
    }
}

impl Write for Tcp {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        loop {
            match self.0.write(buf) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                r => return r,
            }
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl Stream for Tcp {
    fn tcp(&self) -> &TcpStream {
        &self.0
    }
}

impl Stream for native_tls::TlsStream<Tcp> {
    fn tcp(&self) -> &TcpStream {
        &self.get_ref().0
    }
}

/// Lets IDLE wait with a timeout. The IDLE handle of the `imap` crate
/// clears the timeout (`None`) when its wait ends; the stream goes back to
/// [`NETWORK_TIMEOUT`] instead, so that no later read can hang forever.
impl imap::extensions::idle::SetReadTimeout for Box<dyn Stream> {
    fn set_read_timeout(
        &mut self,
        timeout: Option<Duration>,
    ) -> imap::error::Result<()> {
        self.tcp()
            .set_read_timeout(Some(timeout.unwrap_or(NETWORK_TIMEOUT)))
            .map_err(imap::Error::Io)
    }
}

/// A logged-in IMAP session.
pub type Session = imap::Session<Box<dyn Stream>>;

/// Connects, secures the connection as configured and logs in (one
/// connection; see [`Connector`] for several).
pub fn open(
    account: &AccountSettings,
    credential: &Credential,
) -> Result<Session, SweepError> {
    Connector::new(account)?.open(credential)
}

/// What the connections to one account share: its settings and its TLS
/// configuration, built once. Building a TLS configuration reads and
/// parses the system's CA bundle (twice, in native-tls on OpenSSL): tens
/// of milliseconds of CPU that a sweep's two sessions need not pay twice.
pub struct Connector<'a> {
    account: &'a AccountSettings,
    security: Security,
}

/// How a connection is secured, with the TLS configuration it needs.
enum Security {
    Plain,
    Implicit(TlsConnector),
    Starttls(TlsConnector),
}

impl<'a> Connector<'a> {
    /// The connector of `account`; fails when its CA file is unreadable or
    /// not a PEM certificate.
    pub fn new(account: &'a AccountSettings) -> Result<Self, SweepError> {
        let security = match account.tls {
            TlsMode::None => Security::Plain,
            TlsMode::Implicit => {
                Security::Implicit(Self::tls_connector(account)?)
            }
            TlsMode::Starttls => {
                Security::Starttls(Self::tls_connector(account)?)
            }
        };
        Ok(Connector { account, security })
    }

    /// Connects, secures the connection as configured and logs in.
    pub fn open(
        &self,
        credential: &Credential,
    ) -> Result<Session, SweepError> {
        Ok(self.open_interruptible(credential)?.0)
    }

    /// [`Connector::open`], also returning a handle on the TCP connection
    /// with which another thread can cut it (`shutdown`), ending a read
    /// that waits on it (an IDLE that must stop).
    pub fn open_interruptible(
        &self,
        credential: &Credential,
    ) -> Result<(Session, TcpStream), SweepError> {
        let (client, tcp) = self.connect()?;
        Ok((login(client, &self.account.user, credential)?, tcp))
    }

    /// The TLS settings: verification always on; with a CA file, that CA is
    /// the only trust anchor.
    fn tls_connector(
        account: &AccountSettings,
    ) -> Result<TlsConnector, SweepError> {
        let mut b = TlsConnector::builder();
        b.min_protocol_version(Some(native_tls::Protocol::Tlsv12));
        if let Some(path) = &account.ca_file {
            let pem = std::fs::read(path).map_err(|e| {
                SweepError::Config(format!("CA file {}: {e}", path.display()))
            })?;
            let cert = Certificate::from_pem(&pem).map_err(|e| {
                SweepError::Config(format!("CA file {}: {e}", path.display()))
            })?;
            b.add_root_certificate(cert).disable_built_in_roots(true);
        }
        b.build().map_err(|e| SweepError::Tls {
            host: account.host.clone(),
            message: e.to_string(),
        })
    }

    /// A TCP connection to the account's server, with the network
    /// timeouts set.
    pub(crate) fn tcp(account: &AccountSettings) -> Result<Tcp, SweepError> {
        let err = |source| SweepError::Connect {
            host: account.host.clone(),
            port: account.port,
            source,
        };
        let mut last = None;
        for addr in (account.host.as_str(), account.port)
            .to_socket_addrs()
            .map_err(err)?
        {
            match TcpStream::connect_timeout(&addr, NETWORK_TIMEOUT) {
                Ok(s) => {
                    s.set_read_timeout(Some(NETWORK_TIMEOUT)).map_err(err)?;
                    s.set_write_timeout(Some(NETWORK_TIMEOUT)).map_err(err)?;
                    return Ok(Tcp::from(s));
                }
                Err(e) => last = Some(e),
            }
        }
        Err(err(last.unwrap_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "the host name has no address",
            )
        })))
    }

    /// The account connected to.
    pub(crate) fn account(&self) -> &'a AccountSettings {
        self.account
    }

    /// The TLS configuration, unless the connection stays plain.
    pub(crate) fn tls(&self) -> Option<&TlsConnector> {
        match &self.security {
            Security::Plain => None,
            Security::Implicit(c) | Security::Starttls(c) => Some(c),
        }
    }

    fn connect(
        &self,
    ) -> Result<(imap::Client<Box<dyn Stream>>, TcpStream), SweepError> {
        let account = self.account;
        let tls_err = |message: String| SweepError::Tls {
            host: account.host.clone(),
            message,
        };
        let mut tcp = Self::tcp(account)?;
        let handle =
            tcp.0.try_clone().map_err(|source| SweepError::Connect {
                host: account.host.clone(),
                port: account.port,
                source,
            })?;
        let stream: Box<dyn Stream> = match &self.security {
            Security::Plain => Box::new(tcp),
            Security::Implicit(connector) => Box::new(
                connector
                    .connect(&account.host, tcp)
                    .map_err(|e| tls_err(e.to_string()))?,
            ),
            Security::Starttls(connector) => {
                starttls(&mut tcp).map_err(|e| match e {
                    StartTlsError::Io(source) => SweepError::Connect {
                        host: account.host.clone(),
                        port: account.port,
                        source,
                    },
                    StartTlsError::Refused(m) => tls_err(m),
                })?;
                Box::new(
                    connector
                        .connect(&account.host, tcp)
                        .map_err(|e| tls_err(e.to_string()))?,
                )
            }
        };
        let mut client = imap::Client::new(stream);
        if !matches!(self.security, Security::Starttls(_)) {
            client.read_greeting().map_err(|e| SweepError::Imap {
                context: "reading the server greeting".into(),
                source: e,
            })?;
        }
        Ok((client, handle))
    }
}

/// Logs in with the account's credential through `open`; when the server
/// refuses a credential that can be renewed (an OAuth2 access token,
/// revoked or expired early), renews it and tries once more.
pub(crate) fn with_login<T>(
    secret: &Secret,
    mut open: impl FnMut(&Credential) -> Result<T, SweepError>,
) -> Result<T, SweepError> {
    let credential = secret.read()?;
    match open(&credential) {
        Err(e @ SweepError::Auth { .. }) if e.throttled().is_none() => {
            match secret.renewed()? {
                Some(fresh) => open(&fresh),
                None => Err(e),
            }
        }
        other => other,
    }
}

enum StartTlsError {
    Io(std::io::Error),
    Refused(String),
}

/// Reads the greeting, sends STARTTLS and waits for its OK, reading byte
/// by byte so that nothing of the TLS handshake is consumed.
fn starttls(tcp: &mut Tcp) -> Result<(), StartTlsError> {
    fn line(tcp: &mut Tcp) -> Result<String, StartTlsError> {
        let mut buf = Vec::new();
        let mut b = [0u8];
        while !buf.ends_with(b"\n") {
            if tcp.read(&mut b).map_err(StartTlsError::Io)? == 0 {
                return Err(StartTlsError::Refused(
                    "the server closed the connection before STARTTLS".into(),
                ));
            }
            if buf.len() > 64 * 1024 {
                return Err(StartTlsError::Refused(
                    "overlong line before STARTTLS".into(),
                ));
            }
            buf.push(b[0]);
        }
        Ok(String::from_utf8_lossy(&buf).trim_end().to_string())
    }
    let greeting = line(tcp)?;
    if !greeting.starts_with("* OK") {
        return Err(StartTlsError::Refused(format!(
            "unexpected greeting: {greeting}"
        )));
    }
    tcp.write_all(b"rb0 STARTTLS\r\n").map_err(StartTlsError::Io)?;
    loop {
        let l = line(tcp)?;
        if let Some(rest) = l.strip_prefix("rb0 ") {
            return if rest.starts_with("OK") {
                Ok(())
            } else {
                Err(StartTlsError::Refused(format!(
                    "the server refused STARTTLS: {rest}"
                )))
            };
        }
    }
}

/// XOAUTH2 (Google/Microsoft SASL profile): one client message
/// `user=U ^A auth=Bearer T ^A ^A`; on failure the server sends an error
/// challenge, answered with an empty message.
struct XOAuth2<'a> {
    user: &'a str,
    token: &'a str,
}

impl imap::Authenticator for XOAuth2<'_> {
    type Response = String;

    fn process(&self, challenge: &[u8]) -> String {
        if challenge.is_empty() {
            format!("user={}\x01auth=Bearer {}\x01\x01", self.user, self.token)
        } else {
            String::new()
        }
    }
}

fn login(
    client: imap::Client<Box<dyn Stream>>,
    user: &str,
    credential: &Credential,
) -> Result<Session, SweepError> {
    let result = match credential {
        Credential::Password(p) => client.login(user, p),
        Credential::BearerToken(t) => {
            client.authenticate("XOAUTH2", &XOAuth2 { user, token: t })
        }
    };
    result.map_err(|(e, _)| SweepError::Auth {
        user: user.to_string(),
        message: e.to_string(),
    })
}
