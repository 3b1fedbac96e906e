//! Reverse DNS of a sending IP: its PTR names and which of them resolve
//! back to it (forward-confirmed reverse DNS, FCrDNS). Gmail and Yahoo
//! require it of bulk senders, and many receivers refuse a host without it
//! (the `require_ptr` bounce). SPF's `ptr` mechanism and `%{p}` macro use
//! the same validated names (RFC 7208 section 5.5), at most 10 of them.

use std::net::IpAddr;

use futures_util::future::join_all;

use super::report::{Check, Evidence, Status};
use crate::dns::{Answer, Dns, reverse_name};
use crate::model::Reason;

/// PTR names looked at, at most (RFC 7208 section 4.6.4).
const MAX_NAMES: usize = 10;

/// An address's PTR names and their forward lookups.
#[derive(Debug, Clone)]
pub(crate) struct Reverse {
    ip: IpAddr,
    ptr: Answer<String>,
    forward: Vec<(String, Answer<IpAddr>)>,
}

/// Looks up the PTR names of `ip` and the addresses of each (of `ip`'s
/// family), concurrently.
pub(crate) async fn reverse(dns: &Dns, ip: IpAddr) -> Reverse {
    let ptr = dns.ptr(ip).await;
    let names = ptr.records().iter().take(MAX_NAMES);
    let forward = join_all(names.map(|n| async move {
        (n.clone(), dns.addresses(n, ip.is_ipv6()).await)
    }))
    .await;
    Reverse { ip, ptr, forward }
}

impl Reverse {
    /// True when the PTR lookup found no record (a void lookup).
    pub(crate) fn is_void(&self) -> bool {
        self.ptr.is_void()
    }

    /// The PTR names that resolve back to the address.
    pub(crate) fn validated(&self) -> Vec<&str> {
        self.forward
            .iter()
            .filter(|(_, a)| a.records().contains(&self.ip))
            .map(|(n, _)| n.as_str())
            .collect()
    }

    /// The lookups as evidence.
    pub(crate) fn evidence(&self) -> Vec<Evidence> {
        let mut e = vec![Evidence::new(
            &reverse_name(self.ip),
            "PTR",
            self.ptr.describe(),
        )];
        let rtype = if self.ip.is_ipv6() { "AAAA" } else { "A" };
        for (n, a) in &self.forward {
            e.push(Evidence::new(n, rtype, a.describe()));
        }
        e
    }

    /// The FCrDNS verdict.
    pub(crate) fn check(&self) -> Check {
        let ip = self.ip;
        let (status, detail) = match (&self.ptr, self.validated().first()) {
            (Answer::Failed(e), _) => {
                (Status::CannotCheck, format!("PTR lookup failed: {e}"))
            }
            (_, Some(name)) => {
                (Status::Pass, format!("PTR {name} resolves back to {ip}"))
            }
            (Answer::Found(names), None) => {
                if let Some((n, Answer::Failed(e))) = self
                    .forward
                    .iter()
                    .find(|(_, a)| matches!(a, Answer::Failed(_)))
                {
                    (
                        Status::CannotCheck,
                        format!("address lookup of {n} failed: {e}"),
                    )
                } else {
                    (
                        Status::Fail,
                        format!(
                            "PTR {} does not resolve back to {ip}",
                            names.join(", ")
                        ),
                    )
                }
            }
            _ => (Status::Fail, format!("{ip} has no PTR record")),
        };
        Check::new("ptr.fcrdns", ip.to_string(), status, detail)
            .with_evidence(self.evidence())
            .advise(
                format!(
                    "Ask the owner of {ip} (your hosting provider or ISP) to \
                     set its PTR to the sending host's name, and give that \
                     name an {} record of {ip}; use it as the HELO name.",
                    if ip.is_ipv6() { "AAAA" } else { "A" }
                ),
                Reason::RequirePtr,
            )
    }
}
