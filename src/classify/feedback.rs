//! Feedback reports (RFC 5965) that are no complaint: what a report's
//! Feedback-Type means for the recipient.

use crate::model::Reason;

/// Feedback types (RFC 5965 section 7.3 registry; `auth-failure`: RFC
/// 6591) that are not the recipient's complaint. An authentication-failure
/// report (a DMARC/DKIM/SPF failure report, often sent to the same
/// mailbox) is about the sender's own setup, and a virus report about the
/// content: both alert the sender's operators and leave the recipient
/// mailable (`docs/policy.md`, "Sender-side failures (alert)"). Every
/// other type (`abuse`, `fraud`, `other`, none) is a complaint, and
/// suppresses.
const FEEDBACK_TYPES: &[(&str, Reason, &str)] = &[
    ("auth-failure", Reason::AuthFailure, "feedback:auth_failure"),
    ("virus", Reason::Virus, "feedback:virus"),
];

/// What a feedback report of type `feedback_type` means, with the rule.
pub(super) fn meaning(feedback_type: Option<&str>) -> (Reason, String) {
    FEEDBACK_TYPES
        .iter()
        .find(|f| feedback_type.is_some_and(|t| t.eq_ignore_ascii_case(f.0)))
        .map_or((Reason::Complaint, "type:complaint".to_string()), |f| {
            (f.1, f.2.to_string())
        })
}

#[cfg(test)]
mod tests {
    use super::super::{Input, Rules, decide};
    use crate::model::{Action, EventType, Reason};

    #[test]
    fn feedback_types_that_are_no_complaint_alert() {
        let d = |t: Option<&str>| {
            decide(
                &Input {
                    kind: Some(EventType::Complaint),
                    recipient: Some("a@example.org"),
                    feedback_type: t,
                    ..Input::default()
                },
                &Rules::default(),
            )
        };
        for (t, reason, action, rule) in [
            (
                Some("auth-failure"),
                Reason::AuthFailure,
                Action::Alert,
                "feedback:auth_failure",
            ),
            (Some("Virus"), Reason::Virus, Action::Alert, "feedback:virus"),
            (
                Some("abuse"),
                Reason::Complaint,
                Action::Suppress,
                "type:complaint",
            ),
            (
                Some("fraud"),
                Reason::Complaint,
                Action::Suppress,
                "type:complaint",
            ),
            (None, Reason::Complaint, Action::Suppress, "type:complaint"),
        ] {
            let got = d(t);
            assert_eq!(
                (got.reason, got.meaning.action, got.rule.as_str()),
                (reason, action, rule),
                "{t:?}"
            );
        }
    }
}
