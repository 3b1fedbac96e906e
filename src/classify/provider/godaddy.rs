//! GoDaddy hosted mail (secureserver.net). Texts from GoDaddy's help
//! article "What do the email bounce codes mean?"
//! (www.godaddy.com/help/what-do-the-email-bounce-codes-mean-3521): its
//! inbound relays answer with `IBnnn` codes (IB1xx connection and IP
//! checks, IB5xx sender and message checks, IB6xx content).

use super::{Provider, Rule};
use crate::model::Reason::*;

/// GoDaddy.
#[rustfmt::skip]
pub static GODADDY: Provider = Provider {
    name: "godaddy",
    hosts: &["secureserver.net"],
    domains: &[],
    signature: r"secureserver\.net|godaddy",
    rules: &[
        Rule { id: "godaddy:blocklist", status: "", pattern: r"spamhaus|blocked using|\bib10[0-9]\b|on (?:a|our) block ?list", reason: Blocklisted },
        Rule { id: "godaddy:connections", status: "", pattern: r"\bib11[0-9]\b|too many connections", reason: TooManyConnections },
        Rule { id: "godaddy:sender_domain", status: "", pattern: r"\bib50[1-9]\b|from: domain is invalid|sender domain (?:is )?invalid|domain in mail from", reason: SenderRejected },
        Rule { id: "godaddy:too_many_rcpt", status: "", pattern: r"\bib51[0-9]\b|too many recipients", reason: ExceedLimit },
        Rule { id: "godaddy:spam", status: "", pattern: r"\bib6\d\d\b|spam|content (?:rejected|violation)", reason: SpamContent },
        Rule { id: "godaddy:no_user", status: "", pattern: r"no such user|invalid recipient|user unknown", reason: UserUnknown },
    ],
};

#[cfg(test)]
mod tests {
    #[test]
    fn each_rule_matches_its_documented_text() {
        super::super::assert_documented(
            &super::GODADDY,
            &[
                (
                    "5.7.1",
                    "553 http://www.spamhaus.org/query/bl?ip=192.0.2.1",
                    "godaddy:blocklist",
                ),
                (
                    "4.7.0",
                    "421 Too many connections from 192.0.2.1 IB110",
                    "godaddy:connections",
                ),
                (
                    "5.2.0",
                    "550 5.2.0 <a@example.com> From: Domain is invalid. Please provide a valid From: IB506",
                    "godaddy:sender_domain",
                ),
                (
                    "5.5.3",
                    "550 5.5.3 Too many recipients IB510",
                    "godaddy:too_many_rcpt",
                ),
                (
                    "5.7.1",
                    "550 5.7.1 message content rejected as spam IB605",
                    "godaddy:spam",
                ),
                (
                    "5.1.1",
                    "550 5.1.1 <a@example.com> Recipient not found. Invalid recipient",
                    "godaddy:no_user",
                ),
            ],
        );
    }
}
