//! Outlook.com / Hotmail (<https://outlook.live.com>) before Exchange
//! Online: RFC 3464 reports from `postmaster@mail.hotmail.com` written by
//! the Windows SMTP service (`X-DSNContext`, "Microsoft SMTPSVC"), with a
//! short English text and the recipient, status and often no diagnostic in
//! the delivery-status part.

use super::{Detector, scan};
use crate::model::Row;
use crate::parse::Mail;

/// The Outlook.com (Hotmail) detector.
pub struct Outlook;

/// Sender domains of the reports (hotmail.com, msn.com, live.com and
/// their regional variants).
const SENDER_DOMAINS: &[&str] = &["hotmail.", "live.", "msn.", "outlook."];

/// Marks of the Windows SMTP service that wrote the report.
const SMTPSVC: &[&str] = &["microsoft smtpsvc"];

impl Detector for Outlook {
    fn id(&self) -> &'static str {
        "outlook"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        let domain = mail.from.rsplit_once('@').map_or("", |(_, d)| d);
        let hotmail = mail.from.starts_with("postmaster@")
            && SENDER_DOMAINS.iter().any(|d| {
                domain.starts_with(d) || domain.contains(&format!(".{d}"))
            });
        hotmail
            && (mail.has_header("X-DSNContext")
                || scan::header_contains(mail, "Received", SMTPSVC))
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        Some(mail.dsn_rows())
    }
}
