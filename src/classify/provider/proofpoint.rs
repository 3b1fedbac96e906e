//! Proofpoint (hosted pphosted.com / ppe-hosted.com gateways). Texts from
//! Proofpoint's "Proofpoint Dynamic Reputation / ipcheck" pages
//! (ipcheck.proofpoint.com) and the Essentials "error codes" article
//! (help.proofpoint.com).

use super::{Provider, Rule};
use crate::model::Reason::*;

/// Proofpoint.
#[rustfmt::skip]
pub static PROOFPOINT: Provider = Provider {
    name: "proofpoint",
    hosts: &["pphosted.com", "ppe-hosted.com", "proofpoint.com"],
    domains: &[],
    signature: r"ipcheck\.proofpoint\.com|pphosted\.com",
    rules: &[
        Rule { id: "proofpoint:ipcheck", status: "", pattern: r"ipcheck\.proofpoint\.com|blocked - see|reputation", reason: BadReputation },
        Rule { id: "proofpoint:no_user", status: "", pattern: r"user unknown|no such user|invalid recipient", reason: UserUnknown },
        Rule { id: "proofpoint:virus", status: "", pattern: r"virus|malware", reason: Virus },
        Rule { id: "proofpoint:spam", status: "", pattern: r"spam|bulk", reason: SpamContent },
        Rule { id: "proofpoint:rate", status: "4.", pattern: r"rate limit|too many", reason: RateLimited },
        Rule { id: "proofpoint:policy", status: "", pattern: r"local policy|policy", reason: Policy },
    ],
};

#[cfg(test)]
mod tests {
    #[test]
    fn each_rule_matches_its_documented_text() {
        super::super::assert_documented(
            &super::PROOFPOINT,
            &[
                (
                    "5.7.1",
                    "554 Blocked - see https://ipcheck.proofpoint.com/?ip=192.0.2.1",
                    "proofpoint:ipcheck",
                ),
                (
                    "5.1.1",
                    "550 5.1.1 <a@example.com>: Recipient address rejected: User unknown",
                    "proofpoint:no_user",
                ),
                (
                    "5.7.1",
                    "554 5.7.1 Message blocked: virus detected",
                    "proofpoint:virus",
                ),
                (
                    "5.7.1",
                    "550 5.7.1 Message rejected as spam",
                    "proofpoint:spam",
                ),
                ("4.7.1", "421 4.7.1 rate limit exceeded", "proofpoint:rate"),
                (
                    "5.7.1",
                    "554 5.7.1 <a@example.com>: Recipient address rejected: Message rejected due to local policy",
                    "proofpoint:policy",
                ),
            ],
        );
    }
}
