//! `preflight` against a real DNS server: `hickory-server` on a loopback
//! port (tests/support/dns_server.rs) serving zones written here: SPF
//! records with includes, redirects, macros, loops, too many lookups and
//! void lookups; DKIM keys of several sizes generated here, an ed25519 key
//! and a revoked one; DMARC records in each alignment mode and at the
//! organisational domain; PTR records; block lists answering listed, not
//! listed, the public-resolver refusal code, and a list that is gone.
//! Every check has a passing and a failing case; the library is called
//! directly for the verdicts and the binary for the output, exit codes and
//! bounds.

use std::net::{IpAddr, UdpSocket};
use std::process::Output;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use base64::Engine as _;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use rebound::dns::DnsOptions;
use rebound::preflight::report::{Report, Status};
use rebound::preflight::{Options, run};
use serde_json::Value;

use crate::dns_server::{DnsServer, txt};
use crate::util::rebound;

fn rsa_key(bits: u32) -> String {
    let key = PKey::from_rsa(Rsa::generate(bits).unwrap()).unwrap();
    let der = key.public_key_to_der().unwrap();
    format!(
        "v=DKIM1; k=rsa; p={}",
        base64::engine::general_purpose::STANDARD.encode(der)
    )
}

fn ed25519_key() -> String {
    let key = PKey::generate_ed25519().unwrap();
    format!(
        "v=DKIM1; k=ed25519; p={}",
        base64::engine::general_purpose::STANDARD
            .encode(key.raw_public_key().unwrap())
    )
}

/// An SPF record among TXT records too large for one UDP answer (more
/// than the 1232 bytes of EDNS): the resolver must retry over TCP.
fn big_txt() -> String {
    let mut z =
        String::from("bigtxt IN TXT \"v=spf1 ip4:192.0.2.0/24 -all\"\n");
    for i in 0..8 {
        let token = format!("verification-{i}={}", "x".repeat(230));
        z.push_str(&format!("bigtxt IN TXT {}\n", txt(&token)));
    }
    z
}

/// The zones of every test, served once.
fn server() -> &'static DnsServer {
    static SERVER: OnceLock<DnsServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let k2048 = txt(&rsa_key(2048));
        let includes: String = (1..=11)
            .map(|i| format!("l{i} IN TXT \"v=spf1 -all\"\n"))
            .collect();
        let chain: Vec<String> =
            (1..=11).map(|i| format!("include:l{i}.example.com")).collect();
        let example_com = format!(
            r#"
@ IN TXT "v=spf1 ip4:192.0.2.0/27 include:_spf.esp.example.net -all"
@ IN TXT "google-site-verification=abc"
@ IN MX 10 mx.example.com.
mx IN A 192.0.2.25
out IN A 192.0.2.25
web IN A 192.0.2.33
bounce IN TXT "v=spf1 redirect=example.com"
_dmarc IN TXT "v=DMARC1; p=reject; adkim=s; aspf=r; rua=mailto:dmarc@example.com,mailto:agg@reports.example.net"
s2048._domainkey IN TXT {k2048}
s2048._domainkey.mail IN TXT {k2048}
s1024._domainkey IN TXT {k1024}
s512._domainkey IN TXT {k512}
ed._domainkey IN TXT {ed}
s4096._domainkey IN TXT {k4096}
revoked._domainkey IN TXT "v=DKIM1; k=rsa; p="
{big}
mech IN TXT "v=spf1 a:web.example.com mx exists:%{{ir}}._i.%{{l}}._l.%{{o}}._o.%{{h}}._h.allow.example.com include:_inc.%{{d}} ip6:2001:db8:2::/48 ~all"
mech IN MX 10 mx.example.com.
44.2.0.192._i.bounces._l.mech.example.com._o.out.example.com._h.allow IN A 127.0.0.2
_inc.mech IN TXT "v=spf1 ip4:192.0.2.55 -all"
redir IN TXT "v=spf1 ip4:192.0.2.66 redirect=mech.example.com"
neutral IN TXT "v=spf1 ip4:192.0.2.1 ?all"
plusall IN TXT "v=spf1 +all"
twospf IN TXT "v=spf1 -all"
twospf IN TXT "v=spf1 ip4:192.0.2.1 -all"
badsyntax IN TXT "v=spf1 ip4:192.0.2.300 -all"
nospf IN TXT "google-site-verification=abc"
toomany IN TXT {chain}
{includes}
loop IN TXT "v=spf1 include:loop2.example.com -all"
loop2 IN TXT "v=spf1 include:loop.example.com -all"
void IN TXT "v=spf1 a:gone1.example.com a:gone2.example.com a:gone3.example.com -all"
void2 IN TXT "v=spf1 a:gone1.example.com mx:gone2.example.com -all"
temp IN TXT "v=spf1 include:_spf.unserved.example -all"
ptrspf IN TXT "v=spf1 ptr:example.com -all"
pmacro IN TXT "v=spf1 exists:%{{p}}._p.example.com -all"
mx.example.com._p IN A 127.0.0.2
manymx IN TXT "v=spf1 mx -all"
{manymx}
"#,
            k1024 = txt(&rsa_key(1024)),
            k512 = txt(&rsa_key(512)),
            k4096 = txt(&rsa_key(4096)),
            big = big_txt(),
            manymx = (1..=11)
                .map(|i| format!("manymx IN MX {i} mx.example.com.\n"))
                .collect::<String>(),
            ed = txt(&ed25519_key()),
            chain = txt(&format!("v=spf1 {} -all", chain.join(" "))),
        );
        let example_net = format!(
            r#"
_spf.esp IN TXT "v=spf1 ip4:198.51.100.0/24 ~all"
bounce.esp IN TXT "v=spf1 include:_spf.esp.example.net -all"
sel1._domainkey.esp IN TXT {k2048}
example.com._report._dmarc.reports IN TXT "v=DMARC1"
"#
        );
        let example_org = r#"
