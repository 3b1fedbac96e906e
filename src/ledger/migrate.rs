//! Schema migrations: `schema.sql` at the crate root, embedded, is a
//! sequence of numbered migrations (`-- migration N`); a ledger records
//! the last one it ran in `PRAGMA user_version` and runs the newer ones,
//! all in one transaction, when it is opened for writing. The same
//! transaction stamps rebound's application id on a new ledger and on one
//! written before the id existed.

use super::error::ledger_error;
use super::identity::{APPLICATION_ID, Identity};
use super::{Ledger, LedgerError};

/// The schema and its migrations (see the head of the file).
const SCHEMA: &str = include_str!("../../schema.sql");

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
    /// Brings the schema up to [`schema_version`] and stamps the
    /// application id when `identity` lacks it; a read-only ledger that
    /// needs a migration, or one written by a newer rebound, is an error.
    pub(crate) fn migrate(
        &mut self,
        read_only: bool,
        identity: Identity,
    ) -> Result<(), LedgerError> {
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
        let stamp = identity != Identity::Ledger;
        if found == supported && (!stamp || read_only) {
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
            .map_err(|e| ledger_error(&path, busy, e))?;
        let run = || -> rusqlite::Result<()> {
            // Re-read under the lock: another process may have migrated.
            let now: i64 =
                tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            for (v, sql) in migrations() {
                if v > now {
                    tx.execute_batch(sql)?;
                }
            }
            tx.execute_batch(&format!(
                "PRAGMA user_version={supported};
                 PRAGMA application_id={APPLICATION_ID};"
            ))
        };
        run().map_err(|e| ledger_error(&path, busy, e))?;
        tx.commit().map_err(|e| ledger_error(&path, busy, e))
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::Connection;

    use super::*;
    use crate::ledger::tests::address_rows;
    use crate::ledger::{IngestItem, State, SuppressionReason, key};

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
                let key = key::event_key(r, &r.records[0]);
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
        let key_a = key::event_key(&a, &a.records[0]);
        let key_b = key::event_key(&b, &b.records[0]);
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
}
