//! Receiving providers: who received the message (from the remote MTA's
//! host name, the diagnostic's own signature, or the recipient's domain),
//! and each provider's documented texts as a rule table that refines the
//! reason. One file per provider, one [`Provider`] each, listed in
//! [`PROVIDERS`].

// Large providers.
mod google;
mod microsoft;
mod yahoo;
// Gateways and filtering services.
mod cloudflare;
mod messagelabs;
mod mimecast;
mod proofpoint;
// Carriers, hosters and regional providers.
mod amazonses;
mod apple;
mod comcast;
mod cox;
mod docomo;
mod facebook;
mod gmx;
mod godaddy;
mod googlegroups;
mod kddi;
mod laposte;
mod mailru;
mod orange;
mod spectrum;
mod tencent;
mod yandex;
mod zoho;

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::bytes::RegexSet;

use super::text::compile_set;

use crate::model::Reason;

/// One documented provider text.
#[derive(Debug)]
pub struct Rule {
    /// Stable rule id (`google:dmarc`).
    pub id: &'static str,
    /// Enhanced status prefix the rule needs (`5.7.26`), or "" for any.
    pub status: &'static str,
    /// Case-insensitive pattern over the diagnostic.
    pub pattern: &'static str,
    /// The reason it means.
    pub reason: Reason,
}

/// A receiving provider.
#[derive(Debug)]
pub struct Provider {
    /// Stable lower-case name (`gmail`, `outlook`, `yahoo`).
    pub name: &'static str,
    /// Host-name suffixes of its MX and relay hosts.
    pub hosts: &'static [&'static str],
    /// Recipient domains it hosts.
    pub domains: &'static [&'static str],
    /// A pattern that identifies its replies in a diagnostic ("" for none).
    pub signature: &'static str,
    /// Its texts, in priority order.
    pub rules: &'static [Rule],
}

/// Every provider.
pub static PROVIDERS: &[&Provider] = &[
    &google::GOOGLE,
    &microsoft::MICROSOFT,
    &yahoo::YAHOO,
    &apple::APPLE,
    &comcast::COMCAST,
    &cox::COX,
    &docomo::DOCOMO,
    &facebook::FACEBOOK,
    &godaddy::GODADDY,
    &googlegroups::GOOGLEGROUPS,
    &gmx::GMX,
    &kddi::KDDI,
    &laposte::LAPOSTE,
    &mailru::MAILRU,
    &orange::ORANGE,
    &spectrum::SPECTRUM,
    &tencent::TENCENT,
    &yandex::YANDEX,
    &zoho::ZOHO,
    &amazonses::AMAZONSES,
    // Gateways last: a mailbox provider's own host or domain names the
    // receiver better than the filter in front of it.
    &cloudflare::CLOUDFLARE,
    &messagelabs::MESSAGELABS,
    &mimecast::MIMECAST,
    &proofpoint::PROOFPOINT,
];

/// Each provider's rules with a pattern, compiled once into one set per
/// provider, with the rule index of each pattern. A rule with an empty
/// pattern (a status alone decides) matches any text; it stays out of the
/// set, where it would match at every position and make the search slow.
static RULES: LazyLock<Vec<(RegexSet, Vec<usize>)>> = LazyLock::new(|| {
    PROVIDERS
        .iter()
        .map(|p| {
            let with: Vec<usize> = (0..p.rules.len())
                .filter(|&k| !p.rules[k].pattern.is_empty())
                .collect();
            (compile_set(with.iter().map(|&k| p.rules[k].pattern)), with)
        })
        .collect()
});

/// Every provider's signature in one set, with the provider each stands
/// for; the first in [`PROVIDERS`] order wins.
static SIGNATURES: LazyLock<(RegexSet, Vec<usize>)> = LazyLock::new(|| {
    let with: Vec<usize> = (0..PROVIDERS.len())
        .filter(|&i| !PROVIDERS[i].signature.is_empty())
        .collect();
    (compile_set(with.iter().map(|&i| PROVIDERS[i].signature)), with)
});