_dmarc IN TXT "v=DMARC1; p=quarantine; sp=none; pct=50; rua=mailto:agg@reports.example.net"
@ IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
news IN TXT "v=spf1 ip4:192.0.2.0/24 -all"
"#
        .to_string();
        let reverse = r#"
25 IN PTR mx.example.com.
26 IN PTR mx.example.com.
"#
        .to_string();
        let listed = r#"
2.0.0.127 IN A 127.0.0.2
9.113.0.203 IN A 127.0.0.4
9.113.0.203 IN TXT "https://check.spamhaus.org/listed/?searchterm=203.0.113.9"
"#
        .to_string();
        let spamcop = "2.0.0.127 IN A 127.0.0.2\n9.113.0.203 IN A 127.0.0.2\n";
        DnsServer::start(&[
            ("example.com", example_com),
            ("example.net", example_net),
            ("example.org", example_org),
            ("2.0.192.in-addr.arpa", reverse),
            ("113.0.203.in-addr.arpa", String::new()),
            ("zen.spamhaus.org", listed),
            ("bl.spamcop.net", spamcop.to_string()),
            // Spamhaus refusing a public resolver: every name answers
            // 127.255.255.254.
            ("xbl.spamhaus.org", "* IN A 127.255.255.254\n".to_string()),
            // A list that is gone: the zone exists but lists nothing, not
            // even its test entry.
            ("dnsbl.sorbs.net", String::new()),
            (
                "dbl.spamhaus.org",
                "dbltest.com IN A 127.0.1.2\nexample.net IN A 127.0.1.2\n"
                    .to_string(),
            ),
            (
                "multi.surbl.org",
                "test IN A 127.0.0.254\nexample.net IN A 127.0.0.24\n"
                    .to_string(),
            ),
        ])
    })
}

fn options(from: &str) -> Options {
    Options {
        from_domain: from.into(),
        dns: DnsOptions {
            server: Some(server().addr),
            timeout: Duration::from_secs(2),
            attempts: 2,
        },
        zones: vec!["zen.spamhaus.org".into()],
        ..Options::default()
    }
}

fn ips(list: &[&str]) -> Vec<IpAddr> {
    list.iter().map(|i| i.parse().unwrap()).collect()
}

