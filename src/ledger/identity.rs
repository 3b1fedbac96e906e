//! Telling a rebound ledger from any other SQLite file, before anything
//! (WAL mode, migrations) touches it.
//!
//! A ledger carries rebound's application id ([`APPLICATION_ID`], the
//! ASCII bytes `RBND`) in the SQLite file header (`PRAGMA
//! application_id`). It is set when the ledger is created, and on the
//! first writing open of a ledger written by a rebound older than the id,
//! recognised by its tables. A database that is neither empty nor such a
//! ledger is another program's, and is refused whatever the command.

use std::collections::BTreeSet;

use super::{Ledger, LedgerError};

/// rebound's SQLite application id, `PRAGMA application_id` of every
/// ledger: the ASCII bytes "RBND" (0x52424E44).
pub const APPLICATION_ID: i32 = 0x5242_4E44;

/// Tables every rebound ledger has held since migration 1.
const LEDGER_TABLES: &[&str] =
    &["addresses", "checkpoints", "events", "sends", "settings"];

/// What an opened SQLite file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Identity {
    /// No schema at all: a new (or empty) file.
    Empty,
    /// A ledger with rebound's application id.
    Ledger,
    /// A ledger written before the application id existed.
    Unstamped,
}

impl Ledger {
    /// Reads the file header and the schema. Reading them first also turns
    /// "not a database" into an error here rather than in the middle of a
    /// command.
    pub(crate) fn identify(&self) -> Result<Identity, LedgerError> {
        let c = &self.conn;
        let read = || -> rusqlite::Result<(i32, i64, BTreeSet<String>)> {
            let id = c.query_row("PRAGMA application_id", [], |r| r.get(0))?;
            let version =
                c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            let tables = c
                .prepare(
                    "SELECT name FROM sqlite_master WHERE type = 'table'
                       AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
                )?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            Ok((id, version, tables))
        };
        let (id, version, tables) = read().map_err(|e| self.error(e))?;
        if id == APPLICATION_ID {
            return Ok(Identity::Ledger);
        }
        if id == 0 && version == 0 && tables.is_empty() {
            return Ok(Identity::Empty);
        }
        if id == 0
            && version > 0
            && LEDGER_TABLES.iter().all(|t| tables.contains(*t))
        {
            return Ok(Identity::Unstamped);
        }
        let mut what = if id == 0 {
            "an SQLite database of another program".to_string()
        } else {
            format!(
                "an SQLite database of another program (application id {id:#010x})"
            )
        };
        if !tables.is_empty() {
            let names: Vec<&str> =
                tables.iter().take(8).map(String::as_str).collect();
            let more = if tables.len() > 8 { ", ..." } else { "" };
            what.push_str(&format!(
                " holding the tables {}{more}",
                names.join(", ")
            ));
        }
        Err(LedgerError::NotALedger { path: self.path.clone(), what })
    }
}
