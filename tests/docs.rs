//! The documentation's tables are the code's tables: the reasons table of
//! `docs/output.md` lists every [`Reason`] in [`Reason::ALL`] order with
//! its class, category, action and retry delay, the classes table
//! names every class code as `class_name` does, and the block-list table
//! of `docs/preflight.md` lists preflight's default zones.

use rebound::classify::{Reason, class_name};
use rebound::preflight::dnsbl::{DEFAULT_ZONES, ZoneKind};

use crate::util::root;

/// The cells of the markdown table rows between `begin` and `end` (or of
/// the table under `heading`), header and rule rows left out.
fn table_rows(text: &str, start: &str, end: &str) -> Vec<Vec<String>> {
    let from = text.find(start).unwrap_or_else(|| panic!("no {start:?}"));
    let rest = &text[from + start.len()..];
    let to = rest.find(end).unwrap_or(rest.len());
    rest[..to]
        .lines()
        .map(str::trim)
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            l.trim_matches('|')
                .split('|')
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

fn output_md() -> String {
    std::fs::read_to_string(root().join("docs/output.md")).unwrap()
}

#[test]
fn reasons_table_is_the_codes_table() {
    let rows = table_rows(
        &output_md(),
        "<!-- reasons:begin -->",
        "<!-- reasons:end -->",
    );
    let names: Vec<&str> =
        rows.iter().map(|r| r[0].trim_matches('`')).collect();
    let want: Vec<&str> = Reason::ALL.iter().map(|r| r.name()).collect();
    assert_eq!(names, want, "docs/output.md reasons are not Reason::ALL");
    for (row, reason) in rows.iter().zip(Reason::ALL) {
        let m = reason.meaning();
        let class = m.class.map_or("–".to_string(), |c| c.to_string());
        let retry = m
            .retry_after_secs
            .map_or(String::new(), |s| format!("{} h", s / 3600));
        assert_eq!(
            [&row[1], &row[2], &row[3], &row[4]],
            [
                &class,
                &m.category.as_str().to_string(),
                &m.action.as_str().to_string(),
                &retry
            ],
            "docs/output.md row of {}",
            reason.name()
        );
    }
}

#[test]
fn classes_table_names_every_class() {
    let text = output_md();
    let rows = table_rows(&text, "## Classes", "## Reasons");
    assert!(rows.len() >= 18, "only {} classes documented", rows.len());
    for row in &rows {
        let class: u16 = row[0].parse().unwrap();
        assert_eq!(row[1], class_name(class), "class {class}");
    }
    let mut codes: Vec<u16> =
        Reason::ALL.iter().filter_map(|r| r.meaning().class).collect();
    codes.sort_unstable();
    codes.dedup();
    for c in codes {
        assert!(
            rows.iter().any(|r| r[0] == c.to_string()),
            "class {c} undocumented"
        );
    }
}

#[test]
fn preflight_block_lists_table_is_the_default_zones() {
    let text =
        std::fs::read_to_string(root().join("docs/preflight.md")).unwrap();
    let rows = table_rows(&text, "<!-- zones:begin -->", "<!-- zones:end -->");
    let documented: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r[0].trim_matches('`').to_string(), r[1].clone()))
        .collect();
    let want: Vec<(String, String)> = DEFAULT_ZONES
        .iter()
        .map(|(z, k)| {
            let kind = if *k == ZoneKind::Ip { "IP" } else { "domain" };
            (z.to_string(), kind.to_string())
        })
        .collect();
    assert_eq!(documented, want, "docs/preflight.md block lists");
}
