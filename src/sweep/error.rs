//! The errors that end a sweep, their broad kinds, which decide the exit
//! code of `rebound sweep`, and which of them pass with time: a lost
//! connection, or a server asking the client to slow down (Microsoft 365's
//! `Request is throttled. Suggested Backoff Time: N milliseconds`, the
//! RFC 5530 codes `[UNAVAILABLE]`, `[LIMIT]`, `[INUSE]`, Gmail's `Too many
//! simultaneous connections`, the POP3 codes `[SYS/TEMP]`, `[IN-USE]`,
//! `[LOGIN-DELAY]` of RFC 2449 and RFC 3206).

use std::path::PathBuf;
use std::time::Duration;

use crate::ledger::LedgerError;

/// An error that ends a sweep.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SweepError {
    /// The configuration is incomplete or unsafe, or a credential could
    /// not be read.
    #[error("configuration: {0}")]
    Config(String),
    /// A local file could not be used.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Another sweep of the same ledger and account is running.
    #[error(
        "another sweep is running (lock {} held{})",
        path.display(),
        holder.as_deref().map(|h| format!(" by {h}")).unwrap_or_default()
    )]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// What the holder wrote in it (`pid N`).
        holder: Option<String>,
    },
    /// The TCP connection failed.
    #[error("cannot connect to {host}:{port}: {source}")]
    Connect {
        /// The host.
        host: String,
        /// The port.
        port: u16,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The TLS handshake or certificate check failed.
    #[error("TLS with {host} failed: {message}")]
    Tls {
        /// The host.
        host: String,
        /// What went wrong.
        message: String,
    },
    /// The server refused the login.
    #[error("login as {user} failed: {message}")]
    Auth {
        /// The user name.
        user: String,
        /// The server's answer.
        message: String,
    },
    /// An IMAP command failed or the connection broke during the sweep.
    #[error("IMAP error while {context}: {source}")]
    Imap {
        /// What the sweep was doing.
        context: String,
        /// The underlying error.
        source: imap::Error,
    },
    /// The two sessions of a sweep saw different UIDVALIDITY values of a
    /// mailbox (it was renumbered while the sweep started); nothing was
    /// recorded or moved, the next sweep rescans it.
    #[error("the UIDVALIDITY of {mailbox} changed during the sweep")]
    UidValidityChanged {
        /// The mailbox.
        mailbox: String,
    },
    /// The server refused to open a mailbox (it does not exist, or the
    /// account may not read it).
    #[error("cannot select {mailbox}: {message}")]
    Mailbox {
        /// The mailbox.
        mailbox: String,
        /// The server's answer.
        message: String,
    },
    /// A POP3 command failed or the connection broke.
    #[error("POP3 error while {context}: {message}")]
    Pop3 {
        /// What the sweep was doing.
        context: String,
        /// The server's answer or the I/O error.
        message: String,
    },
    /// The OAuth2 token endpoint failed.
    #[error("OAuth2 token refresh at {token_url} failed: {message}")]
    OAuth2 {
        /// The token endpoint.
        token_url: String,
        /// What went wrong.
        message: String,
        /// Whether a later attempt may succeed (network, 429, 5xx).
        transient: bool,
    },
    /// The OAuth2 grant was revoked or has expired (`invalid_grant`).
    #[error(
        "the OAuth2 grant was revoked or has expired ({token_url} answered invalid_grant{}): \
         authorise rebound again with the provider (the consent flow that gave the first \
         refresh token) and write the new refresh token to {}",
        if description.is_empty() { String::new() } else { format!(": {description}") },
        refresh_token_file.display()
    )]
    OAuth2Revoked {
        /// The token endpoint.
        token_url: String,
        /// Where the new refresh token goes.
        refresh_token_file: PathBuf,
        /// The endpoint's `error_description`.
        description: String,
    },
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// The broad kind of a [`SweepError`], which decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Bad configuration or usage (exit 2).
    Config,
    /// Connection, TLS, authentication or protocol failure (exit 3).
    Connection,
    /// Another sweep holds the lock (exit 4).
    Locked,
    /// Anything else, such as a ledger failure (exit 2).
    Other,
}

impl SweepError {
    /// The kind of the error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            SweepError::Config(_) => ErrorKind::Config,
            SweepError::Connect { .. }
            | SweepError::Tls { .. }
            | SweepError::Auth { .. }
            | SweepError::Imap { .. }
            | SweepError::Mailbox { .. }
            | SweepError::Pop3 { .. }
            | SweepError::OAuth2 { .. }
            | SweepError::OAuth2Revoked { .. }
            | SweepError::UidValidityChanged { .. } => ErrorKind::Connection,
            SweepError::Locked { .. } => ErrorKind::Locked,
            SweepError::Io { .. } | SweepError::Ledger(_) => ErrorKind::Other,
        }
    }
}

/// Phrases of servers asking to slow down (lower case).
#[rustfmt::skip]
const THROTTLE_PHRASES: &[&str] = &[
    "[in-use]",                                 // POP3, RFC 2449 §8.1.2
    "[inuse]",                                  // IMAP, RFC 5530 §3
    "[limit]",                                  // IMAP, RFC 5530 §3
    "[login-delay]",                            // POP3, RFC 2449 §8.1.1
    "[sys/temp]",                               // POP3, RFC 3206 §4
    "[unavailable]",                            // IMAP, RFC 5530 §3
    "throttl",                                  // Microsoft 365 "Request is
                                                // throttled", Yahoo [THROTTLED]
    "too many simultaneous connections",        // Gmail
    "user is authenticated but not connected",  // Microsoft 365, transient
];