/// Every provider's host-name suffixes and recipient domains, each with
/// the first provider in [`PROVIDERS`] order that lists it. Suffixes with
/// a `*` label (any one label: `inbound-smtp.*.amazonaws.com`) are kept
/// apart, in order.
struct Names {
    hosts: HashMap<&'static str, usize>,
    wildcard_hosts: Vec<(&'static str, &'static str, usize)>,
    domains: HashMap<&'static str, usize>,
}

static NAMES: LazyLock<Names> = LazyLock::new(|| {
    let mut names = Names {
        hosts: HashMap::new(),
        wildcard_hosts: Vec::new(),
        domains: HashMap::new(),
    };
    for (i, p) in PROVIDERS.iter().enumerate() {
        for &h in p.hosts {
            match h.split_once(".*.") {
                Some((head, tail)) => {
                    names.wildcard_hosts.push((head, tail, i))
                }
                None => {
                    names.hosts.entry(h).or_insert(i);
                }
            }
        }
        for &d in p.domains {
            names.domains.entry(d).or_insert(i);
        }
    }
    names
});

/// The provider whose host-name suffix `host` ends with (whole labels,
/// ASCII case-insensitive).
fn by_host(host: &str) -> Option<usize> {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    let mut found: Option<usize> = None;
    let mut keep = |i: usize| found = Some(found.map_or(i, |f| f.min(i)));
    let mut rest = host.as_str();
    loop {
        if let Some(&i) = NAMES.hosts.get(rest) {
            keep(i);
        }
        match rest.split_once('.') {
            Some((_, tail)) => rest = tail,
            None => break,
        }
    }
    for &(head, tail, i) in &NAMES.wildcard_hosts {
        let matched = before_labels(&host, tail)
            .and_then(|rest| rest.rsplit_once('.'))
            .is_some_and(|(before, any)| {
                !any.is_empty() && before_labels(before, head).is_some()
            });
        if matched {
            keep(i);
        }
    }
    found
}

/// What precedes `suffix` in `host` when `host` is `suffix` (`Some("")`)
/// or ends with `.suffix` (`Some("mx")` for `mx.suffix`).
fn before_labels<'h>(host: &'h str, suffix: &str) -> Option<&'h str> {
    let rest = host.strip_suffix(suffix)?;
    match rest.strip_suffix('.') {
        Some(before) => Some(before),
        None => rest.is_empty().then_some(rest),
    }
}

/// The provider that received the message: by remote MTA host, then by the
/// diagnostic's signature, then by the recipient's domain.
pub fn identify(
    remote_mta: Option<&str>,
    diagnostic: Option<&str>,
    recipient: Option<&str>,
) -> Option<usize> {
    if let Some(i) = remote_mta.and_then(by_host) {
        return Some(i);
    }
    if let Some(d) = diagnostic
        && let Some(k) = SIGNATURES.0.matches(d.as_bytes()).iter().next()
    {
        return Some(SIGNATURES.1[k]);
    }
    let domain = recipient?.rsplit_once('@')?.1.to_ascii_lowercase();
    NAMES.domains.get(domain.as_str()).copied()
}

/// The provider's name.
pub fn name(i: usize) -> &'static str {
    PROVIDERS[i].name
}

/// The first rule of provider `i` that matches the diagnostic and status.
pub fn lookup(
    i: usize,
    status: Option<&str>,
    diagnostic: &str,
) -> Option<(Reason, &'static str)> {
    let p = PROVIDERS[i];
    let (set, with) = &RULES[i];
    let mut matched: Vec<bool> =
        p.rules.iter().map(|r| r.pattern.is_empty()).collect();
    for k in set.matches(diagnostic.as_bytes()).iter() {
        matched[with[k]] = true;
    }
    p.rules
        .iter()
        .zip(matched)
        .filter_map(|(r, m)| m.then_some(r))
        .find(|r| {
            r.status.is_empty()
                || status.is_some_and(|s| s.starts_with(r.status))
        })
        .map(|r| (r.reason, r.id))
}

