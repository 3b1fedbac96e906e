//! Turning a recipient block into a row, and merging the rows read from a
//! report's text with the rows of its delivery-status part.

use super::search::lookup;
use super::section::Block;
use super::smtp::{REPLY_PREFIX, smtp_details};
use crate::model::Reason;
use crate::model::Row;
use crate::parse::fields::{reply_code_in, status_in};

/// A row for an address block: its text as diagnostic, the reason of the
/// first of `phrases` it contains, and the command, remote host, reply
/// code and status read from it (codes only from what the remote server
/// said when the text quotes it).
pub(crate) fn block_row(
    block: &Block<'_, String>,
    phrases: &[(&str, Reason)],
) -> Row {
    let smtp = smtp_details(&block.body);
    let text = block.body_text();
    let said = smtp.response.as_deref().unwrap_or(&text);
    Row {
        recipient: Some(block.head.clone()),
        status: status_in(said),
        reply_code: reply_code_in(said),
        reason: lookup(&text, phrases),
        diagnostic: (!text.is_empty()).then_some(text),
        remote_mta: smtp.host,
        command: smtp.command,
        ..Row::default()
    }
}

/// Merges the rows read from a report's text into the rows of its
/// delivery-status part. A text row matches a DSN row about the same
/// recipient (case-insensitive; a single text row matches a single DSN
/// row). The DSN row takes from it a missing recipient, command, remote
/// MTA, reply code or reason, a fuller diagnostic, and the status the
/// remote server itself gave (it beats the reporting MTA's mapping). A status leading
/// the diagnostic (`552 5.2.2 ...`, the remote server's own) beats the
/// DSN's. Text rows that match no DSN row are added; with no DSN rows the
/// text rows are the result.
pub(crate) fn merge_with_dsn(dsn: Vec<Row>, text: Vec<Row>) -> Vec<Row> {
    if dsn.is_empty() {
        return text;
    }
    let single = dsn.len() == 1 && text.len() == 1;
    let mut used = vec![false; text.len()];
    let mut out: Vec<Row> = dsn
        .into_iter()
        .map(|mut row| {
            let same = |f: &Row| {
                single
                    || matches!((&row.recipient, &f.recipient),
                        (Some(a), Some(b)) if a.eq_ignore_ascii_case(b))
            };
            if let Some(i) = text.iter().position(same) {
                used[i] = true;
                let f = text[i].clone();
                row.recipient = row.recipient.or(f.recipient);
                row.command = row.command.or(f.command);
                row.remote_mta = row.remote_mta.or(f.remote_mta);
                let fuller = match (&row.diagnostic, &f.diagnostic) {
                    (None, Some(_)) => true,
                    (Some(d), Some(t)) => t.len() > d.len(),
                    _ => false,
                };
                if fuller {
                    row.diagnostic = f.diagnostic;
                }
                row.reply_code = row.reply_code.or(f.reply_code);
                row.status = f.status.or(row.status);
                row.reason = row.reason.or(f.reason);
            }
            if let Some(d) = &row.diagnostic
                && let Some(lead) = REPLY_PREFIX.captures(d.trim_start())
                && let Some(remote) = lead.get(2)
            {
                // "552 5.2.2 ...": the remote server's own status.
                row.status = Some(remote.as_str().to_string());
            }
            row
        })
        .collect();
    out.extend(text.into_iter().zip(used).filter(|(_, u)| !u).map(|(t, _)| t));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dsn_rows_take_the_texts_details() {
        let dsn = vec![Row {
            recipient: Some("a@example.org".into()),
            status: Some("5.0.0".into()),
            diagnostic: Some("550 5.7.1 no".into()),
            ..Row::default()
        }];
        let found = vec![Row {
            recipient: Some("A@example.org".into()),
            command: Some("RCPT".into()),
            ..Row::default()
        }];
        let rows = merge_with_dsn(dsn, found);
        assert_eq!(rows[0].command.as_deref(), Some("RCPT"));
        assert_eq!(rows[0].status.as_deref(), Some("5.7.1"));
    }

    #[test]
    fn text_fills_gaps_and_adds_recipients() {
        let dsn = vec![Row {
            recipient: Some("a@example.org".into()),
            status: Some("5.0.0".into()),
            ..Row::default()
        }];
        let text = vec![
            Row {
                recipient: Some("A@example.org".into()),
                status: Some("5.1.1".into()),
                command: Some("RCPT".into()),
                ..Row::default()
            },
            Row { recipient: Some("b@example.org".into()), ..Row::default() },
        ];
        let rows = merge_with_dsn(dsn, text);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].status.as_deref(), Some("5.1.1"));
        assert_eq!(rows[0].command.as_deref(), Some("RCPT"));
        assert_eq!(rows[1].recipient.as_deref(), Some("b@example.org"));
    }
}
