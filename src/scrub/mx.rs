//! Does a domain accept mail? RFC 5321 section 5.1: look up MX; when the
//! domain has no MX records (but exists), its A/AAAA address is the
//! implicit mail host. RFC 7505: a single MX of "." (the null MX) means the
//! domain accepts no mail. A domain that does not exist (NXDOMAIN) or has
//! neither MX nor address records cannot receive mail.
//!
//! Uses the shared [`crate::dns`] client on a single-threaded Tokio runtime
//! owned by the checker; every query is bounded by the configured timeout
//! and attempts. Verdicts are cached per domain.

use std::collections::HashMap;

use crate::dns::{Answer, Dns};
pub use crate::dns::{DnsError as MxError, DnsOptions as MxOptions};

/// A domain's verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailHost {
    /// Mail goes to this host (the best MX, or the domain itself via its
    /// A/AAAA records).
    Accepts(String),
    /// A null MX (RFC 7505): the domain accepts no mail.
    NullMx,
    /// The domain does not exist (NXDOMAIN).
    NoDomain,
    /// The domain exists but has no MX, A or AAAA record.
    NoMailHost,
    /// The lookup failed (timeout, SERVFAIL): no verdict.
    Unknown(String),
}

impl MailHost {
    /// True for the verdicts that mean "this domain takes no mail".
    pub fn rejects(&self) -> bool {
        matches!(
            self,
            MailHost::NullMx | MailHost::NoDomain | MailHost::NoMailHost
        )
    }

    /// A short description for reports.
    pub fn describe(&self) -> String {
        match self {
            MailHost::Accepts(h) => format!("mail host {h}"),
            MailHost::NullMx => "null MX (RFC 7505): accepts no mail".into(),
            MailHost::NoDomain => "domain does not exist (NXDOMAIN)".into(),
            MailHost::NoMailHost => "no MX, A or AAAA record".into(),
            MailHost::Unknown(e) => format!("DNS lookup failed: {e}"),
        }
    }
}

/// Resolves and caches mail-host verdicts.
pub struct MxChecker {
    runtime: tokio::runtime::Runtime,
    dns: Dns,
    cache: HashMap<String, MailHost>,
}

impl MxChecker {
    /// Builds a checker.
    pub fn new(opts: &MxOptions) -> Result<MxChecker, MxError> {
        let runtime = crate::dns::runtime()?;
        let dns = Dns::new(opts, &runtime)?;
        Ok(MxChecker { runtime, dns, cache: HashMap::new() })
    }

    /// The verdict for `domain` (lower-case ASCII), cached.
    pub fn check(&mut self, domain: &str) -> &MailHost {
        if !self.cache.contains_key(domain) {
            let v = self.runtime.block_on(lookup(&self.dns, domain));
            self.cache.insert(domain.to_string(), v);
        }
        &self.cache[domain]
    }

    /// How many domains got no verdict (lookup failures).
    pub fn unresolved(&self) -> u64 {
        self.cache
            .values()
            .filter(|v| matches!(v, MailHost::Unknown(_)))
            .count() as u64
    }
}

async fn lookup(dns: &Dns, domain: &str) -> MailHost {
    match dns.mx(domain).await {
        Answer::Found(mx) => {
            return match mx.as_slice() {
                [only] if only.host == "." => MailHost::NullMx,
                [best, ..] => MailHost::Accepts(best.host.clone()),
                [] => MailHost::NoMailHost,
            };
        }
        Answer::NxDomain => return MailHost::NoDomain,
        Answer::Failed(e) => return MailHost::Unknown(e),
        Answer::NoData => {}
    }
    // No MX: the implicit MX is the domain's own address (RFC 5321 5.1).
    let (a, aaaa) =
        futures_util::future::join(dns.a(domain), dns.aaaa(domain)).await;
    match (a, aaaa) {
        (Answer::Found(_), _) | (_, Answer::Found(_)) => {
            MailHost::Accepts(domain.to_string())
        }
        (Answer::Failed(e), _) | (_, Answer::Failed(e)) => {
            MailHost::Unknown(e)
        }
        (Answer::NxDomain, _) => MailHost::NoDomain,
        _ => MailHost::NoMailHost,
    }
}
