//! Parse + classify throughput on the dev corpus, one thread, against a
//! bare `mail-parser` parse of the same bytes (the ratio must stay ≥ 0.5:
//! reading a bounce may cost at most twice the MIME parse).
//!
//! `cargo bench --bench parse [-- SECONDS]` (default 3 s per loop). Each
//! loop runs in [`ROUNDS`] alternating rounds and reports its best round:
//! on a shared machine the least disturbed round is the closest to the
//! quiet-machine figure, and both loops see the same conditions. Time is
//! the thread's time on a CPU where Linux reports it
//! (`/proc/thread-self/schedstat`), so time spent waiting for a core
//! another process holds does not count; wall-clock time elsewhere.

use std::hint::black_box;
use std::time::{Duration, Instant};

use mail_parser::MessageParser;
use rebound::Parser;

fn corpus() -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/dev/emails");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// Seconds this thread has run on a CPU, when the kernel tells.
fn cpu_time() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 / 1e9)
}

/// Runs `f` over all messages repeatedly for at least `secs`; messages/s.
/// Never inlined, so that callgrind can split the run into warm-up, bare
/// and full rounds: `valgrind --tool=callgrind --dump-before='parse::rate*'
/// <bench binary> 0.01` (one pass per round under valgrind; dumps 2, 4, ...
/// are bare rounds, 3, 5, ... full ones).
#[inline(never)]
fn rate(msgs: &[Vec<u8>], secs: f64, mut f: impl FnMut(&[u8])) -> f64 {
    let start = Instant::now();
    let cpu = cpu_time();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs_f64(secs) {
        for m in msgs {
            f(m);
        }
        n += msgs.len() as u64;
    }
    let spent = match (cpu, cpu_time()) {
        (Some(a), Some(b)) if b > a => b - a,
        _ => start.elapsed().as_secs_f64(),
    };
    n as f64 / spent
}

/// Rounds per loop (bare and full alternate).
const ROUNDS: u32 = 5;

fn main() {
    let secs: f64 =
        std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(3.0);
    let msgs = corpus();
    let bytes: usize = msgs.iter().map(Vec::len).sum();
    let parser = Parser::default();
    // Warm up lazily compiled tables.
    for m in &msgs {
        let _ = parser.parse(m);
    }
    let (mut bare, mut full) = (0f64, 0f64);
    for _ in 0..ROUNDS {
        let round = secs / f64::from(ROUNDS);
        bare = bare.max(rate(&msgs, round, |m| {
            black_box(MessageParser::default().parse(black_box(m)));
        }));
        full = full.max(rate(&msgs, round, |m| {
            let _ = black_box(parser.parse(black_box(m)));
        }));
    }
    let mb = bytes as f64 / msgs.len() as f64 / 1e6;
    println!(
        "corpus: {} messages, {:.2} MB, one thread, {} time",
        msgs.len(),
        bytes as f64 / 1e6,
        if cpu_time().is_some() { "on-CPU" } else { "wall-clock" }
    );
    println!(
        "bare mail-parser parse: {bare:>9.0} msg/s ({:.0} MB/s)",
        bare * mb
    );
    println!(
        "rebound parse+classify: {full:>9.0} msg/s ({:.0} MB/s)",
        full * mb
    );
    println!("ratio: {:.2} (target >= 0.5)", full / bare);
}
