//! Ledger benchmark (`cargo bench --bench ledger`): ingest throughput with
//! batched transactions (`REBOUND_BENCH_BATCH` reports each, default
//! 1,000,000: a bulk import, `rebound ingest --batch 1000000`) on a synthetic ledger of `REBOUND_BENCH_EVENTS` events (default
//! 10 million), then re-ingest of a slice (all duplicates), export and stats
//! times on the full ledger.
//!
//! The batch size matters: the address rows are written in random order
//! (the idempotency keys go under the report's day, and the events and
//! their chains are appended), and a commit writes every B-tree page the
//! batch dirtied to the WAL (and later the checkpoint copies it back), so
//! the more events share a commit, the fewer page writes per event.
//!
//! The reports are built in memory (no parsing) and only the ledger's
//! calls are timed: this measures the ledger alone. The mix: 2 million addresses at 200 domains, 60% soft bounces,
//! 22% hard, 5% sender-side alerts, 5% delay warnings, 3% complaints, 5%
//! deliveries, over 12 weeks and 50 campaigns; events arrive mostly in
//! time order, with 1% reported late (a day earlier than their neighbours).

use std::io::sink;
use std::time::Instant;

use rebound::ledger::export::{Filter as ExportFilter, Format};
use rebound::ledger::sends::Send;
use rebound::ledger::stats::Filter as StatsFilter;
use rebound::ledger::{IngestItem, Ledger};
use rebound::model::{Action, Category, EventType, Record};
use rebound::pipeline::Report;
use rebound::time::format_rfc3339;

/// mimalloc: measured faster than the system allocator for rebound's many
/// small allocations (parse bench: rebound parse+classify +5%).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ADDRESSES: u64 = 2_000_000;
const START: i64 = 1_704_067_200; // 2024-01-01

/// CPU seconds (user + system) used by this process so far, from
/// /proc/self/stat (Linux; 0 elsewhere). On a shared machine the wall
/// clock also counts time spent waiting for a core.
fn cpu_secs() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks =
        |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 (utime, stime) are at 11 and 12 after the name.
    (ticks(11) + ticks(12)) / 100.0
}

/// A cheap deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn report(i: u64, total: u64, rng: &mut Rng) -> Report {
    let addr = rng.next() % ADDRESSES;
    let span = 12 * 7 * 86400;
    // The report is dated when it arrives; its event a day earlier when
    // it is late.
    let date = START + (i as i64 * span / total as i64);
    let mut time = date;
    if rng.next().is_multiple_of(100) {
        time -= 86400;
    }
    let roll = rng.next() % 100;
    let (kind, category, action, class, reason, status, diag) = match roll {
        0..60 => (
            EventType::Bounce,
            Some(Category::Soft),
            Action::Retry,
            22,
            "mailbox_full",
            "4.2.2",
            "452 4.2.2 Mailbox full",
        ),
        60..82 => (
            EventType::Bounce,
            Some(Category::Hard),
            Action::Suppress,
            10,
            "user_unknown",
            "5.1.1",
            "550 5.1.1 User unknown",
        ),
        82..87 => (
            EventType::Bounce,
            Some(Category::Hard),
            Action::Alert,
            50,
            "auth_failure",
            "5.7.26",
            "550 5.7.26 DMARC policy",
        ),
        87..92 => (
            EventType::Delay,
            Some(Category::Soft),
            Action::Ignore,
            24,
            "expired",
            "4.4.7",
            "delayed",
        ),
        92..95 => (
            EventType::Complaint,
            None,
            Action::Suppress,
            0,
            "complaint",
            "",
            "",
        ),
        _ => (
            EventType::Delivered,
            None,
            Action::Ignore,
            0,
            "delivered",
            "2.0.0",
            "",
        ),
    };
    let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
    let rec = Record {
        message_id: Some(format!("bench-{i}@mx.example.net")),
        original_message_id: Some(format!("send-{i}@example.com")),
        recipient: Some(format!("user{addr}@d{}.example.org", addr % 200)),
        kind: Some(kind),
        status: some(status),
        reply_code: some(&diag.chars().take(3).collect::<String>()),
        diagnostic: some(diag),
        class: (class > 0).then_some(class),
        category,
        reason: Some(reason.to_string()),
        action: Some(action),
        provider: Some(
            ["gmail", "outlook", "yahoo", "other"][(addr % 4) as usize]
                .to_string(),
        ),
        campaign_id: Some(format!("campaign-{}", i % 50)),
        event_time: Some(format_rfc3339(time)),
        detector: Some("bench".to_string()),
        rule: Some("bench".to_string()),
        ..Record::default()
    };
    Report {
        message_id: rec.message_id.clone(),
        records: vec![rec],
        fingerprint: Some(format!("{i:x}")),
        date: Some(date),
        ..Report::default()
    }
}

