//! Service benchmark (`cargo bench --bench serve`): drives a real
//! `rebound serve` (the release binary) over loopback with 64 concurrent
//! keep-alive connections.
//!
//! 1. single-event requests: SendGrid-signed arrays of one event, then the
//!    generic shape with the bearer token (`REBOUND_BENCH_SINGLE`
//!    requests each, default 20,000);
//! 2. SendGrid-style arrays of 500 signed events (`REBOUND_BENCH_BATCHES`
//!    requests, default 200: 100,000 events);
//! 3. `POST /v1/check` of 10,000 addresses (half known, half not) on a
//!    ledger of `REBOUND_BENCH_ADDRESSES` addresses (default 1 million),
//!    built first through the library.
//!
//! Requests are signed before the clock starts; the client threads run on
//! the same two cores as the server, so the figures include the client's
//! own cost. Throughput, p50 and p99 latency are printed, and the ledger
//! is checked to hold exactly the events sent.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::sign::Signer;
use rebound::ledger::{IngestItem, Ledger, LedgerOptions};
use rebound::model::{Action, Category, EventType, Record};
use rebound::pipeline::Report;
use serde_json::json;

const TOKEN: &str = "bench-token-0123456789abcdef";
const CONNECTIONS: usize = 64;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A running server and its address.
struct Server {
    child: Child,
    url: String,
}

/// CPU seconds (user + system) a process has used, from
/// `/proc/PID/stat` (0 where there is none).
fn cpu_secs(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .unwrap_or_default();
    let after = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks =
        |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

impl Server {
    /// CPU seconds the server and this client have used so far.
    fn cpu(&self) -> (f64, f64) {
        (cpu_secs(&self.child.id().to_string()), cpu_secs("self"))
    }

    fn start(db: &Path, sendgrid_key: &str) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rebound"))
            .args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(db)
            .env("REBOUND_API_TOKEN", TOKEN)
            .env("REBOUND_SENDGRID_PUBLIC_KEY", sendgrid_key)
            .env_remove("REBOUND_DB")
            .current_dir(db.parent().unwrap())
            .stderr(Stdio::piped())
            .spawn()
            .expect("rebound serve starts");
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        err.read_line(&mut line).unwrap();
        let url = line
            .split("listening on ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        std::thread::spawn(move || {
            for l in err.lines() {
                eprintln!("  server: {}", l.unwrap_or_default());
            }
        });
        Server { child, url }
    }

    fn stop(mut self) {
        let pid = self.child.id().to_string();
        // The shell's own `kill`: no procps needed.
        Command::new("sh")
            .args(["-c", &format!("kill -TERM {pid}")])
            .status()
            .unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "serve exited with {status}");
    }
}

/// One prepared request.
struct Req {
    path: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    events: usize,
}

/// A SendGrid-signed request of `events` bounce events starting at `n`.
fn sendgrid(key: &PKey<Private>, n: usize, events: usize) -> Req {
    let ts = rebound::time::now().to_string();
    let body: Vec<_> = (n..n + events)
        .map(|i| {
            json!({"email": format!("sg{i}@example.org"), "timestamp": 1706788800,
                "event": "bounce", "sg_event_id": format!("ev-{i}"),
                "smtp-id": format!("<m{i}@example.net>"), "type": "bounce",
                "status": "5.1.1", "reason": "550 5.1.1 user unknown"})
        })
        .collect();
    let body = serde_json::to_vec(&body).unwrap();
    let mut s = Signer::new(MessageDigest::sha256(), key).unwrap();
    s.update(ts.as_bytes()).unwrap();
    s.update(&body).unwrap();
    let sig = base64::engine::general_purpose::STANDARD
        .encode(s.sign_to_vec().unwrap());
    Req {
        path: "/webhooks/sendgrid",
        headers: vec![
            ("X-Twilio-Email-Event-Webhook-Signature", sig),
            ("X-Twilio-Email-Event-Webhook-Timestamp", ts),
        ],
        body,
        events,
    }
}

/// A generic-shape request of one event.
fn generic(n: usize) -> Req {
    let body = json!({"event": "bounce", "email": format!("g{n}@example.org"),
        "status": "5.1.1", "reason": "550 5.1.1 user unknown", "timestamp": 1706788800});
    Req {
        path: "/webhooks/bounce",
        headers: vec![("Authorization", format!("Bearer {TOKEN}"))],
        body: serde_json::to_vec(&body).unwrap(),
        events: 1,
    }
}

/// Sends every request over `CONNECTIONS` keep-alive connections;
/// returns the wall time and each request's latency.
fn drive(url: &str, reqs: Vec<Req>) -> (Duration, Vec<Duration>) {
    let reqs = Arc::new(reqs);
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let threads: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (reqs, next, url) =
                (reqs.clone(), next.clone(), url.to_string());
            std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(60))
                    .max_idle_connections_per_host(1)
                    .build();
                let mut lat = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(r) = reqs.get(i) else { break };
                    let mut q = agent.post(&format!("{url}{}", r.path));
                    for (k, v) in &r.headers {
                        q = q.set(k, v);
                    }
                    let t = Instant::now();
                    let resp =
                        q.send_bytes(&r.body).expect("request answered");
                    let _ = resp.into_string();
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    let mut lat: Vec<Duration> =
        threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    let wall = start.elapsed();
    lat.sort_unstable();
    (wall, lat)
}

