//! Google Groups (googlegroups.com lists). Facts from the Google Groups
//! help "Messages to a group are bouncing" (support.google.com/groups/
//! answer/2464926): a group refuses mail with a notice, written in the
//! sender's language, that the group may not exist or that the sender may
//! not post to it; a message the group's spam filter refuses says so.

use super::{Provider, Rule};
use crate::model::Reason::*;

/// Google Groups.
#[rustfmt::skip]
pub static GOOGLEGROUPS: Provider = Provider {
    name: "googlegroups",
    hosts: &["googlegroups.com"],
    domains: &["googlegroups.com"],
    signature: r"groups\.google\.com/support",
    rules: &[
        Rule { id: "googlegroups:spam", status: "", pattern: r"spam classification", reason: SpamContent },
        Rule { id: "googlegroups:no_permission", status: "", pattern: r"", reason: SenderRejected },
    ],
};

#[cfg(test)]
mod tests {
    #[test]
    fn each_rule_matches_its_documented_text() {
        super::super::assert_documented(
            &super::GOOGLEGROUPS,
            &[
                (
                    "5.0.0",
                    "Your email to group a@googlegroups.com was rejected due to spam classification.",
                    "googlegroups:spam",
                ),
                (
                    "",
                    "We're writing to let you know that the group you tried to contact (a) may not exist, or you may not have permission to post messages to the group.",
                    "googlegroups:no_permission",
                ),
                (
                    "",
                    "Il se peut que le groupe que vous avez essayé de contacter (a) n'existe pas ou que vous ne soyez pas autorisé à lui envoyer des messages.",
                    "googlegroups:no_permission",
                ),
            ],
        );
    }
}
