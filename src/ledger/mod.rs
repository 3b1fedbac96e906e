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
    /// The ledger holds events recorded before keys were indexed by day
    /// (migration 4): a new event's duplicate check looks them up too.
    legacy_keys: bool,
    /// Address rows committed by this connection's last ingest batch.
    known: ingest::Known,
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
            legacy_keys: false,
            known: ingest::Known::default(),
        };
        ledger.configure(opts).map_err(|e| ledger.error(e))?;
        ledger.migrate(opts.read_only)?;
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
            let addresses: Vec<ingest::Stored> = tx
                .prepare(&format!(
                    "SELECT {} FROM addresses",
                    ingest::STATE_COLUMNS
                ))?
                .query_map([], ingest::state_of)?
                .collect::<rusqlite::Result<_>>()?;
            for row in &addresses {
                ingest::recompute(tx, row, row, &policy)?;
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
        // Whatever this write changes, the address rows an ingest batch
        // remembered may no longer be what the ledger holds.
        self.known = ingest::Known::default();
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

    /// The rows of `addresses`.
    fn address_rows(l: &Ledger) -> i64 {
        l.conn
            .query_row("SELECT count(*) FROM addresses", [], |r| r.get(0))
            .unwrap()
    }

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

    /// A ledger written at schema version 1 (events keyed by address
    /// text) keeps every event, address state and id through migration 2,
    /// and goes on working: history, idempotency, new events.
    #[test]
    fn migration_2_keeps_a_version_1_ledger() {
        use crate::model::{Action, EventType, Record};
        use crate::pipeline::Report;

        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v1.db");
        let report = |id: &str, to: &str, action: Action, t: &str| Report {
            message_id: Some(id.to_string()),
            records: vec![Record {
                recipient: Some(to.to_string()),
                kind: Some(EventType::Bounce),
                action: Some(action),
                event_time: Some(t.to_string()),
                ..Record::default()
            }],
            ..Report::default()
        };
        let hard = report(
            "<r1@mx.example.net>",
            "a@example.org",
            Action::Suppress,
            "2024-01-02T00:00:00Z",
        );
        let soft = report(
            "<r2@mx.example.net>",
            "b@example.org",
            Action::Retry,
            "2024-01-03T00:00:00Z",
        );
        {
            // Version 1, written the way a version-1 rebound wrote it.
            let c = Connection::open(&p).unwrap();
            c.execute_batch(migrations()[0].1).unwrap();
            c.execute_batch("PRAGMA user_version = 1").unwrap();
            for (id, r, addr, action, t) in [
                (7, &hard, "a@example.org", "suppress", 1_704_153_600),
                (9, &soft, "b@example.org", "retry", 1_704_240_000),
            ] {
                let key = ingest::event_key(r, &r.records[0]);
                c.execute(
                    "INSERT INTO events (id, event_key, address, kind,
                       action, event_time, recorded_at)
                     VALUES (?1, ?2, ?3, 'bounce', ?4, ?5, ?5)",
                    rusqlite::params![id, &key[..], addr, action, t],
                )
                .unwrap();
            }
            c.execute_batch(
                "INSERT INTO addresses (address, domain, state,
                   suppression_reason, suppressed_at, suppressed_by,
                   hard_count, first_event, last_event)
                 VALUES ('a@example.org', 'example.org', 'suppressed',
                   'hard_bounce', 1704153600, 7, 1, 1704153600, 1704153600);
                 INSERT INTO addresses (address, domain, state, soft_streak,
                   streak_start, soft_count, first_event, last_event)
                 VALUES ('b@example.org', 'example.org', 'soft_bouncing', 1,
                   1704240000, 1, 1704240000, 1704240000);",
            )
            .unwrap();
        }
        let mut l = Ledger::open(&p).unwrap();
        let v: i64 =
            l.conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, schema_version());
        let a = l.status("a@example.org").unwrap();
        let sa = a.state.clone().unwrap();
        assert_eq!(sa.state, State::Suppressed);
        assert_eq!(sa.reason, Some(SuppressionReason::HardBounce));
        assert_eq!(a.history.len(), 1);
        assert_eq!(a.suppressing_event().map(|e| e.id), Some(7));
        let b = l.status("B@example.org").unwrap();
        assert_eq!(b.state.unwrap().state, State::SoftBouncing);
        assert_eq!(b.history.iter().map(|e| e.id).collect::<Vec<_>>(), [9]);
        // The keys written by version 1 still make a re-ingest a no-op.
        let items = [
            IngestItem { source: "again", report: &hard },
            IngestItem { source: "again", report: &soft },
        ];
        let s = l.ingest(&items, None).unwrap();
        assert_eq!((s.new_events, s.duplicates), (0, 2));
        // A new event lands on the migrated address (late: recomputed).
        let early = report(
            "<r3@mx.example.net>",
            "b@example.org",
            Action::Retry,
            "2024-01-01T00:00:00Z",
        );
        let s = l
            .ingest(&[IngestItem { source: "new", report: &early }], None)
            .unwrap();
        assert_eq!(s.new_events, 1);
        let b = l.status("b@example.org").unwrap();
        let sb = b.state.unwrap();
        assert_eq!((sb.counts.soft, sb.soft_streak), (2, 2));
        assert_eq!(sb.first_event, Some(1_704_067_200));
        assert_eq!(b.history.last().map(|e| e.id), Some(9));
        assert_eq!(address_rows(&l), 2);
    }

    /// Only the day and the first 64 bits of a key are indexed: a recorded
    /// event sharing them with a new one does not make the new one a
    /// duplicate.
    #[test]
    fn a_key_prefix_collision_is_not_a_duplicate() {
        use crate::model::{EventType, Record};
        use crate::pipeline::Report;

        let dir = tempfile::tempdir().unwrap();
        let mut l = Ledger::open(&dir.path().join("l.db")).unwrap();
        let r = Report {
            message_id: Some("<c@mx.example.net>".into()),
            records: vec![Record {
                recipient: Some("c@example.org".into()),
                kind: Some(EventType::Delay),
                ..Record::default()
            }],
            ..Report::default()
        };
        let mut other = ingest::event_key(&r, &r.records[0]);
        other[15] ^= 1;
        l.conn
            .execute(
                "INSERT INTO events (event_key, kind, event_time,
                   recorded_at, key_day)
                 VALUES (?1, 'delay', 0, 0, ?2)",
                rusqlite::params![&other[..], ingest::key_day(r.date)],
            )
            .unwrap();
        let item = [IngestItem { source: "t", report: &r }];
        let s = l.ingest(&item, None).unwrap();
        assert_eq!((s.new_events, s.duplicates), (1, 0));
        let s = l.ingest(&item, None).unwrap();
        assert_eq!((s.new_events, s.duplicates), (0, 1));
        // The new event took the next slot of the shared prefix, and its
        // address state counts it once.
        let slots: Vec<i64> = l
            .conn
            .prepare("SELECT key_slot FROM events ORDER BY id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(slots, [0, 1]);
        let st = l.status("c@example.org").unwrap().state.unwrap();
        assert_eq!(st.counts.delay, 1);
    }

    /// A version-2 ledger whose events already share a 64-bit key prefix
    /// gets distinct slots from migration 3, and its keys still make a
    /// re-ingest a no-op.
    #[test]
    fn migration_3_gives_shared_prefixes_distinct_slots() {
        use crate::model::{EventType, Record};
        use crate::pipeline::Report;

        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v2.db");
        let report = |id: &str| Report {
            message_id: Some(id.to_string()),
            records: vec![Record {
                recipient: Some("d@example.org".into()),
                kind: Some(EventType::Delay),
                event_time: Some("2024-01-02T00:00:00Z".into()),
                ..Record::default()
            }],
            ..Report::default()
        };
        let (a, b) =
            (report("<a@mx.example.net>"), report("<b@mx.example.net>"));
        let key_a = ingest::event_key(&a, &a.records[0]);
        let key_b = ingest::event_key(&b, &b.records[0]);
        // A third key sharing key_a's first 64 bits.
        let mut twin = key_a;
        twin[15] ^= 1;
        {
            let c = Connection::open(&p).unwrap();
            for (_, sql) in &migrations()[..2] {
                c.execute_batch(sql).unwrap();
            }
            c.execute_batch(
                "PRAGMA user_version = 2;
                 INSERT INTO addresses (id, address, domain, state,
                   delay_count, first_event, last_event)
                 VALUES (1, 'd@example.org', 'example.org', 'active', 3,
                   1704153600, 1704153600);",
            )
            .unwrap();
            for (id, key) in [(4, &twin), (5, &key_b), (6, &key_a)] {
                c.execute(
                    "INSERT INTO events (id, event_key, address_id, kind,
                       event_time, recorded_at)
                     VALUES (?1, ?2, 1, 'delay', 1704153600, 1704153600)",
                    rusqlite::params![id, &key[..]],
                )
                .unwrap();
            }
        }
        let mut l = Ledger::open(&p).unwrap();
        let slots: Vec<(i64, i64)> = l
            .conn
            .prepare("SELECT id, key_slot FROM events ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(slots, [(4, 0), (5, 0), (6, 1)]);
        let items = [
            IngestItem { source: "again", report: &a },
            IngestItem { source: "again", report: &b },
        ];
        let s = l.ingest(&items, None).unwrap();
        assert_eq!((s.new_events, s.duplicates), (0, 2));
        let s = l
            .ingest(
                &[IngestItem { source: "new", report: &report("<c@x>") }],
                None,
            )
            .unwrap();
        assert_eq!(s.new_events, 1);
        let st = l.status("d@example.org").unwrap().state.unwrap();
        assert_eq!(st.counts.delay, 4);
    }

    /// An address new to the ledger whose events come out of order within
    /// one batch gets its row once, with the state of its history in
    /// event-time order.
    /// A report of one soft bounce of `rcpt`, Message-ID `<s{n}@...>`,
    /// `after` seconds past 2024-01-01.
    fn soft_report(rcpt: &str, n: i64, after: i64) -> crate::pipeline::Report {
        use crate::model::{Action, EventType, Record};
        crate::pipeline::Report {
            message_id: Some(format!("<s{n}@mx.example.net>")),
            records: vec![Record {
                recipient: Some(rcpt.into()),
                kind: Some(EventType::Bounce),
                action: Some(Action::Retry),
                event_time: Some(crate::time::format_rfc3339(
                    1_704_067_200 + after,
                )),
                ..Record::default()
            }],
            ..crate::pipeline::Report::default()
        }
    }

    #[test]
    fn a_new_address_late_in_its_first_batch_is_folded_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = Ledger::open(&dir.path().join("l.db")).unwrap();
        let hours = [0, 1, 29, 77, 5];
        let reports: Vec<_> = hours
            .iter()
            .map(|&h| soft_report("Slow@Example.org", h, h * 3600))
            .collect();
        let items: Vec<IngestItem<'_>> = reports
            .iter()
            .map(|r| IngestItem { source: "t", report: r })
            .collect();
        let s = l.ingest(&items, None).unwrap();
        assert_eq!(s.new_events, 5);
        let st = l.status("slow@example.org").unwrap().state.unwrap();
        assert_eq!(st.state, State::Suppressed);
        assert_eq!(st.reason, Some(SuppressionReason::SoftEscalated));
        assert_eq!(st.suppressed_at, Some(1_704_067_200 + 77 * 3600));
        assert_eq!((st.counts.soft, st.soft_streak), (5, 5));
        assert_eq!(address_rows(&l), 1);
    }

    /// Every address's chain holds exactly the events naming it, and its
    /// stored state is the fold of those events in event-time order, after
    /// a random mix of batches: reports late and in order, duplicates,
    /// reports that name no recipient and are tied to one by a later
    /// import of sends, and manual suppressions. The retry figures of
    /// `stats` (read without a by-address index) match a count made here.
    #[test]
    fn chains_hold_every_event_of_their_address() {
        use crate::model::{Action, Category, EventType, Record};
        use crate::pipeline::Report;
        use std::collections::HashMap;

        let mut seed = 7u64;
        let mut rng = move |n: u64| {
            seed = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = seed;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)) % n
        };
        let dir = tempfile::tempdir().unwrap();
        let mut l = Ledger::open(&dir.path().join("l.db")).unwrap();
        let t0 = 1_704_067_200i64;
        let mut sends = Vec::new();
        for round in 0..6 {
            let reports: Vec<Report> = (0..120)
                .map(|i| {
                    let n = rng(30);
                    let time = t0 + rng(40 * 86_400) as i64;
                    let (kind, action) = match rng(6) {
                        0 => (EventType::Bounce, Action::Suppress),
                        1 | 2 => (EventType::Bounce, Action::Retry),
                        3 => (EventType::Delivered, Action::Ignore),
                        4 => (EventType::Delay, Action::Ignore),
                        _ => (EventType::Complaint, Action::Suppress),
                    };
                    let orphan = rng(8) == 0;
                    let sent = format!("<send-{round}-{i}@example.com>");
                    if orphan {
                        sends.push(sends::Send {
                            message_id: sent.clone(),
                            recipient: format!("u{n}@example.org"),
                            campaign_id: None,
                            sent_at: time - 60,
                        });
                    }
                    // Some reports come again in a later round.
                    let id = rng(400);
                    Report {
                        message_id: Some(format!("<r{id}@mx.example.net>")),
                        date: Some(time + rng(3) as i64 * 86_400),
                        records: vec![Record {
                            recipient: (!orphan)
                                .then(|| format!("U{n}@example.org")),
                            original_message_id: Some(sent),
                            kind: Some(kind),
                            action: Some(action),
                            category: (kind == EventType::Bounce).then_some(
                                if action == Action::Retry {
                                    Category::Soft
                                } else {
                                    Category::Hard
                                },
                            ),
                            event_time: Some(crate::time::format_rfc3339(
                                time,
                            )),
                            ..Record::default()
                        }],
                        ..Report::default()
                    }
                })
                .collect();
            for chunk in reports.chunks(50) {
                let items: Vec<IngestItem<'_>> = chunk
                    .iter()
                    .map(|r| IngestItem { source: "t", report: r })
                    .collect();
                l.ingest(&items, None).unwrap();
            }
            let who = format!("u{}@example.org", rng(30));
            if !l.suppress(&who, "by hand").unwrap() {
                l.unsuppress(&who, "by hand").unwrap();
            }
        }
        l.import_sends(&sends).unwrap();

        let rows: Vec<ingest::Stored> = l
            .conn
            .prepare(&format!(
                "SELECT {} FROM addresses",
                ingest::STATE_COLUMNS
            ))
            .unwrap()
            .query_map([], ingest::state_of)
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(rows.len() > 20, "{} addresses", rows.len());
        let policy = l.policy();
        for row in &rows {
            let chained = ingest::history(&l.conn, row.head).unwrap();
            let scanned: Vec<state::Fact> = l
                .conn
                .prepare(&format!(
                    "SELECT {} FROM events WHERE address_id = ?1
                     ORDER BY event_time, id",
                    ingest::FACT_COLUMNS
                ))
                .unwrap()
                .query_map([row.id], ingest::fact_of)
                .unwrap()
                .map(|f| f.unwrap().unwrap())
                .collect();
            assert!(!scanned.is_empty());
            assert_eq!(chained, scanned, "address {}", row.id);
            assert_eq!(row.state, AddressState::fold(&scanned, &policy));
        }

        // Retry figures counted here: addresses with a soft bounce, and
        // of them those delivered to after their first soft bounce.
        let mut per: HashMap<i64, (Option<i64>, Option<i64>)> = HashMap::new();
        let mut st = l
            .conn
            .prepare(
                "SELECT address_id, kind, category, event_time FROM events
                 WHERE address_id IS NOT NULL",
            )
            .unwrap();
        let mut q = st.query([]).unwrap();
        while let Some(r) = q.next().unwrap() {
            let kind: String = r.get(1).unwrap();
            let category: Option<String> = r.get(2).unwrap();
            let t: i64 = r.get(3).unwrap();
            let e = per.entry(r.get(0).unwrap()).or_default();
            if kind == "bounce" && category.as_deref() == Some("soft") {
                e.0 = Some(e.0.map_or(t, |x| x.min(t)));
            }
            if kind == "delivered" {
                e.1 = Some(e.1.map_or(t, |x| x.max(t)));
            }
        }
        drop(q);
        drop(st);
        let soft = per.values().filter(|p| p.0.is_some()).count() as i64;
        let recovered = per
            .values()
            .filter(|p| matches!(p, (Some(s), Some(d)) if d > s))
            .count() as i64;
        let retry = l.stats(&stats::Filter::default()).unwrap().retry;
        assert_eq!((retry.soft_bounced, retry.recovered), (soft, recovered));
    }

    /// An ingest batch starts from the address rows the last one
    /// committed, unless someone else wrote in between: another connection
    /// (another process) or another kind of write on this one.
    #[test]
    fn remembered_address_rows_never_hide_another_writer() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("l.db");
        let mut a = Ledger::open(&p).unwrap();
        let mut b = Ledger::open(&p).unwrap();
        let ingest = |l: &mut Ledger, n: i64| {
            let r = soft_report("x@example.org", n, n * 60);
            l.ingest(&[IngestItem { source: "t", report: &r }], None).unwrap();
        };
        ingest(&mut a, 1);
        // Another connection records a bounce and suppresses by hand.
        ingest(&mut b, 2);
        assert!(b.suppress("x@example.org", "by hand").unwrap());
        ingest(&mut a, 3);
        let st = a.status("x@example.org").unwrap();
        let s = st.state.unwrap();
        assert_eq!(s.counts.soft, 3);
        assert_eq!(s.state, State::Suppressed);
        assert_eq!(s.reason, Some(SuppressionReason::Manual));
        assert_eq!(st.history.len(), 4);
        // This connection lifts it, then ingests again.
        assert!(a.unsuppress("x@example.org", "by hand").unwrap());
        ingest(&mut a, 4);
        let st = b.status("x@example.org").unwrap();
        let s = st.state.unwrap();
        assert_eq!((s.counts.soft, s.state), (4, State::Active));
        assert_eq!(st.history.len(), 6);
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
