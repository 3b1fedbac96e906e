//! au (KDDI) EZweb mobile mail: the "Mail System Error - Returned Mail"
//! reports from `Postmaster@ezweb.ne.jp`. A Japanese explanation, then an
//! English one, then the recipients in angle brackets; when a remote server
//! refused, each recipient carries an SMTP transcript (`Recipient: <a>`,
//! `>>> RCPT TO:<a>`, `<<< 550 ...`). These reports carry no codes of their
//! own: the English and Japanese sentences name the reason.

use super::Detector;
use super::scan::{
    address_blocks, block_row, from_daemon, from_domain_in, header_contains,
    lookup, merge_with_dsn,
};
use crate::model::Reason;
use crate::model::Row;
use crate::parse::Mail;

/// The au/EZweb detector.
pub struct EzWeb;

/// English sentences of the au mail system, lower-case, sorted. Source:
/// au's help pages on returned mail ("エラーメールについて") and the
/// reports themselves.
#[rustfmt::skip]
const ENGLISH: &[(&str, Reason)] = &[
    ("account is disabled", Reason::Suspended),
    ("account is temporarily over quota", Reason::MailboxFull),
    ("not delivered within", Reason::Expired),
    ("remote host is not responding", Reason::Expired),
];

/// Japanese sentences of the same pages, sorted: refused by the
/// recipient's reception settings (指定受信/受信拒否), mailbox full, no
/// such address.
#[rustfmt::skip]
const JAPANESE: &[(&str, Reason)] = &[
    ("メールボックスがいっぱい", Reason::MailboxFull),
    ("メールボックスの容量", Reason::MailboxFull),
    ("受信拒否", Reason::Filtered),
    ("送信先メールアドレスが見つかりません", Reason::UserUnknown),
];

/// Lines that only introduce the recipient list.
#[rustfmt::skip]
const LEAD_INS: &[&str] = &[
    "each of the following recipients",
    "mail server.",
    "the following recipients did not receive",
];

impl Detector for EzWeb {
    fn id(&self) -> &'static str {
        "ezweb"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        from_daemon(&mail.from)
            && (from_domain_in(&mail.from, &["ezweb.ne.jp"])
                || header_contains(mail, "Received", &["(ezweb mail)"]))
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let blocks = address_blocks(&mail.text, &["recipient:"]);
        let first = blocks.first()?;
        // The explanation stands before the first recipient.
        let cut = mail.text.find(&first.head).unwrap_or(0);
        let message: Vec<&str> = mail.text[..cut]
            .lines()
            .map(|l| l.trim().trim_end_matches('<').trim())
            .filter(|l| !l.is_empty() && !l.contains('\u{FFFD}'))
            .filter(|l| {
                let lower = l.to_lowercase();
                !LEAD_INS.iter().any(|s| lower.starts_with(s))
            })
            .collect();
        let message = message.join(" ");
        let reason =
            lookup(&message, ENGLISH).or_else(|| lookup(&message, JAPANESE));
        let rows = blocks
            .iter()
            .map(|b| {
                let mut row = block_row(b, &[]);
                if row.diagnostic.is_none() && !message.is_empty() {
                    row.diagnostic = Some(message.clone());
                }
                row.reason = reason;
                row
            })
            .collect();
        Some(merge_with_dsn(mail.dsn_rows(), rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::scan::is_sorted_table;

    #[test]
    fn tables_are_sorted() {
        assert!(is_sorted_table(ENGLISH));
        assert!(is_sorted_table(JAPANESE));
        assert!(LEAD_INS.windows(2).all(|w| w[0] < w[1]));
    }
}
