//! SPF (RFC 7208) of the envelope (Return-Path) domain: the record exists,
//! is unique and parses (`spf.record`); the whole tree stays within 10
//! DNS-querying terms and 2 void lookups (`spf.lookups`); and each sending
//! IP evaluates to pass (`spf.ip`), naming the term that decided or that
//! caused the permerror or temperror.

mod eval;
mod macros;
mod record;

use std::net::IpAddr;

use futures_util::future::join_all;

use super::report::{Check, Evidence, Status};
use crate::dns::Dns;
use crate::model::Reason;
use eval::{Evaluator, Fetched, MAX_LOOKUPS, MAX_VOID, SpfResult, fetch};
use record::{Mechanism, Qualifier};

/// Who sends: the envelope sender and the HELO name the macros see.
#[derive(Debug, Clone)]
pub(crate) struct Sender {
    /// The Return-Path local part (`postmaster` when not given).
    pub local: String,
    /// The Return-Path domain, whose SPF record is checked.
    pub domain: String,
    /// The HELO/EHLO name.
    pub helo: String,
}

/// What the other checks need to know of SPF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SpfSummary {
    /// A valid record exists.
    pub valid: bool,
    /// Every given IP passes (false without IPs).
    pub all_ips_pass: bool,
}

const NEXT_RECORD: &str = "Publish exactly one TXT record starting with \
     v=spf1 at the Return-Path domain, listing every sending IP (ip4:, \
     ip6:) or provider (include:) and ending in -all or ~all.";

/// The SPF checks for `sender` and each of `ips`.
pub(crate) async fn check(
    dns: &Dns,
    sender: &Sender,
    ips: &[IpAddr],
) -> (Vec<Check>, SpfSummary) {
    let domain = &sender.domain;
    let (fetched, evidence) = fetch(dns, domain).await;
    let record_check = match &fetched {
        Fetched::Found(text, r) => {
            let last_all =
                r.directives.iter().find(|d| d.mechanism == Mechanism::All);
            let uses_ptr = r
                .directives
                .iter()
                .any(|d| matches!(d.mechanism, Mechanism::Ptr(_)));
            let (status, note) = match last_all.map(|d| d.qualifier) {
                Some(Qualifier::Pass) => (
                    Status::Fail,
                    "+all authorises every host on the internet".to_string(),
                ),
                Some(Qualifier::Neutral) => (
                    Status::Warn,
                    "?all: unlisted hosts get neutral, not fail".into(),
                ),
                None if r.redirect.is_none() => (
                    Status::Warn,
                    "no all and no redirect=: unlisted hosts get neutral"
                        .into(),
                ),
                _ if uses_ptr => (
                    Status::Warn,
                    "uses ptr, which RFC 7208 5.5 says not to use".into(),
                ),
                _ => (Status::Pass, String::new()),
            };
            let detail = if note.is_empty() {
                text.clone()
            } else {
                format!("{text} ({note})")
            };
            Check::new("spf.record", domain, status, detail)
        }
        Fetched::Missing => Check::new(
            "spf.record",
            domain,
            Status::Fail,
            format!("no SPF record at {domain}"),
        ),
        Fetched::Error(o) => Check::new(
            "spf.record",
            domain,
            if o.result == SpfResult::TempError {
                Status::CannotCheck
            } else {
                Status::Fail
            },
            format!("{}: {}", o.result.name(), o.why),
        ),
    }
    .with_evidence([evidence])
    .advise(NEXT_RECORD, Reason::AuthFailure);
    let valid = matches!(fetched, Fetched::Found(..));
    let mut checks = vec![record_check];
    if !valid {
        return (checks, SpfSummary { valid, all_ips_pass: false });
    }

    let walk = async {
        let mut e =
            Evaluator::new(dns, None, &sender.local, domain, &sender.helo);
        let out = e.check_host(domain.clone()).await;
        (out, e.lookups, e.voids, e.evidence)
    };
    let per_ip = join_all(ips.iter().map(|ip| async move {
        let mut e = Evaluator::new(
            dns,
            Some(*ip),
            &sender.local,
            domain,
            &sender.helo,
        );
        let out = e.check_host(domain.clone()).await;
        (*ip, out, e.evidence)
    }));
    let ((walked, lookups, voids, walk_evidence), results) =
        futures_util::future::join(walk, per_ip).await;

    let counts = format!(
        "{lookups} of {MAX_LOOKUPS} DNS lookups, {voids} of {MAX_VOID} void \
         lookups"
    );
    let (status, detail) = match walked.result {
        SpfResult::PermError => {
            (Status::Fail, format!("permerror: {} ({counts})", walked.why))
        }
        SpfResult::TempError => {
            (Status::CannotCheck, format!("temperror: {}", walked.why))
        }
        _ if lookups >= MAX_LOOKUPS - 1 => (
            Status::Warn,
            format!("{counts}: one more include breaks the record"),
        ),
        _ => (Status::Pass, counts),
    };
    checks.push(
        Check::new("spf.lookups", domain, status, detail)
            .with_evidence(walk_evidence)
            .advise(
                "Keep the record within 10 DNS-querying terms (include, a, \
                 mx, ptr, exists, redirect) and 2 lookups that find nothing: \
                 replace a and mx terms with ip4:/ip6: ranges, remove \
                 includes of services no longer used and names that no \
                 longer exist, and break include loops.",
                Reason::AuthFailure,
            ),
    );

    let mut all_pass = !results.is_empty();
    for (ip, out, evidence) in results {
        all_pass &= out.result == SpfResult::Pass;
        let status = match out.result {
            SpfResult::Pass => Status::Pass,
            SpfResult::TempError => Status::CannotCheck,
            _ => Status::Fail,
        };
        let term = match ip {
            IpAddr::V4(_) => format!("ip4:{ip}"),
            IpAddr::V6(_) => format!("ip6:{ip}"),
        };
        checks.push(
            Check::new(
                "spf.ip",
                ip.to_string(),
                status,
                format!("{}: {}", out.result.name(), out.why),
            )
            .with_evidence(dedup(evidence))
            .advise(
                format!(
                    "Authorise {ip} in the SPF record of {domain}: add \
                     {term}, or include: the SPF domain of the provider \
                     that sends from it."
                ),
                Reason::AuthFailure,
            ),
        );
    }
    (checks, SpfSummary { valid, all_ips_pass: all_pass })
}

fn dedup(mut e: Vec<Evidence>) -> Vec<Evidence> {
    let mut seen = Vec::new();
    e.retain(|x| {
        let new = !seen.contains(&x.query);
        seen.push(x.query.clone());
        new
    });
    e
}
