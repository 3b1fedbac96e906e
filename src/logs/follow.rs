//! Reading log files into the ledger, resuming where the last run
//! stopped and following a live log across rotation.
//!
//! Each file's read position (device, inode, offset, a hash of its first
//! line, and the reader's state of the messages still queued) is stored
//! in the ledger in the same transaction as the events read up to it
//! ([`Ledger::ingest_log`]). On the next run — a cron run, or a follower
//! restarted after being killed — a file whose identity matches resumes
//! at its offset. A file that changed identity was rotated:
//!
//! - rename rotation (`mail.log` → `mail.log.1`, a new `mail.log`): the
//!   inode changed;
//! - copytruncate (the file copied to `mail.log.1`, then truncated): the
//!   inode is the same, but the first line is not (or the file is
//!   shorter than the offset).
//!
//! The rest of the old file is then looked for among the rotated files
//! beside it (`NAME.1`, `NAME-20261206`, compressed `.gz` ones too), by
//! its first line, and read from the stored offset before the new file
//! is read from its start. Nothing is lost, and because every event's
//! key is its own text, whatever is read twice is recorded once.
//!
//! `--follow` keeps reading as the file grows, checking every
//! [`Options::poll`] whether it was rotated: after a rename the old file
//! is read to its end before the new one is opened; after a copytruncate
//! the lines written between the last read and the truncation are read
//! from the copy. Only complete lines are read; a partial last line is
//! read once complete (without `--follow`, it is read but the position
//! stays before it).
//!
//! Compressed files (`.gz`) are read through `flate2`; their position is
//! an offset in the uncompressed text.

use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use flate2::read::MultiGzDecoder;
use sha2::{Digest, Sha256};

use super::{Clock, LineError, LineReader, LogEvent, LogFormat, report_of};
use crate::classify::Rules;
use crate::ledger::logs::{LogMessage, LogPosition};
use crate::ledger::{IngestItem, IngestSummary, Ledger, LedgerError};
use crate::pipeline::Report;
use crate::time;

/// How to read.
#[derive(Debug, Clone)]
pub struct Options {
    /// At most this many events per transaction.
    pub batch: usize,
    /// A transaction open this long is committed (with the position) at
    /// the next piece of [`PIECE`] events.
    pub commit_every: Duration,
    /// Keep reading the last file as it grows, across rotation.
    pub follow: bool,
    /// How often a followed file is checked.
    pub poll: Duration,
    /// The zone of timestamps written without one (seconds east of UTC).
    pub utc_offset: i64,
    /// Set to stop following (checked at every poll).
    pub stop: Arc<AtomicBool>,
    /// Operators' local phrase rules (`--rules`), as for mail.
    pub rules: Rules,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            batch: 1_000_000,
            commit_every: Duration::from_secs(2),
            follow: false,
            poll: Duration::from_millis(250),
            utc_offset: 0,
            stop: Arc::new(AtomicBool::new(false)),
            rules: Rules::default(),
        }
    }
}

/// Events recorded into the open transaction at a time (fewer when
/// [`Options::batch`] is smaller): what memory holds of them.
pub const PIECE: usize = 10_000;

/// A failure that stops reading.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// Why.
        source: io::Error,
    },
    /// The ledger refused the events.
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// What was read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    /// Lines read.
    pub lines: u64,
    /// Events the lines gave.
    pub events: u64,
    /// Lines that could not be read.
    pub unreadable: u64,
    /// What the ledger did with the events.
    pub ledger: IngestSummary,
}

/// Called with each line that cannot be read: its source (`PATH:LINE`)
/// and why.
pub type OnError<'a> = dyn FnMut(&str, &LineError) + 'a;

/// Called after each commit with the row ids of the new events.
pub type OnCommit<'a> = dyn FnMut(&Ledger, &[i64]) + 'a;

