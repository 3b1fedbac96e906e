//! The syntax of an SPF record (RFC 7208 sections 4.5, 4.6 and 5–6):
//! `v=spf1` and terms separated by spaces; each term a mechanism with an
//! optional qualifier (`+ - ~ ?`) or a modifier (`name=value`). Any syntax
//! error anywhere makes the whole record a permerror (section 4.6), so it
//! is parsed in full before it is evaluated, and each error names the term.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::macros::MacroString;

/// What a matching mechanism yields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Qualifier {
    /// `+` (the default).
    Pass,
    /// `-`.
    Fail,
    /// `~`.
    SoftFail,
    /// `?`.
    Neutral,
}

/// A mechanism (RFC 7208 section 5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Mechanism {
    All,
    Include(MacroString),
    A { domain: Option<MacroString>, v4: u8, v6: u8 },
    Mx { domain: Option<MacroString>, v4: u8, v6: u8 },
    Ptr(Option<MacroString>),
    Ip4(Ipv4Addr, u8),
    Ip6(Ipv6Addr, u8),
    Exists(MacroString),
}

impl Mechanism {
    /// True for the mechanisms that cost a DNS lookup (section 4.6.4).
    pub(crate) fn queries_dns(&self) -> bool {
        !matches!(
            self,
            Mechanism::All | Mechanism::Ip4(..) | Mechanism::Ip6(..)
        )
    }
}

/// A mechanism with its qualifier and its text as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Directive {
    pub qualifier: Qualifier,
    pub mechanism: Mechanism,
    pub text: String,
}

/// A parsed record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub directives: Vec<Directive>,
    /// `redirect=` and its text.
    pub redirect: Option<(MacroString, String)>,
}

impl Record {
    /// True when the record has an `all` mechanism (which makes
    /// `redirect` ignored, section 6.1).
    pub(crate) fn has_all(&self) -> bool {
        self.directives.iter().any(|d| d.mechanism == Mechanism::All)
    }
}

/// True for a TXT record that is an SPF record: `v=spf1` alone or followed
/// by a space (section 4.5).
pub(crate) fn is_spf(txt: &str) -> bool {
    let t = txt.as_bytes();
    t.len() >= 6
        && t[..6].eq_ignore_ascii_case(b"v=spf1")
        && (t.len() == 6 || t[6] == b' ')
}

/// Parses an SPF record; the error names the term and what is wrong.
pub(crate) fn parse(txt: &str) -> Result<Record, String> {
    let mut directives = Vec::new();
    let mut redirect = None;
    let mut exp = false;
    for term in txt.split(' ').skip(1).filter(|t| !t.is_empty()) {
        let err = |m: String| format!("term {term:?}: {m}");
        let name_end = term.find([':', '/', '=']).unwrap_or(term.len());
        if term[name_end..].starts_with('=') {
            let (name, value) = (&term[..name_end], &term[name_end + 1..]);
            if !is_modifier_name(name) {
                return Err(err("not a modifier name".into()));
            }
            match name.to_ascii_lowercase().as_str() {
                "redirect" => {
                    if redirect.is_some() {
                        return Err(err("a second redirect=".into()));
                    }
                    let d = MacroString::parse_domain(value).map_err(err)?;
                    redirect = Some((d, term.to_string()));
                }
                "exp" => {
                    if exp {
                        return Err(err("a second exp=".into()));
                    }
                    MacroString::parse_domain(value).map_err(err)?;
                    exp = true;
                }
                // Unknown modifiers are ignored (section 6).
                _ => {}
            }
            continue;
        }
        let (qualifier, body) = match term.as_bytes()[0] {
            b'+' => (Qualifier::Pass, &term[1..]),
            b'-' => (Qualifier::Fail, &term[1..]),
            b'~' => (Qualifier::SoftFail, &term[1..]),
            b'?' => (Qualifier::Neutral, &term[1..]),
            _ => (Qualifier::Pass, term),
        };
        let mechanism = mechanism(body).map_err(err)?;
        directives.push(Directive {
            qualifier,
            mechanism,
            text: term.to_string(),
        });
    }
    Ok(Record { directives, redirect })
}

