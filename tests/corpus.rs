//! The dev corpus gate: `rebound parse` over ../shared/corpus/dev/emails,
//! scored by ../shared/tools/score.py, must stay at or above the accepted
//! figures. A drop fails the suite.

use serde_json::Value;

use crate::util::{corpus, rebound, root};

fn score(modules: Option<&str>) -> Value {
    let out = rebound()
        .arg("parse")
        .arg(corpus().join("emails"))
        .output()
        .expect("rebound runs");
    assert!(
        out.status.success(),
        "parse failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let preds = dir.path().join("preds.jsonl");
    std::fs::write(&preds, &out.stdout).unwrap();
    let mut cmd = std::process::Command::new("python3");
    cmd.arg(root().join("../shared/tools/score.py"))
        .arg(corpus().join("truth.jsonl"))
        .arg(&preds)
        .arg("--json");
    if let Some(m) = modules {
        cmd.args(["--modules", m]);
    }
    let s = cmd.output().expect("python3 runs the scorer");
    assert!(
        s.status.success(),
        "scorer failed: {}",
        String::from_utf8_lossy(&s.stderr)
    );
    let v: Value = serde_json::from_slice(&s.stdout).unwrap();
    v["overall"].clone()
}

fn at_least(o: &Value, metric: &str, min: f64) {
    let got = o[metric]
        .as_f64()
        .unwrap_or_else(|| panic!("{metric} missing in {o}"));
    assert!(got >= min, "{metric} = {got:.4}, below {min}: {o:#}");
}

#[test]
fn standards_modules_meet_the_parse_figures() {
    let o = score(Some("rfc3464,arf,rfc3834,not-bounce"));
    at_least(&o, "detection", 0.95);
    at_least(&o, "recipient", 0.95);
    at_least(&o, "status", 0.90);
    assert_eq!(o["nonbounce_fp"].as_u64(), Some(0), "{o:#}");
}
