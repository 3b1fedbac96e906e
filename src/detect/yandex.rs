//! Yandex (`mailer-daemon@yandex.ru`, `X-Yandex-*` headers): a Postfix
//! report with a Russian preface ("Это письмо отправлено почтовым
//! сервером ..."), `<addr>: reason` lines and a delivery-status part whose
//! Diagnostic-Code type is `X-Yandex`.

use super::Detector;
use super::scan::{
    address_blocks, block_row, from_daemon, from_domain_in, merge_with_dsn,
    section,
};
use crate::model::Row;
use crate::parse::Mail;

/// The Yandex detector.
pub struct Yandex;

/// Lines before the recipient list, lower-case: Postfix's English sentence
/// and the Russian one ("the reasons are given below").
#[rustfmt::skip]
const STARTS: &[&str] = &["i'm sorry to have to inform you", "причины указаны ниже"];

impl Detector for Yandex {
    fn id(&self) -> &'static str {
        "yandex"
    }

    fn sniff(&self, mail: &Mail<'_>) -> bool {
        from_daemon(&mail.from)
            && from_domain_in(
                &mail.from,
                &["yandex.ru", "yandex.net", "yandex.com"],
            )
    }

    fn decode(&self, mail: &Mail<'_>) -> Option<Vec<Row>> {
        let text = section(&mail.text, STARTS, &[])
            .map(|t| {
                address_blocks(t, &[])
                    .iter()
                    .map(|b| block_row(b, &[]))
                    .collect()
            })
            .unwrap_or_default();
        Some(merge_with_dsn(mail.dsn_rows(), text))
    }
}
