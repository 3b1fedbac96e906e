//! DNS block lists (RFC 5782): each sending IP against the IP lists
//! (`4.3.2.1.zone` A) and each sending domain against the domain lists
//! (`example.com.zone` A), with the answers decoded by the list's own
//! table.
//!
//! An answer is trusted only when the list answers for this resolver:
//! before the queries, each list's test entry is looked up (RFC 5782
//! section 5: `127.0.0.2` on an IP list; Spamhaus DBL's `dbltest.com`).
//! A list that does not list its test entry (gone, like a retired list,
//! or silently refusing this resolver), that answers with its refusal
//! codes (Spamhaus's 127.255.255.x to public resolvers) or outside
//! 127.0.0.0/8 (a resolver rewriting NXDOMAIN) is "cannot check", never
//! "clean" or "listed".

use std::net::{IpAddr, Ipv4Addr};

use futures_util::future::join_all;

use super::report::{Check, Evidence, Status};
use crate::dns::{Answer, Dns, reversed};
use crate::model::Reason;

/// What a list holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZoneKind {
    /// IP addresses.
    Ip,
    /// Domain names.
    Domain,
}

/// A list to query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Zone {
    /// The zone (`zen.spamhaus.org`).
    pub(crate) name: String,
    /// What it lists.
    pub(crate) kind: ZoneKind,
}

/// The lists checked when none are given.
#[rustfmt::skip]
pub const DEFAULT_ZONES: &[(&str, ZoneKind)] = &[
    ("zen.spamhaus.org", ZoneKind::Ip),
    ("b.barracudacentral.org", ZoneKind::Ip),
    ("bl.spamcop.net", ZoneKind::Ip),
    ("dnsbl.sorbs.net", ZoneKind::Ip),
    ("dnsbl-1.uceprotect.net", ZoneKind::Ip),
    ("dbl.spamhaus.org", ZoneKind::Domain),
    ("multi.surbl.org", ZoneKind::Domain),
];

impl Zone {
    /// Reads `ip:ZONE`, `domain:ZONE` or `ZONE` (a known list's kind, else
    /// an IP list).
    pub(crate) fn parse(s: &str) -> Result<Zone, String> {
        let s = s.trim().trim_end_matches('.').to_ascii_lowercase();
        let (kind, name) = match s.split_once(':') {
            Some(("ip", z)) => (Some(ZoneKind::Ip), z.to_string()),
            Some(("domain", z)) => (Some(ZoneKind::Domain), z.to_string()),
            Some((k, _)) => {
                return Err(format!("{k:?}: the zone kind is ip: or domain:"));
            }
            None => (None, s.clone()),
        };
        if !name.contains('.')
            || name.split('.').any(|l| {
                l.is_empty()
                    || !l.chars().all(|c| {
                        c.is_ascii_alphanumeric() || c == '-' || c == '_'
                    })
            })
        {
            return Err(format!("{name:?} is not a DNS zone"));
        }
        let kind = kind.unwrap_or_else(|| {
            DEFAULT_ZONES
                .iter()
                .find(|(z, _)| *z == name)
                .map_or(ZoneKind::Ip, |(_, k)| *k)
        });
        Ok(Zone { name, kind })
    }

    /// The default lists.
    pub(crate) fn defaults() -> Vec<Zone> {
        DEFAULT_ZONES
            .iter()
            .map(|(z, k)| Zone { name: z.to_string(), kind: *k })
            .collect()
    }

    /// The name of the test entry the list must list (RFC 5782 section 5).
    fn test_entry(&self) -> &'static str {
        match (self.kind, self.name.as_str()) {
            (ZoneKind::Ip, _) => "2.0.0.127",
            (ZoneKind::Domain, "dbl.spamhaus.org") => "dbltest.com",
            (ZoneKind::Domain, _) => "test",
        }
    }
}

