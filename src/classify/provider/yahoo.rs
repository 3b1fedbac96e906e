//! Yahoo and AOL (Yahoo Inc.). Texts from Yahoo's Sender Hub "SMTP error
//! codes" (senders.yahooinc.com/smtp-error-codes).

use super::{Provider, Rule};
use crate::model::Reason::*;

/// Yahoo / AOL.
#[rustfmt::skip]
pub static YAHOO: Provider = Provider {
    name: "yahoo",
    hosts: &["aol.com", "yahoo.com", "yahoodns.net"],
    domains: &["aim.com", "aol.co.uk", "aol.com", "aol.de", "aol.fr", "rocketmail.com", "verizon.net", "yahoo.co.jp", "yahoo.co.uk", "yahoo.com", "ymail.com"],
    signature: r"\[TS0[1-4]\]|\[TSS0\d\]|\[BL2\d\]|senders\.yahooinc\.com|postmaster\.yahooinc\.com|postmaster\.verizonmedia\.com|help\.yahoo\.com|postmaster\.aol\.com",
    rules: &[
        Rule { id: "yahoo:tss04", status: "", pattern: r"\[tss04\]|user complaints", reason: BadReputation },
        Rule { id: "yahoo:tss09", status: "", pattern: r"\[tss09\]|permanently deferred", reason: BlockedIp },
        Rule { id: "yahoo:bl23", status: "", pattern: r"\[bl2\d\]|blocked using|block list", reason: Blocklisted },
        Rule { id: "yahoo:ts0x", status: "", pattern: r"\[ts0[1-4]\]|temporarily deferred due to unexpected volume or user complaints", reason: RateLimited },
        Rule { id: "yahoo:aol_blocked", status: "", pattern: r"\b(?:rly|con):b\d\b", reason: BlockedIp },
        Rule { id: "yahoo:aol_url", status: "", pattern: r"\bhvu:b\d\b", reason: SpamContent },
        Rule { id: "yahoo:aol_rate", status: "", pattern: r"\bdyn:t\d\b|\brly:nw\b", reason: RateLimited },
        Rule { id: "yahoo:policy", status: "5.7.9", pattern: r"not accepted for policy reasons", reason: Policy },
        Rule { id: "yahoo:dmarc", status: "", pattern: r"dmarc|not (?:pass|passing) authentication|unauthenticated|spf|dkim", reason: AuthFailure },
        Rule { id: "yahoo:no_user", status: "", pattern: r"user doesn't have a yahoo\.com account|mailbox unavailable|user unknown|no such user|doesn't have a \S+ account", reason: UserUnknown },
        Rule { id: "yahoo:mailbox_full", status: "", pattern: r"over quota|mailbox full|full mailbox", reason: MailboxFull },
        Rule { id: "yahoo:disabled", status: "", pattern: r"account (?:has been )?disabled|inactive", reason: Suspended },
    ],
};

#[cfg(test)]
mod tests {
    use crate::classify::provider::{identify, lookup};

    fn rule(status: &str, text: &str) -> Option<&'static str> {
        let i = identify(Some("mta7.am0.yahoodns.net"), None, None)?;
        lookup(i, Some(status), text).map(|r| r.1)
    }

    #[test]
    fn each_rule_matches_its_documented_text() {
        assert_eq!(
            rule(
                "4.7.0",
                "[TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected volume or user complaints"
            ),
            Some("yahoo:tss04")
        );
        assert_eq!(
            rule(
                "5.7.2",
                "[TSS09] All messages from 192.0.2.1 will be permanently deferred"
            ),
            Some("yahoo:tss09")
        );
        assert_eq!(
            rule(
                "5.7.1",
                "[BL23] Connections not accepted from IP addresses on Spamhaus XBL"
            ),
            Some("yahoo:bl23")
        );
        assert_eq!(
            rule(
                "4.7.0",
                "[TS01] Messages from 192.0.2.1 temporarily deferred"
            ),
            Some("yahoo:ts0x")
        );
        assert_eq!(
            rule(
                "5.7.9",
                "This mail has been blocked because the sender is unauthenticated. Yahoo requires all senders to authenticate with either SPF or DKIM."
            ),
            Some("yahoo:dmarc")
        );
        assert_eq!(
            rule(
                "5.1.1",
                "Requested mail action aborted, mailbox not found: user doesn't have a yahoo.com account"
            ),
            Some("yahoo:no_user")
        );
        assert_eq!(
            rule(
                "5.7.1",
                "554 RLY:B1 (AOL) http://postmaster.aol.com/errors/554rlyb1.html"
            ),
            Some("yahoo:aol_blocked")
        );
        assert_eq!(
            rule(
                "5.7.1",
                "554 HVU:B1 http://postmaster.aol.com/errors/554hvub1.html"
            ),
            Some("yahoo:aol_url")
        );
        assert_eq!(
            rule(
                "4.7.1",
                "421 DYN:T1 http://postmaster.aol.com/errors/421dynt1.html"
            ),
            Some("yahoo:aol_rate")
        );
        assert_eq!(
            rule(
                "5.7.9",
                "554 5.7.9 Message not accepted for policy reasons. See https://postmaster.verizonmedia.com/error-codes"
            ),
            Some("yahoo:policy")
        );
        assert_eq!(
            rule("5.2.2", "Mailbox over quota"),
            Some("yahoo:mailbox_full")
        );
        assert_eq!(
            rule("5.2.1", "This account has been disabled or discontinued"),
            Some("yahoo:disabled")
        );
    }
}
