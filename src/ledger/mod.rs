//! The SQLite ledger: every event ever recorded, and for each address the
//! truth of whether it may still be mailed.
//!
//! The schema is `schema.sql` at the crate root, embedded and migrated
//! forward on [`Ledger::open`]. The file runs in WAL mode with
//! `synchronous=NORMAL`: every batch is one transaction, so a process killed
//! mid-ingest loses nothing committed, and the idempotency keys make a
//! re-run record nothing twice. Errors name the file and say what is wrong
//! (locked, read-only, full, corrupt); nothing here panics.
//!
//! Concerns, one module each: [`ingest`] (recording reports and webhook
//! events), [`state`] (the address state machine), [`history`] (one
//! address's history, manual suppress / unsuppress), [`sends`] (what was
//! sent), [`export`] (suppression lists for sending platforms), [`stats`]
//! (rates and distributions), [`webhook`] (sending-platform events).

pub mod export;
pub mod history;
pub mod ingest;
pub mod sends;
pub mod state;
pub mod stats;
pub mod webhook;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension};

pub use ingest::{IngestItem, IngestSummary};
pub use state::{AddressState, Policy, State, SuppressionReason};

/// The schema and its migrations (see the head of the file).
const SCHEMA: &str = include_str!("../../schema.sql");

/// A ledger failure. The messages name the file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// Another process holds the write lock longer than the busy timeout.
    #[error(
        "{}: the ledger is locked by another process (gave up after {} ms)",
        path.display(), timeout.as_millis()
    )]
    Locked {
        /// The ledger file.
        path: PathBuf,
        /// How long we waited.
        timeout: Duration,
    },
    /// The file (or its directory) cannot be written.
    #[error(
        "{}: the ledger is read-only (check the permissions of the file and its directory, and the file system)",
        path.display()
    )]
    ReadOnly {
        /// The ledger file.
        path: PathBuf,
    },
    /// The disk, or the configured size limit, is full.
    #[error(
        "{}: the disk or the ledger's size limit is full; the batch being written was rolled back",
        path.display()
    )]
    Full {
        /// The ledger file.
        path: PathBuf,
    },
    /// Not an SQLite file, or a damaged one.
    #[error(
        "{}: not a rebound ledger or the file is corrupt ({source})",
        path.display()
    )]
    Corrupt {
        /// The ledger file.
        path: PathBuf,
        /// SQLite's message.
        source: rusqlite::Error,
    },
    /// The file cannot be opened (missing directory, permissions).
    #[error("{}: cannot open the ledger ({source})", path.display())]
    CannotOpen {
        /// The ledger file.
        path: PathBuf,
        /// SQLite's message.
        source: rusqlite::Error,
    },
    /// Written by a newer rebound.
    #[error(
        "{}: ledger schema version {found} is newer than this rebound supports ({supported})",
        path.display()
    )]
    NewerSchema {
        /// The ledger file.
        path: PathBuf,
        /// Its version.
        found: i64,
        /// The latest this build knows.
        supported: i64,
    },
    /// Opened read-only but the schema needs a migration.
    #[error(
        "{}: the ledger needs an upgrade (schema {found} < {supported}); run a writing command such as `rebound ingest` first",
        path.display()
    )]
    NeedsMigration {
        /// The ledger file.
        path: PathBuf,
        /// Its version.
        found: i64,
        /// The latest this build knows.
        supported: i64,
    },
    /// Any other SQLite failure.
    #[error("{}: ledger error: {source}", path.display())]
    Sqlite {
        /// The ledger file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
}

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
}

impl Default for LedgerOptions {
    fn default() -> Self {
        LedgerOptions {
            busy_timeout: Duration::from_secs(5),
            max_size: None,
            read_only: false,
        }
    }
}

/// How far an IMAP mailbox has been swept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The account (user@host).
    pub account: String,
    /// The mailbox name.
    pub mailbox: String,
    /// The mailbox's UIDVALIDITY when `last_uid` was read.
    pub uidvalidity: u32,
    /// The highest UID recorded.
    pub last_uid: u32,
}

/// An open ledger.
pub struct Ledger {
    conn: Connection,
    path: PathBuf,
    busy_timeout: Duration,
    policy: Policy,
}