fn pct(lat: &[Duration], p: f64) -> f64 {
    let i = ((lat.len() as f64 * p).ceil() as usize).clamp(1, lat.len()) - 1;
    lat[i].as_secs_f64() * 1000.0
}

/// Drives `reqs` and prints the figures, with the CPU time the server
/// and the client took (the machine's other load shows in the gap
/// between wall time and CPU time).
fn run(server: &Server, name: &str, reqs: Vec<Req>) {
    let events: usize = reqs.iter().map(|r| r.events).sum();
    let (s0, c0) = server.cpu();
    let (wall, lat) = drive(&server.url, reqs);
    let (s1, c1) = server.cpu();
    println!(
        "{name}: {} requests, {events} events in {:.2} s: {:.0} requests/s, {:.0} events/s; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; CPU: server {:.2} s ({:.0} events per server CPU-second), client {:.2} s",
        lat.len(),
        wall.as_secs_f64(),
        lat.len() as f64 / wall.as_secs_f64(),
        events as f64 / wall.as_secs_f64(),
        pct(&lat, 0.50),
        pct(&lat, 0.99),
        pct(&lat, 1.0),
        s1 - s0,
        events as f64 / (s1 - s0).max(0.01),
        c1 - c0,
    );
}

/// A ledger of `n` addresses (one bounce each; a fifth hard).
fn build_ledger(db: &Path, n: usize) {
    let mut l = Ledger::open(db).unwrap();
    let t0 = 1_704_067_200i64;
    for chunk in (0..n).collect::<Vec<_>>().chunks(200_000) {
        let reports: Vec<Report> = chunk
            .iter()
            .map(|&i| {
                let hard = i % 5 == 0;
                Report {
                    message_id: Some(format!("<b{i}@mx.example.net>")),
                    date: Some(t0 + i as i64),
                    records: vec![Record {
                        recipient: Some(format!("user{i}@example.org")),
                        kind: Some(EventType::Bounce),
                        category: Some(if hard {
                            Category::Hard
                        } else {
                            Category::Soft
                        }),
                        action: Some(if hard {
                            Action::Suppress
                        } else {
                            Action::Retry
                        }),
                        event_time: Some(rebound::time::format_rfc3339(
                            t0 + i as i64,
                        )),
                        ..Record::default()
                    }],
                    ..Report::default()
                }
            })
            .collect();
        let items: Vec<IngestItem<'_>> = reports
            .iter()
            .map(|r| IngestItem { source: "bench", report: r })
            .collect();
        l.ingest(&items, None).unwrap();
    }
}

fn main() {
    let single = env_or("REBOUND_BENCH_SINGLE", 20_000);
    let batches = env_or("REBOUND_BENCH_BATCHES", 200);
    let addresses = env_or("REBOUND_BENCH_ADDRESSES", 1_000_000);
    let dir = tempfile::tempdir().unwrap();
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    let key = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
    let public = base64::engine::general_purpose::STANDARD
        .encode(key.public_key_to_der().unwrap());
    let db = dir.path().join("bench.db");
    let server = Server::start(&db, &public);
    println!("rebound serve, {CONNECTIONS} connections over loopback");

    let reqs: Vec<Req> = (0..single).map(|i| sendgrid(&key, i, 1)).collect();
    run(&server, "single events, SendGrid-signed", reqs);
    let reqs: Vec<Req> = (0..single).map(generic).collect();
    run(&server, "single events, generic shape", reqs);
    let reqs: Vec<Req> =
        (0..batches).map(|b| sendgrid(&key, single + b * 500, 500)).collect();
    let events = batches * 500;
    run(&server, "arrays of 500 events, SendGrid-signed", reqs);
    server.stop();
    let size = Ledger::open_with(
        &db,
        &LedgerOptions { read_only: true, ..Default::default() },
    )
    .unwrap()
    .size()
    .unwrap();
    assert_eq!(
        size.events as usize,
        2 * single + events,
        "ledger holds every event once"
    );

    let big = dir.path().join("big.db");
    let t = Instant::now();
    build_ledger(&big, addresses);
    println!(
        "ledger of {addresses} addresses built in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    let server = Server::start(&big, &public);
    let mut n = 0u64;
    let list: Vec<String> = (0..10_000)
        .map(|i| {
            n = n
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            if i % 2 == 0 {
                format!("user{}@example.org", (n >> 33) as usize % addresses)
            } else {
                format!("new{i}@example.net")
            }
        })
        .collect();
    let body = serde_json::to_vec(&json!({ "addresses": list })).unwrap();
    let agent =
        ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).build();
    let mut times = Vec::new();
    let (s0, _) = server.cpu();
    for _ in 0..30 {
        let t = Instant::now();
        let r = agent
            .post(&format!("{}/v1/check", server.url))
            .set("Authorization", &format!("Bearer {TOKEN}"))
            .send_bytes(&body)
            .unwrap();
        let text = r.into_string().unwrap();
        times.push(t.elapsed());
        assert!(text.len() > 10_000 * 40);
    }
    let (s1, _) = server.cpu();
    let first = times[0];
    times.sort_unstable();
    println!(
        "/v1/check of 10,000 addresses on {addresses}: first {:.1} ms, then p50 {:.1} ms, p99 {:.1} ms (30 requests); server CPU {:.1} ms per check",
        first.as_secs_f64() * 1000.0,
        pct(&times, 0.5),
        pct(&times, 0.99),
        (s1 - s0) * 1000.0 / 30.0,
    );
    server.stop();
}
