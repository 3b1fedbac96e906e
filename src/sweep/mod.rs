//! Unattended IMAP mailbox sweeps: fetch new bounce mail, parse it, record
//! it in the ledger, then move (or flag, or delete) what was recorded and
//! put everything else in quarantine.
//!
//! Safety rests on one order of steps per message: fetch (`BODY.PEEK[]`,
//! so nothing is marked seen), parse, record the reports *and* the mailbox
//! checkpoint (UIDVALIDITY + last UID) in one ledger transaction, and only
//! then touch the messages. A crash before the commit loses nothing (the
//! next sweep fetches the batch again); a crash after it leaves recorded
//! messages in the mailbox, which the next sweep fetches again and records
//! as duplicates (the ledger's keys are idempotent) before moving them. A
//! changed UIDVALIDITY makes the checkpoint void: the mailbox is rescanned
//! and the idempotent keys keep the counts right.
//!
//! The steps run as a pipeline of four stages joined by channels: a fetch
//! thread on its own read-only IMAP session reads batch k+2 while a parse
//! thread parses batch k+1 on all cores, while the calling thread commits
//! batch k to the ledger, while a move thread on a second session moves
//! the messages of the batches committed before. The move thread never
//! holds up the others: it waits for [`MOVE_MIN`] committed messages (or
//! the last batch), and whatever was committed meanwhile goes into its
//! next command as one compact UID set (`1:5000`, split only past
//! [`MAX_SET_LEN`]), so a large mailbox moves in a few commands. An
//! error in any stage closes its channels, the other stages stop, and the
//! first error is returned; messages committed before it are still moved.
//!
//! Memory is bounded: UIDs are handled in chunks of [`SIZE_CHUNK`], whose
//! sizes are fetched first and cut into batches of at most
//! [`Options::batch_size`] messages and [`BATCH_BYTES`] bytes; at most three
//! fetched batches exist at once, and the move queue holds only UIDs.
//! Messages over the size cap are read only up to the cap (headers and
//! report parts come before the returned copy of the original).
//!
//! Only one sweep per ledger and account runs at a time ([`lock`]).
//!
//! Around that core: [`watch`] runs sweeps for ever, one IDLE session per
//! mailbox; [`pop3`] sweeps POP3 maildrops (UIDLs in the ledger); a shared
//! inbox leaves ordinary mail where it is (`non_bounces`, remembered in
//! the ledger); folders may be named by SPECIAL-USE attribute and Gmail
//! deletes to its trash (`folders`); [`oauth2`] refreshes access tokens;
//! servers that throttle are waited for (`error`, `backoff`).

mod backoff;
mod commit;
pub mod config;
pub mod connect;
mod error;
mod fetch;
mod folders;
pub mod lock;
mod mailbox;
mod mover;
pub mod oauth2;
mod parse;
pub mod pop3;
mod uidset;
pub mod utf7;
pub mod watch;

use std::path::PathBuf;
use std::time::Duration;

use crate::ledger::{Ledger, LedgerOptions};
use crate::pipeline::{Parser, Report};
use config::{AccountSettings, Protocol};
use mailbox::Sweeper;

pub use config::{AccountConfig, Config, TlsMode};
pub use error::{ErrorKind, SweepError};
pub use uidset::MAX_SET_LEN;

/// UIDs whose sizes are fetched in one command.
pub const SIZE_CHUNK: usize = 5000;

/// Messages fetched in one command unless [`Options::batch_size`] says
/// otherwise.
pub const DEFAULT_BATCH_SIZE: usize = 500;

/// At most this many message bytes are fetched in one command.
pub const BATCH_BYTES: u64 = 16 * 1024 * 1024;

/// The move stage waits until this many committed messages are pending
/// (or the last batch is committed): every move makes the server resync
/// the mailbox in the fetch session, so few large moves cost it less.
pub const MOVE_MIN: usize = 5000;

/// Test hook: when this variable is set, the sweep aborts right after the
/// first ledger commit, before any message is moved (a crash at the worst
/// moment, for the recovery tests).
pub const CRASH_AFTER_COMMIT_ENV: &str = "REBOUND_SWEEP_CRASH_AFTER_COMMIT";

/// Run-wide settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// The ledger file.
    pub db: PathBuf,
    /// How to open it (busy timeout, size cap).
    pub ledger: LedgerOptions,
    /// Fetch and parse, but write nothing and move nothing.
    pub dry_run: bool,
    /// Handle at most this many messages in this run.
    pub limit: Option<usize>,
    /// Fetch, parse and commit at most this many messages at a time
    /// ([`DEFAULT_BATCH_SIZE`]; 0 counts as 1).
    pub batch_size: usize,
}

/// What happened to one message.
#[derive(Debug)]
pub enum MessageFate<'a> {
    /// Recorded (or, in a dry run, would be).
    Recorded {
        /// `imap:account/mailbox/uid`.
        source: &'a str,
        /// The report.
        report: &'a Report,
        /// Only the first bytes were read (size cap).
        truncated: bool,
    },
    /// Not a bounce or not parseable: moved (or, in a dry run, would be
    /// moved) to the quarantine folder; never counted.
    Quarantined {
        /// `imap:account/mailbox/uid`.
        source: &'a str,
        /// Its subject, when it has one.
        subject: Option<&'a str>,
        /// Why.
        reason: &'a str,
    },
    /// Not a bounce or not parseable, and left where it was (a shared
    /// inbox, `non_bounces = "leave"` or `"flag"`, or POP3); remembered so
    /// that it is not fetched again.
    Left {
        /// `imap:account/mailbox/uid` or `pop3:account/uidl`.
        source: &'a str,
        /// Its subject, when it has one.
        subject: Option<&'a str>,
        /// Why.
        reason: &'a str,
    },
}

