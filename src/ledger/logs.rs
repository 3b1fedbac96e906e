//! What the ledger keeps of MTA logs besides their events (`rebound
//! ingest --log`, `crate::logs`): the read position of each log file,
//! and the messages the logs name.
//!
//! The position (device, inode, offset, a hash of the first line, and
//! the reader's state of the messages still queued) is written in the
//! same transaction as the events read up to it ([`Ledger::log_commit`]):
//! a run killed between two commits resumes at the last commit, and
//! the events after it, read again, are recorded once. A reader records
//! its events in pieces ([`Ledger::log_record`]) into one long
//! transaction, committed with the position every so many events or
//! seconds: large transactions write each page they change once, and
//! memory holds one piece at a time.
//!
//! A log's message (its Message-ID, first recipient and arrival) is kept
//! in `log_messages`, written before the events of the same batch: a
//! bounce message whose returned copy names that Message-ID is tied to
//! the send as to an imported one (`batch.rs`), and a bounce the log and
//! a bounce message both report for the same recipient and message is
//! recorded once, whichever comes first.

use rusqlite::{OptionalExtension, params};

use super::ingest::Known;
use super::sends::normalise_message_id;
use super::{IngestItem, IngestSummary, Ledger, LedgerError};
use crate::time;

/// How far a log file has been read.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogPosition {
    /// The file (as given, made absolute).
    pub path: String,
    /// Its format (`postfix`, ...).
    pub format: String,
    /// Device of the file read.
    pub device: u64,
    /// Inode of the file read.
    pub inode: u64,
    /// Bytes read (up to the end of the last complete line).
    pub offset: u64,
    /// Lines read.
    pub line: u64,
    /// Hash of the file's first line (`None` before it is complete).
    pub first_line: Option<Vec<u8>>,
    /// The reader's state at `offset` (messages still queued).
    pub state: Vec<u8>,
}

/// A message an MTA log names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogMessage {
    /// Its Message-ID (angle brackets optional).
    pub message_id: String,
    /// A recipient.
    pub recipient: String,
    /// When the MTA took it in (Unix seconds).
    pub sent_at: i64,
}

impl Ledger {
    /// The stored position of a log file.
    pub fn log_position(
        &self,
        path: &str,
    ) -> Result<Option<LogPosition>, LedgerError> {
        self.conn()
            .query_row(
                "SELECT format, device, inode, offset, line, first_line,
                   state
                 FROM log_positions WHERE path = ?1",
                [path],
                |r| {
                    Ok(LogPosition {
                        path: path.to_string(),
                        format: r.get(0)?,
                        device: r.get::<_, i64>(1)? as u64,
                        inode: r.get::<_, i64>(2)? as u64,
                        offset: r.get::<_, i64>(3)? as u64,
                        line: r.get::<_, i64>(4)? as u64,
                        first_line: r.get(5)?,
                        state: r
                            .get::<_, Option<Vec<u8>>>(6)?
                            .unwrap_or_default(),
                    })
                },
            )
            .optional()
            .map_err(|e| self.error(e))
    }

    /// Records events read from a log and the messages it named in the
    /// log transaction, opened here when none is open (the write lock is
    /// then held until [`Ledger::log_commit`]); returns the summary and
    /// the row ids of the new events. The messages are written before the
    /// events, so that each event finds its send. On an error the
    /// transaction is rolled back: nothing since the last commit is kept.
    pub fn log_record(
        &mut self,
        items: &[IngestItem<'_>],
        messages: &[LogMessage],
    ) -> Result<(IngestSummary, Vec<i64>), LedgerError> {
        let done = self.log_begin().and_then(|()| {
            let keys = (self.legacy_keys, self.raw_keys);
            let policy = self.policy;
            let now = time::now();
            let conn = &self.conn;
            let mut st = conn.prepare_cached(
                "INSERT INTO log_messages (message_id, recipient, sent_at)
                 VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            )?;
            for m in messages {
                let id = normalise_message_id(&m.message_id);
                if !id.is_empty() {
                    st.execute(params![id, m.recipient, m.sent_at])?;
                }
            }
            self.known.record(conn, policy, keys, items, now)
        });
        match done {
            Ok((each, new)) => Ok((IngestSummary::total(each), new)),
            Err(e) => Err(self.log_abort(e)),
        }
    }

    /// Writes the position read up to (if given) in the log transaction
    /// and commits it with every event and message recorded since the
    /// last commit (a transaction holding only the position when none is
    /// open).
    pub fn log_commit(
        &mut self,
        position: Option<&LogPosition>,
    ) -> Result<(), LedgerError> {
        let done = self.log_begin().and_then(|()| {
            if let Some(p) = position {
                self.conn.prepare_cached(
                    "INSERT INTO log_positions (path, format, device, inode,
                       offset, line, first_line, state, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                     ON CONFLICT (path) DO UPDATE SET
                       format = excluded.format, device = excluded.device,
                       inode = excluded.inode, offset = excluded.offset,
                       line = excluded.line,
                       first_line = excluded.first_line,
                       state = excluded.state,
                       updated_at = excluded.updated_at",
                )?
                .execute(params![
                    p.path,
                    p.format,
                    p.device as i64,
                    p.inode as i64,
                    p.offset as i64,
                    p.line as i64,
                    p.first_line,
                    p.state,
                    time::now()
                ])?;
            }
            self.conn.execute_batch("COMMIT")
        });
        done.map_err(|e| self.log_abort(e))
    }

    /// Rolls back the log transaction, if one is open: what was recorded
    /// since the last [`Ledger::log_commit`] is dropped.
    pub fn log_rollback(&mut self) {
        if !self.conn.is_autocommit() {
            // Failing here leaves nothing to undo: SQLite rolls back an
            // open transaction when the connection closes.
            let _ = self.conn.execute_batch("ROLLBACK");
            // What the batches remembered may not be what the ledger
            // holds.
            self.known = Known::default();
        }
    }

    /// Opens the log transaction unless it is open (taking the write lock
    /// at once, as [`Ledger::write`] does).
    fn log_begin(&mut self) -> rusqlite::Result<()> {
        if self.conn.is_autocommit() {
            self.conn.execute_batch("BEGIN IMMEDIATE")?;
            self.known.refresh(&self.conn)?;
        }
        Ok(())
    }

    /// Rolls back after `e` and turns it into a [`LedgerError`].
    fn log_abort(&mut self, e: rusqlite::Error) -> LedgerError {
        self.log_rollback();
        self.error(e)
    }
}
