//! Operator tools: `rebound report --html` rendered in headless Chromium
//! (the screenshot must show every chart), and `--notify URL` posting new
//! events to a real HTTP server on loopback.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rebound::report::{
    CAMPAIGN_HARD, CAMPAIGN_OVERALL, COMPLAINT, HARD, PROVIDER, REASON, SOFT,
};
use serde_json::Value;

use crate::util::{rebound, sample_messages};

fn ok(o: Output) -> Output {
    assert!(
        o.status.success(),
        "rebound failed ({:?}): {}",
        o.status,
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

fn run_in<S: AsRef<std::ffi::OsStr>>(db: &Path, args: &[S]) -> Output {
    rebound().args(args).arg("--db").arg(db).output().expect("rebound runs")
}

/// `ingest` and every authored sample message.
fn ingest_samples_args() -> Vec<String> {
    let mut args = vec!["ingest".to_string()];
    args.extend(
        sample_messages().iter().map(|p| p.to_str().unwrap().to_string()),
    );
    args
}

// ---------------------------------------------------------------- report

/// Screenshots `html` with headless Chromium (1200x1600) and decodes it.
fn screenshot(html: &Path, png: &Path) -> (usize, usize, Vec<u8>) {
    let profile = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1200,1600")
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "chromium is needed for this test (apt-get install chromium; \
                 .ci/run installs it): {e}"
            )
        });
    assert!(
        png.exists(),
        "chromium wrote no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoder =
        png::Decoder::new(BufReader::new(std::fs::File::open(png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    let channels = info.color_type.samples();
    assert!(channels >= 3, "unexpected PNG colour type {:?}", info.color_type);
    let rgb = buf
        .chunks(channels)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect::<Vec<u8>>();
    (info.width as usize, info.height as usize, rgb)
}

fn hex(c: &str) -> [u8; 3] {
    let v = u32::from_str_radix(c.trim_start_matches('#'), 16).unwrap();
    [(v >> 16) as u8, (v >> 8) as u8, v as u8]
}

/// Pixels of colour `c` (±2 per channel) in x0..x1, y0..y1.
fn count(
    shot: &(usize, usize, Vec<u8>),
    c: &str,
    (x0, x1): (usize, usize),
    (y0, y1): (usize, usize),
) -> usize {
    let (w, h, px) = shot;
    let c = hex(c);
    let mut n = 0;
    for y in y0..y1.min(*h) {
        for x in x0..x1.min(*w) {
            let i = (y * w + x) * 3;
            if (0..3).all(|k| px[i + k].abs_diff(c[k]) <= 2) {
                n += 1;
            }
        }
    }
    n
}

/// The four charts sit in a 2x2 grid: weekly | reasons over providers |
/// campaigns.
const LEFT: (usize, usize) = (0, 600);
const RIGHT: (usize, usize) = (600, 1200);
const TOP: (usize, usize) = (130, 560);
const BOTTOM: (usize, usize) = (560, 1000);

fn assert_colour(
    shot: &(usize, usize, Vec<u8>),
    name: &str,
    c: &str,
    at: ((usize, usize), (usize, usize)),
    least: usize,
) {
    let n = count(shot, c, at.0, at.1);
    assert!(n >= least, "{name} ({c}): {n} pixels in {at:?}, want >= {least}");
}

/// A ledger with sends and webhook bounces in three campaigns: one
/// excellent, one critical, one with a hostile name, reason and provider.
fn ledger_with_sends(dir: &Path) -> PathBuf {
    let db = dir.join("sends.db");
    let mut sends = String::from("message_id,recipient,campaign_id,sent_at\n");
    let mut events = String::new();
    let campaigns = [
        ("spring", 400, 1, 3, "gmail"),
        ("<script>alert(1)</script>", 200, 8, 14, "<b>evil</b>"),
        ("autumn & co", 300, 4, 2, "yahoo"),
    ];
    for (c, sent, hard, soft, provider) in campaigns {
        let slug: String = c
            .chars()
            .map(|ch| if ch.is_ascii_alphanumeric() { ch } else { '-' })
            .collect();
        let quoted = format!("\"{}\"", c.replace('"', "\"\""));
        for i in 0..sent {
            sends += &format!(
                "<{slug}-{i}@mail.example.com>,u{i}@{slug}.example.org,{quoted},2024-03-{:02}T10:00:00Z\n",
                4 + 7 * (i % 4)
            );
        }
        for i in 0..hard + soft {
            let (status, reason) = if i < hard {
                ("5.1.1", "550 5.1.1 <script>user</script> unknown")
            } else {
                ("4.2.2", "452 4.2.2 mailbox full")
            };
            let ev = serde_json::json!({
                "event": "bounce",
                "email": format!("u{i}@{slug}.example.org"),
                "status": status,
                "reason": reason,
                "provider": provider,
                "campaign_id": c,
                "timestamp": format!("2024-03-{:02}T12:00:00Z", 5 + 7 * (i % 4)),
            });
            events += &format!("{ev}\n");
        }
    }
    let (s, e) = (dir.join("sends.csv"), dir.join("events.jsonl"));
    std::fs::write(&s, sends).unwrap();
    std::fs::write(&e, events).unwrap();
    ok(run_in(&db, &["import-sends", s.to_str().unwrap()]));
    ok(run_in(&db, &["ingest", "--events", e.to_str().unwrap()]));
    db
}

#[test]
fn report_with_sends_shows_rates_and_thresholds_and_escapes_values() {
    let dir = tempfile::tempdir().unwrap();
    let db = ledger_with_sends(dir.path());
    let html = dir.path().join("report.html");
    ok(run_in(&db, &["report", "--html", html.to_str().unwrap()]));
    let page = std::fs::read_to_string(&html).unwrap();
    // Hostile values are escaped, never markup; nothing is fetched.
    assert!(!page.contains("<script"), "unescaped script in the page");
    assert!(!page.contains("<b>evil"), "unescaped provider in the page");
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("&lt;b&gt;evil&lt;/b&gt;"));
    assert!(page.contains("autumn &amp; co"));
    for external in ["src=", "href=", "@import", "url("] {
        assert!(!page.contains(external), "external reference {external}");
    }
    // The hostile campaign is critical: 22 of 200 bounced, 8 hard (4%).
    assert!(page.contains("Bounce rates per week"));
    assert!(page.contains("4.00% critical"), "critical campaign not rated");
    assert!(page.contains("0.25% excellent"), "excellent campaign not rated");

    let shot = screenshot(&html, &dir.path().join("report.png"));
    assert_eq!((shot.0, shot.1), (1200, 1600));
    assert_colour(&shot, "weekly hard rate", HARD, (LEFT, TOP), 150);
    assert_colour(&shot, "weekly soft rate", SOFT, (LEFT, TOP), 150);
    assert_colour(&shot, "reasons", REASON, (RIGHT, TOP), 1000);
    assert_colour(&shot, "providers", PROVIDER, (LEFT, BOTTOM), 1000);
    assert_colour(&shot, "campaign hard", CAMPAIGN_HARD, (RIGHT, BOTTOM), 500);
    assert_colour(
        &shot,
        "campaign overall",
        CAMPAIGN_OVERALL,
        (RIGHT, BOTTOM),
        500,
    );
    // The threshold bands: excellent (green), warning, critical (red).
    for band in ["#d5f5e3", "#fcf3cf", "#fadbd8"] {
        assert_colour(&shot, "threshold band", band, (RIGHT, BOTTOM), 500);
    }
}

#[test]
fn report_of_the_samples_shows_counts_charts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("samples.db");
    ok(run_in(&db, &ingest_samples_args()));
    let html = dir.path().join("report.html");
    ok(run_in(&db, &["report", "--html", html.to_str().unwrap()]));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("Bounces per week"));
    assert!(page.contains("user_unknown"));
    let shot = screenshot(&html, &dir.path().join("report.png"));
    assert_colour(&shot, "weekly hard", HARD, (LEFT, TOP), 500);
    assert_colour(&shot, "weekly soft", SOFT, (LEFT, TOP), 500);
    assert_colour(&shot, "weekly complaints", COMPLAINT, (LEFT, TOP), 20);
    assert_colour(&shot, "reasons", REASON, (RIGHT, TOP), 3000);
    assert_colour(&shot, "providers", PROVIDER, (LEFT, BOTTOM), 3000);
    // Series colours stay in their own chart.
    assert_eq!(count(&shot, REASON, LEFT, TOP), 0);
    assert_eq!(count(&shot, PROVIDER, RIGHT, BOTTOM), 0);
}

