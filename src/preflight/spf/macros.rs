//! SPF macro strings (RFC 7208 section 7): the `%{...}` patterns a record
//! may use where it names a domain (`exists:%{ir}.%{v}._spf.%{d}`), parsed
//! once with the record, so a malformed macro is a syntax error of the
//! whole record (section 4.6), and expanded per evaluation.
//!
//! Supported letters: `s l o d i p h v` (`c r t` belong to explanation
//! texts only and are a permerror here), with the digit and `r`
//! transformers, the delimiters `.-+,/_=`, upper-case letters URL-escaped
//! (section 7.3), and `%%`, `%_`, `%-`.

use std::net::IpAddr;

use crate::dns::nibbles;

/// A parsed macro string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MacroString {
    pieces: Vec<Piece>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Literal(String),
    Macro(Macro),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Macro {
    /// Lower-case letter.
    letter: char,
    /// Upper-case in the record: URL-escape the expansion.
    escape: bool,
    /// Keep this many right-hand parts.
    keep: Option<usize>,
    reverse: bool,
    delimiters: Vec<char>,
}

/// What the macros expand to during one evaluation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Context<'a> {
    /// The local part of the sender (`postmaster` when there is none).
    pub local: &'a str,
    /// The domain of the sender.
    pub sender_domain: &'a str,
    /// The domain whose record is being evaluated.
    pub domain: &'a str,
    /// The client's address.
    pub ip: IpAddr,
    /// The HELO/EHLO name.
    pub helo: &'a str,
    /// The validated name of the client's address (`%{p}`), else
    /// "unknown".
    pub validated: &'a str,
}

const DELIMITERS: &str = ".-+,/_=";

impl MacroString {
    /// Parses a macro string, or says what is wrong.
    pub(crate) fn parse(s: &str) -> Result<MacroString, String> {
        let mut pieces = Vec::new();
        let mut lit = String::new();
        let mut chars = s.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '%' {
                if !('!'..='~').contains(&c) {
                    return Err(format!("character {c:?} is not allowed"));
                }
                lit.push(c);
                continue;
            }
            match chars.next() {
                Some('%') => lit.push('%'),
                Some('_') => lit.push(' '),
                Some('-') => lit.push_str("%20"),
                Some('{') => {
                    let mut body = String::new();
                    loop {
                        match chars.next() {
                            Some('}') => break,
                            Some(c) => body.push(c),
                            None => {
                                return Err(format!(
                                    "%{{{body} is not closed"
                                ));
                            }
                        }
                    }
                    if !lit.is_empty() {
                        pieces.push(Piece::Literal(std::mem::take(&mut lit)));
                    }
                    pieces.push(Piece::Macro(parse_macro(&body)?));
                }
                other => {
                    let after = other.map(String::from).unwrap_or_default();
                    return Err(format!(
                        "%{after} is not a macro (use %% for a percent sign)"
                    ));
                }
            }
        }
        if !lit.is_empty() {
            pieces.push(Piece::Literal(lit));
        }
        Ok(MacroString { pieces })
    }

    /// Parses a domain-spec: a macro string ending in a macro or in a
    /// top-level label (`.com`), RFC 7208 section 7.1.
    pub(crate) fn parse_domain(s: &str) -> Result<MacroString, String> {
        let m = MacroString::parse(s)?;
        match m.pieces.last() {
            Some(Piece::Macro(_)) => Ok(m),
            Some(Piece::Literal(l)) => {
                let l = l.strip_suffix('.').unwrap_or(l);
                match l.rsplit_once('.') {
                    Some((_, top)) if is_toplabel(top) => Ok(m),
                    _ => Err(format!(
                        "{s:?} is not a domain name (it must end in a \
                         top-level label such as .com, or in a macro)"
                    )),
                }
            }
            None => Err("empty domain".into()),
        }
    }

    /// True when the string uses macro `letter` (lower-case).
    pub(crate) fn uses(&self, letter: char) -> bool {
        self.pieces
            .iter()
            .any(|p| matches!(p, Piece::Macro(m) if m.letter == letter))
    }

    /// The expansion, as a domain name for a query: longer than 253
    /// characters loses labels on the left until it fits (section 7.3).
    pub(crate) fn expand_domain(&self, cx: &Context) -> String {
        let mut out = self.expand(cx);
        while out.trim_end_matches('.').len() > 253 {
            match out.split_once('.') {
                Some((_, rest)) => out = rest.to_string(),
                None => break,
            }
        }
        out.trim_end_matches('.').to_string()
    }

    /// The expansion.
    pub(crate) fn expand(&self, cx: &Context) -> String {
        let mut out = String::new();
        for p in &self.pieces {
            match p {
                Piece::Literal(l) => out.push_str(l),
                Piece::Macro(m) => out.push_str(&m.expand(cx)),
            }
        }
        out
    }
}

