//! Amazon Simple Email Service (<https://aws.amazon.com/ses/>): the
//! bounces SES sends for mail it could not deliver, and the JSON
//! notifications it publishes through Amazon SNS (e-mail subscriptions
//! deliver them as mail from `no-reply@sns.amazonaws.com`).
//!
//! The bounce is an RFC 3464 report. Older ones wrap the remote reply in
//! SES's own status: `5.1.0 - Unknown address error 550-'5.7.1 ... Access
//! denied'`; an expired message quotes the last remote reply in angle
//! brackets: `554 4.4.7 Message expired: unable to deliver in 840
//! minutes.<421 4.4.2 Connection timed out>`. The remote reply gives the
//! codes.
//!
//! The notification (documented at
//! <https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html>)
//! has `notificationType` (or `eventType`) Bounce, Complaint or Delivery;
//! bounces state their category as `bounceType`/`bounceSubType`, which
//! become the row's reason.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

use super::Detector;
use crate::model::EventType;
use crate::model::Reason;
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::{
    clean_address, reply_code_in, status_in, strip_type,
};

/// The Amazon SES detector.
pub struct AmazonSes;

/// Headers SES writes on the mail it sends.
const HEADERS: &[&str] = &["X-SES-Outgoing", "X-AWS-Outgoing"];

/// Sender domains of SES reports and SNS notifications.
const SENDER_DOMAINS: &[&str] = &["amazonses.com", "sns.amazonaws.com"];

/// SES bounce categories (`bounceType`, `bounceSubType`) that state a
/// reason; from the SES notification contents documentation. `General`
/// and `Undetermined` leave the reason to the codes and text.
#[rustfmt::skip]
static BOUNCE_TYPES: &[((&str, &str), Reason)] = &[
    (("permanent", "noemail"), Reason::UserUnknown),
    (("permanent", "onaccountsuppressionlist"), Reason::Suppressed),
    (("permanent", "suppressed"), Reason::Suppressed),
    (("transient", "attachmentrejected"), Reason::Virus),
    (("transient", "contentrejected"), Reason::ContentError),
    (("transient", "mailboxfull"), Reason::MailboxFull),
    (("transient", "messagetoolarge"), Reason::MessageTooBig),
];

/// `5.1.0 - Unknown address error 550-'remote reply'`.
static WRAPPED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^([245]\.\d{1,3}\.\d{1,3}) - [^']*?\b([245]\d\d)[ -]'(.*)'")
        .unwrap()
});

/// `... Message expired: ...<421 4.4.2 Connection timed out>`.
static EXPIRED: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"<([245]\d\d[ -][^<>]*)>\s*$").unwrap());

impl Detector for AmazonSes {
    fn id(&self) -> &'static str {
        "amazonses"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        let domain = mail.from.rsplit_once('@').map_or("", |(_, d)| d);
        HEADERS.iter().any(|h| mail.has_header(h))
            || SENDER_DOMAINS.iter().any(|d| {
                domain == *d
                    || domain.strip_suffix(d).is_some_and(|p| p.ends_with('.'))
            })
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        if mail.dsn.is_some() {
            let mut rows = mail.dsn_rows();
            rows.iter_mut().for_each(refine);
            return Some(rows);
        }
        notification(&mail.text)
    }
}

/// Takes the codes of the remote reply that an SES diagnostic quotes,
/// then fills what is still missing from the diagnostic.
pub fn refine(row: &mut Row) {
    if let Some(diag) = row.diagnostic.as_deref() {
        if let Some(c) = WRAPPED.captures(diag) {
            row.status = status_in(&c[3]).or_else(|| Some(c[1].to_string()));
            row.reply_code = Some(c[2].to_string());
        } else if let Some(c) = EXPIRED.captures(diag) {
            row.status = status_in(&c[1]).or(row.status.take());
            row.reply_code = reply_code_in(&c[1]).or(row.reply_code.take());
        }
    }
}

/// Reads an SES notification: the JSON object in the text, either the
/// notification itself or an SNS envelope whose `Message` holds it.
fn notification(text: &str) -> Option<Vec<Row>> {
    let json = json_in(text)?;
    let inner = match json.get("Message").and_then(Value::as_str) {
        Some(m) => serde_json::from_str(m).ok()?,
        None => json,
    };
    rows_of(&inner)
}

