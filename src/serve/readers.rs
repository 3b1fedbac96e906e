//! Read-only connections to the ledger for the API's queries, kept for
//! reuse: SQLite readers in WAL mode never wait for the writer, so
//! `GET /v1/addresses`, `POST /v1/check` and the export run beside the
//! commits. Each query takes a connection off the idle list (or opens a
//! new one) and gives it back when done.

use std::path::PathBuf;
use std::sync::Mutex;

use crate::ledger::{Ledger, LedgerError, LedgerOptions};

/// Idle connections kept at most.
const MAX_IDLE: usize = 16;

/// The read-only connections.
pub(crate) struct Readers {
    path: PathBuf,
    opts: LedgerOptions,
    idle: Mutex<Vec<Ledger>>,
}

impl Readers {
    /// Readers of the ledger at `path`.
    pub(crate) fn new(path: PathBuf, opts: &LedgerOptions) -> Readers {
        let opts = LedgerOptions { read_only: true, ..opts.clone() };
        Readers { path, opts, idle: Mutex::new(Vec::new()) }
    }

    /// An idle connection, or a new one.
    pub(crate) fn take(&self) -> Result<Ledger, LedgerError> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match idle {
            Some(l) => Ok(l),
            None => Ledger::open_with(&self.path, &self.opts),
        }
    }

    /// Gives a connection back.
    pub(crate) fn give(&self, l: Ledger) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(l);
        }
    }
}