/// The (status, detail) of the check `id` on `subject`.
fn verdict(r: &Report, id: &str, subject: &str) -> (Status, String) {
    let c = r
        .find(id)
        .find(|c| c.subject == subject)
        .unwrap_or_else(|| panic!("no {id} for {subject}: {r:#?}"));
    (c.status, c.detail.clone())
}

fn assert_verdict(
    r: &Report,
    id: &str,
    subject: &str,
    status: Status,
    detail: &str,
) {
    let (s, d) = verdict(r, id, subject);
    assert_eq!(s, status, "{id} {subject}: {d}");
    assert!(d.contains(detail), "{id} {subject}: {d:?} lacks {detail:?}");
}

fn spf_of(envelope: &str, addrs: &[&str]) -> Report {
    run(&Options {
        envelope: Some(envelope.into()),
        ips: ips(addrs),
        ..options("example.com")
    })
    .unwrap()
}

#[test]
fn spf_record_is_found_unique_and_parses() {
    let r = spf_of("example.com", &[]);
    assert_verdict(
        &r,
        "spf.record",
        "example.com",
        Status::Pass,
        "v=spf1 ip4:192.0.2.0/27 include:_spf.esp.example.net -all",
    );
    let ev = &r.find("spf.record").next().unwrap().evidence[0];
    assert_eq!(ev.query, "example.com TXT");
    assert!(ev.answer.contains("google-site-verification"));
    // More TXT than one UDP answer holds: all 9 records come, over TCP.
    let r = spf_of("bigtxt.example.com", &[]);
    let ev = &r.find("spf.record").next().unwrap().evidence[0];
    assert_eq!(ev.answer.split(" | ").count(), 9, "{}", ev.answer);
    for (domain, status, detail) in [
        ("nospf.example.com", Status::Fail, "no SPF record"),
        ("twospf.example.com", Status::Fail, "2 SPF records"),
        ("badsyntax.example.com", Status::Fail, "\"ip4:192.0.2.300\""),
        ("plusall.example.com", Status::Fail, "+all"),
        ("neutral.example.com", Status::Warn, "?all"),
    ] {
        let r = spf_of(domain, &[]);
        assert_verdict(&r, "spf.record", domain, status, detail);
    }
}

#[test]
fn spf_lookup_and_void_limits() {
    let r = spf_of("example.com", &[]);
    assert_verdict(
        &r,
        "spf.lookups",
        "example.com",
        Status::Pass,
        "1 of 10 DNS lookups, 0 of 2 void lookups",
    );
    let r = spf_of("void2.example.com", &[]);
    assert_verdict(
        &r,
        "spf.lookups",
        "void2.example.com",
        Status::Pass,
        "2 of 10 DNS lookups, 2 of 2 void lookups",
    );
    for (domain, status, detail) in [
        (
            "toomany.example.com",
            Status::Fail,
            "more than 10 DNS lookups (RFC 7208 4.6.4), reached at \
             include:l11.example.com in toomany.example.com",
        ),
        (
            "loop.example.com",
            Status::Fail,
            "include loop: loop.example.com -> loop2.example.com -> \
             loop.example.com",
        ),
        (
            "void.example.com",
            Status::Fail,
            "more than 2 void lookups (RFC 7208 4.6.4), reached at \
             a:gone3.example.com in void.example.com",
        ),
        (
            "temp.example.com",
            Status::CannotCheck,
            "temperror: include:_spf.unserved.example in temp.example.com",
        ),
    ] {
        let r = spf_of(domain, &[]);
        assert_verdict(&r, "spf.lookups", domain, status, detail);
    }
    let r = spf_of("manymx.example.com", &[]);
    assert_verdict(
        &r,
        "spf.lookups",
        "manymx.example.com",
        Status::Fail,
        "mx in manymx.example.com: manymx.example.com has 11 MX records, \
         more than 10",
    );
    // The limit also holds when an address is evaluated.
    let r = spf_of("toomany.example.com", &["192.0.2.9"]);
    assert_verdict(&r, "spf.ip", "192.0.2.9", Status::Fail, "permerror");
}

