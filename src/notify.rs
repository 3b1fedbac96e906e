//! Posting new ledger events to an HTTP endpoint (`--notify URL` on
//! `rebound ingest` and `rebound sweep`).
//!
//! The ledger comes first: events are handed to a [`Notifier`] only after
//! the transaction that recorded them is committed, and handing them over
//! never blocks. A background thread takes them from a bounded queue and
//! POSTs each one as a JSON object in the webhook shape
//! ([`WebhookEvent`]: `event, email, status, reason, type, provider,
//! campaign_id, timestamp, ip, domain`), retrying connection errors, 5xx
//! and 429 answers with exponential backoff (by default 5 tries, waiting
//! 0.5 s, 1 s, 2 s, 4 s, at most 8 s). At the end of the command
//! [`Notifier::finish`] waits a bounded time for the queue to drain.
//!
//! Nothing is silently lost: an event that could not be delivered (retries
//! exhausted, a 4xx answer, the queue full, or still waiting when the time
//! is up) is counted, reported through the [`Reporter`], and appended to the
//! spool file (by the CLI `<db>.notify-failed.jsonl`), one JSON object per
//! line in the same shape. Delivery is at least once: an event whose POST
//! was still under way when the time ran out is spooled too, and may also
//! have arrived.

use std::collections::VecDeque;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub use crate::ledger::webhook::WebhookEvent;

/// A notification that could not be delivered (or a bad setting).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// The URL is not an http:// or https:// URL.
    #[error("{0:?} is not an http:// or https:// URL")]
    Url(String),
    /// The TLS library could not be set up.
    #[error("cannot set up TLS: {0}")]
    Tls(String),
    /// The endpoint answered with an error status.
    #[error("POST {url} answered HTTP {status}")]
    Status {
        /// The endpoint.
        url: String,
        /// The HTTP status.
        status: u16,
    },
    /// The request failed (connection refused, timeout, DNS, ...).
    #[error("POST failed: {message}")]
    Transport {
        /// The endpoint.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The queue was full: the event went straight to the spool.
    #[error("the notification queue is full ({0} events waiting)")]
    QueueFull(usize),
    /// The time to drain the queue ran out with events still waiting.
    #[error(
        "gave up waiting for the notification queue ({left} events left{})",
        last.as_deref().map(|l| format!("; last failure: {l}")).unwrap_or_default()
    )]
    TimedOut {
        /// Events not delivered.
        left: usize,
        /// The last failed attempt, if any.
        last: Option<String>,
    },
    /// Undelivered events could not be written to the spool.
    #[error("{}: cannot write undelivered notifications: {source}", path.display())]
    Spool {
        /// The spool file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// How to deliver.
#[derive(Debug, Clone)]
pub struct Options {
    /// Attempts per event (at least 1).
    pub tries: u32,
    /// The wait before the first retry; it doubles after each failure.
    pub first_backoff: Duration,
    /// The longest wait between two tries.
    pub max_backoff: Duration,
    /// Events waiting at most; more go straight to the spool.
    pub queue: usize,
    /// Time limit of one request (connect included).
    pub timeout: Duration,
    /// Where undelivered events are appended (`None`: only reported).
    pub spool: Option<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            tries: 5,
            first_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
            queue: 10_000,
            timeout: Duration::from_secs(10),
            spool: None,
        }
    }
}

/// What the notifier did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryTotals {
    /// Events handed over.
    pub queued: usize,
    /// Events the endpoint accepted (2xx).
    pub delivered: usize,
    /// Events not delivered (each is in the spool unless writing it failed).
    pub failed: usize,
    /// Of them, events written to the spool.
    pub spooled: usize,
    /// Retries made.
    pub retries: usize,
}

/// Called (from any thread) with each failure.
pub type Reporter = Box<dyn Fn(&NotifyError) + Send + Sync>;

