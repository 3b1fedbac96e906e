//! MTA logs as an input of the ledger (`rebound ingest --log FORMAT`):
//! the refusals a receiving server gave during the SMTP session, which
//! may never come back as a bounce message, and every delivery, which is
//! what ends a soft-bounce streak.
//!
//! One file per format, each a unit struct behind [`LogFormat`], listed
//! once in [`FORMATS`]: `postfix`, `exim`, `powermta`, `kumomta`,
//! `sendmail`. A format's [`LineReader`] turns lines into [`LogEvent`]s
//! (never classifying); [`report_of`] classifies an event with the same
//! rules as mail ([`crate::classify::apply`]) into a one-record
//! [`Report`] that the ledger records like any other. Shared pieces:
//! `stamp.rs` reads syslog timestamps and headers, `join.rs` joins the
//! lines of one queue id (bounded, and saved with the read position so
//! that a later run resumes with it), `follow.rs` reads files, rotated
//! and compressed ones included, and keeps the read position in the
//! ledger.
//!
//! Event mapping (the same for every format): a permanent failure, a
//! failure record or `status=bounced` is a `bounce` classified from its
//! reply code, enhanced status, diagnostic text and relay host; a
//! deferral is a `delay` (counted, no state change); an expiry is a
//! `bounce` with reason `expired`; a delivery is `delivered`. Each event's
//! identity is the text of the line (or record) that states it, with its
//! recipient and type, so reading a log again records nothing new.

mod exim;
pub mod follow;
mod join;
mod kumomta;
mod postfix;
mod powermta;
mod sendmail;
mod stamp;

use crate::classify::{self, Rules};
use crate::model::{EventType, Reason, Record, Row};
use crate::parse::fields;
use crate::pipeline::{Report, fingerprint};
use crate::time;

pub use stamp::Clock;

/// One MTA log format.
pub trait LogFormat: Sync {
    /// The format's name on the command line (`postfix`, `exim`, ...).
    fn id(&self) -> &'static str;
    /// The `detector` value of its records (`log:postfix`, ...).
    fn detector(&self) -> &'static str;
    /// A reader for one stream of its lines (it keeps the state that
    /// joins lines of one message).
    fn reader(&self) -> Box<dyn LineReader>;
}

impl std::fmt::Debug for dyn LogFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// Reads the lines of one log, in order.
pub trait LineReader: Send {
    /// Reads one line (without its line end) and appends the events it
    /// completes. Lines of no interest give no event and no error.
    fn line(
        &mut self,
        line: &str,
        clock: &Clock,
        out: &mut Vec<LogEvent>,
    ) -> Result<(), LineError>;

    /// The state that joins lines across a read position (queue ids
    /// waiting for their outcome), to be saved with that position.
    fn save(&self) -> Vec<u8> {
        Vec::new()
    }

    /// Restores what [`LineReader::save`] wrote; a state it cannot read
    /// is dropped (only the joins it held are lost).
    fn restore(&mut self, _state: &[u8]) {}
}

/// The formats, by name.
#[rustfmt::skip]
pub static FORMATS: &[&dyn LogFormat] = &[
    &exim::Exim,
    &kumomta::KumoMta,
    &postfix::Postfix,
    &powermta::PowerMta,
    &sendmail::Sendmail,
];

/// The format called `name`.
pub fn format(name: &str) -> Option<&'static dyn LogFormat> {
    FORMATS.iter().copied().find(|f| f.id().eq_ignore_ascii_case(name))
}

/// A line that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LineError {
    /// No timestamp this reader understands at the start of the line.
    #[error("no timestamp that can be read")]
    Timestamp,
    /// A line of the format missing a field it must have.
    #[error("{0}")]
    Field(String),
    /// A record that is not valid JSON / CSV.
    #[error("{0}")]
    Record(String),
}

/// One delivery outcome read from a log: a recipient, what happened, when.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LogEvent {
    /// Bounce, delay, delivered, or complaint (feedback records).
    pub kind: Option<EventType>,
    /// The envelope recipient.
    pub recipient: String,
    /// The recipient before aliasing / forwarding (`orig_to=`).
    pub original_recipient: Option<String>,
    /// When it happened (Unix seconds).
    pub time: i64,
    /// The Message-ID of the message (from the line that logged it).
    pub message_id: Option<String>,
    /// When the MTA took the message in (Unix seconds), when logged.
    pub arrival: Option<i64>,
    /// Enhanced status code (`dsn=`).
    pub status: Option<String>,
    /// The remote reply or the MTA's own text.
    pub diagnostic: Option<String>,
    /// The host that answered (the relay).
    pub remote_mta: Option<String>,
    /// The SMTP command the reply answered (`RCPT TO`, `DATA`, ...).
    pub command: Option<String>,
    /// A reason the log itself states (`expired`, a bounce category).
    pub reason: Option<Reason>,
    /// The feedback type of a feedback-loop record.
    pub feedback_type: Option<String>,
    /// The text that states the event (the line, or the record): with
    /// the recipient and type, the event's identity.
    pub identity: String,
}

impl LogEvent {
    /// Whether the event is an expiry (its diagnostic is the last
    /// deferral, kept for information but not classified).
    fn expired(&self) -> bool {
        self.reason == Some(Reason::Expired)
    }
}

