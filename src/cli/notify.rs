//! `--notify URL`, shared by `rebound ingest` and `rebound sweep`: starts
//! a [`Notifier`] spooling to `<db>.notify-failed.jsonl`, forwards the
//! events each committed batch recorded for the first time, and at the end
//! waits a bounded time and prints what was delivered.

use std::path::Path;
use std::time::Duration;

use clap::Args;
use rebound::ledger::Ledger;
use rebound::notify::{self, Notifier};

/// The notification flags.
#[derive(Debug, Args, Clone)]
pub struct NotifyArgs {
    /// POST every newly recorded event as JSON (the webhook shape) to this
    /// http(s) URL, after the ledger commit; undelivered events are
    /// appended to `<db>.notify-failed.jsonl`.
    #[arg(long, value_name = "URL")]
    pub notify: Option<String>,
    /// At the end, wait at most this many seconds for notifications still
    /// queued (what is left is spooled).
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub notify_wait: u64,
}

/// A running notifier and how long to wait for it at the end.
#[derive(Debug)]
pub struct Notify {
    notifier: Option<Notifier>,
    wait: Duration,
    spool: String,
}

impl NotifyArgs {
    /// Starts the notifier when `--notify` is given.
    pub fn start(&self, db: &Path) -> anyhow::Result<Option<Notify>> {
        let Some(url) = &self.notify else { return Ok(None) };
        let mut spool = db.as_os_str().to_os_string();
        spool.push(".notify-failed.jsonl");
        let opts = notify::Options {
            spool: Some(spool.clone().into()),
            ..notify::Options::default()
        };
        let notifier = Notifier::start(
            url,
            opts,
            Box::new(|e| eprintln!("rebound: notify: {e}")),
        )?;
        Ok(Some(Notify {
            notifier: Some(notifier),
            wait: Duration::from_secs(self.notify_wait),
            spool: Path::new(&spool).display().to_string(),
        }))
    }
}

impl Notify {
    /// Queues the events with these ids (just committed). The ledger
    /// write is done: a failure to read them back is reported, not fatal.
    pub fn forward(&self, ledger: &Ledger, ids: &[i64]) {
        if ids.is_empty() {
            return;
        }
        match ledger.webhook_events(ids) {
            Ok(events) => {
                if let Some(n) = &self.notifier {
                    n.send(events);
                }
            }
            Err(e) => eprintln!(
                "rebound: notify: cannot read back {} new events: {e}",
                ids.len()
            ),
        }
    }

    /// Waits for the queue and prints the summary line (also done when
    /// dropped, so an error half-way still spools what is queued).
    pub fn finish(self) {
        drop(self);
    }
}

impl Drop for Notify {
    fn drop(&mut self) {
        let Some(n) = self.notifier.take() else { return };
        let s = n.finish(self.wait);
        let mut line = format!(
            "rebound: notify: {} of {} new events delivered ({} retries)",
            s.delivered, s.queued, s.retries
        );
        if s.failed > 0 {
            line += &format!(
                ", {} failed ({} written to {})",
                s.failed, s.spooled, self.spool
            );
        }
        eprintln!("{line}");
    }
}
