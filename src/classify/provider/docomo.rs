//! NTT docomo (docomo.ne.jp). Texts from docomo's notes for senders to
//! docomo mail ("ドコモメールへの送信について", www.docomo.ne.jp/service/
//! docomo_mail/): its MTAs answer `552 Too many recipients` when one
//! connection carries too many docomo recipients, and `552 Too much mail
//! data` for messages above the size limit.

use super::{Provider, Rule};
use crate::model::Reason::*;

/// NTT docomo.
#[rustfmt::skip]
pub static DOCOMO: Provider = Provider {
    name: "docomo",
    hosts: &["docomo.ne.jp"],
    domains: &["docomo.ne.jp", "mopera.net"],
    signature: r"",
    rules: &[
        Rule { id: "docomo:too_many_rcpt", status: "", pattern: r"too many recipients", reason: RateLimited },
        Rule { id: "docomo:too_much_data", status: "", pattern: r"too much mail data", reason: MessageTooBig },
    ],
};

#[cfg(test)]
mod tests {
    #[test]
    fn each_rule_matches_its_documented_text() {
        super::super::assert_documented(
            &super::DOCOMO,
            &[
                ("5.0.0", "552 Too many recipients", "docomo:too_many_rcpt"),
                ("5.0.0", "552 Too much mail data", "docomo:too_much_data"),
            ],
        );
    }
}