struct State {
    queue: VecDeque<WebhookEvent>,
    in_flight: Option<WebhookEvent>,
    closed: bool,
    abandoned: bool,
    /// The last failed attempt (retried or not).
    last_failure: Option<String>,
    summary: DeliveryTotals,
}

struct Shared {
    state: Mutex<State>,
    cv: Condvar,
    url: String,
    agent: ureq::Agent,
    opts: Options,
    report: Reporter,
}

/// Delivers events on a background thread; see the module doc.
pub struct Notifier {
    shared: Arc<Shared>,
    worker: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier").field("url", &self.shared.url).finish()
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends events to the spool and counts them as failed.
    fn give_up(&self, s: &mut State, events: &[WebhookEvent]) {
        s.summary.failed += events.len();
        let Some(path) = &self.opts.spool else { return };
        if events.is_empty() {
            return;
        }
        let written = (|| -> std::io::Result<()> {
            let mut f =
                OpenOptions::new().create(true).append(true).open(path)?;
            let mut buf = Vec::new();
            for e in events {
                serde_json::to_writer(&mut buf, e)?;
                buf.push(b'\n');
            }
            f.write_all(&buf)?;
            f.flush()
        })();
        match written {
            Ok(()) => s.summary.spooled += events.len(),
            Err(source) => (self.report)(&NotifyError::Spool {
                path: path.clone(),
                source,
            }),
        }
    }

