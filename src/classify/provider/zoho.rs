//! Zoho Mail. Texts from Zoho's help "Email bounce / error messages"
//! (www.zoho.com/mail/help/adminconsole/bounce-messages.html and
//! www.zoho.com/mail/help/error-messages.html).

use super::{Provider, Rule};
use crate::model::Reason::*;

/// Zoho.
#[rustfmt::skip]
pub static ZOHO: Provider = Provider {
    name: "zoho",
    hosts: &["zoho.com", "zoho.eu", "zoho.in", "zohomail.com"],
    domains: &["zoho.com", "zoho.eu", "zoho.in", "zohomail.com"],
    signature: r"zoho\.com/mail/help",
    rules: &[
        Rule { id: "zoho:policy_violation", status: "", pattern: r"email policy violation detected", reason: Policy },
        Rule { id: "zoho:spam", status: "", pattern: r"flagged as spam|spam", reason: SpamContent },
        Rule { id: "zoho:no_user", status: "", pattern: r"invalid address|user unknown|mailbox not found|no such user", reason: UserUnknown },
        Rule { id: "zoho:full", status: "", pattern: r"mailbox (?:is )?full|quota", reason: MailboxFull },
        Rule { id: "zoho:relay", status: "", pattern: r"relaying disallowed|relay(?:ing)? (?:denied|not allowed)", reason: RelayingDenied },
        Rule { id: "zoho:unreachable", status: "", pattern: r"host not reachable", reason: NetworkError },
        Rule { id: "zoho:auth", status: "", pattern: r"unauthenticated|dmarc|spf|dkim", reason: AuthFailure },
    ],
};

#[cfg(test)]
mod tests {
    #[test]
    fn each_rule_matches_its_documented_text() {
        super::super::assert_documented(
            &super::ZOHO,
            &[
                (
                    "5.7.7",
                    "554 5.7.7 Email policy violation detected",
                    "zoho:policy_violation",
                ),
                (
                    "5.7.1",
                    "554 5.7.1 Email cannot be delivered. Reason: Email flagged as Spam.",
                    "zoho:spam",
                ),
                (
                    "5.1.1",
                    "a@example.com Invalid Address, ERROR_CODE :550, ERROR_CODE :5.1.1 <a@example.com>... User Unknown",
                    "zoho:no_user",
                ),
                ("5.2.2", "552 5.2.2 Mailbox is full", "zoho:full"),
                ("5.7.1", "553 Relaying disallowed", "zoho:relay"),
                (
                    "4.4.1",
                    "Error, ERROR_CODE :421, ERROR_CODE :, Host not reachable.",
                    "zoho:unreachable",
                ),
                (
                    "5.7.1",
                    "550 5.7.1 Unauthenticated email from example.com is not accepted due to DMARC",
                    "zoho:auth",
                ),
            ],
        );
    }
}
