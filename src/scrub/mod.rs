//! The pre-send list check behind `rebound scrub`: one verdict per address
//! (the first that applies wins): invalid syntax ([`syntax`]), duplicate of
//! an earlier row, suppressed in the ledger, role account, typo'd mailbox
//! domain ([`typo`]), domain that takes no mail ([`mx`], optional).
//!
//! The [`Scrubber`] keeps one 16-byte digest per distinct address for the
//! duplicate check and one entry per domain in the MX cache; everything
//! else is per row.

pub mod mx;
pub mod syntax;
pub mod typo;

use std::collections::HashSet;

use sha2::{Digest, Sha256};

use crate::ledger::{Ledger, LedgerError, normalise_address};
use mx::MxChecker;
use syntax::Address;

/// Local parts that name a function rather than a person (RFC 2142 and
/// common practice); mail to them reaches a group or nobody.
#[rustfmt::skip]
pub const ROLE_ACCOUNTS: &[&str] = &[
    "abuse", "admin", "administrator", "billing", "contact", "help",
    "hostmaster", "info", "marketing", "no-reply", "noc", "noreply",
    "office", "postmaster", "root", "sales", "security", "support",
    "webmaster",
];

/// Why a row was rejected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reject {
    /// Not a valid address; the syntax error.
    InvalidSyntax(syntax::SyntaxError),
    /// The same address appeared earlier.
    Duplicate,
    /// Suppressed in the ledger; the suppression reason.
    Suppressed(String),
    /// A role account (the local part).
    RoleAccount(String),
    /// A typo'd mailbox domain; the suggested address.
    TypoDomain(String),
    /// The domain takes no mail; why.
    NoMailDomain(String),
}

impl Reject {
    /// The reason's wire name.
    pub fn name(&self) -> &'static str {
        match self {
            Reject::InvalidSyntax(_) => "invalid_syntax",
            Reject::Duplicate => "duplicate",
            Reject::Suppressed(_) => "suppressed",
            Reject::RoleAccount(_) => "role_account",
            Reject::TypoDomain(_) => "typo_domain",
            Reject::NoMailDomain(_) => "no_mail_domain",
        }
    }

    /// The detail shown beside the reason.
    pub fn detail(&self) -> String {
        match self {
            Reject::InvalidSyntax(e) => e.to_string(),
            Reject::Duplicate => "already listed above".into(),
            Reject::Suppressed(r) => r.clone(),
            Reject::RoleAccount(l) => format!("role account {l}@"),
            Reject::TypoDomain(s) => format!("did you mean {s}?"),
            Reject::NoMailDomain(d) => d.clone(),
        }
    }
}

/// Checks addresses one by one.
pub struct Scrubber<'a> {
    roles: HashSet<String>,
    seen: HashSet<[u8; 16]>,
    ledger: Option<&'a Ledger>,
    mx: Option<&'a mut MxChecker>,
}

impl<'a> Scrubber<'a> {
    /// A scrubber with the given role accounts (lower-case local parts),
    /// an optional ledger for the suppression check and an optional MX
    /// checker.
    pub fn new(
        roles: impl IntoIterator<Item = String>,
        ledger: Option<&'a Ledger>,
        mx: Option<&'a mut MxChecker>,
    ) -> Scrubber<'a> {
        let roles = roles.into_iter().map(|r| r.to_lowercase()).collect();
        Scrubber { roles, seen: HashSet::new(), ledger, mx }
    }

    /// The verdict for one address: `None` when it may be mailed.
    pub fn check(&mut self, raw: &str) -> Result<Option<Reject>, LedgerError> {
        let a = match syntax::check(raw) {
            Ok(a) => a,
            Err(e) => return Ok(Some(Reject::InvalidSyntax(e))),
        };
        let key = a.key();
        let digest = Sha256::digest(key.as_bytes());
        let mut d = [0u8; 16];
        d.copy_from_slice(&digest[..16]);
        if !self.seen.insert(d) {
            return Ok(Some(Reject::Duplicate));
        }
        if let Some(r) = self.suppression(raw, &a)? {
            return Ok(Some(Reject::Suppressed(r)));
        }
        let local = a.local.to_lowercase();
        if self.roles.contains(&local) {
            return Ok(Some(Reject::RoleAccount(local)));
        }
        if let Some(s) = typo::suggest(&a.domain) {
            return Ok(Some(Reject::TypoDomain(format!("{}@{s}", a.local))));
        }
        if let Some(mx) = self.mx.as_deref_mut().filter(|_| !a.is_literal()) {
            let v = mx.check(&a.domain);
            if v.rejects() {
                return Ok(Some(Reject::NoMailDomain(v.describe())));
            }
        }
        Ok(None)
    }

    fn suppression(
        &self,
        raw: &str,
        a: &Address,
    ) -> Result<Option<String>, LedgerError> {
        let Some(ledger) = self.ledger else { return Ok(None) };
        // The ledger keys addresses as written, lower-cased; an IDN may
        // be recorded in either form.
        let written = normalise_address(raw);
        let key = a.key();
        let mut candidates = vec![written.as_str()];
        if key != written {
            candidates.push(&key);
        }
        for c in candidates {
            let v = ledger.verdict(c)?;
            if !v.mailable {
                let reason = v.reason.unwrap_or_else(|| "suppressed".into());
                return Ok(Some(match v.domain {
                    Some(d) => format!("{reason} (domain {d})"),
                    None => reason,
                }));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdicts(addrs: &[&str]) -> Vec<Option<&'static str>> {
        let roles = ROLE_ACCOUNTS.iter().map(|s| s.to_string());
        let mut s = Scrubber::new(roles, None, None);
        addrs.iter().map(|a| s.check(a).unwrap().map(|r| r.name())).collect()
    }

    #[test]
    fn first_applicable_verdict_wins() {
        let v = verdicts(&[
            "ann@example.com",
            "Ann@EXAMPLE.com",
            "not an address",
            "info@example.com",
            "bob@gmai.com",
            "Info@Example.org",
            "carol@xn--bcher-kva.example",
            "carol@bücher.example",
        ]);
        assert_eq!(
            v,
            [
                None,
                Some("duplicate"),
                Some("invalid_syntax"),
                Some("role_account"),
                Some("typo_domain"),
                Some("role_account"),
                None,
                Some("duplicate"),
            ]
        );
    }

    #[test]
    fn typo_detail_suggests_the_address() {
        let mut s = Scrubber::new(Vec::new(), None, None);
        let r = s.check("bob@hotmial.com").unwrap().unwrap();
        assert_eq!(r.detail(), "did you mean bob@hotmail.com?");
    }

    #[test]
    fn role_table_is_sorted_and_lower_case() {
        let mut t = ROLE_ACCOUNTS.to_vec();
        t.sort();
        t.dedup();
        assert_eq!(t, ROLE_ACCOUNTS);
        assert!(t.iter().all(|r| *r == r.to_lowercase()));
    }
}
