//! Recording events: reports (from files, IMAP sweeps or webhook events)
//! go in batches, one transaction per batch, and the states of the
//! addresses they touch are brought up to date in the same transaction.
//!
//! Each record is keyed for idempotency (`key.rs`: a report recorded
//! again is a counted duplicate that changes nothing) and written by the
//! batch writer (`batch.rs`), which updates the address states in memory
//! and writes them once at the end of the batch. The address rows a batch
//! committed are remembered for the next one (`Known`).

use foldhash::{HashMap, HashMapExt};

use super::addresses::Stored;
use super::batch::Batch;
use super::key::{Key, is_recorded, key_day, key_with};
use super::mailbox::write_checkpoint;
use super::{Checkpoint, Ledger, LedgerError, Policy};
use crate::pipeline::Report;
use crate::time;

pub use super::key::event_key;

/// One report to record and where it came from.
#[derive(Debug, Clone, Copy)]
pub struct IngestItem<'a> {
    /// Its source (path, `path#N`, `imap:account/mailbox/uid`, ...).
    pub source: &'a str,
    /// The parsed report.
    pub report: &'a Report,
}

/// What a batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestSummary {
    /// Reports looked at.
    pub reports: usize,
    /// Events recorded for the first time.
    pub new_events: usize,
    /// Events already in the ledger (re-ingest, later sweep).
    pub duplicates: usize,
}

impl IngestSummary {
    /// Adds another batch's figures.
    pub fn add(&mut self, o: IngestSummary) {
        self.reports += o.reports;
        self.new_events += o.new_events;
        self.duplicates += o.duplicates;
    }

    /// The figures of several items together.
    pub fn total(each: impl IntoIterator<Item = IngestSummary>) -> Self {
        let mut sum = IngestSummary::default();
        each.into_iter().for_each(|s| sum.add(s));
        sum
    }
}

