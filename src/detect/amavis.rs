//! amavis (amavisd-new, <https://www.amavis.org/>), the content filter:
//! its non-delivery notices ("Considered UNSOLICITED BULK EMAIL,
//! apparently from you", "VIRUS ... IN MAIL FROM YOU", "BANNED CONTENTS
//! ALERT") say "A message from <sender> to:", list `-> a@b` recipients and
//! name the verdict ("was considered unsolicited bulk e-mail (UBE).",
//! "contains a virus", "contains banned ..."). An RFC 3464 part usually
//! follows; the verdict is the reason the format states.

use super::Detector;
use crate::model::Reason;
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::address_in;

/// The amavis detector.
pub struct Amavis;

const INTRO: &str = "A message from <";

/// amavis's verdict sentences (lower-case, sorted; amavisd-new's notice
/// templates).
#[rustfmt::skip]
const VERDICTS: &[(&str, Reason)] = &[
    ("contains banned", Reason::Virus),
    ("infected", Reason::Virus),
    ("was considered unsolicited bulk e-mail", Reason::SpamContent),
];

impl Detector for Amavis {
    fn id(&self) -> &'static str {
        "amavis"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.text_has(INTRO) && mail.text.lines().any(|l| l.starts_with("-> "))
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let lower = mail.text.to_ascii_lowercase();
        let reason = VERDICTS
            .iter()
            .find(|(m, _)| lower.contains(m))
            .map(|(_, r)| *r)?;
        let verdict = mail
            .text
            .lines()
            .find(|l| {
                VERDICTS
                    .iter()
                    .any(|(m, _)| l.to_ascii_lowercase().contains(m))
            })
            .map(|l| l.trim().to_string());
        let mut rows = mail.dsn_rows();
        if rows.is_empty() {
            rows = mail
                .text
                .lines()
                .filter_map(|l| l.strip_prefix("-> "))
                .filter_map(address_in)
                .map(|a| Row {
                    recipient: Some(a),
                    action: Some("failed".into()),
                    diagnostic: verdict.clone(),
                    ..Row::default()
                })
                .collect();
        }
        for r in &mut rows {
            r.reason = Some(reason);
        }
        Some(rows)
    }
}
