//! RFC 3464 delivery status notifications (inside RFC 6522 multipart/report)
//! and RFC 6533 global DSNs: the per-message block and one row per
//! per-recipient block.

use super::fields::{self, Fields, clean_address, field_blocks, strip_type};
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

/// Splits a block that holds several recipients without the blank line
/// between them (some MTAs write them back to back): a new recipient
/// starts at each repeated Final-Recipient, taking along an
/// Original-Recipient written just before it.
fn split_recipients(block: Fields) -> Vec<Fields> {
    let mut out = Vec::new();
    let mut cur = Fields::default();
    for (name, value) in block.0 {
        if name == "final-recipient" && cur.get("final-recipient").is_some() {
            let pos = |n: &str| cur.0.iter().position(|(f, _)| f == n);
            let original_leads =
                pos("original-recipient") < pos("final-recipient");
            let carry = cur
                .0
                .last()
                .is_some_and(|(n, _)| n == "original-recipient")
                .then_some(original_leads)
                .filter(|&lead| lead)
                .and_then(|_| cur.0.pop());
            out.push(std::mem::replace(
                &mut cur,
                Fields(carry.into_iter().collect()),
            ));
        }
        cur.0.push((name, value));
    }
    out.push(cur);
    out
}

/// Parses a delivery-status body; `None` when it holds no recipient block.
pub fn parse(text: &str) -> Option<Dsn> {
    let mut dsn = Dsn::default();
    for block in field_blocks(text).into_iter().flat_map(split_recipients) {
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
    /// One [`Row`] per recipient block, per-message fields filled in.
    pub fn rows(&self) -> Vec<Row> {
        let m = &self.message;
        self.recipients
            .iter()
            .map(|r| {
                let diag = r
                    .get("diagnostic-code")
                    .map(|d| strip_type(d).to_string());
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
                        .map(|v| strip_type(v).to_string()),
                    reporting_mta: r
                        .get("reporting-mta")
                        .or_else(|| m.get("reporting-mta"))
                        .map(|v| strip_type(v).to_string()),
                    last_attempt: r
                        .get("last-attempt-date")
                        .map(str::to_string),
                    arrival_date: m.get("arrival-date").map(str::to_string),
                    will_retry_until: r
                        .get("will-retry-until")
                        .map(str::to_string),
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
    fn recipients_without_blank_lines_are_split() {
        let rows = parse("Reporting-MTA: dns; mx.example.net\n\nFinal-Recipient: rfc822; a@example.org\nOriginal-Recipient: rfc822;a@example.org\nAction: failed\nStatus: 5.2.2\nFinal-Recipient: rfc822; b@example.org\nOriginal-Recipient: rfc822;b@example.org\nAction: failed\nStatus: 5.1.1\n").unwrap().rows();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].recipient.as_deref(), Some("b@example.org"));
        assert_eq!(
            rows[1].original_recipient.as_deref(),
            Some("b@example.org")
        );
        assert_eq!(rows[1].status.as_deref(), Some("5.1.1"));
        let rows = parse("Original-Recipient: rfc822;a@example.org\nFinal-Recipient: rfc822; a@example.org\nStatus: 5.2.2\nOriginal-Recipient: rfc822;b@example.org\nFinal-Recipient: rfc822; b@example.org\nStatus: 5.1.1\n").unwrap().rows();
        assert_eq!(
            rows[1].original_recipient.as_deref(),
            Some("b@example.org")
        );
        assert_eq!(
            rows[0].original_recipient.as_deref(),
            Some("a@example.org")
        );
    }

    #[test]
    fn inline_fields_are_found_in_text() {
        let text = format!("Your mail failed.\n\n{DSN}");
        assert_eq!(parse_inline(&text).unwrap().recipients.len(), 2);
        assert!(parse_inline("Hello\nAction: none\n").is_none());
    }
}
