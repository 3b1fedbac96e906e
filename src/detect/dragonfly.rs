//! DragonFly Mail Agent (dma), the small MTA of DragonFly BSD
//! (<https://github.com/corecode/dma>). Its bounce is plain text: "This is
//! the DragonFly Mail Agent v0.13 at host.", "There was an error
//! delivering your mail to <a@b>.", the error (for a remote refusal
//! "mx.example [192.0.2.1] did not like our RCPT TO:" and the server's
//! reply), then "Message headers follow." or "Original message follows."
//! (dma `mail.c` `bounce()`, `net.c` `deliver_remote()`). One message per
//! recipient.

use super::Detector;
use super::scan::{self, command_word, join_reply};
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::address_in;

/// The DragonFly Mail Agent detector.
pub struct DragonFly;

const INTRO: &str = "This is the DragonFly Mail Agent";
const RECIPIENT: &str = "There was an error delivering your mail to";
/// Lines that end the error text (`mail.c`).
#[rustfmt::skip]
const ENDS: &[&str] = &[
    "Message headers follow.",
    "Original message follows.",
];
const REFUSED: &str = " did not like our ";

impl Detector for DragonFly {
    fn id(&self) -> &'static str {
        "dragonfly"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.text_has(INTRO)
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let text = &mail.text;
        let rcpt_line = text.lines().find(|l| l.starts_with(RECIPIENT))?;
        let error = scan::section(text, &[RECIPIENT], ENDS)?;
        let lines: Vec<&str> =
            error.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        let mut row = Row {
            recipient: address_in(rcpt_line),
            action: Some("failed".into()),
            reporting_mta: reporting_host(text),
            ..Row::default()
        };
        match lines.iter().position(|l| l.contains(REFUSED)) {
            Some(i) => {
                let (host, cmd) = lines[i].split_once(REFUSED)?;
                row.remote_mta =
                    host.split_whitespace().next().map(String::from);
                row.command = command_word(cmd);
                row.diagnostic = Some(join_reply(&lines[i + 1..]));
            }
            None => row.diagnostic = Some(lines.join(" ")),
        }
        Some(vec![row])
    }
}

/// The host in "This is the DragonFly Mail Agent v0.13 at host.".
fn reporting_host(text: &str) -> Option<String> {
    let line = text.lines().find(|l| l.starts_with(INTRO))?;
    let (_, host) = line.rsplit_once(" at ")?;
    Some(host.trim().trim_end_matches('.').to_string())
}
