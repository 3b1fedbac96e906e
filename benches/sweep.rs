//! Sweep throughput against the raw IMAP fetch rate of the same mailbox.
//!
//! Starts a private Dovecot (`tests/dovecot.rs`), fills INBOX with 10,000
//! messages (the dev corpus cycled, or authored DSNs without it), then per
//! round: warms the server with one untimed fetch pass, times a raw
//! `UID FETCH BODY.PEEK[]` pass in batches of 500 over implicit TLS, and
//! times a full `sweep` (fetch, parse, record in a fresh ledger, move) of
//! the same mailbox; then moves everything back for the next round.
//! Each timed pass also reports the CPU seconds it cost this process and
//! the Dovecot processes (the machine's cores are shared by both).
//!
//! Run: `cargo bench --bench sweep` (env `REBOUND_BENCH_MESSAGES`,
//! `REBOUND_BENCH_ROUNDS` to change the 10,000 messages and 3 rounds).

#[path = "../tests/dovecot.rs"]
mod dovecot;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use rebound::sweep::config::{
    AccountSettings, After, NonBounces, Protocol, Secret,
};
use rebound::sweep::{Observer, Options, TlsMode, connect};
use rebound::{ParseConfig, Parser};

/// mimalloc: measured faster than the system allocator for rebound's many
/// small allocations (parse bench: rebound parse+classify +5%).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// CPU seconds used so far by this process (`self`) or, for Dovecot's
/// master, by its finished child processes (Linux `/proc`; 0 elsewhere).
fn cpu_seconds(pid: &str, children: bool) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .unwrap_or_default();
    // Fields after the ")" that ends the command name: utime is the 12th,
    // then stime, cutime, cstime.
    let fields: Vec<f64> = stat
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .skip(11)
        .take(4)
        .map(|f| f.parse().unwrap_or(0.0))
        .collect();
    let ticks: f64 = match (fields.len(), children) {
        (4, false) => fields[0] + fields[1],
        (4, true) => fields[2] + fields[3],
        _ => 0.0,
    };
    ticks / 100.0 // USER_HZ
}

/// CPU seconds of this process and of Dovecot's finished sessions.
struct Cpu {
    master: String,
    at: (f64, f64),
}

impl Cpu {
    fn start(d: &dovecot::Dovecot) -> Cpu {
        let master = std::fs::read_to_string(d.dir().join("dovecot.pid"))
            .unwrap_or_default()
            .trim()
            .to_string();
        let mut c = Cpu { master, at: (0.0, 0.0) };
        c.lap();
        c
    }

    fn now(&self) -> (f64, f64) {
        (cpu_seconds("self", false), cpu_seconds(&self.master, true))
    }

    /// CPU seconds since the last call, once Dovecot has reaped the
    /// sessions that ended.
    fn lap(&mut self) -> String {
        std::thread::sleep(Duration::from_millis(200));
        let now = self.now();
        let (ours, server) = (now.0 - self.at.0, now.1 - self.at.1);
        self.at = now;
        format!("cpu {ours:.2} s here + {server:.2} s Dovecot")
    }
}

struct Quiet;
impl Observer for Quiet {}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn messages(n: usize) -> Vec<Vec<u8>> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus/dev/emails");
    let mut corpus: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .map(|r| {
            let mut paths: Vec<PathBuf> =
                r.filter_map(|e| e.ok().map(|e| e.path())).collect();
            paths.sort();
            paths.iter().filter_map(|p| std::fs::read(p).ok()).collect()
        })
        .unwrap_or_default();
    if corpus.is_empty() {
        eprintln!("no corpus at {}: authored DSNs only", dir.display());
        corpus = (0..n).map(|i| dovecot::bounce(i, 0)).collect();
    }
    (0..n).map(|i| corpus[i % corpus.len()].clone()).collect()
}

/// One raw fetch pass: (messages, bytes, time).
fn raw_fetch(account: &AccountSettings) -> (usize, usize, Duration) {
    let t = Instant::now();
    let cred = account.secret.read().expect("credential");
    let mut s = connect::open(account, &cred).expect("login");
    s.select("INBOX").expect("select");
    let mut uids: Vec<u32> =
        s.uid_search("ALL").expect("search").into_iter().collect();
    uids.sort_unstable();
    let (mut n, mut bytes) = (0, 0);
    for chunk in uids.chunks(500) {
        let set: Vec<String> = chunk.iter().map(u32::to_string).collect();
        let fetched =
            s.uid_fetch(set.join(","), "(UID BODY.PEEK[])").expect("fetch");
        for f in fetched.iter() {
            n += 1;
            bytes += f.body().map_or(0, <[u8]>::len);
        }
    }
    s.logout().ok();
    (n, bytes, t.elapsed())
}

