//! Sendmail 5 and its descendants before version 8 (no DSN part): a
//! "----- Transcript of session follows -----" section with the SMTP
//! dialogue (`>>> RCPT To:<a@b>`, `<<< 550 ...`) and sendmail's verdicts
//! (`550 <a@b>... User unknown`, `421 host (smtp)... Deferred: ...`),
//! then "----- Unsent message follows -----" and the message.

use super::Detector;
use super::scan;
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::returned::Returned;

/// The Sendmail 5 detector.
pub struct V5Sendmail;

/// Sendmail 5's section lines (`savemail.c`).
const TRANSCRIPT: &str = "----- Transcript of session follows -----";
const UNSENT: &str = "----- Unsent message follows -----";

impl Detector for V5Sendmail {
    fn id(&self) -> &'static str {
        "v5sendmail"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.dsn.is_none()
            && mail.text_has(TRANSCRIPT)
            && mail.text_has(UNSENT)
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let section = scan::section(&mail.text, &[TRANSCRIPT], &[UNSENT])?;
        let mut rows = scan::transcript(section);
        // A verdict about a host names no address: the returned message
        // (not a MIME part, so the parser did not find it) does.
        let returned = scan::section(&mail.text, &[UNSENT], &[])
            .and_then(Returned::from_text)
            .map(|r| r.to())
            .filter(|to| to.len() == 1);
        for r in &mut rows {
            r.action = Some("failed".into());
            if r.recipient.is_none() {
                r.recipient = returned.as_ref().map(|to| to[0].clone());
            }
        }
        Some(rows)
    }
}
