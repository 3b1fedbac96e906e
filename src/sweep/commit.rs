//! The commit stage of the sweep pipeline, on the calling thread: reports
//! each parsed message to the [`Observer`], records a batch's reports and
//! the mailbox checkpoint (and the ordinary mail a shared inbox keeps) in
//! one ledger transaction, and only then hands the batch's messages to the
//! move stage. [`sort_batch`] is shared with the POP3 sweep.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender};

use super::config::{AccountSettings, NonBounces};
use super::error::SweepError;
use super::parse::{Parsed, ParsedBatch};
use super::{CRASH_AFTER_COMMIT_ENV, MessageFate, Observer, SweepTotals};
use crate::ledger::{Checkpoint, IngestItem, Ledger, Swept};
use crate::pipeline::Report;

/// The committed messages of one batch, for the move stage.
#[derive(Default)]
pub(crate) struct Committed {
    /// Recorded messages (UID order).
    pub(crate) done: Vec<u32>,
    /// Messages for the quarantine folder (UID order).
    pub(crate) quarantined: Vec<u32>,
    /// Ordinary messages left in place that get the non-bounce flag.
    pub(crate) flagged: Vec<u32>,
}

impl Committed {
    /// How many messages there are.
    pub(crate) fn len(&self) -> usize {
        self.done.len() + self.quarantined.len() + self.flagged.len()
    }

    /// Adds the messages of a later batch.
    pub(crate) fn extend(&mut self, more: Committed) {
        self.done.extend(more.done);
        self.quarantined.extend(more.quarantined);
        self.flagged.extend(more.flagged);
    }
}

/// One parsed batch, sorted: the reports to record and the other
/// messages, each told to the observer.
pub(crate) struct Sorted {
    /// (id, source, report) of the messages with records.
    pub(crate) recorded: Vec<(u32, String, Report)>,
    /// Ids of the messages that are not bounces or not parseable.
    pub(crate) others: Vec<u32>,
    /// The batch's figures so far (no ledger figures yet).
    pub(crate) summary: SweepTotals,
}

/// Sorts a parsed batch: messages with records are recorded (their
/// records name `source_of(id)` as their file); the others are
/// quarantined or, with `leave`, left where they are.
pub(crate) fn sort_batch(
    parsed: Vec<Parsed>,
    source_of: impl Fn(u32) -> String,
    leave: bool,
    observer: &mut dyn Observer,
) -> Sorted {
    let mut summary =
        SweepTotals { messages: parsed.len(), ..SweepTotals::default() };
    let mut recorded = Vec::new();
    let mut others = Vec::new();
    for p in parsed {
        let source = source_of(p.uid);
        summary.truncated += usize::from(p.truncated);
        let (subject, reason) = match p.result {
            Ok(mut report) if !report.records.is_empty() => {
                for r in &mut report.records {
                    r.file = Some(source.clone());
                }
                observer.message(&MessageFate::Recorded {
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
        let (source, subject, reason) =
            (source.as_str(), subject.as_deref(), reason.as_str());
        observer.message(&match leave {
            true => MessageFate::Left { source, subject, reason },
            false => MessageFate::Quarantined { source, subject, reason },
        });
        others.push(p.uid);
    }
    match leave {
        true => summary.left = others.len(),
        false => summary.quarantined = others.len(),
    }
    Sorted { recorded, others, summary }
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
    /// Set: stop after the batch in hand.
    pub(crate) stop: Option<&'a AtomicBool>,
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
            let stopping = self.stop.is_some_and(|s| s.load(Ordering::SeqCst));
            if !sent || stopping {
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
        let leave = self.account.non_bounces != NonBounces::Quarantine;
        let Sorted { recorded, others, mut summary } = sort_batch(
            batch.parsed,
            |uid| format!("imap:{account}/{mailbox}/{uid}"),
            leave,
            self.observer,
        );
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
        let left: &[u32] = if leave { &others } else { &[] };
        let (ingested, new) = ledger.ingest_swept(
            &items,
            &Swept::Imap { checkpoint: &checkpoint, left },
        )?;
        self.observer.committed(ledger, &new);
        summary.new_events = ingested.new_events;
        summary.duplicates = ingested.duplicates;
        crash_hook();
        let done = recorded.iter().map(|r| r.0).collect();
        let committed = match self.account.non_bounces {
            NonBounces::Quarantine => {
                Committed { done, quarantined: others, ..Committed::default() }
            }
            NonBounces::Flag => {
                Committed { done, flagged: others, ..Committed::default() }
            }
            NonBounces::Leave => Committed { done, ..Committed::default() },
        };
        Ok((summary, Some(committed)))
    }
}

/// See [`CRASH_AFTER_COMMIT_ENV`].
pub(crate) fn crash_hook() {
    if std::env::var_os(CRASH_AFTER_COMMIT_ENV).is_some() {
        eprintln!(
            "rebound: {CRASH_AFTER_COMMIT_ENV} is set: aborting after the ledger commit"
        );
        std::process::abort();
    }
}