/// Test helper for the provider files: the provider is identified by its
/// first host suffix, every documented `(status, text, rule id)` case picks
/// its rule, and every rule of the provider has at least one case.
#[cfg(test)]
pub(crate) fn assert_documented(p: &Provider, cases: &[(&str, &str, &str)]) {
    let host = format!("mx.{}", p.hosts[0]);
    let i = identify(Some(&host), None, None).expect("identified by host");
    assert_eq!(name(i), p.name, "{host} names another provider");
    for (status, text, id) in cases {
        let got = lookup(i, Some(status), text).map(|r| r.1);
        assert_eq!(got, Some(*id), "{status} {text:?}");
    }
    for r in p.rules {
        assert!(
            cases.iter().any(|c| c.2 == r.id),
            "rule {} has no documented case",
            r.id
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_unique_and_prefixed() {
        let mut seen = std::collections::HashSet::new();
        let mut names = std::collections::HashSet::new();
        for p in PROVIDERS {
            assert!(names.insert(p.name), "duplicate provider {}", p.name);
            assert!(!p.hosts.is_empty(), "{} has no host", p.name);
            for r in p.rules {
                assert!(seen.insert(r.id), "duplicate {}", r.id);
                assert!(
                    r.id.starts_with(&format!("{}:", p.name)),
                    "{} not prefixed",
                    r.id
                );
            }
            for name in p.hosts.iter().chain(p.domains) {
                assert_eq!(
                    *name,
                    name.to_ascii_lowercase(),
                    "{}: names are looked up lower-cased",
                    p.name
                );
            }
            let mut d = p.domains.to_vec();
            d.sort();
            assert_eq!(d, p.domains, "{} domains unsorted", p.name);
        }
    }

    #[test]
    fn identification() {
        let g =
            identify(Some("gmail-smtp-in.l.google.com"), None, None).unwrap();
        assert_eq!(name(g), "gmail");
        let g = identify(Some("MX.Google.COM."), None, None).unwrap();
        assert_eq!(name(g), "gmail");
        let m = identify(None, None, Some("a@hotmail.com")).unwrap();
        assert_eq!(name(m), "outlook");
        let s =
            identify(Some("inbound-smtp.eu-west-1.amazonaws.com"), None, None)
                .unwrap();
        assert_eq!(name(s), "amazonses");
        // Suffixes end at a label boundary; a wildcard is one whole label.
        for other in [
            "ec2-192-0-2-1.compute-1.amazonaws.com",
            "inbound-smtp.amazonaws.com",
            "notgoogle.com",
        ] {
            assert_eq!(identify(Some(other), None, None), None, "{other}");
        }
        assert_eq!(
            identify(
                Some("mx.example.org"),
                Some("550 no"),
                Some("a@example.org")
            ),
            None
        );
    }
}

#[cfg(test)]
mod data {
    use super::PROVIDERS;
    use crate::classify::rules::format;

    /// `rules/providers/<name>.rules` hold the tables, one phrase a line.
    #[test]
    fn the_files_equal_the_tables() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rules/providers");
        assert_eq!(std::fs::read_dir(dir).unwrap().count(), PROVIDERS.len());
        let mut bad = vec![];
        for p in PROVIDERS {
            let src =
                std::fs::read_to_string(format!("{dir}/{}.rules", p.name))
                    .unwrap();
            let f = format::parse(&src).unwrap();
            let h = f.provider.unwrap();
            assert_eq!(h.name, p.name);
            assert!(!h.docs.is_empty());
            assert_eq!(h.hosts, p.hosts);
            assert_eq!(h.domains, p.domains);
            let sig: Vec<&str> = h.signature.iter().map(|s| s.text).collect();
            assert_eq!(sig.join("|"), p.signature);
            assert_eq!(f.rules.len(), p.rules.len(), "{}", p.name);
            for (spec, r) in f.rules.iter().zip(p.rules) {
                let joined: Vec<&str> =
                    spec.phrases.iter().map(|p| p.text).collect();
                assert_eq!(
                    (spec.id, spec.reason, spec.status, joined.join("|")),
                    (r.id, r.reason, r.status, r.pattern.to_string())
                );
                if let Err((line, e)) = crate::classify::rules::check(spec) {
                    bad.push(format!("{}:{line}: {e}", p.name));
                }
            }
        }
        assert!(bad.is_empty(), "{bad:#?}");
    }
}