/// What an answer means, by list (`zone suffix`, last octets, meaning);
/// `None` for the codes that are refusals, not listings.
#[rustfmt::skip]
const CODES: &[(&str, [u8; 4], Option<&str>)] = &[
    ("b.barracudacentral.org", [127, 0, 0, 2], Some("listed on Barracuda BRBL")),
    ("bl.spamcop.net", [127, 0, 0, 2], Some("listed on SpamCop (reported spam source)")),
    ("dbl.spamhaus.org", [127, 0, 1, 2], Some("DBL: low-reputation (spam) domain")),
    ("dbl.spamhaus.org", [127, 0, 1, 4], Some("DBL: phishing domain")),
    ("dbl.spamhaus.org", [127, 0, 1, 5], Some("DBL: malware domain")),
    ("dbl.spamhaus.org", [127, 0, 1, 6], Some("DBL: botnet C&C domain")),
    ("dbl.spamhaus.org", [127, 0, 1, 102], Some("DBL: abused legitimate domain (spam)")),
    ("dbl.spamhaus.org", [127, 0, 1, 103], Some("DBL: abused redirector")),
    ("dbl.spamhaus.org", [127, 0, 1, 104], Some("DBL: abused domain (phishing)")),
    ("dbl.spamhaus.org", [127, 0, 1, 105], Some("DBL: abused domain (malware)")),
    ("dbl.spamhaus.org", [127, 0, 1, 106], Some("DBL: abused domain (botnet C&C)")),
    ("dbl.spamhaus.org", [127, 0, 1, 255], None),
    ("dnsbl-1.uceprotect.net", [127, 0, 0, 2], Some("listed on UCEPROTECT level 1")),
    ("dnsbl.sorbs.net", [127, 0, 0, 2], Some("SORBS: open HTTP proxy")),
    ("dnsbl.sorbs.net", [127, 0, 0, 3], Some("SORBS: open SOCKS proxy")),
    ("dnsbl.sorbs.net", [127, 0, 0, 4], Some("SORBS: other open proxy")),
    ("dnsbl.sorbs.net", [127, 0, 0, 5], Some("SORBS: open SMTP relay")),
    ("dnsbl.sorbs.net", [127, 0, 0, 6], Some("SORBS: spam source")),
    ("dnsbl.sorbs.net", [127, 0, 0, 7], Some("SORBS: vulnerable web server")),
    ("dnsbl.sorbs.net", [127, 0, 0, 8], Some("SORBS: asked not to be tested")),
    ("dnsbl.sorbs.net", [127, 0, 0, 9], Some("SORBS: hijacked network (zombie)")),
    ("dnsbl.sorbs.net", [127, 0, 0, 10], Some("SORBS: dynamic IP range")),
    ("dnsbl.sorbs.net", [127, 0, 0, 11], Some("SORBS: bad mail-server configuration")),
    ("dnsbl.sorbs.net", [127, 0, 0, 12], Some("SORBS: domain sends no mail")),
    ("dnsbl.sorbs.net", [127, 0, 0, 14], Some("SORBS: no mail server on this IP")),
    ("multi.surbl.org", [127, 0, 0, 1], None),
    ("spamhaus.org", [127, 255, 255, 252], None),
    ("spamhaus.org", [127, 255, 255, 254], None),
    ("spamhaus.org", [127, 255, 255, 255], None),
    ("zen.spamhaus.org", [127, 0, 0, 2], Some("SBL: Spamhaus Block List (spam source)")),
    ("zen.spamhaus.org", [127, 0, 0, 3], Some("CSS: low-reputation sending (snowshoe)")),
    ("zen.spamhaus.org", [127, 0, 0, 4], Some("XBL: exploited host (botnet, malware)")),
    ("zen.spamhaus.org", [127, 0, 0, 9], Some("DROP: hijacked network")),
    ("zen.spamhaus.org", [127, 0, 0, 10], Some("PBL: end-user range (ISP policy), must not send mail directly")),
    ("zen.spamhaus.org", [127, 0, 0, 11], Some("PBL: end-user range (Spamhaus policy), must not send mail directly")),
    ("zen.spamhaus.org", [127, 0, 0, 30], Some("BCL: botnet controller")),
];

/// Why the list refuses, for the refusal codes.
fn refusal(code: Ipv4Addr) -> &'static str {
    match code.octets() {
        [127, 255, 255, 252] => "the zone name is mistyped (127.255.255.252)",
        [127, 255, 255, 254] => {
            "queries through a public/open resolver are refused \
             (127.255.255.254)"
        }
        [127, 255, 255, 255] => {
            "too many queries from this resolver (127.255.255.255)"
        }
        [127, 0, 1, 255] => "IP query sent to a domain list (127.0.1.255)",
        [127, 0, 0, 1] => "queries from this resolver are blocked (127.0.0.1)",
        _ => "refused",
    }
}

