//! Unsubscribe requests mailed to the bounce or list address (the mailto:
//! form of List-Unsubscribe, RFC 2369): a subject that is the command
//! `unsubscribe` (or a localised form), a body that is only the command
//! under an empty subject, a message addressed to an `unsubscribe`
//! mailbox, or Apple Mail's `X-Apple-Unsubscribe: true`. The recipient to
//! suppress is the sender.

use super::Detector;
use crate::model::EventType;
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::addresses_in;

/// The unsubscribe-request detector.
pub struct Unsubscribe;

/// Subjects that are an unsubscribe command, lower-case, sorted.
#[rustfmt::skip]
const COMMANDS: &[&str] = &[
    "abbestellen", "afmelden", "berhenti berlangganan", "darse de baja", "desabonner",
    "desinscription", "désabonner", "désinscription", "remove", "remove me",
    "stop", "unsubscribe", "unsubscribe me", "配信停止",
];

fn is_command(subject: &str) -> bool {
    let s = subject.trim().trim_end_matches(['.', '!']).to_lowercase();
    COMMANDS.binary_search(&s.as_str()).is_ok()
        || s.strip_prefix("unsubscribe ")
            .is_some_and(|rest| !rest.contains(' ') || rest.len() < 40)
}

impl Detector for Unsubscribe {
    fn id(&self) -> &'static str {
        "unsubscribe"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.dsn.is_none()
            && mail.feedback.is_none()
            && mail.from.contains('@')
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        if mail.from.starts_with("mailer-daemon@")
            || mail.from.starts_with("postmaster@")
        {
            return None;
        }
        let to_unsub = mail.header("To").is_some_and(|t| {
            addresses_in(&t).iter().any(|a| {
                a.rsplit_once('@').is_some_and(|(local, _)| {
                    local.to_ascii_lowercase().contains("unsubscribe")
                })
            })
        });
        let apple = mail
            .header("X-Apple-Unsubscribe")
            .is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let body_command = mail.subject.is_empty()
            && mail
                .text
                .lines()
                .find(|l| !l.trim().is_empty())
                .is_some_and(is_command);
        if !(is_command(&mail.subject) || to_unsub || apple || body_command) {
            return None;
        }
        Some(vec![Row {
            recipient: Some(mail.from.clone()),
            kind: Some(EventType::Unsubscribe),
            diagnostic: Some(format!("unsubscribe request: {}", mail.subject)),
            ..Row::default()
        }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_sorted_and_matched() {
        let mut sorted = COMMANDS.to_vec();
        sorted.sort();
        assert_eq!(sorted, COMMANDS);
        assert!(is_command("Unsubscribe"));
        assert!(is_command("unsubscribe list-42"));
        assert!(!is_command(
            "How to unsubscribe from our list of great offers and more"
        ));
    }
}
