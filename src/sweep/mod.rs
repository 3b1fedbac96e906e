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

pub mod config;
pub mod connect;
pub mod lock;
pub mod utf7;

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};

use crate::input::for_each_parallel;
use crate::ledger::{
    Checkpoint, IngestItem, Ledger, LedgerError, LedgerOptions,
};
use crate::pipeline::{Parser, Report};
use config::{AccountSettings, After};
use connect::Session;

pub use config::{AccountConfig, Config, TlsMode};

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

/// A UID set in one command is at most this long (RFC 7162 §4 asks
/// clients to keep command lines under 8192 octets); longer sets are
/// split over several commands.
pub const MAX_SET_LEN: usize = 8000;

/// Batches that may wait between two pipeline stages.
const QUEUE: usize = 1;

/// Test hook: when this variable is set, the sweep aborts right after the
/// first ledger commit, before any message is moved (a crash at the worst
/// moment, for the recovery tests).
pub const CRASH_AFTER_COMMIT_ENV: &str = "REBOUND_SWEEP_CRASH_AFTER_COMMIT";

/// An error that ends a sweep.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SweepError {
    /// The configuration is incomplete or unsafe, or a credential could
    /// not be read.
    #[error("configuration: {0}")]
    Config(String),
    /// A local file could not be used.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Another sweep of the same ledger and account is running.
    #[error(
        "another sweep is running (lock {} held{})",
        path.display(),
        holder.as_deref().map(|h| format!(" by {h}")).unwrap_or_default()
    )]
    Locked {
        /// The lock file.
        path: PathBuf,
        /// What the holder wrote in it (`pid N`).
        holder: Option<String>,
    },
    /// The TCP connection failed.
    #[error("cannot connect to {host}:{port}: {source}")]
    Connect {
        /// The host.
        host: String,
        /// The port.
        port: u16,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The TLS handshake or certificate check failed.
    #[error("TLS with {host} failed: {message}")]
    Tls {
        /// The host.
        host: String,
        /// What went wrong.
        message: String,
    },
    /// The server refused the login.
    #[error("login as {user} failed: {message}")]
    Auth {
        /// The user name.
        user: String,
        /// The server's answer.
        message: String,
    },
    /// An IMAP command failed or the connection broke during the sweep.
    #[error("IMAP error while {context}: {source}")]
    Imap {
        /// What the sweep was doing.
        context: String,
        /// The underlying error.
        source: imap::Error,
    },
    /// The two sessions of a sweep saw different UIDVALIDITY values of a
    /// mailbox (it was renumbered while the sweep started); nothing was
    /// recorded or moved, the next sweep rescans it.
    #[error("the UIDVALIDITY of {mailbox} changed during the sweep")]
    UidValidityChanged {
        /// The mailbox.
        mailbox: String,
    },
    /// The ledger failed.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// The broad kind of a [`SweepError`], which decides the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Bad configuration or usage (exit 2).
    Config,
    /// Connection, TLS, authentication or protocol failure (exit 3).
    Connection,
    /// Another sweep holds the lock (exit 4).
    Locked,
    /// Anything else, such as a ledger failure (exit 2).
    Other,
}

impl SweepError {
    /// The kind of the error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            SweepError::Config(_) => ErrorKind::Config,
            SweepError::Connect { .. }
            | SweepError::Tls { .. }
            | SweepError::Auth { .. }
            | SweepError::Imap { .. }
            | SweepError::UidValidityChanged { .. } => ErrorKind::Connection,
            SweepError::Locked { .. } => ErrorKind::Locked,
            SweepError::Io { .. } | SweepError::Ledger(_) => ErrorKind::Other,
        }
    }
}

fn imap_err(
    context: impl Into<String>,
) -> impl FnOnce(imap::Error) -> SweepError {
    let context = context.into();
    move |source| SweepError::Imap { context, source }
}

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
pub enum Outcome<'a> {
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
}

/// Receives progress while a sweep runs (on the thread that called
/// [`sweep`]).
pub trait Observer {
    /// A mailbox is about to be swept; `messages` are to be handled.
    fn mailbox(&mut self, _account: &str, _mailbox: &str, _messages: usize) {}
    /// One message was handled.
    fn message(&mut self, _outcome: &Outcome<'_>) {}
    /// A batch was committed; `new_events` are the row ids of the events
    /// it recorded for the first time (for `--notify`).
    fn committed(&mut self, _ledger: &Ledger, _new_events: &[i64]) {}
}

/// Counts of one sweep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
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
    /// Messages read only up to the size cap.
    pub truncated: usize,
}

