//! The SQLite ledger: every event ever recorded, and for each address the
//! truth of whether it may still be mailed.
//!
//! The schema is `schema.sql` at the crate root, embedded and migrated
//! forward on [`Ledger::open`]. The file runs in WAL mode with
//! `synchronous=NORMAL`: every batch is one transaction, so a process killed
//! mid-ingest loses nothing committed, and the idempotency keys make a
//! re-run record nothing twice. Errors name the file and say what is wrong
//! (locked, read-only, full, corrupt); nothing here panics.
//!
//! Concerns, one module each: `open` (opening a ledger), `identity`
//! (a ledger or another program's SQLite file), `migrate` (the schema
//! migrations), `error` ([`LedgerError`]), [`ingest`] (recording
//! reports and webhook events), [`mailbox`] (what sweeps remember of the
//! mailboxes they read), `key` (event identity and the duplicate
//! check), `batch` (the batch writer: events in, address states updated in
//! memory and written once), `addresses` (address rows and their event
//! chains), [`state`] (the address state machine), [`history`] (one address's
//! history, manual suppress / unsuppress), [`sends`] (what was sent),
//! [`logs`] (MTA log read positions and the messages logs name),
//! [`export`] (suppression lists for sending platforms), [`check`] (the
//! pre-send verdict on many addresses), [`stats`] (rates and
//! distributions), [`webhook`] (sending-platform events).

mod addresses;
mod batch;
pub mod check;
mod error;
pub mod export;
pub mod history;
mod identity;
pub mod ingest;
mod key;
pub mod logs;
pub mod mailbox;
mod migrate;
mod open;
pub mod sends;
pub mod state;
pub mod stats;
pub mod webhook;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension};

use error::ledger_error;

pub use error::LedgerError;
pub use identity::APPLICATION_ID;
pub use ingest::{IngestItem, IngestSummary};
pub use mailbox::{Pop3State, Swept};
pub use migrate::schema_version;
pub use open::LedgerOptions;
pub use state::{AddressState, Policy, State, SuppressionReason};

/// How far an IMAP mailbox has been swept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The account (user@host).
    pub account: String,
    /// The mailbox name.
    pub mailbox: String,
    /// The mailbox's UIDVALIDITY when `last_uid` was read.
    pub uidvalidity: u32,
    /// The highest UID recorded.
    pub last_uid: u32,
}

/// An open ledger.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
    busy_timeout: Duration,
    policy: Policy,
    /// The ledger holds events recorded before keys were indexed by day
    /// (migration 4): a new event's duplicate check looks them up too.
    legacy_keys: bool,
    /// Address rows committed by this connection's last ingest batch.
    known: ingest::Known,
}

impl Ledger {
    /// The ledger file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The soft-bounce escalation policy in force.
    pub fn policy(&self) -> Policy {
        self.policy
    }

    fn load_policy(&self) -> rusqlite::Result<Policy> {
        let get = |k: &str| -> rusqlite::Result<Option<i64>> {
            let v: Option<String> = self
                .conn
                .query_row(
                    "SELECT value FROM settings WHERE key = ?1",
                    [k],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(v.and_then(|v| v.parse().ok()))
        };
        let d = Policy::default();
        Ok(Policy {
            soft_attempts: get("soft_attempts")?
                .and_then(|v| u32::try_from(v).ok())
                .unwrap_or(d.soft_attempts),
            soft_span_secs: get("soft_span_secs")?.unwrap_or(d.soft_span_secs),
        })
    }

    /// Stores a new escalation policy and, when it differs from the one in
    /// force, recomputes every address under it (one transaction).
    pub fn set_policy(&mut self, policy: Policy) -> Result<(), LedgerError> {
        if policy == self.policy {
            return Ok(());
        }
        self.write(|tx| {
            for (k, v) in [
                ("soft_attempts", i64::from(policy.soft_attempts)),
                ("soft_span_secs", policy.soft_span_secs),
            ] {
                tx.execute(
                    "INSERT INTO settings (key, value) VALUES (?1, ?2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    rusqlite::params![k, v.to_string()],
                )?;
            }
            let addresses: Vec<addresses::Stored> = tx
                .prepare(&format!(
                    "SELECT {} FROM addresses",
                    addresses::STATE_COLUMNS
                ))?
                .query_map([], addresses::state_of)?
                .collect::<rusqlite::Result<_>>()?;
            for row in &addresses {
                addresses::recompute(tx, row, row, &policy)?;
            }
            Ok(())
        })?;
        self.policy = policy;
        Ok(())
    }

    /// The checkpoint of an IMAP mailbox, if it was ever swept.
    pub fn checkpoint(
        &self,
        account: &str,
        mailbox: &str,
    ) -> Result<Option<Checkpoint>, LedgerError> {
        self.conn
            .query_row(
                "SELECT uidvalidity, last_uid FROM checkpoints
                 WHERE account = ?1 AND mailbox = ?2",
                [account, mailbox],
                |r| {
                    Ok(Checkpoint {
                        account: account.to_string(),
                        mailbox: mailbox.to_string(),
                        uidvalidity: r.get(0)?,
                        last_uid: r.get(1)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.error(e))
    }

    /// Runs `f` in one write transaction (taken at once, so it waits for
    /// the lock rather than failing half-way), committing on success.
    fn write<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T, LedgerError> {
        // Whatever this write changes, the address rows an ingest batch
        // remembered may no longer be what the ledger holds.
        self.known = ingest::Known::default();
        let (path, busy) = (self.path.clone(), self.busy_timeout);
        let tx = self
            .conn
            .transaction_with_behavior(
                rusqlite::TransactionBehavior::Immediate,
            )
            .map_err(|e| ledger_error(&path, busy, e))?;
        let out = f(&tx).map_err(|e| ledger_error(&path, busy, e))?;
        tx.commit().map_err(|e| ledger_error(&path, busy, e))?;
        Ok(out)
    }

    /// Turns an SQLite error into a [`LedgerError`] naming the file.
    fn error(&self, e: rusqlite::Error) -> LedgerError {
        ledger_error(&self.path, self.busy_timeout, e)
    }

    /// The connection, for the read-only queries of the submodules.
    fn conn(&self) -> &Connection {
        &self.conn
    }
}

/// Lower-cases an address and trims it (the ledger's key).
pub fn normalise_address(a: &str) -> String {
    a.trim().trim_start_matches('<').trim_end_matches('>').to_lowercase()
}

/// The domain of an address (after the last `@`), or "".
pub fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}

#[cfg(test)]
mod tests {
    //! Helpers for the tests of the ledger's modules.

    use super::Ledger;
    use crate::model::{Action, EventType, Record};
    use crate::pipeline::Report;

    /// A report of one soft bounce of `rcpt`, Message-ID `<s{n}@...>`,
    /// `after` seconds past 2024-01-01.
    pub(crate) fn soft_report(rcpt: &str, n: i64, after: i64) -> Report {
        Report {
            message_id: Some(format!("<s{n}@mx.example.net>")),
            records: vec![Record {
                recipient: Some(rcpt.into()),
                kind: Some(EventType::Bounce),
                action: Some(Action::Retry),
                event_time: Some(crate::time::format_rfc3339(
                    1_704_067_200 + after,
                )),
                ..Record::default()
            }],
            ..Report::default()
        }
    }

    /// The rows of `addresses`.
    pub(crate) fn address_rows(l: &Ledger) -> i64 {
        l.conn
            .query_row("SELECT count(*) FROM addresses", [], |r| r.get(0))
            .unwrap()
    }
}
