//! Mutation fuzzer for the whole parse + classify path, on stable Rust.
//!
//! ```text
//! cargo run --release --example fuzz -- --inputs 1000000 --seed 1
//! cargo run --release --example fuzz -- --seed 1 --start 4711 --inputs 1
//! cargo run --release --example fuzz -- --replay target/fuzz/panic-1-4711.eml
//! ```
//!
//! Input `i` of run `--seed s` depends on `(s, i)` only (see
//! `fuzz/mutate.rs`), so `--start i --inputs 1` replays it. A panic, a
//! broken report or an input slower than `--limit-ms` (default 1000) is
//! printed with its seed and index and saved under `--out` (default
//! `target/fuzz`); a hang stops the run. The exit code is 1 when anything
//! was found.

#[path = "../fuzz/mutate.rs"]
mod mutate;
#[path = "../fuzz/timing.rs"]
mod timing;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use mutate::{Harness, Verdict};

struct Opts {
    inputs: u64,
    seed: u64,
    start: u64,
    limit: Duration,
    out: PathBuf,
    replay: Option<PathBuf>,
}

fn opts() -> Result<Opts, String> {
    let mut o = Opts {
        inputs: 100_000,
        seed: 1,
        start: 0,
        limit: Duration::from_secs(1),
        out: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/fuzz"),
        replay: None,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().ok_or(format!("{a} needs a value"));
        let num =
            |v: String| v.parse::<u64>().map_err(|e| format!("{v}: {e}"));
        match a.as_str() {
            "--inputs" => o.inputs = num(val()?)?,
            "--seed" => o.seed = num(val()?)?,
            "--start" => o.start = num(val()?)?,
            "--limit-ms" => o.limit = Duration::from_millis(num(val()?)?),
            "--out" => o.out = PathBuf::from(val()?),
            "--replay" => o.replay = Some(PathBuf::from(val()?)),
            _ => {
                return Err(format!(
                    "unknown argument {a}; use --inputs N --seed N --start N --limit-ms N --out DIR --replay FILE"
                ));
            }
        }
    }
    Ok(o)
}

fn main() -> ExitCode {
    let o = match opts() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("fuzz: {e}");
            return ExitCode::from(2);
        }
    };
    let harness = Harness::new(o.limit);
    if let Some(path) = &o.replay {
        let raw = std::fs::read(path).expect("replay file readable");
        let (v, t) = harness.run(&raw);
        println!("{}: {v} in {t:?}", path.display());
        if v.problem().is_none() {
            let cpu = timing::parse_time(&rebound::Parser::default(), &raw, 3);
            println!("parse time, best of 3 (thread CPU time): {cpu:?}");
        }
        return ExitCode::SUCCESS;
    }
    let seeds = mutate::seeds(env!("CARGO_MANIFEST_DIR").as_ref());
    println!(
        "fuzz: {} seeds, inputs {}..{} of seed {}, limit {:?}",
        seeds.len(),
        o.start,
        o.start + o.inputs,
        o.seed,
        o.limit
    );
    let (mut parsed, mut records, mut rejected, mut found) = (0u64, 0, 0, 0);
    let mut bytes = 0u64;
    let mut slowest = (Duration::ZERO, 0);
    let started = Instant::now();
    for i in o.start..o.start + o.inputs {
        let raw = mutate::input(&seeds, o.seed, i);
        bytes += raw.len() as u64;
        let (v, t) = harness.run(&raw);
        if t > slowest.0 {
            slowest = (t, i);
        }
        match &v {
            Verdict::Parsed(n) => {
                parsed += 1;
                records += n;
            }
            Verdict::Rejected(_) => rejected += 1,
            _ => {}
        }
        let problem = v.problem().or_else(|| (t > o.limit).then_some("slow"));
        if let Some(kind) = problem {
            found += 1;
            let _ = std::fs::create_dir_all(&o.out);
            let file = o.out.join(format!("{kind}-{}-{i}.eml", o.seed));
            let _ = std::fs::write(&file, &raw);
            eprintln!(
                "fuzz: {kind} at seed {} input {i} ({} bytes, {t:?}): {v}\n  saved {}\n  replay: cargo run --release --example fuzz -- --seed {} --start {i} --inputs 1",
                o.seed,
                raw.len(),
                file.display(),
                o.seed
            );
            if matches!(v, Verdict::Hung) {
                break;
            }
        }
        let n = i - o.start + 1;
        if n % 100_000 == 0 {
            println!(
                "fuzz: {n} inputs, {:.0}/s, slowest {:?} (input {})",
                n as f64 / started.elapsed().as_secs_f64(),
                slowest.0,
                slowest.1
            );
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "fuzz: done: {} inputs ({:.1} MB) in {secs:.0} s ({:.0}/s): {parsed} parsed ({records} records), {rejected} rejected with an error, {found} problems; slowest input {} took {:?}",
        parsed + rejected + found,
        bytes as f64 / 1e6,
        (parsed + rejected) as f64 / secs,
        slowest.1,
        slowest.0
    );
    if found > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS }
}