#[test]
fn spf_evaluates_every_mechanism_with_macros() {
    let r = run(&Options {
        envelope: Some("bounces@mech.example.com".into()),
        helo: Some("out.example.com".into()),
        ips: ips(&[
            "192.0.2.33",
            "192.0.2.25",
            "192.0.2.44",
            "192.0.2.55",
            "2001:db8:2::1",
            "203.0.113.9",
        ]),
        ..options("example.com")
    })
    .unwrap();
    for (ip, status, detail) in [
        ("192.0.2.33", Status::Pass, "pass: a:web.example.com in mech"),
        (
            "192.0.2.25",
            Status::Pass,
            "pass: mx in mech.example.com -> MX host mx.example.com",
        ),
        (
            "192.0.2.44",
            Status::Pass,
            "pass: exists:%{ir}._i.%{l}._l.%{o}._o.%{h}._h",
        ),
        (
            "192.0.2.55",
            Status::Pass,
            "include:_inc.%{d} in mech.example.com -> ip4:192.0.2.55 in _inc.mech.example.com",
        ),
        ("2001:db8:2::1", Status::Pass, "pass: ip6:2001:db8:2::/48"),
        ("203.0.113.9", Status::Fail, "softfail: ~all in mech.example.com"),
    ] {
        assert_verdict(&r, "spf.ip", ip, status, detail);
    }
    let next = &r.find("spf.ip").last().unwrap().next_step;
    assert!(next.as_deref().unwrap().contains("add ip4:203.0.113.9"));
}

#[test]
fn spf_ptr_mechanism_and_p_macro_use_validated_names() {
    // 192.0.2.25's PTR mx.example.com resolves back; 192.0.2.26's PTR
    // (the same name) does not, so it has no validated name.
    let r = spf_of("ptrspf.example.com", &["192.0.2.25", "192.0.2.26"]);
    assert_verdict(
        &r,
        "spf.record",
        "ptrspf.example.com",
        Status::Warn,
        "uses ptr",
    );
    assert_verdict(
        &r,
        "spf.ip",
        "192.0.2.25",
        Status::Pass,
        "ptr:example.com in ptrspf.example.com -> validated PTR name \
         mx.example.com",
    );
    assert_verdict(&r, "spf.ip", "192.0.2.26", Status::Fail, "fail: -all");
    let r = spf_of("pmacro.example.com", &["192.0.2.25", "192.0.2.26"]);
    assert_verdict(&r, "spf.ip", "192.0.2.25", Status::Pass, "exists:%{p}");
    assert_verdict(&r, "spf.ip", "192.0.2.26", Status::Fail, "fail: -all");
}

#[test]
fn spf_includes_redirects_and_defaults() {
    let r =
        spf_of("example.com", &["192.0.2.5", "198.51.100.7", "203.0.113.9"]);
    assert_verdict(
        &r,
        "spf.ip",
        "192.0.2.5",
        Status::Pass,
        "ip4:192.0.2.0/27",
    );
    assert_verdict(
        &r,
        "spf.ip",
        "198.51.100.7",
        Status::Pass,
        "include:_spf.esp.example.net in example.com -> ip4:198.51.100.0/24",
    );
    assert_verdict(
        &r,
        "spf.ip",
        "203.0.113.9",
        Status::Fail,
        "fail: -all in example.com",
    );
    let r = spf_of(
        "redir.example.com",
        &["192.0.2.66", "192.0.2.33", "203.0.113.9"],
    );
    assert_verdict(&r, "spf.ip", "192.0.2.66", Status::Pass, "ip4:192.0.2.66");
    assert_verdict(
        &r,
        "spf.ip",
        "192.0.2.33",
        Status::Pass,
        "redirect=mech.example.com in redir.example.com -> a:web.example.com",
    );
    assert_verdict(&r, "spf.ip", "203.0.113.9", Status::Fail, "softfail");
    let r = spf_of("neutral.example.com", &["203.0.113.9"]);
    assert_verdict(&r, "spf.ip", "203.0.113.9", Status::Fail, "neutral: ?all");
}

