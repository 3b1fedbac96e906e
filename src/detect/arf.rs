//! ARF (RFC 5965, <https://www.rfc-editor.org/rfc/rfc5965>): feedback
//! reports (`multipart/report; report-type=feedback-report`), and the
//! complaint formats that predate or bypass it:
//! - feedback fields written into the text when the report lost its
//!   `message/feedback-report` part;
//! - Microsoft JMRP (Junk Mail Reporting Program): a plain message/rfc822
//!   attachment whose headers carry `X-HmXmrOriginalRecipient`; or, when
//!   the report reaches its reader without its wrapper, the reported
//!   message itself, with that header in its own header section and
//!   Microsoft's consumer mail (Hotmail) as its envelope sender.
//!
//! (Apple Mail's `X-Apple-Unsubscribe` requests are unsubscribe requests,
//! read by the `unsubscribe` detector.)
//!
//! One record per complaining recipient, from Original-Rcpt-To or
//! Removal-Recipient, else the original recipient header a provider adds
//! to the returned copy, else the returned message's To. No address is
//! made up: a report that names none gives one record without recipient.

use super::{Detector, scan};
use crate::model::EventType;
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::{
    Fields, address_in, addresses_in, field_blocks, strip_type,
};

/// The ARF detector.
pub struct Arf;

/// Headers of the returned copy that name the complaining recipient, in
/// order of preference. Source: Microsoft JMRP/SNDS documentation
/// (`X-HmXmrOriginalRecipient`), RFC 5965 section 3.1 (`Original-Rcpt-To`
/// as a header of redacted copies).
#[rustfmt::skip]
const RECIPIENT_HEADERS: &[&str] = &["original-rcpt-to", JMRP_RECIPIENT];

/// Feedback fields written into the text: a block with Feedback-Type and
/// another ARF field.
fn inline_feedback(text: &str) -> Option<Fields> {
    field_blocks(text).into_iter().find(|b| {
        b.get("feedback-type").is_some()
            && (b.get("user-agent").is_some() || b.get("version").is_some())
    })
}

/// The header Microsoft's JMRP adds to the returned message: the address
/// of the complaining recipient.
const JMRP_RECIPIENT: &str = "x-hmxmroriginalrecipient";

/// The domains Microsoft's JMRP reports are sent from (the envelope
/// sender of an unwrapped report, e.g. `staff@hotmail.com`).
#[rustfmt::skip]
const JMRP_DOMAINS: &[&str] = &["hotmail.com", "live.com", "msn.com", "outlook.com"];

/// A Microsoft JMRP report: its returned copy names the recipient.
fn is_jmrp(mail: &Mail<'_>) -> bool {
    mail.returned
        .as_ref()
        .is_some_and(|r| r.headers.get(JMRP_RECIPIENT).is_some())
        || is_unwrapped_jmrp(mail)
}

/// A JMRP report without its wrapper: the reported message, carrying the
/// JMRP header itself, with a Microsoft consumer-mail envelope sender.
fn is_unwrapped_jmrp(mail: &Mail<'_>) -> bool {
    mail.has_header(JMRP_RECIPIENT)
        && mail
            .header("Return-Path")
            .and_then(|v| address_in(&v))
            .is_some_and(|a| scan::from_domain_in(&a, JMRP_DOMAINS))
}

/// Recipients the returned copy names (or, for an unwrapped JMRP report,
/// the message itself).
fn returned_recipients(mail: &Mail<'_>) -> Vec<String> {
    if is_unwrapped_jmrp(mail) {
        return mail
            .header(JMRP_RECIPIENT)
            .map(|v| addresses_in(&v))
            .unwrap_or_default();
    }
    let Some(r) = mail.returned.as_ref() else {
        return vec![];
    };
    RECIPIENT_HEADERS
        .iter()
        .map(|h| r.headers.all(h).flat_map(addresses_in).collect::<Vec<_>>())
        .find(|v| !v.is_empty())
        .unwrap_or_else(|| r.to())
}

impl Detector for Arf {
    fn id(&self) -> &'static str {
        "arf"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.feedback.is_some()
            || is_jmrp(mail)
            || mail.dsn.is_none() && mail.text_has("Feedback-Type:")
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let fb = mail
            .feedback
            .clone()
            .or_else(|| inline_feedback(&mail.text))
            .or_else(|| is_jmrp(mail).then(Fields::default))?;
        // A JMRP report has no feedback fields: it is always a complaint.
        let feedback_type = fb
            .get("feedback-type")
            .map(|t| t.trim().to_ascii_lowercase())
            .or_else(|| Some("abuse".to_string()));
        let mut recipients: Vec<String> = fb
            .all("original-rcpt-to")
            .chain(fb.all("removal-recipient"))
            .flat_map(|v| addresses_in(strip_type(v)))
            .collect();
        if recipients.is_empty() {
            recipients = returned_recipients(mail);
        }
        recipients.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        let user_agent = fb.get("user-agent").unwrap_or(&mail.from);
        let base = Row {
            kind: Some(EventType::Complaint),
            feedback_type,
            reporting_mta: fb
                .get("reporting-mta")
                .map(|v| strip_type(v).to_string()),
            arrival_date: fb
                .get("arrival-date")
                .or_else(|| fb.get("received-date"))
                .map(str::to_string),
            diagnostic: Some(if user_agent.is_empty() {
                format!("complaint report: {}", mail.subject)
            } else {
                format!("feedback report from {user_agent}")
            }),
            ..Row::default()
        };
        if recipients.is_empty() {
            return Some(vec![base]);
        }
        Some(
            recipients
                .into_iter()
                .map(|r| Row { recipient: Some(r), ..base.clone() })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipient_headers_are_sorted() {
        assert!(RECIPIENT_HEADERS.windows(2).all(|w| w[0] < w[1]));
        assert!(JMRP_DOMAINS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn inline_fields_need_feedback_type() {
        assert!(
            inline_feedback("Feedback-Type: abuse\nUser-Agent: x/1\n")
                .is_some()
        );
        assert!(inline_feedback("Feedback-Type: abuse\n").is_none());
    }
}
