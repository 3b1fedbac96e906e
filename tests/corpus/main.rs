//! Tests against the shared development corpus (`../shared/corpus/dev`,
//! kept outside the repository), in their own target so that a fresh
//! clone's `cargo test` does not need it. `.ci/run` runs this target with
//! `cargo test --release --test corpus`; a missing corpus fails it.

mod gateways;
mod score;
#[path = "../util.rs"]
mod util;

/// Fails (never skips) when the corpus is not where the tests read it.
#[test]
fn the_corpus_is_present() {
    let dir = util::corpus();
    assert!(
        dir.join("emails").is_dir() && dir.join("truth.jsonl").is_file(),
        "the development corpus is missing at {}: these tests need it",
        dir.display()
    );
}