impl std::ops::AddAssign for Summary {
    fn add_assign(&mut self, o: Summary) {
        self.messages += o.messages;
        self.reports += o.reports;
        self.records += o.records;
        self.new_events += o.new_events;
        self.duplicates += o.duplicates;
        self.quarantined += o.quarantined;
        self.truncated += o.truncated;
    }
}

/// Sweeps every mailbox of one account.
pub fn sweep(
    account: &AccountSettings,
    opts: &Options,
    parser: &Parser,
    observer: &mut dyn Observer,
) -> Result<Summary, SweepError> {
    let _lock = lock::acquire(&opts.db, &account.name)?;
    // A dry run only reads the checkpoints, and creates no ledger.
    let ledger = match opts.dry_run {
        false => Some(Ledger::open_with(&opts.db, &opts.ledger)?),
        true if opts.db.exists() => Some(Ledger::open_with(
            &opts.db,
            &LedgerOptions { read_only: true, ..opts.ledger.clone() },
        )?),
        true => None,
    };
    let credential = account.secret.read()?;
    let connector = connect::Connector::new(account)?;
    // Fetches run on a second session, so that moves on the first one
    // overlap with them; a dry run moves nothing and needs only one. Both
    // log in at the same time.
    let (session, reader) = std::thread::scope(|scope| {
        let reader = (!opts.dry_run)
            .then(|| scope.spawn(|| connector.open(&credential)));
        let session = connector.open(&credential);
        let reader = reader.map(|r| {
            r.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
        });
        (session, reader)
    });
    let (mut session, reader) = (session?, reader.transpose()?);
    let caps =
        session.capabilities().map_err(imap_err("asking for capabilities"))?;
    let (has_move, has_uidplus) =
        (caps.has_str("MOVE"), caps.has_str("UIDPLUS"));
    drop(caps);
    let mut s = Sweeper {
        account,
        opts,
        parser,
        observer,
        session,
        reader,
        ledger,
        has_move,
        has_uidplus,
    };
    if !opts.dry_run {
        if account.after == After::Move {
            s.ensure_folder(&account.processed_folder)?;
        }
        s.ensure_folder(&account.quarantine_folder)?;
    }
    let mut summary = Summary::default();
    for mailbox in &account.mailboxes {
        let budget = opts.limit.map(|l| l.saturating_sub(summary.messages));
        if budget == Some(0) {
            break;
        }
        summary += s.mailbox(mailbox, budget)?;
    }
    if let Some(r) = &mut s.reader {
        let _ = r.logout();
    }
    let _ = s.session.logout();
    Ok(summary)
}

/// Quotes an IMAP string.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A sorted UID list as a compact IMAP sequence set (`1:5,7,9:12`).
fn uid_set(uids: &[u32]) -> String {
    uid_sets(uids, usize::MAX).next().unwrap_or_default()
}

/// A sorted UID list as compact IMAP sequence sets of at most `max_len`
/// characters each (a single range is never split, and is at most 21).
fn uid_sets(uids: &[u32], max_len: usize) -> impl Iterator<Item = String> {
    let mut rest = uids;
    std::iter::from_fn(move || {
        let mut out = String::new();
        while let Some(&first) = rest.first() {
            let run = rest
                .windows(2)
                .position(|w| w[1] != w[0].wrapping_add(1))
                .map_or(rest.len(), |i| i + 1);
            let range = match run {
                1 => first.to_string(),
                _ => format!("{first}:{}", rest[run - 1]),
            };
            if !out.is_empty() && out.len() + 1 + range.len() > max_len {
                break;
            }
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(&range);
            rest = &rest[run..];
        }
        (!out.is_empty()).then_some(out)
    })
}

/// The SEARCH criterion for messages lacking `flag`.
fn lacking(flag: &str) -> String {
    match flag.to_ascii_lowercase().as_str() {
        "\\seen" => "UNSEEN".into(),
        "\\flagged" => "UNFLAGGED".into(),
        "\\answered" => "UNANSWERED".into(),
        "\\draft" => "UNDRAFT".into(),
        _ => format!("UNKEYWORD {flag}"),
    }
}

