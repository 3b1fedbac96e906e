//! Tencent QQ Mail and Tencent Exmail (qq.com, foxmail.com). Texts from
//! QQ Mail's help centre for senders (service.mail.qq.com/cgi-bin/help,
//! "退信代码说明 / bounce codes"): replies link there and name the check
//! (frequency limits, DMARC, content, mailbox state).

use super::{Provider, Rule};
use crate::model::Reason::*;

/// Tencent.
#[rustfmt::skip]
pub static TENCENT: Provider = Provider {
    name: "tencent",
    hosts: &["qq.com", "foxmail.com"],
    domains: &["foxmail.com", "qq.com", "vip.qq.com"],
    signature: r"service\.(?:exmail\.)?(?:mail\.)?qq\.com|mail\.qq\.com/cgi-bin/help",
    rules: &[
        Rule { id: "tencent:connections", status: "", pattern: r"connection frequency limited|too many connections", reason: TooManyConnections },
        Rule { id: "tencent:frequency", status: "", pattern: r"(?:ip|domain|sender|mailbox) frequency limited|frequency limit", reason: RateLimited },
        Rule { id: "tencent:dmarc", status: "", pattern: r"dmarc check failed|dmarc|spf check failed", reason: AuthFailure },
        Rule { id: "tencent:no_user", status: "", pattern: r"mailbox not found|mailbox unavailable|no such user", reason: UserUnknown },
        Rule { id: "tencent:full", status: "", pattern: r"mailbox (?:is )?full|over quota", reason: MailboxFull },
        Rule { id: "tencent:too_big", status: "", pattern: r"message is too big|too large", reason: MessageTooBig },
        Rule { id: "tencent:spam", status: "", pattern: r"spam|content (?:denied|rejected)|suspected", reason: SpamContent },
        Rule { id: "tencent:blocked_ip", status: "", pattern: r"ip (?:is )?(?:in )?black ?list|blocked ip", reason: BlockedIp },
    ],
};

#[cfg(test)]
mod tests {
    #[test]
    fn each_rule_matches_its_documented_text() {
        super::super::assert_documented(
            &super::TENCENT,
            &[
                (
                    "5.0.0",
                    "550 Ip frequency limited [abc Blocked IP 192.0.2.1]. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000725",
                    "tencent:frequency",
                ),
                (
                    "4.7.0",
                    "421 Connection frequency limited. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000726",
                    "tencent:connections",
                ),
                (
                    "5.0.0",
                    "550 DMARC check failed. http://service.mail.qq.com/cgi-bin/help?subtype=1&&no=1001508&&id=16.",
                    "tencent:dmarc",
                ),
                (
                    "5.0.0",
                    "550 Mailbox not found. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000728",
                    "tencent:no_user",
                ),
                (
                    "5.2.2",
                    "552 Mailbox is full. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000730",
                    "tencent:full",
                ),
                (
                    "5.3.4",
                    "552 Message is too big. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022",
                    "tencent:too_big",
                ),
                (
                    "5.0.0",
                    "550 Mail content denied. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000726",
                    "tencent:spam",
                ),
                (
                    "5.0.0",
                    "554 IP in blacklist. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022",
                    "tencent:blocked_ip",
                ),
            ],
        );
    }
}