/// Receives progress while a sweep runs (on the thread that called
/// [`sweep`]).
pub trait Observer {
    /// A mailbox is about to be swept; `messages` are to be handled.
    fn mailbox(&mut self, _account: &str, _mailbox: &str, _messages: usize) {}
    /// One message was handled.
    fn message(&mut self, _fate: &MessageFate<'_>) {}
    /// A batch was committed; `new_events` are the row ids of the events
    /// it recorded for the first time (for `--notify`).
    fn committed(&mut self, _ledger: &Ledger, _new_events: &[i64]) {}
    /// An attempt failed with an error that passes with time (a lost
    /// connection, a server asking to slow down); it is tried again
    /// after `wait`. A watcher reports only the first failure of a
    /// series, then [`Observer::recovered`].
    fn retrying(
        &mut self,
        _account: &str,
        _mailbox: Option<&str>,
        _error: &SweepError,
        _wait: Duration,
    ) {
    }
    /// Connected again after `attempts` failed attempts over `down`.
    fn recovered(
        &mut self,
        _account: &str,
        _mailbox: Option<&str>,
        _attempts: u32,
        _down: Duration,
    ) {
    }
    /// `rebound watch` waits for new mail in a mailbox: with IDLE, or by
    /// polling (`idle` false).
    fn watching(&mut self, _account: &str, _mailbox: &str, _idle: bool) {}
}

/// Counts of one sweep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepTotals {
    /// Messages fetched and parsed.
    pub messages: usize,
    /// Reports recorded (messages with at least one record).
    pub reports: usize,
    /// Records in those reports.
    pub records: usize,
    /// Events new to the ledger.
    pub new_events: usize,
    /// Events the ledger already had.
    pub duplicates: usize,
    /// Messages put in quarantine.
    pub quarantined: usize,
    /// Messages that are not bounces, left where they were.
    pub left: usize,
    /// Messages read only up to the size cap.
    pub truncated: usize,
}

impl std::ops::AddAssign for SweepTotals {
    fn add_assign(&mut self, o: SweepTotals) {
        self.messages += o.messages;
        self.reports += o.reports;
        self.records += o.records;
        self.new_events += o.new_events;
        self.duplicates += o.duplicates;
        self.quarantined += o.quarantined;
        self.left += o.left;
        self.truncated += o.truncated;
    }
}

/// Sweeps every mailbox of one account (IMAP) or its maildrop (POP3).
/// A server that asks to slow down is given the time it asks for (or a
/// growing backoff), for at most [`THROTTLE_PATIENCE`] in all; what was
/// committed before stays committed.
pub fn sweep(
    account: &AccountSettings,
    opts: &Options,
    parser: &Parser,
    observer: &mut dyn Observer,
) -> Result<SweepTotals, SweepError> {
    let _lock = lock::acquire(&opts.db, &account.name)?;
    let mut waited = Duration::ZERO;
    let mut summary = SweepTotals::default();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let budget = opts.limit.map(|l| l.saturating_sub(summary.messages));
        let run = Options { limit: budget, ..opts.clone() };
        let result = match account.protocol {
            Protocol::Imap => sweep_imap(account, &run, parser, observer),
            Protocol::Pop3 => {
                pop3::sweep(account, &run, parser, observer, None)
            }
        };
        let e = match result {
            Ok(s) => {
                summary += s;
                return Ok(summary);
            }
            Err(e) => e,
        };
        let Some(suggested) = e.throttled() else { return Err(e) };
        let wait =
            backoff::delay(attempt, backoff::MAX_THROTTLE_WAIT, suggested);
        if waited + wait > THROTTLE_PATIENCE {
            return Err(e);
        }
        observer.retrying(&account.name, None, &e, wait);
        std::thread::sleep(wait);
        waited += wait;
    }
}

/// The ledger of a sweep; a dry run only reads the checkpoints, and
/// creates no ledger.
pub(crate) fn open_ledger(
    opts: &Options,
) -> Result<Option<Ledger>, SweepError> {
    Ok(match opts.dry_run {
        false => Some(Ledger::open_with(&opts.db, &opts.ledger)?),
        true if opts.db.exists() => Some(Ledger::open_with(
            &opts.db,
            &LedgerOptions { read_only: true, ..opts.ledger.clone() },
        )?),
        true => None,
    })
}

/// A sweep waits at most this long in all for a throttling server.
pub const THROTTLE_PATIENCE: Duration = Duration::from_secs(15 * 60);

/// One pass over every mailbox of an IMAP account.
fn sweep_imap(
    account: &AccountSettings,
    opts: &Options,
    parser: &Parser,
    observer: &mut dyn Observer,
) -> Result<SweepTotals, SweepError> {
    let connector = connect::Connector::new(account)?;
    let mut s = Sweeper::open(&connector, opts, parser, observer)?;
    let mut summary = SweepTotals::default();
    for mailbox in &account.mailboxes {
        let budget = opts.limit.map(|l| l.saturating_sub(summary.messages));
        if budget == Some(0) {
            break;
        }
        summary += s.mailbox(mailbox, budget, true)?;
    }
    s.logout();
    Ok(summary)
}