/// Cuts (UID, size) pairs into batches of at most `count` messages and
/// [`BATCH_BYTES`] bytes (sizes counted up to `cap`; a single message
/// over the byte limit is a batch of its own).
fn cut(
    sizes: &[(u32, u32)],
    cap: u32,
    count: usize,
) -> impl Iterator<Item = &[(u32, u32)]> {
    let count = count.max(1);
    let mut rest = sizes;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut bytes = 0;
        let mut n = 0;
        while n < rest.len().min(count) {
            bytes += u64::from(rest[n].1.min(cap));
            if n > 0 && bytes > BATCH_BYTES {
                break;
            }
            n += 1;
        }
        let (batch, tail) = rest.split_at(n);
        rest = tail;
        Some(batch)
    })
}

/// Drops the untagged responses (EXPUNGE, EXISTS, ...) a session queued,
/// which would otherwise pile up over a long sweep.
fn drain(session: &mut Session) {
    while session.unsolicited_responses.try_recv().is_ok() {}
}

/// One fetched batch: the fetch responses own the message bytes, which
/// the parse stage borrows and then drops.
struct Fetched {
    /// The highest UID of the batch (the checkpoint after it).
    last_uid: u32,
    /// (read only up to the size cap, responses).
    fetches: Vec<(bool, imap::types::ZeroCopy<Vec<imap::types::Fetch>>)>,
}

/// One fetched message, parsed.
struct Parsed {
    uid: u32,
    truncated: bool,
    result: Result<Report, crate::ParseError>,
}

/// One parsed batch, in UID order.
struct ParsedBatch {
    last_uid: u32,
    parsed: Vec<Parsed>,
}

/// Fetch stage: reads the sizes of `uids`, then the batches, and hands
/// them on. Stops early (Ok) when the next stage has gone.
fn fetch_stage(
    session: &mut Session,
    mailbox: &str,
    uids: &[u32],
    cap: u32,
    batch_size: usize,
    out: SyncSender<Fetched>,
) -> Result<(), SweepError> {
    let context = || format!("fetching from {mailbox}");
    for chunk in uids.chunks(SIZE_CHUNK) {
        let sized = session
            .uid_fetch(uid_set(chunk), "(UID RFC822.SIZE)")
            .map_err(imap_err(format!("fetching sizes in {mailbox}")))?;
        let mut sizes: Vec<(u32, u32)> = sized
            .iter()
            .filter_map(|f| Some((f.uid?, f.size.unwrap_or(0))))
            .collect();
        drop(sized);
        sizes.sort_unstable();
        for batch in cut(&sizes, cap, batch_size) {
            let whole: Vec<u32> =
                batch.iter().filter(|b| b.1 <= cap).map(|b| b.0).collect();
            let mut fetches = Vec::new();
            if !whole.is_empty() {
                fetches.push((
                    false,
                    session
                        .uid_fetch(uid_set(&whole), "(UID BODY.PEEK[])")
                        .map_err(imap_err(context()))?,
                ));
            }
            for &(uid, _) in batch.iter().filter(|b| b.1 > cap) {
                fetches.push((
                    true,
                    session
                        .uid_fetch(
                            uid.to_string(),
                            format!("(UID BODY.PEEK[]<0.{cap}>)"),
                        )
                        .map_err(imap_err(context()))?,
                ));
            }
            drain(session);
            let last_uid = batch.last().map_or(0, |b| b.0);
            if out.send(Fetched { last_uid, fetches }).is_err() {
                return Ok(());
            }
        }
    }
    Ok(())
}

/// Parse stage: parses each fetched batch on all cores, frees its bytes
/// and hands the reports on in UID order.
fn parse_stage(
    parser: &Parser,
    input: Receiver<Fetched>,
    out: SyncSender<ParsedBatch>,
) {
    for f in input {
        let bodies = f.fetches.iter().flat_map(|(truncated, fs)| {
            fs.iter().filter_map(|m| Some((m.uid?, m.body()?, *truncated)))
        });
        let mut parsed = Vec::new();
        for_each_parallel(
            bodies,
            |(uid, body, truncated)| Parsed {
                uid,
                truncated,
                result: parser.parse(body),
            },
            |p| parsed.push(p),
        );
        drop(f.fetches);
        parsed.sort_by_key(|p| p.uid);
        let batch = ParsedBatch { last_uid: f.last_uid, parsed };
        if out.send(batch).is_err() {
            return;
        }
    }
}

struct Sweeper<'a> {
    account: &'a AccountSettings,
    opts: &'a Options,
    parser: &'a Parser,
    observer: &'a mut dyn Observer,
    /// Searches, folders and moves.
    session: Session,
    /// Fetches (none in a dry run: `session` fetches).
    reader: Option<Session>,
    ledger: Option<Ledger>,
    has_move: bool,
    has_uidplus: bool,
}

