//! Line ends: the LF, CRLF and bare-CR copies of every message of the
//! development and wild corpora give the same records (the parser
//! normalises line ends once; no detector may depend on them).

use std::path::Path;

use rebound::Parser;

use crate::util::{corpus, files_with_ext, wild_corpus};

/// The message with every line end written as `end`.
fn with_line_ends(raw: &[u8], end: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 20);
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'\r' if raw.get(i + 1) == Some(&b'\n') => {
                out.extend_from_slice(end);
                i += 1;
            }
            b'\r' | b'\n' => out.extend_from_slice(end),
            b => out.push(b),
        }
        i += 1;
    }
    out
}

/// What a copy gives: the detector and the records, as JSON.
fn outcome(parser: &Parser, bytes: &[u8]) -> String {
    match parser.parse(bytes) {
        Ok(r) => serde_json::json!({
            "detector": r.detector,
            "records": r.records,
        })
        .to_string(),
        Err(e) => format!("error: {e}"),
    }
}

fn check(dir: &Path) -> usize {
    let parser = Parser::default();
    let files = files_with_ext(&dir.join("emails"), "eml");
    let mut differ = Vec::new();
    for f in &files {
        let raw = std::fs::read(f).unwrap();
        let lf = outcome(&parser, &with_line_ends(&raw, b"\n"));
        for (name, end) in [("CRLF", &b"\r\n"[..]), ("CR", &b"\r"[..])] {
            if outcome(&parser, &with_line_ends(&raw, end)) != lf {
                differ.push(format!("{} ({name})", f.display()));
            }
        }
    }
    assert!(differ.is_empty(), "copies differ from LF: {differ:#?}");
    files.len()
}

#[test]
fn crlf_and_bare_cr_copies_of_the_dev_corpus_give_the_same_records() {
    assert!(check(&corpus()) > 300);
}

#[test]
fn crlf_and_bare_cr_copies_of_the_wild_corpus_give_the_same_records() {
    assert!(check(&wild_corpus()) > 100);
}