fn parse_macro(body: &str) -> Result<Macro, String> {
    let mut chars = body.chars();
    let Some(l) = chars.next() else {
        return Err("%{} names no macro".into());
    };
    let letter = l.to_ascii_lowercase();
    match letter {
        's' | 'l' | 'o' | 'd' | 'i' | 'p' | 'h' | 'v' => {}
        'c' | 'r' | 't' => {
            return Err(format!(
                "macro %{{{l}}} is only allowed in explanation texts"
            ));
        }
        _ => return Err(format!("%{{{l}}} is not an SPF macro")),
    }
    let rest: &str = chars.as_str();
    let digits: String =
        rest.chars().take_while(char::is_ascii_digit).collect();
    let mut rest = &rest[digits.len()..];
    let keep = match digits.as_str() {
        "" => None,
        d => match d.parse::<usize>() {
            Ok(0) | Err(_) => {
                return Err(format!(
                    "%{{{body}}}: the number of parts must be 1 or more"
                ));
            }
            Ok(n) => Some(n),
        },
    };
    let reverse = match rest.strip_prefix(['r', 'R']) {
        Some(r) => {
            rest = r;
            true
        }
        None => false,
    };
    if let Some(bad) = rest.chars().find(|c| !DELIMITERS.contains(*c)) {
        return Err(format!("%{{{body}}}: {bad:?} is not a delimiter"));
    }
    Ok(Macro {
        letter,
        escape: l.is_ascii_uppercase(),
        keep,
        reverse,
        delimiters: rest.chars().collect(),
    })
}

fn is_toplabel(t: &str) -> bool {
    !t.is_empty()
        && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !t.starts_with('-')
        && !t.ends_with('-')
        && !t.chars().all(|c| c.is_ascii_digit())
}

impl Macro {
    fn expand(&self, cx: &Context) -> String {
        let value = match self.letter {
            's' => format!("{}@{}", cx.local, cx.sender_domain),
            'l' => cx.local.to_string(),
            'o' => cx.sender_domain.to_string(),
            'd' => cx.domain.to_string(),
            'i' => match cx.ip {
                IpAddr::V4(v4) => v4.to_string(),
                IpAddr::V6(v6) => nibbles(v6).join("."),
            },
            'p' => cx.validated.to_string(),
            'h' => cx.helo.to_string(),
            _ => match cx.ip {
                IpAddr::V4(_) => "in-addr".into(),
                IpAddr::V6(_) => "ip6".into(),
            },
        };
        let value = if self.keep.is_some()
            || self.reverse
            || !self.delimiters.is_empty()
        {
            let delims: &[char] = if self.delimiters.is_empty() {
                &['.']
            } else {
                &self.delimiters
            };
            let mut parts: Vec<&str> = value.split(delims).collect();
            if self.reverse {
                parts.reverse();
            }
            if let Some(n) = self.keep
                && n < parts.len()
            {
                parts.drain(..parts.len() - n);
            }
            parts.join(".")
        } else {
            value
        };
        if self.escape { url_escape(&value) } else { value }
    }
}

