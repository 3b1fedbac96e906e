//! The errors that end a sweep, and their broad kinds, which decide the
//! exit code of `rebound sweep`.

use std::path::PathBuf;

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
            | SweepError::UidValidityChanged { .. } => ErrorKind::Connection,
            SweepError::Locked { .. } => ErrorKind::Locked,
            SweepError::Io { .. } | SweepError::Ledger(_) => ErrorKind::Other,
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
}