#[test]
fn dkim_keys_of_each_size_and_state() {
    let r = run(&Options {
        selectors: [
            "s4096", "s2048", "s1024", "s512", "revoked", "ed", "missing",
        ]
        .map(String::from)
        .to_vec(),
        ..options("example.com")
    })
    .unwrap();
    let name = |s: &str| format!("{s}._domainkey.example.com");
    for (sel, status, detail) in [
        ("s4096", Status::Pass, "RSA key, 4096 bits"),
        ("s2048", Status::Pass, "RSA key, 2048 bits"),
        ("s1024", Status::Warn, "RSA key, 1024 bits (below 2048"),
        ("s512", Status::Fail, "RSA key, 512 bits (below 1024"),
        ("revoked", Status::Fail, "key revoked (empty p=)"),
        ("ed", Status::Pass, "ed25519 key"),
        ("missing", Status::Fail, "no DKIM key record"),
    ] {
        assert_verdict(&r, "dkim.key", &name(sel), status, detail);
    }
    let c = r.find("dkim.key").nth(1).unwrap();
    assert_eq!(c.evidence[0].query, "s2048._domainkey.example.com TXT");
    assert!(c.evidence[0].answer.starts_with("v=DKIM1; k=rsa; p=MII"));
}

#[test]
fn dmarc_record_policy_and_reports() {
    let r = run(&options("example.com")).unwrap();
    assert_verdict(
        &r,
        "dmarc.record",
        "example.com",
        Status::Pass,
        "v=DMARC1; p=reject",
    );
    assert_verdict(
        &r,
        "dmarc.policy",
        "example.com",
        Status::Pass,
        "p=reject, pct=100",
    );
    assert_verdict(
        &r,
        "dmarc.reports",
        "example.com",
        Status::Pass,
        "rua=mailto:dmarc@example.com,mailto:agg@reports.example.net",
    );

    let r = run(&options("example.net")).unwrap();
    assert_verdict(
        &r,
        "dmarc.record",
        "example.net",
        Status::Fail,
        "no DMARC record at _dmarc.example.net",
    );

    // Inherited from the organisational domain: sp= applies.
    let r = run(&options("news.example.org")).unwrap();
    assert_verdict(
        &r,
        "dmarc.record",
        "news.example.org",
        Status::Pass,
        "(at the organisational domain example.org)",
    );
    let ev: Vec<&str> = r
        .find("dmarc.record")
        .next()
        .unwrap()
        .evidence
        .iter()
        .map(|e| e.query.as_str())
        .collect();
    assert_eq!(ev, ["_dmarc.news.example.org TXT", "_dmarc.example.org TXT"]);
    assert_verdict(
        &r,
        "dmarc.policy",
        "news.example.org",
        Status::Warn,
        "sp=none: monitoring only",
    );
    assert_verdict(
        &r,
        "dmarc.reports",
        "news.example.org",
        Status::Warn,
        "reports.example.net has not agreed to receive reports for example.org",
    );
    let r = run(&options("example.org")).unwrap();
    assert_verdict(
        &r,
        "dmarc.policy",
        "example.org",
        Status::Warn,
        "only 50% of failing mail",
    );
}

#[test]
fn alignment_in_relaxed_and_strict_modes() {
    // aspf=r: bounce.example.com aligns; adkim=s: d=example.com aligns,
    // d=mail.example.com does not (warn: SPF and the other key align).
    let r = run(&Options {
        envelope: Some("bounce.example.com".into()),
        ips: ips(&["192.0.2.25"]),
        selectors: vec!["s2048".into(), "s2048:mail.example.com".into()],
        ..options("example.com")
    })
    .unwrap();
    assert_verdict(
        &r,
        "dmarc.align.spf",
        "bounce.example.com",
        Status::Pass,
        "aligns with From example.com (aspf relaxed)",
    );
    assert_verdict(
        &r,
        "dmarc.align.dkim",
        "example.com",
        Status::Pass,
        "adkim strict",
    );
    assert_verdict(
        &r,
        "dmarc.align.dkim",
        "mail.example.com",
        Status::Warn,
        "does not align with From example.com (adkim strict); DMARC still passes",
    );
    assert_verdict(
        &r,
        "bulk.alignment",
        "example.com",
        Status::Pass,
        "aligns",
    );
    // Two keys of one signing domain: one alignment line.
    let r = run(&Options {
        selectors: vec!["s2048".into(), "s512".into()],
        ..options("example.com")
    })
    .unwrap();
    assert_eq!(r.find("dmarc.align.dkim").count(), 1, "one line per d=");

    // An ESP's own Return-Path and signing domain: nothing aligns.
    let r = run(&Options {
        envelope: Some("bounce.esp.example.net".into()),
        ips: ips(&["198.51.100.7"]),
        selectors: vec!["sel1:esp.example.net".into()],
        ..options("example.com")
    })
    .unwrap();
    assert_verdict(&r, "spf.ip", "198.51.100.7", Status::Pass, "pass");
    assert_verdict(
        &r,
        "dmarc.align.spf",
        "bounce.esp.example.net",
        Status::Fail,
        "does not align",
    );
    assert_verdict(
        &r,
        "dmarc.align.dkim",
        "esp.example.net",
        Status::Fail,
        "does not align",
    );
    assert_verdict(
        &r,
        "bulk.alignment",
        "example.com",
        Status::Fail,
        "aligns with no passing",
    );
}

