//! Google Groups (<https://groups.google.com>): the notice Gmail's
//! `mailer-daemon@googlemail.com` sends when a message to a group is
//! refused because the group does not exist or the sender may not post to
//! it. The notice is localised into the sender's language, carries no
//! codes, names the group in `X-Failed-Recipients` and signs "Google
//! Groups" with a link to the Groups help centre; the returned message
//! follows "----- Original message -----".

use super::{Detector, scan};
use crate::model::Reason;
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::addresses_in;

/// The Google Groups detector.
pub struct GoogleGroups;

/// Sender addresses of the notice (the Gmail mailer daemon).
const SENDERS: &[&str] =
    &["mailer-daemon@gmail.com", "mailer-daemon@googlemail.com"];

/// Signatures of the notice in every language: the product name and the
/// help-centre link.
const SIGNATURES: &[&str] = &["google groups", "groups.google.com"];

/// Where the returned message starts.
const ORIGINAL: &[&str] = &["----- original message -----"];

impl Detector for GoogleGroups {
    fn id(&self) -> &'static str {
        "googlegroups"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        SENDERS.contains(&mail.from.as_str())
            && mail.dsn.is_none()
            && scan::has_marker(scan::until(&mail.text, ORIGINAL), SIGNATURES)
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let notice = scan::until(&mail.text, ORIGINAL);
        let mut recipients: Vec<String> = mail
            .header("X-Failed-Recipients")
            .map(|h| addresses_in(&h))
            .unwrap_or_default();
        if recipients.is_empty() {
            recipients = mail.returned.as_ref().map(|r| r.to())?;
        }
        let row = Row {
            action: Some("failed".into()),
            diagnostic: Some(scan::join(notice)),
            // The group refused the post: it is missing or closed to the
            // sender, which is the group's policy either way.
            reason: Some(Reason::Policy),
            ..Row::default()
        };
        Some(
            recipients
                .into_iter()
                .map(|r| Row { recipient: Some(r), ..row.clone() })
                .collect(),
        )
    }
}
