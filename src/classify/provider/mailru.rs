//! Mail.Ru (mail.ru, bk.ru, inbox.ru, list.ru). Texts from Mail.Ru's
//! postmaster help "Ошибки при отправке писем / SMTP errors"
//! (help.mail.ru/mail/mailer/popular and postmaster.mail.ru).

use super::{Provider, Rule};
use crate::model::Reason::*;

/// Mail.Ru.
#[rustfmt::skip]
pub static MAILRU: Provider = Provider {
    name: "mailru",
    hosts: &["mail.ru", "smailru.net"],
    domains: &["bk.ru", "inbox.ru", "internet.ru", "list.ru", "mail.ru"],
    signature: r"help\.mail\.ru|postmaster\.mail\.ru",
    rules: &[
        Rule { id: "mailru:disabled", status: "", pattern: r"account (?:is )?(?:disabled|blocked)|mailbox (?:is )?(?:disabled|blocked)|заблокирован", reason: Suspended },
        Rule { id: "mailru:no_user", status: "", pattern: r"invalid mailbox|user not found|no such user|пользователь не найден", reason: UserUnknown },
        Rule { id: "mailru:full", status: "", pattern: r"over quota|mailbox (?:size limit exceeded|is full|full)|переполнен", reason: MailboxFull },
        Rule { id: "mailru:spam", status: "", pattern: r"spam message rejected|suspicion of spam|notspam|спам", reason: SpamContent },
        Rule { id: "mailru:rate", status: "", pattern: r"ratelimit|rate limit|too many (?:mails|messages|recipients)", reason: RateLimited },
        Rule { id: "mailru:auth", status: "", pattern: r"dmarc|spf|dkim", reason: AuthFailure },
    ],
};

#[cfg(test)]
mod tests {
    #[test]
    fn each_rule_matches_its_documented_text() {
        super::super::assert_documented(
            &super::MAILRU,
            &[
                (
                    "5.0.0",
                    "550 Message was not accepted -- invalid mailbox.  Local mailbox a@mail.ru is unavailable: user not found",
                    "mailru:no_user",
                ),
                (
                    "5.0.0",
                    "550 Message was not accepted -- invalid mailbox.  Local mailbox a@mail.ru is unavailable: account is disabled",
                    "mailru:disabled",
                ),
                (
                    "5.2.2",
                    "552 5.2.2 Message was not accepted: user is over quota",
                    "mailru:full",
                ),
                (
                    "5.0.0",
                    "550 spam message rejected. Please visit http://help.mail.ru/notspam-support/id?c=abc or report details to abuse@corp.mail.ru",
                    "mailru:spam",
                ),
                (
                    "4.7.0",
                    "451 Ratelimit exceeded for mailbox a@mail.ru. Try again later.",
                    "mailru:rate",
                ),
                (
                    "5.7.1",
                    "550 Message rejected due to DMARC policy",
                    "mailru:auth",
                ),
            ],
        );
    }
}