#[test]
fn reverse_dns_must_resolve_back() {
    let r = run(&Options {
        ips: ips(&["192.0.2.25", "192.0.2.26", "192.0.2.27"]),
        ..options("example.com")
    })
    .unwrap();
    assert_verdict(
        &r,
        "ptr.fcrdns",
        "192.0.2.25",
        Status::Pass,
        "PTR mx.example.com resolves back",
    );
    assert_verdict(
        &r,
        "ptr.fcrdns",
        "192.0.2.26",
        Status::Fail,
        "PTR mx.example.com does not resolve back to 192.0.2.26",
    );
    assert_verdict(
        &r,
        "ptr.fcrdns",
        "192.0.2.27",
        Status::Fail,
        "has no PTR record",
    );
    let c = r.find("ptr.fcrdns").nth(1).unwrap();
    assert_eq!(c.evidence[0].query, "26.2.0.192.in-addr.arpa PTR");
    assert_eq!(c.evidence[1].answer, "192.0.2.25");
    assert!(c.next_step.as_deref().unwrap().contains("PTR"));
    assert_eq!(c.reason, Some(rebound::classify::Reason::RequirePtr));
    assert_verdict(
        &r,
        "bulk.ptr",
        "example.com",
        Status::Fail,
        "2 of 3 IP(s) lack",
    );
}

#[test]
fn block_lists_decoded_refused_and_gone() {
    let r = run(&Options {
        envelope: Some("bounce.esp.example.net".into()),
        ips: ips(&["192.0.2.25", "203.0.113.9"]),
        zones: [
            "zen.spamhaus.org",
            "bl.spamcop.net",
            "xbl.spamhaus.org",
            "dnsbl.sorbs.net",
            "dbl.spamhaus.org",
            "multi.surbl.org",
        ]
        .map(String::from)
        .to_vec(),
        ..options("example.com")
    })
    .unwrap();
    let ip = |i: &str, z: &str| format!("{i} on {z}");
    assert_verdict(
        &r,
        "dnsbl.ip",
        &ip("192.0.2.25", "zen.spamhaus.org"),
        Status::Pass,
        "not listed",
    );
    let (s, d) =
        verdict(&r, "dnsbl.ip", &ip("203.0.113.9", "zen.spamhaus.org"));
    assert_eq!(s, Status::Fail);
    assert_eq!(d, "127.0.0.4 XBL: exploited host (botnet, malware)");
    let c = r
        .find("dnsbl.ip")
        .find(|c| c.subject == ip("203.0.113.9", "zen.spamhaus.org"))
        .unwrap();
    assert_eq!(c.evidence[0].query, "9.113.0.203.zen.spamhaus.org A");
    assert!(c.evidence[1].answer.contains("check.spamhaus.org"));
    assert_verdict(
        &r,
        "dnsbl.ip",
        &ip("203.0.113.9", "bl.spamcop.net"),
        Status::Fail,
        "SpamCop",
    );
    assert_verdict(
        &r,
        "dnsbl.ip",
        &ip("192.0.2.25", "bl.spamcop.net"),
        Status::Pass,
        "not listed",
    );
    for i in ["192.0.2.25", "203.0.113.9"] {
        assert_verdict(
            &r,
            "dnsbl.ip",
            &ip(i, "xbl.spamhaus.org"),
            Status::CannotCheck,
            "public/open resolver are refused (127.255.255.254)",
        );
        assert_verdict(
            &r,
            "dnsbl.ip",
            &ip(i, "dnsbl.sorbs.net"),
            Status::CannotCheck,
            "does not list its test entry 2.0.0.127",
        );
    }
    assert_verdict(
        &r,
        "dnsbl.domain",
        "example.com on dbl.spamhaus.org",
        Status::Pass,
        "not listed",
    );
    assert_verdict(
        &r,
        "dnsbl.domain",
        "example.net on dbl.spamhaus.org",
        Status::Fail,
        "127.0.1.2 DBL: low-reputation (spam) domain",
    );
    assert_verdict(
        &r,
        "dnsbl.domain",
        "example.net on multi.surbl.org",
        Status::Fail,
        "SURBL: PH phishing, MW malware",
    );
    assert_verdict(
        &r,
        "dnsbl.domain",
        "bounce.esp.example.net on multi.surbl.org",
        Status::Pass,
        "not listed",
    );
    // An unserved list (REFUSED by the server) cannot be checked either.
    let r = run(&Options {
        ips: ips(&["192.0.2.25"]),
        zones: vec!["b.barracudacentral.org".into()],
        ..options("example.com")
    })
    .unwrap();
    assert_verdict(
        &r,
        "dnsbl.ip",
        "192.0.2.25 on b.barracudacentral.org",
        Status::CannotCheck,
        "lookup failed",
    );
}

