//! The DNS client that `scrub --check-mx` and `preflight` share: one
//! `hickory-resolver` on a single-threaded Tokio runtime, asking the system's
//! name servers or one given server (UDP, then TCP), every query bounded by
//! the configured timeout and attempts and, on top of those, by a hard
//! deadline, so that no lookup can hang; a semaphore caps the queries in
//! flight so that a burst of concurrent checks stays polite to the server.
//!
//! Answers are typed by what the checks need to tell apart (RFC 7208
//! section 4.6.4 "void lookups" and section 5 "temperror"): records found,
//! the name exists without records of the type (NODATA), the name does not
//! exist (NXDOMAIN), or the lookup failed (timeout, SERVFAIL, REFUSED).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::config::{
    ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts,
};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::{RData, RecordType};
use hickory_resolver::{Resolver, TokioResolver};
use thiserror::Error;
use tokio::sync::Semaphore;

/// The DNS client could not be set up.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DnsError {
    /// The Tokio runtime could not start.
    #[error("cannot start the DNS runtime: {0}")]
    Runtime(#[from] std::io::Error),
    /// The resolver could not be configured (no usable system config).
    #[error("cannot configure the DNS resolver: {0}")]
    Resolver(String),
}

/// How to resolve.
#[derive(Debug, Clone)]
pub struct DnsOptions {
    /// Name server to ask; the system configuration when `None`.
    pub server: Option<SocketAddr>,
    /// Per-query timeout.
    pub timeout: Duration,
    /// Attempts per query.
    pub attempts: usize,
}

impl Default for DnsOptions {
    fn default() -> Self {
        DnsOptions {
            server: None,
            timeout: Duration::from_secs(3),
            attempts: 2,
        }
    }
}

/// The answer to one query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Answer<T> {
    /// The records of the asked type (never empty).
    Found(Vec<T>),
    /// The name exists but has no record of this type (NOERROR, no data).
    NoData,
    /// The name does not exist (NXDOMAIN).
    NxDomain,
    /// No answer: timeout, SERVFAIL, REFUSED, a malformed name.
    Failed(String),
}

impl<T> Answer<T> {
    /// The records found (empty for every other answer).
    pub(crate) fn records(&self) -> &[T] {
        match self {
            Answer::Found(r) => r,
            _ => &[],
        }
    }

    /// A "void lookup" (RFC 7208 section 4.6.4): NODATA or NXDOMAIN.
    pub(crate) fn is_void(&self) -> bool {
        matches!(self, Answer::NoData | Answer::NxDomain)
    }

    /// How the answer reads in evidence: the records, or what happened.
    pub(crate) fn describe(&self) -> String
    where
        T: std::fmt::Display,
    {
        match self {
            Answer::Found(r) => {
                r.iter().map(|v| v.to_string()).collect::<Vec<_>>().join(" | ")
            }
            Answer::NoData => "no record (NODATA)".into(),
            Answer::NxDomain => "no such name (NXDOMAIN)".into(),
            Answer::Failed(e) => format!("lookup failed: {e}"),
        }
    }
}

/// A mail exchanger: preference and host name (without the final dot;
/// `.` for a null MX).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Mx {
    /// The preference (lower is tried first).
    pub(crate) preference: u16,
    /// The exchange host.
    pub(crate) host: String,
}

impl std::fmt::Display for Mx {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.preference, self.host)
    }
}

/// Queries in flight at once.
const IN_FLIGHT: usize = 64;

/// A resolver with typed, bounded lookups.
#[derive(Clone)]
pub(crate) struct Dns {
    resolver: TokioResolver,
    limit: Arc<Semaphore>,
    deadline: Duration,
}

/// A single-threaded runtime for the lookups.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, DnsError> {
    Ok(tokio::runtime::Builder::new_current_thread().enable_all().build()?)
}

