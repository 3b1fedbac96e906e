//! Format detectors: one module per MTA family or report standard, each a
//! unit struct implementing [`Detector`], listed once in [`DETECTORS`].
//!
//! A detector recognises its format from what identifies it (sender,
//! headers, boundaries, body markers) and turns it into
//! [`Row`](crate::model::Row)s, one per failed recipient. It does not
//! classify (the pipeline hands rows to the classifier afterwards). The
//! registry runs MTA-specific detectors first, then the standards (RFC 3464
//! DSN, RFC 5965 ARF, unsubscribe requests, RFC 3834 auto-replies), so a
//! vendor that knows more than its DSN says can add it.

// Classic MTAs (Sendmail, Postfix, Exim, qmail, ...).
mod activehunter;
mod amavis;
mod apachejames;
mod courier;
mod domino;
mod dragonfly;
mod exim;
mod fml;
mod imailserver;
mod mailfoundry;
mod mailmarshal;
mod messagingserver;
mod notes;
mod opensmtpd;
mod postfix;
mod qmail;
mod sendmail;
mod v5sendmail;
mod x1;
mod x2;
mod x3;
mod x5;
mod x6;
// Large providers and ESPs (Microsoft, Google, Yahoo, Amazon, ...).
pub(crate) mod amazonses;
mod amazonworkmail;
mod bouncenotice;
mod exchange2003;
mod exchange2007;
mod gmail;
mod googlegroups;
mod office365;
mod outlook;
mod powermta;
mod receivingses;
mod sendgrid;
mod yahoo;
mod zoho;
// Gateways, carriers and regional providers.
mod barracuda;
mod biglobe;
mod einsundeins;
mod ezweb;
mod gmx;
mod kddi;
mod mailru;
mod mcafee;
mod mfilter;
mod mimecast;
mod mxlogic;
mod netscape;
mod surfcontrol;
mod trendmicro;
mod verizon;
mod yandex;
// Standards.
mod arf;
mod mdn;
mod rfc3464;
mod rfc3834;
mod unsubscribe;
// Text scanning shared by the plain-text formats.
mod scan;

use crate::model::{EventType, Row};
use crate::parse::Mail;

/// A bounce format.
pub trait Detector: Sync {
    /// Stable lower-case id: the JSON `detector` value, the file name under
    /// `src/detect/` and the folder under `samples/`.
    fn id(&self) -> &'static str;
    /// Cheap check of headers or markers: could this message be mine?
    fn sniff(&self, mail: &Mail<'_>) -> bool;
    /// Reads the rows; `None` or no rows when the message is not in this
    /// format after all.
    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>>;
}

/// Every detector, in the order they are tried: MTA-specific formats first,
/// the standards last.
pub static DETECTORS: &[&dyn Detector] = &[
    // Providers that send a classic MTA's report under their own template
    // (Mail.Ru: Exim, Yandex: Postfix, Verizon: Apache James), identified
    // by their own mail-system sender: before the generic detector of the
    // MTA they run (specific before generic; each falls through when it
    // reads nothing).
    &mailru::MailRu,
    &verizon::Verizon,
    &yandex::Yandex,
    // Classic MTAs.
    &activehunter::ActiveHunter,
    &amavis::Amavis,
    &apachejames::ApacheJames,
    &courier::Courier,
    &domino::Domino,
    &fml::Fml,
    &mailfoundry::MailFoundry,
    &mailmarshal::MailMarshal,
    &messagingserver::MessagingServer,
    &notes::Notes,
    &postfix::Postfix,
    &dragonfly::DragonFly,
    &exim::Exim,
    &qmail::Qmail,
    &imailserver::IMailServer,
    &netscape::Netscape,
    &opensmtpd::OpenSmtpd,
    &v5sendmail::V5Sendmail,
    &sendmail::Sendmail,
    &x2::X2,
    &x1::X1,
    &x3::X3,
    &x5::X5,
    &x6::X6,
    // Large providers and ESPs.
    &googlegroups::GoogleGroups,
    &gmail::Gmail,
    &yahoo::Yahoo,
    &zoho::Zoho,
    &office365::Office365,
    &outlook::Outlook,
    &exchange2007::Exchange2007,
    &exchange2003::Exchange2003,
    &amazonworkmail::AmazonWorkMail,
    &receivingses::ReceivingSes,
    &amazonses::AmazonSes,
    &sendgrid::SendGrid,
    &powermta::PowerMta,
    &bouncenotice::BounceNotice,
    // Gateways, carriers and regional providers.
    &barracuda::Barracuda,
    &biglobe::Biglobe,
    &einsundeins::EinsUndEins,
    &ezweb::EzWeb,
    &gmx::Gmx,
    &kddi::Kddi,
    &mcafee::McAfee,
    &mfilter::MFilter,
    &mimecast::Mimecast,
    &mxlogic::MxLogic,
    &surfcontrol::SurfControl,
    &trendmicro::TrendMicro,
    // Standards, last.
    &rfc3464::Rfc3464,
    &arf::Arf,
    // A Sieve reject sent as an MDN is also marked auto-replied.
    &mdn::Mdn,
    // An unsubscribe command sent by a mail client is often also marked
    // Auto-Submitted (Apple Mail): the command decides.
    &unsubscribe::Unsubscribe,
    &rfc3834::Rfc3834,
];

/// The report a mail system's or list manager's notice wraps: a message
/// attached whole and sent by a mail system (a bounce that a list manager
/// could not read and forwarded to its owner). A person's forward of a
/// bounce is not a report and gives none. The caller reads it when no
/// detector reads the notice itself.
pub fn wrapped_report<'x>(mail: &Mail<'x>) -> Option<Mail<'x>> {
    if !scan::evidence::from_automaton(mail) {
        return None;
    }
    let inner = mail.attached()?;
    (scan::evidence::from_mail_system(&inner)
        || scan::evidence::from_null_sender(&inner))
    .then_some(inner)
}

/// Runs the registry over a message: the first detector that decodes rows
/// wins. Rows get their event type from their DSN action when the detector
/// did not set one.
pub fn run(mail: &Mail<'_>) -> Option<(&'static str, Vec<Row>)> {
    DETECTORS.iter().filter(|d| d.sniff(mail)).find_map(|d| {
        let mut rows = d.decode(mail)?;
        if rows.is_empty() {
            return None;
        }
        for r in &mut rows {
            r.kind = r
                .kind
                .or_else(|| Some(EventType::of_action(r.action.as_deref())));
        }
        Some((d.id(), rows))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_lowercase_and_have_sample_folders() {
        let mut seen = std::collections::HashSet::new();
        for d in DETECTORS {
            let id = d.id();
            assert!(seen.insert(id), "duplicate detector id {id}");
            assert!(
                id.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
                "{id} is not lower-case ascii"
            );
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("samples")
                .join(id);
            assert!(dir.is_dir(), "no samples/{id}/ folder");
        }
    }
}
