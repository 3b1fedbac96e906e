//! Recording events: reports (from files, IMAP sweeps or webhook events)
//! go in batches, one transaction per batch, and the states of the
//! addresses they touch are brought up to date in the same transaction.
//!
//! Idempotency: each record's key is 128 bits of SHA-256 over the report's
//! Message-ID (else the SHA-256 of its bytes), the recipient and the event
//! type. The unique `events_by_day_key` index holds the day of the report
//! ([`key_day`]), the key's first 64 bits and a slot, so inserting the
//! event is its duplicate check; a record whose full key is found among
//! the rows of its day and prefix is a counted duplicate that changes
//! nothing (a prefix shared by two different keys takes the next slot, see
//! [`insert_keyed`]).
//!
//! Address states are brought up to date in memory and written once, at
//! the end of the batch. Each new event names the previous event
//! of its address (`prev_id`) and becomes the head of the address's chain
//! (`addresses.last_id`): [`history`] walks it.
//!
//! Order: an event later than everything an address has seen is applied
//! on top of its stored state; an earlier one (a report that arrived late)
//! marks the address for a full recompute from its history in event_time
//! order at the end of the batch.

// A fast hasher: the keys are addresses from our own ledger and reports,
// and every event looks its address up several times.
use foldhash::{HashMap, HashMapExt};

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
        let legacy = self.legacy_keys;
        let now = time::now();
        // The rows known from earlier batches; `write` leaves
        // `self.known` empty, and it gets them back only when this batch
        // commits.
        let mut known = std::mem::take(&mut self.known);
        if known.rows.len() > KNOWN_MAX {
            known.rows = HashMap::new();
        }
        let (sum, new, known) = self.write(move |tx| {
            let version: i64 =
                tx.query_row("PRAGMA data_version", [], |r| r.get(0))?;
            if known.version != Some(version) {
                // Another connection wrote since: what we knew may be
                // stale.
                known.rows.clear();
            }
            known.version = Some(version);
            let mut batch = Batch::new(tx, policy);
            batch.known = std::mem::take(&mut known.rows);
            let mut sum = IngestSummary::default();
            let mut new = Vec::new();
            for item in items {
                sum.reports += 1;
                let day = key_day(item.report.date);
                for rec in &item.report.records {
                    let key =
                        Key { key: event_key(item.report, rec), day, legacy };
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
            known.rows = batch.finish()?;
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
            Ok((sum, new, known))
        })?;
        self.known = known;
        Ok((sum, new))
    }
}

/// At most this many address rows are kept between batches (a few hundred
/// bytes each); past it the next batch starts afresh.
const KNOWN_MAX: usize = 2_000_000;

/// The address rows as this connection last committed them, so that the
/// next batch need not read them again. Valid only while no other
/// connection has written: `PRAGMA data_version` (which changes with
/// every other connection's commit, never with this one's) is checked
/// under the write lock at the start of each batch. Any other write
/// through this connection forgets them ([`Ledger::write`]).
#[derive(Debug, Default)]
pub(crate) struct Known {
    /// `data_version` when the rows were committed.
    version: Option<i64>,
    /// Address → row.
    rows: HashMap<String, Stored>,
}

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
pub(crate) struct Batch<'t, 'c> {
    tx: &'t Transaction<'c>,
    policy: Policy,
    cache: HashMap<String, Cached>,
    /// Rows committed by earlier batches of this connection (see
    /// [`Known`]), taken on first use.
    pub(crate) known: HashMap<String, Stored>,
    /// Whether `sends` has any row (read on first need).
    has_sends: Option<bool>,
}

/// The send a bounce refers to (by the returned Message-ID).
struct SendRef {
    recipient: String,
    campaign_id: Option<String>,
    sent_at: i64,
}