/// A decoded answer.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Verdict {
    NotListed,
    Listed(Vec<String>),
    Refused(String),
    Failed(String),
}

/// Decodes the answer of `zone` (`SURBL`'s bitmask, the tables above, any
/// other 127/8 answer as a listing).
fn decode(zone: &str, answer: &Answer<Ipv4Addr>) -> Verdict {
    let codes = match answer {
        Answer::NxDomain | Answer::NoData => return Verdict::NotListed,
        Answer::Failed(e) => return Verdict::Failed(e.clone()),
        Answer::Found(c) => c,
    };
    let in_zone =
        |suffix: &str| zone == suffix || zone.ends_with(&format!(".{suffix}"));
    let mut meanings = Vec::new();
    for code in codes {
        if code.octets()[0] != 127 {
            return Verdict::Refused(format!(
                "answer {code} is outside 127.0.0.0/8: the resolver rewrites \
                 NXDOMAIN answers"
            ));
        }
        let row =
            CODES.iter().find(|(z, c, _)| in_zone(z) && c == &code.octets());
        match row {
            Some((_, _, None)) => {
                return Verdict::Refused(refusal(*code).to_string());
            }
            Some((_, _, Some(m))) => meanings.push(format!("{code} {m}")),
            None if in_zone("multi.surbl.org") => {
                let bits = code.octets()[3];
                let lists: Vec<&str> = [
                    (8, "PH phishing"),
                    (16, "MW malware"),
                    (64, "ABUSE"),
                    (128, "CR cracked"),
                ]
                .iter()
                .filter(|(b, _)| bits & b != 0)
                .map(|(_, n)| *n)
                .collect();
                meanings.push(format!("{code} SURBL: {}", lists.join(", ")));
            }
            None => meanings.push(format!("{code} listed")),
        }
    }
    Verdict::Listed(meanings)
}

/// What was found for one list's test entry: `None` when the list
/// answers, else why it cannot be trusted.
async fn probe(dns: &Dns, zone: &Zone) -> (Option<String>, Evidence) {
    let name = format!("{}.{}", zone.test_entry(), zone.name);
    let answer = dns.a(&name).await;
    let evidence = Evidence::new(&name, "A", answer.describe());
    let problem = match decode(&zone.name, &answer) {
        Verdict::Listed(_) => None,
        Verdict::NotListed => Some(format!(
            "{} does not list its test entry {}: the list is gone or \
             ignores this resolver",
            zone.name,
            zone.test_entry()
        )),
        Verdict::Refused(why) => Some(format!("{}: {why}", zone.name)),
        Verdict::Failed(e) => {
            Some(format!("{}: lookup failed: {e}", zone.name))
        }
    };
    (problem, evidence)
}

/// The block-list checks: every IP on every IP list, every domain on every
/// domain list, all queries concurrent.
pub(crate) async fn check(
    dns: &Dns,
    zones: &[Zone],
    ips: &[IpAddr],
    domains: &[String],
) -> Vec<Check> {
    // Only the lists that have something to look up are probed.
    let zones: Vec<&Zone> = zones
        .iter()
        .filter(|z| match z.kind {
            ZoneKind::Ip => !ips.is_empty(),
            ZoneKind::Domain => !domains.is_empty(),
        })
        .collect();
    let probes = join_all(zones.iter().map(|z| probe(dns, z))).await;
    let mut queries: Vec<(&Zone, String, String)> = Vec::new();
    for z in zones.iter().copied() {
        match z.kind {
            ZoneKind::Ip => {
                for ip in ips {
                    queries.push((z, ip.to_string(), reversed(*ip)));
                }
            }
            ZoneKind::Domain => {
                for d in domains {
                    queries.push((z, d.clone(), d.clone()));
                }
            }
        }
    }
    let zone_index =
        |z: &Zone| zones.iter().position(|x| *x == z).unwrap_or(0);
    join_all(queries.into_iter().map(|(zone, subject, label)| {
        let probed = &probes[zone_index(zone)];
        lookup(dns, zone, subject, label, probed)
    }))
    .await
}

