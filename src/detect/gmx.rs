//! GMX and mail.com (`MAILER-DAEMON@mail.gmx.com`, `X-GMX-*` headers):
//! the United Internet platform's report, read by
//! [`super::einsundeins::decode_platform`]. Recipients stand quoted
//! (`"a@example.org":`), followed by "SMTP error from remote server after
//! RCPT command:", "host: <mx>" and the remote reply.

use super::Detector;
use super::einsundeins::decode_platform;
use super::scan::{self, from_daemon, from_domain_in};
use crate::model::Row;
use crate::parse::Mail;

/// The GMX detector.
pub struct Gmx;

impl Detector for Gmx {
    fn id(&self) -> &'static str {
        "gmx"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        from_daemon(&mail.from)
            && (from_domain_in(&mail.from, &["gmx.com", "gmx.net", "gmx.de"])
                || scan::has_header_prefixed(mail, &["x-gmx-"]))
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        decode_platform(mail)
    }
}