/// An event's idempotency key and where it is indexed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Key {
    /// The 128-bit key.
    pub key: [u8; 16],
    /// Its [`key_day`].
    pub day: i64,
    /// The ledger holds events recorded before keys had days (see
    /// [`Ledger::legacy_keys`]): they are looked up too.
    pub legacy: bool,
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
    if key.legacy
        && tx
            .prepare_cached(
                "SELECT 1 FROM events WHERE key_day IS NULL
                   AND substr(event_key, 1, 8) = ?1 AND event_key = ?2",
            )?
            .exists(params![&k[..8], &k[..]])?
    {
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

impl<'t, 'c> Batch<'t, 'c> {
    /// A batch over `tx`.
    pub(crate) fn new(tx: &'t Transaction<'c>, policy: Policy) -> Self {
        Batch {
            tx,
            policy,
            cache: HashMap::new(),
            known: HashMap::new(),
            has_sends: None,
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
        if !has_sends {
            return Ok(None);
        }
        tx.prepare_cached(
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
        let (address_id, prev) = match &address {
            Some(a) => {
                let (id, prev) = self.chain(a)?;
                (Some(id), prev)
            }
            None => (None, None),
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
                   recorded_at, source, key_slot, key_day, prev_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12,
                   ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23,
                   ?24, ?25)
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

/// Inserts a bare row for an address the ledger has never seen (its state
/// is written by [`save`] at the end of the batch) and returns its id.
fn insert(tx: &rusqlite::Connection, address: &str) -> rusqlite::Result<i64> {
    tx.prepare_cached(
        "INSERT INTO addresses (address, domain, state, first_event,
           last_event)
         VALUES (?1, ?2, 'active', 0, 0)",
    )?
    .execute(params![address, domain_of(address)])?;
    Ok(tx.last_insert_rowid())
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

/// The ids of an address's events: its chain walked from `head` (its last
/// event) through each event's `prev_id`. Select from `events WHERE id IN
/// chain` with the query's parameter `?1` = the head.
pub(crate) const CHAIN: &str = "WITH RECURSIVE chain(id) AS (
       SELECT ?1 UNION ALL
       SELECT e.prev_id FROM events e JOIN chain ON e.id = chain.id
       WHERE e.prev_id IS NOT NULL)";

/// An address's history as the state machine sees it, in event order,
/// from the head of its chain.
pub(crate) fn history(
    tx: &rusqlite::Connection,
    head: Option<i64>,
) -> rusqlite::Result<Vec<Fact>> {
    let mut st = tx.prepare_cached(&format!(
        "{CHAIN} SELECT {FACT_COLUMNS} FROM events
         WHERE id IN chain ORDER BY event_time, id"
    ))?;
    let rows = st.query_map([head], fact_of)?;
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
/// `row` gives its id and head, `before` is what the ledger holds now.
pub(crate) fn recompute(
    tx: &rusqlite::Connection,
    row: &Stored,
    before: &Stored,
    policy: &Policy,
) -> rusqlite::Result<AddressState> {
    let state = AddressState::fold(&history(tx, row.head)?, policy);
    save(tx, &Stored { state: state.clone(), ..*row }, before)?;
    Ok(state)
}

/// An address's row: its id, state and last event.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Stored {
    /// Row id in `addresses`.
    pub id: i64,
    /// Its state.
    pub state: AddressState,
    /// Its last event (the head of its chain).
    pub head: Option<i64>,
}

/// The columns [`state_of`] reads, in order.
pub(crate) const STATE_COLUMNS: &str = "id, state, suppression_reason, \
     suppressed_at, suppressed_by, soft_streak, streak_start, hard_count, \
     soft_count, alert_count, delay_count, complaint_count, \
     unsubscribe_count, auto_reply_count, delivered_count, first_event, \
     last_event, last_id";

/// Reads an `addresses` row selected with [`STATE_COLUMNS`].
pub(crate) fn state_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<Stored> {
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
    Ok(Stored { id: r.get(0)?, state: s, head: r.get(17)? })
}

/// The stored row of an address.
pub(crate) fn load(
    tx: &rusqlite::Connection,
    address: &str,
) -> rusqlite::Result<Option<Stored>> {
    tx.prepare_cached(&format!(
        "SELECT {STATE_COLUMNS} FROM addresses WHERE address = ?1"
    ))?
    .query_row([address], state_of)
    .optional()
}

/// Stores an address's state and head (an address with no events is
/// removed); `before` is what the ledger holds now.
///
/// When the suppression (state and time) is unchanged only the row is
/// rewritten, leaving the index of suppressed addresses untouched: one
/// B-tree page per address instead of two.
fn save(
    tx: &rusqlite::Connection,
    row: &Stored,
    before: &Stored,
) -> rusqlite::Result<()> {
    let (s, stored) = (&row.state, &before.state);
    let (Some(first), Some(last)) = (s.first_event, s.last_event) else {
        tx.prepare_cached("DELETE FROM addresses WHERE id = ?1")?
            .execute([row.id])?;
        return Ok(());
    };
    if row == before {
        return Ok(());
    }
    let c = &s.counts;
    let counts = params![
        row.id,
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
        row.head,
    ];
    // The counters (?2..?16) of both statements, spelt once.
    macro_rules! update {
        ($($more:literal)?) => {
            concat!(
                "UPDATE addresses SET suppression_reason = ?2,
                   suppressed_by = ?3, soft_streak = ?4, streak_start = ?5,
                   hard_count = ?6, soft_count = ?7, alert_count = ?8,
                   delay_count = ?9, complaint_count = ?10,
                   unsubscribe_count = ?11, auto_reply_count = ?12,
                   delivered_count = ?13, first_event = ?14, last_event = ?15,
                   last_id = ?16",
                $($more,)?
                " WHERE id = ?1"
            )
        };
    }
    if stored.state == s.state && stored.suppressed_at == s.suppressed_at {
        tx.prepare_cached(update!())?.execute(counts)?;
    } else {
        let state = s.state.as_str();
        let mut all = counts.to_vec();
        all.push(&state);
        all.push(&s.suppressed_at);
        tx.prepare_cached(update!(", state = ?17, suppressed_at = ?18"))?
            .execute(all.as_slice())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::tests::address_rows;
    use crate::ledger::{SuppressionReason, sends, stats};

    /// Only the day and the first 64 bits of a key are indexed: a recorded
    /// event sharing them with a new one does not make the new one a
    /// duplicate.
    #[test]
    fn a_key_prefix_collision_is_not_a_duplicate() {
        use crate::model::{EventType, Record};
        use crate::parse::Report;

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

    /// A report of one soft bounce of `rcpt`, Message-ID `<s{n}@...>`,
    /// `after` seconds past 2024-01-01.
    fn soft_report(rcpt: &str, n: i64, after: i64) -> crate::parse::Report {
        use crate::model::{Action, EventType, Record};
        crate::parse::Report {
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
            ..crate::parse::Report::default()
        }
    }

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
        use crate::parse::Report;
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
}
