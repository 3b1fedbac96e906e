//! Receiving providers: who received the message (from the remote MTA's
//! host name, the diagnostic's own signature, or the recipient's domain),
//! and each provider's documented texts as rules that refine the reason.
//! One file per provider, `rules/providers/<name>.rules` (format:
//! `docs/rules.md`), listed in [`FILES`] in priority order.

use std::collections::HashMap;
use std::sync::LazyLock;

use super::rules::{PhraseSet, Rules, format};

use crate::model::Reason;

/// Every provider file, in order: the first provider whose host suffix,
/// signature or recipient domain matches names the receiver.
#[rustfmt::skip]
const FILES: &[&str] = &[
    // Large providers.
    include_str!("../../../rules/providers/gmail.rules"),
    include_str!("../../../rules/providers/outlook.rules"),
    include_str!("../../../rules/providers/yahoo.rules"),
    // Carriers, hosters and regional providers.
    include_str!("../../../rules/providers/icloud.rules"),
    include_str!("../../../rules/providers/comcast.rules"),
    include_str!("../../../rules/providers/cox.rules"),
    include_str!("../../../rules/providers/docomo.rules"),
    include_str!("../../../rules/providers/facebook.rules"),
    include_str!("../../../rules/providers/godaddy.rules"),
    include_str!("../../../rules/providers/googlegroups.rules"),
    include_str!("../../../rules/providers/gmx.rules"),
    include_str!("../../../rules/providers/kddi.rules"),
    include_str!("../../../rules/providers/laposte.rules"),
    include_str!("../../../rules/providers/mailru.rules"),
    include_str!("../../../rules/providers/orange.rules"),
    include_str!("../../../rules/providers/spectrum.rules"),
    include_str!("../../../rules/providers/tencent.rules"),
    include_str!("../../../rules/providers/yandex.rules"),
    include_str!("../../../rules/providers/zoho.rules"),
    include_str!("../../../rules/providers/amazonses.rules"),
    // Gateways and filtering services last: a mailbox provider's own host
    // or domain names the receiver better than the filter in front of it.
    include_str!("../../../rules/providers/cloudflare.rules"),
    include_str!("../../../rules/providers/messagelabs.rules"),
    include_str!("../../../rules/providers/mimecast.rules"),
    include_str!("../../../rules/providers/proofpoint.rules"),
];

/// A receiving provider.
#[derive(Debug)]
pub struct Provider {
    /// Stable lower-case name (`gmail`, `outlook`, `yahoo`).
    pub name: &'static str,
    /// Host-name suffixes of its MX and relay hosts.
    pub hosts: Vec<&'static str>,
    /// Recipient domains it hosts.
    pub domains: Vec<&'static str>,
    /// Its signature phrases joined into one pattern ("" for none).
    signature: String,
    /// Its texts, in priority order.
    rules: Rules,
}

impl Provider {
    /// The provider of a built-in file (checked by the tests).
    fn parse(src: &'static str) -> Provider {
        let mut file = format::parse(src).expect("provider files parse");
        let head = file.provider.take().expect("a provider file");
        let signature: Vec<&str> =
            head.signature.iter().map(|p| p.text).collect();
        Provider {
            name: head.name,
            hosts: head.hosts,
            domains: head.domains,
            signature: signature.join("|"),
            rules: Rules::builtin(&file),
        }
    }
}

/// Every provider, in [`FILES`] order.
pub static PROVIDERS: LazyLock<Vec<Provider>> =
    LazyLock::new(|| FILES.iter().map(|src| Provider::parse(src)).collect());

