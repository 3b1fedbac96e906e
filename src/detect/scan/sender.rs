//! Checks of who sent a report and how it is labelled: the sender's
//! domain, mail-system accounts, and header names or values that mark a
//! format.

use super::search::{has_marker, strip_prefix_ci};
use crate::parse::Mail;

/// True when the sender address is at one of `domains` or a subdomain.
pub(crate) fn from_domain_in(from: &str, domains: &[&str]) -> bool {
    let Some((_, host)) = from.rsplit_once('@') else {
        return false;
    };
    domains.iter().any(|d| {
        host.eq_ignore_ascii_case(d)
            || host
                .to_ascii_lowercase()
                .strip_suffix(d)
                .is_some_and(|rest| rest.ends_with('.'))
    })
}

/// True when the sender is a mail system account (`mailer-daemon`,
/// `postmaster`, `post_master`), not a person: a person's mail from a
/// provider domain must never be read as that provider's report.
pub(crate) fn from_daemon(from: &str) -> bool {
    let local = from.split('@').next().unwrap_or("");
    ["mailer-daemon", "postmaster", "post_master"]
        .iter()
        .any(|d| local.eq_ignore_ascii_case(d))
}

/// True when the message has an outer header whose name starts with one
/// of `prefixes` (ASCII, lower-case; compared ignoring case).
pub(crate) fn has_header_prefixed(mail: &Mail<'_>, prefixes: &[&str]) -> bool {
    mail.headers_where(|n| {
        prefixes.iter().any(|p| strip_prefix_ci(n, p).is_some())
    })
    .next()
    .is_some()
}

/// True when some outer header `name` (any occurrence, e.g. every
/// `Received`) contains one of `needles` (case-insensitive).
pub(crate) fn header_contains(
    mail: &Mail<'_>,
    name: &str,
    needles: &[&str],
) -> bool {
    mail.headers_where(|n| n.eq_ignore_ascii_case(name))
        .any(|(_, v)| has_marker(v, needles))
}