#[test]
fn report_filters_by_campaign_and_needs_an_existing_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let db = ledger_with_sends(dir.path());
    let html = dir.path().join("spring.html");
    ok(run_in(
        &db,
        &["report", "--html", html.to_str().unwrap(), "--campaign", "spring"],
    ));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("campaign spring"));
    assert!(!page.contains("autumn"));
    let missing = dir.path().join("none.db");
    let o = run_in(&missing, &["report", "--html", html.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!missing.exists(), "a read-only report created a ledger");
}

// ---------------------------------------------------------------- notify

/// A loopback HTTP server: answers 500 to the first request, 200 after;
/// records every body with the status it got.
struct Server {
    url: String,
    seen: Arc<Mutex<Vec<(u16, String)>>>,
}

fn serve_one(mut s: TcpStream, seen: &Mutex<Vec<(u16, String)>>) {
    let mut r = BufReader::new(s.try_clone().unwrap());
    loop {
        let mut len = 0usize;
        let mut line = String::new();
        match r.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        loop {
            let mut h = String::new();
            if r.read_line(&mut h).unwrap_or(0) == 0 {
                return;
            }
            if h == "\r\n" {
                break;
            }
            if let Some((k, v)) = h.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                len = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; len];
        r.read_exact(&mut body).unwrap();
        let mut seen = seen.lock().unwrap();
        let status = if seen.is_empty() { 500 } else { 200 };
        seen.push((status, String::from_utf8(body).unwrap()));
        drop(seen);
        let reason =
            if status == 200 { "OK" } else { "Internal Server Error" };
        let _ = write!(
            s,
            "HTTP/1.1 {status} {reason}\r\nContent-Length: 0\r\n\r\n"
        );
    }
}