/// Reads logs of one format into a ledger.
pub struct LogIngest<'a> {
    ledger: &'a mut Ledger,
    format: &'static dyn LogFormat,
    reader: Box<dyn LineReader>,
    opts: Options,
    on_error: Box<OnError<'a>>,
    on_commit: Box<OnCommit<'a>>,
    /// Reports and their sources waiting to be recorded.
    reports: Vec<(String, Report)>,
    messages: Vec<LogMessage>,
    events: Vec<LogEvent>,
    /// Events recorded in the open transaction, and when it was opened.
    in_transaction: usize,
    opened: Option<Instant>,
    /// The row ids of the new events of the open transaction.
    new: Vec<i64>,
    /// Whether any line was read yet (a stored reader state is restored
    /// only before the first).
    started: bool,
    totals: Totals,
    /// What the ledger did with the events of the open transaction.
    pending: IngestSummary,
}

impl Drop for LogIngest<'_> {
    /// A transaction left open by an error is rolled back.
    fn drop(&mut self) {
        self.ledger.log_rollback();
    }
}

/// An open file and where it stands.
struct Cursor {
    /// The live path the position is stored under.
    key: String,
    /// The file read (the live path, or a rotated file beside it).
    shown: String,
    input: Input,
    device: u64,
    inode: u64,
    offset: u64,
    line: u64,
    first_line: Option<Vec<u8>>,
}

/// 128 bits of SHA-256 of a line.
fn hash(line: &[u8]) -> Vec<u8> {
    Sha256::digest(line)[..16].to_vec()
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> LogError + '_ {
    move |source| LogError::Io { path: path.display().to_string(), source }
}

fn is_gz(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "gz")
}

/// A file's text from its start: plain, or uncompressed from `.gz`.
enum Input {
    Plain(BufReader<File>),
    Gz(BufReader<MultiGzDecoder<File>>),
}

impl Input {
    fn open(path: &Path) -> io::Result<Input> {
        let f = File::open(path)?;
        Ok(if is_gz(path) {
            Input::Gz(BufReader::with_capacity(
                1 << 16,
                MultiGzDecoder::new(f),
            ))
        } else {
            Input::Plain(BufReader::with_capacity(1 << 16, f))
        })
    }

    fn read_until(&mut self, buf: &mut Vec<u8>) -> io::Result<usize> {
        match self {
            Input::Plain(r) => r.read_until(b'\n', buf),
            Input::Gz(r) => r.read_until(b'\n', buf),
        }
    }

    /// Goes to `offset` (a compressed file only forward, by reading);
    /// returns the offset reached.
    fn go_to(&mut self, offset: u64, from: u64) -> io::Result<u64> {
        match self {
            Input::Plain(r) => r.seek(SeekFrom::Start(offset)),
            Input::Gz(r) => {
                let want = offset.saturating_sub(from);
                Ok(from + io::copy(&mut r.take(want), &mut io::sink())?)
            }
        }
    }
}

/// The hash of a file's first complete line (`None` when it has none).
fn first_line_of(path: &Path) -> io::Result<Option<Vec<u8>>> {
    let mut r = Input::open(path)?;
    let mut line = Vec::new();
    r.read_until(&mut line)?;
    Ok(line.ends_with(b"\n").then(|| hash(&line)))
}

/// The modification time of a file (Unix seconds), or now.
fn mtime(meta: &fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or_else(time::now, |d| d.as_secs() as i64)
}

/// The rotated files beside `live` (`NAME.1`, `NAME-20261206.gz`, ...),
/// newest first by modification time.
fn rotated_beside(live: &Path) -> Vec<PathBuf> {
    let (Some(dir), Some(name)) = (live.parent(), live.file_name()) else {
        return Vec::new();
    };
    let name = name.to_string_lossy();
    let Ok(entries) = fs::read_dir(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    }) else {
        return Vec::new();
    };
    let mut found: Vec<(i64, PathBuf)> = entries
        .flatten()
        .filter(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            n.len() > name.len()
                && n.starts_with(&*name)
                && matches!(n.as_bytes()[name.len()], b'.' | b'-')
        })
        .filter_map(|e| {
            let m = e.metadata().ok()?;
            m.is_file().then(|| (mtime(&m), e.path()))
        })
        .collect();
    found.sort_by_key(|f| std::cmp::Reverse(f.0));
    found.into_iter().map(|(_, p)| p).collect()
}

