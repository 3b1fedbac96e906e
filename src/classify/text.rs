//! Diagnostic phrases to reasons: the rules of `rules/text.rules`
//! (format: `docs/rules.md`), case-insensitive regexes over the unfolded
//! diagnostic. When several rules match, the first in file order wins, so
//! more specific phrases stand before general ones. Phrases come from the
//! MTAs' and providers' published texts (Postfix, Exim, Sendmail, qmail,
//! Exchange, Gmail, Yahoo, ...).

use std::sync::LazyLock;

use super::rules::{Rules, format};
use crate::model::Reason;

/// The rule of a recipient missing from the receiver's directory: a
/// lookup of the recipient, so its "unknown user" needs no other
/// confirmation (`super::refine::confirm`).
pub(crate) const NOT_IN_DIRECTORY: &str = "text:not_in_directory";

/// The rule file, embedded.
const FILE: &str = include_str!("../../rules/text.rules");

/// The rules, read once.
static RULES: LazyLock<Rules> = LazyLock::new(|| {
    Rules::builtin(&format::parse(FILE).expect("rules/text.rules parses"))
});

/// The first rule whose phrase matches `text`.
pub fn lookup(text: &str) -> Option<(Reason, &'static str)> {
    RULES.lookup(None, text).map(|r| (r.reason(), r.id()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::rules;
    use Reason::*;

    /// The file parses, every phrase matches its examples, every id is a
    /// `text:` id, and every rule decides at least one of its examples
    /// (a rule that decides none is shadowed by the rules before it).
    #[test]
    fn the_file_is_well_formed() {
        let file = format::parse(FILE).unwrap();
        assert!(file.provider.is_none());
        rules::assert_well_formed(&file);
        assert!(file.rules.iter().any(|r| r.id == NOT_IN_DIRECTORY));
        for r in &file.rules {
            assert!(r.id.starts_with("text:"), "{}", r.id);
            assert!(r.status.is_empty(), "{}: no status", r.id);
            assert!(
                r.phrases
                    .iter()
                    .flat_map(|p| p.examples())
                    .any(|e| lookup(e).map(|d| d.1) == Some(r.id)),
                "{} decides none of its examples",
                r.id
            );
        }
    }

    #[test]
    fn text_beats_codes() {
        assert_eq!(
            lookup("550 5.1.1 too many recipients").unwrap().0,
            ExceedLimit
        );
        assert_eq!(lookup("552 5.2.2 Mailbox full").unwrap().0, MailboxFull);
        assert_eq!(
            lookup(
                "550 5.1.1 <a@b>: Recipient address rejected: User unknown"
            )
            .unwrap()
            .0,
            UserUnknown
        );
        assert_eq!(
            lookup("550 5.7.26 Unauthenticated email from example.com is not accepted due to domain's DMARC policy").unwrap().0,
            AuthFailure
        );
        assert_eq!(lookup("554 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org").unwrap().0, Blocklisted);
        assert_eq!(lookup("hello world"), None);
    }

    #[test]
    fn specific_before_general() {
        let cases: &[(&str, Reason)] = &[
            ("501 5.1.8 Sender address rejected", SenderRejected),
            (
                "554 Transaction failed: Duplicate header 'DKIM-Signature'.",
                ContentError,
            ),
            ("550 Bad SPF records for [example.org:192.0.2.2]", AuthFailure),
            ("452 4.3.2 Connection rate limit exceeded.", RateLimited),
            ("550 5.4.312 Message expired, DNS query failed", NetworkError),
            (
                "Host or domain name not found. Name service error for name=example.org type=MX: Host not found, try again",
                NetworkError,
            ),
            ("DNS lookup failure: host example.org not found", HostUnknown),
            (
                "554 delivery error: dd This account has been disabled or discontinued [#102].",
                Suspended,
            ),
            (
                "552 5.2.2 <a@b>: Recipient address rejected: Mailbox full",
                MailboxFull,
            ),
            (
                "550 5.0.0 <a@b>: Recipient address rejected: Policy violation",
                Policy,
            ),
            (
                "user unknown. Command output: procmail: Couldn't create \"/var/spool/mail/a\": No such user",
                MailerError,
            ),
            (
                "550 Your message was rejected: Blacklisted URL in message (uribl)",
                SpamContent,
            ),
            (
                "Unable to contact LDAP server. (#4.4.3) I'm not going to try again; this message has been in the queue too long.",
                SystemError,
            ),
            (
                "Sorry, I wasn't able to establish an SMTP connection. (#4.4.1) I'm not going to try again; this message has been in the queue too long.",
                NetworkError,
            ),
            (
                "The account or domain may not exist, they may be blacklisted, or missing the proper dns entries.",
                HostUnknown,
            ),
            (
                "delivery temporarily suspended: host mx.example.org[192.0.2.1] refused to talk to me: 421 Service not available",
                BlockedIp,
            ),
            (
                "550 domain [example.com] mismatches client ip 192.0.2.1.",
                RequirePtr,
            ),
            ("550 RCP-P2 Refused due to recipient preferences", Filtered),
            ("421 4.3.0 Please try again later", Transient),
            // "Recipient address rejected: <cause>" follows the cause.
            (
                "552 5.2.2 <a@b>: Recipient address rejected: User over quota",
                MailboxFull,
            ),
            (
                "User alice (alice@example.org) not listed in Domino Directory",
                UserUnknown,
            ),
            ("User not listed in public Name & Address Book", UserUnknown),
            (
                "554 5.7.1 Service unavailable; client [192.0.2.1] listed in zen.spamhaus.org",
                Blocklisted,
            ),
            (
                "554 IP=192.0.2.1 - A problem occurred. (Ask your postmaster for help or to contact postmaster@example.net to clarify.) (BL)",
                Blocklisted,
            ),
            (
                "host mx.example.net[192.0.2.30] refused to talk to me: 421 4.7.0 Too many connections, try again later",
                TooManyConnections,
            ),
            (
                "host mx.example.net[192.0.2.30] refused to talk to me: 554 mx.example.net ESMTP not accepting messages",
                BlockedIp,
            ),
        ];
        for (text, want) in cases {
            assert_eq!(lookup(text).map(|r| r.0), Some(*want), "{text}");
        }
    }

    #[test]
    fn documented_texts_in_other_languages() {
        let cases: &[(&str, Reason)] = &[
            ("550 5.1.1 Destinataire inconnu", UserUnknown),
            ("550 Benutzer unbekannt", UserUnknown),
            ("550 5.1.1 Empfänger existiert nicht", UserUnknown),
            ("550 usuario desconocido", UserUnknown),
            ("550 5.1.1 Usuário inexistente", UserUnknown),
            ("550 Пользователь не найден", UserUnknown),
            ("550 Alamat email tidak ditemukan", UserUnknown),
            (
                "ユーザー a (a@example.co.jp) は Domino ディレクトリには見つかりません。",
                UserUnknown,
            ),
            ("552 Boîte aux lettres pleine", MailboxFull),
            ("552 Postfach voll", MailboxFull),
            ("552 buzón lleno", MailboxFull),
            ("552 caixa postal cheia", MailboxFull),
            ("552 Почтовый ящик переполнен", MailboxFull),
            ("552 kotak surat penuh", MailboxFull),
            ("メールボックスがいっぱいです", MailboxFull),
            ("ディレクトリのリストにありません", UserUnknown),
            ("550 Le compte du destinataire est bloque", Suspended),
            ("421 Service refuse. Veuillez reessayer plus tard", Transient),
        ];
        for (text, want) in cases {
            assert_eq!(lookup(text).map(|r| r.0), Some(*want), "{text}");
        }
    }
}
