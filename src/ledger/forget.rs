//! Erasure (`rebound forget`): an address and everything that names it
//! leave the ledger, yet the address stays refused if it ever comes back.
//!
//! What goes, in one write transaction with SQLite's `secure_delete` on
//! (deleted content is overwritten with zeros):
//! - the address's row, its baseline and every event of its chain;
//! - the rows of `sends` and `log_messages` whose recipient it is;
//! - every other mention, found by scanning each text and blob column of
//!   every table (so a table added later is covered too): an event of
//!   another address whose diagnostic quotes it, a Message-ID built from
//!   it, a log reader's saved state; the address is replaced by
//!   `[forgotten]` (a row whose key would collide once redacted is
//!   deleted instead).
//!
//! What stays: the address's HMAC-SHA256 under a secret the ledger makes
//! on first use and keeps in `settings` (`forget_secret`), and the
//! suppression it had (a forgotten address that was mailable is kept as
//! `manual`): [`check`](super::check) refuses it by that hash. The
//! erasure itself is a `forget` audit event carrying the note and the
//! number of addresses, never the address.
//!
//! After the commit the freed pages are given back (`incremental_vacuum`)
//! and the WAL is checkpointed and truncated, so that no old copy of a
//! page survives in the file or beside it.

use aho_corasick::AhoCorasick;
use hmac::{Hmac, Mac};
use rusqlite::{OptionalExtension, params};
use sha2::Sha256;

use super::addresses::{CHAIN, load};
use super::key::{Key, insert_keyed, key_day, key_of};
use super::state::State;
use super::{Ledger, LedgerError, normalise_address};
use crate::time;

/// What replaces a forgotten address in the texts that quote it.
pub const REDACTED: &str = "[forgotten]";

/// What [`Ledger::forget`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ForgetSummary {
    /// Addresses forgotten (already forgotten ones count again).
    pub addresses: usize,
    /// Their events deleted.
    pub events: usize,
    /// Other rows deleted (sends, log messages, colliding keys).
    pub rows: usize,
    /// Values in which a mention was replaced.
    pub redacted: usize,
    /// Whether the WAL could be emptied (false: another connection was
    /// reading; old page copies stay in the WAL until the next
    /// checkpoint).
    pub wal_truncated: bool,
}

/// The ledger's secret for address hashes, if one was made.
pub(crate) fn secret(
    conn: &rusqlite::Connection,
) -> rusqlite::Result<Option<Vec<u8>>> {
    let hex: Option<String> = conn
        .query_row(
            "SELECT value FROM settings WHERE key = 'forget_secret'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(hex.and_then(|h| from_hex(&h)))
}

/// The keyed hash of a (normalised) address.
pub(crate) fn address_hash(secret: &[u8], address: &str) -> [u8; 32] {
    // HMAC takes a key of any length; new_from_slice cannot fail.
    match <Hmac<Sha256> as Mac>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(address.as_bytes());
            mac.finalize().into_bytes().into()
        }
        // HMAC takes keys of any length: never reached.
        Err(_) => [0; 32],
    }
}

fn from_hex(h: &str) -> Option<Vec<u8>> {
    if !h.len().is_multiple_of(2) {
        return None;
    }
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(h.get(i..i + 2)?, 16).ok())
        .collect()
}

/// The secret, made (32 random bytes from OpenSSL's generator) when
/// missing.
fn secret_or_new(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<Vec<u8>> {
    if let Some(s) = secret(tx)? {
        return Ok(s);
    }
    let mut s = vec![0u8; 32];
    openssl::rand::rand_bytes(&mut s)
        .map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))?;
    let hex: String = s.iter().map(|b| format!("{b:02x}")).collect();
    tx.execute(
        "INSERT INTO settings (key, value) VALUES ('forget_secret', ?1)",
        [hex],
    )?;
    Ok(s)
}

/// Whether `b` can stand in an address's local part, so that a match
/// preceded by it is the end of a longer address.
fn local_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || b >= 0x80
        || b"!#$%&'*+-./=?^_`{|}~".contains(&b)
}

/// Whether `b` can stand in a domain, so that a match followed by it is
/// the start of a longer address.
fn domain_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b >= 0x80 || b == b'-'
}

/// `value` with every mention of a pattern of `ac` replaced by
/// [`REDACTED`]; `None` when it mentions none. A mention is a match not
/// run into by more of an address on either side (a final dot ends a
/// sentence, not the domain).
fn redact(ac: &AhoCorasick, value: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let mut last = 0;
    for m in ac.find_iter(value) {
        let before = m.start().checked_sub(1).map(|i| value[i]);
        let after = value.get(m.end()).copied();
        let after2 = value.get(m.end() + 1).copied();
        let joined = before.is_some_and(local_byte)
            || after.is_some_and(|b| {
                domain_byte(b) || b == b'.' && after2.is_some_and(domain_byte)
            });
        if joined {
            continue;
        }
        out.extend_from_slice(&value[last..m.start()]);
        out.extend_from_slice(REDACTED.as_bytes());
        last = m.end();
    }
    if last == 0 {
        return None;
    }
    out.extend_from_slice(&value[last..]);
    Some(out)
}

