//! The pre-send question for many addresses at once: may each still be
//! mailed, and if not, why and since when (`POST /v1/check` of `rebound
//! serve`, `rebound scrub`, `rebound status`, `rebound export`).
//!
//! Every suppression rule that applies to an address is decided here, by
//! [`Checker::verdict`], in this order:
//! 1. the address's own state (a manual suppression whose end has come
//!    no longer counts);
//! 2. a forgotten address (`rebound forget`), found by its keyed hash;
//! 3. a domain entry (`rebound suppress @example.com`) for its domain, or
//!    one for a parent domain that takes its subdomains.
//!
//! One lookup in the address index per address, reading only the columns
//! that answer it; the hash and domain lookups are made only when the
//! ledger holds forgotten addresses or domain entries. [`Ledger::check`]
//! looks many addresses up in sorted order, in one read transaction, so
//! neighbouring lookups share index pages.

use rusqlite::{Connection, OptionalExtension};
use serde::Serialize;

use super::domains::{DomainEntry, ENTRY_COLUMNS, entry_of};
use super::forget::{address_hash, secret};
use super::state::State;
use super::{Ledger, LedgerError, domain_of, normalise_address};
use crate::time;

/// The verdict on one address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// The address as asked (trimmed and lower-cased).
    pub address: String,
    /// Whether it may be mailed.
    pub mailable: bool,
    /// Its own state (`active`, `soft_bouncing`, `suppressed`); `None`
    /// when the ledger has never seen it (or forgot it).
    pub state: Option<&'static str>,
    /// Why it is refused (`hard_bounce`, `complaint`, ...).
    pub reason: Option<String>,
    /// Since when it is refused (RFC 3339).
    pub since: Option<String>,
    /// Until when, for a suppression given an end (RFC 3339).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// The domain entry that refuses it (`example.com`, or
    /// `*.example.com` for one taking the subdomains).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// It was forgotten (`rebound forget`) and is refused by its hash.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub forgotten: bool,
}

/// Decides verdicts on one connection (see the module doc for the rules).
pub(crate) struct Checker<'c> {
    conn: &'c Connection,
    now: i64,
    /// The secret of the forgotten addresses' hashes, when there are any.
    secret: Option<Vec<u8>>,
    /// Whether any domain entry exists.
    domains: bool,
}

impl<'c> Checker<'c> {
    /// A checker over `conn` deciding as of `now`.
    pub(crate) fn new(
        conn: &'c Connection,
        now: i64,
    ) -> rusqlite::Result<Self> {
        let forgotten: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM forgotten)",
            [],
            |r| r.get(0),
        )?;
        let secret = if forgotten { secret(conn)? } else { None };
        let domains = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM suppressed_domains)",
            [],
            |r| r.get(0),
        )?;
        Ok(Checker { conn, now, secret, domains })
    }

    /// The verdict on `address` (normalised).
    pub(crate) fn verdict(&self, address: &str) -> rusqlite::Result<Verdict> {
        let mut v = Verdict {
            address: address.to_string(),
            mailable: true,
            state: None,
            reason: None,
            since: None,
            until: None,
            domain: None,
            forgotten: false,
        };
        let own = self
            .conn
            .prepare_cached(
                "SELECT state, suppression_reason, suppressed_at,
                   suppressed_until
                 FROM addresses WHERE address = ?1",
            )?
            .query_row([address], |r| {
                let state: String = r.get(0)?;
                Ok((
                    State::from_name(&state).unwrap_or_default(),
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, Option<i64>>(3)?,
                ))
            })
            .optional()?;
        if let Some((state, reason, at, until)) = own {
            let ended = until.is_some_and(|u| u <= self.now);
            if state == State::Suppressed && !ended {
                v.state = Some(state.as_str());
                return Ok(refused(v, reason, at, until));
            }
            v.state = Some(if ended { State::Active } else { state }.as_str());
        }
        if let Some(secret) = &self.secret {
            let found = self
                .conn
                .prepare_cached(
                    "SELECT reason, suppressed_at FROM forgotten
                     WHERE hash = ?1",
                )?
                .query_row([&address_hash(secret, address)[..]], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
                })
                .optional()?;
            if let Some((reason, at)) = found {
                v.forgotten = true;
                return Ok(refused(v, Some(reason), Some(at), None));
            }
        }
        if let Some(e) = self.domain_entry(domain_of(address))? {
            v.domain = Some(e.pattern());
            return Ok(refused(
                v,
                Some(e.reason),
                Some(e.suppressed_at),
                e.until,
            ));
        }
        Ok(v)
    }

    /// The domain entry in force that refuses addresses at `domain`: its
    /// own, else the nearest parent's that takes its subdomains.
    pub(crate) fn domain_entry(
        &self,
        domain: &str,
    ) -> rusqlite::Result<Option<DomainEntry>> {
        if !self.domains || domain.is_empty() {
            return Ok(None);
        }
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {ENTRY_COLUMNS} FROM suppressed_domains WHERE domain = ?1"
        ))?;
        let mut d = domain;
        let mut own = true;
        loop {
            if let Some(e) = st.query_row([d], entry_of).optional()?
                && (own || e.subdomains)
                && e.in_force(self.now)
            {
                return Ok(Some(e));
            }
            match d.split_once('.') {
                Some((_, parent)) if parent.contains('.') => d = parent,
                _ => return Ok(None),
            }
            own = false;
        }
    }
}