    /// Waits `d` unless the run is abandoned first; true when abandoned.
    fn pause(&self, d: Duration) -> bool {
        let end = Instant::now() + d;
        let mut s = self.lock();
        while !s.abandoned {
            let now = Instant::now();
            if now >= end {
                return false;
            }
            s = self
                .cv
                .wait_timeout(s, end - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        true
    }

    /// One POST.
    fn post(&self, body: &str) -> Result<(), (NotifyError, bool)> {
        let res = self
            .agent
            .post(&self.url)
            .set("Content-Type", "application/json")
            .send_string(body);
        match res {
            Ok(_) => Ok(()),
            Err(ureq::Error::Status(status, _)) => {
                let retry = status == 429 || status >= 500;
                Err((
                    NotifyError::Status { url: self.url.clone(), status },
                    retry,
                ))
            }
            Err(ureq::Error::Transport(t)) => Err((
                NotifyError::Transport {
                    url: self.url.clone(),
                    message: t.to_string(),
                },
                true,
            )),
        }
    }

    /// Posts one event with retries.
    fn deliver(&self, e: &WebhookEvent) -> Result<(), NotifyError> {
        let body = serde_json::to_string(e).unwrap_or_default();
        let mut backoff = self.opts.first_backoff;
        let mut attempt = 1;
        loop {
            match self.post(&body) {
                Ok(()) => return Ok(()),
                Err((err, retry)) => {
                    if !retry || attempt >= self.opts.tries.max(1) {
                        return Err(err);
                    }
                    self.lock().last_failure = Some(err.to_string());
                }
            }
            if self.pause(backoff) {
                return Err(NotifyError::TimedOut { left: 1, last: None });
            }
            self.lock().summary.retries += 1;
            backoff = (backoff * 2).min(self.opts.max_backoff);
            attempt += 1;
        }
    }

    fn work(&self) {
        loop {
            let event = {
                let mut s = self.lock();
                loop {
                    if s.abandoned {
                        return;
                    }
                    if let Some(e) = s.queue.pop_front() {
                        s.in_flight = Some(e.clone());
                        break e;
                    }
                    if s.closed {
                        return;
                    }
                    s = self.cv.wait(s).unwrap_or_else(|p| p.into_inner());
                }
            };
            let result = self.deliver(&event);
            let mut s = self.lock();
            // Taken by `finish` when the time ran out: already spooled.
            if s.in_flight.take().is_none() {
                return;
            }
            match result {
                Ok(()) => s.summary.delivered += 1,
                Err(e) => {
                    (self.report)(&e);
                    self.give_up(&mut s, &[event]);
                }
            }
            drop(s);
            self.cv.notify_all();
        }
    }
}

impl Notifier {
    /// Starts the background thread posting to `url`.
    pub fn start(
        url: &str,
        opts: Options,
        report: Reporter,
    ) -> Result<Notifier, NotifyError> {
        let lower = url.to_ascii_lowercase();
        let host = lower
            .strip_prefix("http://")
            .or_else(|| lower.strip_prefix("https://"));
        if host.is_none_or(|h| h.is_empty() || h.starts_with('/')) {
            return Err(NotifyError::Url(url.to_string()));
        }
        let tls = native_tls::TlsConnector::new()
            .map_err(|e| NotifyError::Tls(e.to_string()))?;
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(opts.timeout.min(Duration::from_secs(5)))
            .timeout(opts.timeout)
            .tls_connector(Arc::new(tls))
            .build();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queue: VecDeque::new(),
                in_flight: None,
                closed: false,
                abandoned: false,
                last_failure: None,
                summary: DeliveryTotals::default(),
            }),
            cv: Condvar::new(),
            url: url.to_string(),
            agent,
            opts,
            report,
        });
        let worker = {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name("rebound-notify".into())
                .spawn(move || shared.work())
                .map_err(|e| NotifyError::Transport {
                    url: url.to_string(),
                    message: format!("cannot start the notifier: {e}"),
                })?
        };
        Ok(Notifier { shared, worker: Some(worker) })
    }

    /// Hands events over without blocking (a full queue spools them).
    pub fn send(&self, events: impl IntoIterator<Item = WebhookEvent>) {
        let sh = &self.shared;
        let mut s = sh.lock();
        let mut overflow = Vec::new();
        for e in events {
            s.summary.queued += 1;
            if s.queue.len() >= sh.opts.queue {
                overflow.push(e);
            } else {
                s.queue.push_back(e);
            }
        }
        if !overflow.is_empty() {
            (sh.report)(&NotifyError::QueueFull(s.queue.len()));
            sh.give_up(&mut s, &overflow);
        }
        drop(s);
        sh.cv.notify_all();
    }

    /// Closes the queue and waits at most `wait` for it to drain; what is
    /// still waiting then is spooled. Returns the counts.
    pub fn finish(mut self, wait: Duration) -> DeliveryTotals {
        let sh = Arc::clone(&self.shared);
        let end = Instant::now() + wait;
        let mut s = sh.lock();
        s.closed = true;
        sh.cv.notify_all();
        while !(s.queue.is_empty() && s.in_flight.is_none()) {
            let now = Instant::now();
            if now >= end {
                break;
            }
            s = sh
                .cv
                .wait_timeout(s, end - now)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        let mut left: Vec<WebhookEvent> =
            s.in_flight.take().into_iter().collect();
        left.extend(s.queue.drain(..));
        if !left.is_empty() {
            s.abandoned = true;
            (sh.report)(&NotifyError::TimedOut {
                left: left.len(),
                last: s.last_failure.clone(),
            });
            sh.give_up(&mut s, &left);
        }
        let summary = s.summary;
        let abandoned = s.abandoned;
        drop(s);
        sh.cv.notify_all();
        // A worker stuck in a request is left behind; the process ends.
        if let Some(w) = self.worker.take().filter(|_| !abandoned) {
            let _ = w.join();
        }
        summary
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_http_urls_are_accepted() {
        let quiet = || -> Reporter { Box::new(|_| {}) };
        assert!(matches!(
            Notifier::start("ftp://example.com/", Options::default(), quiet()),
            Err(NotifyError::Url(_))
        ));
        assert!(matches!(
            Notifier::start("http://", Options::default(), quiet()),
            Err(NotifyError::Url(_))
        ));
        let n = Notifier::start(
            "http://192.0.2.1/hook",
            Options::default(),
            quiet(),
        )
        .unwrap();
        assert_eq!(n.finish(Duration::ZERO), DeliveryTotals::default());
    }
}
