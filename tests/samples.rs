//! The golden samples: every `samples/<detector>/<name>.eml` is parsed and
//! compared with `<name>.expected.json` beside it, as written (LF) and as
//! CRLF and bare-CR copies, which must give the same result. A mismatch
//! writes `<name>.actual.json`; `REBOUND_BLESS=1` rewrites the expected
//! files instead (review them by hand before committing).
//!
//! The JSON holds the semantic fields only: detector, and per record
//! recipient, type, status, reply code, class, reason, action and rule.

use rebound::{Parser, Record};
use serde_json::{Value, json};

use crate::util::{files_with_ext, root};

fn semantic(detector: Option<&str>, records: &[Record]) -> Value {
    json!({
        "detector": detector,
        "records": records.iter().map(|r| json!({
            "recipient": r.recipient,
            "type": r.kind,
            "status": r.status,
            "reply_code": r.reply_code,
            "class": r.class,
            "reason": r.reason,
            "action": r.action,
            "rule": r.rule,
        })).collect::<Vec<_>>(),
    })
}

fn variants(lf: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let lf: Vec<u8> = lf.iter().copied().filter(|&b| b != b'\r').collect();
    let crlf = String::from_utf8_lossy(&lf).replace('\n', "\r\n").into_bytes();
    let cr: Vec<u8> =
        lf.iter().map(|&b| if b == b'\n' { b'\r' } else { b }).collect();
    vec![("lf", lf), ("crlf", crlf), ("cr", cr)]
}

#[test]
fn samples_match_their_expected_output() {
    let parser = Parser::default();
    let bless = std::env::var_os("REBOUND_BLESS").is_some();
    let samples = files_with_ext(&root().join("samples"), "eml");
    assert!(samples.len() >= 25, "only {} samples", samples.len());
    let mut failures = Vec::new();
    for eml in &samples {
        let raw = std::fs::read(eml).unwrap();
        let expected_path = eml.with_extension("expected.json");
        let mut results = Vec::new();
        for (name, bytes) in variants(&raw) {
            let got = match parser.parse(&bytes) {
                Ok(r) => semantic(r.detector, &r.records),
                Err(e) => json!({ "error": e.to_string() }),
            };
            results.push((name, got));
        }
        let lf = results[0].1.clone();
        for (name, got) in &results[1..] {
            if *got != lf {
                failures.push(format!(
                    "{}: {name} copy differs from LF",
                    eml.display()
                ));
            }
        }
        let pretty = serde_json::to_string_pretty(&lf).unwrap() + "\n";
        if bless {
            std::fs::write(&expected_path, &pretty).unwrap();
            continue;
        }
        let want: Value = match std::fs::read_to_string(&expected_path) {
            Ok(s) => serde_json::from_str(&s).unwrap_or_else(|e| {
                panic!("{}: {e}", expected_path.display())
            }),
            Err(_) => {
                failures.push(format!("{}: missing", expected_path.display()));
                continue;
            }
        };
        let actual_path = eml.with_extension("actual.json");
        if want != lf {
            std::fs::write(&actual_path, &pretty).unwrap();
            failures.push(format!(
                "{}: differs (see {})",
                eml.display(),
                actual_path.display()
            ));
        } else {
            let _ = std::fs::remove_file(&actual_path);
        }
    }
    assert!(
        failures.is_empty(),
        "{} sample failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