#[test]
fn bulk_sender_rules_pass_and_fail() {
    let r = run(&Options {
        envelope: Some("bounce.example.com".into()),
        ips: ips(&["192.0.2.25"]),
        selectors: vec!["s2048".into()],
        ..options("example.com")
    })
    .unwrap();
    for id in ["bulk.spf_dkim", "bulk.dmarc", "bulk.alignment", "bulk.ptr"] {
        assert_verdict(&r, id, "example.com", Status::Pass, "");
    }
    assert!(!r.failed(), "{r:#?}");
    let r = run(&Options {
        ips: ips(&["192.0.2.27"]),
        selectors: vec!["revoked".into()],
        ..options("nospf.example.com")
    })
    .unwrap();
    assert_verdict(
        &r,
        "bulk.spf_dkim",
        "nospf.example.com",
        Status::Fail,
        "SPF missing or broken, DKIM missing or broken",
    );
    assert_verdict(
        &r,
        "bulk.alignment",
        "nospf.example.com",
        Status::Fail,
        "aligns with no passing",
    );
    assert_verdict(
        &r,
        "bulk.ptr",
        "nospf.example.com",
        Status::Fail,
        "1 of 1",
    );
    // nospf.example.com inherits example.com's DMARC record.
    assert_verdict(
        &r,
        "bulk.dmarc",
        "nospf.example.com",
        Status::Pass,
        "p=reject",
    );
    let r = run(&options("example.net")).unwrap();
    assert_verdict(
        &r,
        "bulk.dmarc",
        "example.net",
        Status::Fail,
        "no valid DMARC record",
    );
    assert!(r.failed());
}

fn preflight(args: &[&str]) -> Output {
    rebound()
        .arg("preflight")
        .args(["--dns-server", &server().addr.to_string()])
        .args(args)
        .output()
        .expect("rebound runs")
}

const GOOD: &[&str] = &[
    "--from-domain",
    "example.com",
    "--envelope-domain",
    "bounce.example.com",
    "--ip",
    "192.0.2.25",
    "--dkim-selector",
    "s2048",
    "--dnsbl-zone",
    "zen.spamhaus.org",
    "--dnsbl-zone",
    "dbl.spamhaus.org",
];

