//! `rebound purge --older-than 2y`: old events leave the ledger, every
//! address's state and counters stay.
//!
//! An address's events older than the cut are a prefix of its history in
//! event-time order, so the state after them is well defined: it is
//! folded (onto what an earlier purge left) and kept in
//! `address_baselines`, and a later recompute (a late report, a policy
//! change) starts from it instead of from nothing. The address rows are
//! not touched; the chains of the remaining events are relinked around the
//! deleted ones. Events naming no address older than the cut go too.
//!
//! The work is done in short write transactions (a few hundred addresses,
//! or 10,000 events, each), and the freed pages are given back to the
//! file system afterwards in small `incremental_vacuum` steps, each its
//! own transaction: a sweep waiting for the ledger waits for one step,
//! not for the whole purge.

use std::time::Duration;

use rusqlite::params;

use super::addresses::{
    CHAIN, FACT_COLUMNS, FACT_WIDTH, STATE_COLUMNS, Stored, baseline, fact_of,
    state_of,
};
use super::state::Fact;
use super::{Ledger, LedgerError};

/// Addresses handled per write transaction.
const ADDRESSES_PER_STEP: usize = 500;
/// Address-less events deleted per write transaction.
const EVENTS_PER_STEP: usize = 10_000;
/// Pages given back per vacuum step (4 MiB of 4 KiB pages).
const PAGES_PER_STEP: i64 = 1024;

/// What [`Ledger::purge`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeSummary {
    /// Events deleted.
    pub events: usize,
    /// Addresses whose history was cut (their baselines written).
    pub addresses: usize,
    /// Pages given back to the file system.
    pub pages_freed: i64,
    /// Whether the file gives pages back (`auto_vacuum` is INCREMENTAL;
    /// a ledger created before it needs `--full-vacuum` once).
    pub incremental: bool,
}

impl Ledger {
    /// Deletes the events that happened before `cut` (Unix seconds),
    /// keeping every address's state and counters (see the module doc).
    pub fn purge(&mut self, cut: i64) -> Result<PurgeSummary, LedgerError> {
        let mut sum = PurgeSummary::default();
        let policy = self.policy;
        let mut after = 0i64;
        loop {
            let (done, last) = self.write(|tx| {
                let rows: Vec<Stored> = tx
                    .prepare_cached(&format!(
                        "SELECT {STATE_COLUMNS} FROM addresses
                         WHERE id > ?1 AND first_event < ?2
                         ORDER BY id LIMIT ?3"
                    ))?
                    .query_map(
                        params![after, cut, ADDRESSES_PER_STEP as i64],
                        state_of,
                    )?
                    .collect::<rusqlite::Result<_>>()?;
                let mut done = (0, 0);
                for row in &rows {
                    let n = cut_history(tx, row, cut, &policy)?;
                    done.0 += n;
                    done.1 += usize::from(n > 0);
                }
                Ok((done, rows.last().map(|r| r.id)))
            })?;
            sum.events += done.0;
            sum.addresses += done.1;
            match last {
                Some(id) => after = id,
                None => break,
            }
        }
        let orphans: Vec<i64> = self
            .conn
            .prepare(
                "SELECT id FROM events
                 WHERE address_id IS NULL AND event_time < ?1",
            )
            .and_then(|mut st| st.query_map([cut], |r| r.get(0))?.collect())
            .map_err(|e| self.error(e))?;
        for ids in orphans.chunks(EVENTS_PER_STEP) {
            sum.events += self.write(|tx| {
                let mut st =
                    tx.prepare_cached("DELETE FROM events WHERE id = ?1")?;
                let mut n = 0;
                for id in ids {
                    n += st.execute([id])?;
                }
                Ok(n)
            })?;
        }
        let (freed, incremental) =
            self.vacuum_in_steps().map_err(|e| self.error(e))?;
        sum.pages_freed = freed;
        sum.incremental = incremental;
        Ok(sum)
    }