impl Ledger {
    /// Records the reports and (if given) advances the IMAP checkpoint, all
    /// in ONE transaction: either everything is recorded or nothing is.
    pub fn ingest(
        &mut self,
        items: &[IngestItem<'_>],
        checkpoint: Option<&Checkpoint>,
    ) -> Result<IngestSummary, LedgerError> {
        Ok(self.ingest_returning_new(items, checkpoint)?.0)
    }

    /// Like [`Ledger::ingest`], and also returns the row ids of the events
    /// recorded for the first time, in the order recorded (what
    /// `--notify` posts once the transaction is committed).
    pub fn ingest_returning_new(
        &mut self,
        items: &[IngestItem<'_>],
        checkpoint: Option<&Checkpoint>,
    ) -> Result<(IngestSummary, Vec<i64>), LedgerError> {
        let now = time::now();
        let (each, new) =
            self.ingest_with(items, now, |tx| match checkpoint {
                Some(cp) => write_checkpoint(tx, cp, now),
                None => Ok(()),
            })?;
        Ok((IngestSummary::total(each), new))
    }

    /// Like [`Ledger::ingest`] (one transaction), returning what was done
    /// with each item: `rebound serve` commits many requests together and
    /// answers each with its own figures.
    pub fn ingest_each(
        &mut self,
        items: &[IngestItem<'_>],
    ) -> Result<Vec<IngestSummary>, LedgerError> {
        Ok(self.ingest_with(items, time::now(), |_| Ok(()))?.0)
    }

    /// Records the reports in one transaction, after `before` has written
    /// what goes with them (a checkpoint, a log position, the messages a
    /// log names) in the same transaction; returns each item's figures and
    /// the row ids of the new events in the order recorded.
    pub(crate) fn ingest_with(
        &mut self,
        items: &[IngestItem<'_>],
        now: i64,
        before: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<()>,
    ) -> Result<(Vec<IngestSummary>, Vec<i64>), LedgerError> {
        let (policy, legacy, raw_keys) =
            (self.policy, self.legacy_keys, self.raw_keys);
        // The rows known from earlier batches; `write` leaves
        // `self.known` empty, and it gets them back only when this batch
        // commits.
        let mut known = std::mem::take(&mut self.known);
        let (each, new, known) = self.write(move |tx| {
            known.refresh(tx)?;
            before(tx)?;
            let (each, new) =
                known.record(tx, policy, (legacy, raw_keys), items, now)?;
            Ok((each, new, known))
        })?;
        self.known = known;
        Ok((each, new))
    }
}

/// At most this many address rows are kept between batches (a few hundred
/// bytes each); past it the next batch starts afresh.
const KNOWN_MAX: usize = 2_000_000;

/// The address rows as this connection last committed them, so that the
/// next batch need not read them again. Valid only while no other
/// connection has written: `PRAGMA data_version` (which changes with
/// every other connection's commit, never with this one's) is checked
/// under the write lock at the start of each batch. Any other write
/// through this connection forgets them ([`Ledger::write`]).
#[derive(Debug, Default)]
pub(crate) struct Known {
    /// `data_version` when the rows were committed.
    version: Option<i64>,
    /// Address → row.
    rows: HashMap<String, Stored>,
}

impl Known {
    /// Forgets the rows when another connection wrote since they were
    /// committed, or when they are too many; to be called under the write
    /// lock, at the start of a transaction.
    pub(crate) fn refresh(
        &mut self,
        tx: &rusqlite::Connection,
    ) -> rusqlite::Result<()> {
        if self.rows.len() > KNOWN_MAX {
            self.rows = HashMap::new();
        }
        let version: i64 =
            tx.query_row("PRAGMA data_version", [], |r| r.get(0))?;
        if self.version != Some(version) {
            // Another connection wrote since: what we knew may be stale.
            self.rows.clear();
        }
        self.version = Some(version);
        Ok(())
    }

    /// Records the reports through `tx` (a connection in a write
    /// transaction) as one batch, starting from the known rows and
    /// keeping the rows it wrote; returns each item's figures and the row
    /// ids of the new events in the order recorded.
    pub(crate) fn record(
        &mut self,
        tx: &rusqlite::Connection,
        policy: Policy,
        (legacy, raw_keys): (bool, bool),
        items: &[IngestItem<'_>],
        now: i64,
    ) -> rusqlite::Result<(Vec<IngestSummary>, Vec<i64>)> {
        let mut batch = Batch::new(tx, policy);
        batch.known = std::mem::take(&mut self.rows);
        let mut each = Vec::with_capacity(items.len());
        let mut new = Vec::new();
        for item in items {
            let mut sum = IngestSummary { reports: 1, ..Default::default() };
            let day = key_day(item.report.date);
            for rec in &item.report.records {
                let key =
                    Key { key: event_key(item.report, rec), day, legacy };
                // Recorded by an older rebound under the key of its bytes
                // as read then (see key.rs)?
                if raw_keys
                    && item.report.raw_fingerprints.iter().try_fold(
                        false,
                        |found, f| -> rusqlite::Result<bool> {
                            let key = Key { key: key_with(f, rec), ..key };
                            Ok(found || is_recorded(tx, &key)?)
                        },
                    )?
                {
                    sum.duplicates += 1;
                    continue;
                }
                let msg_id = item.report.message_id.as_deref();
                match batch.record(&key, rec, msg_id, item.source, now)? {
                    Some(id) => {
                        sum.new_events += 1;
                        new.push(id);
                    }
                    None => sum.duplicates += 1,
                }
            }
            each.push(sum);
        }
        self.rows = batch.finish()?;
        Ok((each, new))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::tests::soft_report;
    use crate::ledger::{State, SuppressionReason};

    /// An ingest batch starts from the address rows the last one
    /// committed, unless someone else wrote in between: another connection
    /// (another process) or another kind of write on this one.
    #[test]
    fn remembered_address_rows_never_hide_another_writer() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.db");
        let mut a = Ledger::open(&p).unwrap();
        let mut b = Ledger::open(&p).unwrap();
        let ingest = |l: &mut Ledger, n: i64| {
            let r = soft_report("x@example.org", n, n * 60);
            l.ingest(&[IngestItem { source: "t", report: &r }], None).unwrap();
        };
        ingest(&mut a, 1);
        // Another connection records a bounce and suppresses by hand.
        ingest(&mut b, 2);
        assert!(b.suppress("x@example.org", "by hand").unwrap());
        ingest(&mut a, 3);
        let st = a.status("x@example.org").unwrap();
        let s = st.state.unwrap();
        assert_eq!(s.counts.soft, 3);
        assert_eq!(s.state, State::Suppressed);
        assert_eq!(s.reason, Some(SuppressionReason::Manual));
        assert_eq!(st.history.len(), 4);
        // This connection lifts it, then ingests again.
        assert!(a.unsuppress("x@example.org", "by hand").unwrap());
        ingest(&mut a, 4);
        let st = b.status("x@example.org").unwrap();
        let s = st.state.unwrap();
        assert_eq!((s.counts.soft, s.state), (4, State::Active));
        assert_eq!(st.history.len(), 6);
    }
}