/// The migrations of [`SCHEMA`]: (version, SQL).
fn migrations() -> Vec<(i64, &'static str)> {
    let mut out = Vec::new();
    let mut rest = SCHEMA;
    while let Some(i) = rest.find("\n-- migration ") {
        let after = &rest[i + "\n-- migration ".len()..];
        let end = after.find('\n').unwrap_or(after.len());
        let version = after[..end].trim().parse().unwrap_or(0);
        let body = &after[end..];
        let next = body.find("\n-- migration ").unwrap_or(body.len());
        out.push((version, &body[..next]));
        rest = &body[next..];
    }
    out
}

/// The schema version this build writes.
pub fn schema_version() -> i64 {
    migrations().last().map_or(0, |m| m.0)
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
        let conn = opened.map_err(|e| classify(path, opts.busy_timeout, e))?;
        let mut ledger = Ledger {
            conn,
            path: path.to_path_buf(),
            busy_timeout: opts.busy_timeout,
            policy: Policy::default(),
        };
        ledger.configure(opts).map_err(|e| ledger.error(e))?;
        ledger.migrate(opts.read_only)?;
        ledger.policy = ledger.load_policy().map_err(|e| ledger.error(e))?;
        Ok(ledger)
    }

    fn configure(&self, opts: &LedgerOptions) -> rusqlite::Result<()> {
        let c = &self.conn;
        c.busy_timeout(opts.busy_timeout)?;
        // Reading the schema first turns "not a database" into an error
        // here rather than in the middle of a command.
        c.query_row("SELECT count(*) FROM sqlite_master", [], |_| Ok(()))?;
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
            c.pragma_update(None, "synchronous", "NORMAL")?;
            // Checkpoint every ~64 MB of WAL rather than every 4 MB: fewer,
            // larger copies back into the file during big ingests.
            c.pragma_update(None, "wal_autocheckpoint", 16384)?;
        }
        c.pragma_update(None, "cache_size", -262144)?;
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

    fn migrate(&mut self, read_only: bool) -> Result<(), LedgerError> {
        let found: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| self.error(e))?;
        let supported = schema_version();
        if found > supported {
            return Err(LedgerError::NewerSchema {
                path: self.path.clone(),
                found,
                supported,
            });
        }
        if found == supported {
            return Ok(());
        }
        if read_only {
            return Err(LedgerError::NeedsMigration {
                path: self.path.clone(),
                found,
                supported,
            });
        }
        let path = self.path.clone();
        let busy = self.busy_timeout;
        let tx = self
            .conn
            .transaction_with_behavior(
                rusqlite::TransactionBehavior::Immediate,
            )
            .map_err(|e| classify(&path, busy, e))?;
        let run = || -> rusqlite::Result<()> {
            // Re-read under the lock: another process may have migrated.
            let now: i64 =
                tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            for (v, sql) in migrations() {
                if v > now {
                    tx.execute_batch(sql)?;
                }
            }
            tx.execute_batch(&format!("PRAGMA user_version={supported}"))
        };
        run().map_err(|e| classify(&path, busy, e))?;
        tx.commit().map_err(|e| classify(&path, busy, e))
    }

    /// The ledger file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The soft-bounce escalation policy in force.
    pub fn policy(&self) -> Policy {
        self.policy
    }

    fn load_policy(&self) -> rusqlite::Result<Policy> {
        let get = |k: &str| -> rusqlite::Result<Option<i64>> {
            let v: Option<String> = self
                .conn
                .query_row(
                    "SELECT value FROM settings WHERE key = ?1",
                    [k],
                    |r| r.get(0),
                )
                .optional()?;
            Ok(v.and_then(|v| v.parse().ok()))
        };
        let d = Policy::default();
        Ok(Policy {
            soft_attempts: get("soft_attempts")?
                .and_then(|v| u32::try_from(v).ok())
                .unwrap_or(d.soft_attempts),
            soft_span_secs: get("soft_span_secs")?.unwrap_or(d.soft_span_secs),
        })
    }

    /// Stores a new escalation policy and, when it differs from the one in
    /// force, recomputes every address under it (one transaction).
    pub fn set_policy(&mut self, policy: Policy) -> Result<(), LedgerError> {
        if policy == self.policy {
            return Ok(());
        }
        self.write(|tx| {
            for (k, v) in [
                ("soft_attempts", i64::from(policy.soft_attempts)),
                ("soft_span_secs", policy.soft_span_secs),
            ] {
                tx.execute(
                    "INSERT INTO settings (key, value) VALUES (?1, ?2)
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    rusqlite::params![k, v.to_string()],
                )?;
            }
            let addresses: Vec<String> = tx
                .prepare("SELECT address FROM addresses")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            for a in &addresses {
                ingest::recompute(tx, a, &policy)?;
            }
            Ok(())
        })?;
        self.policy = policy;
        Ok(())
    }

    /// The checkpoint of an IMAP mailbox, if it was ever swept.
    pub fn checkpoint(
        &self,
        account: &str,
        mailbox: &str,
    ) -> Result<Option<Checkpoint>, LedgerError> {
        self.conn
            .query_row(
                "SELECT uidvalidity, last_uid FROM checkpoints
                 WHERE account = ?1 AND mailbox = ?2",
                [account, mailbox],
                |r| {
                    Ok(Checkpoint {
                        account: account.to_string(),
                        mailbox: mailbox.to_string(),
                        uidvalidity: r.get(0)?,
                        last_uid: r.get(1)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.error(e))
    }

    /// Runs `f` in one write transaction (taken at once, so it waits for
    /// the lock rather than failing half-way), committing on success.
    fn write<T>(
        &mut self,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<T>,
    ) -> Result<T, LedgerError> {
        let (path, busy) = (self.path.clone(), self.busy_timeout);
        let tx = self
            .conn
            .transaction_with_behavior(
                rusqlite::TransactionBehavior::Immediate,
            )
            .map_err(|e| classify(&path, busy, e))?;
        let out = f(&tx).map_err(|e| classify(&path, busy, e))?;
        tx.commit().map_err(|e| classify(&path, busy, e))?;
        Ok(out)
    }

    /// Turns an SQLite error into a [`LedgerError`] naming the file.
    fn error(&self, e: rusqlite::Error) -> LedgerError {
        classify(&self.path, self.busy_timeout, e)
    }

    /// The connection, for the read-only queries of the submodules.
    fn conn(&self) -> &Connection {
        &self.conn
    }
}

/// Sorts an SQLite error into the cases an operator acts on.
fn classify(path: &Path, busy: Duration, e: rusqlite::Error) -> LedgerError {
    let path = path.to_path_buf();
    match e.sqlite_error_code() {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            LedgerError::Locked { path, timeout: busy }
        }
        Some(ErrorCode::ReadOnly) => LedgerError::ReadOnly { path },
        Some(ErrorCode::CannotOpen) if is_read_only(&path) => {
            LedgerError::ReadOnly { path }
        }
        Some(ErrorCode::DiskFull) => LedgerError::Full { path },
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => {
            LedgerError::Corrupt { path, source: e }
        }
        Some(ErrorCode::CannotOpen) => {
            LedgerError::CannotOpen { path, source: e }
        }
        _ => LedgerError::Sqlite { path, source: e },
    }
}

/// True when the ledger file exists but cannot be written, or its
/// directory cannot take the WAL files (permissions, read-only mount).
fn is_read_only(path: &Path) -> bool {
    use std::io::ErrorKind::{PermissionDenied, ReadOnlyFilesystem};
    let refused = |e: &std::io::Error| {
        matches!(e.kind(), PermissionDenied | ReadOnlyFilesystem)
    };
    if !path.exists() {
        return false;
    }
    if std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .is_err_and(|e| refused(&e))
    {
        return true;
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let probe = dir.join(format!(".rebound-probe-{}", std::process::id()));
    match std::fs::OpenOptions::new().write(true).create_new(true).open(&probe)
    {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            false
        }
        Err(e) => refused(&e),
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

/// Lower-cases an address and trims it (the ledger's key).
pub fn normalise_address(a: &str) -> String {
    a.trim().trim_start_matches('<').trim_end_matches('>').to_lowercase()
}

/// The domain of an address (after the last `@`), or "".
pub fn domain_of(address: &str) -> &str {
    address.rsplit_once('@').map_or("", |(_, d)| d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_splits_into_numbered_migrations() {
        let m = migrations();
        assert!(!m.is_empty());
        for (i, (v, sql)) in m.iter().enumerate() {
            assert_eq!(*v, i as i64 + 1);
            assert!(sql.contains("CREATE"));
        }
        assert_eq!(schema_version(), m.len() as i64);
    }

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
