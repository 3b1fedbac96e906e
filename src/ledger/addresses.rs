//! Address rows and the event chains behind them: reading and writing an
//! address's row in `addresses` (its state and the head of its chain),
//! walking the chain of its events, and recomputing its state from them.
//!
//! Each event names the previous event of its address (`prev_id`), and
//! the address's row names its last event (`addresses.last_id`), the head
//! of the chain: [`history`] walks it.

use rusqlite::{OptionalExtension, params};

use super::domain_of;
use super::state::{
    AddressState, Counts, Fact, Kind, Policy, State, SuppressionReason,
};
use crate::model::Action;

/// Inserts a bare row for an address the ledger has never seen (its state
/// is written by [`save`] at the end of the batch) and returns its id.
pub(crate) fn insert(
    tx: &rusqlite::Connection,
    address: &str,
) -> rusqlite::Result<i64> {
    tx.prepare_cached(
        "INSERT INTO addresses (address, domain, state, first_event,
           last_event)
         VALUES (?1, ?2, 'active', 0, 0)",
    )?
    .execute(params![address, domain_of(address)])?;
    Ok(tx.last_insert_rowid())
}

/// The columns [`fact_of`] reads, in order.
pub(crate) const FACT_COLUMNS: &str =
    "id, kind, action, event_time, reason, until";

/// How many columns [`FACT_COLUMNS`] names: a query selecting more after
/// them reads those from this index on.
pub(crate) const FACT_WIDTH: usize = 6;

/// Reads a row selected with [`FACT_COLUMNS`] (`None` for an unknown kind).
pub(crate) fn fact_of(
    r: &rusqlite::Row<'_>,
) -> rusqlite::Result<Option<Fact>> {
    let kind: String = r.get(1)?;
    let action: Option<String> = r.get(2)?;
    let kind = match Kind::from_name(&kind) {
        // A suppression's reason is the event's (`manual` when none).
        Some(Kind::Suppress(manual)) => {
            let reason: Option<String> = r.get(4)?;
            Some(Kind::Suppress(
                reason
                    .as_deref()
                    .and_then(SuppressionReason::from_name)
                    .unwrap_or(manual),
            ))
        }
        other => other,
    };
    Ok(match kind {
        Some(kind) => Some(Fact {
            id: r.get(0)?,
            kind,
            action: action.as_deref().and_then(action_from_name),
            time: r.get(3)?,
            until: r.get(5)?,
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
    // From what `rebound purge` folded of the events it deleted, if any.
    let mut state = baseline(tx, row.id)?;
    for e in &history(tx, row.head)? {
        state.apply(e, policy);
    }
    save(tx, &Stored { state: state.clone(), ..*row }, before)?;
    Ok(state)
}

/// The state an address's history starts from: what `rebound purge`
/// folded of the events it deleted (`address_baselines`), else nothing.
pub(crate) fn baseline(
    tx: &rusqlite::Connection,
    id: i64,
) -> rusqlite::Result<AddressState> {
    Ok(tx
        .prepare_cached(&format!(
            "SELECT {STATE_COLUMNS} FROM address_baselines WHERE id = ?1"
        ))?
        .query_row([id], state_of)
        .optional()?
        .map(|b| b.state)
        .unwrap_or_default())
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
     last_event, last_id, suppressed_until";

/// Reads an `addresses` row selected with [`STATE_COLUMNS`].
pub(crate) fn state_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<Stored> {
    let state: String = r.get(1)?;
    let reason: Option<String> = r.get(2)?;
    let s = AddressState {
        state: State::from_name(&state).unwrap_or_default(),
        reason: reason.as_deref().and_then(SuppressionReason::from_name),
        suppressed_at: r.get(3)?,
        suppressed_by: r.get(4)?,
        suppressed_until: r.get(18)?,
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
pub(crate) fn save(
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
        s.suppressed_until,
    ];
    // The counters (?2..?17) of both statements, spelt once.
    macro_rules! update {
        ($($more:literal)?) => {
            concat!(
                "UPDATE addresses SET suppression_reason = ?2,
                   suppressed_by = ?3, soft_streak = ?4, streak_start = ?5,
                   hard_count = ?6, soft_count = ?7, alert_count = ?8,
                   delay_count = ?9, complaint_count = ?10,
                   unsubscribe_count = ?11, auto_reply_count = ?12,
                   delivered_count = ?13, first_event = ?14, last_event = ?15,
                   last_id = ?16, suppressed_until = ?17",
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
        tx.prepare_cached(update!(", state = ?18, suppressed_at = ?19"))?
            .execute(all.as_slice())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fact_width_counts_the_fact_columns() {
        assert_eq!(FACT_COLUMNS.split(',').count(), FACT_WIDTH);
    }
}
