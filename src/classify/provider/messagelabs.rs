//! Symantec / Broadcom Email Security.cloud (MessageLabs). Texts from
//! Broadcom's knowledge base "Email Security.cloud SMTP error codes"
//! (knowledge.broadcom.com, article 169984 and related).

use super::{Provider, Rule};
use crate::model::Reason::*;

/// MessageLabs.
#[rustfmt::skip]
pub static MESSAGELABS: Provider = Provider {
    name: "messagelabs",
    hosts: &["messagelabs.com"],
    domains: &[],
    signature: r"messagelabs|email security\.cloud",
    rules: &[
        Rule { id: "messagelabs:smtp_auth", status: "", pattern: r"turn on smtp authentication|relay through this server without authentication", reason: SecurityError },
        Rule { id: "messagelabs:no_user", status: "", pattern: r"no such user|user unknown|recipient rejected", reason: UserUnknown },
        Rule { id: "messagelabs:virus", status: "", pattern: r"virus|malware", reason: Virus },
        Rule { id: "messagelabs:spam", status: "", pattern: r"spam", reason: SpamContent },
        Rule { id: "messagelabs:blocked", status: "", pattern: r"(?:ip|address)[^.;]{0,30}(?:blocked|rejected)|reputation|block ?list", reason: BlockedIp },
    ],
};

#[cfg(test)]
mod tests {
    #[test]
    fn each_rule_matches_its_documented_text() {
        super::super::assert_documented(
            &super::MESSAGELABS,
            &[
                (
                    "5.0.0",
                    "553-Please turn on SMTP Authentication in your mail client. 553-mail.example.com [192.0.2.1] is not permitted to 553 relay through this server without authentication.",
                    "messagelabs:smtp_auth",
                ),
                (
                    "5.0.0",
                    "550 a@example.org... No such user",
                    "messagelabs:no_user",
                ),
                (
                    "5.7.1",
                    "554 5.7.1 Message rejected: virus found",
                    "messagelabs:virus",
                ),
                (
                    "5.7.1",
                    "553 5.7.1 Message filtered. Please see the FAQs section on spam",
                    "messagelabs:spam",
                ),
                (
                    "5.7.1",
                    "501 Connection rejected by policy [7.7] 20701, please visit www.example.com for more details: your IP is blocked",
                    "messagelabs:blocked",
                ),
            ],
        );
    }
}
