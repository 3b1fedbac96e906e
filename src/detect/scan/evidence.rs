//! The evidence that a message is a delivery report, layer by layer, as a
//! postmaster reads it: who sent it (a mail system's mailbox or display
//! name, the null return path), its subject (failure and delay subjects in
//! several languages, never a reply's or forward's), its headers
//! (X-Failed-Recipients, DSN fields in the outer header, a qmail "invoked
//! for bounce" Received line, a report content type), its text (failure
//! sentences in several languages) and the original it returns.
//!
//! The MTA detectors read their formats from their own markers; the
//! generic reader (`rfc3464`) uses this evidence to decide that a message
//! none of them knows is still a report, so that it never silently gives
//! nothing. Ordinary mail (newsletters, replies quoting a bounce, a
//! parcel service's "could not be delivered") lacks the sender layer or
//! the report layers and stays ordinary.

use std::sync::LazyLock;

use regex::Regex;

use super::sender::has_header_prefixed;
use crate::parse::Mail;

/// Subjects of non-delivery and delay reports (RFC 3464 does not fix one;
/// these are the defaults of MTAs and gateways: "Undeliverable: ...",
/// "Returned mail: ...", MDaemon's "Permanent Delivery Failure", Smail's
/// "mail failed, returning to sender", GroupWise's "Message status -
/// undeliverable", qmail's "failure notice", Exchange's localised
/// "Unzustellbar", "Non remis", ...). They may stand anywhere in the
/// subject.
static BOUNCE_SUBJECT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)undeliver(?:able|ed)|non[- ]?deliver|returned mail|returning to sender|returned to sender|delivery (?:status notification|failure|has failed|notification|failed|problem)|(?:mail|message) delivery (?:failed|failure|system)|(?:permanent|fatal) (?:delivery )?(?:failure|error)|failure notice|(?:mail|message) (?:not delivered|failed|could not be delivered)|could not (?:send|deliver) (?:your )?message|unzustellbar|nicht zustellbar|non remis|non distribu[ée]|no (?:se puede|se pudo) entregar|no entregado|n[ãa]o (?:foi )?entregue|onbestelbaar|non recapitabile",
    )
    .unwrap()
});

/// Sentences in which a mail system says that a message was not delivered
/// (or is delayed), by language. Sources: the default texts of Sendmail,
/// Postfix, Exim, qmail, Exchange, MDaemon, CommuniGate and the localised
/// notices of hosting providers; phrasing facts cross-checked with the
/// reference rule sets in `shared/reference/bounce-rules`.
#[rustfmt::skip]
static FAILURE_TEXT: LazyLock<Regex> = LazyLock::new(|| Regex::new(concat!(
    r"(?i)(?:",
    // English
    r"(?:could|can)(?: ?not|n't|n’t) be delivered|(?:could|can)(?: ?not|n't|n’t) deliver|",
    r"(?:was|were|has|have) not been delivered|was not delivered|undeliverable|",
    r"unable to deliver|delivery (?:to [^\n]{1,80} )?(?:has )?failed|failed to deliver|",
    r"permanent(?: fatal)? (?:delivery )?errors?|delivery (?:has been )?delayed|",
    r"could not be sent to|message (?:was )?rejected by|",
    // German
    r"nicht zugestellt werden|konnte nicht zugestellt|unzustellbar|zustellung (?:ist )?fehlgeschlagen|",
    // French
    r"n'a pas pu être (?:remis|distribué|livré|transmis)|n’a pas pu être (?:remis|distribué|livré)|non remis|",
    // Spanish
    r"no (?:se )?(?:ha )?(?:podido|pudo) (?:ser )?entregar|no pudo ser entregado|",
    // Portuguese
    r"não (?:foi possível|pôde ser) entreg|nao foi possivel entreg|",
    // Italian
    r"non (?:è stato|e' stato|è stata) (?:possibile )?(?:recapitat|consegnat)|",
    // Dutch
    r"kon niet (?:worden )?(?:afgeleverd|bezorgd)|onbestelbaar|",
    // Polish
    r"nie (?:może|mogła|został[ao]?|można) (?:zostać )?dostarcz|",
    // Russian
    r"не (?:может быть|удалось|был[ао]?) доставлен|не удалось доставить|",
    // Chinese
    r"无法(?:投递|送达)|未能送达|退信|",
    // Japanese
    r"配信できませんでした|届けることができませんでした|配送できません|",
    // Korean
    r"전달(?:되지|할 수) 않|전송(?:하지 못|실패)|",
    // Indonesian
    r"tidak dapat (?:dikirim|terkirim)|gagal (?:dikirim|terkirim)",
    r")",
)).unwrap());

