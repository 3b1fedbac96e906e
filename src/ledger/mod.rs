//! TEMPORARY stand-in for the ledger (branch `ledger`), with the agreed
//! API only, so that `sweep` compiles and its tests run against a real
//! SQLite file. Deleted when the real ledger is merged from main.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};

use crate::parse::Report;

/// An error of the ledger.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// An SQLite error.
    #[error("ledger: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// The ledger database.
pub struct Ledger {
    conn: Connection,
}

/// How far a mailbox has been swept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The account name.
    pub account: String,
    /// The mailbox name.
    pub mailbox: String,
    /// The mailbox's UIDVALIDITY.
    pub uidvalidity: u32,
    /// The highest UID processed.
    pub last_uid: u32,
}

/// One report to record.
pub struct IngestItem<'a> {
    /// Where the report came from.
    pub source: &'a str,
    /// The parsed report.
    pub report: &'a Report,
}

/// What [`Ledger::ingest`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestSummary {
    /// Reports seen.
    pub reports: usize,
    /// Events recorded for the first time.
    pub new_events: usize,
    /// Events already recorded before.
    pub duplicates: usize,
}

impl Ledger {
    /// Opens (creating when missing) a ledger file.
    pub fn open(path: &Path) -> Result<Ledger, LedgerError> {
        let conn = Connection::open(path)?;
        conn.execute_batch(
            "CREATE TABLE IF NOT EXISTS events (key TEXT PRIMARY KEY, source TEXT);
             CREATE TABLE IF NOT EXISTS checkpoints (account TEXT, mailbox TEXT,
               uidvalidity INTEGER, last_uid INTEGER, PRIMARY KEY (account, mailbox));",
        )?;
        Ok(Ledger { conn })
    }

    /// Records the reports and advances the checkpoint in one transaction.
    pub fn ingest(
        &mut self,
        items: &[IngestItem<'_>],
        checkpoint: Option<&Checkpoint>,
    ) -> Result<IngestSummary, LedgerError> {
        let tx = self.conn.transaction()?;
        let mut s = IngestSummary::default();
        for item in items {
            s.reports += 1;
            let id = item
                .report
                .message_id
                .as_deref()
                .unwrap_or(&item.report.fingerprint);
            for r in &item.report.records {
                let key = format!(
                    "{id}\u{1}{}",
                    r.recipient.as_deref().unwrap_or("")
                );
                let n = tx.execute(
                    "INSERT OR IGNORE INTO events (key, source) VALUES (?1, ?2)",
                    params![key, item.source],
                )?;
                if n == 1 {
                    s.new_events += 1;
                } else {
                    s.duplicates += 1;
                }
            }
        }
        if let Some(c) = checkpoint {
            tx.execute(
                "INSERT OR REPLACE INTO checkpoints VALUES (?1, ?2, ?3, ?4)",
                params![c.account, c.mailbox, c.uidvalidity, c.last_uid],
            )?;
        }
        tx.commit()?;
        Ok(s)
    }

    /// The checkpoint of a mailbox.
    pub fn checkpoint(
        &self,
        account: &str,
        mailbox: &str,
    ) -> Result<Option<Checkpoint>, LedgerError> {
        Ok(self
            .conn
            .query_row(
                "SELECT uidvalidity, last_uid FROM checkpoints
                 WHERE account = ?1 AND mailbox = ?2",
                params![account, mailbox],
                |r| {
                    Ok(Checkpoint {
                        account: account.to_string(),
                        mailbox: mailbox.to_string(),
                        uidvalidity: r.get(0)?,
                        last_uid: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }
}
