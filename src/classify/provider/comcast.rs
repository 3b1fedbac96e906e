//! Comcast (Xfinity, comcast.net). Texts and codes from the Comcast
//! postmaster's "SMTP error codes" page
//! (postmaster.comcast.net/smtp-error-codes.php): `BLnnnnnn` block lists,
//! `RLnnnnnn` rate limits, `RPnnnnnn` reputation / reverse DNS, `CMnnnnnn`
//! content.

use super::{Provider, Rule};
use crate::model::Reason::*;

/// Comcast.
#[rustfmt::skip]
pub static COMCAST: Provider = Provider {
    name: "comcast",
    hosts: &["comcast.net"],
    domains: &["comcast.net"],
    signature: r"postmaster\.comcast\.net",
    rules: &[
        Rule { id: "comcast:not_customer", status: "", pattern: r"not our customer|no such user|user unknown", reason: UserUnknown },
        Rule { id: "comcast:mailbox_full", status: "", pattern: r"mailbox (?:is )?full|over quota", reason: MailboxFull },
        Rule { id: "comcast:ptr", status: "", pattern: r"\brp000001\b|reverse dns|\bptr\b", reason: RequirePtr },
        Rule { id: "comcast:blocklist", status: "", pattern: r"\bbl0000\d\d\b|dnsbl|found on one or more", reason: Blocklisted },
        Rule { id: "comcast:reputation", status: "", pattern: r"\brp0000\d\d\b|reputation", reason: BadReputation },
        Rule { id: "comcast:rate", status: "", pattern: r"\brl0000\d\d\b|rate limit|too many (?:messages|recipients)", reason: RateLimited },
        Rule { id: "comcast:sessions", status: "", pattern: r"too many sessions|too many connections", reason: TooManyConnections },
        Rule { id: "comcast:content", status: "", pattern: r"\bcm0000\d\d\b|spam|content", reason: SpamContent },
    ],
};

#[cfg(test)]
mod tests {
    #[test]
    fn each_rule_matches_its_documented_text() {
        super::super::assert_documented(
            &super::COMCAST,
            &[
                (
                    "5.1.1",
                    "550 5.1.1 <a@comcast.net> Not our Customer",
                    "comcast:not_customer",
                ),
                (
                    "5.2.2",
                    "552 5.2.2 <a@comcast.net> mailbox is full",
                    "comcast:mailbox_full",
                ),
                (
                    "5.0.0",
                    "550 5.0.0 192.0.2.1 has no reverse DNS. RP000001 http://postmaster.comcast.net/smtp-error-codes.php#RP000001",
                    "comcast:ptr",
                ),
                (
                    "5.0.0",
                    "554 192.0.2.1 found on one or more DNSBLs, see http://postmaster.comcast.net/smtp-error-codes.php#BL000001",
                    "comcast:blocklist",
                ),
                (
                    "4.2.0",
                    "421 4.2.0 poor reputation, see https://postmaster.comcast.net/smtp-error-codes.php#RP000101",
                    "comcast:reputation",
                ),
                (
                    "4.2.0",
                    "452 4.2.0 rate limited RL000001 see https://postmaster.comcast.net/smtp-error-codes.php#RL000001",
                    "comcast:rate",
                ),
                ("4.2.0", "421 Too many sessions opened", "comcast:sessions"),
                (
                    "5.0.0",
                    "554 5.0.0 content rejected CM000001",
                    "comcast:content",
                ),
            ],
        );
    }
}
