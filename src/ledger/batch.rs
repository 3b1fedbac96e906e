//! The batch writer: the events of one write transaction are recorded
//! one by one, and the states of the addresses they touch are brought up
//! to date in memory and written once, at the end of the batch. Each new
//! event joins its address's chain (see [`addresses`](super::addresses)).
//!
//! Order: an event later than everything an address has seen is applied
//! on top of its stored state; an earlier one (a report that arrived late)
//! marks the address for a full recompute from its history in event_time
//! order at the end of the batch.

// A fast hasher: the keys are addresses from our own ledger and reports,
// and every event looks its address up several times.
use foldhash::{HashMap, HashMapExt};

use rusqlite::{Connection, OptionalExtension, params};

use super::addresses::{CHAIN, Stored, insert, load, recompute, save};
use super::key::{Key, insert_keyed};
use super::normalise_address;
use super::sends::normalise_message_id;
use super::state::{AddressState, Fact, Kind, Policy};
use crate::model::{Action, Category, EventType, Record};
use crate::time;

/// A cached address row within a batch.
struct Cached {
    /// The row as the batch has made it.
    now: Stored,
    /// The row as stored before the batch (the default state and no head
    /// for an address the ledger has never seen).
    before: Stored,
    /// An event arrived out of order: recompute from history at the end.
    stale: bool,
}

/// The addresses a batch touched, updated in memory and written once.
pub(crate) struct Batch<'t> {
    tx: &'t Connection,
    policy: Policy,
    cache: HashMap<String, Cached>,
    /// Rows committed by earlier batches of this connection (see
    /// [`Known`](super::ingest::Known)), taken on first use.
    pub(crate) known: HashMap<String, Stored>,
    /// Whether `sends` has any row (read on first need).
    has_sends: Option<bool>,
    /// Whether `log_messages` has any row (read on first need).
    has_log_messages: Option<bool>,
}

/// The send a bounce refers to (by the returned Message-ID).
struct SendRef {
    recipient: String,
    campaign_id: Option<String>,
    sent_at: i64,
    /// Known from an MTA log (`log_messages`), not imported.
    logged: bool,
}

impl<'t> Batch<'t> {
    /// A batch over `tx` (a connection in a write transaction).
    pub(crate) fn new(tx: &'t Connection, policy: Policy) -> Self {
        Batch {
            tx,
            policy,
            cache: HashMap::new(),
            known: HashMap::new(),
            has_sends: None,
            has_log_messages: None,
        }
    }

