//! `rebound watch`: a long-running sweeper, as a library component that a
//! service can run ([`Watcher::run`] with a [`Shutdown`] to stop it and
//! [`Watcher::counters`] to export its figures).
//!
//! Every IMAP mailbox of every account gets its own worker thread and
//! sessions (accounts and mailboxes run concurrently): it catches up (the
//! sweep of [`super::sweep`], including messages recorded but not yet
//! moved), then waits with IDLE (RFC 2177) on the session that moves, and
//! sweeps as soon as the server reports a change. The IDLE command is
//! renewed every [`WatchSettings::idle_interval`] (at most 29 minutes, as
//! RFC 2177 asks), and the fetch session gets a NOOP then so that the
//! server does not log it out for inactivity. A server without IDLE is
//! polled every [`WatchSettings::poll_interval`]; so is every POP3
//! account (one session per poll).
//!
//! A change reported while a sweep runs is not lost: a sweep that found
//! messages is followed by another, and before IDLE starts the session's
//! queued untagged responses are checked for `EXISTS` (Dovecot, like the
//! RFC, also reports mail that arrived before IDLE right after it starts).
//!
//! Errors that pass with time (a lost connection, a restarted server, a
//! throttling answer) make the worker reconnect with capped exponential
//! backoff and jitter (`backoff.rs`), never shorter than a
//! throttling server's suggestion. The observer hears of the first
//! failure of a series and of the recovery, not of every retry. Errors
//! that do not pass (refused credentials, an untrusted certificate, a
//! revoked OAuth2 grant, the ledger) stop every worker and are returned.
//!
//! [`Shutdown::trigger`] (SIGTERM/SIGINT in the binary) lets each worker
//! finish the batch in hand: its commit, and the moves of what was
//! committed; an IDLE wait is cut at once (its socket is shut down). The
//! sweep's rules hold throughout: the same per-account lock (a `rebound
//! sweep` of a watched account exits 4), the same checkpoints, and the
//! same crash behaviour (a killed watcher loses nothing and counts
//! nothing twice).

use std::net::{Shutdown as SocketShutdown, TcpStream};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use imap::extensions::idle::WaitOutcome;

use super::config::{AccountSettings, Protocol, WatchConfig};
use super::connect::Connector;
use super::error::imap_err;
use super::mailbox::{Sweeper, drain};
use super::{
    MessageFate, Observer, Options, SweepError, SweepTotals, backoff, lock,
    open_ledger, pop3,
};
use crate::ledger::Ledger;
use crate::pipeline::Parser;
use crate::time;

/// The longest IDLE before it is renewed (RFC 2177 §3: 29 minutes).
pub const MAX_IDLE_INTERVAL: Duration = Duration::from_secs(29 * 60);

/// How a watcher waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WatchSettings {
    /// Polling interval of servers without IDLE and of POP3 accounts.
    pub poll_interval: Duration,
    /// An IDLE command is renewed after this long.
    pub idle_interval: Duration,
    /// The longest wait between two reconnection attempts.
    pub max_backoff: Duration,
}

impl Default for WatchSettings {
    fn default() -> Self {
        WatchSettings {
            poll_interval: Duration::from_secs(60),
            idle_interval: Duration::from_secs(10 * 60),
            max_backoff: Duration::from_secs(5 * 60),
        }
    }
}

impl WatchSettings {
    /// The settings of a `[watch]` table (seconds), checked.
    pub fn from_config(c: &WatchConfig) -> Result<Self, SweepError> {
        let d = WatchSettings::default();
        let secs = |v: Option<u64>, default: Duration, key: &str| match v {
            Some(0) => Err(SweepError::Config(format!(
                "watch.{key} must be at least 1 second"
            ))),
            Some(s) => Ok(Duration::from_secs(s)),
            None => Ok(default),
        };
        let s = WatchSettings {
            poll_interval: secs(
                c.poll_interval,
                d.poll_interval,
                "poll_interval",
            )?,
            idle_interval: secs(
                c.idle_interval,
                d.idle_interval,
                "idle_interval",
            )?,
            max_backoff: secs(c.max_backoff, d.max_backoff, "max_backoff")?,
        };
        if s.idle_interval > MAX_IDLE_INTERVAL {
            return Err(SweepError::Config(format!(
                "watch.idle_interval is at most {} seconds (RFC 2177: renew IDLE within 29 minutes)",
                MAX_IDLE_INTERVAL.as_secs()
            )));
        }
        Ok(s)
    }
}

