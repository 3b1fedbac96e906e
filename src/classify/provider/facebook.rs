//! Facebook (facebook.com mail relay). Codes from Facebook's postmaster
//! "response codes" page (postmaster.facebook.com/response_codes): the reply
//! carries `AAA-Xn` where AAA is the area (RCP recipient, DNS sender DNS,
//! CON connection, MSG message, POL policy, INT internal) and X is P
//! (permanent) or T (temporary).

use super::{Provider, Rule};
use crate::model::Reason::*;

/// Facebook.
#[rustfmt::skip]
pub static FACEBOOK: Provider = Provider {
    name: "facebook",
    hosts: &["facebook.com", "fb.com"],
    domains: &["facebook.com"],
    signature: r"postmaster\.facebook\.com",
    rules: &[
        Rule { id: "facebook:rcp_p1", status: "", pattern: r"\brcp-p1\b", reason: UserUnknown },
        Rule { id: "facebook:rcp_p2", status: "", pattern: r"\brcp-p[234]\b", reason: Filtered },
        Rule { id: "facebook:rcp_t", status: "", pattern: r"\brcp-t\d\b", reason: Transient },
        Rule { id: "facebook:dns_p", status: "", pattern: r"\bdns-p[12]\b", reason: SenderRejected },
        Rule { id: "facebook:dns_ptr", status: "", pattern: r"\bdns-p3\b", reason: RequirePtr },
        Rule { id: "facebook:dns_t", status: "", pattern: r"\bdns-t\d\b", reason: NetworkError },
        Rule { id: "facebook:con", status: "", pattern: r"\bcon-t\d\b", reason: TooManyConnections },
        Rule { id: "facebook:msg_size", status: "", pattern: r"\bmsg-p1\b", reason: MessageTooBig },
        Rule { id: "facebook:msg_rcpts", status: "", pattern: r"\bmsg-p2\b", reason: ExceedLimit },
        Rule { id: "facebook:msg_content", status: "", pattern: r"\bmsg-p3\b", reason: ContentError },
        Rule { id: "facebook:msg_t", status: "", pattern: r"\bmsg-t\d\b", reason: Transient },
        Rule { id: "facebook:pol_bl", status: "", pattern: r"\bpol-p[12]\b", reason: Blocklisted },
        Rule { id: "facebook:pol_auth", status: "", pattern: r"\bpol-p7\b", reason: AuthFailure },
        Rule { id: "facebook:pol_p", status: "", pattern: r"\bpol-p\d\b", reason: Policy },
        Rule { id: "facebook:pol_t", status: "", pattern: r"\bpol-t\d\b", reason: RateLimited },
        Rule { id: "facebook:int", status: "", pattern: r"\bint-[pt]\d\b", reason: SystemError },
    ],
};

#[cfg(test)]
mod tests {
    #[test]
    fn each_rule_matches_its_documented_text() {
        super::super::assert_documented(
            &super::FACEBOOK,
            &[
                (
                    "5.1.1",
                    "550 5.1.1 RCP-P1 http://postmaster.facebook.com/response_codes?ip=192.0.2.1#rcp Attempted recipient does not exist",
                    "facebook:rcp_p1",
                ),
                (
                    "5.1.1",
                    "550 5.1.1 RCP-P2 http://postmaster.facebook.com/response_codes?ip=192.0.2.1#rcp Refused due to recipient preferences",
                    "facebook:rcp_p2",
                ),
                (
                    "4.1.1",
                    "450 4.1.1 RCP-T1 http://postmaster.facebook.com/response_codes?ip=192.0.2.1#rcp Recipient temporarily unavailable",
                    "facebook:rcp_t",
                ),
                (
                    "5.1.8",
                    "550 5.1.8 DNS-P1 http://postmaster.facebook.com/response_codes?ip=192.0.2.1#dns Your SMTP MAIL FROM domain does not have an MX record",
                    "facebook:dns_p",
                ),
                (
                    "5.7.1",
                    "550 5.7.1 DNS-P3 http://postmaster.facebook.com/response_codes?ip=192.0.2.1#dns No PTR record",
                    "facebook:dns_ptr",
                ),
                (
                    "4.4.3",
                    "451 4.4.3 DNS-T1 http://postmaster.facebook.com/response_codes?ip=192.0.2.1#dns Temporary DNS failure",
                    "facebook:dns_t",
                ),
                (
                    "4.7.1",
                    "421 4.7.1 CON-T1 http://postmaster.facebook.com/response_codes?ip=192.0.2.1#con Too many concurrent connections",
                    "facebook:con",
                ),
                (
                    "5.3.4",
                    "552 5.3.4 MSG-P1 http://postmaster.facebook.com/response_codes?ip=192.0.2.1#msg Message exceeds maximum size",
                    "facebook:msg_size",
                ),
                (
                    "5.5.3",
                    "552 5.5.3 MSG-P2 http://postmaster.facebook.com/response_codes?ip=192.0.2.1#msg Too many recipients",
                    "facebook:msg_rcpts",
                ),
                (
                    "5.6.0",
                    "554 5.6.0 MSG-P3 http://postmaster.facebook.com/response_codes?ip=192.0.2.1#msg Message format not accepted",
                    "facebook:msg_content",
                ),
                (
                    "4.3.0",
                    "451 4.3.0 MSG-T1 http://postmaster.facebook.com/response_codes?ip=192.0.2.1#msg Temporary message failure",
                    "facebook:msg_t",
                ),
                (
                    "5.7.1",
                    "550 5.7.1 POL-P1 http://postmaster.facebook.com/response_codes?ip=192.0.2.1#pol Your mail server's IP Address is listed on the Spamhaus PBL",
                    "facebook:pol_bl",
                ),
                (
                    "5.7.1",
                    "550 5.7.1 POL-P7 http://postmaster.facebook.com/response_codes?ip=192.0.2.1#pol The message does not comply with DMARC",
                    "facebook:pol_auth",
                ),
                (
                    "5.7.1",
                    "550 5.7.1 POL-P4 http://postmaster.facebook.com/response_codes?ip=192.0.2.1#pol Refused by local policy",
                    "facebook:pol_p",
                ),
                (
                    "4.7.1",
                    "451 4.7.1 POL-T1 http://postmaster.facebook.com/response_codes?ip=192.0.2.1#pol Too many messages, slow down",
                    "facebook:pol_t",
                ),
                (
                    "4.3.0",
                    "451 4.3.0 INT-T1 http://postmaster.facebook.com/response_codes?ip=192.0.2.1#int Internal error",
                    "facebook:int",
                ),
            ],
        );
    }
}
