//! Ledger failures: [`LedgerError`], whose messages name the file, and
//! the sorting of SQLite's errors into the cases an operator acts on
//! (locked, read-only, full, corrupt, cannot open).

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::ErrorCode;

/// A ledger failure. The messages name the file and say what to do; each
/// is whole (SQLite's own message inside it is not repeated as a source).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// Opened for reading only, and there is no ledger at the path.
    #[error(
        "no ledger at {}; `rebound ingest` creates one (or give --db the ledger's path)",
        path.display()
    )]
    Missing {
        /// The path given.
        path: PathBuf,
    },
    /// The path is a directory.
    #[error(
        "{} is a directory; --db takes the ledger file, e.g. {}",
        path.display(), path.join("rebound.db").display()
    )]
    IsDirectory {
        /// The path given.
        path: PathBuf,
    },
    /// The directory that would hold a new ledger does not exist.
    #[error(
        "{}: the directory {} does not exist; create it first or give --db another path",
        path.display(), dir.display()
    )]
    NoDirectory {
        /// The ledger file.
        path: PathBuf,
        /// Its missing directory.
        dir: PathBuf,
    },
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
        "{}: not a rebound ledger or the file is corrupt ({cause})",
        path.display()
    )]
    Corrupt {
        /// The ledger file.
        path: PathBuf,
        /// SQLite's message.
        cause: rusqlite::Error,
    },
    /// An SQLite database of another program (neither empty nor a
    /// ledger); left untouched.
    #[error(
        "{}: not a rebound ledger: {what}; rebound leaves it alone (give --db a ledger or a new file)",
        path.display()
    )]
    NotALedger {
        /// The file.
        path: PathBuf,
        /// What it is instead.
        what: String,
    },
    /// The file cannot be opened (missing directory, permissions).
    #[error("{}: cannot open the ledger ({cause})", path.display())]
    CannotOpen {
        /// The ledger file.
        path: PathBuf,
        /// SQLite's message.
        cause: rusqlite::Error,
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
    #[error("{}: ledger error: {cause}", path.display())]
    Sqlite {
        /// The ledger file.
        path: PathBuf,
        /// SQLite's error.
        cause: rusqlite::Error,
    },
}

/// The [`LedgerError`] of an SQLite error on the ledger at `path`: sorted
/// into the cases an operator acts on.
pub(crate) fn ledger_error(
    path: &Path,
    busy: Duration,
    e: rusqlite::Error,
) -> LedgerError {
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
            LedgerError::Corrupt { path, cause: e }
        }
        Some(ErrorCode::CannotOpen) => {
            LedgerError::CannotOpen { path, cause: e }
        }
        _ => LedgerError::Sqlite { path, cause: e },
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