/// Tells a running [`Watcher`] to stop: each worker finishes the batch in
/// hand, commits it and returns; IDLE waits are cut at once.
#[derive(Debug, Default)]
pub struct Shutdown {
    flag: AtomicBool,
    state: Mutex<Waiting>,
    wake: Condvar,
}

/// The connections waiting in IDLE, by key.
#[derive(Debug, Default)]
struct Waiting {
    next: u64,
    idle: Vec<(u64, TcpStream)>,
}

impl Shutdown {
    /// A shutdown not yet triggered.
    pub fn new() -> Shutdown {
        Shutdown::default()
    }

    /// Stops the watcher (idempotent; callable from any thread).
    pub fn trigger(&self) {
        self.flag.store(true, Ordering::SeqCst);
        let state = self.lock();
        for (_, tcp) in &state.idle {
            let _ = tcp.shutdown(SocketShutdown::Both);
        }
        self.wake.notify_all();
    }

    /// Whether [`Shutdown::trigger`] was called.
    pub fn is_triggered(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sleeps up to `d`; true when the shutdown came (at once or meanwhile).
    fn sleep(&self, d: Duration) -> bool {
        let state = self.lock();
        let _unused = self
            .wake
            .wait_timeout_while(state, d, |_| !self.is_triggered())
            .unwrap_or_else(|p| p.into_inner());
        self.is_triggered()
    }

    /// Registers a connection about to wait in IDLE, so that a shutdown
    /// cuts it; None when the shutdown already came.
    fn guard(&self, tcp: &TcpStream) -> Option<IdleGuard<'_>> {
        let clone = tcp.try_clone().ok()?;
        let mut state = self.lock();
        if self.is_triggered() {
            return None;
        }
        state.next += 1;
        let key = state.next;
        state.idle.push((key, clone));
        Some(IdleGuard { shutdown: self, key })
    }
}

/// A registration of [`Shutdown::guard`]; dropped when IDLE ends.
struct IdleGuard<'a> {
    shutdown: &'a Shutdown,
    key: u64,
}

impl Drop for IdleGuard<'_> {
    fn drop(&mut self) {
        self.shutdown.lock().idle.retain(|(k, _)| *k != self.key);
    }
}

/// A watcher's figures so far, for logs and `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct WatchCounters {
    /// Mailboxes (and POP3 accounts) watched.
    pub mailboxes: u64,
    /// Of those, how many have a session up now.
    pub connected: u64,
    /// Sweeps run (one per mailbox and wake-up).
    pub sweeps: u64,
    /// Messages fetched and parsed.
    pub messages: u64,
    /// Reports recorded.
    pub reports: u64,
    /// Events new to the ledger.
    pub new_events: u64,
    /// Events the ledger already had.
    pub duplicates: u64,
    /// Messages put in quarantine.
    pub quarantined: u64,
    /// Ordinary messages left in place.
    pub left: u64,
    /// Connections lost (series of failed attempts).
    pub disconnects: u64,
    /// When the last batch was committed (Unix seconds; 0: never).
    pub last_commit: i64,
}

/// The live counters behind [`WatchCounters`].
#[derive(Debug, Default)]
struct Stats {
    mailboxes: AtomicU64,
    connected: AtomicU64,
    sweeps: AtomicU64,
    messages: AtomicU64,
    reports: AtomicU64,
    new_events: AtomicU64,
    duplicates: AtomicU64,
    quarantined: AtomicU64,
    left: AtomicU64,
    disconnects: AtomicU64,
    last_commit: AtomicI64,
}

impl Stats {
    fn add(&self, s: &SweepTotals) {
        let add = |c: &AtomicU64, n: usize| {
            c.fetch_add(n as u64, Ordering::Relaxed);
        };
        add(&self.sweeps, 1);
        add(&self.messages, s.messages);
        add(&self.reports, s.reports);
        add(&self.new_events, s.new_events);
        add(&self.duplicates, s.duplicates);
        add(&self.quarantined, s.quarantined);
        add(&self.left, s.left);
    }
}

/// A long-running sweeper over several accounts.
pub struct Watcher {
    accounts: Vec<AccountSettings>,
    opts: Options,
    settings: WatchSettings,
    parser: Parser,
    stats: Stats,
}

