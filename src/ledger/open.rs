//! Opening a ledger: the SQLite connection, what the file is (a ledger,
//! a new file or another program's database, [`identity`](super::identity)),
//! its settings (WAL with `synchronous=NORMAL`, checkpoint and cache sizes,
//! the size cap), then the schema migrations ([`migrate`](super::migrate)), then what the
//! ledger keeps in memory (the escalation policy, whether old-style keys
//! exist). A read-only ledger on read-only media is opened `immutable`.
//! A directory given as the ledger, a missing ledger for reading and a
//! missing directory for a new one are told apart before SQLite is asked.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

use super::error::ledger_error;
use super::identity::Identity;
use super::{Ledger, LedgerError, Policy, ingest};

/// How to open a ledger.
#[derive(Debug, Clone)]
pub struct LedgerOptions {
    /// How long to wait for another process's lock.
    pub busy_timeout: Duration,
    /// Refuse to grow the file beyond about this many bytes (SQLite
    /// `max_page_count`); writes past it fail as [`LedgerError::Full`].
    pub max_size: Option<u64>,
    /// Open for reading only (no migration, no file created).
    pub read_only: bool,
    /// Make each commit durable across a power cut as well
    /// (`synchronous=FULL`: the WAL is synced at every commit), for a
    /// writer that acknowledges what it recorded (`rebound serve`).
    pub durable: bool,
}

impl Default for LedgerOptions {
    fn default() -> Self {
        LedgerOptions {
            busy_timeout: Duration::from_secs(5),
            max_size: None,
            read_only: false,
            durable: false,
        }
    }
}

impl Ledger {
    /// Opens (creating or migrating) the ledger at `path` with default
    /// options.
    pub fn open(path: &Path) -> Result<Ledger, LedgerError> {
        Ledger::open_with(path, &LedgerOptions::default())
    }

    /// Opens the ledger at `path`.
    ///
    /// A read-only open of a ledger on a read-only file system (where
    /// SQLite cannot create the WAL index) falls back to SQLite's
    /// `immutable` mode: nothing can change the file there anyway.
    pub fn open_with(
        path: &Path,
        opts: &LedgerOptions,
    ) -> Result<Ledger, LedgerError> {
        check_path(path, opts.read_only)?;
        match Ledger::connect(path, opts, false) {
            Err(LedgerError::ReadOnly { .. }) if opts.read_only => {
                Ledger::connect(path, opts, true)
            }
            other => other,
        }
    }

    fn connect(
        path: &Path,
        opts: &LedgerOptions,
        immutable: bool,
    ) -> Result<Ledger, LedgerError> {
        let flags = if opts.read_only {
            OpenFlags::SQLITE_OPEN_READ_ONLY
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
                | OpenFlags::SQLITE_OPEN_URI
        } else {
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX
        };
        let opened = if immutable {
            Connection::open_with_flags(immutable_uri(path), flags)
        } else {
            Connection::open_with_flags(path, flags)
        };
        let conn =
            opened.map_err(|e| ledger_error(path, opts.busy_timeout, e))?;
        let mut ledger = Ledger {
            conn,
            path: path.to_path_buf(),
            busy_timeout: opts.busy_timeout,
            policy: Policy::default(),
            legacy_keys: false,
            known: ingest::Known::default(),
        };
        ledger
            .conn
            .busy_timeout(opts.busy_timeout)
            .map_err(|e| ledger.error(e))?;
        let identity = ledger.identify()?;
        if opts.read_only && identity == Identity::Empty {
            return Err(LedgerError::Missing { path: path.to_path_buf() });
        }
        ledger.configure(opts).map_err(|e| ledger.error(e))?;
        ledger.migrate(opts.read_only, identity)?;
        ledger.policy = ledger.load_policy().map_err(|e| ledger.error(e))?;
        ledger.legacy_keys = ledger
            .conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM events INDEXED BY events_by_key
                   WHERE key_day IS NULL)",
                [],
                |r| r.get(0),
            )
            .map_err(|e| ledger.error(e))?;
        Ok(ledger)
    }

    fn configure(&self, opts: &LedgerOptions) -> rusqlite::Result<()> {
        let c = &self.conn;
        if !opts.read_only {
            let mode: String =
                c.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_READONLY),
                    Some(format!("cannot switch to WAL (journal {mode})")),
                ));
            }
            // WAL with synchronous=NORMAL: a committed batch survives the
            // process being killed (it is in the WAL); only a power cut
            // can lose the last batches, never corrupt the file.
            // `durable` syncs the WAL at every commit too.
            let sync = if opts.durable { "FULL" } else { "NORMAL" };
            c.pragma_update(None, "synchronous", sync)?;
            // Checkpoint every ~512 MB of WAL (4 KiB pages) rather than
            // every 4 MB. A batch dirties pages all over the indexes and
            // the address rows, and the next batches dirty most of the same
            // pages again: a checkpoint copies each page once however many
            // batches wrote it, so rarer checkpoints copy far less
            // (`benches/ledger.rs`). The WAL is cut back to 64 MB once a
            // checkpoint has emptied it.
            c.pragma_update(None, "wal_autocheckpoint", 131_072)?;
            c.pragma_update(None, "journal_size_limit", 64i64 << 20)?;
        }
        // Up to 1 GiB of page cache (allocated as pages are read): the
        // indexes written at random positions stay in memory, and a big
        // batch does not spill dirty pages into the WAL before its commit.
        c.pragma_update(None, "cache_size", -1_048_576)?;
        c.pragma_update(None, "mmap_size", 1i64 << 30)?;
        c.pragma_update(None, "temp_store", "MEMORY")?;
        if let Some(max) = opts.max_size {
            let page: i64 =
                c.query_row("PRAGMA page_size", [], |r| r.get(0))?;
            let pages = (max as i64 / page.max(512)).max(1);
            c.query_row(
                &format!("PRAGMA max_page_count={pages}"),
                [],
                |_| Ok(()),
            )?;
        }
        Ok(())
    }
}

/// The mistakes SQLite would only call "unable to open database file" or
/// "disk I/O error": a directory given as the ledger, a missing ledger
/// for reading, a missing directory for a new one.
fn check_path(path: &Path, read_only: bool) -> Result<(), LedgerError> {
    let path_buf = || path.to_path_buf();
    if path.is_dir() {
        return Err(LedgerError::IsDirectory { path: path_buf() });
    }
    if path.exists() {
        return Ok(());
    }
    if read_only {
        return Err(LedgerError::Missing { path: path_buf() });
    }
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.is_dir() => {
            Err(LedgerError::NoDirectory {
                path: path_buf(),
                dir: dir.to_path_buf(),
            })
        }
        _ => Ok(()),
    }
}

/// An SQLite URI opening `path` as immutable (read-only media).
fn immutable_uri(path: &Path) -> String {
    let mut uri = String::from("file:");
    for b in path.to_string_lossy().bytes() {
        match b {
            b'%' | b'?' | b'#' => uri.push_str(&format!("%{b:02X}")),
            _ => uri.push(char::from(b)),
        }
    }
    uri.push_str("?immutable=1");
    uri
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::schema_version;

    #[test]
    fn opens_migrates_and_reopens() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.db");
        let l = Ledger::open(&p).unwrap();
        assert_eq!(l.checkpoint("a", "INBOX").unwrap(), None);
        drop(l);
        let l = Ledger::open(&p).unwrap();
        let v: i64 =
            l.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, schema_version());
    }
}
