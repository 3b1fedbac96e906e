//! Cox Communications (cox.net). Texts from Cox's "Email error codes"
//! (www.cox.com/residential/support/email-error-codes.html): replies end in
//! an `AUP#` code naming the policy (`CXBL` / `CDRBL` block lists, `CXDNS`
//! reverse DNS, `CXMXRT` / `CXSNDR` rates, `CXCNCT` connections).

use super::{Provider, Rule};
use crate::model::Reason::*;

/// Cox.
#[rustfmt::skip]
pub static COX: Provider = Provider {
    name: "cox",
    hosts: &["cox.net"],
    domains: &["cox.net"],
    signature: r"cox\.com/\S*error-codes|\baup#c[xd][a-z]+",
    rules: &[
        Rule { id: "cox:blocklist", status: "", pattern: r"aup#(?:cxbl|cdrbl|cxrbl|cxdnsbl)|on (?:the )?cox block ?list", reason: Blocklisted },
        Rule { id: "cox:ptr", status: "", pattern: r"aup#cxdns|reverse dns", reason: RequirePtr },
        Rule { id: "cox:rate", status: "", pattern: r"aup#(?:cxmxrt|cxsndr|cxrcpt)|too many (?:messages|recipients)", reason: RateLimited },
        Rule { id: "cox:connections", status: "", pattern: r"aup#cxcnct|too many connections", reason: TooManyConnections },
        Rule { id: "cox:spam", status: "", pattern: r"aup#cxspam|spam", reason: SpamContent },
        Rule { id: "cox:no_user", status: "", pattern: r"recipient rejected|user unknown|not a valid recipient", reason: UserUnknown },
    ],
};

#[cfg(test)]
mod tests {
    #[test]
    fn each_rule_matches_its_documented_text() {
        super::super::assert_documented(
            &super::COX,
            &[
                (
                    "5.1.0",
                    "550 5.1.0 <bounce@example.com> sender rejected. Refer to Error Codes section at https://www.cox.com/residential/support/email-error-codes.html for more information. AUP#CDRBL",
                    "cox:blocklist",
                ),
                (
                    "5.7.1",
                    "554 192.0.2.1 rejected - no reverse DNS. AUP#CXDNS",
                    "cox:ptr",
                ),
                (
                    "4.7.0",
                    "452 Messages from 192.0.2.1 temporarily deferred. AUP#CXMXRT",
                    "cox:rate",
                ),
                (
                    "4.7.0",
                    "421 Too many connections from 192.0.2.1. AUP#CXCNCT",
                    "cox:connections",
                ),
                (
                    "5.7.1",
                    "554 Message rejected as spam. AUP#CXSPAM",
                    "cox:spam",
                ),
                (
                    "5.1.1",
                    "550 5.1.1 <a@cox.net> recipient rejected",
                    "cox:no_user",
                ),
            ],
        );
    }
}