/// A table's columns that may hold an address.
struct Columns {
    table: String,
    names: Vec<String>,
    /// Whether the table has rowids (a row is found by its rowid, else
    /// by the value).
    rowid: bool,
}

/// The text and blob columns of every table but the hashes and settings.
fn text_columns(tx: &rusqlite::Connection) -> rusqlite::Result<Vec<Columns>> {
    let tables: Vec<(String, String)> = tx
        .prepare(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table'
               AND name NOT LIKE 'sqlite_%'
               AND name NOT IN ('forgotten', 'settings')",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::new();
    for (table, sql) in tables {
        let rowid = !sql.to_uppercase().contains("WITHOUT ROWID");
        let mut names = Vec::new();
        let mut st =
            tx.prepare("SELECT name, type FROM pragma_table_info(?1)")?;
        let cols = st.query_map([&table], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?;
        for c in cols {
            let (name, ty) = c?;
            let ty = ty.to_uppercase();
            if ty.is_empty() || ty.contains("TEXT") || ty.contains("BLOB") {
                names.push(name);
            }
        }
        if !names.is_empty() {
            out.push(Columns { table, names, rowid });
        }
    }
    Ok(out)
}

/// An SQL identifier, quoted.
fn quoted(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// A mention found: the row (its rowid, or `None`), the column and the
/// value as stored.
struct Hit {
    rowid: Option<i64>,
    column: usize,
    value: rusqlite::types::Value,
}

/// The bytes of a text or blob value.
fn bytes_of(v: &rusqlite::types::Value) -> &[u8] {
    match v {
        rusqlite::types::Value::Text(s) => s.as_bytes(),
        rusqlite::types::Value::Blob(b) => b,
        _ => &[],
    }
}

/// The value `v` redacted, of the same type.
fn redacted_value(
    ac: &AhoCorasick,
    v: &rusqlite::types::Value,
) -> Option<rusqlite::types::Value> {
    let new = redact(ac, bytes_of(v))?;
    Some(match v {
        rusqlite::types::Value::Text(_) => rusqlite::types::Value::Text(
            String::from_utf8_lossy(&new).into_owned(),
        ),
        _ => rusqlite::types::Value::Blob(new),
    })
}

/// Replaces every mention in every text and blob column (one scan per
/// table); returns (values redacted, rows deleted).
fn redact_everywhere(
    tx: &rusqlite::Connection,
    ac: &AhoCorasick,
) -> rusqlite::Result<(usize, usize)> {
    let (mut redacted, mut deleted) = (0, 0);
    for c in text_columns(tx)? {
        let t = quoted(&c.table);
        let names: Vec<String> = c.names.iter().map(|n| quoted(n)).collect();
        // Only values holding an `@` can hold an address.
        let any_at = names
            .iter()
            .map(|n| format!("instr({n}, '@') > 0"))
            .collect::<Vec<_>>()
            .join(" OR ");
        let key = if c.rowid { "rowid" } else { "NULL" };
        let mut hits = Vec::new();
        {
            let mut st = tx.prepare(&format!(
                "SELECT {key}, {} FROM {t} WHERE {any_at}",
                names.join(", ")
            ))?;
            let mut rows = st.query([])?;
            while let Some(r) = rows.next()? {
                for column in 0..names.len() {
                    let value: rusqlite::types::Value = r.get(column + 1)?;
                    if ac.is_match(bytes_of(&value)) {
                        hits.push(Hit { rowid: r.get(0)?, column, value });
                    }
                }
            }
        }
        for h in hits {
            let Some(new) = redacted_value(ac, &h.value) else { continue };
            let n = &names[h.column];
            let (filter, arg) = match h.rowid {
                Some(id) => (
                    "rowid = ?1".to_string(),
                    rusqlite::types::Value::Integer(id),
                ),
                None => (format!("{n} = ?1"), h.value),
            };
            let set = tx.execute(
                &format!("UPDATE {t} SET {n} = ?2 WHERE {filter}"),
                params![arg, new],
            );
            match set {
                Ok(k) => redacted += k,
                // The redacted value collides with a key: the row goes.
                Err(rusqlite::Error::SqliteFailure(e, _))
                    if e.code == rusqlite::ErrorCode::ConstraintViolation =>
                {
                    deleted += tx.execute(
                        &format!("DELETE FROM {t} WHERE {filter}"),
                        params![arg],
                    )?;
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok((redacted, deleted))
}

impl Ledger {
    /// Forgets `addresses` (see the module doc), recording one `forget`
    /// audit event with `note`. A note naming one of the addresses is
    /// refused, since the audit event would keep it.
    pub fn forget(
        &mut self,
        addresses: &[&str],
        note: &str,
    ) -> Result<ForgetSummary, LedgerError> {
        let mut list: Vec<String> = addresses
            .iter()
            .map(|a| normalise_address(a))
            .filter(|a| !a.is_empty())
            .collect();
        list.sort_unstable();
        list.dedup();
        let lower_note = note.to_lowercase();
        if let Some(a) = list.iter().find(|a| lower_note.contains(a.as_str()))
        {
            return Err(LedgerError::Invalid {
                path: self.path.clone(),
                message: format!(
                    "the note names {a}, and the audit event would keep it"
                ),
            });
        }
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(&list)
            .map_err(|e| LedgerError::Invalid {
                path: self.path.clone(),
                message: format!("cannot search for the addresses: {e}"),
            })?;
        let now = time::now();
        self.conn
            .pragma_update(None, "secure_delete", "ON")
            .map_err(|e| self.error(e))?;
        let done = self.write(|tx| {
            let secret = secret_or_new(tx)?;
            let mut sum = ForgetSummary {
                addresses: list.len(),
                ..ForgetSummary::default()
            };
            for a in &list {
                let row = load(tx, a)?;
                let (reason, at) = match &row {
                    Some(r) if r.state.state == State::Suppressed => (
                        r.state.reason.map_or("manual", |x| x.as_str()),
                        r.state.suppressed_at.unwrap_or(now),
                    ),
                    _ => ("manual", now),
                };
                tx.prepare_cached(
                    "INSERT INTO forgotten (hash, reason, suppressed_at,
                       forgotten_at)
                     VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
                )?
                .execute(params![
                    &address_hash(&secret, a)[..],
                    reason,
                    at,
                    now
                ])?;
                if let Some(row) = row {
                    sum.events += tx
                        .prepare_cached(&format!(
                            "{CHAIN} DELETE FROM events WHERE id IN chain"
                        ))?
                        .execute([row.head])?;
                    tx.prepare_cached(
                        "DELETE FROM address_baselines WHERE id = ?1",
                    )?
                    .execute([row.id])?;
                    tx.prepare_cached("DELETE FROM addresses WHERE id = ?1")?
                        .execute([row.id])?;
                }
            }
            // One pass over each (no index on the recipient).
            let all = serde_json::to_string(&list).unwrap_or_default();
            for table in ["sends", "log_messages"] {
                sum.rows += tx.execute(
                    &format!(
                        "DELETE FROM {table} WHERE recipient IN
                           (SELECT value FROM json_each(?1))"
                    ),
                    [&all],
                )?;
            }
            let (redacted, deleted) = redact_everywhere(tx, &ac)?;
            sum.redacted = redacted;
            sum.rows += deleted;
            // Like every manual event, keyed by the time in nanoseconds.
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            let key = Key {
                key: key_of(&["forget", &nanos.to_string(), note]),
                day: key_day(Some(now)),
                legacy: false,
            };
            insert_keyed(tx, &key, |slot| {
                tx.prepare_cached(
                    "INSERT INTO events (event_key, kind, event_time,
                       recorded_at, source, note, diagnostic, key_slot,
                       key_day)
                     VALUES (?1, 'forget', ?2, ?2, 'manual', ?3, ?4, ?5, ?6)
                     ON CONFLICT DO NOTHING",
                )?
                .execute(params![
                    &key.key[..],
                    now,
                    note,
                    format!("{} addresses forgotten", list.len()),
                    slot,
                    key.day,
                ])
            })?;
            Ok(sum)
        });
        let restore = self.conn.pragma_update(None, "secure_delete", "FAST");
        let mut sum = done?;
        restore.map_err(|e| self.error(e))?;
        sum.wal_truncated =
            self.give_back_pages().map_err(|e| self.error(e))?;
        Ok(sum)
    }

    /// Returns the free pages to the file system and checkpoints the WAL,
    /// truncating it; false when a reader kept the WAL from being emptied.
    pub(crate) fn give_back_pages(&self) -> rusqlite::Result<bool> {
        self.conn.execute_batch("PRAGMA incremental_vacuum")?;
        let busy: i64 = self.conn.query_row(
            "PRAGMA wal_checkpoint(TRUNCATE)",
            [],
            |r| r.get(0),
        )?;
        Ok(busy == 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_whole_addresses_are_redacted() {
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .build(["bob@example.org"])
            .unwrap();
        let r = |s: &str| {
            redact(&ac, s.as_bytes()).map(|v| String::from_utf8(v).unwrap())
        };
        assert_eq!(
            r("550 <Bob@Example.ORG>: unknown. Tell bob@example.org.")
                .as_deref(),
            Some("550 <[forgotten]>: unknown. Tell [forgotten].")
        );
        assert_eq!(r("xbob@example.org"), None);
        assert_eq!(r("bob@example.org.uk"), None);
        assert_eq!(r("bob@example.orgs"), None);
    }

    #[test]
    fn hashes_are_keyed() {
        let a = address_hash(b"one", "bob@example.org");
        assert_ne!(a, address_hash(b"two", "bob@example.org"));
        assert_eq!(a, address_hash(b"one", "bob@example.org"));
        assert_eq!(from_hex("00ff10"), Some(vec![0, 255, 16]));
        assert_eq!(from_hex("0g"), None);
    }
}