/// Classifies an event into a one-record report (detector `detector`):
/// the same rules as mail, on the codes, the diagnostic, the command and
/// the relay host. An expiry is classified `expired` whatever its last
/// deferral said.
pub fn report_of(
    event: LogEvent,
    detector: &'static str,
    local: &Rules,
) -> Report {
    let kind = event.kind.unwrap_or(EventType::Bounce);
    let expired = event.expired();
    let fingerprint =
        format!("{detector}:{}", fingerprint(event.identity.as_bytes()));
    let reply_code =
        event.diagnostic.as_deref().and_then(fields::reply_code_in);
    // An expiry's last deferral is kept, but not classified.
    let (status, diagnostic, command) = if expired {
        (None, None, None)
    } else {
        (event.status.clone(), event.diagnostic.clone(), event.command)
    };
    let mut rec = Record {
        recipient: Some(event.recipient),
        original_recipient: event.original_recipient,
        original_message_id: event.message_id,
        kind: Some(kind),
        status,
        reply_code: (!expired).then_some(reply_code).flatten(),
        diagnostic,
        remote_mta: event.remote_mta,
        feedback_type: event.feedback_type,
        event_time: Some(time::format_rfc3339(event.time)),
        detector: Some(detector.to_string()),
        ..Record::default()
    };
    let row = Row { command, reason: event.reason, ..Row::default() };
    classify::apply(&row, &mut rec, local, false);
    if expired {
        rec.status = event.status;
        rec.diagnostic = event.diagnostic;
    }
    Report {
        fingerprint: Some(fingerprint),
        detector: Some(detector),
        records: vec![rec],
        date: Some(event.time),
        ..Report::default()
    }
}

/// An address as logs write it: without angle brackets and space; `None`
/// when empty.
fn address(raw: &str) -> Option<String> {
    let a = raw.trim().trim_start_matches('<').trim_end_matches('>').trim();
    (!a.is_empty()).then(|| a.to_string())
}

/// The SMTP command a reply text names: `(in reply to RCPT TO command)`,
/// `after RCPT TO:<...>`, `while sending MAIL FROM`, `end of DATA`, or a
/// failed connection / greeting.
fn command_in(text: &str) -> Option<String> {
    let t = text.to_ascii_lowercase();
    #[rustfmt::skip]
    const COMMANDS: &[(&str, &str)] = &[
        ("connect to ", "CONN"),
        ("data command", "DATA"),
        ("end of data", "DATA"),
        ("initial server greeting", "CONN"),
        ("mail from", "MAIL FROM"),
        ("rcpt to", "RCPT TO"),
        ("sending data", "DATA"),
        ("sending message body", "DATA"),
        ("to ehlo", "EHLO"),
        ("to helo", "HELO"),
    ];
    COMMANDS
        .iter()
        .filter_map(|(needle, c)| t.find(needle).map(|at| (at, *c)))
        .min_by_key(|(at, _)| *at)
        .map(|(_, c)| c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Action;

    #[test]
    fn formats_are_sorted_and_found_by_name() {
        let ids: Vec<&str> = FORMATS.iter().map(|f| f.id()).collect();
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(ids, sorted);
        for f in FORMATS {
            assert_eq!(f.detector(), format!("log:{}", f.id()));
            assert_eq!(format(&f.id().to_uppercase()).unwrap().id(), f.id());
        }
        assert!(format("qmail").is_none());
    }

    #[test]
    fn events_are_classified_like_mail() {
        let e = LogEvent {
            kind: Some(EventType::Bounce),
            recipient: "u@example.org".into(),
            time: 1_704_067_200,
            status: Some("5.1.1".into()),
            diagnostic: Some(
                "550 5.1.1 <u@example.org>: Recipient address rejected: \
                 User unknown"
                    .into(),
            ),
            command: Some("RCPT TO".into()),
            identity: "line".into(),
            ..LogEvent::default()
        };
        let r = report_of(e.clone(), "log:postfix", &Rules::default());
        let rec = &r.records[0];
        assert_eq!(rec.action, Some(Action::Suppress));
        assert_eq!(rec.reason.as_deref(), Some("user_unknown"));
        assert_eq!(rec.reply_code.as_deref(), Some("550"));
        assert_eq!(r.date, Some(1_704_067_200));
        let expired = LogEvent {
            reason: Some(Reason::Expired),
            status: Some("4.4.1".into()),
            diagnostic: Some("connect to mx: Connection refused".into()),
            ..e
        };
        let rec = report_of(expired, "log:postfix", &Rules::default())
            .records
            .remove(0);
        assert_eq!(rec.reason.as_deref(), Some("expired"));
        assert_eq!(rec.action, Some(Action::Retry));
        assert_eq!(rec.status.as_deref(), Some("4.4.1"));
    }

    #[test]
    fn commands_named_in_replies() {
        assert_eq!(
            command_in("550 no (in reply to RCPT TO command)").as_deref(),
            Some("RCPT TO")
        );
        assert_eq!(
            command_in("conversation timed out while receiving the initial server greeting").as_deref(),
            Some("CONN")
        );
        assert_eq!(command_in("250 ok"), None);
    }
}
