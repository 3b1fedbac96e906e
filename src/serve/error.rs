//! What can stop `rebound serve` from starting or running: [`ServeError`].
//! Problems of single requests are answered to the client instead
//! (`api::ApiError`, `providers::Refusal`).

use std::net::SocketAddr;

use crate::ledger::LedgerError;

/// A failure of the service as a whole.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// A setting is missing or wrong.
    #[error("configuration: {0}")]
    Config(String),
    /// The address cannot be listened on.
    #[error("cannot listen on {addr}: {reason}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        reason: std::io::Error,
    },
    /// The ledger cannot be opened.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The runtime or the server failed.
    #[error("server: {0}")]
    Io(#[from] std::io::Error),
}
