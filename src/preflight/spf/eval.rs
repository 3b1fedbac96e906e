//! `check_host()` of RFC 7208 section 4: evaluates a domain's SPF record
//! for one client address, following `include` and `redirect`, counting
//! the DNS-querying terms (at most 10) and the void lookups (at most 2) of
//! section 4.6.4, and saying which term decided or which term caused a
//! permerror or temperror.
//!
//! Without an address the same walk answers "how many lookups does the
//! record cost": every mechanism is taken as not matching (a host that
//! matches nothing walks the whole tree, up to `all`), the `a`/`mx`
//! lookups still run so that void lookups count, and the terms whose name
//! needs the address (`%{i}`, `%{p}`, `%{v}`; `ptr`; `exists`) are
//! counted without a query.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;

use super::macros::{Context, MacroString};
use super::record::{self, Mechanism, Qualifier, Record};
use crate::dns::{Answer, Dns};
use crate::preflight::ptr::{self, Reverse};
use crate::preflight::report::Evidence;

/// DNS-querying terms allowed in one evaluation.
pub(crate) const MAX_LOOKUPS: usize = 10;
/// Void lookups allowed in one evaluation.
pub(crate) const MAX_VOID: usize = 2;
/// MX names an `mx` mechanism may look up.
const MAX_MX: usize = 10;

/// The results of section 2.6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SpfResult {
    None,
    Neutral,
    Pass,
    Fail,
    SoftFail,
    TempError,
    PermError,
}

impl SpfResult {
    /// The result's name as RFC 7208 writes it.
    pub(crate) fn name(self) -> &'static str {
        match self {
            SpfResult::None => "none",
            SpfResult::Neutral => "neutral",
            SpfResult::Pass => "pass",
            SpfResult::Fail => "fail",
            SpfResult::SoftFail => "softfail",
            SpfResult::TempError => "temperror",
            SpfResult::PermError => "permerror",
        }
    }
}

impl From<Qualifier> for SpfResult {
    fn from(q: Qualifier) -> SpfResult {
        match q {
            Qualifier::Pass => SpfResult::Pass,
            Qualifier::Fail => SpfResult::Fail,
            Qualifier::SoftFail => SpfResult::SoftFail,
            Qualifier::Neutral => SpfResult::Neutral,
        }
    }
}

/// A result and why: the term that matched (with the include chain), or
/// the term that caused an error and the error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    pub result: SpfResult,
    pub why: String,
}

impl Outcome {
    fn new(result: SpfResult, why: impl Into<String>) -> Outcome {
        Outcome { result, why: why.into() }
    }
}

/// A domain's SPF record as fetched.
pub(crate) enum Fetched {
    /// The record's text and its parse.
    Found(String, Record),
    /// No SPF record (no TXT, or none starting with `v=spf1`).
    Missing,
    /// Lookup failure (temperror), several records or a syntax error
    /// (permerror).
    Error(Outcome),
}

/// Looks up and parses the SPF record of `domain` (section 4.5), with the
/// lookup as evidence.
pub(crate) async fn fetch(dns: &Dns, domain: &str) -> (Fetched, Evidence) {
    let answer = dns.txt(domain).await;
    let evidence = Evidence::new(domain, "TXT", answer.describe());
    let fetched = match answer {
        Answer::Failed(e) => Fetched::Error(Outcome::new(
            SpfResult::TempError,
            format!("TXT lookup of {domain} failed: {e}"),
        )),
        Answer::NoData | Answer::NxDomain => Fetched::Missing,
        Answer::Found(txts) => {
            let spf: Vec<String> =
                txts.into_iter().filter(|t| record::is_spf(t)).collect();
            match spf.as_slice() {
                [] => Fetched::Missing,
                [one] => match record::parse(one) {
                    Ok(r) => Fetched::Found(one.clone(), r),
                    Err(e) => Fetched::Error(Outcome::new(
                        SpfResult::PermError,
                        format!("{domain}: {e}"),
                    )),
                },
                many => Fetched::Error(Outcome::new(
                    SpfResult::PermError,
                    format!(
                        "{domain} has {} SPF records; exactly one is \
                         allowed (RFC 7208 4.5)",
                        many.len()
                    ),
                )),
            }
        }
    };
    (fetched, evidence)
}