/// Moves everything from the sweep's folders back to INBOX.
fn restore(account: &AccountSettings) {
    let cred = account.secret.read().expect("credential");
    let mut s = connect::open(account, &cred).expect("login");
    for folder in [&account.processed_folder, &account.quarantine_folder] {
        if s.select(folder).is_ok_and(|m| m.exists > 0) {
            s.uid_mv("1:*", "INBOX").expect("move back");
        }
    }
    s.logout().ok();
}

fn main() {
    let n = env_usize("REBOUND_BENCH_MESSAGES", 10_000);
    let rounds = env_usize("REBOUND_BENCH_ROUNDS", 3);
    let d = dovecot::Dovecot::start();
    let msgs = messages(n);
    let total: usize = msgs.iter().map(Vec::len).sum();
    d.deliver("INBOX", msgs);
    let account = AccountSettings {
        name: "bench".into(),
        protocol: Protocol::Imap,
        host: "127.0.0.1".into(),
        port: d.imaps_port,
        tls: TlsMode::Implicit,
        ca_file: Some(d.ca.clone()),
        user: dovecot::USER.into(),
        secret: Secret::PasswordCommand(format!("echo {}", dovecot::PASSWORD)),
        mailboxes: vec!["INBOX".into()],
        processed_folder: "Processed".into(),
        quarantine_folder: "Quarantine".into(),
        after: After::Move,
        flag: "$Rebound".into(),
        non_bounces: NonBounces::Quarantine,
        non_bounce_flag: "$NotBounce".into(),
        max_message_size: rebound::sweep::config::DEFAULT_MAX_MESSAGE_SIZE,
    };
    let parser = Parser::new(ParseConfig::default()).expect("parser");
    println!(
        "mailbox: {n} messages, {:.1} MB, {} cores",
        total as f64 / 1e6,
        std::thread::available_parallelism().map_or(1, |p| p.get())
    );
    let mut ratios = Vec::new();
    for round in 1..=rounds {
        raw_fetch(&account); // warm-up, untimed
        let mut cpu = Cpu::start(&d);
        let (fetched, bytes, raw) = raw_fetch(&account);
        let raw_cpu = cpu.lap();
        assert_eq!(fetched, n, "raw fetch saw every message");
        let raw_rate = fetched as f64 / raw.as_secs_f64();
        let tmp = tempfile::tempdir().expect("temp dir");
        let opts = Options {
            db: tmp.path().join("bench.db"),
            ledger: Default::default(),
            dry_run: false,
            limit: None,
            batch_size: rebound::sweep::DEFAULT_BATCH_SIZE,
        };
        let t = Instant::now();
        let s = rebound::sweep::sweep(&account, &opts, &parser, &mut Quiet)
            .expect("sweep");
        let swept = t.elapsed();
        let sweep_cpu = cpu.lap();
        assert_eq!(s.messages, n, "the sweep saw every message");
        let sweep_rate = s.messages as f64 / swept.as_secs_f64();
        println!(
            "round {round}: raw fetch {fetched} msgs {:.2} s = {raw_rate:.0} msg/s ({:.1} MB/s, {raw_cpu}); \
             sweep {:.2} s = {sweep_rate:.0} msg/s ({sweep_cpu}; {} reports, {} new events, {} quarantined); \
             sweep/raw = {:.0}%",
            raw.as_secs_f64(),
            bytes as f64 / 1e6 / raw.as_secs_f64(),
            swept.as_secs_f64(),
            s.reports,
            s.new_events,
            s.quarantined,
            100.0 * sweep_rate / raw_rate
        );
        ratios.push(sweep_rate / raw_rate);
        restore(&account);
    }
    ratios.sort_by(f64::total_cmp);
    println!(
        "median sweep/raw over {rounds} rounds: {:.0}% (target >= 70%)",
        100.0 * ratios[ratios.len() / 2]
    );
}
