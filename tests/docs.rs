//! The documentation's tables are the code's tables: the reasons table of
//! `docs/output.md` lists every [`Reason`] in [`Reason::ALL`] order with
//! its class, category, action and retry delay, the classes table
//! names every class code as `class_name` does, the block-list table
//! of `docs/preflight.md` lists preflight's default zones, and the
//! README's `parse` examples and set-up steps are what the binary and
//! `.ci/run` do.

use rebound::classify::{Reason, class_name};
use rebound::preflight::dnsbl::{DEFAULT_ZONES, ZoneKind};

use crate::util::{rebound, root};

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

fn readme() -> String {
    std::fs::read_to_string(root().join("README.md")).unwrap()
}

/// `rebound parse ARGS` run in the crate root: stdout then stderr.
fn parse_output(args: &[String]) -> String {
    let o = rebound()
        .arg("parse")
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    String::from_utf8_lossy(&o.stdout).into_owned()
        + &String::from_utf8_lossy(&o.stderr)
}

#[test]
fn readme_parse_examples_are_real_output() {
    let text = readme();
    let mut checked = 0;
    for block in text.split("```console\n").skip(1) {
        let block = &block[..block.find("```").unwrap()];
        let mut lines = block.lines();
        let Some(args) =
            lines.next().and_then(|l| l.strip_prefix("$ rebound parse "))
        else {
            continue;
        };
        let args: Vec<String> =
            args.split_whitespace().map(str::to_string).collect();
        let want: Vec<&str> = lines.collect();
        let got = parse_output(&args);
        assert_eq!(got.lines().collect::<Vec<_>>(), want, "README: {args:?}");
        checked += 1;
    }
    assert!(checked > 0, "no `$ rebound parse` example in the README");
    // The summary line of `rebound parse samples/*/*.eml`, in the README
    // and in docs/output.md.
    let mut all = Vec::new();
    for dir in std::fs::read_dir(root().join("samples")).unwrap() {
        let dir = dir.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            if f.extension().is_some_and(|x| x == "eml") {
                all.push(f.to_string_lossy().into_owned());
            }
        }
    }
    let got = parse_output(&all);
    let summary = got.lines().last().unwrap();
    for (doc, text) in
        [("README.md", text.clone()), ("output.md", output_md())]
    {
        let at = text
            .find("`rebound parse samples/*/*.eml`")
            .unwrap_or_else(|| panic!("{doc}: no summary example"));
        let line = text[at..]
            .lines()
            .find(|l| l.starts_with("rebound: "))
            .unwrap_or_else(|| panic!("{doc}: no summary line"));
        assert_eq!(line, summary, "{doc}'s summary line");
    }
}

#[test]
fn readme_installs_before_it_runs_rebound_and_names_every_package() {
    let text = readme();
    assert!(text.lines().count() <= 200, "README over 200 lines");
    let install = text.find("cargo install --path .").expect("install step");
    let bare = ["\n$ rebound ", "\nrebound "]
        .iter()
        .filter_map(|p| text.find(p))
        .min()
        .expect("examples");
    assert!(install < bare, "a bare `rebound` before the install step");
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    let mut packages = Vec::new();
    for l in ci.lines() {
        if let Some(rest) = l.split("need+=(").nth(1) {
            packages.push(rest.split(')').next().unwrap().to_string());
        }
        if let Some(rest) = l.trim().strip_prefix("install ") {
            packages.extend(rest.split_whitespace().map(str::to_string));
        }
    }
    assert!(packages.len() >= 8, "{packages:?}");
    for p in &packages {
        assert!(text.contains(&format!("`{p}`")), "README misses {p}");
    }
    // Chromium, the big one, is installed for the report's rendering test
    // alone, after the rest of the suite has run, and said so with its size.
    let at = |needle: &str| {
        ci.find(needle).unwrap_or_else(|| panic!(".ci/run: no {needle:?}"))
    };
    assert!(!ci.contains("need+=(chromium)"), "chromium installed up front");
    assert!(at("--skip ops_report::") < at("install chromium"));
    assert!(at("install chromium") < at("--test integration ops_report::"));
    let para = text
        .split("\n\n")
        .find(|p| p.contains("`chromium`"))
        .expect("chromium named");
    assert!(para.contains(" MB") && para.contains("report"), "{para}");
}
