//! m-FILTER (Digital Arts) mail gateway reports: a Japanese notice, the
//! failed addresses after "以下のメールアドレスへの送信に失敗しました。",
//! then sections headed `-------server message`, `-------SMTP command` and
//! `-------original message` (or `-------original mail info`). The same
//! layout is sent under other X-Mailer names, so the section heads identify
//! it.

use super::Detector;
use super::scan::{address_blocks, header_contains, section};
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::unfold;

/// The m-FILTER detector.
pub struct MFilter;

/// Section heads, lower-case.
const SERVER_MESSAGE: &str = "-------server message";
const SMTP_COMMAND: &str = "-------smtp command";
const SECTION: &str = "-------";
/// The sentence before the failed addresses ("sending to the following
/// addresses failed").
const FAILED: &str = "以下のメールアドレスへの送信に失敗しました";

impl Detector for MFilter {
    fn id(&self) -> &'static str {
        "mfilter"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        if header_contains(mail, "X-Mailer", &["m-filter"]) {
            return true;
        }
        mail.lower_has(SERVER_MESSAGE) && mail.lower_has(SMTP_COMMAND)
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let text = &mail.text;
        let list = section(text, &[FAILED], &[SECTION]).or_else(|| {
            let end = text.to_lowercase().find(SERVER_MESSAGE)?;
            text.get(..end)
        })?;
        let said = section(text, &[SERVER_MESSAGE], &[SECTION])
            .map(unfold)
            .filter(|s| !s.is_empty());
        let command = section(text, &[SMTP_COMMAND], &[SECTION])
            .and_then(|c| c.split_whitespace().next())
            .map(str::to_ascii_uppercase);
        Some(
            address_blocks(list, &[])
                .into_iter()
                .map(|b| Row {
                    recipient: Some(b.head),
                    diagnostic: said.clone(),
                    command: command.clone(),
                    ..Row::default()
                })
                .collect(),
        )
    }
}
