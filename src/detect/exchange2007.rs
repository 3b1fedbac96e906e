//! Microsoft Exchange Server 2007 and later (on premises): RFC 3464
//! reports whose human part ends with a block for administrators, in the
//! sender's language:
//!
//! ```text
//! Delivery has failed to these recipients or groups:
//! ...
//! Diagnostic information for administrators:
//!
//! Generating server: mail.example.com
//! Receiving server: mx.example.org (192.0.2.1)
//!
//! user@example.org
//! Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'
//!
//! Original message headers:
//! ```
//!
//! Exchange 2007 writes the reply as `#550 5.1.1 ... ##`. The block also
//! stands alone when the delivery-status part is missing, so the rows come
//! from the DSN when there is one and from the block otherwise; the block
//! fills what the DSN leaves out. Office 365 uses the same layout
//! ([`super::office365`]).

use super::{Detector, scan};
use crate::model::EventType;
use crate::model::Row;
use crate::parse::Mail;
use crate::parse::fields::{clean_address, reply_code_in, status_in};

/// The Exchange 2007+ detector.
pub struct Exchange2007;

/// Headings of the administrators' block; from Exchange 2007–2019 NDR
/// templates in their shipped languages.
const DIAGNOSTIC: &[&str] = &[
    "diagnoseinformationen für administratoren",
    "diagnostic information for administrators",
    "información de diagnóstico para administradores",
    "informations de diagnostic pour les administrateurs",
    "informazioni di diagnostica per gli amministratori",
    "管理者向けの診断情報",
];

/// Headings of the returned headers that end the block.
const ORIGINAL: &[&str] = &[
    "en-têtes de message d'origine",
    "encabezados del mensaje original",
    "intestazioni originali del messaggio",
    "original message headers",
    "ursprüngliche nachrichtenkopfzeilen",
    "元のメッセージ ヘッダー",
];

/// Labelled lines of the block.
#[rustfmt::skip]
static LABELS: &[(&str, Server)] = &[
    ("empfangender server", Server::Receiving),
    ("generating server", Server::Generating),
    ("generierender server", Server::Generating),
    ("receiving server", Server::Receiving),
    ("server di generazione", Server::Generating),
    ("server di ricezione", Server::Receiving),
    ("serveur de génération", Server::Generating),
    ("serveur de réception", Server::Receiving),
    ("servidor de generación", Server::Generating),
    ("servidor de recepción", Server::Receiving),
    ("受信サーバー", Server::Receiving),
    ("生成サーバー", Server::Generating),
];

/// Which server a labelled line names.
#[derive(Clone, Copy, PartialEq)]
enum Server {
    Generating,
    Receiving,
}

/// Openings of a delay notice without a DSN part.
const DELAYED: &[&str] = &["delivery is delayed to these recipients"];

/// Headers that only Exchange 2007+ writes on its reports.
const HEADERS: &[&str] = &["X-MS-Exchange-Message-Is-Ndr"];

impl Detector for Exchange2007 {
    fn id(&self) -> &'static str {
        "exchange2007"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        is_report(mail)
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        decode(mail)
    }
}

/// True when the message is an Exchange 2007+ report: Exchange's NDR
/// header, or the administrators' block in the text.
pub fn is_report(mail: &Mail<'_>) -> bool {
    HEADERS.iter().any(|h| mail.has_header(h))
        || scan::text_has_marker(mail, DIAGNOSTIC)
}

/// Rows of an Exchange 2007+ report: the DSN's, completed from the
/// administrators' block, or the block's alone.
pub fn decode(mail: &Mail<'_>) -> Option<Vec<Row>> {
    let block = admin_block(&mail.text);
    let mut rows = mail.dsn_rows();
    if rows.is_empty() {
        rows = block;
    } else {
        for row in &mut rows {
            let same = block.iter().find(|b| {
                b.recipient.as_deref().map(str::to_ascii_lowercase)
                    == row.recipient.as_deref().map(str::to_ascii_lowercase)
            });
            if let Some(b) =
                same.or(block.first().filter(|_| block.len() == 1))
            {
                row.remote_mta =
                    row.remote_mta.take().or(b.remote_mta.clone());
                row.reporting_mta =
                    row.reporting_mta.take().or(b.reporting_mta.clone());
                row.diagnostic =
                    row.diagnostic.take().or(b.diagnostic.clone());
            }
        }
    }
    Some(rows)
}

