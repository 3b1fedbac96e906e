//! RFC 5965 Abuse Reporting Format: spam complaints and other feedback
//! reports (`multipart/report; report-type=feedback-report`), and
//! Microsoft's JMRP complaints (the reported message returned as
//! message/rfc822, marked by `X-HmXmrOriginalRecipient`; see Microsoft's
//! "Junk Mail Reporting Program" documentation). One record per
//! complaining recipient: Original-Rcpt-To or Removal-Recipient of the
//! report, else the JMRP recipient header, else the returned message's To.

use super::{Detector, Row};
use crate::model::EventType;
use crate::parse::Mail;
use crate::parse::fields::{addresses_in, strip_type};

/// The ARF detector.
pub struct Arf;

/// The header Microsoft's JMRP adds to the returned message: the address
/// of the complaining recipient.
const JMRP_RECIPIENT: &str = "x-hmxmroriginalrecipient";

fn jmrp_recipients(mail: &Mail<'_>) -> Vec<String> {
    mail.returned
        .as_ref()
        .map(|r| {
            r.headers.all(JMRP_RECIPIENT).flat_map(addresses_in).collect()
        })
        .unwrap_or_default()
}

impl Detector for Arf {
    fn id(&self) -> &'static str {
        "arf"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.feedback.is_some()
            || mail
                .returned
                .as_ref()
                .is_some_and(|r| r.headers.get(JMRP_RECIPIENT).is_some())
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let fb = mail.feedback.clone().unwrap_or_default();
        // A JMRP report has no feedback fields: it is always a complaint.
        let feedback_type = fb
            .get("feedback-type")
            .map(|t| t.trim().to_ascii_lowercase())
            .or_else(|| mail.feedback.is_none().then(|| "abuse".to_string()));
        let mut recipients: Vec<String> = fb
            .all("original-rcpt-to")
            .chain(fb.all("removal-recipient"))
            .flat_map(|v| addresses_in(strip_type(v)))
            .collect();
        if recipients.is_empty() {
            recipients = jmrp_recipients(mail);
        }
        if recipients.is_empty() {
            recipients =
                mail.returned.as_ref().map(|r| r.to()).unwrap_or_default();
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
            diagnostic: (!user_agent.is_empty())
                .then(|| format!("feedback report from {user_agent}")),
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
