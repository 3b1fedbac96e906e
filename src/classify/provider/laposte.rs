//! La Poste (laposte.net). Texts from La Poste's postmaster notes
//! ("Codes d'erreur", www.laposte.net/postmaster): replies are bilingual
//! (French, then English) and end in an `LPNnnn_nnn` code.

use super::{Provider, Rule};
use crate::model::Reason::*;

/// La Poste.
#[rustfmt::skip]
pub static LAPOSTE: Provider = Provider {
    name: "laposte",
    hosts: &["laposte.net"],
    domains: &["laposte.net"],
    signature: r"\blpn\d{3}_\d{3}\b",
    rules: &[
        Rule { id: "laposte:blocked_account", status: "", pattern: r"compte du destinataire est bloqu|recipient account is blocked", reason: Suspended },
        Rule { id: "laposte:unknown", status: "", pattern: r"destinataire inconnu|adresse (?:du destinataire )?inconnue|recipient unknown|user unknown", reason: UserUnknown },
        Rule { id: "laposte:full", status: "", pattern: r"bo[iî]te (?:aux lettres )?(?:du destinataire )?(?:est )?pleine|mailbox (?:is )?full", reason: MailboxFull },
        Rule { id: "laposte:client_host", status: "", pattern: r"client host rejected|lpn000_\d{3}", reason: Policy },
    ],
};

#[cfg(test)]
mod tests {
    #[test]
    fn each_rule_matches_its_documented_text() {
        super::super::assert_documented(
            &super::LAPOSTE,
            &[
                (
                    "5.5.0",
                    "550 5.5.0 Le compte du destinataire est bloque. The recipient account is blocked. LPN007_426",
                    "laposte:blocked_account",
                ),
                (
                    "5.1.1",
                    "550 5.1.1 Destinataire inconnu. Recipient unknown. LPN007_402",
                    "laposte:unknown",
                ),
                (
                    "5.2.2",
                    "552 5.2.2 Boite du destinataire pleine. Recipient mailbox full. LPN007_421",
                    "laposte:full",
                ),
                (
                    "5.7.1",
                    "554 5.7.1 <host.example.net[192.0.2.1]:49309>: Client host rejected: #216 lpn LPN000_630",
                    "laposte:client_host",
                ),
            ],
        );
    }
}
