//! Domain entries: `rebound suppress @example.com` refuses every address
//! at a domain (and at its subdomains, when asked), whether the ledger has
//! seen the address or not. An entry is a row of `suppressed_domains`,
//! made and lifted by `suppress_domain` / `unsuppress_domain` audit events
//! (no address; the domain in the event's `domain` column, the operator's
//! note in `note`). Which entry refuses an address is decided in
//! [`check`](super::check), with every other suppression rule.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::key::{Key, insert_keyed, key_day, key_of};
use super::{Ledger, LedgerError};
use crate::time;

/// One domain entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DomainEntry {
    /// The domain (lower-case, no `@`).
    pub domain: String,
    /// Whether its subdomains are refused too.
    pub subdomains: bool,
    /// The suppression reason (`manual` unless given).
    pub reason: String,
    /// When it was made (Unix seconds).
    pub suppressed_at: i64,
    /// When it ends (Unix seconds); `None`: never.
    pub until: Option<i64>,
    /// The operator's note.
    pub note: Option<String>,
}

impl DomainEntry {
    /// How the entry is written in lists: `example.com`, or
    /// `*.example.com` when it takes the subdomains too.
    pub fn pattern(&self) -> String {
        if self.subdomains {
            format!("*.{}", self.domain)
        } else {
            self.domain.clone()
        }
    }

    /// Whether the entry is in force at `now`.
    pub fn in_force(&self, now: i64) -> bool {
        self.until.is_none_or(|u| u > now)
    }
}

/// The columns [`entry_of`] reads, in order.
pub(crate) const ENTRY_COLUMNS: &str =
    "domain, subdomains, reason, suppressed_at, until, note";

/// Reads a `suppressed_domains` row selected with [`ENTRY_COLUMNS`].
pub(crate) fn entry_of(
    r: &rusqlite::Row<'_>,
) -> rusqlite::Result<DomainEntry> {
    Ok(DomainEntry {
        domain: r.get(0)?,
        subdomains: r.get(1)?,
        reason: r.get(2)?,
        suppressed_at: r.get(3)?,
        until: r.get(4)?,
        note: r.get(5)?,
    })
}

/// A domain as given (`@Example.COM.`, `example.com`): lower-cased,
/// without the `@` and a final dot; `None` when it cannot be a domain.
pub fn normalise_domain(d: &str) -> Option<String> {
    let d = d.trim().trim_start_matches('@').trim_end_matches('.');
    let d = d.to_lowercase();
    let ok = !d.is_empty()
        && !d.starts_with('.')
        && !d.contains("..")
        && d.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '-'));
    ok.then_some(d)
}

impl Ledger {
    /// Every domain entry, by domain.
    pub fn domain_entries(&self) -> Result<Vec<DomainEntry>, LedgerError> {
        let run = || -> rusqlite::Result<Vec<DomainEntry>> {
            self.conn()
                .prepare(&format!(
                    "SELECT {ENTRY_COLUMNS} FROM suppressed_domains
                     ORDER BY domain"
                ))?
                .query_map([], entry_of)?
                .collect()
        };
        run().map_err(|e| self.error(e))
    }

    /// Refuses every address at `entry.domain` (and its subdomains when
    /// `entry.subdomains`), recording a `suppress_domain` audit event.
    /// Returns false (and records nothing) when an entry for the domain
    /// is already in force.
    pub fn suppress_domain(
        &mut self,
        entry: &DomainEntry,
    ) -> Result<bool, LedgerError> {
        let now = time::now();
        self.write(|tx| {
            let held = tx
                .query_row(
                    &format!(
                        "SELECT {ENTRY_COLUMNS} FROM suppressed_domains
                         WHERE domain = ?1"
                    ),
                    [&entry.domain],
                    entry_of,
                )
                .optional()?;
            if held.is_some_and(|h| h.in_force(now)) {
                return Ok(false);
            }
            let id = domain_event(tx, "suppress_domain", entry, now)?;
            tx.execute(
                "INSERT OR REPLACE INTO suppressed_domains (domain,
                   subdomains, reason, suppressed_at, until, note, event_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    entry.domain,
                    entry.subdomains,
                    entry.reason,
                    entry.suppressed_at,
                    entry.until,
                    entry.note,
                    id,
                ],
            )?;
            Ok(true)
        })
    }

    /// Lifts the entry of `domain`, recording an `unsuppress_domain` audit
    /// event with `note`. Returns false (and records nothing) when there is
    /// no entry in force for the domain.
    pub fn unsuppress_domain(
        &mut self,
        domain: &str,
        note: &str,
    ) -> Result<bool, LedgerError> {
        let now = time::now();
        self.write(|tx| {
            let Some(held) = tx
                .query_row(
                    &format!(
                        "SELECT {ENTRY_COLUMNS} FROM suppressed_domains
                         WHERE domain = ?1"
                    ),
                    [domain],
                    entry_of,
                )
                .optional()?
                .filter(|h| h.in_force(now))
            else {
                return Ok(false);
            };
            let lift = DomainEntry {
                note: Some(note.to_string()),
                until: None,
                ..held
            };
            domain_event(tx, "unsuppress_domain", &lift, now)?;
            tx.execute(
                "DELETE FROM suppressed_domains WHERE domain = ?1",
                [domain],
            )?;
            Ok(true)
        })
    }
}

/// Records a domain entry's audit event and returns its id.
fn domain_event(
    tx: &rusqlite::Transaction<'_>,
    kind: &str,
    entry: &DomainEntry,
    now: i64,
) -> rusqlite::Result<i64> {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let note = entry.note.as_deref().unwrap_or("");
    // Like every manual event, keyed by the time in nanoseconds.
    let key = Key {
        key: key_of(&[
            "manual",
            &entry.pattern(),
            kind,
            &nanos.to_string(),
            note,
        ]),
        day: key_day(Some(now)),
        legacy: false,
    };
    let id = insert_keyed(tx, &key, |slot| {
        tx.prepare_cached(
            "INSERT INTO events (event_key, kind, reason, event_time,
               recorded_at, source, note, key_slot, key_day, domain, until)
             VALUES (?1, ?2, ?3, ?4, ?5, 'manual', ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            &key.key[..],
            kind,
            entry.reason,
            entry.suppressed_at,
            now,
            entry.note,
            slot,
            key.day,
            entry.pattern(),
            entry.until,
        ])
    })?;
    Ok(id.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_normalised_or_refused() {
        assert_eq!(
            normalise_domain("@Example.COM.").as_deref(),
            Some("example.com")
        );
        assert_eq!(normalise_domain("@"), None);
        assert_eq!(normalise_domain("a b.org"), None);
        assert_eq!(normalise_domain("@.example.com"), None);
    }
}
