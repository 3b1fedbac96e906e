//! Scale measurements for `docs/robustness.md` ("Measured figures").
//!
//! ```text
//! cargo run --release --example scale -- curve
//! cargo run --release --example scale -- mbox /tmp/big.mbox 1024
//! /usr/bin/time -v target/release/rebound parse /tmp/big.mbox >/dev/null
//! ```
//!
//! `curve` times `Parser::parse` (best of seven, thread CPU time) on DSNs whose text part
//! is 1, 2, 4, 8 and 16 MB, as one line and as 60-byte lines. `mbox PATH
//! MB` writes an mbox of about MB megabytes from the seed messages (the
//! samples, the dev corpus read at run time and the fuzzer's built-in
//! messages), each with an mbox `From ` line and `>From ` quoting;
//! a seed's own `From ` line (corpus files are one-message mboxes) is
//! replaced.

// Only the seeds, the DSN builder and the timer of the fuzzer are used.
#[allow(dead_code)]
#[path = "../fuzz/mutate.rs"]
mod mutate;
#[path = "../fuzz/timing.rs"]
mod timing;

use std::io::{BufWriter, Write};
use std::time::Duration;

use rebound::Parser;

fn curve() {
    let p = Parser::default();
    let line = "Delivery to a@example.org failed: 550 5.1.1 user unknown\n";
    println!("| MB | one line: ms | MB/s | 60-byte lines: ms | MB/s |");
    println!("|---:|---:|---:|---:|---:|");
    for mb in [1, 2, 4, 8, 16] {
        let single = mutate::dsn(1, &"x".repeat(mb << 20));
        let many = mutate::dsn(1, &line.repeat((mb << 20) / line.len()));
        let (a, b) = (
            timing::parse_time(&p, &single, 7),
            timing::parse_time(&p, &many, 7),
        );
        let rate = |t: Duration| mb as f64 / t.as_secs_f64();
        println!(
            "| {mb} | {:.1} | {:.0} | {:.1} | {:.0} |",
            a.as_secs_f64() * 1e3,
            rate(a),
            b.as_secs_f64() * 1e3,
            rate(b)
        );
    }
}

fn mbox(path: &str, mb: u64) -> std::io::Result<()> {
    let seeds = mutate::seeds(env!("CARGO_MANIFEST_DIR").as_ref());
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    let (mut written, mut n) = (0u64, 0u64);
    while written < mb << 20 {
        for raw in &seeds {
            let text = String::from_utf8_lossy(raw).replace("\r\n", "\n");
            // A seed saved as a one-message mbox: its own `From ` line
            // gives way to the new one.
            let text = match text.strip_prefix("From ") {
                Some(rest) => rest.split_once('\n').map_or("", |r| r.1),
                None => &text,
            };
            let sep = format!(
                "From bounces{n}@example.com Mon Jan  1 00:00:00 2024\n"
            );
            out.write_all(sep.as_bytes())?;
            written += sep.len() as u64;
            for line in text.lines() {
                let quoted = line.trim_start_matches('>').starts_with("From ");
                if quoted {
                    out.write_all(b">")?;
                }
                out.write_all(line.as_bytes())?;
                out.write_all(b"\n")?;
                written += line.len() as u64 + 1 + u64::from(quoted);
            }
            out.write_all(b"\n")?;
            written += 1;
            n += 1;
        }
    }
    out.flush()?;
    println!("{path}: {n} messages, {written} bytes");
    Ok(())
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["curve"] => curve(),
        ["mbox", path, mb] => {
            mbox(path, mb.parse().expect("size in MB"))?;
        }
        _ => eprintln!("usage: scale curve | scale mbox PATH MB"),
    }
    Ok(())
}
