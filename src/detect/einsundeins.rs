//! 1&1 / IONOS (United Internet, `mailer-daemon@kundenserver.de`) returned
//! mail, in English or German: "The following address failed:" (or "...
//! failed:" wrapped over two lines), the address, "For the following
//! reason:" and the reason, then "--- The header of the original message is
//! following. ---". GMX and mail.com run the same platform and share this
//! reader ([`decode_platform`]); 1&1 adds explanation links to
//! postmaster.1and1.com.

use super::Detector;
use super::scan::{
    address_blocks, block_row, from_daemon, from_domain_in, merge_with_dsn,
    section,
};
use crate::model::Reason;
use crate::model::Row;
use crate::parse::Mail;

/// The 1&1 detector.
pub struct EinsUndEins;

/// Lines that open the recipient list, lower-case: English and German.
#[rustfmt::skip]
const STARTS: &[&str] = &[
    "adresse ist fehlgeschlagen:", "adressen sind fehlgeschlagen:", "failed:",
];

/// Lines that close it: the banner before the original header.
const ENDS: &[&str] = &["--- "];

/// Label lines inside a recipient block, dropped from the diagnostic.
#[rustfmt::skip]
const LABELS: &[&str] = &["aus folgendem grund:", "for the following reason:"];

/// Reasons the platform states, lower-case, sorted. Source: the 1&1 / IONOS
/// postmaster error-message pages (English and German wording).
#[rustfmt::skip]
const PHRASES: &[(&str, Reason)] = &[
    ("mail size limit exceeded", Reason::MessageTooBig),
    ("mailbox quota exceeded", Reason::MailboxFull),
    ("nachricht ist zu groß", Reason::MessageTooBig),
    ("postfach ist voll", Reason::MailboxFull),
];

/// Reads a United Internet platform report (1&1, IONOS, GMX, mail.com).
pub(super) fn decode_platform(mail: &Mail<'_>) -> Option<Vec<Row>> {
    let list = section(&mail.text, STARTS, ENDS)?;
    let rows = address_blocks(list, &[])
        .into_iter()
        .map(|mut b| {
            b.body.retain(|l| !LABELS.contains(&l.to_lowercase().as_str()));
            block_row(&b, PHRASES)
        })
        .collect();
    Some(merge_with_dsn(mail.dsn_rows(), rows))
}

impl Detector for EinsUndEins {
    fn id(&self) -> &'static str {
        "einsundeins"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        from_daemon(&mail.from)
            && (from_domain_in(
                &mail.from,
                &["kundenserver.de", "1and1.com", "ionos.com"],
            ) || mail.text_has("postmaster.1and1.com"))
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        decode_platform(mail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::scan::is_sorted_table;

    #[test]
    fn tables_are_sorted() {
        assert!(is_sorted_table(PHRASES));
        assert!(STARTS.windows(2).all(|w| w[0] < w[1]));
        assert!(LABELS.windows(2).all(|w| w[0] < w[1]));
    }
}