/// `v` refused for `reason` since `at`, until `until`.
fn refused(
    mut v: Verdict,
    reason: Option<String>,
    at: Option<i64>,
    until: Option<i64>,
) -> Verdict {
    v.mailable = false;
    v.reason = reason;
    v.since = at.map(time::format_rfc3339);
    v.until = until.map(time::format_rfc3339);
    v
}

impl Ledger {
    /// The verdict on each address, in the order given.
    pub fn check(
        &self,
        addresses: &[&str],
    ) -> Result<Vec<Verdict>, LedgerError> {
        let mut order: Vec<(String, usize)> = addresses
            .iter()
            .enumerate()
            .map(|(i, a)| (normalise_address(a), i))
            .collect();
        order.sort_unstable();
        let mut out: Vec<Option<Verdict>> = vec![None; addresses.len()];
        let run = |out: &mut Vec<Option<Verdict>>| -> rusqlite::Result<()> {
            // One read transaction for every lookup: one snapshot, and the
            // pages read stay cached from one lookup to the next.
            let tx = self.conn().unchecked_transaction()?;
            let checker = Checker::new(&tx, time::now())?;
            let mut last: Option<(&str, Verdict)> = None;
            for (address, i) in &order {
                let v = match &last {
                    Some((a, v)) if a == address => v.clone(),
                    _ => {
                        let v = checker.verdict(address)?;
                        last = Some((address, v.clone()));
                        v
                    }
                };
                out[*i] = Some(v);
            }
            drop(checker);
            tx.commit()
        };
        run(&mut out).map_err(|e| self.error(e))?;
        Ok(out.into_iter().flatten().collect())
    }

    /// The verdict on one address (`rebound scrub` asks row by row).
    pub fn verdict(&self, address: &str) -> Result<Verdict, LedgerError> {
        let address = normalise_address(address);
        Checker::new(self.conn(), time::now())
            .and_then(|c| c.verdict(&address))
            .map_err(|e| self.error(e))
    }
}

#[cfg(test)]
mod tests {
    use crate::ledger::tests::soft_report;
    use crate::ledger::{IngestItem, Ledger};

    #[test]
    fn verdicts_keep_the_order_asked() {
        let dir = tempfile::tempdir().unwrap();
        let mut l = Ledger::open(&dir.path().join("l.db")).unwrap();
        let r = soft_report("soft@example.org", 1, 0);
        l.ingest(&[IngestItem { source: "t", report: &r }], None).unwrap();
        assert!(l.suppress("gone@example.org", "asked").unwrap());
        let v = l
            .check(&[
                "New@example.org",
                " GONE@example.org",
                "soft@example.org",
                "gone@example.org",
            ])
            .unwrap();
        let got: Vec<(&str, bool, Option<&str>)> = v
            .iter()
            .map(|v| (v.address.as_str(), v.mailable, v.reason.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("new@example.org", true, None),
                ("gone@example.org", false, Some("manual")),
                ("soft@example.org", true, None),
                ("gone@example.org", false, Some("manual")),
            ]
        );
        assert_eq!(v[2].state, Some("soft_bouncing"));
        assert!(v[1].since.is_some());
    }

    #[test]
    fn ends_subdomains_and_forgotten_addresses_are_decided_here() {
        use super::Checker;
        use crate::ledger::domains::DomainEntry;
        use crate::ledger::state::SuppressionReason;

        let dir = tempfile::tempdir().unwrap();
        let mut l = Ledger::open(&dir.path().join("l.db")).unwrap();
        let now = crate::time::now();
        let reason = SuppressionReason::Manual;
        assert!(
            l.suppress_with("t@example.org", "x", reason, Some(now + 100))
                .unwrap()
        );
        let entry = DomainEntry {
            domain: "example.net".into(),
            subdomains: true,
            reason: "complaint".into(),
            suppressed_at: now,
            until: Some(now + 100),
            note: None,
        };
        assert!(l.suppress_domain(&entry).unwrap());
        l.forget(&["f@example.com"], "erasure request 7").unwrap();
        let at = |t: i64, a: &str| {
            let c = Checker::new(l.conn(), t).unwrap();
            let v = c.verdict(a).unwrap();
            (v.mailable, v.domain, v.forgotten)
        };
        assert_eq!(at(now, "t@example.org"), (false, None, false));
        assert_eq!(at(now + 100, "t@example.org"), (true, None, false));
        let sub = Some("*.example.net".to_string());
        assert_eq!(at(now, "a@b.c.example.net"), (false, sub, false));
        assert_eq!(at(now + 100, "a@b.c.example.net"), (true, None, false));
        assert_eq!(at(now, "a@example.network"), (true, None, false));
        assert_eq!(at(now, "f@example.com"), (false, None, true));
        assert_eq!(at(now, "g@example.com"), (true, None, false));
    }
}
