//! Completing a detector's row from the rest of the message: the codes
//! quoted in its diagnostic, the event time, the returned message's
//! identifiers and campaign id, and, for a row that names no recipient,
//! the recipients named elsewhere (X-Failed-Recipients, the returned To
//! unless it is the list the original was posted to, VERP addresses).

use crate::model::{Record, Row};
use crate::parse::Mail;
use crate::parse::fields::{self, unfold};
use crate::parse::returned::Returned;
use crate::time;

use super::Parser;

impl Parser {
    /// Fills what the detector left out from the rest of the message and
    /// turns a row into a record (not yet classified). A row without a
    /// recipient takes the recipients named elsewhere (X-Failed-Recipients,
    /// the returned To, VERP); it yields several records when those name
    /// several.
    pub(super) fn complete<'r>(
        &self,
        mail: &Mail<'_>,
        mut row: Row,
        dated: impl FnOnce() -> Option<i64>,
        recovered: impl FnOnce() -> &'r Vec<String>,
    ) -> Vec<(Row, Record)> {
        if let Some(d) = row.diagnostic.take() {
            // Most diagnostics are one short trimmed line already.
            let c = fields::clip(&d);
            let d = if c.len() != d.len()
                || c.contains(['\r', '\n'])
                || c.trim().len() != c.len()
            {
                unfold(c)
            } else {
                d
            };
            row.status = fields::status_with(row.status.take(), &d);
            if row.reply_code.is_none() {
                row.reply_code = fields::reply_code_in(&d);
            }
            row.diagnostic = Some(d);
        }
        let ret = mail.returned.as_ref();
        let time = [&row.last_attempt, &row.arrival_date]
            .into_iter()
            .flatten()
            .find_map(|d| time::parse_mail_date(d))
            .or_else(dated);
        let base = Record {
            original_message_id: ret.and_then(Returned::message_id),
            campaign_id: ret
                .and_then(|r| r.first_of(&self.cfg.campaign_headers)),
            original_subject: ret.and_then(Returned::subject),
            original_from: ret.and_then(Returned::from),
            event_time: time.map(time::format_rfc3339),
            will_retry_until: row
                .will_retry_until
                .as_deref()
                .and_then(time::parse_mail_date)
                .map(time::format_rfc3339),
            ..Record::default()
        };
        let recipients = match &row.recipient {
            Some(r) => vec![r.clone()],
            None => recovered().clone(),
        };
        if recipients.is_empty() {
            return vec![(row.clone(), self.to_record(&row, None, base))];
        }
        recipients
            .into_iter()
            .map(|r| {
                let rec = self.to_record(&row, Some(r.clone()), base.clone());
                let mut row = row.clone();
                row.recipient = Some(r);
                (row, rec)
            })
            .collect()
    }

    pub(super) fn recover_recipients(&self, mail: &Mail<'_>) -> Vec<String> {
        if let Some(h) = mail.header("X-Failed-Recipients") {
            let v = fields::addresses_in(&h);
            if !v.is_empty() {
                return v;
            }
        }
        if let Some(r) = &mail.returned {
            let to = r.to();
            // Mail sent to a list names the list in its To (and its
            // List-Post): the list did not fail, a member did.
            let list: Vec<String> = r
                .headers
                .all("list-post")
                .flat_map(fields::addresses_in)
                .collect();
            let to_list = to
                .iter()
                .any(|t| list.iter().any(|l| l.eq_ignore_ascii_case(t)));
            if to.len() == 1 && !to_list {
                return to;
            }
            if let Some(v) =
                r.return_path().and_then(|rp| self.verp_recipient(&rp))
            {
                return vec![v];
            }
        }
        ["To", "Delivered-To", "X-Original-To", "Envelope-To"]
            .iter()
            .filter_map(|h| mail.header(h))
            .flat_map(|v| fields::addresses_in(&v))
            .find_map(|a| self.verp_recipient(&a))
            .into_iter()
            .collect()
    }

    fn to_record(
        &self,
        row: &Row,
        recipient: Option<String>,
        base: Record,
    ) -> Record {
        Record {
            recipient,
            original_recipient: row.original_recipient.clone(),
            kind: row.kind,
            status: row.status.clone(),
            reply_code: row.reply_code.clone(),
            diagnostic: row.diagnostic.clone(),
            remote_mta: row.remote_mta.clone(),
            reporting_mta: row.reporting_mta.clone(),
            feedback_type: row.feedback_type.clone(),
            ..base
        }
    }
}

/// When a report was written: its Date (RFC 5322, else a shape mailers
/// write instead), else when it was delivered (`delivered`: the date of
/// an mbox postmark line it came with), else when it reached the mail
/// system that handed it over (the date of the first Received field that
/// has one), else unknown. Never the time it is read: the same report
/// must always get the same time.
pub(super) fn report_time(
    mail: &Mail<'_>,
    delivered: Option<i64>,
) -> Option<i64> {
    mail.header("Date")
        .and_then(|d| time::parse_mail_date(&d))
        .or_else(|| {
            mail.msg.date().filter(|d| d.is_valid()).map(|d| d.to_timestamp())
        })
        .or(delivered)
        .or_else(|| {
            mail.headers_where(|n| n.eq_ignore_ascii_case("Received"))
                .find_map(|(_, v)| {
                    let (_, date) = v.rsplit_once(';')?;
                    time::parse_mail_date(&unfold(date))
                })
        })
}
