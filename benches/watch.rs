//! `rebound watch`: delivery-to-ledger latency, and the cost of waiting.
//!
//! 1. Latency. A private Dovecot (`tests/dovecot.rs`) and a [`Watcher`]
//!    on its INBOX (IDLE, in this process); 1,000 authored bounces are
//!    delivered with Dovecot's LDA (`dovecot-lda`, one process each) at
//!    50 per second. A message's latency runs from the start of its LDA
//!    process to the moment the batch holding its report is committed to
//!    the ledger (the observer's `committed`, called right after the
//!    commit). p50, p99 and max are printed; the target is p99 ≤ 1 s.
//! 2. Idle cost. The `rebound watch` binary over 50 empty mailboxes (100
//!    IMAP sessions, 50 in IDLE); after all 50 are watched, its CPU time
//!    (`/proc/PID/stat`) and memory (`VmRSS`, `VmHWM`) over a quiet
//!    period. Targets: ≤ 1 % of one core, ≤ 50 MB.
//!
//! Run: `cargo bench --bench watch` (env `REBOUND_BENCH_DELIVERIES`,
//! `REBOUND_BENCH_RATE`, `REBOUND_BENCH_IDLE_SECS` change the 1,000
//! deliveries, 50/s and the 120 s quiet period).

#[path = "../tests/dovecot.rs"]
mod dovecot;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rebound::ledger::Ledger;
use rebound::sweep::watch::{Shutdown, WatchSettings, Watcher};
use rebound::sweep::{Config, MessageFate, Observer, Options};
use rebound::{ParseConfig, Parser};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Notes when each recipient's report was committed.
#[derive(Default)]
struct Commits {
    pending: Vec<String>,
    at: HashMap<String, Instant>,
}

impl Observer for Commits {
    fn message(&mut self, fate: &MessageFate<'_>) {
        if let MessageFate::Recorded { report, .. } = fate {
            self.pending.extend(
                report.records.iter().filter_map(|r| r.recipient.clone()),
            );
        }
    }
    fn committed(&mut self, _ledger: &Ledger, _new: &[i64]) {
        let now = Instant::now();
        for r in self.pending.drain(..) {
            self.at.insert(r, now);
        }
    }
}

fn account_toml(d: &dovecot::Dovecot, mailboxes: &[String]) -> String {
    format!(
        "[[account]]\nname = \"bench\"\nhost = \"127.0.0.1\"\nport = {}\n\
         ca_file = {:?}\nuser = \"{}\"\npassword_command = \"echo {}\"\n\
         mailboxes = {mailboxes:?}\n",
        d.imaps_port,
        d.ca,
        dovecot::USER,
        dovecot::PASSWORD
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len());
    sorted[i - 1]
}