/// Subject prefixes of a person's reply or forward: such a message may
/// discuss or quote a report but is not one.
#[rustfmt::skip]
const REPLY_PREFIXES: &[&str] = &["aw:", "fw:", "fwd:", "re:", "rv:", "sv:", "tr:", "wg:"];

/// Mailboxes of mail systems rather than people.
#[rustfmt::skip]
const SYSTEM_MAILBOXES: &[&str] = &[
    "mail-daemon", "mailer-daemon", "mailerdaemon", "mdaemon", "postmaster",
];

/// Display names of mail systems ("Mail Delivery System", "Mail Delivery
/// Subsystem", "Mail Administrator", "System Administrator", Exchange
/// 5.5's sender, "CommuniGate Pro").
#[rustfmt::skip]
const SYSTEM_NAMES: &[&str] = &[
    "communigate", "mail administrator", "mail delivery", "mail system",
    "mailer daemon", "mailer-daemon", "postmaster", "system administrator",
];

/// True for the mailbox of a mail system rather than a person.
pub(crate) fn is_system_address(addr: &str) -> bool {
    let local = addr.split('@').next().unwrap_or("");
    SYSTEM_MAILBOXES.iter().any(|d| local.eq_ignore_ascii_case(d))
}

/// Local-part prefixes and suffixes of a list manager's role addresses
/// (Mailman's `-owner`, `-request`, `-bounces`, Majordomo's `owner-`,
/// ezmlm's `-return-`): a list, not a member.
#[rustfmt::skip]
const LIST_ROLE_SUFFIXES: &[&str] = &["-bounces", "-owner", "-request"];
#[rustfmt::skip]
const LIST_ROLE_PREFIXES: &[&str] = &["owner-"];

/// True for a list manager's role address (see [`LIST_ROLE_SUFFIXES`]),
/// never a failed member.
pub(crate) fn is_list_address(addr: &str) -> bool {
    let local = addr.split('@').next().unwrap_or("").to_ascii_lowercase();
    LIST_ROLE_SUFFIXES.iter().any(|s| local.ends_with(s))
        || LIST_ROLE_PREFIXES.iter().any(|p| local.starts_with(p))
        || local.contains("-return-")
}

/// Mail from a mail system: its own mailbox, or a sender named as one.
pub(crate) fn from_mail_system(mail: &Mail<'_>) -> bool {
    if is_system_address(&mail.from) {
        return true;
    }
    let Some(from) = mail.header("From") else { return false };
    let name = from.split('<').next().unwrap_or("").to_ascii_lowercase();
    SYSTEM_NAMES.iter().any(|n| name.contains(n))
}

/// Mail sent by a program rather than a person: a mail system (see
/// [`from_mail_system`]), the null return path, or a list manager's role
/// address (see [`is_list_address`]).
pub(crate) fn from_automaton(mail: &Mail<'_>) -> bool {
    from_mail_system(mail)
        || from_null_sender(mail)
        || is_list_address(&mail.from)
}

/// True when the message was sent with the null return path (`<>`), as
/// RFC 5321 section 4.5.5 requires of delivery reports.
pub(crate) fn from_null_sender(mail: &Mail<'_>) -> bool {
    mail.header("Return-Path").is_some_and(|v| v.trim() == "<>")
}

/// True when the subject is a person's reply or forward.
pub(crate) fn is_reply(subject: &str) -> bool {
    let s = subject.trim_start().to_ascii_lowercase();
    REPLY_PREFIXES.iter().any(|p| s.starts_with(p))
}

/// True when the subject is a non-delivery or delay report's.
pub(crate) fn bounce_subject(subject: &str) -> bool {
    BOUNCE_SUBJECT.is_match(subject)
}

/// True when `text` holds a sentence saying that a message was not
/// delivered.
pub(crate) fn failure_text(text: &str) -> bool {
    FAILURE_TEXT.is_match(text)
}

/// Header evidence of a report: X-Failed-Recipients, DSN recipient fields
/// in the outer header, a qmail bounce's own Received line, a
/// delivery-status report type.
pub(crate) fn report_headers(mail: &Mail<'_>) -> bool {
    has_header_prefixed(
        mail,
        &["final-recipient", "original-recipient", "x-failed-recipients"],
    ) || mail
        .headers_where(|n| n.eq_ignore_ascii_case("received"))
        .any(|(_, v)| v.contains("invoked for bounce"))
        || mail.content_type == "multipart/report"
}

