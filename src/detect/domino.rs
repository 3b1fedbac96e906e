//! HCL (formerly IBM Lotus) Domino: "DELIVERY FAILURE: ..." with "Your
//! message ... was not delivered to:", the indented addresses, "because:"
//! and the reason, plus an RFC 3464 part (`Diagnostic-Code: X-Notes; ...`)
//! whose rows are completed from the text.

use super::Detector;
use super::scan::{self, Follow};
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::address_in;

/// The Domino detector.
pub struct Domino;

const NOT_DELIVERED: &str = "was not delivered to:";
const BECAUSE: &str = "because:";

impl Detector for Domino {
    fn id(&self) -> &'static str {
        "domino"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.text_has(NOT_DELIVERED) && mail.text_has(BECAUSE)
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let text = &mail.text;
        let reason = scan::section(text, &[BECAUSE], &[])
            .map(|s| {
                let lines = scan::blocks(
                    s,
                    |l| l.starts_with("  "),
                    Follow::Paragraph,
                );
                lines.first().map(|b| {
                    std::iter::once(b.head)
                        .chain(b.body.iter().copied())
                        .collect::<Vec<_>>()
                        .join(" ")
                })
            })
            .unwrap_or_default();
        let found = scan::section(text, &[NOT_DELIVERED], &[BECAUSE])?
            .lines()
            .filter_map(address_in)
            .map(|a| Row {
                recipient: Some(a),
                diagnostic: reason.clone(),
                action: Some("failed".into()),
                ..Row::default()
            })
            .collect();
        Some(scan::merge_with_dsn(mail.dsn_rows(), found))
    }
}
