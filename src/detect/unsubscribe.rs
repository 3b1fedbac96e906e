//! Unsubscribe requests mailed to the bounce or list address (the mailto:
//! form of List-Unsubscribe, RFC 2369): a subject that is the command
//! `unsubscribe` (or a localised form), or a message addressed to an
//! `unsubscribe` mailbox. The recipient to suppress is the sender.

use super::{Detector, Row};
use crate::model::EventType;
use crate::parse::Mail;

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
        let to_unsub = mail
            .header("To")
            .map(|t| t.to_ascii_lowercase())
            .is_some_and(|t| t.contains("unsubscribe") && t.contains('@'));
        if !(is_command(&mail.subject) || to_unsub) {
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
