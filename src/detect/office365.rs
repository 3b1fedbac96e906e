//! Microsoft 365 / Exchange Online (<https://outlook.office365.com>) and
//! Outlook.com since its move to Exchange Online: the same report layout
//! as Exchange 2007+ ([`super::exchange2007`]) sent from Microsoft's
//! cloud, recognised by the tenant headers Exchange Online stamps
//! (`X-MS-Exchange-CrossTenant-*`), an `*.onmicrosoft.com` sender or
//! Received lines of `outlook.com` servers, on a message that is an
//! Exchange report (a mailbox in Office 365 stamps the tenant headers on
//! every report it receives, whoever wrote it).

use super::{Detector, exchange2007, scan};
use crate::model::Row;
use crate::parse::Mail;

/// The Office 365 detector.
pub struct Office365;

/// Header name prefixes only Exchange Online writes.
const HEADER_PREFIXES: &[&str] = &[
    "x-ms-exchange-crosstenant-",
    "x-ms-exchange-transport-crosstenantheadersstamped",
];

/// Sender domains of Exchange Online reports.
const SENDER_DOMAINS: &[&str] = &[".onmicrosoft.com", "@outlook.com"];

/// Host names of Exchange Online servers, as they appear in Received
/// lines and as the generating server.
const HOSTS: &[&str] = &[".outlook.com", ".outlook.office365.com"];

impl Detector for Office365 {
    fn id(&self) -> &'static str {
        "office365"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        let tenant = scan::has_header_prefixed(mail, HEADER_PREFIXES);
        let sender = SENDER_DOMAINS.iter().any(|d| mail.from.ends_with(d));
        let cloud =
            tenant || sender || scan::header_contains(mail, "Received", HOSTS);
        cloud && exchange2007::is_report(mail)
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        exchange2007::decode(mail)
    }
}
