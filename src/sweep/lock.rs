//! One sweep per ledger and account: an exclusive, non-blocking lock on
//! `<db>.sweep-<account>.lock` (`File::try_lock`, an OS advisory lock that
//! the kernel drops when the process dies, so a crashed sweep never leaves
//! a stale lock). The file holds the holder's pid for the error message;
//! it is never deleted (deleting a lock file races with a new holder).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use super::SweepError;

/// A held sweep lock; released on drop.
#[derive(Debug)]
pub struct SweepLock {
    _file: File,
    path: PathBuf,
}

impl SweepLock {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The lock file of `account` on the ledger `db`: the account name is
/// kept to `[A-Za-z0-9._@-]`, other bytes become `_`.
pub fn lock_path(db: &Path, account: &str) -> PathBuf {
    let safe: String = account
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._@-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".sweep-{safe}.lock"));
    db.with_file_name(name)
}

/// Takes the lock at once or fails with [`SweepError::Locked`].
pub fn acquire(db: &Path, account: &str) -> Result<SweepLock, SweepError> {
    let path = lock_path(db, account);
    let io = |source| SweepError::Io { path: path.clone(), source };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(io)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            let holder = holder.trim();
            return Err(SweepError::Locked {
                path,
                holder: (!holder.is_empty()).then(|| holder.to_string()),
            });
        }
        Err(TryLockError::Error(e)) => return Err(io(e)),
    }
    file.set_len(0).map_err(io)?;
    file.rewind().map_err(io)?;
    writeln!(file, "pid {}", std::process::id()).map_err(io)?;
    Ok(SweepLock { _file: file, path })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_account_fails() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("ledger.db");
        let held = acquire(&db, "a@b").unwrap();
        assert!(held.path().ends_with("ledger.db.sweep-a@b.lock"));
        match acquire(&db, "a@b") {
            Err(SweepError::Locked { holder, .. }) => {
                assert_eq!(holder, Some(format!("pid {}", std::process::id())))
            }
            other => panic!("expected Locked, got {other:?}"),
        }
        assert!(acquire(&db, "other").is_ok());
        drop(held);
        assert!(acquire(&db, "a@b").is_ok());
    }

    #[test]
    fn account_names_are_made_file_safe() {
        let p = lock_path(Path::new("/x/l.db"), "u@h/../x y");
        assert_eq!(p, Path::new("/x/l.db.sweep-u@h_.._x_y.lock"));
    }
}
