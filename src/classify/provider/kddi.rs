//! KDDI au (au.com, ezweb.ne.jp) and its ISP DION. Facts from au's notes
//! on mail reception settings ("迷惑メールフィルター", www.au.com/support/
//! service/mobile/trouble/mail/email/filter/): mail refused by the
//! recipient's own reception filter is answered after DATA with an
//! address-less `550 : User unknown`, while an address that does not exist
//! is refused at RCPT TO with the address in the reply.

use super::{Provider, Rule};
use crate::model::Reason::*;

/// KDDI au.
#[rustfmt::skip]
pub static KDDI: Provider = Provider {
    name: "kddi",
    hosts: &["ezweb.ne.jp", "au.com", "kddi.com", "dion.ne.jp"],
    domains: &["au.com", "dion.ne.jp", "ezweb.ne.jp"],
    signature: r"",
    rules: &[
        Rule { id: "kddi:filtered", status: "", pattern: r"(?:^|\b550:?)\s*:\s*user unknown", reason: Filtered },
        Rule { id: "kddi:mailbox_full", status: "", pattern: r"mailbox is full|メールボックス(?:の容量)?が(?:いっぱい|一杯)", reason: MailboxFull },
        Rule { id: "kddi:suspended", status: "", pattern: r"suspended|利用停止", reason: Suspended },
    ],
};

#[cfg(test)]
mod tests {
    #[test]
    fn each_rule_matches_its_documented_text() {
        super::super::assert_documented(
            &super::KDDI,
            &[
                ("5.0.0", "550 : User unknown", "kddi:filtered"),
                (
                    "5.0.0",
                    "<a@ezweb.ne.jp>: 550: : User unknown",
                    "kddi:filtered",
                ),
                (
                    "5.2.2",
                    "Could not be delivered to: <a@ezweb.ne.jp> As their mailbox is full.",
                    "kddi:mailbox_full",
                ),
                (
                    "5.2.1",
                    "550 <a@ezweb.ne.jp>: the account is suspended",
                    "kddi:suspended",
                ),
            ],
        );
    }
}
