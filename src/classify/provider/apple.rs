//! Apple iCloud Mail (icloud.com, me.com, mac.com). Texts from Apple's
//! "Postmaster information for iCloud Mail" (support.apple.com/en-us/102322,
//! formerly HT204137), which lists the bracketed `[CSnn]` / `[HMnn]` codes
//! of its replies.

use super::{Provider, Rule};
use crate::model::Reason::*;

/// Apple iCloud Mail.
#[rustfmt::skip]
pub static APPLE: Provider = Provider {
    name: "icloud",
    hosts: &["icloud.com", "apple.com", "me.com"],
    domains: &["icloud.com", "mac.com", "me.com"],
    signature: r"support\.apple\.com/(?:en-us/)?(?:ht204137|102322)|\[(?:cs|hm)\d\d\]",
    rules: &[
        Rule { id: "icloud:moved", status: "", pattern: r"recipient no longer on server", reason: HasMoved },
        Rule { id: "icloud:inactive", status: "", pattern: r"inactive email address|user does not exist|no such user|mailbox does not exist", reason: UserUnknown },
        Rule { id: "icloud:over_quota", status: "", pattern: r"over quota|mailbox (?:is )?full", reason: MailboxFull },
        Rule { id: "icloud:blocklist", status: "", pattern: r"rejected due to listing in|spamhaus|blocked using", reason: Blocklisted },
        Rule { id: "icloud:reputation", status: "", pattern: r"reputation", reason: BadReputation },
        Rule { id: "icloud:auth", status: "", pattern: r"dmarc|spf|dkim|\[hm08\]", reason: AuthFailure },
        Rule { id: "icloud:rate", status: "4.", pattern: r"rate limit|too many|try again later", reason: RateLimited },
        Rule { id: "icloud:policy", status: "", pattern: r"\[(?:cs|hm)\d\d\]|local policy", reason: Policy },
    ],
};

#[cfg(test)]
mod tests {
    #[test]
    fn each_rule_matches_its_documented_text() {
        super::super::assert_documented(
            &super::APPLE,
            &[
                (
                    "5.1.6",
                    "550 5.1.6 recipient no longer on server: a@icloud.com",
                    "icloud:moved",
                ),
                (
                    "5.1.1",
                    "550 5.1.1 <a@icloud.com>: inactive email address",
                    "icloud:inactive",
                ),
                (
                    "5.2.2",
                    "552 5.2.2 <a@icloud.com>: user is over quota",
                    "icloud:over_quota",
                ),
                (
                    "5.7.1",
                    "554 5.7.1 [CS01] Mail from 192.0.2.1 was rejected due to listing in Spamhaus PBL",
                    "icloud:blocklist",
                ),
                (
                    "5.7.1",
                    "554 5.7.1 [CS01] Message rejected due to local policy and poor reputation",
                    "icloud:reputation",
                ),
                (
                    "5.7.1",
                    "554 5.7.1 [HM08] Message rejected due to local policy (DMARC)",
                    "icloud:auth",
                ),
                (
                    "4.7.1",
                    "421 4.7.1 rate limit exceeded, try again later",
                    "icloud:rate",
                ),
                (
                    "5.7.1",
                    "554 5.7.1 [CS02] Message rejected due to local policy",
                    "icloud:policy",
                ),
            ],
        );
    }
}