impl SweepError {
    /// The server's own words, when the error carries an answer.
    fn answer(&self) -> Option<String> {
        match self {
            SweepError::Auth { message, .. }
            | SweepError::Pop3 { message, .. } => Some(message.clone()),
            SweepError::Imap { source, .. } => match source {
                imap::Error::No(m) | imap::Error::Bad(m) => Some(m.clone()),
                other => Some(other.to_string()),
            },
            _ => None,
        }
    }

    /// The server asked to slow down: `Some(wait)`, with the wait it
    /// suggested (Microsoft's `Suggested Backoff Time: N milliseconds`)
    /// when it named one.
    pub fn throttled(&self) -> Option<Option<Duration>> {
        let text = self.answer()?.to_ascii_lowercase();
        if !THROTTLE_PHRASES.iter().any(|p| text.contains(p)) {
            return None;
        }
        let suggested = text
            .split_once("backoff time:")
            .and_then(|(_, rest)| {
                let digits: String = rest
                    .trim_start()
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect();
                digits.parse::<u64>().ok()
            })
            .map(Duration::from_millis);
        Some(suggested)
    }

    /// Whether a later attempt may succeed: lost connections, protocol
    /// failures and throttling pass; bad settings, refused credentials,
    /// untrusted certificates, a revoked grant, a mailbox that does not
    /// exist (RFC 5530 `[NONEXISTENT]`), the lock and the ledger do not.
    pub fn is_transient(&self) -> bool {
        match self {
            SweepError::Imap { .. } => !self.answer().is_some_and(|a| {
                a.to_ascii_uppercase().contains("[NONEXISTENT]")
            }),
            SweepError::Connect { .. }
            | SweepError::Pop3 { .. }
            | SweepError::UidValidityChanged { .. } => true,
            SweepError::OAuth2 { transient, .. } => *transient,
            SweepError::Auth { .. } => self.throttled().is_some(),
            _ => false,
        }
    }
}

/// The error of a SELECT: a refusal (`NO`, not a throttling answer) is
/// [`SweepError::Mailbox`], anything else an IMAP error.
pub(crate) fn select_err(
    mailbox: &str,
) -> impl FnOnce(imap::Error) -> SweepError + '_ {
    move |source| {
        let e = imap_err(format!("selecting {mailbox}"))(source);
        match e {
            SweepError::Imap { source: imap::Error::No(message), .. }
                if e.throttled().is_none() =>
            {
                SweepError::Mailbox { mailbox: mailbox.to_string(), message }
            }
            e => e,
        }
    }
}

/// Wraps an IMAP error with what the sweep was doing.
pub(crate) fn imap_err(
    context: impl Into<String>,
) -> impl FnOnce(imap::Error) -> SweepError {
    let context = context.into();
    move |source| SweepError::Imap { context, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_kinds_map_to_exit_classes() {
        let auth = SweepError::Auth { user: "u".into(), message: "no".into() };
        assert_eq!(auth.kind(), ErrorKind::Connection);
        assert_eq!(SweepError::Config("x".into()).kind(), ErrorKind::Config);
        let renumbered =
            SweepError::UidValidityChanged { mailbox: "INBOX".into() };
        assert_eq!(renumbered.kind(), ErrorKind::Connection);
    }

    #[test]
    fn throttling_answers_are_recognised_with_their_suggested_wait() {
        let imap = |m: &str| SweepError::Imap {
            context: "fetching".into(),
            source: imap::Error::Bad(m.into()),
        };
        let ms = imap(
            "Request is throttled. Suggested Backoff Time: 201317 milliseconds",
        );
        assert_eq!(ms.throttled(), Some(Some(Duration::from_millis(201_317))));
        let limit = SweepError::Auth {
            user: "u".into(),
            message:
                "[LIMIT] Maximum number of connections from user+IP exceeded"
                    .into(),
        };
        assert_eq!(limit.throttled(), Some(None));
        assert!(limit.is_transient(), "a throttled login is retried");
        let wrong = SweepError::Auth {
            user: "u".into(),
            message: "[AUTHENTICATIONFAILED] Authentication failed.".into(),
        };
        assert_eq!(wrong.throttled(), None);
        assert!(!wrong.is_transient());
        let pop = SweepError::Pop3 {
            context: "logging in".into(),
            message: "-ERR [IN-USE] Mailbox is locked".into(),
        };
        assert!(pop.throttled().is_some());
        let no = |m: &str| select_err("X")(imap::Error::No(m.into()));
        let missing = no("Mailbox doesn't exist: X");
        assert!(matches!(missing, SweepError::Mailbox { .. }));
        assert!(!missing.is_transient(), "a watcher stops on it");
        let busy = no("User is authenticated but not connected.");
        assert!(busy.is_transient(), "{busy}");
        assert!(
            SweepError::Imap {
                context: "x".into(),
                source: imap::Error::No(
                    "User is authenticated but not connected.".into()
                )
            }
            .throttled()
            .is_some()
        );
    }
}