/// The rows of an SES notification or event-publishing record (the JSON
/// an SNS notification's `Message` holds): `Bounce`, `Complaint`,
/// `Delivery` and `DeliveryDelay`; `None` for other types (Send, Open,
/// Click, ...). `rebound serve` reads SNS deliveries with it.
pub(crate) fn rows_of(inner: &Value) -> Option<Vec<Row>> {
    let kind = inner
        .get("notificationType")
        .or_else(|| inner.get("eventType"))
        .and_then(Value::as_str)?
        .to_ascii_lowercase();
    match kind.as_str() {
        "bounce" => bounce(inner.get("bounce")?),
        "complaint" => complaint(inner.get("complaint")?),
        "delivery" => delivery(inner.get("delivery")?),
        "deliverydelay" => delay(inner.get("deliveryDelay")?),
        _ => None,
    }
}

/// The reason an SES bounce category (`bounceType`, `bounceSubType`)
/// states, if any (also what Resend, built on SES, reports).
pub(crate) fn bounce_reason(kind: &str, sub: &str) -> Option<Reason> {
    let kind = (kind.to_ascii_lowercase(), sub.to_ascii_lowercase());
    BOUNCE_TYPES
        .iter()
        .find(|((t, s), _)| kind.0 == *t && kind.1 == *s)
        .map(|(_, r)| *r)
}

/// The JSON object of a notification body. Mail transports that break
/// over-long lines insert `!` + line break + space (sendmail) into the
/// JSON; they are removed when the text does not parse as written.
fn json_in(text: &str) -> Option<Value> {
    let start = text.find('{')?;
    let end = text.rfind('}')?;
    let raw = text.get(start..=end)?;
    serde_json::from_str(raw)
        .ok()
        .or_else(|| serde_json::from_str(&raw.replace("!\n ", "")).ok())
}

fn str_of<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
}

fn bounce(b: &Value) -> Option<Vec<Row>> {
    let reason = bounce_reason(
        str_of(b, "bounceType").unwrap_or(""),
        str_of(b, "bounceSubType").unwrap_or(""),
    );
    let reporting =
        str_of(b, "reportingMTA").map(|m| strip_type(m).to_string());
    let remote = str_of(b, "remoteMtaIp").map(str::to_string);
    let rows = b
        .get("bouncedRecipients")?
        .as_array()?
        .iter()
        .filter_map(|r| {
            let mut row = Row {
                recipient: clean_address(str_of(r, "emailAddress")?),
                action: str_of(r, "action")
                    .map(str::to_ascii_lowercase)
                    .or(Some("failed".into())),
                kind: Some(EventType::Bounce),
                status: str_of(r, "status").and_then(status_in),
                diagnostic: str_of(r, "diagnosticCode")
                    .map(|d| strip_type(d).to_string()),
                reporting_mta: reporting.clone(),
                remote_mta: remote.clone(),
                reason,
                ..Row::default()
            };
            refine(&mut row);
            Some(row)
        })
        .collect();
    Some(rows)
}

fn complaint(c: &Value) -> Option<Vec<Row>> {
    let feedback = str_of(c, "complaintFeedbackType").map(str::to_string);
    let rows = c
        .get("complainedRecipients")?
        .as_array()?
        .iter()
        .filter_map(|r| {
            Some(Row {
                recipient: clean_address(str_of(r, "emailAddress")?),
                kind: Some(EventType::Complaint),
                feedback_type: feedback.clone(),
                ..Row::default()
            })
        })
        .collect();
    Some(rows)
}

/// A configuration set's `DeliveryDelay` event: SES is still retrying.
fn delay(d: &Value) -> Option<Vec<Row>> {
    let remote = str_of(d, "reportingMTA").map(|m| strip_type(m).to_string());
    let rows = d
        .get("delayedRecipients")?
        .as_array()?
        .iter()
        .filter_map(|r| {
            let mut row = Row {
                recipient: clean_address(str_of(r, "emailAddress")?),
                action: Some("delayed".into()),
                kind: Some(EventType::Delay),
                status: str_of(r, "status").and_then(status_in),
                diagnostic: str_of(r, "diagnosticCode")
                    .map(|d| strip_type(d).to_string()),
                reporting_mta: remote.clone(),
                ..Row::default()
            };
            refine(&mut row);
            Some(row)
        })
        .collect();
    Some(rows)
}

