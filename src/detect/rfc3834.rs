//! RFC 3834 automatic responses: out-of-office and vacation replies. They
//! are recognised by their headers (Auto-Submitted: auto-replied,
//! X-Autoreply, X-Autorespond, Precedence: auto_reply, X-Auto-Response-
//! Suppress on Exchange replies) or by out-of-office subjects in several
//! languages. The recipient is the person who is away: the reply's From.

use std::sync::LazyLock;

use regex::Regex;

use super::{Detector, Row};
use crate::model::EventType;
use crate::parse::Mail;

/// The auto-reply detector.
pub struct Rfc3834;

/// Out-of-office subjects, sorted by language. Sources: the default
/// subjects of Exchange/Outlook, Gmail, Zimbra, Dovecot Sieve vacation and
/// common localisations.
#[rustfmt::skip]
static SUBJECTS: LazyLock<Regex> = LazyLock::new(|| Regex::new(concat!(
    r"(?i)^(?:",
    // English
    r"auto(?:matic)?[ -]?(?:reply|response|respons|answer)|autoreply|auto[- ]?respond|",
    r"out of (?:the )?office|away from (?:the )?office|on vacation|vacation (?:reply|message|notice)|",
    r"i am (?:currently )?(?:out|away)|i'm (?:currently )?(?:out|away)|",
    // German
    r"automatische antwort|abwesenheitsnotiz|abwesenheit|außer haus|nicht im büro|",
    // French
    r"réponse automatique|reponse automatique|absence|absent du bureau|",
    // Spanish / Portuguese
    r"respuesta automática|respuesta automatica|fuera de la oficina|ausente|resposta automática|resposta automatica|fora do escritório|",
    // Indonesian
    r"balasan otomatis|sedang cuti|di luar kantor|",
    // Dutch / Italian
    r"automatisch antwoord|afwezig|risposta automatica|fuori ufficio|",
    // Japanese
    r"自動返信|自動応答|不在通知|不在のお知らせ|休暇",
    r")",
)).unwrap());

fn header_says_auto_reply(mail: &Mail<'_>) -> bool {
    let auto = mail
        .header("Auto-Submitted")
        .map(|v| v.to_ascii_lowercase())
        .is_some_and(|v| v.starts_with("auto-replied"));
    let precedence = mail
        .header("Precedence")
        .is_some_and(|v| v.eq_ignore_ascii_case("auto_reply"));
    auto || precedence
        || mail.has_header("X-Autoreply")
        || mail.has_header("X-Autorespond")
        || mail.header("X-Auto-Response-Suppress").is_some()
            && SUBJECTS.is_match(&mail.subject)
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
        if !(header_says_auto_reply(mail) || SUBJECTS.is_match(subject)) {
            return None;
        }
        let from = Some(mail.from.clone()).filter(|f| f.contains('@'))?;
        if from.starts_with("mailer-daemon@")
            || from.starts_with("postmaster@")
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
