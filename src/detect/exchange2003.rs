//! Microsoft Exchange Server 5.5, 2000 and 2003 (the Internet Mail
//! Service / Internet Mail Connector and the Exchange 2003 SMTP transport):
//! plain-text non-delivery reports.
//!
//! ```text
//! Your message
//!
//!   To:      user@example.org
//!   Subject: Hello
//!   Sent:    Thu, 29 Apr 2004 23:00:00 -0400
//!
//! did not reach the following recipient(s):
//!
//! user@example.org on Thu, 29 Apr 2004 23:00:00 -0400
//!     The recipient name is not recognized
//!     MSEXCH:IMS:Org:Site:Server 0 (000C05A6) Unknown Recipient
//! ```
//!
//! Exchange 2003 writes "The following recipient(s) cannot be reached:"
//! and ends each block with `<host #5.1.1>`. The `MSEXCH:` line carries
//! Exchange's own error code in parentheses.

use std::sync::LazyLock;

use regex::Regex;

use super::{Detector, scan};
use crate::model::Reason;
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::{address_in, status_in};

/// The Exchange 2003 (and earlier) detector.
pub struct Exchange2003;

/// Header values that name these Exchange versions: X-Mailer and the
/// Received line of the connector.
const MAILERS: &[&str] = &[
    "internet mail service (",
    "microsoft exchange server internet mail connector",
];

/// Lines that introduce the failed recipients, in the languages Exchange
/// shipped; from Exchange 5.5–2003 NDR templates.
const STARTS: &[&str] = &[
    "did not reach the following recipient",
    "folgende(r) empfänger konnte(n) nicht erreicht werden",
    "impossible de joindre le ou les destinataires suivants",
    "the following recipient(s) cannot be reached",
    "the following recipient(s) could not be reached",
];

/// Exchange's own error codes (the hexadecimal code after the `MSEXCH:`
/// diagnostic) whose meaning the report states beside them.
#[rustfmt::skip]
static CODES: &[(&str, Reason)] = &[
    // "The recipient name is not recognized".
    ("000c05a6", Reason::UserUnknown),
];

static CODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?i)msexch:[^(\n]*\(([0-9a-f]{8})\)").unwrap()
});

static HOST_STATUS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"<([a-z0-9.-]+\.[a-z0-9-]+) #[245]\.\d{1,3}\.\d{1,3}>")
        .unwrap()
});

impl Detector for Exchange2003 {
    fn id(&self) -> &'static str {
        "exchange2003"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.has_header("X-MS-Embedded-Report")
            || mail
                .header("X-Mailer")
                .is_some_and(|m| scan::has_marker(&m, MAILERS))
            || scan::header_contains(mail, "Received", MAILERS)
            || mail.text_has("MSEXCH:")
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let body = scan::section(&mail.text, STARTS, &[])?;
        Some(blocks(body).into_iter().map(row).collect())
    }
}

/// The recipient blocks: a line that starts with the address (followed by
/// "on <date>"), then the indented error lines.
fn blocks(body: &str) -> Vec<(String, Vec<&str>)> {
    let mut out: Vec<(String, Vec<&str>)> = Vec::new();
    for (_, line) in scan::lines(body) {
        let t = line.trim();
        let first = t.split_whitespace().next().unwrap_or("");
        if first.contains('@')
            && let Some(a) = address_in(first)
        {
            out.push((a, Vec::new()));
        } else if let Some((_, text)) = out.last_mut()
            && !t.is_empty()
        {
            text.push(t);
        }
    }
    out
}

fn row((recipient, lines): (String, Vec<&str>)) -> Row {
    let diagnostic = lines.join(" ");
    let code = CODE.captures(&diagnostic).map(|c| c[1].to_ascii_lowercase());
    let host = HOST_STATUS.captures(&diagnostic).map(|c| c[1].to_string());
    Row {
        recipient: Some(recipient),
        action: Some("failed".into()),
        status: host.as_ref().and_then(|_| status_in(&diagnostic)),
        reason: code.and_then(|c| {
            CODES.iter().find(|(k, _)| *k == c).map(|(_, r)| *r)
        }),
        reporting_mta: host,
        diagnostic: (!diagnostic.is_empty()).then_some(diagnostic),
        ..Row::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted() {
        assert!(scan::is_sorted_keys(STARTS.iter().copied()));
        assert!(scan::is_sorted_table(CODES));
    }

    #[test]
    fn ims_report() {
        let t = "did not reach the following recipient(s):\n\na@example.org on Thu, 29 Apr 2004 00:00:00 -0000\n    The recipient name is not recognized\n    MSEXCH:IMS:Org:Site:SRV 0 (000C05A6)\nUnknown Recipient\n";
        let body = scan::section(t, STARTS, &[]).unwrap();
        let rows: Vec<Row> = blocks(body).into_iter().map(row).collect();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].recipient.as_deref(), Some("a@example.org"));
        assert_eq!(rows[0].reason, Some(Reason::UserUnknown));
        assert_eq!(rows[0].status, None);
    }

    #[test]
    fn exchange_2003_host_status() {
        let t = "The following recipient(s) cannot be reached:\n\n      b@example.net on 1/1/2005 12:00 PM\n            The e-mail account does not exist.\n            <mx.example.net #5.1.1>\n";
        let body = scan::section(t, STARTS, &[]).unwrap();
        let rows: Vec<Row> = blocks(body).into_iter().map(row).collect();
        assert_eq!(rows[0].status.as_deref(), Some("5.1.1"));
        assert_eq!(rows[0].reporting_mta.as_deref(), Some("mx.example.net"));
    }
}
