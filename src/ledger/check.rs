//! The pre-send question for many addresses at once: may each still be
//! mailed, and if not, why and since when (`POST /v1/check` of `rebound
//! serve`). One lookup in the address index per address, reading only the
//! three columns that answer it, all in one read transaction; the
//! addresses are looked up in sorted order, so neighbouring lookups share
//! index pages.
//!
//! Every suppression rule that applies to an address is decided here, in
//! [`Ledger::check`], so that rules beyond the address's own state (a
//! suppressed domain) have one place to go.

use serde::Serialize;

use super::state::State;
use super::{Ledger, LedgerError, normalise_address};
use crate::time;

/// The verdict on one address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// The address as asked (trimmed and lower-cased).
    pub address: String,
    /// Whether it may be mailed.
    pub mailable: bool,
    /// Its state (`active`, `soft_bouncing`, `suppressed`); `None` when
    /// the ledger has never seen it.
    pub state: Option<&'static str>,
    /// Why it is suppressed (`hard_bounce`, `complaint`, ...).
    pub reason: Option<String>,
    /// Since when it is suppressed (RFC 3339).
    pub since: Option<String>,
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
            let mut st = tx.prepare_cached(
                "SELECT state, suppression_reason, suppressed_at
                 FROM addresses WHERE address = ?1",
            )?;
            let mut last: Option<(&str, Verdict)> = None;
            for (address, i) in &order {
                let v = match &last {
                    Some((a, v)) if a == address => v.clone(),
                    _ => {
                        let mut rows = st.query([address])?;
                        let v = match rows.next()? {
                            None => Verdict {
                                address: address.clone(),
                                mailable: true,
                                state: None,
                                reason: None,
                                since: None,
                            },
                            Some(r) => {
                                let state: String = r.get(0)?;
                                let state = State::from_name(&state)
                                    .unwrap_or_default();
                                let at: Option<i64> = r.get(2)?;
                                Verdict {
                                    address: address.clone(),
                                    mailable: state != State::Suppressed,
                                    state: Some(state.as_str()),
                                    reason: r.get(1)?,
                                    since: at.map(time::format_rfc3339),
                                }
                            }
                        };
                        last = Some((address, v.clone()));
                        v
                    }
                };
                out[*i] = Some(v);
            }
            drop(st);
            tx.commit()
        };
        run(&mut out).map_err(|e| self.error(e))?;
        Ok(out.into_iter().flatten().collect())
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
}
