//! RFC 3464 delivery status notifications (inside RFC 6522 multipart/report)
//! and RFC 6533 global DSNs: the per-message block and one row per
//! per-recipient block.

use super::fields::{
    self, Fields, clean_address, clip, field_blocks, strip_type,
};
use crate::detect::Row;

/// A parsed delivery-status body.
#[derive(Debug, Clone, Default)]
pub struct Dsn {
    /// Per-message fields (Reporting-MTA, Arrival-Date, ...).
    pub message: Fields,
    /// One block per recipient.
    pub recipients: Vec<Fields>,
}

fn is_recipient_block(f: &Fields) -> bool {
    f.get("final-recipient").is_some()
        || f.get("original-recipient").is_some()
        || f.get("x-actual-recipient").is_some()
        || (f.get("action").is_some() && f.get("status").is_some())
}

/// Parses a delivery-status body; `None` when it holds no recipient block.
pub fn parse(text: &str) -> Option<Dsn> {
    let mut dsn = Dsn::default();
    for block in field_blocks(text) {
        if is_recipient_block(&block) {
            dsn.recipients.push(block);
        } else if dsn.recipients.is_empty() {
            dsn.message.0.extend(block.0);
        }
    }
    (!dsn.recipients.is_empty()).then_some(dsn)
}

/// Finds DSN fields written into a plain-text body (reports whose
/// delivery-status lost its MIME part): from the first `Reporting-MTA:`,
/// `Final-Recipient:` or `Original-Recipient:` line on.
pub fn parse_inline(text: &str) -> Option<Dsn> {
    let start = ["Reporting-MTA:", "Final-Recipient:", "Original-Recipient:"]
        .iter()
        .filter_map(|m| {
            text.match_indices(m)
                .find(|(i, _)| *i == 0 || text.as_bytes()[i - 1] == b'\n')
                .map(|(i, _)| i)
        })
        .min()?;
    let dsn = parse(&text[start..])?;
    dsn.recipients
        .iter()
        .any(|r| {
            r.get("final-recipient").is_some()
                || r.get("original-recipient").is_some()
        })
        .then_some(dsn)
}

impl Dsn {
    /// One [`Row`] per recipient block, per-message fields filled in;
    /// values are [`clip`]ped.
    pub fn rows(&self) -> Vec<Row> {
        let m = &self.message;
        let own = |v: &str| clip(v).to_string();
        self.recipients
            .iter()
            .map(|r| {
                let diag =
                    r.get("diagnostic-code").map(|d| own(strip_type(d)));
                Row {
                    recipient: r
                        .get("final-recipient")
                        .and_then(clean_address)
                        .or_else(|| {
                            r.get("x-actual-recipient").and_then(clean_address)
                        })
                        .or_else(|| {
                            r.get("original-recipient").and_then(clean_address)
                        }),
                    original_recipient: r
                        .get("original-recipient")
                        .and_then(clean_address),
                    action: r.get("action").map(|a| {
                        // "failed (bad mailbox)" and "Failed" both occur.
                        a.split(|c: char| !c.is_ascii_alphabetic())
                            .next()
                            .unwrap_or("")
                            .to_ascii_lowercase()
                    }),
                    status: r.get("status").and_then(fields::status_in),
                    reply_code: diag
                        .as_deref()
                        .and_then(fields::reply_code_in),
                    diagnostic: diag,
                    remote_mta: r
                        .get("remote-mta")
                        .map(|v| own(strip_type(v))),
                    reporting_mta: r
                        .get("reporting-mta")
                        .or_else(|| m.get("reporting-mta"))
                        .map(|v| own(strip_type(v))),
                    last_attempt: r.get("last-attempt-date").map(own),
                    arrival_date: m.get("arrival-date").map(own),
                    will_retry_until: r.get("will-retry-until").map(own),
                    ..Row::default()
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DSN: &str = "Reporting-MTA: dns; mx.example.net\nArrival-Date: Mon, 1 Jan 2024 00:00:00 +0000\n\nFinal-Recipient: rfc822; a@example.org\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 <a@example.org>: user unknown\nRemote-MTA: dns; mx.example.org\n\nFinal-Recipient: rfc822; b@example.org\nAction: delayed\nStatus: 4.4.1\n";

    #[test]
    fn one_row_per_recipient_block() {
        let rows = parse(DSN).unwrap().rows();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].recipient.as_deref(), Some("a@example.org"));
        assert_eq!(rows[0].reply_code.as_deref(), Some("550"));
        assert_eq!(rows[0].remote_mta.as_deref(), Some("mx.example.org"));
        assert_eq!(rows[1].action.as_deref(), Some("delayed"));
        assert_eq!(rows[1].reporting_mta.as_deref(), Some("mx.example.net"));
    }

    #[test]
    fn inline_fields_are_found_in_text() {
        let text = format!("Your mail failed.\n\n{DSN}");
        assert_eq!(parse_inline(&text).unwrap().recipients.len(), 2);
        assert!(parse_inline("Hello\nAction: none\n").is_none());
    }
}
