//! Cloudflare Email Routing (route*.mx.cloudflare.net). Texts from
//! Cloudflare's "Email Routing postmaster" page
//! (developers.cloudflare.com/email-routing/postmaster/): forwarded mail
//! must pass SPF/DKIM/DMARC, destinations must be verified, and the
//! service rate-limits senders.

use super::{Provider, Rule};
use crate::model::Reason::*;

/// Cloudflare Email Routing.
#[rustfmt::skip]
pub static CLOUDFLARE: Provider = Provider {
    name: "cloudflare",
    hosts: &["mx.cloudflare.net"],
    domains: &[],
    signature: r"cloudflare email routing|developers\.cloudflare\.com/email-routing",
    rules: &[
        Rule { id: "cloudflare:auth", status: "", pattern: r"dmarc|spf|dkim|sender authentication", reason: AuthFailure },
        Rule { id: "cloudflare:unknown", status: "", pattern: r"address does not exist|unknown (?:address|recipient)|no such (?:address|recipient)", reason: UserUnknown },
        Rule { id: "cloudflare:unverified", status: "", pattern: r"destination address (?:is )?not verified|unverified destination", reason: Filtered },
        Rule { id: "cloudflare:rate", status: "", pattern: r"rate limit|too many", reason: RateLimited },
        Rule { id: "cloudflare:spam", status: "", pattern: r"spam", reason: SpamContent },
    ],
};

#[cfg(test)]
mod tests {
    #[test]
    fn each_rule_matches_its_documented_text() {
        super::super::assert_documented(
            &super::CLOUDFLARE,
            &[
                (
                    "5.7.26",
                    "550 5.7.26 This message does not pass DMARC and was rejected by Cloudflare Email Routing",
                    "cloudflare:auth",
                ),
                (
                    "5.1.1",
                    "550 5.1.1 Address does not exist",
                    "cloudflare:unknown",
                ),
                (
                    "5.1.1",
                    "550 5.1.1 Destination address is not verified",
                    "cloudflare:unverified",
                ),
                (
                    "4.7.0",
                    "421 4.7.0 rate limit exceeded, try again later",
                    "cloudflare:rate",
                ),
                (
                    "5.7.1",
                    "550 5.7.1 message was detected as spam",
                    "cloudflare:spam",
                ),
            ],
        );
    }
}