impl Dns {
    /// A client resolving on `runtime`.
    pub(crate) fn new(
        opts: &DnsOptions,
        runtime: &tokio::runtime::Runtime,
    ) -> Result<Dns, DnsError> {
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
                .map_err(|e| DnsError::Resolver(e.to_string()))?,
        };
        let attempts = opts.attempts.max(1);
        let mut o = ResolverOpts::default();
        o.timeout = opts.timeout;
        o.attempts = attempts;
        o.ndots = 0;
        let resolver = {
            let _guard = runtime.enter();
            builder
                .with_options(o)
                .build()
                .map_err(|e| DnsError::Resolver(e.to_string()))?
        };
        // Every attempt over UDP and again over TCP, plus a margin: past
        // this the resolver has given up anyway, so the deadline only
        // catches what would otherwise hang.
        let factor = attempts.saturating_mul(2).saturating_add(1);
        let deadline = opts
            .timeout
            .saturating_mul(u32::try_from(factor).unwrap_or(u32::MAX));
        Ok(Dns {
            resolver,
            limit: Arc::new(Semaphore::new(IN_FLIGHT)),
            deadline,
        })
    }

    async fn lookup<T>(
        &self,
        name: &str,
        rtype: RecordType,
        pick: impl Fn(&RData) -> Option<T>,
    ) -> Answer<T> {
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        let Ok(_permit) = self.limit.acquire().await else {
            return Answer::Failed("resolver closed".into());
        };
        let query = self.resolver.lookup(fqdn.as_str(), rtype);
        match tokio::time::timeout(self.deadline, query).await {
            Err(_) => Answer::Failed("timed out".into()),
            Ok(Ok(l)) => {
                let found: Vec<T> =
                    l.answers().iter().filter_map(|r| pick(&r.data)).collect();
                if found.is_empty() {
                    Answer::NoData
                } else {
                    Answer::Found(found)
                }
            }
            Ok(Err(e)) if e.is_nx_domain() => Answer::NxDomain,
            Ok(Err(e)) if e.is_no_records_found() => Answer::NoData,
            Ok(Err(e)) => Answer::Failed(e.to_string()),
        }
    }

    /// The TXT records of `name`, each record's strings joined without
    /// separator (RFC 7208 section 3.3, RFC 6376 section 3.6.2.2), bytes
    /// outside UTF-8 replaced.
    pub(crate) async fn txt(&self, name: &str) -> Answer<String> {
        self.lookup(name, RecordType::TXT, |d| match d {
            RData::TXT(t) => {
                let bytes: Vec<u8> = t.txt_data.concat();
                Some(String::from_utf8_lossy(&bytes).into_owned())
            }
            _ => None,
        })
        .await
    }

    /// The IPv4 addresses of `name`.
    pub(crate) async fn a(&self, name: &str) -> Answer<Ipv4Addr> {
        self.lookup(name, RecordType::A, |d| match d {
            RData::A(a) => Some(a.0),
            _ => None,
        })
        .await
    }

    /// The IPv6 addresses of `name`.
    pub(crate) async fn aaaa(&self, name: &str) -> Answer<Ipv6Addr> {
        self.lookup(name, RecordType::AAAA, |d| match d {
            RData::AAAA(a) => Some(a.0),
            _ => None,
        })
        .await
    }

    /// The addresses of `name` of one family: AAAA when `v6`, else A.
    pub(crate) async fn addresses(
        &self,
        name: &str,
        v6: bool,
    ) -> Answer<IpAddr> {
        if v6 {
            self.aaaa(name).await.map(IpAddr::V6)
        } else {
            self.a(name).await.map(IpAddr::V4)
        }
    }

    /// The mail exchangers of `name`, best first.
    pub(crate) async fn mx(&self, name: &str) -> Answer<Mx> {
        let mut answer = self
            .lookup(name, RecordType::MX, |d| match d {
                RData::MX(m) => {
                    let host = m.exchange.to_ascii();
                    let host = match host.trim_end_matches('.') {
                        "" => ".".to_string(),
                        h => h.to_ascii_lowercase(),
                    };
                    Some(Mx { preference: m.preference, host })
                }
                _ => None,
            })
            .await;
        if let Answer::Found(v) = &mut answer {
            v.sort();
        }
        answer
    }

    /// The names the PTR records of `ip` point to (without the final dot).
    pub(crate) async fn ptr(&self, ip: IpAddr) -> Answer<String> {
        self.lookup(&reverse_name(ip), RecordType::PTR, |d| match d {
            RData::PTR(p) => {
                Some(p.0.to_ascii().trim_end_matches('.').to_ascii_lowercase())
            }
            _ => None,
        })
        .await
    }
}

impl<T> Answer<T> {
    /// The same answer with each record mapped.
    pub(crate) fn map<U>(self, f: impl Fn(T) -> U) -> Answer<U> {
        match self {
            Answer::Found(v) => Answer::Found(v.into_iter().map(f).collect()),
            Answer::NoData => Answer::NoData,
            Answer::NxDomain => Answer::NxDomain,
            Answer::Failed(e) => Answer::Failed(e),
        }
    }
}

/// The labels of `ip` in reverse order, as reverse DNS and DNS block lists
/// use them: `4.3.2.1` for 1.2.3.4, 32 nibbles for an IPv6 address
/// (RFC 5782 section 2.4).
pub(crate) fn reversed(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.{}", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(v6) => {
            let mut n = nibbles(v6);
            n.reverse();
            n.join(".")
        }
    }
}

/// The 32 hexadecimal nibbles of an IPv6 address, most significant first.
pub(crate) fn nibbles(v6: Ipv6Addr) -> Vec<String> {
    v6.octets()
        .iter()
        .flat_map(|b| [b >> 4, b & 0xf])
        .map(|n| format!("{n:x}"))
        .collect()
}

/// The name of `ip`'s PTR records (`4.3.2.1.in-addr.arpa`, RFC 1035
/// section 3.5; `ip6.arpa`, RFC 3596 section 2.5).
pub(crate) fn reverse_name(ip: IpAddr) -> String {
    let zone = match ip {
        IpAddr::V4(_) => "in-addr.arpa",
        IpAddr::V6(_) => "ip6.arpa",
    };
    format!("{}.{zone}", reversed(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_timeouts_and_attempts_do_not_overflow() {
        let rt = runtime().unwrap();
        let opts = DnsOptions {
            server: Some("127.0.0.1:53".parse().unwrap()),
            timeout: Duration::from_secs(u64::MAX / 4),
            attempts: usize::MAX,
        };
        assert!(Dns::new(&opts, &rt).is_ok());
    }

    #[test]
    fn reversed_labels() {
        assert_eq!(reversed("192.0.2.10".parse().unwrap()), "10.2.0.192");
        let v6 = reversed("2001:db8::1".parse().unwrap());
        assert!(v6.starts_with("1.0.0.0."), "{v6}");
        assert!(v6.ends_with(".8.b.d.0.1.0.0.2"), "{v6}");
        assert_eq!(v6.split('.').count(), 32);
    }
}
