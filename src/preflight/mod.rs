//! The pre-send check of the sender's own setup behind `rebound preflight`:
//! the half of a send's checklist that `scrub` (the list) does not cover,
//! and the cause of the bounces `explain` calls `alert` (5.7.26
//! authentication failures, block-list refusals, missing reverse DNS).
//!
//! One job per file: `spf/` (RFC 7208, with its own evaluator),
//! `dkim.rs` (RFC 6376 key records), `dmarc.rs` (RFC 7489 policy and
//! alignment), `ptr.rs` (forward-confirmed reverse DNS), [`dnsbl`] (RFC 5782
//! block lists), `bulk.rs` (the Gmail/Yahoo bulk-sender rules, from the
//! others' verdicts), [`report`] (the verdicts). All lookups of a run go
//! through one client of [`crate::dns`] and run concurrently; each is
//! bounded by the client's timeout, attempts and deadline, so a run always
//! ends.

mod bulk;
mod dkim;
mod dmarc;
pub mod dnsbl;
mod ptr;
pub mod report;
mod spf;
mod tags;

use std::net::IpAddr;

use futures_util::future::{join, join_all};
use thiserror::Error;

use crate::dns::{Dns, DnsError, DnsOptions};
use crate::scrub::syntax;
use dkim::Selector;
use dnsbl::Zone;
use report::Report;

/// A preflight could not run.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PreflightError {
    /// The DNS client could not be set up.
    #[error(transparent)]
    Dns(#[from] DnsError),
    /// An argument is not a domain, address, selector or zone.
    #[error("{0}")]
    Input(String),
}

/// What to check, as given.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The From (header) domain.
    pub from_domain: String,
    /// The envelope (Return-Path) domain, or a whole Return-Path address
    /// (its local part is what SPF's `%{l}` sees); the From domain when
    /// `None`.
    pub envelope: Option<String>,
    /// The HELO/EHLO name (SPF's `%{h}`); the envelope domain when `None`.
    pub helo: Option<String>,
    /// The sending IPs.
    pub ips: Vec<IpAddr>,
    /// DKIM selectors: `SELECTOR` (of the From domain) or
    /// `SELECTOR:DOMAIN`.
    pub selectors: Vec<String>,
    /// Block lists: `ZONE`, `ip:ZONE` or `domain:ZONE`; the defaults
    /// ([`dnsbl::DEFAULT_ZONES`]) when empty.
    pub zones: Vec<String>,
    /// How to resolve.
    pub dns: DnsOptions,
}

/// The options, validated.
struct Plan {
    from: String,
    sender: spf::Sender,
    ips: Vec<IpAddr>,
    selectors: Vec<Selector>,
    zones: Vec<Zone>,
}

fn domain(s: &str, what: &str) -> Result<String, PreflightError> {
    let d = s.trim().trim_end_matches('.');
    match syntax::domain(d) {
        Ok(d) if !d.starts_with('[') => Ok(d),
        Ok(_) => Err(PreflightError::Input(format!(
            "{what} {s:?}: an address literal is not a domain"
        ))),
        Err(e) => Err(PreflightError::Input(format!("{what} {s:?}: {e}"))),
    }
}

impl Plan {
    fn new(o: &Options) -> Result<Plan, PreflightError> {
        let from = domain(&o.from_domain, "--from-domain")?;
        let (local, envelope) = match o.envelope.as_deref() {
            None => ("postmaster".to_string(), from.clone()),
            Some(e) if e.contains('@') => {
                let a = syntax::check(e).map_err(|err| {
                    PreflightError::Input(format!(
                        "--envelope-domain {e:?}: {err}"
                    ))
                })?;
                (a.local, domain(&a.domain, "--envelope-domain")?)
            }
            Some(e) => {
                ("postmaster".to_string(), domain(e, "--envelope-domain")?)
            }
        };
        let helo = match &o.helo {
            Some(h) => domain(h, "--helo")?,
            None => envelope.clone(),
        };
        let mut selectors = Vec::new();
        for s in &o.selectors {
            let (sel, dom) = match s.split_once(':') {
                Some((sel, d)) => (sel, domain(d, "--dkim-selector")?),
                None => (s.as_str(), from.clone()),
            };
            let sel = sel.trim().to_ascii_lowercase();
            let valid = !sel.is_empty()
                && sel.split('.').all(|l| {
                    !l.is_empty()
                        && l.len() <= 63
                        && l.chars().all(|c| {
                            c.is_ascii_alphanumeric() || c == '-' || c == '_'
                        })
                });
            if !valid {
                return Err(PreflightError::Input(format!(
                    "--dkim-selector {s:?}: not a selector (letters, \
                     digits, hyphens, dots)"
                )));
            }
            let s = Selector { selector: sel, domain: dom };
            if !selectors.contains(&s) {
                selectors.push(s);
            }
        }
        let mut zones = Vec::new();
        for z in &o.zones {
            let z = Zone::parse(z).map_err(|e| {
                PreflightError::Input(format!("--dnsbl-zone: {e}"))
            })?;
            if !zones.contains(&z) {
                zones.push(z);
            }
        }
        if zones.is_empty() {
            zones = Zone::defaults();
        }
        // An IPv4-mapped IPv6 address is the IPv4 address (RFC 7208 5).
        let mut ips: Vec<IpAddr> = Vec::new();
        for ip in o.ips.iter().map(IpAddr::to_canonical) {
            if !ips.contains(&ip) {
                ips.push(ip);
            }
        }
        Ok(Plan {
            from,
            sender: spf::Sender { local, domain: envelope, helo },
            ips,
            selectors,
            zones,
        })
    }

