//! Event identity: each record's idempotency key, and inserting an event
//! unless its key is recorded.
//!
//! A record's key is 128 bits of SHA-256 over the report's Message-ID
//! (else the SHA-256 of its canonical form, `parse::canonical`), the
//! recipient and the event type. Ledgers written before schema 7 keyed a
//! report without Message-ID by the SHA-256 of its bytes as read; while
//! such a ledger holds them (`fingerprint_keys = raw` in `settings`, set
//! by migration 7), a report is also looked up under the keys its bytes
//! and their CRLF copy gave then ([`Report::raw_fingerprints`]). The
//! unique `events_by_day_key` index holds the day of the report
//! ([`key_day`]), the key's first 64 bits and a slot, so inserting the
//! event is its duplicate check; a record whose full key is found among
//! the rows of its day and prefix is a counted duplicate that changes
//! nothing (a prefix shared by two different keys takes the next slot, see
//! [`insert_keyed`]).

use rusqlite::params;
use sha2::{Digest, Sha256};

use super::normalise_address;
use crate::model::Record;
use crate::pipeline::Report;

/// The idempotency key of one record of a report.
pub fn event_key(report: &Report, rec: &Record) -> [u8; 16] {
    key_with(report.identity(), rec)
}

/// The idempotency key of one record of the report `identity` names.
pub(crate) fn key_with(identity: &str, rec: &Record) -> [u8; 16] {
    key_of(&[
        identity,
        &normalise_address(rec.recipient.as_deref().unwrap_or("")),
        rec.kind.map_or("bounce", |k| k.as_str()),
    ])
}

/// Whether the ledger holds an event of this key (under its day, or
/// among the events recorded before keys had days).
pub(crate) fn is_recorded(
    tx: &rusqlite::Connection,
    key: &Key,
) -> rusqlite::Result<bool> {
    let k = &key.key;
    if key.legacy && recorded_without_day(tx, k)? {
        return Ok(true);
    }
    tx.prepare_cached(
        "SELECT 1 FROM events WHERE key_day = ?1
           AND substr(event_key, 1, 8) = ?2 AND event_key = ?3",
    )?
    .exists(params![key.day, &k[..8], &k[..]])
}

/// The day under which a report's keys are indexed: the day of its own
/// date (Unix seconds), 0 when it has none. It depends on the report's
/// bytes alone, so the same report always finds its keys again.
pub(crate) fn key_day(date: Option<i64>) -> i64 {
    date.map_or(0, |t| t.div_euclid(86_400))
}

/// 128 bits of SHA-256 over NUL-separated parts.
pub(crate) fn key_of(parts: &[&str]) -> [u8; 16] {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let d = h.finalize();
    let mut k = [0u8; 16];
    k.copy_from_slice(&d[..16]);
    k
}

/// An event's idempotency key and where it is indexed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Key {
    /// The 128-bit key.
    pub key: [u8; 16],
    /// Its [`key_day`].
    pub day: i64,
    /// The ledger holds events recorded before keys had days (see
    /// [`Ledger::legacy_keys`](super::Ledger::legacy_keys)): they are
    /// looked up too.
    pub legacy: bool,
}

/// Whether an event recorded before keys had days holds this key.
fn recorded_without_day(
    tx: &rusqlite::Connection,
    k: &[u8; 16],
) -> rusqlite::Result<bool> {
    tx.prepare_cached(
        "SELECT 1 FROM events WHERE key_day IS NULL
           AND substr(event_key, 1, 8) = ?1 AND event_key = ?2",
    )?
    .exists(params![&k[..8], &k[..]])
}

/// Inserts an event unless its key is recorded; returns its row id, or
/// `None` for a duplicate. `insert(slot)` runs the event's `INSERT ... ON
/// CONFLICT DO NOTHING` with `key_day = key.day` and `key_slot = slot` and
/// returns the rows added.
///
/// The unique index `events_by_day_key` holds the key's day, its first 64
/// bits and a slot, so the insert itself is the duplicate check: an event
/// goes in at slot 0. Only when another event of the day holds its 64 bits
/// are the rows sharing them compared on all 128: the same key is a
/// duplicate, a different one (a prefix collision) takes the next free
/// slot. Events recorded before keys had days are looked up by key alone.
pub(crate) fn insert_keyed(
    tx: &rusqlite::Connection,
    key: &Key,
    mut insert: impl FnMut(i64) -> rusqlite::Result<usize>,
) -> rusqlite::Result<Option<i64>> {
    let k = &key.key;
    if key.legacy && recorded_without_day(tx, k)? {
        return Ok(None);
    }
    if insert(0)? == 1 {
        return Ok(Some(tx.last_insert_rowid()));
    }
    let mut slot = 0;
    {
        let mut st = tx.prepare_cached(
            "SELECT event_key, key_slot FROM events
             WHERE key_day = ?1 AND substr(event_key, 1, 8) = ?2",
        )?;
        let mut rows = st.query(params![key.day, &k[..8]])?;
        while let Some(r) = rows.next()? {
            if r.get_ref(0)?.as_blob()? == k {
                return Ok(None);
            }
            slot = slot.max(r.get::<_, i64>(1)? + 1);
        }
    }
    insert(slot)?;
    Ok(Some(tx.last_insert_rowid()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{IngestItem, Ledger};

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
        let mut other = event_key(&r, &r.records[0]);
        other[15] ^= 1;
        l.conn
            .execute(
                "INSERT INTO events (event_key, kind, event_time,
                   recorded_at, key_day)
                 VALUES (?1, 'delay', 0, 0, ?2)",
                rusqlite::params![&other[..], key_day(r.date)],
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
}
