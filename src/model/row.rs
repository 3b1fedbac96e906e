//! The row a format detector hands to the pipeline: one recipient of one
//! report as the report states it, before the pipeline completes it from
//! the rest of the message and the classifier decides what it means.

use super::reason::Reason;
use super::record::EventType;

/// One recipient as a detector found it, before classification.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    /// The failed recipient.
    pub recipient: Option<String>,
    /// Original-Recipient, when given.
    pub original_recipient: Option<String>,
    /// RFC 3464 Action (`failed`, `delayed`, `delivered`, ...), lower-case.
    pub action: Option<String>,
    /// The event type, when the detector knows it; otherwise derived from
    /// `action` (failed → bounce).
    pub kind: Option<EventType>,
    /// Enhanced status code.
    pub status: Option<String>,
    /// SMTP reply code.
    pub reply_code: Option<String>,
    /// Diagnostic text.
    pub diagnostic: Option<String>,
    /// The remote MTA.
    pub remote_mta: Option<String>,
    /// The reporting MTA.
    pub reporting_mta: Option<String>,
    /// Last-Attempt-Date as written.
    pub last_attempt: Option<String>,
    /// Arrival-Date as written.
    pub arrival_date: Option<String>,
    /// Will-Retry-Until as written.
    pub will_retry_until: Option<String>,
    /// The SMTP command that failed (`RCPT`, `DATA`, `MAIL`, `EHLO`, ...).
    pub command: Option<String>,
    /// A reason the format itself states (e.g. a vendor's own error
    /// category); the classifier uses it when the codes and text say less.
    pub reason: Option<Reason>,
    /// ARF Feedback-Type.
    pub feedback_type: Option<String>,
}
