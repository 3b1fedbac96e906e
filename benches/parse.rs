//! Parse + classify throughput on the dev corpus, one thread, against a
//! bare `mail-parser` parse of the same bytes (the ratio must stay ≥ 0.5:
//! reading a bounce may cost at most twice the MIME parse).
//!
//! `cargo bench --bench parse [-- SECONDS]` (default 3 s per loop). Each
//! loop runs in [`ROUNDS`] alternating rounds and reports its best round:
//! on a shared machine the least disturbed round is the closest to the
//! quiet-machine figure, and both loops see the same conditions. Both the
//! wall-clock rate and the on-CPU rate (the thread's time on a CPU where
//! Linux reports it, `/proc/thread-self/schedstat`: time spent waiting for
//! a core another process holds does not count) are printed.

use std::hint::black_box;
use std::time::{Duration, Instant};

use mail_parser::MessageParser;
use rebound::Parser;

/// The binary's allocator (see `src/main.rs`), for both loops.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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

/// Runs `f` over all messages repeatedly for at least `secs`; messages
/// per wall-clock second and per on-CPU second (wall-clock where the
/// kernel does not tell).
/// Never inlined, so that callgrind can split the run into warm-up, bare
/// and full rounds: `valgrind --tool=callgrind --dump-before='parse::rate*'
/// <bench binary> 0.01` (one pass per round under valgrind; dumps 2, 4, ...
/// are bare rounds, 3, 5, ... full ones).
#[inline(never)]
fn rate(msgs: &[Vec<u8>], secs: f64, mut f: impl FnMut(&[u8])) -> [f64; 2] {
    let start = Instant::now();
    let cpu = cpu_time();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs_f64(secs) {
        for m in msgs {
            f(m);
        }
        n += msgs.len() as u64;
    }
    let wall = start.elapsed().as_secs_f64();
    let on_cpu = match (cpu, cpu_time()) {
        (Some(a), Some(b)) if b > a => b - a,
        _ => wall,
    };
    [n as f64 / wall, n as f64 / on_cpu]
}

/// The better of two `[wall, on-CPU]` rates, each kind on its own.
fn best(a: [f64; 2], b: [f64; 2]) -> [f64; 2] {
    [a[0].max(b[0]), a[1].max(b[1])]
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
    let (mut bare, mut full) = ([0f64; 2], [0f64; 2]);
    for _ in 0..ROUNDS {
        let round = secs / f64::from(ROUNDS);
        bare = best(
            bare,
            rate(&msgs, round, |m| {
                black_box(MessageParser::default().parse(black_box(m)));
            }),
        );
        full = best(
            full,
            rate(&msgs, round, |m| {
                let _ = black_box(parser.parse(black_box(m)));
            }),
        );
    }
    let mb = bytes as f64 / msgs.len() as f64 / 1e6;
    println!(
        "corpus: {} messages, {:.2} MB, one thread",
        msgs.len(),
        bytes as f64 / 1e6
    );
    for (i, clock) in ["wall-clock", "on-CPU"].iter().enumerate() {
        let (b, f) = (bare[i], full[i]);
        println!(
            "{clock:>10}: bare mail-parser {b:>7.0} msg/s ({:.0} MB/s), rebound parse+classify {f:>7.0} msg/s ({:.0} MB/s), ratio {:.3} (target >= 0.5)",
            b * mb,
            f * mb,
            f / b
        );
    }
}