/// Percent-encodes everything outside RFC 3986's unreserved set.
fn url_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cx(ip: &str) -> Context<'static> {
        Context {
            local: "strong-bad",
            sender_domain: "email.example.com",
            domain: "email.example.com",
            ip: ip.parse().unwrap(),
            helo: "mx.example.org",
            validated: "unknown",
        }
    }

    fn expand(s: &str, ip: &str) -> String {
        MacroString::parse(s).unwrap().expand(&cx(ip))
    }

    /// The examples of RFC 7208 section 7.4.
    #[test]
    fn rfc_7208_examples() {
        let v4 = "192.0.2.3";
        assert_eq!(expand("%{s}", v4), "strong-bad@email.example.com");
        assert_eq!(expand("%{o}", v4), "email.example.com");
        assert_eq!(expand("%{d}", v4), "email.example.com");
        assert_eq!(expand("%{d4}", v4), "email.example.com");
        assert_eq!(expand("%{d3}", v4), "email.example.com");
        assert_eq!(expand("%{d2}", v4), "example.com");
        assert_eq!(expand("%{d1}", v4), "com");
        assert_eq!(expand("%{dr}", v4), "com.example.email");
        assert_eq!(expand("%{d2r}", v4), "example.email");
        assert_eq!(expand("%{l}", v4), "strong-bad");
        assert_eq!(expand("%{l-}", v4), "strong.bad");
        assert_eq!(expand("%{lr}", v4), "strong-bad");
        assert_eq!(expand("%{lr-}", v4), "bad.strong");
        assert_eq!(expand("%{l1r-}", v4), "strong");
        assert_eq!(
            expand("%{ir}.%{v}._spf.%{d2}", v4),
            "3.2.0.192.in-addr._spf.example.com"
        );
        assert_eq!(
            expand("%{lr-}.lp._spf.%{d2}", v4),
            "bad.strong.lp._spf.example.com"
        );
        assert_eq!(
            expand("%{ir}.%{v}.%{l1r-}.lp._spf.%{d2}", v4),
            "3.2.0.192.in-addr.strong.lp._spf.example.com"
        );
        assert_eq!(
            expand("%{d2}.trusted-domains.example.net", v4),
            "example.com.trusted-domains.example.net"
        );
        assert_eq!(
            expand("%{ir}.%{v}._spf.%{d2}", "2001:db8::cb01"),
            "1.0.b.c.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.\
             2.ip6._spf.example.com"
        );
    }

    #[test]
    fn upper_case_escapes_and_specials() {
        assert_eq!(
            expand("%{S}", "192.0.2.3"),
            "strong-bad%40email.example.com"
        );
        assert_eq!(expand("a%%b%_c%-d", "192.0.2.3"), "a%b c%20d");
        assert_eq!(expand("%{h}", "192.0.2.3"), "mx.example.org");
    }

    #[test]
    fn malformed_macros_are_errors() {
        for bad in ["%{c}", "%{x}", "%{d0}", "%{d", "%a", "%{ir!}", "a b"] {
            assert!(MacroString::parse(bad).is_err(), "{bad}");
        }
        for bad in ["localhost", "192.0.2.1", "example.-com", ""] {
            assert!(MacroString::parse_domain(bad).is_err(), "{bad}");
        }
        for good in ["example.com", "example.com.", "%{d}", "_spf.%{d2}"] {
            assert!(MacroString::parse_domain(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn long_expansions_lose_labels_on_the_left() {
        let m = MacroString::parse("%{l}.%{l}.%{d}").unwrap();
        let long = "x".repeat(60);
        let c = Context { local: &long, ..cx("192.0.2.3") };
        let mut m2 = m.clone();
        for _ in 0..3 {
            m2.pieces.insert(0, Piece::Literal(format!("{long}.")));
        }
        let d = m2.expand_domain(&c);
        assert!(d.len() <= 253, "{}", d.len());
        assert!(d.ends_with("email.example.com"));
        assert!(!m.uses('i') && m.uses('l'));
    }
}
