//! The bulk-sender rules Gmail and Yahoo enforce since February 2024 (for
//! senders of 5,000 messages a day and more), as far as DNS shows them:
//! SPF and DKIM both set up, a DMARC record with at least `p=none`, the
//! From domain aligned with the SPF or the DKIM domain, and forward-
//! confirmed reverse DNS for every sending IP. They summarise the verdicts
//! of the other checks; the TLS, one-click unsubscribe and complaint-rate
//! rules are not visible in DNS.

use super::report::{Check, Status};
use crate::model::Reason;

/// The worst status of the checks with id `id`; `None` when there are
/// none.
fn worst(checks: &[Check], id: &str) -> Option<Status> {
    checks.iter().filter(|c| c.check == id).map(|c| c.status).max()
}

/// The best status of the checks with id `id`.
fn best(checks: &[Check], id: &str) -> Option<Status> {
    checks.iter().filter(|c| c.check == id).map(|c| c.status).min()
}

/// Set up (pass or warn), missing or broken (fail), or unknown.
fn present(s: Option<Status>) -> Status {
    match s {
        Some(Status::Pass | Status::Warn) => Status::Pass,
        Some(Status::Fail) => Status::Fail,
        _ => Status::CannotCheck,
    }
}

/// The rule checks, from the verdicts of the other checks (`aligned`:
/// an identifier both aligns with the From domain and passes).
pub(crate) fn check(
    from: &str,
    checks: &[Check],
    aligned: bool,
) -> Vec<Check> {
    let spf = present(worst(checks, "spf.record"));
    let dkim = present(best(checks, "dkim.key"));
    let auth = match (spf, dkim) {
        (Status::Pass, Status::Pass) => Status::Pass,
        (Status::Fail, _) | (_, Status::Fail) => Status::Fail,
        _ => Status::CannotCheck,
    };
    let word = |s: Status| match s {
        Status::Pass => "set up",
        Status::Fail => "missing or broken",
        _ => "not known",
    };
    let mut out = vec![
        Check::new(
            "bulk.spf_dkim",
            from,
            auth,
            format!("SPF {}, DKIM {}", word(spf), word(dkim)),
        )
        .advise(
            "Gmail and Yahoo require bulk senders to publish SPF and sign \
             with DKIM: fix the spf.* and dkim.* checks above.",
            Reason::AuthFailure,
        ),
    ];
    let policy = checks
        .iter()
        .find(|c| c.check == "dmarc.policy")
        .map(|c| c.detail.split(':').next().unwrap_or("").to_string());
    let dmarc = present(worst(checks, "dmarc.record"));
    let detail = match (dmarc, policy) {
        (Status::Pass, Some(p)) => format!("DMARC record with {p}"),
        (Status::Fail, _) => "no valid DMARC record".into(),
        _ => "DMARC record not known".into(),
    };
    out.push(Check::new("bulk.dmarc", from, dmarc, detail).advise(
        "Gmail and Yahoo require bulk senders to publish a DMARC \
             record, p=none at least: fix the dmarc.record check above.",
        Reason::AuthFailure,
    ));
    let (status, detail) = if aligned {
        (
            Status::Pass,
            format!("From {from} aligns with a passing SPF or DKIM domain"),
        )
    } else if spf == Status::CannotCheck || dkim == Status::CannotCheck {
        (Status::CannotCheck, "SPF or DKIM not known".to_string())
    } else {
        (
            Status::Fail,
            format!("From {from} aligns with no passing SPF or DKIM domain"),
        )
    };
    out.push(Check::new("bulk.alignment", from, status, detail).advise(
        "Gmail and Yahoo require the From domain to align with the SPF \
             or the DKIM domain: fix the dmarc.align.* checks above.",
        Reason::AuthFailure,
    ));
    let ptr: Vec<Status> = checks
        .iter()
        .filter(|c| c.check == "ptr.fcrdns")
        .map(|c| c.status)
        .collect();
    let missing = ptr.iter().filter(|s| **s == Status::Fail).count();
    let (status, detail) = if ptr.is_empty() {
        (Status::CannotCheck, "no --ip given".to_string())
    } else if missing > 0 {
        (
            Status::Fail,
            format!(
                "{missing} of {} IP(s) lack forward-confirmed reverse DNS",
                ptr.len()
            ),
        )
    } else if ptr.contains(&Status::CannotCheck) {
        (Status::CannotCheck, "reverse DNS not known for every IP".to_string())
    } else {
        (
            Status::Pass,
            format!(
                "all {} IP(s) have forward-confirmed reverse DNS",
                ptr.len()
            ),
        )
    };
    out.push(Check::new("bulk.ptr", from, status, detail).advise(
        "Gmail and Yahoo require a PTR for every sending IP whose name \
             resolves back to it: fix the ptr.fcrdns checks above.",
        Reason::RequirePtr,
    ));
    out
}