#[test]
fn cli_json_and_exit_codes() {
    let o = preflight(&[GOOD, &["--format", "json"]].concat());
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["failed"], false);
    assert_eq!(v["summary"]["fail"], 0);
    let checks = v["checks"].as_array().unwrap();
    let spf = checks.iter().find(|c| c["check"] == "spf.ip").unwrap();
    assert_eq!(spf["status"], "pass");
    assert_eq!(spf["subject"], "192.0.2.25");
    assert_eq!(spf["evidence"][0]["query"], "bounce.example.com TXT");
    assert_eq!(spf["next_step"], Value::Null);

    let o = preflight(&[
        "--from-domain",
        "example.net",
        "--ip",
        "203.0.113.9",
        "--dnsbl-zone",
        "zen.spamhaus.org",
        "--format",
        "json",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["failed"], true);
    let listed = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "dnsbl.ip")
        .unwrap();
    assert_eq!(listed["status"], "fail");
    assert_eq!(listed["reason"], "blocklisted");
    let reasons: Vec<&str> = v["advice"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["reason"].as_str().unwrap())
        .collect();
    assert!(
        reasons.contains(&"blocklisted") && reasons.contains(&"auth_failure")
    );
    let steps = v["advice"][0]["next_steps"].as_array().unwrap();
    assert!(!steps.is_empty());
}

#[test]
fn cli_table_has_one_line_per_check_with_evidence_and_advice() {
    let o = preflight(&[
        "--from-domain",
        "example.com",
        "--ip",
        "192.0.2.27",
        "--dkim-selector",
        "s1024",
        "--dnsbl-zone",
        "zen.spamhaus.org",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = String::from_utf8_lossy(&o.stdout);
    let heads: Vec<&str> = out
        .lines()
        .take_while(|l| !l.is_empty())
        .filter(|l| !l.starts_with(' '))
        .collect();
    assert!(
        heads.iter().any(|l| l.starts_with("warn")
            && l.contains("dkim.key")
            && l.contains("s1024._domainkey.example.com: RSA key, 1024 bits")),
        "{out}"
    );
    assert!(
        heads.iter().any(|l| l.starts_with("FAIL")
            && l.contains("ptr.fcrdns")
            && l.contains("192.0.2.27 has no PTR record")),
        "{out}"
    );
    assert!(
        out.contains(
            "\n              27.2.0.192.in-addr.arpa PTR = no such name \
             (NXDOMAIN)\n"
        ),
        "{out}"
    );
    assert!(out.contains("next: Ask the owner of 192.0.2.27"), "{out}");
    assert!(
        out.contains("require_ptr (as `rebound explain` advises):"),
        "{out}"
    );
    assert!(out.contains("checks: "), "{out}");
}

#[test]
fn cli_usage_errors_exit_2() {
    for (args, want) in [
        (&["--ip", "192.0.2.1"][..], "--from-domain"),
        (
            &["--from-domain", "example.com", "--ip", "192.0.2.300"][..],
            "invalid IP",
        ),
        (&["--from-domain", "localhost"][..], "--from-domain \"localhost\""),
        (
            &["--from-domain", "example.com", "--dkim-selector", "a b"][..],
            "not a selector",
        ),
        (
            &["--from-domain", "example.com", "--dnsbl-zone", "url:x.example"]
                [..],
            "zone kind",
        ),
        (&["--from-domain", "example.com", "--format", "xml"][..], "xml"),
    ] {
        let o = preflight(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

#[test]
fn cli_is_bounded_when_the_server_is_silent() {
    // A socket that never answers: every query times out and retries,
    // every check is "cannot check", and the run ends.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let start = Instant::now();
    let o = rebound()
        .args(["preflight", "--from-domain", "example.com"])
        .args(["--ip", "192.0.2.25", "--dkim-selector", "s2048"])
        .args(["--dns-server", &silent.local_addr().unwrap().to_string()])
        .args(["--dns-timeout", "1", "--format", "json"])
        .output()
        .unwrap();
    let elapsed = start.elapsed();
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(elapsed < Duration::from_secs(60), "{elapsed:?}");
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    // Only the alignment of the names themselves needs no lookup.
    for c in v["checks"].as_array().unwrap() {
        let id = c["check"].as_str().unwrap();
        if !id.starts_with("dmarc.align.") {
            assert_eq!(c["status"], "cannot_check", "{c}");
        }
    }
}
