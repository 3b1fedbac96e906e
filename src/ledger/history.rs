//! Reading and amending one address's history: `rebound status` (state,
//! every event in event_time order, and the event that suppressed it) and
//! the manual `suppress` / `unsuppress` events, which are kept as audit
//! events with the operator's note like any other.

use rusqlite::{Row, params};
use serde::Serialize;

use super::addresses::{CHAIN, load};
use super::batch::Batch;
use super::check::{Checker, Verdict};
use super::key::{Key, insert_keyed, key_day, key_of};
use super::state::{AddressState, Fact, Kind, State, SuppressionReason};
use super::{Ledger, LedgerError, normalise_address};
use crate::time;

/// One recorded event, as `status` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct EventRow {
    /// Ledger row id.
    pub id: i64,
    /// When it happened (RFC 3339).
    pub event_time: String,
    /// When it was recorded (RFC 3339).
    pub recorded_at: String,
    /// bounce, delay, complaint, ..., suppress, unsuppress.
    pub kind: String,
    /// hard or soft.
    pub category: Option<String>,
    /// Class code.
    pub class: Option<i64>,
    /// Fine reason.
    pub reason: Option<String>,
    /// Recommended action.
    pub action: Option<String>,
    /// Enhanced status code.
    pub status: Option<String>,
    /// SMTP reply code.
    pub reply_code: Option<String>,
    /// Diagnostic text.
    pub diagnostic: Option<String>,
    /// Receiving provider.
    pub provider: Option<String>,
    /// Campaign.
    pub campaign_id: Option<String>,
    /// Message-ID of the message that bounced.
    pub original_message_id: Option<String>,
    /// Where the event came from.
    pub source: Option<String>,
    /// The operator's note (manual events).
    pub note: Option<String>,
}

/// The columns [`EventRow::from_row`] reads, in order.
pub(crate) const EVENT_COLUMNS: &str = "id, event_time, recorded_at, kind, \
     category, class, reason, action, status, reply_code, diagnostic, \
     provider, campaign_id, original_message_id, source, note";

impl EventRow {
    /// Reads a row selected with [`EVENT_COLUMNS`].
    pub(crate) fn from_row(r: &Row<'_>) -> rusqlite::Result<EventRow> {
        Ok(EventRow {
            id: r.get(0)?,
            event_time: time::format_rfc3339(r.get(1)?),
            recorded_at: time::format_rfc3339(r.get(2)?),
            kind: r.get(3)?,
            category: r.get(4)?,
            class: r.get(5)?,
            reason: r.get(6)?,
            action: r.get(7)?,
            status: r.get(8)?,
            reply_code: r.get(9)?,
            diagnostic: r.get(10)?,
            provider: r.get(11)?,
            campaign_id: r.get(12)?,
            original_message_id: r.get(13)?,
            source: r.get(14)?,
            note: r.get(15)?,
        })
    }
}

/// An address's state and history.
#[derive(Debug, Clone)]
pub struct AddressReport {
    /// The address (lower-cased).
    pub address: String,
    /// Its state; `None` when the ledger has never seen it.
    pub state: Option<AddressState>,
    /// Every event, in event_time order.
    pub history: Vec<EventRow>,
    /// Whether it may be mailed, every suppression rule applied (its own
    /// state, a domain entry, a forgotten address; [`check`](super::check)).
    pub verdict: Verdict,
}

impl AddressReport {
    /// The report as `rebound status --json` prints it (and `rebound
    /// serve` answers `GET /v1/addresses/{email}`): the address, its
    /// `state` (`null` when the ledger has never seen it), why and since
    /// when it is suppressed, the suppressing event, its counters, and
    /// its history.
    pub fn to_json(&self) -> serde_json::Value {
        use crate::time::format_rfc3339;
        use serde_json::json;
        let v = &self.verdict;
        let Some(s) = &self.state else {
            let mut out = json!({
                "address": self.address, "state": null, "history": [],
                "mailable": v.mailable,
            });
            if !v.mailable {
                out["suppression_reason"] = json!(v.reason);
                out["suppressed_at"] = json!(v.since);
                out["suppressed_until"] = json!(v.until);
                out["domain_entry"] = json!(v.domain);
                out["forgotten"] = json!(v.forgotten);
            }
            return out;
        };
        let c = &s.counts;
        json!({
            "address": self.address,
            "mailable": v.mailable,
            "domain_entry": v.domain,
            "suppressed_until": s.suppressed_until.map(format_rfc3339),
            "state": s.state.as_str(),
            "suppression_reason": s.reason.map(|x| x.as_str()),
            "suppressed_at": s.suppressed_at.map(format_rfc3339),
            "suppressed_by": self.suppressing_event(),
            "soft_streak": s.soft_streak,
            "counts": {
                "hard": c.hard, "soft": c.soft, "alert": c.alert,
                "delay": c.delay, "complaint": c.complaint,
                "unsubscribe": c.unsubscribe, "auto_reply": c.auto_reply,
                "delivered": c.delivered,
            },
            "first_event": s.first_event.map(format_rfc3339),
            "last_event": s.last_event.map(format_rfc3339),
            "history": self.history,
        })
    }

