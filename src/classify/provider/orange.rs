//! Orange / Wanadoo (France Télécom, the former French PTT). Texts from
//! Orange's postmaster page "Codes retour SMTP"
//! (postmaster.orange.fr, and assistance.orange.fr "Messages d'erreur"):
//! replies are given in French and English and end in `OFRnnn_nnn [nnn]`.

use super::{Provider, Rule};
use crate::model::Reason::*;

/// Orange.
#[rustfmt::skip]
pub static ORANGE: Provider = Provider {
    name: "orange",
    hosts: &["orange.fr", "wanadoo.fr"],
    domains: &["orange.fr", "wanadoo.fr"],
    signature: r"\bofr(?:\d{3})?_\d{3}\b",
    rules: &[
        Rule { id: "orange:unknown", status: "", pattern: r"adresse (?:d.?destinataire )?(?:inconnue|invalide)|destinataire (?:inconnu|invalide)|(?:unknown|invalid) recipient|recipient unknown|user unknown", reason: UserUnknown },
        Rule { id: "orange:full", status: "", pattern: r"boite (?:aux lettres )?(?:du destinataire )?pleine|mailbox full|quota", reason: MailboxFull },
        Rule { id: "orange:sender", status: "", pattern: r"exp[eé]diteur invalide|invalid sender|adresse d.?exp[eé]diteur", reason: SenderRejected },
        Rule { id: "orange:blocklist", status: "", pattern: r"liste noire|blacklist|\bofr\d{3}_1\d\d\b", reason: Blocklisted },
        Rule { id: "orange:too_many_conn", status: "", pattern: r"trop de connexions|too many connections", reason: TooManyConnections },
        Rule { id: "orange:spam", status: "", pattern: r"mail rejet[eé]|mail rejected|\bofr_506\b|spam", reason: SpamContent },
        Rule { id: "orange:service_refused", status: "4.", pattern: r"service refus[eé]|service refused|essayer plus tard", reason: SystemError },
    ],
};

#[cfg(test)]
mod tests {
    #[test]
    fn each_rule_matches_its_documented_text() {
        super::super::assert_documented(
            &super::ORANGE,
            &[
                (
                    "5.1.1",
                    "550 5.1.1 Adresse d au moins un destinataire invalide. Invalid recipient. OFR_416 [416]",
                    "orange:unknown",
                ),
                (
                    "5.2.2",
                    "552 5.2.2 Boite du destinataire pleine. Recipient mailbox full. OFR_417 [417]",
                    "orange:full",
                ),
                (
                    "5.1.0",
                    "550 5.1.0 Adresse d expediteur invalide. Invalid Sender. OFR_102 [102]",
                    "orange:sender",
                ),
                (
                    "5.7.1",
                    "550 5.7.1 Votre adresse IP est en liste noire. Your IP address is blacklisted. OFR004_104 [104]",
                    "orange:blocklist",
                ),
                (
                    "4.7.0",
                    "421 4.7.0 Trop de connexions, veuillez ressayer plus tard. Too many connections, please try later. OFR004_401",
                    "orange:too_many_conn",
                ),
                (
                    "5.2.0",
                    "550 5.2.0 Mail rejete. Mail rejected. OFR_506 [506]",
                    "orange:spam",
                ),
                (
                    "4.2.0",
                    "421 4.2.0 Service refuse. Veuillez essayer plus tard. Service refused, please try later. OFR005_505 [505]",
                    "orange:service_refused",
                ),
            ],
        );
    }
}
