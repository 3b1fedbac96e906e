//! Amazon WorkMail (<https://aws.amazon.com/workmail/>): reports written
//! by WorkMail (`X-Mailer: Amazon WorkMail`) and sent through Amazon SES.
//! The text names the recipients ("An error occurred while trying to
//! deliver the mail to the following recipients:") and repeats the DSN
//! fields after "Technical report:", so they are read from the text when
//! the report has no delivery-status part. Diagnostics have SES's shape
//! ([`super::amazonses`]).

use super::{Detector, amazonses};
use crate::model::Row;
use crate::parse::Mail;

/// The Amazon WorkMail detector.
pub struct AmazonWorkMail;

/// The X-Mailer value of WorkMail.
const MAILER: &str = "amazon workmail";

impl Detector for AmazonWorkMail {
    fn id(&self) -> &'static str {
        "amazonworkmail"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        mail.header("X-Mailer")
            .is_some_and(|m| m.to_ascii_lowercase().starts_with(MAILER))
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let mut rows = mail.dsn_rows();
        rows.iter_mut().for_each(amazonses::refine);
        Some(rows)
    }
}
