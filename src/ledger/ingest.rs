//! Recording events: reports (from files, IMAP sweeps or webhook events)
//! go in batches, one transaction per batch, and the states of the
//! addresses they touch are brought up to date in the same transaction.
//!
//! Idempotency: each record's key is 128 bits of SHA-256 over the report's
//! Message-ID (else the SHA-256 of its bytes), the recipient and the event
//! type. The unique `events_by_key` index holds the key's first 64 bits and
//! a slot, so inserting the event is its duplicate check; a record whose
//! full key is found among the rows of its prefix is a counted duplicate
//! that changes nothing (a prefix shared by two different keys takes the
//! next slot, see [`insert_keyed`]).
//!
//! New addresses get their ids in memory and their rows once, with their
//! state, at the end of the batch.
//!
//! Order: an event later than everything an address has seen is applied
//! on top of its stored state; an earlier one (a report that arrived late)
//! marks the address for a full recompute from its history in event_time
//! order at the end of the batch.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use rusqlite::{OptionalExtension, Transaction, params};
use sha2::{Digest, Sha256};

use super::sends::normalise_message_id;
use super::state::{AddressState, Counts, Fact, Kind, Policy, State};
use super::{Checkpoint, Ledger, LedgerError, domain_of, normalise_address};
use crate::model::{Action, Category, EventType, Record};
use crate::parse::Report;
use crate::time;

/// One report to record and where it came from.
#[derive(Debug, Clone, Copy)]
pub struct IngestItem<'a> {
    /// Its source (path, `path#N`, `imap:account/mailbox/uid`, ...).
    pub source: &'a str,
    /// The parsed report.
    pub report: &'a Report,
}

/// What a batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestSummary {
    /// Reports looked at.
    pub reports: usize,
    /// Events recorded for the first time.
    pub new_events: usize,
    /// Events already in the ledger (re-ingest, later sweep).
    pub duplicates: usize,
}

impl IngestSummary {
    /// Adds another batch's figures.
    pub fn add(&mut self, o: IngestSummary) {
        self.reports += o.reports;
        self.new_events += o.new_events;
        self.duplicates += o.duplicates;
    }
}

