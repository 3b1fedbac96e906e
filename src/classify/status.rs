//! Enhanced status codes (RFC 3463 and the IANA registry of RFC 5248) to
//! reasons: exact codes first, then the class.subject fallback.
//!
//! A permanent X.2.1 ("mailbox disabled, not accepting messages") counts as
//! a recipient that refuses all mail, which `docs/policy.md` suppresses
//! ("Classification table", "Suppression and retry"); texts that say the
//! account is only suspended or disabled for now decide before the bare
//! code does (`text:suspended`).

use crate::model::Reason;
use Reason::*;

/// Exact codes (the class digit is matched separately), sorted.
#[rustfmt::skip]
pub const EXACT: &[(&str, Reason)] = &[
    ("1.0", UserUnknown),
    ("1.1", UserUnknown),
    ("1.10", NotAccept),
    ("1.2", HostUnknown),
    ("1.3", UserUnknown),
    ("1.4", UserUnknown),
    ("1.5", UserUnknown),
    ("1.6", HasMoved),
    ("1.7", SenderRejected),
    ("1.8", SenderRejected),
    ("2.0", Filtered),
    ("2.1", UserUnknown),
    ("2.2", MailboxFull),
    ("2.3", ExceedLimit),
    ("2.4", SystemError),
    ("3.0", SystemError),
    ("3.1", SystemFull),
    ("3.2", NotAccept),
    ("3.3", SystemError),
    ("3.4", MessageTooBig),
    ("3.5", SystemError),
    ("4.0", NetworkError),
    ("4.1", NetworkError),
    ("4.2", NetworkError),
    ("4.3", SystemError),
    ("4.4", HostUnknown),
    ("4.5", NetworkError),
    ("4.6", NetworkError),
    ("4.7", Expired),
    ("5.0", SyntaxError),
    ("5.1", SyntaxError),
    ("5.2", SyntaxError),
    ("5.3", ExceedLimit),
    ("5.4", SyntaxError),
    ("5.5", SyntaxError),
    ("5.6", SyntaxError),
    ("6.0", ContentError),
    ("6.1", ContentError),
    ("6.2", ContentError),
    ("6.3", ContentError),
    ("6.4", ContentError),
    ("6.5", ContentError),
    ("6.6", ContentError),
    ("6.7", ContentError),
    ("6.8", ContentError),
    ("6.9", ContentError),
    ("7.0", Policy),
    ("7.1", Policy),
    ("7.10", SecurityError),
    ("7.11", FailedStarttls),
    ("7.12", SecurityError),
    ("7.13", Suspended),
    ("7.14", SecurityError),
    ("7.15", Policy),
    ("7.16", MessageTooBig),
    ("7.17", HasMoved),
    ("7.18", HasMoved),
    ("7.19", HasMoved),
    ("7.2", Policy),
    ("7.20", AuthFailure),
    ("7.21", AuthFailure),
    ("7.22", AuthFailure),
    ("7.23", AuthFailure),
    ("7.24", AuthFailure),
    ("7.25", RequirePtr),
    ("7.26", AuthFailure),
    ("7.27", SenderRejected),
    ("7.28", RateLimited),
    ("7.29", AuthFailure),
    ("7.3", SecurityError),
    ("7.30", FailedStarttls),
    ("7.4", SecurityError),
    ("7.5", SecurityError),
    ("7.6", SecurityError),
    ("7.7", SecurityError),
    ("7.8", SecurityError),
    ("7.9", SecurityError),
];

/// Transient codes whose meaning differs from the permanent one.
#[rustfmt::skip]
pub const TRANSIENT: &[(&str, Reason)] = &[
    ("1.10", NetworkError),
    ("2.1", RateLimited),
    ("3.2", NetworkError),
    ("4.4", NetworkError),
    ("7.0", Transient),
    ("7.1", Policy),
    ("7.28", RateLimited),
];

/// The reason an enhanced status code implies, with the rule id.
pub fn lookup(status: &str) -> Option<(Reason, String)> {
    let (class, rest) = status.split_once('.')?;
    if class == "2" {
        return Some((Delivered, format!("status:{status}")));
    }
    if class == "4"
        && let Ok(i) = TRANSIENT.binary_search_by(|(k, _)| k.cmp(&rest))
    {
        return Some((TRANSIENT[i].1, format!("status:{status}")));
    }
    if let Ok(i) = EXACT.binary_search_by(|(k, _)| k.cmp(&rest)) {
        let r = EXACT[i].1;
        // A transient code never means the address is gone for good.
        let r = if class == "4"
            && r.meaning().category == crate::model::Category::Hard
            && r.meaning().action == crate::model::Action::Suppress
        {
            Transient
        } else {
            r
        };
        return Some((r, format!("status:{status}")));
    }
    let subject = rest.split('.').next()?;
    let r = match (class, subject) {
        ("5", "1") => UserUnknown,
        ("5", "2") => Filtered,
        ("5" | "4", "3") => SystemError,
        ("5" | "4", "4") => NetworkError,
        ("5" | "4", "5") => SyntaxError,
        ("5" | "4", "6") => ContentError,
        ("5", "7") => Policy,
        ("4", _) => Transient,
        _ => return None,
    };
    Some((r, format!("status:{class}.{subject}.x")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_and_unique() {
        for t in [EXACT, TRANSIENT] {
            assert!(t.windows(2).all(|w| w[0].0 < w[1].0), "unsorted table");
        }
    }

    #[test]
    fn lookups() {
        assert_eq!(lookup("5.1.1").unwrap().0, UserUnknown);
        assert_eq!(lookup("4.2.2").unwrap().0, MailboxFull);
        assert_eq!(lookup("4.1.1").unwrap().0, Transient);
        assert_eq!(lookup("5.7.26").unwrap().0, AuthFailure);
        assert_eq!(lookup("5.7.99").unwrap(), (Policy, "status:5.7.x".into()));
        assert_eq!(lookup("2.0.0").unwrap().0, Delivered);
        assert_eq!(lookup("5.0.0"), None);
    }
}