/// The rows of the administrators' block.
pub fn admin_block(text: &str) -> Vec<Row> {
    let Some(block) = scan::section(text, DIAGNOSTIC, ORIGINAL) else {
        return vec![];
    };
    let delayed = scan::lines(text).any(|(_, l)| scan::has_marker(l, DELAYED));
    let base = Row {
        action: Some(if delayed { "delayed" } else { "failed" }.into()),
        kind: Some(if delayed { EventType::Delay } else { EventType::Bounce }),
        ..Row::default()
    };
    let mut generating = None;
    let mut receiving = None;
    let mut rows: Vec<Row> = Vec::new();
    for (_, line) in scan::lines(block) {
        let t = line.trim();
        if t.is_empty() {
            continue;
        }
        if let Some(server) = scan::lookup(t, LABELS) {
            let value = t.split_once([':', '：']).map_or("", |(_, v)| v);
            let host = value.split_whitespace().next().map(str::to_string);
            match server {
                Server::Generating => generating = host,
                Server::Receiving => receiving = host,
            }
            continue;
        }
        if let Some(a) = clean_address(t) {
            rows.push(Row { recipient: Some(a), ..base.clone() });
            continue;
        }
        if let Some(row) = rows.last_mut()
            && row.diagnostic.is_none()
        {
            let (reply, host) = remote_reply(t);
            row.status = status_in(&reply);
            row.reply_code = reply_code_in(&reply);
            row.remote_mta = host;
            row.diagnostic = Some(reply);
        }
    }
    for row in &mut rows {
        row.remote_mta = row.remote_mta.take().or(receiving.clone());
        row.reporting_mta = generating.clone();
    }
    rows
}

/// The remote reply of a diagnostic line, and the remote host when the
/// line names it: `Remote Server at mx.example.org (192.0.2.1) returned
/// '550 ...'`, `Remote Server returned '550 ...'`, `#550 5.1.1 ... ##`.
fn remote_reply(line: &str) -> (String, Option<String>) {
    let lower = line.to_ascii_lowercase();
    if let Some(i) = lower.find(" returned '") {
        let inner = &line[i + " returned '".len()..];
        let inner = inner.rsplit_once('\'').map_or(inner, |(a, _)| a);
        let host = lower[..i]
            .find("remote server at ")
            .and_then(|_| scan::host_before_ip(&line[..i]));
        return (inner.trim().to_string(), host);
    }
    let t = line.trim_start_matches('#').trim_start();
    let t = t.split(" ##").next().unwrap_or(t).trim_end_matches('#');
    (t.trim().to_string(), None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted() {
        assert!(scan::is_sorted_keys(DIAGNOSTIC.iter().copied()));
        assert!(scan::is_sorted_keys(ORIGINAL.iter().copied()));
        assert!(scan::is_sorted_table(LABELS));
    }

    #[test]
    fn admin_block_rows() {
        let t = "Delivery has failed to these recipients or groups:\n\nDiagnostic information for administrators:\n\nGenerating server: mail.example.com\n\na@example.org\nRemote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; not found'\n\nb@example.org\n#550 5.2.2 STOREDRV.Deliver: mailbox full. ##rfc822;b@example.org\n\nOriginal message headers:\n\nTo: a@example.org\n";
        let rows = admin_block(t);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].status.as_deref(), Some("5.1.10"));
        assert_eq!(rows[0].reply_code.as_deref(), Some("550"));
        assert_eq!(rows[0].reporting_mta.as_deref(), Some("mail.example.com"));
        assert_eq!(
            rows[1].diagnostic.as_deref(),
            Some("550 5.2.2 STOREDRV.Deliver: mailbox full.")
        );
    }

    #[test]
    fn remote_server_at_names_the_host() {
        let (reply, host) = remote_reply(
            "3/09/2016 8:05:56 PM - Remote Server at mx.example.org (192.0.2.3) returned '451 4.4.0 timed out'",
        );
        assert_eq!(reply, "451 4.4.0 timed out");
        assert_eq!(host.as_deref(), Some("mx.example.org"));
    }
}
