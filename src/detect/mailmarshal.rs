//! Trustwave (formerly Marshal) MailMarshal SMTP: "Undeliverable Mail",
//! "Your message: ...", "Could not be delivered because of" and the
//! remote reply, "The following recipients were affected:" with one
//! indented address per line, and "Additional Information" fields
//! (`Remote-MTA: <192.0.2.1>`, `Reporting-MTA: <host>`).

use super::Detector;
use super::scan;
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::address_in;

/// The MailMarshal detector.
pub struct MailMarshal;

const BECAUSE: &str = "Could not be delivered because of";
const AFFECTED: &str = "The following recipients were affected:";
const ADDITIONAL: &str = "Additional Information";

impl Detector for MailMarshal {
    fn id(&self) -> &'static str {
        "mailmarshal"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.text_has(BECAUSE) && mail.text_has(AFFECTED)
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let text = &mail.text;
        let diagnostic = scan::section(text, &[BECAUSE], &[AFFECTED])?
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let info = |name: &str| {
            scan::section(text, &[ADDITIONAL], &[])?
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().trim_matches(['<', '>']).to_string())
        };
        let (remote, reporting) =
            (info("Remote-MTA:"), info("Reporting-MTA:"));
        let rows = scan::section(text, &[AFFECTED], &[ADDITIONAL])?
            .lines()
            .filter_map(address_in)
            .map(|a| Row {
                recipient: Some(a),
                diagnostic: Some(diagnostic.clone()),
                remote_mta: remote.clone(),
                reporting_mta: reporting.clone(),
                action: Some("failed".into()),
                ..Row::default()
            })
            .collect();
        Some(rows)
    }
}