impl<'a> LogIngest<'a> {
    /// A reader of `format` logs into `ledger`.
    pub fn new(
        ledger: &'a mut Ledger,
        format: &'static dyn LogFormat,
        opts: Options,
    ) -> Self {
        LogIngest {
            ledger,
            format,
            reader: format.reader(),
            opts,
            on_error: Box::new(|_, _| {}),
            on_commit: Box::new(|_, _| {}),
            reports: Vec::new(),
            messages: Vec::new(),
            events: Vec::new(),
            in_transaction: 0,
            opened: None,
            new: Vec::new(),
            started: false,
            totals: Totals::default(),
            pending: IngestSummary::default(),
        }
    }

    /// Calls `f` with every line that cannot be read.
    pub fn on_error(mut self, f: impl FnMut(&str, &LineError) + 'a) -> Self {
        self.on_error = Box::new(f);
        self
    }

    /// Calls `f` after every commit with the new events' row ids.
    pub fn on_commit(mut self, f: impl FnMut(&Ledger, &[i64]) + 'a) -> Self {
        self.on_commit = Box::new(f);
        self
    }

    /// What was read so far.
    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// Reads one line (without its line end) of `source`, line `n`.
    fn feed(&mut self, line: &[u8], source: &str, n: u64, clock: &Clock) {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches(['\n', '\r']);
        self.started = true;
        self.totals.lines += 1;
        self.events.clear();
        if let Err(e) = self.reader.line(text, clock, &mut self.events) {
            self.totals.unreadable += 1;
            (self.on_error)(&format!("{source}:{n}"), &e);
            return;
        }
        let detector = self.format.detector();
        for e in self.events.drain(..) {
            self.totals.events += 1;
            if let (Some(m), Some(at)) = (&e.message_id, e.arrival) {
                self.messages.push(LogMessage {
                    message_id: m.clone(),
                    recipient: e.recipient.clone(),
                    sent_at: at,
                });
            }
            let mut report = report_of(e, detector, &self.opts.rules);
            let at = format!("log:{source}:{n}");
            for r in &mut report.records {
                r.file = Some(at.clone());
            }
            self.reports.push((at, report));
        }
    }

    /// Records the pending events into the open transaction; returns
    /// whether it is due for a commit: it holds [`Options::batch`] events
    /// or has been open [`Options::commit_every`].
    fn flush(&mut self) -> Result<bool, LogError> {
        if !self.reports.is_empty() || !self.messages.is_empty() {
            let items: Vec<IngestItem<'_>> = self
                .reports
                .iter()
                .map(|(source, report)| IngestItem { source, report })
                .collect();
            let recorded = self.ledger.log_record(&items, &self.messages);
            drop(items);
            let (sum, new) = recorded.inspect_err(|_| self.rolled_back())?;
            self.opened.get_or_insert_with(Instant::now);
            self.in_transaction += self.reports.len();
            self.pending.add(sum);
            self.new.extend(new);
            self.reports.clear();
            self.messages.clear();
        }
        Ok(self.in_transaction >= self.opts.batch
            || self
                .opened
                .is_some_and(|t| t.elapsed() >= self.opts.commit_every))
    }

    /// Records the pending events and commits them with every event
    /// recorded since the last commit and the position (when given).
    fn commit(
        &mut self,
        position: Option<&LogPosition>,
    ) -> Result<(), LogError> {
        self.flush()?;
        self.ledger
            .log_commit(position)
            .inspect_err(|_| self.rolled_back())?;
        self.totals.ledger.add(std::mem::take(&mut self.pending));
        (self.on_commit)(self.ledger, &self.new);
        self.new.clear();
        self.in_transaction = 0;
        self.opened = None;
        Ok(())
    }

