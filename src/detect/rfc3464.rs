//! RFC 3464 delivery status notifications (RFC 6522 multipart/report with a
//! message/delivery-status part) and RFC 6533 global DSNs, from any MTA
//! that no more specific detector claimed; also DSN fields that lost their
//! MIME part and stand in the text.

use super::{Detector, Row};
use crate::parse::Mail;

/// The standard DSN detector.
pub struct Rfc3464;

impl Detector for Rfc3464 {
    fn id(&self) -> &'static str {
        "rfc3464"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.dsn.is_some()
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        Some(mail.dsn_rows())
    }
}
