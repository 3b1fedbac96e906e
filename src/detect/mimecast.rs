//! Mimecast email security "Email Delivery Failure" alerts: "An email that
//! you attempted to send to the following address could not be delivered:
//! -- <addr>", "The problem appears to be : -- <summary>", "Additional
//! information follows : -- <remote reply>". Identified by the
//! `X-Mimecast-*` / `X-MC-System` headers or those section heads.

use super::Detector;
use super::scan::{self, address_blocks, lookup, section};
use crate::model::Reason;
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::unfold;

/// The Mimecast detector.
pub struct Mimecast;

/// Section heads, lower-case.
const RECIPIENTS: &str = "could not be delivered:";
const PROBLEM: &str = "the problem appears to be";
const INFORMATION: &str = "additional information follows";
const CONDITION: &str = "this condition occurred";

/// Mimecast's problem summaries, lower-case, sorted. Source: Mimecast's
/// delivery-failure notifications.
#[rustfmt::skip]
const PROBLEMS: &[(&str, Reason)] = &[
    ("mailbox is full", Reason::MailboxFull),
    ("recipient email address is possibly incorrect", Reason::UserUnknown),
];

fn dashed(s: &str) -> String {
    unfold(
        &s.lines()
            .map(|l| l.trim().trim_start_matches("--").trim())
            .collect::<Vec<_>>()
            .join("\n"),
    )
}

impl Detector for Mimecast {
    fn id(&self) -> &'static str {
        "mimecast"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        let header = mail
            .headers_where(|n| {
                scan::strip_prefix_ci(n, "x-mimecast").is_some()
                    || n.eq_ignore_ascii_case("x-mc-system")
            })
            .next()
            .is_some();
        header || mail.lower_has(PROBLEM) && mail.lower_has(INFORMATION)
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let text = &mail.text;
        let list = section(text, &[RECIPIENTS], &[PROBLEM])?;
        let problem = section(text, &[PROBLEM], &[INFORMATION]).map(dashed);
        let info = section(text, &[INFORMATION], &[CONDITION])
            .map(dashed)
            .filter(|i| !i.is_empty());
        let reason = problem.as_deref().and_then(|p| lookup(p, PROBLEMS));
        Some(
            address_blocks(list, &["--"])
                .into_iter()
                .map(|b| Row {
                    recipient: Some(b.head),
                    diagnostic: info.clone().or_else(|| problem.clone()),
                    reason,
                    ..Row::default()
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::scan::is_sorted_table;

    #[test]
    fn problems_are_sorted() {
        assert!(is_sorted_table(PROBLEMS));
    }
}