impl Sweeper<'_> {
    fn ensure_folder(&mut self, folder: &str) -> Result<(), SweepError> {
        let found = self
            .session
            .list(None, Some(&quote(folder)))
            .map_err(imap_err(format!("looking for folder {folder}")))?;
        if found.is_empty() {
            self.session
                .create(folder)
                .map_err(imap_err(format!("creating folder {folder}")))?;
        }
        Ok(())
    }

    fn search(&mut self, query: &str) -> Result<Vec<u32>, SweepError> {
        Ok(self
            .session
            .uid_search(query)
            .map_err(imap_err(format!("searching ({query})")))?
            .into_iter()
            .collect())
    }

    fn mailbox(
        &mut self,
        mailbox: &str,
        budget: Option<usize>,
    ) -> Result<Summary, SweepError> {
        let account = &self.account.name;
        let selected = self
            .session
            .select(mailbox)
            .map_err(imap_err(format!("selecting {mailbox}")))?;
        let uidvalidity = selected.uid_validity.unwrap_or(0);
        let checkpoint = match &self.ledger {
            Some(l) => l.checkpoint(account, mailbox)?,
            None => None,
        };
        // A changed UIDVALIDITY voids the checkpoint: rescan everything.
        let last = checkpoint
            .filter(|c| c.uidvalidity == uidvalidity)
            .map_or(0, |c| c.last_uid);
        // `N:*` always matches the last message, even below N.
        let mut uids: Vec<u32> = self
            .search(&format!("UID {}:*", last as u64 + 1))?
            .into_iter()
            .filter(|&u| u > last)
            .collect();
        if last > 0 {
            // Recorded before, but not yet moved or flagged (a sweep
            // stopped between commit and move): fetch them again.
            let pending = match self.account.after {
                After::Flag => {
                    format!("UID 1:{last} {}", lacking(&self.account.flag))
                }
                After::Move | After::Delete => format!("UID 1:{last}"),
            };
            uids.extend(self.search(&pending)?);
        }
        uids.sort_unstable();
        uids.dedup();
        if let Some(b) = budget {
            uids.truncate(b);
        }
        self.observer.mailbox(account, mailbox, uids.len());
        if uids.is_empty() {
            return Ok(Summary::default());
        }
        let Sweeper {
            account,
            opts,
            parser,
            observer,
            session,
            reader,
            ledger,
            has_move,
            has_uidplus,
        } = self;
        // The fetch session only reads; moves, flags and expunges happen
        // on `session`, and both must see the same UIDs.
        let (fetcher, mover) = match reader {
            Some(r) => {
                let examined = r
                    .examine(mailbox)
                    .map_err(imap_err(format!("examining {mailbox}")))?;
                if examined.uid_validity.unwrap_or(0) != uidvalidity {
                    return Err(SweepError::UidValidityChanged {
                        mailbox: mailbox.to_string(),
                    });
                }
                let mover = Mover {
                    session,
                    account,
                    mailbox,
                    has_move: *has_move,
                    has_uidplus: *has_uidplus,
                };
                (r, Some(mover))
            }
            None => (session, None),
        };
        let (cap, batch_size) = (account.max_message_size, opts.batch_size);
        let observer = &mut **observer;
        let ledger = ledger.as_mut().filter(|_| !opts.dry_run);
        std::thread::scope(|scope| {
            let (fetched_tx, fetched_rx) = sync_channel(QUEUE);
            let (parsed_tx, parsed_rx) = sync_channel(QUEUE);
            let uids = &uids;
            let fetch = scope.spawn(move || {
                fetch_stage(
                    fetcher, mailbox, uids, cap, batch_size, fetched_tx,
                )
            });
            let parser = &**parser;
            scope.spawn(move || parse_stage(parser, fetched_rx, parsed_tx));
            // UIDs only: this queue needs no bound beyond the mailbox's.
            let (moves_tx, moves_rx) = channel();
            let moving =
                mover.map(|m| scope.spawn(|| move_stage(m, moves_rx)));
            let mut recorder = Recorder {
                account,
                mailbox,
                uidvalidity,
                last,
                observer,
                ledger,
                moves: moving.is_some().then_some(moves_tx),
            };
            // Returning drops the receiver, which stops the fetch and
            // parse stages, and the sender, which lets the move stage
            // finish what was committed.
            let recorded = recorder.run(parsed_rx);
            drop(recorder);
            let join = |h: std::thread::ScopedJoinHandle<'_, _>| {
                h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
            };
            let moved = moving.map_or(Ok(()), join);
            let fetched = join(fetch);
            moved?;
            let summary = recorded?;
            fetched?;
            Ok(summary)
        })
    }
}