/// Every provider's signature in one set, with the provider each stands
/// for; the first in [`PROVIDERS`] order wins.
static SIGNATURES: LazyLock<(PhraseSet, Vec<usize>)> = LazyLock::new(|| {
    let with: Vec<usize> = (0..PROVIDERS.len())
        .filter(|&i| !PROVIDERS[i].signature.is_empty())
        .collect();
    let set =
        PhraseSet::new(with.iter().map(|&i| PROVIDERS[i].signature.as_str()));
    (set, with)
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
        for &h in &p.hosts {
            match h.split_once(".*.") {
                Some((head, tail)) => {
                    names.wildcard_hosts.push((head, tail, i))
                }
                None => {
                    names.hosts.entry(h).or_insert(i);
                }
            }
        }
        for &d in &p.domains {
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
        && let Some(k) = SIGNATURES.0.first(d.as_bytes())
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
    PROVIDERS[i].rules.lookup(status, diagnostic).map(|r| (r.reason(), r.id()))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::classify::rules;
    use crate::parse::fields;

    /// Every file under `rules/providers/` is listed, named after its
    /// provider.
    #[test]
    fn every_file_is_listed_under_its_name() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/rules/providers");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        let mut names: Vec<String> =
            PROVIDERS.iter().map(|p| format!("{}.rules", p.name)).collect();
        files.sort();
        names.sort();
        assert_eq!(files, names);
    }

    /// Every file parses; names are unique and lower-case, domains
    /// sorted, every phrase matches its examples, and every signature
    /// example identifies its provider.
    #[test]
    fn files_are_well_formed() {
        let mut seen = HashSet::new();
        for (i, src) in FILES.iter().enumerate() {
            let file = format::parse(src).unwrap();
            let h = file.provider.as_ref().unwrap();
            assert!(seen.insert(h.name), "duplicate provider {}", h.name);
            assert!(!h.hosts.is_empty(), "{} has no host", h.name);
            assert!(
                !h.docs.is_empty()
                    && h.docs.iter().all(|d| d.starts_with("https://")),
                "{}: docs https://...",
                h.name
            );
            for name in h.hosts.iter().chain(&h.domains) {
                assert_eq!(
                    *name,
                    name.to_ascii_lowercase(),
                    "{}: names are looked up lower-cased",
                    h.name
                );
            }
            assert!(
                h.domains.windows(2).all(|w| w[0] < w[1]),
                "{} domains unsorted",
                h.name
            );
            rules::assert_well_formed(&file);
            for p in &h.signature {
                for e in p.examples() {
                    assert_eq!(
                        identify(None, Some(e), None),
                        Some(i),
                        "{} signature example {e:?}",
                        h.name
                    );
                }
            }
            for r in &file.rules {
                assert!(
                    r.id.starts_with(&format!("{}:", h.name)),
                    "{} not prefixed",
                    r.id
                );
            }
        }
    }

    /// The provider is identified by its first host suffix, and every rule
    /// decides at least one of its examples (the status taken from the
    /// example).
    #[test]
    fn every_rule_decides_one_of_its_examples() {
        for (i, p) in PROVIDERS.iter().enumerate() {
            let host = format!("mx.{}", p.hosts[0]);
            assert_eq!(identify(Some(&host), None, None), Some(i), "{host}");
            let file = format::parse(FILES[i]).unwrap();
            for r in &file.rules {
                let mut examples = r
                    .examples
                    .iter()
                    .copied()
                    .chain(r.phrases.iter().flat_map(|p| p.examples()));
                assert!(
                    examples.any(|e| {
                        let status = fields::status_in(e);
                        lookup(i, status.as_deref(), e).map(|d| d.1)
                            == Some(r.id)
                    }),
                    "{} decides none of its examples",
                    r.id
                );
            }
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

    /// Replies that name no Microsoft host are still known by the codes
    /// Microsoft appends to them.
    #[test]
    fn microsoft_reply_codes_identify_it() {
        for d in [
            "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302)",
            "550 5.4.1 Recipient address rejected: Access denied. AS(201806281)",
        ] {
            let i = identify(None, Some(d), None).expect(d);
            assert_eq!(name(i), "outlook", "{d}");
        }
    }

    /// Amazon SES: texts other than its bounce action's are left to the
    /// general rules.
    #[test]
    fn amazonses_leaves_other_texts_to_the_general_rules() {
        let i =
            identify(Some("inbound-smtp.us-east-1.amazonaws.com"), None, None)
                .expect("identified by host");
        for text in [
            // SES's refusal during the session (no receipt rule matched).
            "550 5.1.1 Requested action not taken: mailbox unavailable",
            "552 5.2.2 Mailbox full",
            "550 5.1.1 <a@example.org>: mailbox does not exist here, try b@example.org",
        ] {
            assert_eq!(lookup(i, Some("5.1.1"), text), None);
        }
    }
}