fn latency() {
    let n = env_u64("REBOUND_BENCH_DELIVERIES", 1000) as usize;
    let rate = env_u64("REBOUND_BENCH_RATE", 50);
    let d = dovecot::Dovecot::start();
    let tmp = tempfile::tempdir().expect("temp dir");
    let config =
        Config::parse(&account_toml(&d, &["INBOX".into()])).expect("config");
    let account = config.accounts[0].clone().resolve().expect("account");
    let opts = Options {
        db: tmp.path().join("bench.db"),
        ledger: Default::default(),
        dry_run: false,
        limit: None,
        batch_size: rebound::sweep::DEFAULT_BATCH_SIZE,
    };
    let parser = Parser::new(ParseConfig::default()).expect("parser");
    let watcher =
        Watcher::new(vec![account], opts, WatchSettings::default(), parser);
    let shutdown = Shutdown::new();
    let commits = Mutex::new(Commits::default());
    let started: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let lda_times: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let delivered: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    std::thread::scope(|scope| {
        let run = scope.spawn(|| watcher.run(&shutdown, &commits));
        while watcher.counters().connected == 0 {
            std::thread::sleep(Duration::from_millis(20));
        }
        std::thread::sleep(Duration::from_millis(300)); // into IDLE
        let t0 = Instant::now();
        let period = Duration::from_secs_f64(1.0 / rate as f64);
        let d = &d;
        for i in 0..n {
            let due = t0 + period * i as u32;
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            let (started, lda_times, delivered) =
                (started.clone(), lda_times.clone(), delivered.clone());
            scope.spawn(move || {
                let msg = dovecot::bounce(i, 0);
                let rcpt = format!("user{i}@example.org");
                let t = Instant::now();
                started.lock().unwrap().insert(rcpt.clone(), t);
                d.lda(&msg);
                delivered.lock().unwrap().insert(rcpt, Instant::now());
                lda_times.lock().unwrap().push(t.elapsed());
            });
        }
        let sent = t0.elapsed();
        while watcher.counters().new_events < n as u64 {
            std::thread::sleep(Duration::from_millis(50));
        }
        shutdown.trigger();
        run.join().expect("watcher thread").expect("watcher");
        println!(
            "delivered {n} bounces with dovecot-lda in {:.1} s ({:.0}/s); {} sweeps",
            sent.as_secs_f64(),
            n as f64 / sent.as_secs_f64(),
            watcher.counters().sweeps
        );
    });
    let commits = commits.into_inner().unwrap();
    let started = started.lock().unwrap();
    let since = |from: &HashMap<String, Instant>| {
        let mut v: Vec<Duration> = from
            .iter()
            .map(|(rcpt, t)| commits.at[rcpt].saturating_duration_since(*t))
            .collect();
        v.sort_unstable();
        v
    };
    let lat = since(&started);
    let after = since(&delivered.lock().unwrap());
    let mut lda = lda_times.lock().unwrap().clone();
    lda.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "latency LDA start -> ledger commit over {n}: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms (target p99 <= 1000 ms)",
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.99)),
        ms(*lat.last().unwrap()),
    );
    println!(
        "latency LDA exit -> ledger commit: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms; the LDA itself: p50 {:.0} ms, p99 {:.0} ms",
        ms(percentile(&after, 0.5)),
        ms(percentile(&after, 0.99)),
        ms(*after.last().unwrap()),
        ms(percentile(&lda, 0.5)),
        ms(percentile(&lda, 0.99)),
    );
}

/// (user + system CPU seconds, VmRSS kB, VmHWM kB) of a process.
fn usage(pid: u32) -> (f64, u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .unwrap_or_default();
    let f: Vec<f64> = stat
        .rsplit_once(')')
        .map_or("", |(_, r)| r)
        .split_whitespace()
        .skip(11)
        .take(2)
        .map(|v| v.parse().unwrap_or(0.0))
        .collect();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (f.iter().sum::<f64>() / 100.0, kb("VmRSS:"), kb("VmHWM:"))
}

fn idle() {
    let secs = env_u64("REBOUND_BENCH_IDLE_SECS", 120);
    let d = dovecot::Dovecot::start();
    let boxes: Vec<String> = (1..=50).map(|i| format!("box{i:02}")).collect();
    for b in &boxes {
        d.create_folder(b);
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let config = tmp.path().join("rebound.toml");
    std::fs::write(&config, account_toml(&d, &boxes)).expect("config");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_rebound"))
        .arg("watch")
        .arg("--config")
        .arg(&config)
        .arg("--db")
        .arg(tmp.path().join("idle.db"))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("rebound watch");
    let pid = child.id();
    let err = child.stderr.take().expect("stderr");
    let watching = Arc::new(Mutex::new(0));
    let seen = watching.clone();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(err).lines().map_while(Result::ok)
        {
            if line.contains("watching bench/") {
                *seen.lock().unwrap() += 1;
            } else {
                eprintln!("{line}");
            }
        }
    });
    let t = Instant::now();
    while *watching.lock().unwrap() < boxes.len() {
        assert!(t.elapsed() < Duration::from_secs(120), "not all watched");
        std::thread::sleep(Duration::from_millis(100));
    }
    let ready = t.elapsed();
    std::thread::sleep(Duration::from_secs(2));
    let (cpu0, _, _) = usage(pid);
    let t = Instant::now();
    std::thread::sleep(Duration::from_secs(secs));
    let (cpu1, rss, hwm) = usage(pid);
    let span = t.elapsed().as_secs_f64();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = child.wait();
    println!(
        "idle watcher over {} mailboxes (ready in {:.1} s): CPU {:.3} s in {span:.0} s = {:.2}% of a core (target <= 1%); \
         VmRSS {:.1} MB, VmHWM {:.1} MB (target <= 50 MB)",
        boxes.len(),
        ready.as_secs_f64(),
        cpu1 - cpu0,
        100.0 * (cpu1 - cpu0) / span,
        rss as f64 / 1024.0,
        hwm as f64 / 1024.0
    );
}

fn main() {
    println!(
        "{} cores",
        std::thread::available_parallelism().map_or(1, |p| p.get())
    );
    latency();
    idle();
}