impl Server {
    fn start() -> Server {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", l.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s2 = Arc::clone(&seen);
        std::thread::spawn(move || {
            for c in l.incoming().flatten() {
                let s3 = Arc::clone(&s2);
                std::thread::spawn(move || serve_one(c, &s3));
            }
        });
        Server { url, seen }
    }

    fn accepted(&self) -> Vec<Value> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(s, _)| *s == 200)
            .map(|(_, b)| serde_json::from_str(b).unwrap())
            .collect()
    }
}

fn new_events(stderr: &[u8]) -> usize {
    let e = String::from_utf8_lossy(stderr);
    let i = e.find(" new event").expect("summary line");
    e[..i].rsplit(' ').next().unwrap().parse().unwrap()
}

const EVENTS: &str = r#"{"event":"bounce","email":"Ann@Example.org","status":"5.1.1","reason":"550 5.1.1 user unknown","type":"hard","provider":"gmail","campaign_id":"c1","timestamp":1706788800,"ip":"192.0.2.7","domain":"example.org"}
{"event":"bounce","email":"bob@example.net","status":"4.2.2","reason":"452 4.2.2 mailbox full","campaign_id":7,"timestamp":"2024-02-02T10:00:00Z"}
{"event":"open","email":"ann@example.org","timestamp":1706788801}
{"event":"complaint","email":"cy@example.com","timestamp":1706788802}
{"event":"bounce","email":"Ann@Example.org","status":"5.1.1","reason":"550 5.1.1 user unknown","type":"hard","provider":"gmail","campaign_id":"c1","timestamp":1706788800,"ip":"192.0.2.7","domain":"example.org"}
"#;

#[test]
fn notify_posts_each_new_event_once_after_a_retry() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("n.db");
    let events = dir.path().join("events.jsonl");
    std::fs::write(&events, EVENTS).unwrap();
    let server = Server::start();
    let ev = events.to_str().unwrap();
    let o =
        ok(run_in(&db, &["ingest", "--events", ev, "--notify", &server.url]));
    assert_eq!(new_events(&o.stderr), 3);
    let got = server.accepted();
    assert_eq!(got.len(), 3, "{:?}", server.seen.lock().unwrap());
    // The first POST got a 500 and was retried.
    let seen = server.seen.lock().unwrap().clone();
    assert_eq!(seen[0].0, 500);
    let first: Value = serde_json::from_str(&seen[0].1).unwrap();
    assert_eq!(got.iter().filter(|g| **g == first).count(), 1);
    let by_email: BTreeMap<String, &Value> = got
        .iter()
        .map(|g| (g["email"].as_str().unwrap().to_string(), g))
        .collect();
    assert_eq!(by_email.len(), 3, "an event was posted twice: {got:?}");
    let ann = by_email["ann@example.org"];
    assert_eq!(ann["event"], "bounce");
    assert_eq!(ann["status"], "5.1.1");
    assert_eq!(ann["reason"], "550 5.1.1 user unknown");
    assert_eq!(ann["type"], "hard");
    assert_eq!(ann["provider"], "gmail");
    assert_eq!(ann["campaign_id"], "c1");
    assert_eq!(ann["timestamp"], 1706788800);
    assert_eq!(ann["domain"], "example.org");
    assert_eq!(by_email["bob@example.net"]["type"], "soft");
    assert_eq!(by_email["bob@example.net"]["campaign_id"], "7");
    assert_eq!(by_email["cy@example.com"]["event"], "complaint");
    for g in &got {
        let keys: Vec<&str> =
            g.as_object().unwrap().keys().map(String::as_str).collect();
        assert_eq!(
            keys.len(),
            10,
            "shape event,email,status,reason,type,provider,campaign_id,timestamp,ip,domain: {keys:?}"
        );
    }
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("3 of 3 new events delivered (1 retries)"), "{e}");

    // The posted events are the webhook shape ingest reads: a fresh ledger
    // fed with them records the same three events.
    let replay = dir.path().join("replay.jsonl");
    let lines: Vec<String> = got.iter().map(Value::to_string).collect();
    std::fs::write(&replay, lines.join("\n")).unwrap();
    let other = dir.path().join("other.db");
    let o =
        ok(run_in(&other, &["ingest", "--events", replay.to_str().unwrap()]));
    assert_eq!(new_events(&o.stderr), 3);

    // Again: all duplicates, nothing is posted.
    let before = server.seen.lock().unwrap().len();
    let o =
        ok(run_in(&db, &["ingest", "--events", ev, "--notify", &server.url]));
    assert_eq!(new_events(&o.stderr), 0);
    assert_eq!(server.seen.lock().unwrap().len(), before);
    assert!(!db.with_extension("db.notify-failed.jsonl").exists());
}