    /// Forgets what the rolled back transaction held.
    fn rolled_back(&mut self) {
        self.pending = IngestSummary::default();
        self.new.clear();
        self.in_transaction = 0;
        self.opened = None;
    }

    /// Whether a piece of events is ready to be recorded.
    fn piece_ready(&self) -> bool {
        self.reports.len() >= PIECE.min(self.opts.batch)
    }

    /// Reads standard input to its end (no position is kept).
    pub fn read_stdin(&mut self) -> Result<(), LogError> {
        let clock =
            Clock { reference: time::now(), utc_offset: self.opts.utc_offset };
        let mut input = io::stdin().lock();
        let mut line = Vec::new();
        let mut n = 0;
        loop {
            line.clear();
            let got = input
                .read_until(b'\n', &mut line)
                .map_err(io_error(Path::new("-")))?;
            if got == 0 {
                break;
            }
            n += 1;
            self.feed(&line, "-", n, &clock);
            if self.piece_ready() && self.flush()? {
                self.commit(None)?;
            }
        }
        self.commit(None)
    }

    /// Reads the files in order, each from where the last run stopped;
    /// with [`Options::follow`], keeps following the last one.
    pub fn read_files(&mut self, paths: &[PathBuf]) -> Result<(), LogError> {
        for (i, path) in paths.iter().enumerate() {
            let follow = self.opts.follow && i + 1 == paths.len();
            self.read_file(path, follow)?;
        }
        Ok(())
    }

    /// Opens `path` (stored under `key`) at its start.
    fn open(&self, key: &str, path: &Path) -> Result<Cursor, LogError> {
        let meta = fs::metadata(path).map_err(io_error(path))?;
        Ok(Cursor {
            key: key.to_string(),
            shown: path.display().to_string(),
            input: Input::open(path).map_err(io_error(path))?,
            device: meta.dev(),
            inode: meta.ino(),
            offset: 0,
            line: 0,
            first_line: first_line_of(path).map_err(io_error(path))?,
        })
    }