/// The verdict for one subject on one list, given the list's probe.
async fn lookup(
    dns: &Dns,
    zone: &Zone,
    subject: String,
    label: String,
    (problem, probe_evidence): &(Option<String>, Evidence),
) -> Check {
    let check =
        if zone.kind == ZoneKind::Ip { "dnsbl.ip" } else { "dnsbl.domain" };
    let subject_on = format!("{subject} on {}", zone.name);
    if let Some(problem) = problem {
        return Check::new(
            check,
            subject_on,
            Status::CannotCheck,
            problem.clone(),
        )
        .with_evidence([probe_evidence.clone()])
        .advise(
            "Query the lists through your own recursive resolver (not a \
             public one), or use the list's paid data service; drop lists \
             that no longer exist.",
            Reason::Blocklisted,
        );
    }
    let name = format!("{label}.{}", zone.name);
    let answer = dns.a(&name).await;
    let evidence = Evidence::new(&name, "A", answer.describe());
    let (status, detail) = match decode(&zone.name, &answer) {
        Verdict::NotListed => (Status::Pass, "not listed".to_string()),
        Verdict::Listed(m) => (Status::Fail, m.join("; ")),
        Verdict::Refused(why) => (Status::CannotCheck, why),
        Verdict::Failed(e) => {
            (Status::CannotCheck, format!("lookup failed: {e}"))
        }
    };
    let mut ev = vec![evidence];
    if status == Status::Fail {
        let txt = dns.txt(&name).await;
        if !txt.records().is_empty() {
            ev.push(Evidence::new(&name, "TXT", txt.describe()));
        }
    }
    Check::new(check, subject_on, status, detail).with_evidence(ev).advise(
        format!(
            "Find and stop what caused the listing of {subject}, then request \
             delisting on {}'s removal page.",
            zone.name
        ),
        Reason::Blocklisted,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(ip: &str) -> Answer<Ipv4Addr> {
        Answer::Found(vec![ip.parse().unwrap()])
    }

    #[test]
    fn codes_are_decoded_per_list() {
        assert_eq!(
            decode("zen.spamhaus.org", &Answer::NxDomain),
            Verdict::NotListed
        );
        let Verdict::Listed(m) =
            decode("zen.spamhaus.org", &found("127.0.0.4"))
        else {
            panic!()
        };
        assert!(m[0].contains("XBL"));
        let Verdict::Listed(m) =
            decode("multi.surbl.org", &found("127.0.0.24"))
        else {
            panic!()
        };
        assert!(m[0].contains("PH phishing, MW malware"), "{m:?}");
        assert!(matches!(
            decode("zen.spamhaus.org", &found("127.255.255.254")),
            Verdict::Refused(r) if r.contains("public")
        ));
        assert!(matches!(
            decode("dbl.spamhaus.org", &found("127.0.1.255")),
            Verdict::Refused(_)
        ));
        assert!(matches!(
            decode("bl.example.net", &found("198.51.100.1")),
            Verdict::Refused(_)
        ));
        assert!(matches!(
            decode("bl.example.net", &found("127.0.0.2")),
            Verdict::Listed(_)
        ));
    }

    #[test]
    fn zones_parse_with_their_kind() {
        assert_eq!(
            Zone::parse("dbl.spamhaus.org").unwrap().kind,
            ZoneKind::Domain
        );
        assert_eq!(Zone::parse("bl.example.net.").unwrap().kind, ZoneKind::Ip);
        let z = Zone::parse("domain:uribl.example").unwrap();
        assert_eq!(
            (z.name.as_str(), z.kind),
            ("uribl.example", ZoneKind::Domain)
        );
        assert!(Zone::parse("url:x.example").is_err());
        assert!(Zone::parse("localhost").is_err());
        assert!(Zone::parse("a..b").is_err());
    }

    #[test]
    fn code_table_is_sorted() {
        let mut t: Vec<_> = CODES.iter().map(|(z, c, _)| (*z, *c)).collect();
        t.sort();
        t.dedup();
        assert_eq!(
            t,
            CODES.iter().map(|(z, c, _)| (*z, *c)).collect::<Vec<_>>()
        );
    }
}
