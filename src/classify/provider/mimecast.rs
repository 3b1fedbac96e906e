//! Mimecast. Texts from Mimecast's "Mimecast SMTP Error Codes" knowledge
//! base page (community.mimecast.com/docs/DOC-1369).

use super::{Provider, Rule};
use crate::model::Reason::*;

/// Mimecast.
#[rustfmt::skip]
pub static MIMECAST: Provider = Provider {
    name: "mimecast",
    hosts: &["mimecast.com", "mimecast.co.za", "mimecast-offshore.com"],
    domains: &[],
    signature: r"mimecast",
    rules: &[
        Rule { id: "mimecast:security_policies", status: "", pattern: r"rejected due to security policies|virus detected|attachment", reason: Virus },
        Rule { id: "mimecast:invalid_recipient", status: "", pattern: r"invalid recipient|recipient address rejected|user unknown", reason: UserUnknown },
        Rule { id: "mimecast:envelope_blocked", status: "", pattern: r"envelope blocked|blocked senders|user entry", reason: Filtered },
        Rule { id: "mimecast:spoofing", status: "", pattern: r"anti-spoofing|spoof", reason: SecurityError },
        Rule { id: "mimecast:auth", status: "", pattern: r"\bspf\b|dmarc|dkim", reason: AuthFailure },
        Rule { id: "mimecast:reputation", status: "", pattern: r"ip reputation|rbl|block ?list", reason: Blocklisted },
        Rule { id: "mimecast:size", status: "", pattern: r"maximum email size exceeded|message too large", reason: MessageTooBig },
        Rule { id: "mimecast:greylist", status: "4.", pattern: r"greylist|graylist|temporarily deferred", reason: Greylisted },
        Rule { id: "mimecast:relay", status: "", pattern: r"open relay not allowed|relay", reason: RelayingDenied },
    ],
};

#[cfg(test)]
mod tests {
    #[test]
    fn each_rule_matches_its_documented_text() {
        super::super::assert_documented(
            &super::MIMECAST,
            &[
                (
                    "5.0.0",
                    "554 Email rejected due to security policies - MCSpamSignature.sa.2.2",
                    "mimecast:security_policies",
                ),
                (
                    "5.0.0",
                    "550 Invalid Recipient - https://community.mimecast.com/docs/DOC-1369#550",
                    "mimecast:invalid_recipient",
                ),
                (
                    "5.0.0",
                    "550 Administrative prohibition - envelope blocked - https://community.mimecast.com/docs/DOC-1369#550",
                    "mimecast:envelope_blocked",
                ),
                (
                    "5.0.0",
                    "550 Rejected by header based Anti-Spoofing policy - https://community.mimecast.com/docs/DOC-1369#550",
                    "mimecast:spoofing",
                ),
                (
                    "5.0.0",
                    "550 Submitter failed SPF check - https://community.mimecast.com/docs/DOC-1369#550",
                    "mimecast:auth",
                ),
                (
                    "5.0.0",
                    "550 Local CT IP reputation - (reject) - https://community.mimecast.com/docs/DOC-1369#550",
                    "mimecast:reputation",
                ),
                (
                    "5.0.0",
                    "554 Maximum email size exceeded - https://community.mimecast.com/docs/DOC-1369#554",
                    "mimecast:size",
                ),
                (
                    "4.0.0",
                    "451 Message temporarily deferred due to graylisting - https://community.mimecast.com/docs/DOC-1369#451",
                    "mimecast:greylist",
                ),
                (
                    "5.0.0",
                    "550 Open relay not allowed - https://community.mimecast.com/docs/DOC-1369#550",
                    "mimecast:relay",
                ),
            ],
        );
    }
}