    /// The domains checked against the domain lists: From, Return-Path
    /// and DKIM domains and their organisational domains, each once.
    fn domains(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let names = [&self.from, &self.sender.domain]
            .into_iter()
            .chain(self.selectors.iter().map(|s| &s.domain));
        for d in names {
            for n in [d.clone(), dmarc::org_domain(d)] {
                if !out.contains(&n) {
                    out.push(n);
                }
            }
        }
        out
    }
}

/// Runs every check on a runtime of its own.
pub fn run(opts: &Options) -> Result<Report, PreflightError> {
    let plan = Plan::new(opts)?;
    let runtime = crate::dns::runtime()?;
    let dns = Dns::new(&opts.dns, &runtime)?;
    Ok(runtime.block_on(check(&dns, &plan)))
}

async fn check(dns: &Dns, plan: &Plan) -> Report {
    let domains = plan.domains();
    let auth = join(
        join(
            spf::check(dns, &plan.sender, &plan.ips),
            join_all(plan.selectors.iter().map(|s| dkim::check(dns, s))),
        ),
        dmarc::check(dns, &plan.from),
    );
    let network = join(
        join_all(plan.ips.iter().map(|ip| ptr::reverse(dns, *ip))),
        dnsbl::check(dns, &plan.zones, &plan.ips, &domains),
    );
    let (((spf, dkim), (dmarc, policy)), (reverse, listed)) =
        join(auth, network).await;
    let (spf_checks, spf_summary) = spf;

    let mut checks = spf_checks;
    let mut ids = vec![dmarc::Identifier {
        kind: "spf",
        domain: plan.sender.domain.clone(),
        passes: spf_summary.all_ips_pass
            || (plan.ips.is_empty() && spf_summary.valid),
    }];
    if plan.selectors.is_empty() {
        checks.push(report::Check::new(
            "dkim.key",
            plan.from.clone(),
            report::Status::CannotCheck,
            "no --dkim-selector given: selectors cannot be listed from DNS; \
             take s= and d= from the DKIM-Signature of a message you sent",
        ));
    }
    for ((check, ok), s) in dkim.into_iter().zip(&plan.selectors) {
        checks.push(check);
        // One identifier per signing domain: it passes when any of its
        // keys can verify.
        match ids.iter_mut().find(|i| i.kind == "dkim" && i.domain == s.domain)
        {
            Some(id) => id.passes |= ok,
            None => ids.push(dmarc::Identifier {
                kind: "dkim",
                domain: s.domain.clone(),
                passes: ok,
            }),
        }
    }
    checks.extend(dmarc);
    let (align, aligned) = dmarc::alignment(&plan.from, policy.as_ref(), &ids);
    checks.extend(align);
    checks.extend(reverse.iter().map(ptr::Reverse::check));
    checks.extend(listed);
    let rules = bulk::check(&plan.from, &checks, aligned);
    checks.extend(rules);
    Report { checks }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(o: Options) -> Result<Plan, PreflightError> {
        Plan::new(&o)
    }

    #[test]
    fn options_are_validated_and_normalised() {
        let p = plan(Options {
            from_domain: "Example.COM.".into(),
            envelope: Some("bounces+x@Mail.Example.com".into()),
            selectors: vec!["S1".into(), "s2:esp.example.net".into()],
            zones: vec!["domain:uribl.example".into()],
            ips: ["::ffff:192.0.2.1", "192.0.2.1", "2001:db8::1"]
                .map(|i| i.parse().unwrap())
                .to_vec(),
            ..Options::default()
        })
        .unwrap();
        let ips: Vec<String> = p.ips.iter().map(|i| i.to_string()).collect();
        assert_eq!(ips, ["192.0.2.1", "2001:db8::1"]);
        assert_eq!(p.from, "example.com");
        assert_eq!(p.sender.local, "bounces+x");
        assert_eq!(p.sender.domain, "mail.example.com");
        assert_eq!(p.sender.helo, "mail.example.com");
        assert_eq!(p.selectors[0].name(), "s1._domainkey.example.com");
        assert_eq!(p.selectors[1].domain, "esp.example.net");
        assert_eq!(
            p.domains(),
            [
                "example.com",
                "mail.example.com",
                "esp.example.net",
                "example.net"
            ]
        );
        assert_eq!(p.zones.len(), 1);
        for bad in [
            Options { from_domain: "localhost".into(), ..Options::default() },
            Options {
                from_domain: "[192.0.2.1]".into(),
                ..Options::default()
            },
            Options {
                from_domain: "example.com".into(),
                selectors: vec!["bad selector".into()],
                ..Options::default()
            },
            Options {
                from_domain: "example.com".into(),
                zones: vec!["nodots".into()],
                ..Options::default()
            },
        ] {
            assert!(plan(bad).is_err());
        }
    }
}