fn delivery(d: &Value) -> Option<Vec<Row>> {
    let reply = str_of(d, "smtpResponse").map(str::to_string);
    let rows = d
        .get("recipients")?
        .as_array()?
        .iter()
        .filter_map(|r| {
            Some(Row {
                recipient: clean_address(r.as_str()?),
                action: Some("delivered".into()),
                kind: Some(EventType::Delivered),
                diagnostic: reply.clone(),
                reporting_mta: str_of(d, "reportingMTA").map(str::to_string),
                remote_mta: str_of(d, "remoteMtaIp").map(str::to_string),
                ..Row::default()
            })
        })
        .collect();
    Some(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted() {
        let keys: Vec<String> = BOUNCE_TYPES
            .iter()
            .map(|((t, s), _)| format!("{t} {s}"))
            .collect();
        assert!(crate::detect::scan::is_sorted_keys(
            keys.iter().map(String::as_str)
        ));
    }

    #[test]
    fn wrapped_remote_reply() {
        let mut r = Row {
            status: Some("5.0.0".into()),
            diagnostic: Some("5.1.0 - Unknown address error 550-'5.7.1 <a@example.org>... Access denied' (delivery attempts: 0)".into()),
            ..Row::default()
        };
        refine(&mut r);
        assert_eq!(r.status.as_deref(), Some("5.7.1"));
        assert_eq!(r.reply_code.as_deref(), Some("550"));
        let mut r = Row {
            status: Some("4.4.7".into()),
            reply_code: Some("554".into()),
            diagnostic: Some("554 4.4.7 Message expired: unable to deliver in 840 minutes.<421 4.4.2 Connection timed out>".into()),
            ..Row::default()
        };
        refine(&mut r);
        assert_eq!(r.status.as_deref(), Some("4.4.2"));
        assert_eq!(r.reply_code.as_deref(), Some("421"));
    }

    #[test]
    fn sns_bounce_notification() {
        let inner = r#"{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bounceSubType":"NoEmail","bouncedRecipients":[{"emailAddress":"a@example.org","action":"failed","status":"5.1.1","diagnosticCode":"smtp; 550 5.1.1 user unknown"}],"reportingMTA":"dsn; a1.smtp-out.example.com"}}"#;
        let text = format!(
            "{{\n  \"Type\" : \"Notification\",\n  \"Message\" : {}\n}}\n",
            serde_json::to_string(inner).unwrap()
        );
        let rows = notification(&text).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].recipient.as_deref(), Some("a@example.org"));
        // The codes the diagnostic quotes are read from it when the
        // record is completed (`Parser::complete`).
        assert_eq!(
            rows[0].diagnostic.as_deref(),
            Some("550 5.1.1 user unknown")
        );
        assert_eq!(rows[0].reason, Some(Reason::UserUnknown));
        assert_eq!(
            rows[0].reporting_mta.as_deref(),
            Some("a1.smtp-out.example.com")
        );
    }

    #[test]
    fn complaint_and_delivery_notifications() {
        let c = r#"{"notificationType":"Complaint","complaint":{"complainedRecipients":[{"emailAddress":"b@example.org"}],"complaintFeedbackType":"abuse"}}"#;
        let rows = notification(c).unwrap();
        assert_eq!(rows[0].kind, Some(EventType::Complaint));
        assert_eq!(rows[0].feedback_type.as_deref(), Some("abuse"));
        let d = r#"{"eventType":"Delivery","delivery":{"recipients":["c@example.org"],"smtpResponse":"250 2.0.0 OK"}}"#;
        let rows = notification(d).unwrap();
        assert_eq!(rows[0].kind, Some(EventType::Delivered));
        assert_eq!(rows[0].diagnostic.as_deref(), Some("250 2.0.0 OK"));
    }
}
