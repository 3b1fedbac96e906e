//! RFC 5965 Abuse Reporting Format: spam complaints and other feedback
//! reports (`multipart/report; report-type=feedback-report`). One record
//! per complaining recipient, from Original-Rcpt-To or Removal-Recipient,
//! else the returned message's To.

use super::{Detector, Row};
use crate::model::EventType;
use crate::parse::Mail;
use crate::parse::fields::{addresses_in, strip_type};

/// The ARF detector.
pub struct Arf;

impl Detector for Arf {
    fn id(&self) -> &'static str {
        "arf"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.feedback.is_some()
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let fb = mail.feedback.as_ref()?;
        let feedback_type =
            fb.get("feedback-type").map(|t| t.trim().to_ascii_lowercase());
        let mut recipients: Vec<String> = fb
            .all("original-rcpt-to")
            .chain(fb.all("removal-recipient"))
            .flat_map(|v| addresses_in(strip_type(v)))
            .collect();
        if recipients.is_empty() {
            recipients =
                mail.returned.as_ref().map(|r| r.to()).unwrap_or_default();
        }
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
            diagnostic: fb
                .get("user-agent")
                .map(|u| format!("feedback report from {u}")),
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
