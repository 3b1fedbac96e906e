//! Message disposition notifications (RFC 8098, formerly RFC 3798) that
//! report a rejection: a Sieve `reject` (RFC 5429 section 2.2.2) sent as
//! an MDN because the message could no longer be refused during the SMTP
//! dialogue, `Disposition: automatic-action/MDN-sent-automatically;
//! deleted`. The recipient's own filter refused the message, so the row
//! is a bounce whose reason the format states: filtered (retried, and
//! suppressed by escalation if the recipient keeps refusing). Every other
//! disposition (a read receipt's `displayed`, `dispatched`, `processed`,
//! or a deletion by the recipient's hand) is no bounce and gives no row.

use mail_parser::MimeHeaders;

use super::Detector;
use crate::model::EventType;
use crate::model::Reason;
use crate::model::Row;
use crate::parse::fields::{Fields, clean_address, strip_type};
use crate::parse::{Mail, merge_blocks, part_text};

/// The MDN detector.
pub struct Mdn;

/// The fields of the message/disposition-notification part, if any.
fn disposition_fields(mail: &Mail<'_>) -> Option<Fields> {
    mail.msg.parts.iter().find_map(|p| {
        let is_mdn = p.content_type().is_some_and(|c| {
            c.ctype().eq_ignore_ascii_case("message")
                && c.subtype().is_some_and(|s| {
                    s.eq_ignore_ascii_case("disposition-notification")
                })
        });
        if !is_mdn {
            return None;
        }
        Some(merge_blocks(&part_text(p)?))
    })
}

/// True for `automatic-action/...; deleted` (RFC 8098 section 3.2.6):
/// the message was discarded by a program (a Sieve reject), not by the
/// person.
fn is_automatic_deletion(disposition: &str) -> bool {
    let (mode, kind) = disposition.split_once(';').unwrap_or(("", ""));
    let action_mode = mode.split('/').next().unwrap_or("").trim();
    let kind = kind.trim().split(['/', ' ']).next().unwrap_or("");
    action_mode.eq_ignore_ascii_case("automatic-action")
        && kind.eq_ignore_ascii_case("deleted")
}

impl Detector for Mdn {
    fn id(&self) -> &'static str {
        "mdn"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.dsn.is_none()
            && mail.content_type == "multipart/report"
            && mail.header("Content-Type").is_some_and(|c| {
                c.to_ascii_lowercase().contains("disposition-notification")
            })
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let f = disposition_fields(mail)?;
        if !is_automatic_deletion(f.get("disposition")?) {
            return None;
        }
        let recipient = f
            .get("final-recipient")
            .or_else(|| f.get("original-recipient"))
            .and_then(|v| clean_address(strip_type(v)));
        // The reason the filter gave stands in the human-readable part.
        let diagnostic = mail.text.split_whitespace().collect::<Vec<_>>();
        Some(vec![Row {
            recipient,
            kind: Some(EventType::Bounce),
            action: Some("failed".into()),
            diagnostic: (!diagnostic.is_empty()).then(|| diagnostic.join(" ")),
            reporting_mta: f
                .get("reporting-ua")
                .map(|v| v.split(';').next().unwrap_or(v).trim().to_string()),
            reason: Some(Reason::Filtered),
            ..Row::default()
        }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_automatic_deletion_is_a_rejection() {
        for (d, want) in [
            ("automatic-action/MDN-sent-automatically; deleted", true),
            ("Automatic-Action/MDN-sent-automatically;deleted/error", true),
            ("manual-action/MDN-sent-manually; displayed", false),
            ("manual-action/MDN-sent-manually; deleted", false),
            ("automatic-action/MDN-sent-automatically; processed", false),
            ("deleted", false),
        ] {
            assert_eq!(is_automatic_deletion(d), want, "{d}");
        }
    }
}