impl Watcher {
    /// A watcher of `accounts` (checked settings), recording into the
    /// ledger of `opts` (`opts.limit`: stop after that many messages).
    pub fn new(
        accounts: Vec<AccountSettings>,
        opts: Options,
        settings: WatchSettings,
        parser: Parser,
    ) -> Watcher {
        Watcher { accounts, opts, settings, parser, stats: Stats::default() }
    }

    /// The figures so far (callable while [`Watcher::run`] runs).
    pub fn counters(&self) -> WatchCounters {
        let s = &self.stats;
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        WatchCounters {
            mailboxes: get(&s.mailboxes),
            connected: get(&s.connected),
            sweeps: get(&s.sweeps),
            messages: get(&s.messages),
            reports: get(&s.reports),
            new_events: get(&s.new_events),
            duplicates: get(&s.duplicates),
            quarantined: get(&s.quarantined),
            left: get(&s.left),
            disconnects: get(&s.disconnects),
            last_commit: s.last_commit.load(Ordering::Relaxed),
        }
    }

    /// Watches until `shutdown` is triggered (or `opts.limit` messages
    /// were handled), then returns the totals; or returns the first error
    /// that does not pass with time, after stopping every worker. Takes
    /// every account's sweep lock first ([`SweepError::Locked`] when a
    /// sweep or another watcher holds one).
    pub fn run(
        &self,
        shutdown: &Shutdown,
        observer: &Mutex<dyn Observer + Send + '_>,
    ) -> Result<SweepTotals, SweepError> {
        let _locks = self
            .accounts
            .iter()
            .map(|a| lock::acquire(&self.opts.db, &a.name))
            .collect::<Result<Vec<_>, _>>()?;
        // Create or migrate the ledger once, before the workers race to.
        drop(open_ledger(&self.opts)?);
        // One TLS configuration per account, shared by its sessions.
        let connectors = self
            .accounts
            .iter()
            .map(Connector::new)
            .collect::<Result<Vec<_>, _>>()?;
        let failure: Mutex<Option<SweepError>> = Mutex::new(None);
        let totals: Mutex<SweepTotals> = Mutex::new(SweepTotals::default());
        std::thread::scope(|scope| {
            for connector in &connectors {
                let account = connector.account();
                let mailboxes: Vec<Option<&str>> = match account.protocol {
                    Protocol::Imap => account
                        .mailboxes
                        .iter()
                        .map(|m| Some(m.as_str()))
                        .collect(),
                    Protocol::Pop3 => vec![None],
                };
                for mailbox in mailboxes {
                    self.stats.mailboxes.fetch_add(1, Ordering::Relaxed);
                    let (failure, totals) = (&failure, &totals);
                    scope.spawn(move || {
                        let mut worker = Worker {
                            watcher: self,
                            connector,
                            account,
                            mailbox,
                            shutdown,
                            observer: Shared { observer, stats: &self.stats },
                            totals: SweepTotals::default(),
                            failures: 0,
                            down_since: None,
                        };
                        if let Err(e) = worker.run() {
                            failure
                                .lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .get_or_insert(e);
                            shutdown.trigger();
                        }
                        *totals.lock().unwrap_or_else(|p| p.into_inner()) +=
                            worker.totals;
                    });
                }
            }
        });
        match failure.into_inner().unwrap_or_else(|p| p.into_inner()) {
            Some(e) => Err(e),
            None => Ok(totals.into_inner().unwrap_or_else(|p| p.into_inner())),
        }
    }

    /// What is left of `opts.limit`; at 0 the watcher stops.
    fn budget(&self) -> Option<usize> {
        let done = self.stats.messages.load(Ordering::Relaxed) as usize;
        self.opts.limit.map(|l| l.saturating_sub(done))
    }
}

/// The observer shared by the workers, and the counters it feeds.
struct Shared<'a, 'o> {
    observer: &'a Mutex<dyn Observer + Send + 'o>,
    stats: &'a Stats,
}

impl Shared<'_, '_> {
    fn with<T>(&self, f: impl FnOnce(&mut dyn Observer) -> T) -> T {
        let mut o = self.observer.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut *o)
    }
}

