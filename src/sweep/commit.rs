//! The commit stage of the sweep pipeline, on the calling thread: reports
//! each parsed message to the [`Observer`], records a batch's reports and
//! the mailbox checkpoint in one ledger transaction, and only then hands
//! the batch's messages to the move stage.

use std::sync::mpsc::{Receiver, Sender};

use super::config::AccountSettings;
use super::error::SweepError;
use super::parse::ParsedBatch;
use super::{CRASH_AFTER_COMMIT_ENV, MessageFate, Observer, SweepTotals};
use crate::ledger::{Checkpoint, IngestItem, Ledger};
use crate::pipeline::Report;

/// The committed messages of one batch, for the move stage.
#[derive(Default)]
pub(crate) struct Committed {
    /// Recorded messages (UID order).
    pub(crate) done: Vec<u32>,
    /// Messages for the quarantine folder (UID order).
    pub(crate) quarantined: Vec<u32>,
}

impl Committed {
    /// How many messages there are.
    pub(crate) fn len(&self) -> usize {
        self.done.len() + self.quarantined.len()
    }

    /// Adds the messages of a later batch.
    pub(crate) fn extend(&mut self, more: Committed) {
        self.done.extend(more.done);
        self.quarantined.extend(more.quarantined);
    }
}

/// The third stage, on the calling thread: reports progress, commits each
/// batch with the checkpoint, then hands its messages to the move stage.
pub(crate) struct Recorder<'a> {
    pub(crate) account: &'a AccountSettings,
    pub(crate) mailbox: &'a str,
    pub(crate) uidvalidity: u32,
    /// The checkpoint so far.
    pub(crate) last: u32,
    pub(crate) observer: &'a mut dyn Observer,
    /// None in a dry run.
    pub(crate) ledger: Option<&'a mut Ledger>,
    /// None in a dry run.
    pub(crate) moves: Option<Sender<Committed>>,
}

impl Recorder<'_> {
    /// Records every batch the parse stage sends; stops early when the
    /// move stage has failed (it holds the error).
    pub(crate) fn run(
        &mut self,
        input: Receiver<ParsedBatch>,
    ) -> Result<SweepTotals, SweepError> {
        let mut summary = SweepTotals::default();
        for batch in input {
            let (s, committed) = self.record(batch)?;
            summary += s;
            let sent = match (&self.moves, committed) {
                (Some(moves), Some(c)) => moves.send(c).is_ok(),
                _ => true,
            };
            if !sent {
                break;
            }
        }
        Ok(summary)
    }

    fn record(
        &mut self,
        batch: ParsedBatch,
    ) -> Result<(SweepTotals, Option<Committed>), SweepError> {
        let account = &self.account.name;
        let mailbox = self.mailbox;
        let mut summary = SweepTotals {
            messages: batch.parsed.len(),
            ..SweepTotals::default()
        };
        let mut recorded: Vec<(u32, String, Report)> = Vec::new();
        let mut quarantined: Vec<u32> = Vec::new();
        for p in batch.parsed {
            let source = format!("imap:{account}/{mailbox}/{}", p.uid);
            summary.truncated += usize::from(p.truncated);
            let (subject, reason) = match p.result {
                Ok(mut report) if !report.records.is_empty() => {
                    for r in &mut report.records {
                        r.file = Some(source.clone());
                    }
                    self.observer.message(&MessageFate::Recorded {
                        source: &source,
                        report: &report,
                        truncated: p.truncated,
                    });
                    summary.reports += 1;
                    summary.records += report.records.len();
                    recorded.push((p.uid, source, report));
                    continue;
                }
                Ok(report) => (
                    report.subject,
                    "not a bounce (no detector recognised it)".to_string(),
                ),
                Err(e) => (None, format!("cannot parse: {e}")),
            };
            self.observer.message(&MessageFate::Quarantined {
                source: &source,
                subject: subject.as_deref(),
                reason: &reason,
            });
            quarantined.push(p.uid);
        }
        summary.quarantined = quarantined.len();
        let Some(ledger) = &mut self.ledger else {
            return Ok((summary, None)); // a dry run
        };
        self.last = self.last.max(batch.last_uid);
        let items: Vec<IngestItem<'_>> = recorded
            .iter()
            .map(|(_, source, report)| IngestItem { source, report })
            .collect();
        let checkpoint = Checkpoint {
            account: account.clone(),
            mailbox: mailbox.to_string(),
            uidvalidity: self.uidvalidity,
            last_uid: self.last,
        };
        let (ingested, new) =
            ledger.ingest_returning_new(&items, Some(&checkpoint))?;
        self.observer.committed(ledger, &new);
        summary.new_events = ingested.new_events;
        summary.duplicates = ingested.duplicates;
        crash_hook();
        let done = recorded.iter().map(|r| r.0).collect();
        Ok((summary, Some(Committed { done, quarantined })))
    }
}

/// See [`CRASH_AFTER_COMMIT_ENV`].
fn crash_hook() {
    if std::env::var_os(CRASH_AFTER_COMMIT_ENV).is_some() {
        eprintln!(
            "rebound: {CRASH_AFTER_COMMIT_ENV} is set: aborting after the ledger commit"
        );
        std::process::abort();
    }
}
