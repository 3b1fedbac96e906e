//! What the ledger keeps of MTA logs besides their events (`rebound
//! ingest --log`, `crate::logs`): the read position of each log file,
//! and the messages the logs name.
//!
//! The position (device, inode, offset, a hash of the first line, and
//! the reader's state of the messages still queued) is written in the
//! same transaction as the events read up to it ([`Ledger::ingest_log`]):
//! a run killed between two commits resumes at the last commit, and
//! the events after it, read again, are recorded once.
//!
//! A log's message (its Message-ID, first recipient and arrival) is kept
//! in `log_messages`, written before the events of the same batch: a
//! bounce message whose returned copy names that Message-ID is tied to
//! the send as to an imported one (`batch.rs`), and a bounce the log and
//! a bounce message both report for the same recipient and message is
//! recorded once, whichever comes first.

use rusqlite::{OptionalExtension, params};

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

    /// Records the events read from a log, the messages it named and (if
    /// given) the position read up to, all in ONE transaction. Returns
    /// the summary and the row ids of the new events.
    pub fn ingest_log(
        &mut self,
        items: &[IngestItem<'_>],
        messages: &[LogMessage],
        position: Option<&LogPosition>,
    ) -> Result<(IngestSummary, Vec<i64>), LedgerError> {
        let now = time::now();
        let (each, new) = self.ingest_with(items, now, |tx| {
            let mut st = tx.prepare_cached(
                "INSERT INTO log_messages (message_id, recipient, sent_at)
                 VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            )?;
            for m in messages {
                let id = normalise_message_id(&m.message_id);
                if !id.is_empty() {
                    st.execute(params![id, m.recipient, m.sent_at])?;
                }
            }
            if let Some(p) = position {
                tx.execute(
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
                    params![
                        p.path,
                        p.format,
                        p.device as i64,
                        p.inode as i64,
                        p.offset as i64,
                        p.line as i64,
                        p.first_line,
                        p.state,
                        now
                    ],
                )?;
            }
            Ok(())
        })?;
        Ok((IngestSummary::total(each), new))
    }
}
