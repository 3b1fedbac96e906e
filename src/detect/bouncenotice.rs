//! A hosting provider's "email bounce notification": a bilingual
//! (German first, "english text below") plain-text notice from
//! `postmaster@`, stating the reason and the address as labelled lines:
//!
//! ```text
//! ##       automatic bounce notification (english text below)           ##
//! ...
//! reject reason: Mailbox full
//! target mail address: user@example.org
//! ----------------------------------------------------------------------
//! bounced E-Mail:
//! ```
//!
//! The notice carries no SMTP codes.

use super::{Detector, scan};
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::address_in;

/// The bounce-notification detector.
pub struct BounceNotice;

/// The banner of the notice.
const BANNER: &[&str] = &["automatic bounce notification"];

/// Labelled lines of the notice and what they hold.
#[rustfmt::skip]
static LABELS: &[(&str, Label)] = &[
    ("reject reason:", Label::Reason),
    ("target mail address:", Label::Address),
];

/// What a labelled line holds.
#[derive(Clone, Copy, PartialEq)]
enum Label {
    Reason,
    Address,
}

/// Where the returned message starts.
const ORIGINAL: &[&str] = &["bounced e-mail:"];

impl Detector for BounceNotice {
    fn id(&self) -> &'static str {
        "bouncenotice"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        scan::lines(&mail.text)
            .take(10)
            .any(|(_, l)| scan::has_marker(l, BANNER))
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let mut row = Row { action: Some("failed".into()), ..Row::default() };
        for (_, line) in scan::lines(scan::until(&mail.text, ORIGINAL)) {
            let Some(label) = scan::lookup(line, LABELS) else {
                continue;
            };
            let value = line.split_once(':').map_or("", |(_, v)| v.trim());
            match label {
                Label::Reason => row.diagnostic = Some(value.to_string()),
                Label::Address => row.recipient = address_in(value),
            }
        }
        row.recipient.is_some().then(|| vec![row])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted() {
        assert!(scan::is_sorted_table(LABELS));
    }
}
