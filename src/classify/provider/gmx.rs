//! GMX and WEB.DE (1&1 / United Internet, also IONOS). Texts from the GMX
//! and WEB.DE postmaster pages "Fehlermeldungen / error messages"
//! (postmaster.gmx.net/en/error-messages, postmaster.web.de/en/error-messages):
//! policy rejections link there with a `c=` code naming the check.

use super::{Provider, Rule};
use crate::model::Reason::*;

/// GMX / WEB.DE.
#[rustfmt::skip]
pub static GMX: Provider = Provider {
    name: "gmx",
    hosts: &["gmx.net", "gmx.com", "gmx.de", "web.de", "kundenserver.de", "ionos.de", "ionos.com"],
    domains: &["gmx.at", "gmx.ch", "gmx.com", "gmx.de", "gmx.net", "web.de"],
    signature: r"postmaster\.(?:gmx\.net|web\.de|1und1\.de|ionos\.\w+)",
    rules: &[
        Rule { id: "gmx:mailbox_unavailable", status: "5.1.1", pattern: r"mailbox unavailable|user unknown|recipient address rejected", reason: UserUnknown },
        Rule { id: "gmx:quota", status: "", pattern: r"quota exceeded|mailbox (?:is )?full|postfach (?:ist )?voll", reason: MailboxFull },
        Rule { id: "gmx:too_big", status: "", pattern: r"message size exceeds|too big|too large", reason: MessageTooBig },
        Rule { id: "gmx:blocklist", status: "", pattern: r"[?&]c=(?:bl|rbl|dnsbl)\b|spamhaus|block ?list", reason: Blocklisted },
        Rule { id: "gmx:rdns", status: "", pattern: r"[?&]c=rdns\b|reverse dns|\bptr\b", reason: RequirePtr },
        Rule { id: "gmx:auth", status: "", pattern: r"[?&]c=(?:spf|dkim|dmarc)\b|dmarc|spf|dkim", reason: AuthFailure },
        Rule { id: "gmx:header", status: "", pattern: r"[?&]c=hi\b|header (?:is )?(?:invalid|not rfc)", reason: NotCompliant },
        Rule { id: "gmx:policy", status: "", pattern: r"reject due to policy restrictions|policy restrictions", reason: Policy },
    ],
};

#[cfg(test)]
mod tests {
    #[test]
    fn each_rule_matches_its_documented_text() {
        super::super::assert_documented(
            &super::GMX,
            &[
                (
                    "5.1.1",
                    "550 5.1.1 Requested action not taken: mailbox unavailable",
                    "gmx:mailbox_unavailable",
                ),
                ("5.2.2", "552 5.2.2 Mailbox quota exceeded", "gmx:quota"),
                (
                    "5.3.4",
                    "552 5.3.4 Message size exceeds fixed limit",
                    "gmx:too_big",
                ),
                (
                    "5.7.1",
                    "554-Transaction failed Reject due to policy restrictions. For explanation visit https://postmaster.gmx.net/en/error-messages?ip=192.0.2.1&c=bl",
                    "gmx:blocklist",
                ),
                (
                    "5.7.1",
                    "554-Transaction failed Reject due to policy restrictions. For explanation visit https://postmaster.web.de/en/error-messages?ip=192.0.2.1&c=rdns",
                    "gmx:rdns",
                ),
                (
                    "5.7.1",
                    "554-Transaction failed Reject due to policy restrictions. For explanation visit https://postmaster.gmx.net/en/error-messages?ip=192.0.2.1&c=dmarc",
                    "gmx:auth",
                ),
                (
                    "5.7.1",
                    "554-Transaction failed Reject due to policy restrictions. For explanation visit https://postmaster.gmx.net/en/error-messages?ip=192.0.2.1&c=hi",
                    "gmx:header",
                ),
                (
                    "5.7.1",
                    "554-Transaction failed Reject due to policy restrictions. For explanation visit https://postmaster.gmx.net/en/error-messages?ip=192.0.2.1",
                    "gmx:policy",
                ),
            ],
        );
    }
}
