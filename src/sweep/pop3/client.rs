//! A small POP3 client: the commands a bounce sweep needs, over the
//! account's TCP + TLS connection (native-tls, as for IMAP; TLS is never
//! written here).
//!
//! - RFC 1939: greeting, USER/PASS, UIDL, LIST, RETR (multi-line answers,
//!   ending in `.` alone on a line, with leading dots doubled), DELE, QUIT
//!   (deletions happen only when QUIT succeeds: the UPDATE state).
//! - RFC 2449: CAPA, and the response codes in brackets (`[IN-USE]`,
//!   `[SYS/TEMP]`), kept in the error text for [`SweepError::throttled`].
//! - RFC 2595: STLS on a plain connection, refused unless the server
//!   offers it; the capabilities are asked again after the handshake.
//! - RFC 5034: `AUTH XOAUTH2` with an initial response, for an OAuth2
//!   bearer token (Gmail, Microsoft 365); a failure challenge (`+ ...`) is
//!   answered with an empty line.

use std::io::{BufRead, BufReader, Read, Write};

use base64::Engine;

use crate::sweep::SweepError;
use crate::sweep::config::{Credential, TlsMode};
use crate::sweep::connect::{Connector, Stream, Tcp};

/// Longest line accepted from the server (RFC 2449 §4: 512 octets for a
/// status line; message lines are longer in practice).
const MAX_LINE: usize = 64 * 1024;

/// A POP3 session.
pub(crate) struct Pop3 {
    stream: BufReader<Box<dyn Stream>>,
    line: Vec<u8>,
}

/// An error with what was being done.
fn err(context: &str, message: impl std::fmt::Display) -> SweepError {
    SweepError::Pop3 {
        context: context.to_string(),
        message: message.to_string(),
    }
}

impl Pop3 {
    /// Connects and secures the connection as the account says (implicit
    /// TLS, or STLS on a plain connection, or plain with `insecure`).
    pub(crate) fn connect(
        connector: &Connector<'_>,
    ) -> Result<Pop3, SweepError> {
        let account = connector.account();
        let (host, mode) = (account.host.as_str(), account.tls);
        let tcp = Connector::tcp(account)?;
        let tls_err = |message: String| SweepError::Tls {
            host: host.to_string(),
            message,
        };
        let handshake = |tcp| -> Result<Box<dyn Stream>, SweepError> {
            let tls = connector
                .tls()
                .ok_or_else(|| tls_err("no TLS configuration".into()))?;
            Ok(Box::new(
                tls.connect(host, tcp).map_err(|e| tls_err(e.to_string()))?,
            ))
        };
        let stream: Box<dyn Stream> = match mode {
            TlsMode::Implicit => handshake(tcp)?,
            TlsMode::None | TlsMode::Starttls => Box::new(tcp),
        };
        let mut pop =
            Pop3 { stream: BufReader::new(stream), line: Vec::new() };
        pop.status("reading the greeting")?;
        if mode == TlsMode::Starttls {
            if !pop
                .capabilities()?
                .iter()
                .any(|c| c.eq_ignore_ascii_case("STLS"))
            {
                return Err(tls_err(
                    "the POP3 server does not offer STLS".into(),
                ));
            }
            pop.command("STLS", "starting TLS")?;
            // Nothing may be buffered past the +OK: the handshake follows.
            if !pop.stream.buffer().is_empty() {
                return Err(tls_err("data after the STLS answer".into()));
            }
            let plain = pop.stream.into_inner();
            let tcp =
                plain.tcp().try_clone().map_err(|e| tls_err(e.to_string()))?;
            drop(plain);
            pop = Pop3 {
                stream: BufReader::new(handshake(Tcp::from(tcp))?),
                line: Vec::new(),
            };
        }
        Ok(pop)
    }

    /// Logs in: USER/PASS with a password, AUTH XOAUTH2 with a token.
    pub(crate) fn login(
        &mut self,
        user: &str,
        credential: &Credential,
    ) -> Result<(), SweepError> {
        let auth = |message: String| SweepError::Auth {
            user: user.to_string(),
            message,
        };
        match credential {
            Credential::Password(p) => {
                self.command(&format!("USER {user}"), "logging in")
                    .map_err(|e| auth(e.to_string()))?;
                self.write(&format!("PASS {p}"), "logging in")?;
                self.status("logging in").map_err(|e| auth(e.to_string()))?;
            }
            Credential::BearerToken(t) => {
                let initial = base64::engine::general_purpose::STANDARD
                    .encode(format!("user={user}\x01auth=Bearer {t}\x01\x01"));
                self.write(&format!("AUTH XOAUTH2 {initial}"), "logging in")?;
                let line = self.read_line("logging in")?;
                if line.starts_with('+') && !line.starts_with("+OK") {
                    // The server's error challenge: answer empty, then -ERR.
                    self.write("", "logging in")?;
                    let end = self.read_line("logging in")?;
                    return Err(auth(end));
                }
                if !line.starts_with("+OK") {
                    return Err(auth(line));
                }
            }
        }
        Ok(())
    }

