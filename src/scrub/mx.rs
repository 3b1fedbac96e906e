//! Does a domain accept mail? RFC 5321 section 5.1: look up MX; when the
//! domain has no MX records (but exists), its A/AAAA address is the
//! implicit mail host. RFC 7505: a single MX of "." (the null MX) means the
//! domain accepts no mail. A domain that does not exist (NXDOMAIN) or has
//! neither MX nor address records cannot receive mail.
//!
//! Uses `hickory-resolver` on a single-threaded Tokio runtime owned by the
//! checker; every query is bounded by the configured timeout and attempts.
//! Verdicts are cached per domain.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::NetError;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::{Resolver, TokioResolver};
use thiserror::Error;

/// The MX checker could not be set up.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MxError {
    /// The Tokio runtime could not start.
    #[error("cannot start the DNS runtime: {0}")]
    Runtime(#[from] std::io::Error),
    /// The resolver could not be configured (no usable system config).
    #[error("cannot configure the DNS resolver: {0}")]
    Resolver(String),
}

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

/// How to resolve.
#[derive(Debug, Clone)]
pub struct MxOptions {
    /// Name server to ask; the system configuration when `None`.
    pub server: Option<SocketAddr>,
    /// Per-query timeout.
    pub timeout: Duration,
    /// Attempts per query.
    pub attempts: usize,
}

impl Default for MxOptions {
    fn default() -> Self {
        MxOptions {
            server: None,
            timeout: Duration::from_secs(3),
            attempts: 2,
        }
    }
}

/// Resolves and caches mail-host verdicts.
pub struct MxChecker {
    runtime: tokio::runtime::Runtime,
    resolver: TokioResolver,
    cache: HashMap<String, MailHost>,
}

impl MxChecker {
    /// Builds a checker.
    pub fn new(opts: &MxOptions) -> Result<MxChecker, MxError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let provider = TokioRuntimeProvider::default();
        let builder = match opts.server {
            Some(addr) => {
                let mut udp = ConnectionConfig::udp();
                udp.port = addr.port();
                let mut tcp = ConnectionConfig::tcp();
                tcp.port = addr.port();
                let ns =
                    NameServerConfig::new(addr.ip(), true, vec![udp, tcp]);
                Resolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![ns]),
                    provider,
                )
            }
            None => Resolver::builder(provider)
                .map_err(|e| MxError::Resolver(e.to_string()))?,
        };
        let mut o = ResolverOpts::default();
        o.timeout = opts.timeout;
        o.attempts = opts.attempts;
        o.ndots = 0;
        let resolver = {
            let _guard = runtime.enter();
            builder
                .with_options(o)
                .build()
                .map_err(|e| MxError::Resolver(e.to_string()))?
        };
        Ok(MxChecker { runtime, resolver, cache: HashMap::new() })
    }

    /// The verdict for `domain` (lower-case ASCII), cached.
    pub fn check(&mut self, domain: &str) -> &MailHost {
        if !self.cache.contains_key(domain) {
            let v = self.runtime.block_on(lookup(&self.resolver, domain));
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

fn failure(e: &NetError) -> Option<MailHost> {
    if e.is_nx_domain() {
        Some(MailHost::NoDomain)
    } else if e.is_no_records_found() {
        None
    } else {
        Some(MailHost::Unknown(e.to_string()))
    }
}

async fn lookup(resolver: &TokioResolver, domain: &str) -> MailHost {
    let fqdn = format!("{}.", domain.trim_end_matches('.'));
    match resolver.lookup(fqdn.as_str(), RecordType::MX).await {
        Ok(l) => {
            let mut mx: Vec<(u16, String)> = l
                .answers()
                .iter()
                .filter_map(|r| match &r.data {
                    RData::MX(m) => {
                        Some((m.preference, m.exchange.to_ascii()))
                    }
                    _ => None,
                })
                .collect();
            mx.sort();
            match mx.as_slice() {
                [] => {}
                [(_, h)] if h == "." => return MailHost::NullMx,
                [(_, h), ..] => {
                    return MailHost::Accepts(h.trim_end_matches('.').into());
                }
            }
        }
        Err(e) => {
            if let Some(v) = failure(&e) {
                return v;
            }
        }
    }
    // No MX: the implicit MX is the domain's own address (RFC 5321 5.1).
    match resolver.lookup_ip(fqdn.as_str()).await {
        Ok(ips) if ips.iter().next().is_some() => {
            MailHost::Accepts(domain.to_string())
        }
        Ok(_) => MailHost::NoMailHost,
        Err(e) => failure(&e).unwrap_or(MailHost::NoMailHost),
    }
}