/// The committed messages of one batch, for the move stage.
#[derive(Default)]
struct Committed {
    /// Recorded messages (UID order).
    done: Vec<u32>,
    /// Messages for the quarantine folder (UID order).
    quarantined: Vec<u32>,
}

impl Committed {
    fn len(&self) -> usize {
        self.done.len() + self.quarantined.len()
    }

    fn extend(&mut self, more: Committed) {
        self.done.extend(more.done);
        self.quarantined.extend(more.quarantined);
    }
}

/// Move stage: disposes of committed messages, each time of all that
/// were committed since its last command but at least [`MOVE_MIN`] (or
/// the rest, when the recorder has gone), until the recorder has gone.
fn move_stage(
    mut mover: Mover<'_>,
    input: Receiver<Committed>,
) -> Result<(), SweepError> {
    while let Ok(mut pending) = input.recv() {
        while pending.len() < MOVE_MIN {
            match input.recv() {
                Ok(more) => pending.extend(more),
                Err(_) => break,
            }
        }
        for more in input.try_iter() {
            pending.extend(more);
        }
        mover.flush(&pending)?;
    }
    Ok(())
}

/// The third stage, on the calling thread: reports progress, commits each
/// batch with the checkpoint, then hands its messages to the move stage.
struct Recorder<'a> {
    account: &'a AccountSettings,
    mailbox: &'a str,
    uidvalidity: u32,
    /// The checkpoint so far.
    last: u32,
    observer: &'a mut dyn Observer,
    /// None in a dry run.
    ledger: Option<&'a mut Ledger>,
    /// None in a dry run.
    moves: Option<Sender<Committed>>,
}

