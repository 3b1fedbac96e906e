//! Tests against the shared development and wild corpora
//! (`../shared/corpus/dev`, `../shared/corpus/wild`, kept outside the
//! repository), in their own target so that a fresh
//! clone's `cargo test` does not need it. `.ci/run` runs this target with
//! `cargo test --release --test corpus`; a missing corpus fails it.

mod gateways;
mod line_ends;
mod score;
#[path = "../util.rs"]
mod util;

/// Fails (never skips) when the corpus is not where the tests read it.
#[test]
fn the_corpus_is_present() {
    for dir in [util::corpus(), util::wild_corpus()] {
        assert!(
            dir.join("emails").is_dir() && dir.join("truth.jsonl").is_file(),
            "a corpus is missing at {}: these tests need it",
            dir.display()
        );
    }
}