impl Observer for Shared<'_, '_> {
    fn mailbox(&mut self, account: &str, mailbox: &str, messages: usize) {
        self.with(|o| o.mailbox(account, mailbox, messages));
    }
    fn message(&mut self, fate: &MessageFate<'_>) {
        self.with(|o| o.message(fate));
    }
    fn committed(&mut self, ledger: &Ledger, new_events: &[i64]) {
        self.stats.last_commit.store(time::now(), Ordering::Relaxed);
        self.with(|o| o.committed(ledger, new_events));
    }
    fn retrying(
        &mut self,
        account: &str,
        mailbox: Option<&str>,
        error: &SweepError,
        wait: Duration,
    ) {
        self.with(|o| o.retrying(account, mailbox, error, wait));
    }
    fn recovered(
        &mut self,
        account: &str,
        mailbox: Option<&str>,
        attempts: u32,
        down: Duration,
    ) {
        self.with(|o| o.recovered(account, mailbox, attempts, down));
    }
    fn watching(&mut self, account: &str, mailbox: &str, idle: bool) {
        self.with(|o| o.watching(account, mailbox, idle));
    }
}

/// One mailbox (or POP3 account) being watched.
struct Worker<'w, 'o> {
    watcher: &'w Watcher,
    /// The account's TLS configuration.
    connector: &'w Connector<'w>,
    account: &'w AccountSettings,
    /// None for a POP3 account.
    mailbox: Option<&'w str>,
    shutdown: &'w Shutdown,
    observer: Shared<'w, 'o>,
    totals: SweepTotals,
    /// Failed attempts since the last connection.
    failures: u32,
    down_since: Option<Instant>,
}

impl Worker<'_, '_> {
    /// Connects and watches, reconnecting after errors that pass with
    /// time, until the shutdown; returns an error that does not pass.
    fn run(&mut self) -> Result<(), SweepError> {
        let settings = self.watcher.settings;
        let mut announced = false;
        while !self.shutdown.is_triggered() {
            let result = match self.mailbox {
                Some(m) => self.watch_imap(m, &mut announced),
                None => self.poll_pop3(&mut announced),
            };
            let e = match result {
                Ok(()) => return Ok(()),
                Err(_) if self.shutdown.is_triggered() => return Ok(()),
                Err(e) if !e.is_transient() => return Err(e),
                Err(e) => e,
            };
            self.failures += 1;
            let wait = backoff::delay(
                self.failures,
                settings.max_backoff,
                e.throttled().flatten(),
            );
            if self.failures == 1 {
                self.down_since = Some(Instant::now());
                self.watcher.stats.disconnects.fetch_add(1, Ordering::Relaxed);
                self.observer.retrying(
                    &self.account.name,
                    self.mailbox,
                    &e,
                    wait,
                );
            }
            if self.shutdown.sleep(wait) {
                return Ok(());
            }
        }
        Ok(())
    }

    /// A connection is up: report the recovery of a failed series.
    fn connected(&mut self) {
        if let Some(since) = self.down_since.take() {
            self.observer.recovered(
                &self.account.name,
                self.mailbox,
                self.failures,
                since.elapsed(),
            );
        }
        self.failures = 0;
    }

    /// Adds a sweep's figures; true when the message limit is reached.
    fn count(&mut self, s: &SweepTotals) -> bool {
        self.totals += *s;
        self.watcher.stats.add(s);
        let done = self.watcher.budget() == Some(0);
        if done {
            self.shutdown.trigger();
        }
        done
    }