/// The layers of evidence a message carries.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Evidence {
    /// Sent by a mail system's mailbox or display name.
    pub system_sender: bool,
    /// Sent with the null return path.
    pub null_sender: bool,
    /// A failure or delay subject that is not a reply's.
    pub subject: bool,
    /// Report headers ([`report_headers`]).
    pub headers: bool,
    /// A failure sentence in the text before any returned copy.
    pub text: bool,
    /// The original message comes back with it.
    pub original: bool,
}

impl Evidence {
    /// Reads the layers of `mail`; `own_text` is the report's own text
    /// (without a returned copy pasted after it).
    pub(crate) fn of(mail: &Mail<'_>, own_text: &str) -> Evidence {
        let reply = is_reply(&mail.subject);
        Evidence {
            system_sender: from_mail_system(mail),
            null_sender: from_null_sender(mail),
            subject: !reply && bounce_subject(&mail.subject),
            headers: report_headers(mail),
            text: !reply && failure_text(own_text),
            original: mail.returned.is_some(),
        }
    }

    /// True when the layers together make a report: a mail system sent it
    /// (its name or the null return path), the subject or the text says
    /// delivery failed, and at least three layers agree (a mail system's
    /// name counts twice: it is the strongest single sign).
    pub(crate) fn is_report(&self) -> bool {
        let sender = self.system_sender || self.null_sender;
        let layers = [
            self.system_sender,
            self.system_sender,
            self.null_sender,
            self.subject,
            self.headers,
            self.text,
            self.original,
        ];
        sender
            && (self.subject || self.text)
            && layers.iter().filter(|&&l| l).count() >= 3
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::scan::search::is_sorted_keys;

    #[test]
    fn tables_are_sorted() {
        assert!(is_sorted_keys(REPLY_PREFIXES.iter().copied()));
        assert!(is_sorted_keys(SYSTEM_MAILBOXES.iter().copied()));
        assert!(is_sorted_keys(SYSTEM_NAMES.iter().copied()));
        assert!(is_sorted_keys(LIST_ROLE_SUFFIXES.iter().copied()));
    }

    #[test]
    fn list_role_addresses_are_not_members() {
        for a in [
            "announce-owner@lists.example.com",
            "owner-staff@example.org",
            "news-bounces@example.com",
            "news-request@example.com",
            "list-return-12-member=example.org@example.com",
        ] {
            assert!(is_list_address(a), "{a}");
        }
        assert!(!is_list_address("owner@example.com"));
        assert!(!is_list_address("jane.owner@example.com"));
    }

    #[test]
    fn failure_sentences_in_many_languages() {
        for t in [
            "Your message could not be delivered to one or more recipients.",
            "Delivery to the following recipient failed permanently:",
            "The attached message had PERMANENT fatal delivery errors!",
            "Ihre Nachricht konnte nicht zugestellt werden.",
            "Votre message n'a pas pu être remis.",
            "El mensaje no se ha podido entregar.",
            "A mensagem não foi possível entregar ao destinatário.",
            "Il messaggio non è stato recapitato.",
            "Het bericht kon niet worden afgeleverd.",
            "Wiadomość nie została dostarczona.",
            "Сообщение не может быть доставлено.",
            "邮件无法投递",
            "メッセージを配信できませんでした",
            "메일이 전달되지 않았습니다",
            "Pesan tidak dapat dikirim.",
        ] {
            assert!(failure_text(t), "{t}");
        }
        for t in [
            "Your order has been delivered.",
            "Thanks, the report was sent to everyone.",
        ] {
            assert!(!failure_text(t), "{t}");
        }
    }

    #[test]
    fn replies_and_forwards_are_not_reports() {
        assert!(is_reply("Re: Undelivered Mail Returned to Sender"));
        assert!(is_reply("  FWD: failure notice"));
        assert!(!is_reply("Undeliverable: Re: lunch"));
        assert!(bounce_subject("Undeliverable: Re: lunch"));
    }

    #[test]
    fn three_layers_with_a_sender_make_a_report() {
        let name_subject = Evidence {
            system_sender: true,
            subject: true,
            ..Evidence::default()
        };
        assert!(name_subject.is_report());
        let null_text_original = Evidence {
            null_sender: true,
            text: true,
            original: true,
            ..Evidence::default()
        };
        assert!(null_text_original.is_report());
        // A mail system's notice that says nothing failed.
        let quota = Evidence {
            system_sender: true,
            null_sender: true,
            ..Evidence::default()
        };
        assert!(!quota.is_report());
        // Failure words from a person or a shop: no sender layer.
        let shop = Evidence {
            subject: true,
            text: true,
            headers: true,
            ..Evidence::default()
        };
        assert!(!shop.is_report());
        // Null return path and failure text alone: two layers.
        let thin =
            Evidence { null_sender: true, text: true, ..Evidence::default() };
        assert!(!thin.is_report());
    }
}
