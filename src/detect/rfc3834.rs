//! RFC 3834 automatic responses: out-of-office and vacation replies. They
//! are recognised by their headers (Auto-Submitted: auto-replied,
//! X-Autoreply, X-Autorespond, Precedence: auto_reply) or by their subject:
//! an unmistakable out-of-office subject in one of several languages
//! counts alone; a word that also starts ordinary subjects ("Absence",
//! "Vacation") counts only on mail that says it was sent automatically
//! (Exchange's X-Auto-Response-Suppress, Auto-Submitted, Precedence). The
//! recipient is the person who is away: the reply's From.

use std::sync::LazyLock;

use regex::Regex;

use super::Detector;
use crate::model::EventType;
use crate::model::Row;
use crate::parse::Mail;

/// The auto-reply detector.
pub struct Rfc3834;

/// Out-of-office subjects that ordinary mail does not start with, by
/// language. Sources: the default subjects of Exchange/Outlook ("Automatic
/// reply:" and its localisations), Gmail, Zimbra, Dovecot Sieve vacation.
#[rustfmt::skip]
static SUBJECTS: LazyLock<Regex> = LazyLock::new(|| Regex::new(concat!(
    r"(?i)^(?:",
    // English
    r"auto(?:matic)?[ -]?(?:reply|response|respons|answer)|autoreply|auto[- ]?respond|",
    r"out of (?:the )?office|away from (?:the )?office|vacation (?:reply|message|notice)|",
    // German
    r"automatische antwort|abwesenheitsnotiz|nicht im büro|",
    // French
    r"réponse automatique|reponse automatique|absent du bureau|",
    // Spanish / Portuguese
    r"respuesta automática|respuesta automatica|fuera de la oficina|resposta automática|resposta automatica|fora do escritório|",
    // Indonesian
    r"balasan otomatis|di luar kantor|",
    // Dutch / Italian
    r"automatisch antwoord|risposta automatica|fuori ufficio|",
    // Japanese
    r"自動返信|自動応答|不在通知|不在のお知らせ",
    r")",
)).unwrap());

/// Subjects of auto-replies that ordinary mail may also start with; they
/// count only on mail marked as automatic.
#[rustfmt::skip]
static WEAK_SUBJECTS: LazyLock<Regex> = LazyLock::new(|| Regex::new(concat!(
    r"(?i)^(?:",
    r"on vacation|i am (?:currently )?(?:out|away)|i'm (?:currently )?(?:out|away)|out of town|",
    r"abwesenheit|außer haus|urlaub|",
    r"absence|absent|en congés|",
    r"ausente|vacaciones|",
    r"sedang cuti|cuti|",
    r"afwezig|assente|",
    r"休暇|不在",
    r")",
)).unwrap());

/// Headers that say the reply itself is an automatic response.
fn header_says_auto_reply(mail: &Mail<'_>) -> bool {
    mail.header("Auto-Submitted")
        .is_some_and(|v| v.to_ascii_lowercase().starts_with("auto-replied"))
        || mail
            .header("Precedence")
            .is_some_and(|v| v.eq_ignore_ascii_case("auto_reply"))
        || mail.has_header("X-Autoreply")
        || mail.has_header("X-Autorespond")
}

/// Headers that mark mail as sent by a program, without saying it is a
/// reply (Exchange marks its automatic replies only with this).
fn header_says_automatic(mail: &Mail<'_>) -> bool {
    mail.has_header("X-Auto-Response-Suppress")
        || mail
            .header("Auto-Submitted")
            .is_some_and(|v| !v.eq_ignore_ascii_case("no"))
        || mail.header("Precedence").is_some_and(|v| {
            matches!(v.to_ascii_lowercase().as_str(), "bulk" | "junk")
        })
}

impl Detector for Rfc3834 {
    fn id(&self) -> &'static str {
        "rfc3834"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        // Reports from mailer daemons are never auto-replies.
        mail.dsn.is_none() && mail.feedback.is_none()
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let subject = mail
            .subject
            .trim_start_matches(|c: char| c == '[' || c.is_whitespace());
        let auto_reply = header_says_auto_reply(mail)
            || SUBJECTS.is_match(subject)
            || WEAK_SUBJECTS.is_match(subject) && header_says_automatic(mail);
        if !auto_reply {
            return None;
        }
        let from = Some(mail.from.clone()).filter(|f| f.contains('@'))?;
        let local = from.split('@').next().unwrap_or("");
        if local.eq_ignore_ascii_case("mailer-daemon")
            || local.eq_ignore_ascii_case("postmaster")
        {
            return None;
        }
        let body: String = mail.text.chars().take(300).collect();
        Some(vec![Row {
            recipient: Some(from),
            kind: Some(EventType::AutoReply),
            diagnostic: Some(
                body.split_whitespace().collect::<Vec<_>>().join(" "),
            ),
            ..Row::default()
        }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strong_and_weak_subjects() {
        for s in [
            "Automatic reply: Offer",
            "Out of Office: Re: hello",
            "Abwesenheitsnotiz: Angebot",
            "Réponse automatique : Offre",
            "Respuesta automática: Oferta",
            "Balasan Otomatis: Penawaran",
            "自動返信: ご案内",
        ] {
            assert!(SUBJECTS.is_match(s), "{s}");
        }
        for s in ["Absence de Marie", "Abwesenheit", "Cuti bersama", "休暇"]
        {
            assert!(!SUBJECTS.is_match(s), "{s}");
            assert!(WEAK_SUBJECTS.is_match(s), "{s}");
        }
        assert!(!SUBJECTS.is_match("Re: out of office plans"));
    }
}