    /// One IMAP connection's life: catch up, then IDLE (or poll) and
    /// sweep, until the shutdown or an error.
    fn watch_imap(
        &mut self,
        mailbox: &str,
        announced: &mut bool,
    ) -> Result<(), SweepError> {
        let watcher = self.watcher;
        let (account, shutdown) = (self.account, self.shutdown);
        let mut observer = Shared { ..self.observer };
        let mut s = Sweeper::open(
            self.connector,
            &watcher.opts,
            &watcher.parser,
            &mut observer,
        )?;
        s.stop = Some(&shutdown.flag);
        let _up = Connected::new(&watcher.stats);
        self.connected();
        if !*announced {
            s.observer.watching(&account.name, mailbox, s.has_idle);
            *announced = true;
        }
        let mut catch_up = true;
        loop {
            // Sweep until a sweep finds nothing and no new mail was
            // reported meanwhile.
            loop {
                drain(&mut s.session);
                let s_totals =
                    s.mailbox(mailbox, watcher.budget(), catch_up)?;
                catch_up = false;
                if self.count(&s_totals) || shutdown.is_triggered() {
                    s.logout();
                    return Ok(());
                }
                if s_totals.messages == 0 && !new_mail_noted(&mut s) {
                    break;
                }
            }
            if !s.has_idle {
                if shutdown.sleep(watcher.settings.poll_interval) {
                    break;
                }
                continue;
            }
            let Some(guard) = shutdown.guard(&s.interrupt) else { break };
            let interval = watcher.settings.idle_interval;
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
                s.session.idle()?.wait_with_timeout(interval)
            }))
            .unwrap_or_else(|_| {
                Err(imap::Error::Bad("the server refused IDLE".into()))
            })
            .map_err(imap_err(format!(
                "waiting for new mail in {mailbox} (IDLE)"
            )))?;
            drop(guard);
            if shutdown.is_triggered() {
                break;
            }
            if outcome == WaitOutcome::TimedOut {
                // Renewal: keep the fetch session alive too.
                if let Some(r) = &mut s.reader {
                    r.noop().map_err(imap_err(
                        "keeping the fetch session alive",
                    ))?;
                    drain(r);
                }
            }
        }
        s.logout();
        Ok(())
    }

    /// A POP3 account: one session per poll.
    fn poll_pop3(&mut self, announced: &mut bool) -> Result<(), SweepError> {
        let watcher = self.watcher;
        loop {
            let mut observer = Shared { ..self.observer };
            let s = pop3::sweep(
                self.account,
                &Options { limit: watcher.budget(), ..watcher.opts.clone() },
                &watcher.parser,
                &mut observer,
                Some(&self.shutdown.flag),
            )?;
            self.connected();
            if !*announced {
                self.observer.watching(&self.account.name, "INBOX", false);
                *announced = true;
            }
            if self.count(&s)
                || self.shutdown.sleep(watcher.settings.poll_interval)
            {
                return Ok(());
            }
        }
    }
}

/// Whether the session's queued untagged responses report new mail
/// (EXISTS or RECENT) since they were last drained.
fn new_mail_noted(s: &mut Sweeper<'_>) -> bool {
    let mut noted = false;
    while let Ok(r) = s.session.unsolicited_responses.try_recv() {
        noted |= matches!(
            r,
            imap::types::UnsolicitedResponse::Exists(_)
                | imap::types::UnsolicitedResponse::Recent(_)
        );
    }
    noted
}

/// Counts a connection up while it lives.
struct Connected<'a>(&'a Stats);

impl<'a> Connected<'a> {
    fn new(stats: &'a Stats) -> Self {
        stats.connected.fetch_add(1, Ordering::Relaxed);
        Connected(stats)
    }
}

impl Drop for Connected<'_> {
    fn drop(&mut self) {
        self.0.connected.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_default_and_are_checked() {
        let s = WatchSettings::from_config(&WatchConfig::default()).unwrap();
        assert_eq!(s, WatchSettings::default());
        let c = WatchConfig {
            idle_interval: Some(30 * 60),
            ..WatchConfig::default()
        };
        assert!(WatchSettings::from_config(&c).is_err(), "over 29 minutes");
        let c =
            WatchConfig { poll_interval: Some(0), ..WatchConfig::default() };
        assert!(WatchSettings::from_config(&c).is_err());
    }

    #[test]
    fn a_shutdown_wakes_sleepers_and_cuts_idle_connections() {
        let sd = Shutdown::new();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client =
            TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let _server = listener.accept().unwrap();
        let guard = sd.guard(&client).unwrap();
        std::thread::scope(|s| {
            let sleeper = s.spawn(|| sd.sleep(Duration::from_secs(60)));
            std::thread::sleep(Duration::from_millis(50));
            let t = Instant::now();
            sd.trigger();
            assert!(sleeper.join().unwrap());
            assert!(t.elapsed() < Duration::from_secs(5));
        });
        use std::io::Read;
        let mut buf = [0u8; 1];
        assert_eq!(client.read(&mut buf).unwrap_or(0), 0, "the read ends");
        drop(guard);
        assert!(sd.guard(&client).is_none(), "no IDLE after the shutdown");
    }
}
