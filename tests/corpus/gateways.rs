//! The gateway, carrier and regional-provider detectors and ARF against the
//! development corpus (`../shared/corpus/dev`): every file of these modules
//! is claimed by its own detector and gives the recipients its truth names.
//! Truth recipients that are Sisimai's placeholders (`*.invalid`) are not
//! asked for: the parser does not make addresses up.

use std::collections::BTreeSet;

use rebound::Parser;
use serde_json::Value;

use crate::util::corpus;

/// Corpus module → detector ids that may claim its files. Sisimai's ARF
/// set holds Apple Mail's one-click unsubscribe requests too: they are
/// unsubscribe requests, read by the `unsubscribe` detector.
const MODULES: &[(&str, &[&str])] = &[
    ("arf", &["arf", "unsubscribe"]),
    ("lhost-barracuda", &["barracuda"]),
    ("lhost-biglobe", &["biglobe"]),
    ("lhost-einsundeins", &["einsundeins"]),
    ("lhost-ezweb", &["ezweb"]),
    ("lhost-gmx", &["gmx"]),
    ("lhost-kddi", &["kddi"]),
    ("lhost-mailru", &["mailru"]),
    ("lhost-mcafee", &["mcafee"]),
    ("lhost-mfilter", &["mfilter"]),
    ("lhost-mimecast", &["mimecast"]),
    ("lhost-mxlogic", &["mxlogic"]),
    ("lhost-surfcontrol", &["surfcontrol"]),
    ("lhost-trendmicro", &["trendmicro"]),
    ("lhost-verizon", &["verizon"]),
    ("lhost-yandex", &["yandex"]),
];

#[test]
fn corpus_files_are_claimed_with_their_recipients() {
    let truth = std::fs::read_to_string(corpus().join("truth.jsonl")).unwrap();
    let parser = Parser::default();
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in truth.lines() {
        let t: Value = serde_json::from_str(line).unwrap();
        let module = t["module"].as_str().unwrap();
        let Some((_, ids)) = MODULES.iter().find(|(m, _)| *m == module) else {
            continue;
        };
        let file = t["file"].as_str().unwrap();
        // Read as the CLI does (some files are single-message mboxes).
        let path = corpus().join("emails").join(file);
        let msg = rebound::input::open(&[path]).next().unwrap().unwrap();
        let report = parser.parse(&msg.bytes).unwrap();
        checked += 1;
        if !report.detector.is_some_and(|d| ids.contains(&d)) {
            failures.push(format!("{file}: detector {:?}", report.detector));
            continue;
        }
        let want: BTreeSet<String> = t["records"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["recipient"].as_str())
            .filter(|r| !r.ends_with(".invalid"))
            .map(str::to_ascii_lowercase)
            .collect();
        if t["source"] == "none" || want.is_empty() {
            continue;
        }
        let got: BTreeSet<String> = report
            .records
            .iter()
            .filter_map(|r| r.recipient.as_deref())
            .map(str::to_ascii_lowercase)
            .collect();
        if got != want {
            failures.push(format!("{file}: got {got:?}, want {want:?}"));
        }
    }
    assert!(checked >= 37, "only {checked} corpus files checked");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
