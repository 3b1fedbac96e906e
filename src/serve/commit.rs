//! The writer: one thread owns the ledger's write connection and records
//! what the requests hand it, many requests per transaction (group
//! commit). A request is answered only once the transaction holding its
//! events is committed, so every acknowledged event is in the ledger; a
//! request whose transaction failed is answered with an error and the
//! provider sends it again.
//!
//! The writer takes every job waiting, then waits up to the commit delay
//! (a few milliseconds) for more while the batch is small, and commits
//! them in one transaction ([`Ledger::ingest_each`]); while it commits,
//! new jobs queue up for the next one. Manual suppress / unsuppress jobs
//! run in order between the batches. The queue is bounded: when the
//! ledger falls behind, requests wait for room (and time out).
//!
//! When the service stops, the queue is closed: the writer commits what
//! is queued and exits.

use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};

use crate::ledger::{IngestItem, IngestSummary, Ledger};
use crate::pipeline::Report;

use super::metrics::Metrics;
use std::sync::Arc;

/// A batch stops taking jobs past this many events.
const MAX_BATCH_EVENTS: usize = 50_000;

/// Jobs waiting at most.
const QUEUE: usize = 4096;

/// Work for the writer.
enum Job {
    /// Record reports; answered with each one's figures.
    Ingest {
        reports: Vec<(String, Report)>,
        reply: oneshot::Sender<Result<Vec<IngestSummary>, String>>,
    },
    /// Suppress or unsuppress an address by hand; answered with whether
    /// anything changed.
    Manual {
        address: String,
        suppress: bool,
        note: String,
        reply: oneshot::Sender<Result<bool, String>>,
    },
}

impl Job {
    fn events(&self) -> usize {
        match self {
            Job::Ingest { reports, .. } => {
                reports.iter().map(|(_, r)| r.records.len()).sum()
            }
            Job::Manual { .. } => 1,
        }
    }
}

/// The writer could not do the job.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CommitError {
    /// The ledger refused the transaction (locked, full, ...).
    #[error("{0}")]
    Ledger(String),
    /// The writer has stopped (the service is shutting down).
    #[error("the service is shutting down")]
    Closed,
}

/// The way to the writer; cheap to clone.
#[derive(Clone)]
pub(crate) struct Queue {
    tx: mpsc::Sender<Job>,
}

impl Queue {
    /// Whether the writer still takes jobs.
    pub(crate) fn is_running(&self) -> bool {
        !self.tx.is_closed()
    }

    /// Records reports (source, report) and returns each one's figures,
    /// once they are committed.
    pub(crate) async fn ingest(
        &self,
        reports: Vec<(String, Report)>,
    ) -> Result<Vec<IngestSummary>, CommitError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job::Ingest { reports, reply })
            .await
            .map_err(|_| CommitError::Closed)?;
        answer
            .await
            .map_err(|_| CommitError::Closed)?
            .map_err(CommitError::Ledger)
    }

    /// Suppresses (or unsuppresses) an address with an audit note; false
    /// when it already was (was not) suppressed.
    pub(crate) async fn manual(
        &self,
        address: String,
        suppress: bool,
        note: String,
    ) -> Result<bool, CommitError> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Job::Manual { address, suppress, note, reply })
            .await
            .map_err(|_| CommitError::Closed)?;
        answer
            .await
            .map_err(|_| CommitError::Closed)?
            .map_err(CommitError::Ledger)
    }
}

/// Starts the writer on its own thread; it runs until every [`Queue`] is
/// dropped, then commits what is left and returns.
pub(crate) fn start(
    ledger: Ledger,
    delay: Duration,
    metrics: Arc<Metrics>,
) -> std::io::Result<(Queue, JoinHandle<()>)> {
    let (tx, rx) = mpsc::channel(QUEUE);
    let thread = std::thread::Builder::new()
        .name("rebound-writer".into())
        .spawn(move || run(ledger, rx, delay, &metrics))?;
    Ok((Queue { tx }, thread))
}

fn run(
    mut ledger: Ledger,
    mut rx: mpsc::Receiver<Job>,
    delay: Duration,
    metrics: &Metrics,
) {
    // A small runtime of its own, to wait for more jobs with a timeout.
    let Ok(rt) =
        tokio::runtime::Builder::new_current_thread().enable_time().build()
    else {
        eprintln!("rebound: serve: cannot start the writer's timer");
        return;
    };
    while let Some(first) = rx.blocking_recv() {
        let mut events = first.events();
        let mut jobs = vec![first];
        let deadline = Instant::now() + delay;
        while events < MAX_BATCH_EVENTS {
            let job = match rx.try_recv() {
                Ok(job) => job,
                Err(mpsc::error::TryRecvError::Disconnected) => break,
                Err(mpsc::error::TryRecvError::Empty) => {
                    let left =
                        deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    let next =
                        async { tokio::time::timeout(left, rx.recv()).await };
                    match rt.block_on(next) {
                        Ok(Some(job)) => job,
                        Ok(None) | Err(_) => break,
                    }
                }
            };
            events += job.events();
            jobs.push(job);
        }
        commit(&mut ledger, jobs, metrics);
    }
}

/// Runs the jobs in order: consecutive ingest jobs in one transaction.
fn commit(ledger: &mut Ledger, jobs: Vec<Job>, metrics: &Metrics) {
    let mut batch = Vec::new();
    for job in jobs {
        match job {
            Job::Ingest { reports, reply } => batch.push((reports, reply)),
            Job::Manual { address, suppress, note, reply } => {
                ingest(ledger, std::mem::take(&mut batch), metrics);
                let done = match suppress {
                    true => ledger.suppress(&address, &note),
                    false => ledger.unsuppress(&address, &note),
                };
                let _ = reply.send(done.map_err(|e| e.to_string()));
            }
        }
    }
    ingest(ledger, batch, metrics);
}

type Reply = oneshot::Sender<Result<Vec<IngestSummary>, String>>;

/// Records the reports of many requests in one transaction and answers
/// each request with its own figures.
fn ingest(
    ledger: &mut Ledger,
    batch: Vec<(Vec<(String, Report)>, Reply)>,
    metrics: &Metrics,
) {
    if batch.is_empty() {
        return;
    }
    let items: Vec<IngestItem<'_>> = batch
        .iter()
        .flat_map(|(reports, _)| reports.iter())
        .map(|(source, report)| IngestItem { source, report })
        .collect();
    let events = items.iter().map(|i| i.report.records.len()).sum();
    let start = Instant::now();
    let result = ledger.ingest_each(&items);
    metrics.commit(start.elapsed().as_secs_f64(), events, result.is_ok());
    match result {
        Ok(each) => {
            let mut each = each.into_iter();
            for (reports, reply) in batch {
                let mine: Vec<IngestSummary> =
                    each.by_ref().take(reports.len()).collect();
                let _ = reply.send(Ok(mine));
            }
        }
        Err(e) => {
            eprintln!("rebound: serve: commit of {events} events failed: {e}");
            for (_, reply) in batch {
                let _ = reply.send(Err(e.to_string()));
            }
        }
    }
}