    fn send(&mut self, message_id: &str) -> rusqlite::Result<Option<SendRef>> {
        let tx = self.tx;
        let has_sends = match self.has_sends {
            Some(h) => h,
            None => *self.has_sends.insert(tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM sends)",
                [],
                |r| r.get(0),
            )?),
        };
        if has_sends {
            let send = tx
                .prepare_cached(
                    "SELECT recipient, campaign_id, sent_at FROM sends
                     WHERE message_id = ?1",
                )?
                .query_row([message_id], |r| {
                    Ok(SendRef {
                        recipient: r.get(0)?,
                        campaign_id: r.get(1)?,
                        sent_at: r.get(2)?,
                        logged: false,
                    })
                })
                .optional()?;
            if send.is_some() {
                return Ok(send);
            }
        }
        let logged = match self.has_log_messages {
            Some(h) => h,
            None => *self.has_log_messages.insert(tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM log_messages)",
                [],
                |r| r.get(0),
            )?),
        };
        if !logged {
            return Ok(None);
        }
        tx.prepare_cached(
            "SELECT recipient, sent_at FROM log_messages
             WHERE message_id = ?1",
        )?
        .query_row([message_id], |r| {
            Ok(SendRef {
                recipient: r.get(0)?,
                campaign_id: None,
                sent_at: r.get(1)?,
                logged: true,
            })
        })
        .optional()
    }

    /// Whether the address's chain already holds a bounce of the message
    /// `message_id`: an MTA log and a bounce message reporting the same
    /// failure of one send (read only for addresses that have bounced).
    fn bounced_before(
        &mut self,
        address: &str,
        message_id: &str,
    ) -> rusqlite::Result<bool> {
        let c = self.cached(address)?;
        let n = &c.now.state.counts;
        if n.hard + n.soft + n.alert == 0 {
            return Ok(false);
        }
        let head = c.now.head;
        self.tx
            .prepare_cached(&format!(
                "{CHAIN} SELECT EXISTS (SELECT 1 FROM events
                   WHERE id IN chain AND kind = 'bounce'
                     AND original_message_id = ?2)"
            ))?
            .query_row(params![head, message_id], |r| r.get(0))
    }

    /// Records one event and returns its row id; `None` when its key is
    /// already in the ledger.
    pub(crate) fn record(
        &mut self,
        key: &Key,
        rec: &Record,
        message_id: Option<&str>,
        source: &str,
        now: i64,
    ) -> rusqlite::Result<Option<i64>> {
        let send = match rec.original_message_id.as_deref() {
            Some(m) => self.send(normalise_message_id(m))?,
            None => None,
        };
        let address = rec
            .recipient
            .as_deref()
            .map(normalise_address)
            .filter(|a| !a.is_empty())
            .or_else(|| send.as_ref().map(|s| s.recipient.clone()));
        // One send fails once per recipient: the log's bounce and the
        // bounce message about it are one event.
        if let (Some(a), Some(m), Some(EventType::Bounce) | None) =
            (&address, rec.original_message_id.as_deref(), rec.kind)
            && send.as_ref().is_some_and(|s| s.logged)
            && self.bounced_before(a, normalise_message_id(m))?
        {
            return Ok(None);
        }
        let (address_id, prev) = match &address {
            Some(a) => {
                let (id, prev) = self.chain(a)?;
                (Some(id), prev)
            }
            None => (None, None),
        };
        // A report that gave no time at all is placed in the history when
        // it was recorded, marked as of unknown time.
        let known = rec.event_time.as_deref().and_then(time::parse_rfc3339);
        let time = known.unwrap_or(now);
        let kind = rec.kind.unwrap_or(EventType::Bounce);
        let tx = self.tx;
        let inserted = insert_keyed(tx, key, |slot| {
            tx.prepare_cached(
                "INSERT INTO events (
                   event_key, address_id, kind, category, class, reason,
                   action, status, reply_code, diagnostic, remote_mta,
                   provider, campaign_id, feedback_type, detector, rule,
                   message_id, original_message_id, sent_at, event_time,
                   recorded_at, source, key_slot, key_day, prev_id,
                   time_unknown)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,
                   ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23,
                   ?24, ?25, ?26)
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![
                &key.key[..],
                address_id,
                kind.as_str(),
                rec.category.map(Category::as_str),
                rec.class,
                rec.reason,
                rec.action.map(Action::as_str),
                rec.status,
                rec.reply_code,
                rec.diagnostic,
                rec.remote_mta,
                rec.provider,
                rec.campaign_id
                    .as_deref()
                    .or(send.as_ref().and_then(|s| s.campaign_id.as_deref())),
                rec.feedback_type,
                rec.detector,
                rec.rule,
                message_id,
                rec.original_message_id,
                send.as_ref().map(|s| s.sent_at),
                time,
                now,
                source,
                slot,
                key.day,
                prev,
                known.is_none().then_some(1),
            ])
        })?;
        let Some(id) = inserted else {
            return Ok(None);
        };
        if let Some(address) = address {
            let fact = Fact {
                id,
                kind: Kind::Reported(kind),
                action: rec.action,
                time,
            };
            self.touch(&address, fact)?;
        }
        Ok(Some(id))
    }

    /// The cached state of an address, loaded (or, for an address the
    /// ledger has never seen, inserted as a bare row) on first use.
    ///
    /// A new address gets its row at once, before any event names it:
    /// with the foreign key checked at commit instead, inserting the row
    /// would make SQLite search `events` for the rows naming it, and no
    /// index on `events.address_id` exists to find them.
    fn cached(&mut self, address: &str) -> rusqlite::Result<&mut Cached> {
        if !self.cache.contains_key(address) {
            let row = match self.known.remove(address) {
                Some(row) => row,
                None => match load(self.tx, address)? {
                    Some(row) => row,
                    None => Stored {
                        id: insert(self.tx, address)?,
                        state: AddressState::default(),
                        head: None,
                    },
                },
            };
            let c = Cached { now: row.clone(), before: row, stale: false };
            self.cache.insert(address.to_string(), c);
        }
        // Present: found or inserted just above.
        self.cache.get_mut(address).ok_or(rusqlite::Error::QueryReturnedNoRows)
    }

    /// The row id of an address and its last event, for an event about to name it:
    /// the event's `address_id` and `prev_id`.
    pub(crate) fn chain(
        &mut self,
        address: &str,
    ) -> rusqlite::Result<(i64, Option<i64>)> {
        let c = self.cached(address)?;
        Ok((c.now.id, c.now.head))
    }

    /// Brings an address's state up to date with an event just linked to
    /// it (its `address_id` and `prev_id` from [`Batch::chain`]), which
    /// becomes the head of its chain.
    pub(crate) fn touch(
        &mut self,
        address: &str,
        fact: Fact,
    ) -> rusqlite::Result<()> {
        let policy = self.policy;
        let c = self.cached(address)?;
        c.now.head = Some(fact.id);
        if c.stale {
            return Ok(());
        }
        if c.now.state.in_order(fact.time) {
            c.now.state.apply(&fact, &policy);
        } else {
            c.stale = true;
        }
        Ok(())
    }

    /// Writes every touched address (recomputing the stale ones), in row
    /// order so that neighbouring rows share B-tree pages. Returns the rows
    /// as written, with the known rows the batch did not touch: what the
    /// ledger holds once the batch commits.
    pub(crate) fn finish(self) -> rusqlite::Result<HashMap<String, Stored>> {
        let mut known = self.known;
        let mut touched: Vec<(String, Cached)> =
            self.cache.into_iter().collect();
        touched.sort_unstable_by_key(|(_, c)| c.now.id);
        for (address, c) in touched {
            let (mut now, before) = (c.now, c.before);
            if c.stale {
                now.state = recompute(self.tx, &now, &before, &self.policy)?;
            } else {
                save(self.tx, &now, &before)?;
            }
            // An address left without events has no row any more.
            if now.state.first_event.is_some() {
                known.insert(address, now);
            }
        }
        Ok(known)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::addresses::{
        FACT_COLUMNS, STATE_COLUMNS, fact_of, history, state_of,
    };
    use crate::ledger::tests::{address_rows, soft_report};
    use crate::ledger::{
        IngestItem, Ledger, State, SuppressionReason, sends, stats,
    };

    /// An address new to the ledger whose events come out of order within
    /// one batch gets its row once, with the state of its history in
    /// event-time order.
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

        let rows: Vec<Stored> = l
            .conn
            .prepare(&format!("SELECT {} FROM addresses", STATE_COLUMNS))
            .unwrap()
            .query_map([], state_of)
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(rows.len() > 20, "{} addresses", rows.len());
        let policy = l.policy();
        for row in &rows {
            let chained = history(&l.conn, row.head).unwrap();
            let scanned: Vec<Fact> = l
                .conn
                .prepare(&format!(
                    "SELECT {} FROM events WHERE address_id = ?1
                     ORDER BY event_time, id",
                    FACT_COLUMNS
                ))
                .unwrap()
                .query_map([row.id], fact_of)
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
}
