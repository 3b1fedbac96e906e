//! The bulk-sender rules Gmail and Yahoo enforce since February 2024 (for
//! senders of 5,000 messages a day and more), as far as DNS shows them:
//! SPF and DKIM both set up, a DMARC record with at least `p=none`, the
//! From domain aligned with the SPF or the DKIM domain, and forward-
//! confirmed reverse DNS for every sending IP. They summarise the verdicts
//! of the other checks; the TLS, one-click unsubscribe and complaint-rate
//! rules are not visible in DNS.

use super::report::{Check, Status};
use crate::model::Reason;

/// What the rules look at, from the other checks.
#[derive(Debug, Clone)]
pub(crate) struct Facts {
    /// The From domain.
    pub from: String,
    /// A valid SPF record exists.
    pub spf: bool,
    /// DKIM selectors given; of them, keys that can verify.
    pub dkim_selectors: usize,
    pub dkim_usable: usize,
    /// A valid DMARC record applies (p=none or stronger).
    pub dmarc: Option<String>,
    /// An identifier both aligns and passes.
    pub aligned: bool,
    /// IPs given; of them, with FCrDNS; of them, whose reverse lookup
    /// failed.
    pub ips: usize,
    pub fcrdns: usize,
    pub ptr_unknown: usize,
}

/// The rule checks.
pub(crate) fn check(f: &Facts) -> Vec<Check> {
    let from = &f.from;
    let mut out = Vec::new();
    let auth = match (f.spf, f.dkim_selectors, f.dkim_usable) {
        (true, _, n) if n > 0 => {
            (Status::Pass, format!("SPF and DKIM ({n} usable key(s)) set up"))
        }
        (spf, 0, _) => (
            if spf { Status::CannotCheck } else { Status::Fail },
            format!(
                "{}; DKIM not checked (no --dkim-selector)",
                if spf { "SPF set up" } else { "no valid SPF record" }
            ),
        ),
        (spf, _, _) => (
            Status::Fail,
            format!(
                "{}; no usable DKIM key",
                if spf { "SPF set up" } else { "no valid SPF record" }
            ),
        ),
    };
    out.push(Check::new("bulk.spf_dkim", from, auth.0, auth.1).advise(
        "Gmail and Yahoo require bulk senders to publish SPF and sign \
             with DKIM: fix the spf.* and dkim.* checks above.",
        Reason::AuthFailure,
    ));
    let dmarc = match &f.dmarc {
        Some(p) => (Status::Pass, format!("DMARC policy {p} (at least none)")),
        None => (Status::Fail, "no valid DMARC record".to_string()),
    };
    out.push(Check::new("bulk.dmarc", from, dmarc.0, dmarc.1).advise(
        "Gmail and Yahoo require bulk senders to publish a DMARC record, \
             p=none at least: fix the dmarc.record check above.",
        Reason::AuthFailure,
    ));
    let align = if f.aligned {
        (
            Status::Pass,
            format!("From {from} aligns with a passing SPF or DKIM domain"),
        )
    } else {
        (
            Status::Fail,
            format!("From {from} aligns with no passing SPF or DKIM domain"),
        )
    };
    out.push(Check::new("bulk.alignment", from, align.0, align.1).advise(
        "Gmail and Yahoo require the From domain to align with the SPF \
             or the DKIM domain: fix the dmarc.align checks above.",
        Reason::AuthFailure,
    ));
    let ptr = if f.ips == 0 {
        (Status::CannotCheck, "no --ip given".to_string())
    } else if f.fcrdns == f.ips {
        (
            Status::Pass,
            format!("all {} IP(s) have forward-confirmed reverse DNS", f.ips),
        )
    } else if f.fcrdns + f.ptr_unknown == f.ips {
        (
            Status::CannotCheck,
            format!("{} IP(s) could not be checked", f.ptr_unknown),
        )
    } else {
        (
            Status::Fail,
            format!(
                "{} of {} IP(s) lack forward-confirmed reverse DNS",
                f.ips - f.fcrdns - f.ptr_unknown,
                f.ips
            ),
        )
    };
    out.push(Check::new("bulk.ptr", from, ptr.0, ptr.1).advise(
        "Gmail and Yahoo require a PTR for every sending IP whose name \
             resolves back to it: fix the ptr.fcrdns checks above.",
        Reason::RequirePtr,
    ));
    out
}
