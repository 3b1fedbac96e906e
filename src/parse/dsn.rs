//! RFC 3464 delivery status notifications (inside RFC 6522 multipart/report)
//! and RFC 6533 global DSNs: the per-message block and one row per
//! per-recipient block.

use std::sync::LazyLock;

use memchr::memmem::Finder;

use super::fields::{
    self, Fields, clean_address, clip, field_blocks, strip_type,
};
use crate::model::EventType;
use crate::model::Row;

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

/// Splits a block that holds several recipients without the blank lines
/// between them (some MTAs write them so): a new recipient starts at an
/// Original-Recipient or Final-Recipient the current one already has.
/// (Either may come first within one recipient.)
fn split_recipients(block: Fields) -> Vec<Fields> {
    let mut out: Vec<Fields> = vec![Fields::default()];
    for (name, value) in block.0 {
        let starts_new =
            matches!(name.as_str(), "final-recipient" | "original-recipient")
                && out
                    .last()
                    .is_some_and(|b| b.0.iter().any(|(m, _)| *m == name));
        if starts_new {
            out.push(Fields::default());
        }
        if let Some(b) = out.last_mut() {
            b.0.push((name, value));
        }
    }
    out
}

/// Parses a delivery-status body; `None` when it holds no recipient block.
pub fn parse(text: &str) -> Option<Dsn> {
    let mut dsn = Dsn::default();
    for block in field_blocks(text) {
        if is_recipient_block(&block) {
            dsn.recipients.extend(split_recipients(block));
        } else if dsn.recipients.is_empty() {
            dsn.message.0.extend(block.0);
        }
    }
    (!dsn.recipients.is_empty()).then_some(dsn)
}

/// The event type when the Action is not one of RFC 3464's five: Postfix
/// address-verification reports say `deliverable` / `undeliverable`, and a
/// block without an Action but with a 2.X.X status is a success. `None`
/// leaves the standard mapping ([`EventType::of_action`]).
fn kind_of(action: Option<&str>, status: Option<&str>) -> Option<EventType> {
    match action {
        Some("deliverable") => Some(EventType::Delivered),
        Some("undeliverable") => Some(EventType::Bounce),
        None if status.is_some_and(|s| s.starts_with('2')) => {
            Some(EventType::Delivered)
        }
        _ => None,
    }
}

/// The field names that start inline DSN fields, each searched once over
/// the whole text (SIMD substring search, set up once).
static INLINE_STARTS: LazyLock<[Finder<'static>; 3]> = LazyLock::new(|| {
    ["Reporting-MTA:", "Final-Recipient:", "Original-Recipient:"]
        .map(Finder::new)
});

/// Finds DSN fields written into a plain-text body (reports whose
/// delivery-status lost its MIME part): from the first `Reporting-MTA:`,
/// `Final-Recipient:` or `Original-Recipient:` line on.
pub fn parse_inline(text: &str) -> Option<Dsn> {
    let bytes = text.as_bytes();
    let start = INLINE_STARTS
        .iter()
        .filter_map(|m| {
            m.find_iter(bytes).find(|&i| i == 0 || bytes[i - 1] == b'\n')
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
                let action = r.get("action").map(|a| {
                    // "failed (bad mailbox)" and "Failed" both occur.
                    a.split(|c: char| !c.is_ascii_alphabetic())
                        .next()
                        .unwrap_or("")
                        .to_ascii_lowercase()
                });
                let status = r.get("status").and_then(fields::status_in);
                Row {
                    kind: kind_of(action.as_deref(), status.as_deref()),
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
                    action,
                    status,
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
    fn recipients_without_blank_lines_are_split() {
        let rows = parse("Reporting-MTA: dns; mx.example.net\n\nOriginal-Recipient: rfc822; a@example.org\nFinal-Recipient: rfc822; a@example.org\nAction: failed\nStatus: 5.1.1\nOriginal-Recipient: rfc822; b@example.org\nFinal-Recipient: rfc822; b@example.org\nAction: failed\nStatus: 5.2.2\n\nAction: failed\nFinal-Recipient: rfc822; d@example.org\nOriginal-Recipient: rfc822; d@example.org\nStatus: 5.1.1\nFinal-Recipient: rfc822; c@example.org\nAction: deliverable\nStatus: 2.1.5\n").unwrap().rows();
        let got: Vec<_> = rows
            .iter()
            .map(|r| (r.recipient.as_deref(), r.status.as_deref(), r.kind))
            .collect();
        assert_eq!(
            got,
            [
                (Some("a@example.org"), Some("5.1.1"), None),
                (Some("b@example.org"), Some("5.2.2"), None),
                (Some("d@example.org"), Some("5.1.1"), None),
                (
                    Some("c@example.org"),
                    Some("2.1.5"),
                    Some(EventType::Delivered)
                ),
            ]
        );
    }

    #[test]
    fn inline_fields_are_found_in_text() {
        let text = format!("Your mail failed.\n\n{DSN}");
        assert_eq!(parse_inline(&text).unwrap().recipients.len(), 2);
        assert!(parse_inline("Hello\nAction: none\n").is_none());
    }
}