/// One evaluation's state.
pub(crate) struct Evaluator<'a> {
    dns: &'a Dns,
    ip: Option<IpAddr>,
    local: &'a str,
    sender_domain: &'a str,
    helo: &'a str,
    /// DNS-querying terms evaluated so far.
    pub lookups: usize,
    /// Void lookups so far.
    pub voids: usize,
    /// The SPF records consulted.
    pub evidence: Vec<Evidence>,
    stack: Vec<String>,
    reverse: Option<Reverse>,
}

type Step<'f> = Pin<Box<dyn Future<Output = Outcome> + 'f>>;

impl<'a> Evaluator<'a> {
    /// An evaluation for the client `ip` (`None`: the lookup-counting
    /// walk) and the sender `local@sender_domain`.
    pub(crate) fn new(
        dns: &'a Dns,
        ip: Option<IpAddr>,
        local: &'a str,
        sender_domain: &'a str,
        helo: &'a str,
    ) -> Evaluator<'a> {
        Evaluator {
            dns,
            ip,
            local,
            sender_domain,
            helo,
            lookups: 0,
            voids: 0,
            evidence: Vec::new(),
            stack: Vec::new(),
            reverse: None,
        }
    }

    /// `check_host(ip, domain, sender)`.
    pub(crate) fn check_host<'f>(&'f mut self, domain: String) -> Step<'f> {
        Box::pin(async move {
            if let Some(i) = self.stack.iter().position(|d| *d == domain) {
                let mut chain = self.stack[i..].to_vec();
                chain.push(domain);
                return Outcome::new(
                    SpfResult::PermError,
                    format!("include loop: {}", chain.join(" -> ")),
                );
            }
            let (fetched, evidence) = fetch(self.dns, &domain).await;
            self.evidence.push(evidence);
            let record = match fetched {
                Fetched::Found(_, r) => r,
                Fetched::Missing => {
                    return Outcome::new(
                        SpfResult::None,
                        format!("{domain} has no SPF record"),
                    );
                }
                Fetched::Error(o) => return o,
            };
            self.stack.push(domain.clone());
            let out = self.evaluate(&domain, &record).await;
            self.stack.pop();
            out
        })
    }

    async fn evaluate(&mut self, domain: &str, record: &Record) -> Outcome {
        for d in &record.directives {
            match self.matches(domain, &d.mechanism, &d.text).await {
                Err(o) => return o,
                Ok(None) => {}
                Ok(Some(via)) => {
                    let why = match via {
                        Some(inner) => {
                            format!("{} in {domain} -> {inner}", d.text)
                        }
                        None => format!("{} in {domain}", d.text),
                    };
                    return Outcome::new(d.qualifier.into(), why);
                }
            }
        }
        if let Some((target, text)) = &record.redirect
            && !record.has_all()
        {
            if let Err(o) = self.count(text, domain) {
                return o;
            }
            if target.uses('p') {
                self.reverse().await;
            }
            let Some(target) = self.target(target, domain) else {
                return Outcome::new(
                    SpfResult::Neutral,
                    format!("{text} in {domain} needs the client address"),
                );
            };
            let inner = self.check_host(target.clone()).await;
            return match inner.result {
                SpfResult::None => Outcome::new(
                    SpfResult::PermError,
                    format!("{text} in {domain}: {target} has no SPF record"),
                ),
                r => Outcome::new(
                    r,
                    format!("{text} in {domain} -> {}", inner.why),
                ),
            };
        }
        Outcome::new(
            SpfResult::Neutral,
            format!("no term of {domain} matched (default neutral)"),
        )
    }

    /// Counts a DNS-querying term.
    fn count(&mut self, term: &str, domain: &str) -> Result<(), Outcome> {
        self.lookups += 1;
        if self.lookups > MAX_LOOKUPS {
            return Err(Outcome::new(
                SpfResult::PermError,
                format!(
                    "more than {MAX_LOOKUPS} DNS lookups (RFC 7208 4.6.4), \
                     reached at {term} in {domain}"
                ),
            ));
        }
        Ok(())
    }

    /// Counts a void lookup of a term.
    fn void(&mut self, term: &str, domain: &str) -> Result<(), Outcome> {
        self.voids += 1;
        if self.voids > MAX_VOID {
            return Err(Outcome::new(
                SpfResult::PermError,
                format!(
                    "more than {MAX_VOID} void lookups (RFC 7208 4.6.4), \
                     reached at {term} in {domain}"
                ),
            ));
        }
        Ok(())
    }

    fn temperror(term: &str, domain: &str, e: &str) -> Outcome {
        Outcome::new(
            SpfResult::TempError,
            format!("{term} in {domain}: DNS lookup failed: {e}"),
        )
    }

    /// The expanded target name; `None` in the walk when it needs the
    /// client address.
    fn target(&self, spec: &MacroString, domain: &str) -> Option<String> {
        let needs_ip = ['i', 'p', 'v'].iter().any(|l| spec.uses(*l));
        let ip = match self.ip {
            Some(ip) => ip,
            None if needs_ip => return None,
            None => IpAddr::from([0, 0, 0, 0]),
        };
        let validated = self.validated_name(domain);
        let cx = Context {
            local: self.local,
            sender_domain: self.sender_domain,
            domain,
            ip,
            helo: self.helo,
            validated: &validated,
        };
        Some(spec.expand_domain(&cx).to_ascii_lowercase())
    }

    /// `%{p}` (section 7.3): the validated name equal to `domain`, else one
    /// under it, else any, else "unknown".
    fn validated_name(&self, domain: &str) -> String {
        let Some(r) = &self.reverse else { return "unknown".into() };
        let names = r.validated();
        names
            .iter()
            .find(|n| n.eq_ignore_ascii_case(domain))
            .or_else(|| names.iter().find(|n| is_under(n, domain)))
            .or(names.first())
            .map_or("unknown".into(), |n| n.to_string())
    }

    async fn reverse(&mut self) -> Option<&Reverse> {
        let ip = self.ip?;
        if self.reverse.is_none() {
            self.reverse = Some(ptr::reverse(self.dns, ip).await);
        }
        self.reverse.as_ref()
    }

    /// Does the mechanism match? `Ok(Some(inner))` on a match (`inner`: the
    /// included evaluation's reason), `Err` on a temperror or permerror.
    async fn matches(
        &mut self,
        domain: &str,
        m: &Mechanism,
        term: &str,
    ) -> Result<Option<Option<String>>, Outcome> {
        if m.queries_dns() {
            self.count(term, domain)?;
        }
        let uses_p = |s: &Option<&MacroString>| s.is_some_and(|s| s.uses('p'));
        let spec = match m {
            Mechanism::Include(s) | Mechanism::Exists(s) => Some(s),
            Mechanism::A { domain: s, .. }
            | Mechanism::Mx { domain: s, .. }
            | Mechanism::Ptr(s) => s.as_ref(),
            _ => None,
        };
        if uses_p(&spec) || matches!(m, Mechanism::Ptr(_)) {
            self.reverse().await;
        }
        let target = match spec {
            Some(s) => match self.target(s, domain) {
                Some(t) => t,
                None => return Ok(None),
            },
            None => domain.to_string(),
        };
        let hit = |b: bool| if b { Some(None) } else { None };
        match m {
            Mechanism::All => Ok(Some(None)),
            Mechanism::Ip4(net, len) => Ok(hit(self
                .ip
                .is_some_and(|ip| in_network(ip, IpAddr::V4(*net), *len)))),
            Mechanism::Ip6(net, len) => Ok(hit(self
                .ip
                .is_some_and(|ip| in_network(ip, IpAddr::V6(*net), *len)))),
            Mechanism::Include(_) => {
                let inner = self.check_host(target.clone()).await;
                match inner.result {
                    SpfResult::Pass => Ok(Some(Some(inner.why))),
                    SpfResult::Fail
                    | SpfResult::SoftFail
                    | SpfResult::Neutral => Ok(None),
                    SpfResult::None => Err(Outcome::new(
                        SpfResult::PermError,
                        format!(
                            "{term} in {domain}: {target} has no SPF record"
                        ),
                    )),
                    SpfResult::TempError | SpfResult::PermError => {
                        Err(Outcome::new(
                            inner.result,
                            format!("{term} in {domain} -> {}", inner.why),
                        ))
                    }
                }
            }
            Mechanism::A { v4, v6, .. } => {
                let v6_client = self.ip.is_some_and(|ip| ip.is_ipv6());
                let answer = self.dns.addresses(&target, v6_client).await;
                let addrs = self.resolved(answer, term, domain)?;
                Ok(hit(self.ip.is_some_and(|ip| {
                    addrs.iter().any(|a| in_dual(ip, *a, *v4, *v6))
                })))
            }
            Mechanism::Mx { v4, v6, .. } => {
                let answer = self.dns.mx(&target).await;
                let mx = self.resolved(answer, term, domain)?;
                if mx.len() > MAX_MX {
                    return Err(Outcome::new(
                        SpfResult::PermError,
                        format!(
                            "{term} in {domain}: {target} has {} MX records, \
                             more than {MAX_MX} (RFC 7208 4.6.4)",
                            mx.len()
                        ),
                    ));
                }
                let Some(ip) = self.ip else { return Ok(None) };
                for host in mx.iter().filter(|m| m.host != ".") {
                    let answer =
                        self.dns.addresses(&host.host, ip.is_ipv6()).await;
                    if let Answer::Failed(e) = &answer {
                        return Err(Self::temperror(term, domain, e));
                    }
                    if answer
                        .records()
                        .iter()
                        .any(|a| in_dual(ip, *a, *v4, *v6))
                    {
                        return Ok(Some(Some(format!(
                            "MX host {}",
                            host.host
                        ))));
                    }
                }
                Ok(None)
            }
            Mechanism::Ptr(_) => {
                let Some(r) = &self.reverse else { return Ok(None) };
                if r.is_void() {
                    self.void(term, domain)?;
                }
                let Some(r) = &self.reverse else { return Ok(None) };
                Ok(r.validated()
                    .iter()
                    .find(|n| {
                        n.eq_ignore_ascii_case(&target) || is_under(n, &target)
                    })
                    .map(|n| Some(format!("validated PTR name {n}"))))
            }
            Mechanism::Exists(_) => {
                if self.ip.is_none() {
                    return Ok(None);
                }
                let answer = self.dns.a(&target).await;
                let found = self.resolved(answer, term, domain)?;
                Ok(hit(!found.is_empty()))
            }
        }
    }

    /// The records of a term's lookup: a failure is a temperror, a void
    /// answer counts towards the void limit.
    fn resolved<T>(
        &mut self,
        answer: Answer<T>,
        term: &str,
        domain: &str,
    ) -> Result<Vec<T>, Outcome> {
        match answer {
            Answer::Found(v) => Ok(v),
            Answer::Failed(e) => Err(Self::temperror(term, domain, &e)),
            Answer::NoData | Answer::NxDomain => {
                self.void(term, domain)?;
                Ok(Vec::new())
            }
        }
    }
}

