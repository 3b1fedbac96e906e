//! Microsoft: Outlook.com / Hotmail consumer mail and Exchange Online
//! (Office 365). Texts from "Email non-delivery reports and SMTP errors in
//! Exchange Online" (learn.microsoft.com) and the Outlook.com postmaster
//! pages (sendersupport.olc.protection.outlook.com).

use super::{Provider, Rule};
use crate::model::Reason::*;

/// Microsoft.
#[rustfmt::skip]
pub static MICROSOFT: Provider = Provider {
    name: "outlook",
    hosts: &["hotmail.com", "live.com", "microsoft.com", "outlook.com", "protection.outlook.com"],
    domains: &["hotmail.co.uk", "hotmail.com", "hotmail.fr", "live.com", "msn.com", "outlook.com"],
    // Also the codes Outlook.com and Exchange Online Protection append to
    // their replies: "(S3150)", "(S2017062302)", "AS(201806281)".
    signature: r"protection\.outlook\.com|prod\.outlook\.com|olc\.protection|\[(?:BN|CO|DM|SN|BY|CH|AM|DB|HE|VI|AS|LO|PR|SG)\d|\(s\d{3,}\)|\bas\(\d{4,}\)",
    rules: &[
        Rule { id: "outlook:s3150", status: "", pattern: r"\bs3150\b|block list|blocklist|part of their network is on our block list", reason: Blocklisted },
        Rule { id: "outlook:banned_sender", status: "5.7.508", pattern: r"", reason: BlockedIp },
        Rule { id: "outlook:banned_ip", status: "5.7.606", pattern: r"", reason: BlockedIp },
        Rule { id: "outlook:banned_ip_range", status: "5.7.60", pattern: r"access denied|banned", reason: BlockedIp },
        Rule { id: "outlook:ip_not_accepted", status: "5.7.708", pattern: r"", reason: BlockedIp },
        Rule { id: "outlook:dbeb", status: "5.4.1", pattern: r"recipient address rejected: access denied|directory based edge blocking|as\(201806281\)", reason: UserUnknown },
        Rule { id: "outlook:nullmx", status: "5.1.10", pattern: r"", reason: UserUnknown },
        Rule { id: "outlook:recip_not_found", status: "", pattern: r"resolver\.adr\.recipnotfound|recipientnotfound|requested action not taken: mailbox unavailable", reason: UserUnknown },
        Rule { id: "outlook:mailbox_full", status: "", pattern: r"mailbox is full|quota", reason: MailboxFull },
        Rule { id: "outlook:auth", status: "5.7.509", pattern: r"", reason: AuthFailure },
        Rule { id: "outlook:auth_level", status: "5.7.515", pattern: r"", reason: AuthFailure },
        Rule { id: "outlook:sc", status: "", pattern: r"\bsc-00\d\b|\bcon:b1\b", reason: BlockedIp },
        Rule { id: "outlook:dy", status: "", pattern: r"\bdy-00\d\b", reason: BadReputation },
        Rule { id: "outlook:ou", status: "", pattern: r"\bou-00\d\b", reason: Policy },
        Rule { id: "outlook:dmarc", status: "", pattern: r"dmarc|spf|dkim|sender not authenticated", reason: AuthFailure },
        Rule { id: "outlook:rate", status: "4.7.", pattern: r"rate limit|throttled|try again later|server busy", reason: RateLimited },
        Rule { id: "outlook:spam", status: "5.7.5", pattern: r"spam|junk", reason: SpamContent },
        Rule { id: "outlook:policy", status: "5.7.1", pattern: r"not authorized|restricted|policy|rejected", reason: Policy },
    ],
};

#[cfg(test)]
mod tests {
    use crate::classify::provider::{identify, lookup};

    fn rule(status: &str, text: &str) -> Option<&'static str> {
        let i = identify(Some("mx1.hotmail.com"), None, None)?;
        lookup(i, Some(status), text).map(|r| r.1)
    }

    /// Replies that name no Microsoft host are still known by the codes
    /// Microsoft appends to them.
    #[test]
    fn its_reply_codes_identify_it() {
        for d in [
            "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302)",
            "550 5.4.1 Recipient address rejected: Access denied. AS(201806281)",
        ] {
            let i = identify(None, Some(d), None).expect(d);
            assert_eq!(crate::classify::provider::name(i), "outlook", "{d}");
        }
    }

    #[test]
    fn each_rule_matches_its_documented_text() {
        assert_eq!(
            rule(
                "5.7.1",
                "Unfortunately, messages from [192.0.2.1] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150)"
            ),
            Some("outlook:s3150")
        );
        assert_eq!(
            rule(
                "5.7.508",
                "Access denied, [$SenderIPAddress] has exceeded permitted limits within $range range"
            ),
            Some("outlook:banned_sender")
        );
        assert_eq!(
            rule("5.7.606", "Access denied, banned sending IP [192.0.2.1]"),
            Some("outlook:banned_ip")
        );
        assert_eq!(
            rule("5.7.607", "Access denied, banned sending IP range"),
            Some("outlook:banned_ip_range")
        );
        assert_eq!(
            rule(
                "5.7.708",
                "Service unavailable. Access denied, traffic not accepted from this IP."
            ),
            Some("outlook:ip_not_accepted")
        );
        assert_eq!(
            rule(
                "5.4.1",
                "Recipient address rejected: Access denied. AS(201806281)"
            ),
            Some("outlook:dbeb")
        );
        assert_eq!(
            rule(
                "5.1.10",
                "RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"
            ),
            Some("outlook:nullmx")
        );
        assert_eq!(
            rule("5.1.1", "RESOLVER.ADR.RecipNotFound; not found"),
            Some("outlook:recip_not_found")
        );
        assert_eq!(
            rule("5.2.2", "mailbox is full"),
            Some("outlook:mailbox_full")
        );
        assert_eq!(
            rule(
                "5.7.509",
                "Access denied, sending domain does not pass DMARC verification"
            ),
            Some("outlook:auth")
        );
        assert_eq!(
            rule(
                "5.7.515",
                "Access denied, sending domain example.com doesn't meet the required authentication level"
            ),
            Some("outlook:auth_level")
        );
        assert_eq!(
            rule(
                "5.7.1",
                "550 SC-004 Unfortunately, messages from 192.0.2.1 weren't sent. The problem is that too many unwanted messages have been sent from this IP"
            ),
            Some("outlook:sc")
        );
        assert_eq!(
            rule(
                "4.7.0",
                "421 RP-001 (BAY004-MC1F12) Unfortunately, some messages from 192.0.2.1 weren't sent. DY-001 temporarily rate limited due to low reputation"
            ),
            Some("outlook:dy")
        );
        assert_eq!(
            rule(
                "5.7.1",
                "550 OU-001 (SNT004-MC1F43) Unfortunately, messages from 192.0.2.1 weren't sent. Please contact your Internet service provider"
            ),
            Some("outlook:ou")
        );
        assert_eq!(
            rule("5.7.1", "Sender not authenticated; SPF fail"),
            Some("outlook:dmarc")
        );
        assert_eq!(
            rule(
                "4.7.650",
                "The mail server has been temporarily rate limited due to IP reputation"
            ),
            Some("outlook:rate")
        );
        assert_eq!(
            rule(
                "5.7.520",
                "Message blocked because it contains content identified as spam"
            ),
            Some("outlook:spam")
        );
        assert_eq!(
            rule("5.7.1", "Delivery not authorized, message refused"),
            Some("outlook:policy")
        );
    }
}