fn ingest(
    ledger: &mut Ledger,
    batch: u64,
    from: u64,
    to: u64,
    total: u64,
) -> (usize, usize, f64, f64) {
    let mut rng = Rng(from);
    let (mut secs, mut cpu) = (0.0, 0.0);
    let (mut new, mut dup) = (0, 0);
    let mut i = from;
    while i < to {
        let end = (i + batch).min(to);
        let reports: Vec<Report> =
            (i..end).map(|j| report(j, total, &mut rng)).collect();
        let items: Vec<IngestItem<'_>> = reports
            .iter()
            .map(|r| IngestItem { source: "bench", report: r })
            .collect();
        // Only the ledger's work is timed, not building the reports.
        let (started, cpu0) = (Instant::now(), cpu_secs());
        let s = ledger.ingest(&items, None).expect("ingest");
        secs += started.elapsed().as_secs_f64();
        cpu += cpu_secs() - cpu0;
        new += s.new_events;
        dup += s.duplicates;
        i = end;
    }
    (new, dup, secs, cpu)
}

fn main() {
    let total: u64 = std::env::var("REBOUND_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.db");
    let mut ledger = Ledger::open(&path).expect("open");
    println!("ledger bench: {total} events into {}", path.display());

    let batch: u64 = std::env::var("REBOUND_BENCH_BATCH")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000)
        .max(1);
    println!("{batch} reports per transaction");
    let step = (total / 10).max(batch);
    let mut done = 0;
    let (mut all, mut all_cpu) = (0.0, 0.0);
    while done < total {
        let to = (done + step).min(total);
        let (new, _, secs, cpu) = ingest(&mut ledger, batch, done, to, total);
        all += secs;
        all_cpu += cpu;
        println!(
            "ingest {:>10}..{:<10} {:>9.0} events/s wall, {:>9.0} events/CPU-s ({new} new in {secs:.1} s, {cpu:.1} CPU-s)",
            done,
            to,
            new as f64 / secs,
            new as f64 / cpu.max(0.01)
        );
        done = to;
    }
    let (secs, cpu) = (all, all_cpu);
    println!(
        "ingest total: {total} events in {secs:.1} s wall ({:.0} events/s), {cpu:.1} CPU-s ({:.0} events/CPU-s)",
        total as f64 / secs,
        total as f64 / cpu.max(0.01)
    );

    // Same message again: a later sweep seeing old mail.
    let slice = (total / 100).min(100_000).max(batch).min(total);
    let (new, dup, secs, _) = ingest(&mut ledger, batch, 0, slice, total);
    println!(
        "re-ingest {slice}: {new} new, {dup} duplicates, {:.0} reports/s",
        slice as f64 / secs
    );

    let sends: Vec<Send> = (0..1_000_000u64.min(total))
        .map(|i| Send {
            message_id: format!("send-{i}@example.com"),
            recipient: format!("user{i}@d{}.example.org", i % 200),
            campaign_id: Some(format!("campaign-{}", i % 50)),
            sent_at: START + (i as i64 % (12 * 7 * 86400)),
        })
        .collect();
    let t = Instant::now();
    let s = ledger.import_sends(&sends).expect("sends");
    println!(
        "import-sends {}: {:.1} s ({} events tied)",
        s.sends,
        t.elapsed().as_secs_f64(),
        s.linked_events
    );

    for f in [Format::Csv, Format::Ses, Format::Jsonl] {
        let t = Instant::now();
        let n = ledger
            .export(
                &ExportFilter::default(),
                f,
                std::io::BufWriter::new(sink()),
            )
            .expect("export");
        println!(
            "export {}: {n} addresses in {:.1} s",
            f.as_str(),
            t.elapsed().as_secs_f64()
        );
    }
    let t = Instant::now();
    let st = ledger.stats(&StatsFilter::default()).expect("stats");
    println!(
        "stats: {:.1} s ({} campaigns, {} weeks, hard {} soft {} complaints {})",
        t.elapsed().as_secs_f64(),
        st.campaigns.len(),
        st.weekly.len(),
        st.totals.hard,
        st.totals.soft,
        st.totals.complaints
    );
    let t = Instant::now();
    ledger
        .stats(&StatsFilter {
            campaign: Some("campaign-7".into()),
            since: None,
        })
        .expect("stats");
    println!("stats --campaign: {:.1} s", t.elapsed().as_secs_f64());
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    println!("ledger file: {:.2} GB", size as f64 / 1e9);
}
