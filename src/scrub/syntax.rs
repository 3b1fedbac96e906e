//! Address syntax (RFC 5321 section 4.1.2 and 4.5.3.1, RFC 5322 section
//! 3.4.1): a local part that is a dot-atom or a quoted string, at most 64
//! octets; a domain of LDH labels of 1 to 63 octets (internationalised
//! domains are converted with IDNA/UTS 46 first), at most 255 octets; or an
//! address literal; the whole address at most 254 octets (the 256-octet
//! path less its angle brackets).

use std::net::{Ipv4Addr, Ipv6Addr};

use thiserror::Error;

/// Why an address is not valid.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SyntaxError {
    /// Empty field.
    #[error("empty address")]
    Empty,
    /// No `@`.
    #[error("no @")]
    NoAt,
    /// Longer than 254 octets.
    #[error("address longer than 254 octets")]
    TooLong,
    /// Local part empty or longer than 64 octets.
    #[error("local part empty or longer than 64 octets")]
    LocalLength,
    /// Local part neither a dot-atom nor a quoted string.
    #[error("local part is neither a dot-atom nor a quoted string")]
    LocalPart,
    /// The domain could not be converted with IDNA.
    #[error("domain is not a valid internationalised name")]
    Idna,
    /// Domain longer than 255 octets or a label outside 1..=63 octets.
    #[error("domain or one of its labels is too long or empty")]
    DomainLength,
    /// A label with characters other than letters, digits and hyphens, or
    /// with a hyphen at either end.
    #[error("domain label {0:?} is not letters, digits and inner hyphens")]
    Label(String),
    /// A single-label domain or an all-numeric top-level label.
    #[error("domain has no valid top-level label")]
    TopLevel,
    /// A bracketed literal that is no IPv4 or IPv6 address.
    #[error("invalid address literal")]
    Literal,
}

/// A syntactically valid address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    /// The local part as written.
    pub local: String,
    /// The domain in ASCII (A-labels), lower-case; an address literal
    /// keeps its brackets.
    pub domain: String,
}

impl Address {
    /// True when the domain is an address literal (`[192.0.2.1]`).
    pub fn is_literal(&self) -> bool {
        self.domain.starts_with('[')
    }

    /// The comparison key: local part and domain lower-cased.
    pub fn key(&self) -> String {
        format!("{}@{}", self.local.to_lowercase(), self.domain)
    }
}

/// RFC 5322 `atext`; non-ASCII is allowed as in RFC 6531 (SMTPUTF8).
fn atext(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || "!#$%&'*+-/=?^_`{|}~".contains(c)
        || !c.is_ascii()
}

fn dot_atom(s: &str) -> bool {
    s.split('.').all(|a| !a.is_empty() && a.chars().all(atext))
}

fn quoted_string(s: &str) -> bool {
    let Some(inner) = s.strip_prefix('"').and_then(|s| s.strip_suffix('"'))
    else {
        return false;
    };
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(' '..='~') => {}
                _ => return false,
            },
            '"' => return false,
            ' '..='~' => {}
            c if !c.is_ascii() => {}
            _ => return false,
        }
    }
    true
}

fn literal(d: &str) -> Result<String, SyntaxError> {
    let inner = &d[1..d.len() - 1];
    let ok = match inner.get(..5) {
        Some(p) if p.eq_ignore_ascii_case("ipv6:") => {
            inner[5..].parse::<Ipv6Addr>().is_ok()
        }
        _ => inner.parse::<Ipv4Addr>().is_ok(),
    };
    if ok { Ok(d.to_ascii_lowercase()) } else { Err(SyntaxError::Literal) }
}

/// Converts a domain to lower-case ASCII (IDNA) and checks its labels.
pub fn domain(d: &str) -> Result<String, SyntaxError> {
    if d.len() > 2 && d.starts_with('[') && d.ends_with(']') {
        return literal(d);
    }
    let ascii = idna::domain_to_ascii(d).map_err(|_| SyntaxError::Idna)?;
    if ascii.is_empty() || ascii.len() > 255 {
        return Err(SyntaxError::DomainLength);
    }
    let labels: Vec<&str> = ascii.split('.').collect();
    for l in &labels {
        if l.is_empty() || l.len() > 63 {
            return Err(SyntaxError::DomainLength);
        }
        let ldh = l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !ldh || l.starts_with('-') || l.ends_with('-') {
            return Err(SyntaxError::Label(l.to_string()));
        }
    }
    match labels.last() {
        Some(tld)
            if labels.len() > 1
                && !tld.bytes().all(|b| b.is_ascii_digit()) =>
        {
            Ok(ascii)
        }
        _ => Err(SyntaxError::TopLevel),
    }
}

/// Checks `address` (surrounding blanks and angle brackets are ignored).
pub fn check(address: &str) -> Result<Address, SyntaxError> {
    let a = address.trim();
    let a = a.strip_prefix('<').and_then(|s| s.strip_suffix('>')).unwrap_or(a);
    if a.is_empty() {
        return Err(SyntaxError::Empty);
    }
    let (local, dom) = a.rsplit_once('@').ok_or(SyntaxError::NoAt)?;
    if local.is_empty() || local.len() > 64 {
        return Err(SyntaxError::LocalLength);
    }
    if !dot_atom(local) && !quoted_string(local) {
        return Err(SyntaxError::LocalPart);
    }
    let domain = domain(dom)?;
    if local.len() + 1 + domain.len() > 254 {
        return Err(SyntaxError::TooLong);
    }
    Ok(Address { local: local.to_string(), domain })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_addresses() {
        for a in [
            "user@example.com",
            "first.last+tag@sub.example.co.uk",
            "\"john doe\"@example.org",
            "\"a\\\"b\"@example.org",
            "o'brien@example.net",
            "user@[192.0.2.1]",
            "user@[IPv6:2001:db8::1]",
            "<User@Example.COM>",
        ] {
            assert!(check(a).is_ok(), "{a}");
        }
        let a = check("jörg@bücher.example").unwrap();
        assert_eq!(a.domain, "xn--bcher-kva.example");
        assert_eq!(check("A@Example.COM").unwrap().key(), "a@example.com");
    }

    #[test]
    fn invalid_addresses() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        let long_label = format!("a@{}.com", "b".repeat(64));
        let long_addr = format!("{}@{}com", "a".repeat(64), "b.".repeat(95));
        let cases: &[(&str, SyntaxError)] = &[
            ("", SyntaxError::Empty),
            ("user.example.com", SyntaxError::NoAt),
            ("@example.com", SyntaxError::LocalLength),
            (&long_local, SyntaxError::LocalLength),
            (".user@example.com", SyntaxError::LocalPart),
            ("us..er@example.com", SyntaxError::LocalPart),
            ("us er@example.com", SyntaxError::LocalPart),
            ("a\"b@example.com", SyntaxError::LocalPart),
            ("user@example..com", SyntaxError::DomainLength),
            (&long_label, SyntaxError::DomainLength),
            ("user@-example.com", SyntaxError::Label("-example".into())),
            ("user@exa_mple.com", SyntaxError::Label("exa_mple".into())),
            ("user@localhost", SyntaxError::TopLevel),
            ("user@example.123", SyntaxError::TopLevel),
            ("user@[300.1.1.1]", SyntaxError::Literal),
            (&long_addr, SyntaxError::TooLong),
        ];
        for (a, e) in cases {
            assert_eq!(check(a).as_ref(), Err(e), "{a}");
        }
    }
}
