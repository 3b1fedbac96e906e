//! fml, the Japanese mailing-list manager (<https://www.fml.org/>): its
//! error notices to the list owner carry an `X-MLServer: fml ...` header,
//! a subject naming the problem ("Loop Alert: Duplicated Message-ID",
//! ...), a first line with the address concerned and "Original mail as
//! follows:" with the quoted message.

use super::Detector;
use crate::model::Reason;
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::address_in;

/// The fml detector.
pub struct Fml;

const ORIGINAL: &str = "Original mail as follows:";

/// fml's notices that say what went wrong (lower-case, sorted; from
/// fml's message templates): a loop detected by a repeated Message-ID is
/// the list system's own failure, a non-member post is refused by policy.
#[rustfmt::skip]
const NOTICES: &[(&str, Reason)] = &[
    ("duplicated message-id", Reason::SystemError),
    ("not a member", Reason::Policy),
];

impl Detector for Fml {
    fn id(&self) -> &'static str {
        "fml"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.header("X-MLServer").is_some_and(|v| v.starts_with("fml"))
            && mail.text_has(ORIGINAL)
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let (notice, _) = mail.text.split_once(ORIGINAL)?;
        let line = notice.lines().map(str::trim).find(|l| !l.is_empty())?;
        let lower = format!("{} {line}", mail.subject).to_ascii_lowercase();
        let reason = NOTICES
            .iter()
            .find(|(m, _)| lower.contains(m))
            .map(|(_, r)| *r)?;
        Some(vec![Row {
            recipient: address_in(line),
            diagnostic: Some(line.to_string()),
            action: Some("failed".into()),
            reason: Some(reason),
            ..Row::default()
        }])
    }
}