impl Recorder<'_> {
    /// Records every batch the parse stage sends; stops early when the
    /// move stage has failed (it holds the error).
    fn run(
        &mut self,
        input: Receiver<ParsedBatch>,
    ) -> Result<Summary, SweepError> {
        let mut summary = Summary::default();
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
    ) -> Result<(Summary, Option<Committed>), SweepError> {
        let account = &self.account.name;
        let mailbox = self.mailbox;
        let mut summary =
            Summary { messages: batch.parsed.len(), ..Summary::default() };
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
                    self.observer.message(&Outcome::Recorded {
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
            self.observer.message(&Outcome::Quarantined {
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

/// Moves, flags or deletes committed messages on the main session.
struct Mover<'s> {
    session: &'s mut Session,
    account: &'s AccountSettings,
    mailbox: &'s str,
    has_move: bool,
    has_uidplus: bool,
}

impl Mover<'_> {
    /// Disposes of committed messages: recorded ones as configured, the
    /// others into quarantine; in commands of at most [`MAX_SET_LEN`]
    /// long UID sets.
    fn flush(&mut self, c: &Committed) -> Result<(), SweepError> {
        let account = self.account;
        for set in uid_sets(&c.done, MAX_SET_LEN) {
            self.dispose(&set)?;
        }
        for set in uid_sets(&c.quarantined, MAX_SET_LEN) {
            self.move_to(&set, &account.quarantine_folder)?;
        }
        drain(self.session);
        Ok(())
    }

    /// Moves, flags or deletes recorded messages.
    fn dispose(&mut self, set: &str) -> Result<(), SweepError> {
        let account = self.account;
        match account.after {
            After::Move => self.move_to(set, &account.processed_folder),
            After::Flag => self.store(set, &account.flag).map_err(imap_err(
                format!("flagging messages in {}", self.mailbox),
            )),
            After::Delete => self.expunge(set),
        }
    }

    /// Adds a flag. Not `Session::uid_store`: imap 2.4 fails to parse the
    /// untagged FLAGS / PERMANENTFLAGS a server sends when a keyword is
    /// first used; only the tagged status matters here.
    fn store(&mut self, set: &str, flag: &str) -> imap::error::Result<()> {
        self.session.run_command_and_check_ok(format!(
            "UID STORE {set} +FLAGS.SILENT ({flag})"
        ))
    }

    /// UID MOVE (RFC 6851), or COPY + \Deleted + expunge without it.
    fn move_to(&mut self, set: &str, folder: &str) -> Result<(), SweepError> {
        let context =
            format!("moving messages from {} to {folder}", self.mailbox);
        if self.has_move {
            return self
                .session
                .uid_mv(set, folder)
                .map_err(imap_err(context));
        }
        self.session.uid_copy(set, folder).map_err(imap_err(context))?;
        self.expunge(set)
    }

    /// Marks messages \Deleted and expunges them: only them with UIDPLUS
    /// (UID EXPUNGE, RFC 4315), else with a plain EXPUNGE.
    fn expunge(&mut self, set: &str) -> Result<(), SweepError> {
        let context = format!("deleting messages in {}", self.mailbox);
        self.store(set, "\\Deleted").map_err(imap_err(context.clone()))?;
        if self.has_uidplus {
            self.session.uid_expunge(set).map(drop)
        } else {
            self.session.expunge().map(drop)
        }
        .map_err(imap_err(context))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_compress_runs() {
        assert_eq!(uid_set(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
        assert_eq!(uid_set(&[4]), "4");
        assert_eq!(uid_set(&[]), "");
        let all: Vec<u32> = (1..=10_000).collect();
        assert_eq!(uid_set(&all), "1:10000");
        assert_eq!(
            uid_set(&[u32::MAX - 1, u32::MAX]),
            "4294967294:4294967295"
        );
    }

    #[test]
    fn long_uid_sets_are_split_without_losing_a_uid() {
        assert_eq!(
            uid_sets(&[1, 2, 3, 5, 7, 8, 10], 8).collect::<Vec<_>>(),
            ["1:3,5", "7:8,10"]
        );
        // A range longer than the limit still goes out whole.
        assert_eq!(uid_sets(&[100, 101], 3).collect::<Vec<_>>(), ["100:101"]);
        assert_eq!(uid_sets(&[], 8).count(), 0);
        // Every other UID: 30,000 single UIDs of 5 or 6 digits.
        let odd: Vec<u32> = (0..30_000).map(|i| 10_001 + 2 * i).collect();
        let sets: Vec<String> = uid_sets(&odd, MAX_SET_LEN).collect();
        assert!(sets.len() > 1, "{} sets", sets.len());
        assert!(sets.iter().all(|s| s.len() <= MAX_SET_LEN));
        let back: Vec<u32> = sets
            .iter()
            .flat_map(|s| s.split(','))
            .map(|u| u.parse().unwrap())
            .collect();
        assert_eq!(back, odd);
    }

    #[test]
    fn batches_respect_count_and_bytes_and_keep_every_uid_once() {
        let sizes: Vec<(u32, u32)> = (1..=23).map(|u| (u, 100)).collect();
        let lens: Vec<usize> = cut(&sizes, 1000, 5).map(<[_]>::len).collect();
        assert_eq!(lens, [5, 5, 5, 5, 3]);
        let uids: Vec<u32> =
            cut(&sizes, 1000, 5).flatten().map(|s| s.0).collect();
        assert_eq!(uids, (1..=23).collect::<Vec<_>>());
        assert_eq!(cut(&sizes, 1000, 0).count(), 23, "0 counts as 1");
        // 6 MiB messages: two fit in 16 MiB, a third does not; sizes count
        // only up to the cap; one huge message is a batch of its own.
        let big = 6 * 1024 * 1024;
        let sizes = [(1, big), (2, big), (3, big), (4, u32::MAX), (5, 10)];
        let lens: Vec<usize> =
            cut(&sizes, u32::MAX, 500).map(<[_]>::len).collect();
        assert_eq!(lens, [2, 1, 1, 1]);
        let lens: Vec<usize> =
            cut(&sizes, 1024, 500).map(<[_]>::len).collect();
        assert_eq!(lens, [5]);
        assert_eq!(cut(&[], 1024, 500).count(), 0);
    }

    #[test]
    fn unflagged_criteria() {
        assert_eq!(lacking("\\Seen"), "UNSEEN");
        assert_eq!(lacking("$Rebound"), "UNKEYWORD $Rebound");
    }

    #[test]
    fn error_kinds_map_to_exit_classes() {
        let auth = SweepError::Auth { user: "u".into(), message: "no".into() };
        assert_eq!(auth.kind(), ErrorKind::Connection);
        assert_eq!(SweepError::Config("x".into()).kind(), ErrorKind::Config);
        let renumbered =
            SweepError::UidValidityChanged { mailbox: "INBOX".into() };
        assert_eq!(renumbered.kind(), ErrorKind::Connection);
    }
}