/// True when `name` is a subdomain of `parent`.
fn is_under(name: &str, parent: &str) -> bool {
    let (n, p) = (name.to_ascii_lowercase(), parent.to_ascii_lowercase());
    n.len() > p.len() + 1
        && n.ends_with(&p)
        && n[..n.len() - p.len()].ends_with('.')
}

/// `a`/`mx` matching: the IPv4 or IPv6 prefix length by the address family.
fn in_dual(ip: IpAddr, net: IpAddr, v4: u8, v6: u8) -> bool {
    in_network(ip, net, if ip.is_ipv4() { v4 } else { v6 })
}

/// True when `ip` is in `net/len` (same family only).
pub(crate) fn in_network(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mask = u32::MAX.checked_shl(32 - len as u32).unwrap_or(0);
            u32::from(a) & mask == u32::from(b) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let mask = u128::MAX.checked_shl(128 - len as u32).unwrap_or(0);
            u128::from(a) & mask == u128::from(b) & mask
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_match_by_prefix() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(in_network(ip("192.0.2.77"), ip("192.0.2.0"), 24));
        assert!(!in_network(ip("192.0.3.1"), ip("192.0.2.0"), 24));
        assert!(in_network(ip("203.0.113.9"), ip("0.0.0.0"), 0));
        assert!(in_network(ip("192.0.2.1"), ip("192.0.2.1"), 32));
        assert!(in_network(ip("2001:db8::5"), ip("2001:db8::"), 32));
        assert!(!in_network(ip("2001:db9::5"), ip("2001:db8::"), 32));
        assert!(!in_network(ip("192.0.2.1"), ip("2001:db8::"), 0));
    }

    #[test]
    fn subdomains() {
        assert!(is_under("mail.example.com", "example.com"));
        assert!(!is_under("example.com", "example.com"));
        assert!(!is_under("badexample.com", "example.com"));
    }
}