fn is_modifier_name(n: &str) -> bool {
    n.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && n.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

fn mechanism(body: &str) -> Result<Mechanism, String> {
    let name_end = body.find([':', '/']).unwrap_or(body.len());
    let (name, rest) = body.split_at(name_end);
    let arg = rest.strip_prefix(':');
    let required = |what: &str| match arg {
        Some(a) if !a.is_empty() => Ok(a),
        _ => Err(format!("{name} needs {what}")),
    };
    match name.to_ascii_lowercase().as_str() {
        "all" if rest.is_empty() => Ok(Mechanism::All),
        "all" => Err("all takes no argument".into()),
        "include" => Ok(Mechanism::Include(MacroString::parse_domain(
            required("a domain")?,
        )?)),
        "exists" => Ok(Mechanism::Exists(MacroString::parse_domain(
            required("a domain")?,
        )?)),
        "ptr" => Ok(Mechanism::Ptr(match arg {
            Some(a) => Some(MacroString::parse_domain(a)?),
            None if rest.is_empty() => None,
            None => return Err("ptr takes no prefix length".into()),
        })),
        "a" | "mx" => {
            let (domain, v4, v6) = dual_cidr(name, rest)?;
            Ok(if name.eq_ignore_ascii_case("a") {
                Mechanism::A { domain, v4, v6 }
            } else {
                Mechanism::Mx { domain, v4, v6 }
            })
        }
        "ip4" => {
            let a = required("an IPv4 network")?;
            let (ip, len) = split_prefix(a, 32)?;
            let ip: Ipv4Addr = ip
                .parse()
                .map_err(|_| format!("{ip:?} is not an IPv4 address"))?;
            Ok(Mechanism::Ip4(ip, len))
        }
        "ip6" => {
            let a = required("an IPv6 network")?;
            let (ip, len) = split_prefix(a, 128)?;
            let ip: Ipv6Addr = ip
                .parse()
                .map_err(|_| format!("{ip:?} is not an IPv6 address"))?;
            Ok(Mechanism::Ip6(ip, len))
        }
        _ => Err(format!("unknown mechanism {name:?}")),
    }
}

/// A prefix length: decimal without a leading zero, at most `max`.
fn prefix_len(s: &str, max: u8) -> Result<u8, String> {
    let bad = || format!("/{s} is not a prefix length of 0 to {max}");
    if s.is_empty() || (s.len() > 1 && s.starts_with('0')) {
        return Err(bad());
    }
    match s.parse::<u8>() {
        Ok(n) if n <= max => Ok(n),
        _ => Err(bad()),
    }
}

fn split_prefix(a: &str, max: u8) -> Result<(&str, u8), String> {
    match a.split_once('/') {
        Some((ip, len)) => Ok((ip, prefix_len(len, max)?)),
        None => Ok((a, max)),
    }
}

/// `a` and `mx` arguments: `[:domain][/v4][//v6]`.
fn dual_cidr(
    name: &str,
    rest: &str,
) -> Result<(Option<MacroString>, u8, u8), String> {
    let mut rest = rest;
    let mut v6 = 128;
    let mut v4 = 32;
    if let Some(i) = rest.rfind("//") {
        let len = &rest[i + 2..];
        if len.chars().all(|c| c.is_ascii_digit()) {
            v6 = prefix_len(len, 128)?;
            rest = &rest[..i];
        }
    }
    if let Some(i) = rest.rfind('/') {
        let len = &rest[i + 1..];
        if len.chars().all(|c| c.is_ascii_digit()) {
            v4 = prefix_len(len, 32)?;
            rest = &rest[..i];
        }
    }
    let domain = match rest.strip_prefix(':') {
        Some(d) => Some(MacroString::parse_domain(d)?),
        None if rest.is_empty() => None,
        None => return Err(format!("{name}{rest}: unexpected {rest:?}")),
    };
    Ok((domain, v4, v6))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spf_records_are_recognised_by_their_version() {
        assert!(is_spf("v=spf1 -all"));
        assert!(is_spf("V=SPF1"));
        assert!(!is_spf("v=spf10 -all"));
        assert!(!is_spf("v=DKIM1; p="));
        assert!(!is_spf("spf2.0/pra -all"));
    }

    #[test]
    fn terms_parse_with_qualifiers_and_prefixes() {
        let r = parse(
            "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 a a:%{d}/28 \
             mx/24//64 ~include:_spf.example.net exists:%{i}.x.example \
             ?ptr -all redirect=_spf.example.org unknown=x",
        )
        .unwrap();
        let m: Vec<&Mechanism> =
            r.directives.iter().map(|d| &d.mechanism).collect();
        assert_eq!(m[0], &Mechanism::Ip4("192.0.2.0".parse().unwrap(), 24));
        assert_eq!(m[1], &Mechanism::Ip6("2001:db8::".parse().unwrap(), 32));
        assert_eq!(m[2], &Mechanism::A { domain: None, v4: 32, v6: 128 });
        assert!(matches!(
            m[3],
            Mechanism::A { domain: Some(_), v4: 28, v6: 128 }
        ));
        assert!(matches!(
            m[4],
            Mechanism::Mx { domain: None, v4: 24, v6: 64 }
        ));
        assert_eq!(r.directives[5].qualifier, Qualifier::SoftFail);
        assert_eq!(r.directives[7].qualifier, Qualifier::Neutral);
        assert_eq!(r.directives[8].qualifier, Qualifier::Fail);
        assert!(r.has_all());
        assert_eq!(
            r.redirect.as_ref().unwrap().1,
            "redirect=_spf.example.org"
        );
    }

    #[test]
    fn syntax_errors_name_the_term() {
        for (rec, term) in [
            ("v=spf1 ip4:192.0.2.0/33 -all", "ip4:192.0.2.0/33"),
            ("v=spf1 ip4:192.0.2 -all", "ip4:192.0.2"),
            ("v=spf1 include -all", "include"),
            ("v=spf1 a:192.0.2.1 -all", "a:192.0.2.1"),
            ("v=spf1 foo:bar -all", "foo:bar"),
            (
                "v=spf1 redirect=a.example redirect=b.example",
                "redirect=b.example",
            ),
            ("v=spf1 exists:%{c}.example -all", "exists:%{c}.example"),
            ("v=spf1 all/24", "all/24"),
            ("v=spf1 ip4:192.0.2.0/024", "ip4:192.0.2.0/024"),
        ] {
            let e = parse(rec).unwrap_err();
            assert!(e.contains(&format!("{term:?}")), "{rec}: {e}");
        }
    }
}