    /// Moves a freshly opened cursor to `pos` (its offset and line).
    fn seek(c: &mut Cursor, pos: &LogPosition) -> Result<(), LogError> {
        let path = PathBuf::from(&c.shown);
        let reached =
            c.input.go_to(pos.offset, c.offset).map_err(io_error(&path))?;
        if reached < pos.offset {
            return Err(LogError::Io {
                path: c.shown.clone(),
                source: io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "shorter than the stored position",
                ),
            });
        }
        c.offset = pos.offset;
        c.line = pos.line;
        Ok(())
    }

    /// The position a cursor stands at.
    fn position(&self, c: &Cursor) -> LogPosition {
        LogPosition {
            path: c.key.clone(),
            format: self.format.id().to_string(),
            device: c.device,
            inode: c.inode,
            offset: c.offset,
            line: c.line,
            first_line: c.first_line.clone(),
            state: self.reader.save(),
        }
    }

    /// Reads a cursor's complete lines to the end of what is there;
    /// commits every batch and at the end. With `last_partial`, a final
    /// line without its line end is read too (the position stays before
    /// it). Returns whether anything was read.
    fn drain(
        &mut self,
        c: &mut Cursor,
        last_partial: bool,
    ) -> Result<bool, LogError> {
        let path = PathBuf::from(&c.shown);
        let reference =
            fs::metadata(&path).map_or_else(|_| time::now(), |m| mtime(&m));
        let clock = Clock { reference, utc_offset: self.opts.utc_offset };
        let mut line = Vec::new();
        let mut any = false;
        loop {
            line.clear();
            let got =
                c.input.read_until(&mut line).map_err(io_error(&path))?;
            if got == 0 {
                break;
            }
            if !line.ends_with(b"\n") {
                if last_partial {
                    self.feed(&line, &c.shown, c.line + 1, &clock);
                    any = true;
                } else if let Input::Plain(r) = &mut c.input {
                    // Not complete yet: read it again when it is.
                    r.seek(SeekFrom::Start(c.offset))
                        .map_err(io_error(&path))?;
                }
                break;
            }
            c.offset += got as u64;
            c.line += 1;
            if c.line == 1 && c.first_line.is_none() {
                c.first_line = Some(hash(&line));
            }
            any = true;
            self.feed(&line, &c.shown, c.line, &clock);
            if self.piece_ready() && self.flush()? {
                let pos = self.position(c);
                self.commit(Some(&pos))?;
            }
        }
        if any {
            let pos = self.position(c);
            self.commit(Some(&pos))?;
        }
        Ok(any)
    }

    /// Reads one file from where the last run stopped (after the rest of
    /// its rotated predecessor), then follows it when asked.
    fn read_file(
        &mut self,
        path: &Path,
        follow: bool,
    ) -> Result<(), LogError> {
        if path == Path::new("-") {
            return self.read_stdin();
        }
        let key = std::path::absolute(path)
            .map_err(io_error(path))?
            .display()
            .to_string();
        let mut c = self.open(&key, path)?;
        if let Some(pos) = self.ledger.log_position(&key)? {
            if !self.started {
                self.reader.restore(&pos.state);
            }
            let same = pos.device == c.device
                && pos.inode == c.inode
                && pos.first_line == c.first_line;
            let size = fs::metadata(path).map_err(io_error(path))?.len();
            let plain = matches!(c.input, Input::Plain(_));
            if same && (!plain || size >= pos.offset) {
                Self::seek(&mut c, &pos)?;
            } else {
                self.catch_up(path, &key, &pos)?;
            }
        }
        self.drain(&mut c, !follow)?;
        if follow {
            self.follow(path, c)?;
        }
        Ok(())
    }

    /// Reads the rest of a rotated predecessor of `live` whose first line
    /// (or, before it had one, device and inode) is the stored one, from
    /// the stored offset.
    fn catch_up(
        &mut self,
        live: &Path,
        key: &str,
        pos: &LogPosition,
    ) -> Result<(), LogError> {
        for candidate in rotated_beside(live) {
            let Ok(first) = first_line_of(&candidate) else { continue };
            let same = match &pos.first_line {
                Some(h) => first.as_ref() == Some(h),
                None => fs::metadata(&candidate).is_ok_and(|m| {
                    m.dev() == pos.device && m.ino() == pos.inode
                }),
            };
            if !same {
                continue;
            }
            let mut old = self.open(key, &candidate)?;
            Self::seek(&mut old, pos)?;
            self.drain(&mut old, false)?;
            return Ok(());
        }
        Ok(())
    }

    /// Follows `path` as it grows and is rotated, until stopped.
    fn follow(&mut self, path: &Path, mut c: Cursor) -> Result<(), LogError> {
        while !self.opts.stop.load(Ordering::Relaxed) {
            std::thread::sleep(self.opts.poll);
            let Ok(meta) = fs::metadata(path) else {
                // Between a rename and the new file: read what the old
                // one still gets.
                self.drain(&mut c, false)?;
                continue;
            };
            if meta.dev() != c.device || meta.ino() != c.inode {
                // Renamed: finish the old file, then open the new one.
                self.drain(&mut c, false)?;
                c = self.open(&c.key, path)?;
                self.drain(&mut c, false)?;
                continue;
            }
            let first = first_line_of(path).map_err(io_error(path))?;
            if meta.len() < c.offset
                || (c.first_line.is_some()
                    && first.is_some()
                    && first != c.first_line)
            {
                // Truncated (copytruncate): the lines written since the
                // last read are in the copy.
                let pos = self.position(&c);
                self.catch_up(path, &c.key, &pos)?;
                c = self.open(&c.key, path)?;
            }
            self.drain(&mut c, false)?;
        }
        Ok(())
    }
}