    /// CAPA: the capability names (empty when the server lacks CAPA).
    pub(crate) fn capabilities(&mut self) -> Result<Vec<String>, SweepError> {
        self.write("CAPA", "asking for capabilities")?;
        if self.status("asking for capabilities").is_err() {
            return Ok(Vec::new());
        }
        let mut caps = Vec::new();
        self.multi_line("asking for capabilities", |l| {
            let text = String::from_utf8_lossy(l);
            if let Some(name) = text.split_whitespace().next() {
                caps.push(name.to_string());
            }
        })?;
        Ok(caps)
    }

    /// UIDL: (message number, unique id) of every message.
    pub(crate) fn uidl(&mut self) -> Result<Vec<(u32, String)>, SweepError> {
        self.listing("UIDL", "listing unique ids", |s| Some(s.to_string()))
    }

    /// LIST: (message number, size in octets) of every message.
    pub(crate) fn list(&mut self) -> Result<Vec<(u32, u32)>, SweepError> {
        self.listing("LIST", "listing sizes", |s| s.parse().ok())
    }

    fn listing<T>(
        &mut self,
        command: &str,
        context: &str,
        value: impl Fn(&str) -> Option<T>,
    ) -> Result<Vec<(u32, T)>, SweepError> {
        self.command(command, context)?;
        let mut out = Vec::new();
        let mut bad = None;
        self.multi_line(context, |l| {
            let text = String::from_utf8_lossy(l);
            let mut parts = text.split_whitespace();
            match (
                parts.next().and_then(|n| n.parse().ok()),
                parts.next().and_then(&value),
            ) {
                (Some(n), Some(v)) => out.push((n, v)),
                _ => bad = Some(text.into_owned()),
            }
        })?;
        match bad {
            Some(line) => {
                Err(err(context, format!("malformed line {line:?}")))
            }
            None => Ok(out),
        }
    }

    /// RETR: the message, CRLF line ends, read only up to `cap` bytes
    /// (the rest is read and dropped); and whether it was cut.
    pub(crate) fn retr(
        &mut self,
        n: u32,
        cap: u32,
    ) -> Result<(Vec<u8>, bool), SweepError> {
        let context = format!("fetching message {n}");
        self.command(&format!("RETR {n}"), &context)?;
        let cap = cap as usize;
        let mut body = Vec::new();
        let mut cut = false;
        self.multi_line(&context, |l| {
            if body.len() + l.len() + 2 > cap {
                cut = true;
                return;
            }
            body.extend_from_slice(l);
            body.extend_from_slice(b"\r\n");
        })?;
        Ok((body, cut))
    }

    /// DELE: marks a message for deletion at QUIT.
    pub(crate) fn dele(&mut self, n: u32) -> Result<(), SweepError> {
        self.command(&format!("DELE {n}"), "deleting a message").map(drop)
    }

    /// QUIT: ends the session; the marked messages are deleted now.
    pub(crate) fn quit(mut self) -> Result<(), SweepError> {
        self.command("QUIT", "deleting the recorded messages (QUIT)").map(drop)
    }

    /// Sends a command and reads its +OK status line.
    fn command(
        &mut self,
        line: &str,
        context: &str,
    ) -> Result<String, SweepError> {
        self.write(line, context)?;
        self.status(context)
    }

    fn write(&mut self, line: &str, context: &str) -> Result<(), SweepError> {
        let s = self.stream.get_mut();
        s.write_all(line.as_bytes())
            .and_then(|_| s.write_all(b"\r\n"))
            .and_then(|_| s.flush())
            .map_err(|e| err(context, e))
    }

    /// Reads a status line: Ok(text) on `+OK`, the `-ERR` line as an error.
    fn status(&mut self, context: &str) -> Result<String, SweepError> {
        let line = self.read_line(context)?;
        match line.strip_prefix("+OK") {
            Some(rest) => Ok(rest.trim().to_string()),
            None => Err(err(context, line)),
        }
    }

    /// One line without its line end, as text.
    fn read_line(&mut self, context: &str) -> Result<String, SweepError> {
        self.read_raw(context)?;
        Ok(String::from_utf8_lossy(&self.line).into_owned())
    }

    /// One line into `self.line`, without its line end.
    fn read_raw(&mut self, context: &str) -> Result<(), SweepError> {
        self.line.clear();
        let n = self
            .stream
            .by_ref()
            .take(MAX_LINE as u64)
            .read_until(b'\n', &mut self.line)
            .map_err(|e| err(context, e))?;
        if n == 0 {
            return Err(err(context, "the server closed the connection"));
        }
        if !self.line.ends_with(b"\n") {
            return Err(err(
                context,
                format!("a line longer than {MAX_LINE} bytes"),
            ));
        }
        while self.line.last().is_some_and(|&b| b == b'\n' || b == b'\r') {
            self.line.pop();
        }
        Ok(())
    }

    /// The lines of a multi-line answer, dot-unstuffed, up to the `.`.
    fn multi_line(
        &mut self,
        context: &str,
        mut each: impl FnMut(&[u8]),
    ) -> Result<(), SweepError> {
        loop {
            self.read_raw(context)?;
            match self.line.as_slice() {
                b"." => return Ok(()),
                [b'.', rest @ ..] => each(rest),
                l => each(l),
            }
        }
    }
}