#[test]
fn notify_sends_every_new_event_of_a_corpus_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let server = Server::start();
    let mut args = ingest_samples_args();
    args.extend(["--notify".to_string(), server.url.clone()]);
    let o = ok(run_in(&db, &args));
    let n = new_events(&o.stderr);
    assert!(n > 100, "{n} new events");
    let got = server.accepted();
    assert_eq!(got.len(), n);
    let o = ok(run_in(&db, &args));
    assert_eq!(new_events(&o.stderr), 0);
    assert_eq!(server.accepted().len(), n, "duplicates were posted");
}

/// What the ledger holds: its statistics and its suppression list.
fn contents(db: &Path) -> String {
    let stats = ok(run_in(db, &["stats", "--json"]));
    let list = ok(run_in(db, &["export", "--format", "json"]));
    String::from_utf8(stats.stdout).unwrap()
        + &String::from_utf8(list.stdout).unwrap()
}

#[test]
fn an_unreachable_endpoint_neither_blocks_nor_fails_the_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.jsonl");
    std::fs::write(&events, EVENTS).unwrap();
    let ev = events.to_str().unwrap();
    // A port nobody listens on (bound, then closed).
    let port =
        TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let url = format!("http://127.0.0.1:{port}/hook");

    let plain = dir.path().join("plain.db");
    let quiet = ok(run_in(&plain, &["ingest", "--events", ev]));
    let db = dir.path().join("n.db");
    let t = Instant::now();
    let o = run_in(
        &db,
        &["ingest", "--events", ev, "--notify", &url, "--notify-wait", "2"],
    );
    let took = t.elapsed();
    assert_eq!(o.status.code(), quiet.status.code());
    assert_eq!(o.status.code(), Some(0));
    assert!(took < Duration::from_secs(20), "ingest took {took:?}");
    assert_eq!(new_events(&o.stderr), 3);
    assert_eq!(contents(&db), contents(&plain));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("notify:"), "{e}");
    assert!(e.contains("3 failed (3 written to"), "{e}");
    // Nothing is lost: the three events wait in the spool, in the shape.
    let spool = dir.path().join("n.db.notify-failed.jsonl");
    let text = std::fs::read_to_string(&spool).unwrap();
    let spooled: Vec<Value> =
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(spooled.len(), 3);
    assert!(spooled.iter().any(|s| s["email"] == "cy@example.com"));
}

#[test]
fn a_bad_notify_url_is_a_usage_error_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("n.db");
    let events = dir.path().join("events.jsonl");
    std::fs::write(&events, EVENTS).unwrap();
    let o = run_in(
        &db,
        &[
            "ingest",
            "--events",
            events.to_str().unwrap(),
            "--notify",
            "ftp://x",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not an http"));
    assert!(!db.exists(), "the ledger was opened before the URL was checked");
}

#[test]
fn sweep_notify_posts_new_events_and_not_the_ones_seen_again() {
    let d = crate::dovecot::Dovecot::start();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("s.db");
    let server = Server::start();
    d.deliver("INBOX", (0..20).map(|i| crate::dovecot::bounce(i, 0)));
    let o = crate::imap::sweep(&d, &db)
        .args(["--notify", &server.url])
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(0), "{e}");
    assert!(e.contains("20 new"), "{e}");
    let got = server.accepted();
    assert_eq!(got.len(), 20, "{e}");
    let emails: std::collections::BTreeSet<&str> =
        got.iter().map(|g| g["email"].as_str().unwrap()).collect();
    assert_eq!(emails.len(), 20);
    // The same reports again: recorded as duplicates, nothing posted.
    d.deliver("INBOX", (0..20).map(|i| crate::dovecot::bounce(i, 0)));
    let o = crate::imap::sweep(&d, &db)
        .args(["--notify", &server.url])
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("0 new, 20 already recorded"), "{e}");
    assert_eq!(server.accepted().len(), 20);
}
