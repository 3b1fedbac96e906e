//! Amazon SES email receiving (docs.aws.amazon.com/ses/latest/dg/
//! receiving-email.html). SES refuses a recipient that matches no receipt
//! rule during the SMTP session, so the sending side reports that itself.
//! A report that SES sends afterwards comes from a receipt rule's bounce
//! action, which runs once the message has been accepted and replies with
//! the code and text the domain's owner picked from the console's bounce
//! templates ("Mailbox does not exist" 550 5.1.1, "Mailbox full" 552 5.2.2,
//! "Message too large" 552 5.3.4, "Message content rejected" 500 5.6.1,
//! ...). The "does not exist" template is therefore the owner's rule, not
//! a lookup of the mailbox: retried, and suppressed by the soft-bounce
//! escalation if the rule keeps refusing.

use super::{Provider, Rule};
use crate::model::Reason::*;

/// Amazon SES receiving, identified by its inbound servers.
#[rustfmt::skip]
pub static AMAZONSES: Provider = Provider {
    name: "amazonses",
    hosts: &["inbound-smtp.*.amazonaws.com"],
    domains: &[],
    signature: r"",
    rules: &[
        Rule { id: "amazonses:bounce_action", status: "", pattern: r"^(?:5\d\d[ -])?(?:5\.1\.1 )?mailbox does not exist\.?\s*$", reason: Filtered },
    ],
};

#[cfg(test)]
mod tests {
    #[test]
    fn each_rule_matches_its_documented_text() {
        super::super::assert_documented(
            &super::AMAZONSES,
            &[
                (
                    "5.1.1",
                    "550 5.1.1 Mailbox does not exist",
                    "amazonses:bounce_action",
                ),
                ("5.1.1", "Mailbox does not exist", "amazonses:bounce_action"),
            ],
        );
    }

    #[test]
    fn other_texts_are_left_to_the_general_rules() {
        let i = super::super::identify(
            Some("inbound-smtp.us-east-1.amazonaws.com"),
            None,
            None,
        )
        .expect("identified by host");
        for text in [
            // SES's refusal during the session (no receipt rule matched).
            "550 5.1.1 Requested action not taken: mailbox unavailable",
            "552 5.2.2 Mailbox full",
            "550 5.1.1 <a@example.org>: mailbox does not exist here, try b@example.org",
        ] {
            assert_eq!(super::super::lookup(i, Some("5.1.1"), text), None);
        }
    }
}