    /// The event that suppressed the address, if it is suppressed.
    pub fn suppressing_event(&self) -> Option<&EventRow> {
        let id = self.state.as_ref()?.suppressed_by?;
        self.history.iter().find(|e| e.id == id)
    }
}

impl Ledger {
    /// The state and full history of `address`.
    pub fn status(&self, address: &str) -> Result<AddressReport, LedgerError> {
        let address = normalise_address(address);
        let run = || -> rusqlite::Result<AddressReport> {
            let tx = self.conn().unchecked_transaction()?;
            let verdict = Checker::new(&tx, time::now())?.verdict(&address)?;
            let Some(row) = load(&tx, &address)? else {
                return Ok(AddressReport {
                    address: address.clone(),
                    state: None,
                    history: Vec::new(),
                    verdict,
                });
            };
            let history = tx
                .prepare(&format!(
                    "{CHAIN} SELECT {EVENT_COLUMNS} FROM events
                     WHERE id IN chain ORDER BY event_time, id"
                ))?
                .query_map([row.head], EventRow::from_row)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(AddressReport {
                address: address.clone(),
                state: Some(row.state),
                history,
                verdict,
            })
        };
        run().map_err(|e| self.error(e))
    }

    /// The state of `address` alone, without its history: the cheap
    /// lookup for checking many addresses (`rebound scrub`). `None` when
    /// the ledger has never seen it.
    pub fn state(
        &self,
        address: &str,
    ) -> Result<Option<AddressState>, LedgerError> {
        load(self.conn(), &normalise_address(address))
            .map(|found| found.map(|row| row.state))
            .map_err(|e| self.error(e))
    }

    /// Lifts the suppression of `address`, recording an `unsuppress` audit
    /// event with `note`. Returns false (and records nothing) when the
    /// address is not suppressed.
    pub fn unsuppress(
        &mut self,
        address: &str,
        note: &str,
    ) -> Result<bool, LedgerError> {
        self.manual(address, Kind::Unsuppress, note, None)
    }

    /// Suppresses `address` by hand (reason `manual`), recording a
    /// `suppress` audit event with `note`. Returns false (and records
    /// nothing) when it is already suppressed.
    pub fn suppress(
        &mut self,
        address: &str,
        note: &str,
    ) -> Result<bool, LedgerError> {
        self.suppress_with(address, note, SuppressionReason::Manual, None)
    }

    /// Suppresses `address` by hand for `reason`, until `until` (Unix
    /// seconds; `None`: for good), recording a `suppress` audit event with
    /// `note`. Returns false (and records nothing) when that would change
    /// nothing: the address is already suppressed, for at least as long.
    pub fn suppress_with(
        &mut self,
        address: &str,
        note: &str,
        reason: SuppressionReason,
        until: Option<i64>,
    ) -> Result<bool, LedgerError> {
        self.manual(address, Kind::Suppress(reason), note, until)
    }

    fn manual(
        &mut self,
        address: &str,
        kind: Kind,
        note: &str,
        until: Option<i64>,
    ) -> Result<bool, LedgerError> {
        let address = normalise_address(address);
        let policy = self.policy;
        let now = time::now();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        self.write(|tx| {
            // What the event would do to the address as it stands now:
            // nothing means nothing is recorded.
            let mut state =
                load(tx, &address)?.map(|row| row.state).unwrap_or_default();
            if state.ended_by(now) {
                state = AddressState::default();
            }
            let changes = match kind {
                Kind::Unsuppress => state.state == State::Suppressed,
                _ => {
                    let fact =
                        Fact { id: -1, kind, action: None, time: now, until };
                    state.apply(&fact, &policy);
                    state.suppressed_by == Some(-1)
                }
            };
            if !changes {
                return Ok(false);
            }
            // The key holds the time in nanoseconds: it was never
            // recorded, not even before keys had days.
            let key = Key {
                key: key_of(&[
                    "manual",
                    &address,
                    kind.as_str(),
                    &nanos.to_string(),
                    note,
                ]),
                day: key_day(Some(now)),
                legacy: false,
            };
            let mut batch = Batch::new(tx, policy);
            let (address_id, prev) = batch.chain(&address)?;
            let inserted = insert_keyed(tx, &key, |slot| {
                tx.prepare_cached(
                    "INSERT INTO events (event_key, address_id, kind,
                       event_time, recorded_at, source, note, key_slot,
                       key_day, prev_id, reason, until)
                     VALUES (?1, ?2, ?3, ?4, ?4, 'manual', ?5, ?6, ?7, ?8,
                       ?9, ?10)
                     ON CONFLICT DO NOTHING",
                )?
                .execute(params![
                    &key.key[..],
                    address_id,
                    kind.as_str(),
                    now,
                    note,
                    slot,
                    key.day,
                    prev,
                    match kind {
                        Kind::Suppress(r) => Some(r.as_str()),
                        _ => None,
                    },
                    until,
                ])
            })?;
            let Some(id) = inserted else { return Ok(false) };
            let fact = Fact { id, kind, action: None, time: now, until };
            batch.touch(&address, fact)?;
            batch.finish()?;
            Ok(true)
        })
    }
}
