//! Apache James (<https://james.apache.org/>), the bounce of its
//! `Bounce`/`DSNBounce` mailets: "Error message below:" with the remote
//! reply, then "Message details:" with the envelope ("MAIL FROM: ...",
//! "RCPT TO: a@b").

use std::borrow::Cow;
use std::sync::LazyLock;

use memchr::memmem::Finder;

use super::Detector;
use super::scan;
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::addresses_in;

/// The Apache James detector.
pub struct ApacheJames;

const ERROR: &str = "Error message below:";
const DETAILS: &str = "Message details:";
/// [`ERROR`] lower-cased, for the lower-cased text.
const ERROR_LOWER: &str = "error message below:";
/// The searchers for [`ERROR`] and [`DETAILS`], set up once.
static NEEDLES: LazyLock<[Finder<'static>; 2]> =
    LazyLock::new(|| [ERROR, DETAILS].map(Finder::new));
const RCPT: &str = "RCPT TO:";

impl Detector for ApacheJames {
    fn id(&self) -> &'static str {
        "apachejames"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        scan::text_with_has(mail, ERROR_LOWER, &NEEDLES[..])
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let text = body(mail);
        let error = scan::section(&text, &[ERROR], &[DETAILS])?;
        let diagnostic = error
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let details = scan::section(&text, &[DETAILS], &[])?;
        let rows = details
            .lines()
            .filter_map(|l| l.trim().strip_prefix(RCPT))
            .flat_map(addresses_in)
            .map(|a| Row {
                recipient: Some(a),
                diagnostic: Some(diagnostic.clone()),
                action: Some("failed".into()),
                ..Row::default()
            })
            .collect();
        Some(rows)
    }
}

/// The text parts, or the raw body when a broken MIME header (James folds
/// `boundary=` onto a line of its own without indenting it) hid them from
/// the parser.
pub(super) fn body<'m>(mail: &'m Mail<'_>) -> Cow<'m, str> {
    scan::text_with(mail, ERROR_LOWER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lower_cased_marker_is_the_marker() {
        assert_eq!(ERROR_LOWER, ERROR.to_ascii_lowercase());
    }
}
