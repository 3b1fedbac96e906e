//! Shared helpers for the integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The crate root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared corpus directory (`../shared/corpus/dev`).
pub fn corpus() -> PathBuf {
    root().join("../shared/corpus/dev")
}

/// The authored samples that are messages (`samples/**/*.eml` whose
/// expected output is records or "not a bounce", not a parse error): a
/// corpus every clone has.
pub fn sample_messages() -> Vec<PathBuf> {
    files_with_ext(&root().join("samples"), "eml")
        .into_iter()
        .filter(|p| {
            let expected = p.with_extension("expected.json");
            let text = std::fs::read_to_string(&expected)
                .unwrap_or_else(|e| panic!("{}: {e}", expected.display()));
            !text.contains("\"error\"")
        })
        .collect()
}

/// A command running the `rebound` binary.
pub fn rebound() -> Command {
    Command::new(env!("CARGO_BIN_EXE_rebound"))
}

/// Runs `rebound` with `args` and returns its output.
pub fn run(args: &[&str]) -> Output {
    rebound().args(args).output().expect("rebound runs")
}

/// Every file under `dir` with extension `ext`, sorted.
pub fn files_with_ext(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d)
            .unwrap_or_else(|e| panic!("{}: {e}", d.display()))
        {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
