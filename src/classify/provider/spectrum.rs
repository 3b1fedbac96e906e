//! Charter Spectrum (charter.net, Road Runner rr.com / twc.com). Texts from
//! Spectrum's "Understanding email error codes"
//! (www.spectrum.net/support/internet/understanding-email-error-codes):
//! rejections carry `AUP#` followed by a four-digit code, 1000–1099 for
//! block lists and IP reputation, 1100-range for sending rates, 1200-range
//! for content.

use super::{Provider, Rule};
use crate::model::Reason::*;

/// Spectrum.
#[rustfmt::skip]
pub static SPECTRUM: Provider = Provider {
    name: "spectrum",
    hosts: &["charter.net", "rr.com", "spectrum.net", "twc.com"],
    domains: &["brighthouse.com", "charter.net", "roadrunner.com", "rr.com", "spectrum.net", "twc.com"],
    signature: r"spectrum\.net/support|\baup#(?:i-)?1\d{3}\b",
    rules: &[
        Rule { id: "spectrum:blocklist", status: "", pattern: r"aup#(?:i-)?10\d\d\b|block ?list|blocked", reason: Blocklisted },
        Rule { id: "spectrum:rate", status: "", pattern: r"aup#(?:i-)?11\d\d\b|too many|\brate\b", reason: RateLimited },
        Rule { id: "spectrum:content", status: "", pattern: r"aup#(?:i-)?12\d\d\b|spam|content", reason: SpamContent },
        Rule { id: "spectrum:no_user", status: "", pattern: r"user unknown|no such user|recipient (?:address )?rejected", reason: UserUnknown },
    ],
};

#[cfg(test)]
mod tests {
    #[test]
    fn each_rule_matches_its_documented_text() {
        super::super::assert_documented(
            &super::SPECTRUM,
            &[
                (
                    "5.7.1",
                    "554 5.7.1 192.0.2.1 blocked. AUP#1000",
                    "spectrum:blocklist",
                ),
                (
                    "4.7.1",
                    "421 4.7.1 Too many messages from 192.0.2.1. AUP#1100",
                    "spectrum:rate",
                ),
                (
                    "5.7.1",
                    "554 5.7.1 Message rejected as spam. AUP#1200",
                    "spectrum:content",
                ),
                (
                    "5.1.1",
                    "550 5.1.1 <a@charter.net> user unknown",
                    "spectrum:no_user",
                ),
            ],
        );
    }
}
