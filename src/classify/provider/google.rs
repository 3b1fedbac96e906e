//! Gmail and Google Workspace. Texts from Google's "SMTP errors and codes"
//! help page (support.google.com/a/answer/3726730) and the sender
//! guidelines (support.google.com/mail/answer/81126).

use super::{Provider, Rule};
use crate::model::Reason::*;

/// Google.
#[rustfmt::skip]
pub static GOOGLE: Provider = Provider {
    name: "gmail",
    hosts: &["google.com", "googlemail.com", "gmail.com"],
    domains: &["gmail.com", "googlemail.com"],
    signature: r"\bgsmtp\b|support\.google\.com|google\.com/mail",
    rules: &[
        Rule { id: "gmail:not_compliant", status: "", pattern: r"not rfc 5322 compliant|rfcmessagenoncompliant|multiple (?:\S+ ){0,3}?addresses in from: header", reason: NotCompliant },
        Rule { id: "gmail:dmarc", status: "5.7.26", pattern: r"dmarc|unauthenticated|spf|dkim", reason: AuthFailure },
        Rule { id: "gmail:unauthenticated", status: "", pattern: r"unauthenticated email|not pass authentication|authenticate your email|sender is unauthenticated", reason: AuthFailure },
        Rule { id: "gmail:ptr", status: "", pattern: r"does not have a ptr record|ptr record setup|reverse dns", reason: RequirePtr },
        Rule { id: "gmail:rate", status: "4.2.1", pattern: r"receiving mail at a rate|rate that prevents|unusual rate", reason: RateLimited },
        Rule { id: "gmail:rate_any", status: "", pattern: r"receiving mail at a rate|unusual rate of unsolicited mail|daily user sending limit|exceeded.{0,20}(?:sending|receiving) limit", reason: RateLimited },
        Rule { id: "gmail:mailbox_full", status: "", pattern: r"out of storage space|inbox is out of storage|over quota|mailbox is full", reason: MailboxFull },
        Rule { id: "gmail:disabled", status: "", pattern: r"account that you tried to reach is disabled|account is disabled|has been disabled", reason: Suspended },
        Rule { id: "gmail:inactive", status: "", pattern: r"account that you tried to reach is (?:inactive|over quota)", reason: Suspended },
        Rule { id: "gmail:no_user", status: "", pattern: r"account that you tried to reach does not exist|email account that you tried to reach does not exist|no such user", reason: UserUnknown },
        Rule { id: "gmail:blocked_ip", status: "", pattern: r"ip (?:address )?(?:that you're using|you are using).{0,60}(?:blocked|not permitted)|ip reputation|ip has been blocked", reason: BlockedIp },
        Rule { id: "gmail:reputation", status: "", pattern: r"very low reputation|low reputation of the sending", reason: BadReputation },
        Rule { id: "gmail:spam", status: "", pattern: r"rejected due to spam classification|likely unsolicited mail|spam content|detected that this message is likely suspicious|message has been blocked.{0,20}spam", reason: SpamContent },
        Rule { id: "gmail:virus", status: "", pattern: r"virus|security issue|attachment.{0,40}(?:blocked|not allowed)", reason: Virus },
        Rule { id: "gmail:too_big", status: "", pattern: r"exceeds? (?:google's|the) message size limit|message size limit", reason: MessageTooBig },
        Rule { id: "gmail:relaying", status: "", pattern: r"relay(?:ing)? (?:denied|not permitted)|smtp relay", reason: RelayingDenied },
        Rule { id: "gmail:policy", status: "5.7.1", pattern: r"message rejected|does not meet|policy|not authorized|blocked", reason: Policy },
    ],
};

#[cfg(test)]
mod tests {
    use crate::classify::provider::{identify, lookup};
    use crate::model::Reason::*;

    fn rule(status: &str, text: &str) -> Option<&'static str> {
        let i = identify(Some("mx.google.com"), None, None)?;
        lookup(i, Some(status), text).map(|r| r.1)
    }

    #[test]
    fn each_rule_matches_its_documented_text() {
        assert_eq!(
            rule(
                "5.7.26",
                "Unauthenticated email from example.com is not accepted due to domain's DMARC policy"
            ),
            Some("gmail:dmarc")
        );
        assert_eq!(
            rule(
                "4.2.1",
                "The user you are trying to contact is receiving mail at a rate that prevents additional messages"
            ),
            Some("gmail:rate")
        );
        assert_eq!(
            rule(
                "4.7.1",
                "unusual rate of unsolicited mail originating from your IP"
            ),
            Some("gmail:rate_any")
        );
        assert_eq!(
            rule(
                "5.7.27",
                "This message does not pass authentication checks (SPF and DKIM both do not pass)"
            ),
            Some("gmail:unauthenticated")
        );
        assert_eq!(
            rule(
                "5.7.25",
                "The IP address sending this message does not have a PTR record setup"
            ),
            Some("gmail:ptr")
        );
        assert_eq!(
            rule("4.2.2", "The recipient's inbox is out of storage space"),
            Some("gmail:mailbox_full")
        );
        assert_eq!(
            rule(
                "5.2.1",
                "The email account that you tried to reach is disabled"
            ),
            Some("gmail:disabled")
        );
        assert_eq!(
            rule(
                "4.2.1",
                "The email account that you tried to reach is inactive"
            ),
            Some("gmail:inactive")
        );
        assert_eq!(
            rule(
                "5.1.1",
                "The email account that you tried to reach does not exist"
            ),
            Some("gmail:no_user")
        );
        assert_eq!(
            rule(
                "5.7.1",
                "The IP you're using to send mail is not authorized to send email directly to our servers. The IP address that you're using has been blocked"
            ),
            Some("gmail:blocked_ip")
        );
        assert_eq!(
            rule(
                "5.7.1",
                "Our system has detected that this message is likely unsolicited mail"
            ),
            Some("gmail:spam")
        );
        assert_eq!(
            rule(
                "5.7.0",
                "This message was blocked because its content presents a potential security issue"
            ),
            Some("gmail:virus")
        );
        assert_eq!(
            rule(
                "5.3.4",
                "Your message exceeded Google's message size limits. the message size limit"
            ),
            Some("gmail:too_big")
        );
        assert_eq!(rule("5.7.0", "Mail relay denied"), Some("gmail:relaying"));
        assert_eq!(
            rule("5.7.1", "Message rejected. See policy"),
            Some("gmail:policy")
        );
        assert_eq!(
            rule(
                "5.7.1",
                "This message is not RFC 5322 compliant. There are multiple Subject headers. To reduce the amount of spam sent to Gmail, this message has been blocked."
            ),
            Some("gmail:not_compliant")
        );
        assert_eq!(
            rule(
                "5.7.1",
                "Our system has detected that this message is likely suspicious due to the very low reputation of the sending IP address"
            ),
            Some("gmail:reputation")
        );
        assert_eq!(
            rule(
                "5.0.0",
                "Your email to group a@example.com was rejected due to spam classification."
            ),
            Some("gmail:spam")
        );
        let _ = (AuthFailure, Policy);
    }
}
