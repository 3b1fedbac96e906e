//! Lotus Notes' SMTP MTA (before Domino's RFC 3464 reports): "Undeliverable
//! message", "------- Failure Reasons --------" with the reason and the
//! failed address on their own lines, then "------- Returned Message
//! --------".

use super::Detector;
use super::scan;
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::address_in;

/// The Lotus Notes detector.
pub struct Notes;

const REASONS: &str = "------- Failure Reasons";
const RETURNED: &str = "------- Returned Message";

impl Detector for Notes {
    fn id(&self) -> &'static str {
        "notes"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.text_has(REASONS) && mail.text_has(RETURNED)
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let section = scan::section(&mail.text, &[REASONS], &[RETURNED])?;
        let lines: Vec<&str> =
            section.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        let reason = lines
            .iter()
            .filter(|l| address_in(l).as_deref() != Some(**l))
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        let rows = lines
            .iter()
            .filter_map(|l| address_in(l).filter(|a| a == l))
            .map(|a| Row {
                recipient: Some(a),
                diagnostic: (!reason.is_empty()).then(|| reason.clone()),
                action: Some("failed".into()),
                ..Row::default()
            })
            .collect();
        Some(rows)
    }
}
