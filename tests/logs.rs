//! MTA logs into the ledger (`rebound ingest --log`): a real Postfix
//! relaying to an SMTP sink that refuses chosen recipients, the authored
//! samples of the other formats (`samples/logs/`), and `--follow` across
//! rotation and a killed follower.

#[path = "support/postfix.rs"]
mod postfix;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use rebound::ledger::{Ledger, State, SuppressionReason};

use crate::util::{rebound, root};

/// Runs `rebound ingest --db DB ARGS...`.
fn ingest(db: &Path, args: &[&str]) -> Output {
    rebound()
        .arg("ingest")
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("REBOUND_DB")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The ledger's counts of new and already recorded events, from the
/// summary line of `ingest`.
fn counts(o: &Output) -> (u64, u64) {
    let e = stderr(o);
    let num = |after: &str| -> u64 {
        let i = e.find(after).unwrap_or_else(|| panic!("no {after:?} in {e}"));
        let head = e[..i].trim_end();
        let start =
            head.rfind(|c: char| !c.is_ascii_digit()).map_or(0, |i| i + 1);
        head[start..].parse().unwrap()
    };
    (num(" new event"), num(" already recorded"))
}

/// A real Postfix sends to recipients the sink refuses in different
/// ways; its log, ingested, gives the ledger what the refusals mean, and
/// the bounce message Postfix wrote for one of them is the same event.
#[test]
fn a_real_postfix_log_fills_the_ledger() {
    let sink = postfix::Sink::start();
    let pf = postfix::Postfix::start(sink.port, "6s");
    for who in ["ok", "unknown", "block", "full"] {
        pf.send(
            &format!("{who}@example.org"),
            &format!("{who}-1@example.com"),
        );
    }
    pf.settle(Duration::from_secs(90));
    // The timeout recipient: deferred until the message expires...
    sink.slow.store(true, std::sync::atomic::Ordering::SeqCst);
    pf.send("slow@example.org", "slow-1@example.com");
    pf.settle(Duration::from_secs(90));
    // ... then a later message to it is delivered.
    sink.slow.store(false, std::sync::atomic::Ordering::SeqCst);
    pf.send("slow@example.org", "slow-2@example.com");
    pf.settle(Duration::from_secs(90));
    let log = pf.maillog();
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("status=bounced"), "{text}");
    assert!(text.contains("status=expired"), "{text}");

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    let o = ingest(&db, &["--log", "postfix", log.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let l = Ledger::open(&db).unwrap();
    let st = |a: &str| {
        l.status(a)
            .unwrap()
            .state
            .unwrap_or_else(|| panic!("{a} not in the ledger\n{text}"))
    };

    let s = st("unknown@example.org");
    assert_eq!(
        (s.state, s.reason),
        (State::Suppressed, Some(SuppressionReason::HardBounce))
    );
    let s = st("block@example.org");
    assert_eq!(s.state, State::Active, "a block alerts, never suppresses");
    assert_eq!(s.counts.alert, 1);
    let s = st("full@example.org");
    assert!(s.counts.delay >= 1, "{s:?}");
    assert_eq!((s.counts.delivered, s.state), (1, State::Active));
    let s = st("slow@example.org");
    assert!(s.counts.delay >= 1, "{s:?}");
    assert_eq!((s.counts.soft, s.counts.delivered), (1, 1), "{s:?}");
    assert_eq!(
        (s.soft_streak, s.state),
        (0, State::Active),
        "the delivery ends the streak"
    );
    let h = l.status("slow@example.org").unwrap().history;
    assert!(
        h.iter()
            .any(|e| e.kind == "bounce"
                && e.reason.as_deref() == Some("expired"))
    );
    assert_eq!(st("ok@example.org").counts.delivered, 1);
    // Postfix's own notifications to the sender are no sends.
    assert!(l.status("sender@example.com").unwrap().state.is_none());
    // Every delivery and bounce counts as a send for the rates.
    let stats = l.stats(&Default::default()).unwrap();
    assert_eq!(stats.totals.sent, 6);
    drop(l);

    // The same log again records nothing new.
    let (new, _) =
        counts(&ingest(&db, &["--log", "postfix", log.to_str().unwrap()]));
    assert_eq!(new, 0);

    // The bounce message Postfix sent for unknown@ names the same send
    // (its Message-ID): it is the event the log recorded.
    let ndr = {
        let s = sink.state.lock().unwrap();
        s.accepted
            .iter()
            .find(|m| {
                m.from.is_empty() && m.data.contains("unknown@example.org")
            })
            .map(|m| m.data.clone())
            .expect("Postfix sent a bounce message for unknown@")
    };
    let eml = dir.path().join("ndr.eml");
    std::fs::write(&eml, &ndr).unwrap();
    let parsed = rebound().arg("parse").arg(&eml).output().unwrap();
    let parsed = String::from_utf8_lossy(&parsed.stdout);
    assert!(
        parsed.contains("\"original_message_id\":\"unknown-1@example.com\""),
        "{parsed}"
    );
    let o = ingest(&db, &[eml.to_str().unwrap()]);
    assert_eq!(counts(&o), (0, 1), "{}", stderr(&o));
    let l = Ledger::open(&db).unwrap();
    assert_eq!(
        l.status("unknown@example.org").unwrap().state.unwrap().counts.hard,
        1
    );
    drop(l);

    // The other order: the bounce message first, the log after.
    let db2 = dir.path().join("l2.db");
    assert_eq!(counts(&ingest(&db2, &[eml.to_str().unwrap()])).0, 1);
    let o = ingest(&db2, &["--log", "postfix", log.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let l = Ledger::open(&db2).unwrap();
    assert_eq!(
        l.status("unknown@example.org").unwrap().state.unwrap().counts.hard,
        1
    );
}

/// The authored samples of every format (`samples/logs/<format>/*.log`,
/// `.csv` or `.jsonl`) give the events of their `.expected.json`
/// (`REBOUND_BLESS=1` rewrites them).
#[test]
fn authored_log_samples_give_their_expected_events() {
    let base = root().join("samples/logs");
    let mut n = 0;
    for format in std::fs::read_dir(&base).unwrap() {
        let format = format.unwrap().path();
        if !format.is_dir() {
            continue;
        }
        let name = format.file_name().unwrap().to_string_lossy().into_owned();
        let mut files: Vec<PathBuf> = std::fs::read_dir(&format)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| !p.to_string_lossy().ends_with(".expected.json"))
            .collect();
        files.sort();
        for f in files {
            n += 1;
            let dir = tempfile::tempdir().unwrap();
            let db = dir.path().join("l.db");
            let o = ingest(
                &db,
                &[
                    "--log",
                    &name,
                    "--log-timezone",
                    "+00:00",
                    f.to_str().unwrap(),
                ],
            );
            let got = events_of(&db);
            let got = serde_json::json!({
                "exit": o.status.code(),
                "unreadable": stderr(&o).lines().filter(|l| l.contains("cannot read the line")).map(|l| l.rsplit_once('/').map_or(l, |(_, r)| r).to_string()).collect::<Vec<_>>(),
                "events": got,
            });
            let expected = f.with_extension("expected.json");
            let pretty = serde_json::to_string_pretty(&got).unwrap() + "\n";
            if std::env::var_os("REBOUND_BLESS").is_some() {
                std::fs::write(&expected, &pretty).unwrap();
            }
            let want = std::fs::read_to_string(&expected)
                .unwrap_or_else(|e| panic!("{}: {e}", expected.display()));
            assert_eq!(pretty, want, "{}", f.display());
        }
    }
    assert!(n >= 5, "{n} samples");
}

/// The ledger's events as the samples' expected files list them.
fn events_of(db: &Path) -> Vec<serde_json::Value> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut st = c
        .prepare(
            "SELECT a.address, e.kind, e.reason, e.action, e.status,
               e.reply_code, e.remote_mta, e.original_message_id,
               e.event_time, e.rule, e.diagnostic
             FROM events e LEFT JOIN addresses a ON a.id = e.address_id
             ORDER BY e.id",
        )
        .unwrap();
    let names = [
        "address",
        "type",
        "reason",
        "action",
        "status",
        "reply_code",
        "remote_mta",
        "original_message_id",
        "time",
        "rule",
        "diagnostic",
    ];
    st.query_map([], |r| {
        let mut m = serde_json::Map::new();
        for (i, n) in names.iter().enumerate() {
            let v = match r.get_ref(i)? {
                rusqlite::types::ValueRef::Integer(t) => {
                    serde_json::Value::String(rebound::time::format_rfc3339(t))
                }
                rusqlite::types::ValueRef::Text(t) => {
                    serde_json::Value::String(
                        String::from_utf8_lossy(t).into_owned(),
                    )
                }
                _ => serde_json::Value::Null,
            };
            m.insert(n.to_string(), v);
        }
        Ok(serde_json::Value::Object(m))
    })
    .unwrap()
    .map(Result::unwrap)
    .collect()
}

/// A delivery line of recipient `u{i}@example.org` (one event each).
fn sent_line(i: usize) -> String {
    format!(
        "2026-12-06T10:{:02}:{:02}+00:00 mta postfix/smtp[7]: Q{i:08X}: to=<u{i}@example.org>, relay=mx.example.org[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n",
        (i / 60) % 60,
        i % 60
    )
}

/// Appends the delivery lines `range` to `path`.
fn append(path: &Path, range: std::ops::Range<usize>) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap();
    let text: String = range.map(sent_line).collect();
    f.write_all(text.as_bytes()).unwrap();
}

/// Events and distinct addresses in the ledger.
fn recorded(db: &Path) -> (i64, i64) {
    if !db.exists() {
        return (0, 0);
    }
    let c = rusqlite::Connection::open(db).unwrap();
    c.busy_timeout(Duration::from_secs(10)).unwrap();
    c.query_row(
        "SELECT count(*), count(DISTINCT address_id) FROM events",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap_or((0, 0))
}

/// Waits until the ledger holds `n` events.
fn wait_for(db: &Path, n: i64, child: &mut std::process::Child) {
    let start = std::time::Instant::now();
    while recorded(db).0 < n {
        assert!(child.try_wait().unwrap().is_none(), "the follower exited");
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "waited for {n} events, have {:?}",
            recorded(db)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn follower(db: &Path, log: &Path) -> std::process::Child {
    rebound()
        .args(["ingest", "--batch", "7", "--log", "postfix", "--follow"])
        .arg("--db")
        .arg(db)
        .arg(log)
        .env_remove("REBOUND_DB")
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// `--follow` keeps reading across a rename rotation and a copytruncate;
/// a follower killed (-9) mid-stream, and a cron run after a rotation
/// whose old file was compressed, resume without losing or repeating an
/// event.
#[test]
fn follow_survives_rotation_and_a_killed_follower() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("l.db");
    let log = dir.path().join("mail.log");
    let old = |n: usize| dir.path().join(format!("mail.log.{n}"));
    append(&log, 0..100);
    let mut f = follower(&db, &log);
    wait_for(&db, 100, &mut f);

    // Rename rotation: the writer still appends to the old file for a
    // while, then writes the new one.
    std::fs::rename(&log, old(1)).unwrap();
    append(&old(1), 100..150);
    append(&log, 150..200);
    wait_for(&db, 200, &mut f);

    // Copytruncate: lines written just before the copy may not have been
    // read from the live file; they are read from the copy.
    append(&log, 200..250);
    std::fs::rename(old(1), old(2)).unwrap();
    append(&log, 250..260);
    std::fs::copy(&log, old(1)).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&log)
        .unwrap()
        .set_len(0)
        .unwrap();
    append(&log, 260..300);
    wait_for(&db, 300, &mut f);
    assert_eq!(recorded(&db), (300, 300));

    // Killed mid-stream, between or inside its transactions.
    append(&log, 300..3000);
    std::thread::sleep(Duration::from_millis(300));
    f.kill().unwrap();
    f.wait().unwrap();
    let (seen, _) = recorded(&db);
    assert!(seen >= 300, "{seen}");

    // Rotated while nobody read, the old file compressed: a cron run
    // reads the rest of the old one, then the new one.
    std::fs::rename(&log, old(1)).unwrap();
    let gz = std::process::Command::new("gzip").arg(old(1)).status().unwrap();
    assert!(gz.success());
    append(&log, 3000..3100);
    let o = ingest(&db, &["--log", "postfix", log.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(recorded(&db), (3100, 3100), "{}", stderr(&o));
    // Nothing read twice: the next run has nothing to read.
    let o = ingest(&db, &["--log", "postfix", log.to_str().unwrap()]);
    assert_eq!(counts(&o), (0, 0), "{}", stderr(&o));
}
