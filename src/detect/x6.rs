//! An unnamed gateway (sisimai's "X6"): "We had trouble delivering your
//! message. Full details follow:", then per failure "The following
//! recipients returned permanent errors: a@b. Reason: SMTP Server
//! <192.0.2.1> refused to accept your message (DATA), with the following
//! error message: [554 5.4.6 ...]", and the original headers as a text
//! attachment.

use std::sync::LazyLock;

use regex::Regex;

use super::Detector;
use super::scan::command_word;
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::addresses_in;

/// The X6 detector.
pub struct X6;

const INTRO: &str =
    "We had trouble delivering your message. Full details follow:";

static FAILURE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^The following recipients returned (permanent|temporary) errors: (.+?)\. Reason: (.*)$")
        .unwrap()
});

static SERVER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"SMTP Server <([^>]+)> refused to accept your message \(([A-Za-z]+)\), with the following error message: \[(.*)\]")
        .unwrap()
});

impl Detector for X6 {
    fn id(&self) -> &'static str {
        "x6"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.text_has(INTRO)
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let mut rows = Vec::new();
        for c in mail.text.lines().filter_map(|l| FAILURE.captures(l.trim())) {
            let delayed = &c[1] == "temporary";
            let reason = &c[3];
            let server = SERVER.captures(reason);
            for addr in addresses_in(&c[2]) {
                rows.push(Row {
                    recipient: Some(addr),
                    action: Some(
                        if delayed { "delayed" } else { "failed" }.into(),
                    ),
                    remote_mta: server.as_ref().map(|s| s[1].to_string()),
                    command: server.as_ref().and_then(|s| command_word(&s[2])),
                    diagnostic: Some(
                        server
                            .as_ref()
                            .map_or(reason, |s| {
                                s.get(3).map_or("", |m| m.as_str())
                            })
                            .to_string(),
                    ),
                    ..Row::default()
                });
            }
        }
        Some(rows)
    }
}