    /// Gives the free pages back in small steps, each its own
    /// transaction, then checkpoints the WAL; returns (pages freed,
    /// whether the file gives pages back at all).
    fn vacuum_in_steps(&self) -> rusqlite::Result<(i64, bool)> {
        let c = &self.conn;
        let mode: i64 = c.query_row("PRAGMA auto_vacuum", [], |r| r.get(0))?;
        let free = || -> rusqlite::Result<i64> {
            c.query_row("PRAGMA freelist_count", [], |r| r.get(0))
        };
        let start = free()?;
        if mode != 2 {
            return Ok((0, false));
        }
        let mut left = start;
        while left > 0 {
            c.execute_batch(&format!(
                "PRAGMA incremental_vacuum({PAGES_PER_STEP})"
            ))?;
            let now = free()?;
            if now >= left {
                break;
            }
            left = now;
            // Let a writer waiting for the lock take it between steps.
            std::thread::sleep(Duration::from_millis(2));
        }
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok((start - left, true))
    }

    /// Rebuilds the file with `auto_vacuum=INCREMENTAL` (`VACUUM`): for a
    /// ledger created before purges gave pages back. Holds the ledger for
    /// the whole rebuild.
    pub fn full_vacuum(&mut self) -> Result<(), LedgerError> {
        self.conn
            .execute_batch("PRAGMA auto_vacuum = INCREMENTAL; VACUUM;")
            .and_then(|()| {
                self.conn.query_row(
                    "PRAGMA wal_checkpoint(TRUNCATE)",
                    [],
                    |_| Ok(()),
                )
            })
            .map_err(|e| self.error(e))
    }
}

/// Cuts one address's events before `cut`: folds them onto its baseline,
/// deletes them and relinks the chain; returns how many went.
fn cut_history(
    tx: &rusqlite::Connection,
    row: &Stored,
    cut: i64,
    policy: &super::Policy,
) -> rusqlite::Result<usize> {
    // The chain, newest recorded first: (id, prev_id, the fact of an
    // event older than the cut). An event of a kind this build does not
    // know is kept: it cannot be folded.
    let mut chain: Vec<(i64, Option<i64>, Option<Fact>)> = Vec::new();
    {
        let mut st = tx.prepare_cached(&format!(
            "{CHAIN} SELECT {FACT_COLUMNS}, prev_id FROM events
             WHERE id IN chain ORDER BY id DESC"
        ))?;
        let mut rows = st.query([row.head])?;
        while let Some(r) = rows.next()? {
            let old = fact_of(r)?.filter(|f| f.time < cut);
            chain.push((r.get(0)?, r.get(FACT_WIDTH)?, old));
        }
    }
    let mut old: Vec<Fact> = chain.iter().filter_map(|c| c.2).collect();
    if old.is_empty() {
        return Ok(0);
    }
    old.sort_by_key(|f| (f.time, f.id));
    let mut base = baseline(tx, row.id)?;
    for f in &old {
        base.apply(f, policy);
    }
    let b = &base;
    let c = &b.counts;
    tx.prepare_cached(
        "INSERT OR REPLACE INTO address_baselines (id, state,
           suppression_reason, suppressed_at, suppressed_by, soft_streak,
           streak_start, hard_count, soft_count, alert_count, delay_count,
           complaint_count, unsubscribe_count, auto_reply_count,
           delivered_count, first_event, last_event, suppressed_until)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,
           ?15, ?16, ?17, ?18)",
    )?
    .execute(params![
        row.id,
        b.state.as_str(),
        b.reason.map(|r| r.as_str()),
        b.suppressed_at,
        b.suppressed_by,
        b.soft_streak,
        b.streak_start,
        c.hard,
        c.soft,
        c.alert,
        c.delay,
        c.complaint,
        c.unsubscribe,
        c.auto_reply,
        c.delivered,
        b.first_event,
        b.last_event,
        b.suppressed_until,
    ])?;
    let mut delete = tx.prepare_cached("DELETE FROM events WHERE id = ?1")?;
    for f in &old {
        delete.execute([f.id])?;
    }
    // Relink: each kept event's previous is the next kept one down the
    // chain (the chain runs newest recorded first).
    let kept: Vec<(i64, Option<i64>)> =
        chain.iter().filter(|c| c.2.is_none()).map(|c| (c.0, c.1)).collect();
    let mut relink =
        tx.prepare_cached("UPDATE events SET prev_id = ?2 WHERE id = ?1")?;
    for (i, (id, prev)) in kept.iter().enumerate() {
        let new = kept.get(i + 1).map(|k| k.0);
        if new != *prev {
            relink.execute(params![id, new])?;
        }
    }
    let head = kept.first().map(|k| k.0);
    if head != row.head {
        tx.prepare_cached("UPDATE addresses SET last_id = ?2 WHERE id = ?1")?
            .execute(params![row.id, head])?;
    }
    Ok(old.len())
}
