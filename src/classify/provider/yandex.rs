//! Yandex Mail (yandex.ru, ya.ru, yandex.com). Texts from Yandex's help
//! "SMTP error messages / Сообщения об ошибках SMTP"
//! (yandex.com/support/mail/web/spam/... and yandex.ru/support/mail/
//! troubleshooting/smtp-errors.html); spam rejections link `ya.cc` pages.

use super::{Provider, Rule};
use crate::model::Reason::*;

/// Yandex.
#[rustfmt::skip]
pub static YANDEX: Provider = Provider {
    name: "yandex",
    hosts: &["yandex.net", "yandex.ru"],
    domains: &["ya.ru", "yandex.by", "yandex.com", "yandex.kz", "yandex.ru", "yandex.ua"],
    signature: r"yandex\.(?:ru|com)/support|\bya\.cc/",
    rules: &[
        Rule { id: "yandex:no_user", status: "", pattern: r"no such user|user not found|user unknown", reason: UserUnknown },
        Rule { id: "yandex:full", status: "", pattern: r"mailbox size limit exceeded|over quota|mailbox (?:is )?full", reason: MailboxFull },
        Rule { id: "yandex:spam", status: "", pattern: r"suspicion of spam|spam", reason: SpamContent },
        Rule { id: "yandex:auth", status: "", pattern: r"dmarc|spf|dkim", reason: AuthFailure },
        Rule { id: "yandex:rate", status: "", pattern: r"too many|ratelimit|rate limit", reason: RateLimited },
        Rule { id: "yandex:policy", status: "", pattern: r"policy rejection", reason: Policy },
    ],
};

#[cfg(test)]
mod tests {
    #[test]
    fn each_rule_matches_its_documented_text() {
        super::super::assert_documented(
            &super::YANDEX,
            &[
                ("5.7.1", "550 5.7.1 No such user!", "yandex:no_user"),
                (
                    "5.2.2",
                    "552 5.2.2 Mailbox size limit exceeded",
                    "yandex:full",
                ),
                (
                    "5.7.1",
                    "554 5.7.1 [2] Message rejected under suspicion of SPAM; https://ya.cc/1IrBc",
                    "yandex:spam",
                ),
                (
                    "5.7.1",
                    "550 5.7.1 Email rejected per DMARC policy",
                    "yandex:auth",
                ),
                (
                    "4.7.1",
                    "451 4.7.1 Too many recipients, try again later",
                    "yandex:rate",
                ),
                (
                    "5.7.1",
                    "550 5.7.1 Policy rejection on Target address",
                    "yandex:policy",
                ),
            ],
        );
    }
}
