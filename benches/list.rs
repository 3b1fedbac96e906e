//! Running the list by hand at scale (`cargo bench --bench list`): on a
//! synthetic ledger of `REBOUND_BENCH_EVENTS` events (default 10 million;
//! one address per 10 events, each address's events spread over four
//! years), the time to
//! - import a list of `REBOUND_BENCH_ROWS` new addresses (default 1
//!   million; SendGrid layout: read and recorded),
//! - forget addresses holding that many events (one `forget` call for
//!   rows / 10 addresses: their events deleted, every table scanned for
//!   mentions, the WAL truncated),
//! - purge that many events (the oldest: each address's first event), with
//!   the incremental vacuum after it.
//!
//! The ledger is generated with SQL (`WITH RECURSIVE`), not through the
//! ingest path: a consistent ledger (chains, states, counters) in a
//! fraction of the time. Figures are in docs/list.md.

use std::time::Instant;

use rebound::ledger::Ledger;
use rebound::ledger::export::Format;
use rebound::ledger::import::List;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const START: i64 = 1_577_836_800; // 2020-01-01
const SPAN: i64 = 4 * 365 * 86_400;

fn env(name: &str, default: i64) -> i64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Builds the ledger: `n` delay events over `n / 10` addresses, event `i`
/// (1-based) naming address `(i - 1) % a + 1` at time START + i * step, so
/// each address's events are a chain `i, i + a, i + 2a, ...`.
fn generate(path: &std::path::Path, n: i64) {
    drop(Ledger::open(path).unwrap());
    let a = n / 10;
    let step = SPAN / n;
    let c = rusqlite::Connection::open(path).unwrap();
    c.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA cache_size=-1048576;")
        .unwrap();
    let t = Instant::now();
    c.execute_batch(&format!(
        "BEGIN;
         INSERT INTO addresses (id, address, domain, state, delay_count,
           first_event, last_event, last_id)
         WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c
           WHERE i < {a})
         SELECT i, 'user' || i || '@d' || (i % 1000) || '.example',
           'd' || (i % 1000) || '.example', 'active', 10,
           {START} + i * {step}, {START} + (i + 9 * {a}) * {step},
           i + 9 * {a}
         FROM c;
         INSERT INTO events (id, event_key, address_id, kind, reason,
           diagnostic, event_time, recorded_at, source, key_slot, key_day,
           prev_id)
         WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c
           WHERE i < {n})
         SELECT i, randomblob(16), (i - 1) % {a} + 1, 'delay', 'transient',
           '421 4.7.0 Try again later', {START} + i * {step},
           {START} + i * {step}, 'bench', 0,
           ({START} + i * {step}) / 86400,
           CASE WHEN i > {a} THEN i - {a} END
         FROM c;
         COMMIT;
         PRAGMA wal_checkpoint(TRUNCATE);"
    ))
    .unwrap();
    let size = std::fs::metadata(path).map_or(0, |m| m.len());
    println!(
        "generate: {n} events, {a} addresses in {:.1} s ({} MB)",
        t.elapsed().as_secs_f64(),
        size >> 20
    );
}

fn main() {
    let n = env("REBOUND_BENCH_EVENTS", 10_000_000);
    let rows = env("REBOUND_BENCH_ROWS", 1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("list.db");
    generate(&path, n);
    let mut l = Ledger::open(&path).unwrap();

    let mut csv = String::from("email,created\n");
    for i in 0..rows {
        csv.push_str(&format!("imp{i}@i{}.example,{}\n", i % 1000, START + i));
    }
    let t = Instant::now();
    let list = List::read(Format::Sendgrid, csv.as_bytes(), None).unwrap();
    let read = t.elapsed().as_secs_f64();
    let s = l.import_suppressions(&list.entries, "bench.csv").unwrap();
    println!(
        "import: {rows} rows in {:.1} s (read {read:.1} s), {} suppressed",
        t.elapsed().as_secs_f64(),
        s.imported
    );

    let who: Vec<String> = (1..=rows / 10)
        .map(|i| {
            format!(
                "user{}@d{}.example",
                i * 7 % (n / 10) + 1,
                (i * 7 % (n / 10) + 1) % 1000
            )
        })
        .collect();
    let refs: Vec<&str> = who.iter().map(String::as_str).collect();
    let t = Instant::now();
    let s = l.forget(&refs, "bench erasure").unwrap();
    println!(
        "forget: {} addresses, {} events in {:.1} s",
        s.addresses,
        s.events,
        t.elapsed().as_secs_f64()
    );

    let cut = START + (rows + 1) * (SPAN / n);
    let t = Instant::now();
    let s = l.purge(cut).unwrap();
    println!(
        "purge: {} events ({} addresses) in {:.1} s, {} pages given back",
        s.events,
        s.addresses,
        t.elapsed().as_secs_f64(),
        s.pages_freed
    );
}