/// The idempotency key of one record of a report.
pub fn event_key(report: &Report, rec: &Record) -> [u8; 16] {
    let id = report.identity();
    key_of(&[
        id,
        &normalise_address(rec.recipient.as_deref().unwrap_or("")),
        rec.kind.map_or("bounce", |k| k.as_str()),
    ])
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

impl Ledger {
    /// Records the reports and (if given) advances the IMAP checkpoint, all
    /// in ONE transaction: either everything is recorded or nothing is.
    pub fn ingest(
        &mut self,
        items: &[IngestItem<'_>],
        checkpoint: Option<&Checkpoint>,
    ) -> Result<IngestSummary, LedgerError> {
        Ok(self.ingest_returning_new(items, checkpoint)?.0)
    }

    /// Like [`Ledger::ingest`], and also returns the row ids of the events
    /// recorded for the first time, in the order recorded (what
    /// `--notify` posts once the transaction is committed).
    pub fn ingest_returning_new(
        &mut self,
        items: &[IngestItem<'_>],
        checkpoint: Option<&Checkpoint>,
    ) -> Result<(IngestSummary, Vec<i64>), LedgerError> {
        let policy = self.policy;
        let now = time::now();
        self.write(|tx| {
            let mut batch = Batch::new(tx, policy);
            let mut sum = IngestSummary::default();
            let mut new = Vec::new();
            for item in items {
                sum.reports += 1;
                for rec in &item.report.records {
                    let key = event_key(item.report, rec);
                    let msg_id = item.report.message_id.as_deref();
                    match batch.record(&key, rec, msg_id, item.source, now)? {
                        Some(id) => {
                            sum.new_events += 1;
                            new.push(id);
                        }
                        None => sum.duplicates += 1,
                    }
                }
            }
            batch.finish()?;
            if let Some(cp) = checkpoint {
                tx.execute(
                    "INSERT INTO checkpoints
                       (account, mailbox, uidvalidity, last_uid, updated_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (account, mailbox) DO UPDATE SET
                       uidvalidity = excluded.uidvalidity,
                       last_uid = excluded.last_uid,
                       updated_at = excluded.updated_at",
                    params![
                        cp.account,
                        cp.mailbox,
                        cp.uidvalidity,
                        cp.last_uid,
                        now
                    ],
                )?;
            }
            Ok((sum, new))
        })
    }
}

/// A cached address state within a batch.
struct Cached {
    /// Its row id in `addresses`.
    id: i64,
    state: AddressState,
    /// The state as stored before the batch (the default state for an
    /// address the ledger has never seen).
    stored: AddressState,
    /// The address has no row yet: it is inserted once, at the end.
    new: bool,
    /// An event arrived out of order: recompute from history at the end.
    stale: bool,
}

/// The addresses a batch touched, updated in memory and written once.
pub(crate) struct Batch<'t, 'c> {
    tx: &'t Transaction<'c>,
    policy: Policy,
    cache: HashMap<String, Cached>,
    /// The id the next new address gets (read on first need): the batch
    /// holds the write lock, so nobody else allocates meanwhile.
    next_id: Option<i64>,
}

/// The send a bounce refers to (by the returned Message-ID).
struct SendRef {
    recipient: String,
    campaign_id: Option<String>,
    sent_at: i64,
}

/// Inserts an event unless its key is recorded; returns its row id, or
/// `None` for a duplicate. `insert(slot)` runs the event's `INSERT ... ON
/// CONFLICT DO NOTHING` with `key_slot = slot` and returns the rows added.
///
/// The unique index `events_by_key` holds the key's first 64 bits and a
/// slot, so the insert itself is the duplicate check: an event goes in at
/// slot 0. Only when another event holds its 64 bits are the rows sharing
/// them compared on all 128: the same key is a duplicate, a different one
/// (a prefix collision) takes the next free slot.
pub(crate) fn insert_keyed(
    tx: &rusqlite::Connection,
    key: &[u8; 16],
    mut insert: impl FnMut(i64) -> rusqlite::Result<usize>,
) -> rusqlite::Result<Option<i64>> {
    if insert(0)? == 1 {
        return Ok(Some(tx.last_insert_rowid()));
    }
    let mut slot = 0;
    {
        let mut st = tx.prepare_cached(
            "SELECT event_key, key_slot FROM events
             WHERE substr(event_key, 1, 8) = ?1",
        )?;
        let mut rows = st.query([&key[..8]])?;
        while let Some(r) = rows.next()? {
            if r.get_ref(0)?.as_blob()? == key {
                return Ok(None);
            }
            slot = slot.max(r.get::<_, i64>(1)? + 1);
        }
    }
    insert(slot)?;
    Ok(Some(tx.last_insert_rowid()))
}

impl<'t, 'c> Batch<'t, 'c> {
    /// A batch over `tx`.
    pub(crate) fn new(tx: &'t Transaction<'c>, policy: Policy) -> Self {
        Batch { tx, policy, cache: HashMap::new(), next_id: None }
    }

    fn send(&self, message_id: &str) -> rusqlite::Result<Option<SendRef>> {
        self.tx
            .prepare_cached(
                "SELECT recipient, campaign_id, sent_at FROM sends
                 WHERE message_id = ?1",
            )?
            .query_row([message_id], |r| {
                Ok(SendRef {
                    recipient: r.get(0)?,
                    campaign_id: r.get(1)?,
                    sent_at: r.get(2)?,
                })
            })
            .optional()
    }

    /// Records one event and returns its row id; `None` when its key is
    /// already in the ledger.
    fn record(
        &mut self,
        key: &[u8; 16],
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
        let address_id = match &address {
            Some(a) => Some(self.address_id(a)?),
            None => None,
        };
        let time = rec
            .event_time
            .as_deref()
            .and_then(time::parse_rfc3339)
            .unwrap_or(now);
        let kind = rec.kind.unwrap_or(EventType::Bounce);
        let tx = self.tx;
        let inserted = insert_keyed(tx, key, |slot| {
            tx.prepare_cached(
                "INSERT INTO events (
                   event_key, address_id, kind, category, class, reason,
                   action, status, reply_code, diagnostic, remote_mta,
                   provider, campaign_id, feedback_type, detector, rule,
                   message_id, original_message_id, sent_at, event_time,
                   recorded_at, source, key_slot)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,
                   ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)
                 ON CONFLICT DO NOTHING",
            )?
            .execute(params![
                &key[..],
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
    /// ledger has never seen, given the next free id) on first use.
    fn cached(&mut self, address: &str) -> rusqlite::Result<&mut Cached> {
        let tx = self.tx;
        Ok(match self.cache.entry(address.to_string()) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                let (id, stored, new) = match load(tx, address)? {
                    Some((id, stored)) => (id, stored, false),
                    None => {
                        let next = match self.next_id {
                            Some(n) => n,
                            None => {
                                // Events name the new ids before their rows
                                // exist: the foreign key is checked at
                                // commit (the setting ends with it).
                                tx.pragma_update(
                                    None,
                                    "defer_foreign_keys",
                                    true,
                                )?;
                                tx.query_row(
                                    "SELECT coalesce(max(id), 0) + 1
                                     FROM addresses",
                                    [],
                                    |r| r.get(0),
                                )?
                            }
                        };
                        self.next_id = Some(next + 1);
                        (next, AddressState::default(), true)
                    }
                };
                let state = stored.clone();
                e.insert(Cached { id, state, stored, new, stale: false })
            }
        })
    }

    /// The row id of an address (its row created if it is new), for the
    /// events that name it.
    pub(crate) fn address_id(
        &mut self,
        address: &str,
    ) -> rusqlite::Result<i64> {
        Ok(self.cached(address)?.id)
    }

    /// Brings an address's state up to date with a new event.
    pub(crate) fn touch(
        &mut self,
        address: &str,
        fact: Fact,
    ) -> rusqlite::Result<()> {
        let policy = self.policy;
        let c = self.cached(address)?;
        if c.stale {
            return Ok(());
        }
        if c.state.in_order(fact.time) {
            c.state.apply(&fact, &policy);
        } else {
            c.stale = true;
        }
        Ok(())
    }

    /// Writes every touched address (recomputing the stale ones, and
    /// inserting the new ones with their final state), in row order so
    /// that neighbouring rows share B-tree pages.
    pub(crate) fn finish(self) -> rusqlite::Result<()> {
        let mut touched: Vec<(&String, &Cached)> = self.cache.iter().collect();
        touched.sort_unstable_by_key(|(_, c)| c.id);
        for (address, c) in touched {
            match (c.new, c.stale) {
                (false, true) => {
                    recompute(self.tx, c.id, &c.stored, &self.policy)?;
                }
                (false, false) => save(self.tx, c.id, &c.state, &c.stored)?,
                (true, true) => {
                    let history = history(self.tx, c.id)?;
                    let state = AddressState::fold(&history, &self.policy);
                    insert(self.tx, c.id, address, &state)?;
                }
                (true, false) => insert(self.tx, c.id, address, &c.state)?,
            }
        }
        Ok(())
    }
}

/// Inserts the row of an address the ledger has never seen, with its
/// state (none when it has no events).
fn insert(
    tx: &rusqlite::Connection,
    id: i64,
    address: &str,
    s: &AddressState,
) -> rusqlite::Result<()> {
    let (Some(first), Some(last)) = (s.first_event, s.last_event) else {
        return Ok(());
    };
    let c = &s.counts;
    tx.prepare_cached(
        "INSERT INTO addresses (id, address, domain, state,
           suppression_reason, suppressed_at, suppressed_by, soft_streak,
           streak_start, hard_count, soft_count, alert_count, delay_count,
           complaint_count, unsubscribe_count, auto_reply_count,
           delivered_count, first_event, last_event)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
           ?15, ?16, ?17, ?18, ?19)",
    )?
    .execute(params![
        id,
        address,
        domain_of(address),
        s.state.as_str(),
        s.reason.map(|r| r.as_str()),
        s.suppressed_at,
        s.suppressed_by,
        s.soft_streak,
        s.streak_start,
        c.hard,
        c.soft,
        c.alert,
        c.delay,
        c.complaint,
        c.unsubscribe,
        c.auto_reply,
        c.delivered,
        first,
        last,
    ])?;
    Ok(())
}

/// The columns [`fact_of`] reads, in order.
pub(crate) const FACT_COLUMNS: &str = "id, kind, action, event_time";

/// Reads a row selected with [`FACT_COLUMNS`] (`None` for an unknown kind).
pub(crate) fn fact_of(
    r: &rusqlite::Row<'_>,
) -> rusqlite::Result<Option<Fact>> {
    let kind: String = r.get(1)?;
    let action: Option<String> = r.get(2)?;
    Ok(match Kind::from_name(&kind) {
        Some(kind) => Some(Fact {
            id: r.get(0)?,
            kind,
            action: action.as_deref().and_then(action_from_name),
            time: r.get(3)?,
        }),
        None => None,
    })
}

/// An address's history as the state machine sees it, in event order.
pub(crate) fn history(
    tx: &rusqlite::Connection,
    address_id: i64,
) -> rusqlite::Result<Vec<Fact>> {
    let mut st = tx.prepare_cached(&format!(
        "SELECT {FACT_COLUMNS} FROM events
         WHERE address_id = ?1 ORDER BY event_time, id"
    ))?;
    let rows = st.query_map([address_id], fact_of)?;
    let mut out = Vec::new();
    for f in rows {
        out.extend(f?);
    }
    Ok(out)
}

/// Parses a stored action name.
pub(crate) fn action_from_name(s: &str) -> Option<Action> {
    [Action::Suppress, Action::Retry, Action::Alert, Action::Ignore]
        .into_iter()
        .find(|a| a.as_str() == s)
}

/// Recomputes an address's state from its whole history and stores it;
/// `stored` is what the ledger holds now.
pub(crate) fn recompute(
    tx: &rusqlite::Connection,
    address_id: i64,
    stored: &AddressState,
    policy: &Policy,
) -> rusqlite::Result<AddressState> {
    let state = AddressState::fold(&history(tx, address_id)?, policy);
    save(tx, address_id, &state, stored)?;
    Ok(state)
}

/// The columns [`state_of`] reads, in order.
pub(crate) const STATE_COLUMNS: &str = "id, state, suppression_reason, \
     suppressed_at, suppressed_by, soft_streak, streak_start, hard_count, \
     soft_count, alert_count, delay_count, complaint_count, \
     unsubscribe_count, auto_reply_count, delivered_count, first_event, \
     last_event";

/// Reads an `addresses` row selected with [`STATE_COLUMNS`]: its id and
/// state.
pub(crate) fn state_of(
    r: &rusqlite::Row<'_>,
) -> rusqlite::Result<(i64, AddressState)> {
    let state: String = r.get(1)?;
    let reason: Option<String> = r.get(2)?;
    let s = AddressState {
        state: State::from_name(&state).unwrap_or_default(),
        reason: reason
            .as_deref()
            .and_then(super::state::SuppressionReason::from_name),
        suppressed_at: r.get(3)?,
        suppressed_by: r.get(4)?,
        soft_streak: r.get(5)?,
        streak_start: r.get(6)?,
        counts: Counts {
            hard: r.get(7)?,
            soft: r.get(8)?,
            alert: r.get(9)?,
            delay: r.get(10)?,
            complaint: r.get(11)?,
            unsubscribe: r.get(12)?,
            auto_reply: r.get(13)?,
            delivered: r.get(14)?,
        },
        first_event: r.get(15)?,
        last_event: r.get(16)?,
    };
    Ok((r.get(0)?, s))
}

/// The row id and stored state of an address.
pub(crate) fn load(
    tx: &rusqlite::Connection,
    address: &str,
) -> rusqlite::Result<Option<(i64, AddressState)>> {
    tx.prepare_cached(&format!(
        "SELECT {STATE_COLUMNS} FROM addresses WHERE address = ?1"
    ))?
    .query_row([address], state_of)
    .optional()
}

/// Stores an address's state (an address with no events is removed);
/// `stored` is what the ledger holds now.
///
/// When the suppression (state and time) is unchanged only the row is
/// rewritten, leaving the index of suppressed addresses untouched: one
/// B-tree page per address instead of two.
fn save(
    tx: &rusqlite::Connection,
    id: i64,
    s: &AddressState,
    stored: &AddressState,
) -> rusqlite::Result<()> {
    let (Some(first), Some(last)) = (s.first_event, s.last_event) else {
        tx.prepare_cached("DELETE FROM addresses WHERE id = ?1")?
            .execute([id])?;
        return Ok(());
    };
    if stored == s {
        return Ok(());
    }
    let c = &s.counts;
    let counts = params![
        id,
        s.reason.map(|r| r.as_str()),
        s.suppressed_by,
        s.soft_streak,
        s.streak_start,
        c.hard,
        c.soft,
        c.alert,
        c.delay,
        c.complaint,
        c.unsubscribe,
        c.auto_reply,
        c.delivered,
        first,
        last,
    ];
    let counters = "suppression_reason = ?2, suppressed_by = ?3,
           soft_streak = ?4, streak_start = ?5, hard_count = ?6,
           soft_count = ?7, alert_count = ?8, delay_count = ?9,
           complaint_count = ?10, unsubscribe_count = ?11,
           auto_reply_count = ?12, delivered_count = ?13, first_event = ?14,
           last_event = ?15";
    if stored.state == s.state && stored.suppressed_at == s.suppressed_at {
        tx.prepare_cached(&format!(
            "UPDATE addresses SET {counters} WHERE id = ?1"
        ))?
        .execute(counts)?;
    } else {
        let state = s.state.as_str();
        let mut all = counts.to_vec();
        all.push(&state);
        all.push(&s.suppressed_at);
        tx.prepare_cached(&format!(
            "UPDATE addresses SET {counters}, state = ?16,
               suppressed_at = ?17
             WHERE id = ?1"
        ))?
        .execute(all.as_slice())?;
    }
    Ok(())
}
