//! A bounce relayed inside another message (sisimai's "X5": a mail
//! filter that wraps the MTA's report as a `message/rfc822` attachment of
//! its own notice, "----- The following addresses had permanent delivery
//! errors -----"). The outer message has no delivery-status part; the
//! attached report has one, and its rows are the result.

use mail_parser::{MimeHeaders, PartType};

use super::Detector;
use crate::model::Row;
use crate::parse::{Mail, dsn, normalise_text, part_text};

/// The X5 detector.
pub struct X5;

impl Detector for X5 {
    fn id(&self) -> &'static str {
        "x5"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.dsn.is_none() && nested_dsn(mail).is_some()
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        Some(nested_dsn(mail)?.rows())
    }
}

/// The delivery-status part of a report attached as a message.
fn nested_dsn(mail: &Mail<'_>) -> Option<dsn::Dsn> {
    mail.msg.parts.iter().find_map(|p| {
        let PartType::Message(inner) = &p.body else { return None };
        inner.parts.iter().find_map(|q| {
            let is_status = q
                .content_type()
                .and_then(|c| c.subtype())
                .is_some_and(|s| s.eq_ignore_ascii_case("delivery-status"));
            if !is_status {
                return None;
            }
            dsn::parse(&normalise_text(&part_text(q)?))
        })
    })
}
