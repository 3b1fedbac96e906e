//! The ledger through the real binary on real SQLite files: idempotency,
//! event-time ordering with late reports, the state machine, exports,
//! stats, crash safety and the ledger's fault cases.

use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use rebound::time::{format_rfc2822, parse_rfc3339};
use serde_json::Value;

use crate::util::{ok_on, rebound, run_on, sample_messages};

const H: i64 = 3600;

/// A temporary directory with a ledger in it.
struct Env {
    dir: tempfile::TempDir,
    db: PathBuf,
    n: usize,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("ledger.db");
        Env { dir, db, n: 0 }
    }

    /// Runs `rebound CMD --db LEDGER ARGS...`.
    fn run(&self, cmd: &str, args: &[&str]) -> Output {
        run_on(&self.db, cmd, args)
    }

    /// Like [`Env::run`], asserting success; returns stdout.
    fn ok(&self, cmd: &str, args: &[&str]) -> String {
        ok_on(&self.db, cmd, args)
    }

    /// Writes a file in the directory and returns its path.
    fn file(&mut self, name: &str, body: &str) -> PathBuf {
        self.n += 1;
        let p = self.dir.path().join(format!("{:03}-{name}", self.n));
        std::fs::write(&p, body).unwrap();
        p
    }

    /// Ingests files, asserting success; returns stderr (the summary).
    fn ingest(&self, paths: &[&Path]) -> String {
        let mut args: Vec<&str> = Vec::new();
        for p in paths {
            args.push(p.to_str().unwrap());
        }
        let o = self.run("ingest", &args);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(o.status.success(), "ingest failed: {err}");
        err
    }

    fn status(&self, address: &str) -> Value {
        serde_json::from_str(&self.ok("status", &[address, "--json"])).unwrap()
    }

    fn count(&self, sql: &str) -> i64 {
        let c = rusqlite::Connection::open(&self.db).unwrap();
        c.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    fn events(&self) -> i64 {
        self.count("SELECT count(*) FROM events")
    }
}

/// An RFC 3464 DSN for one recipient, authored for these tests.
pub(crate) struct Dsn {
    id: String,
    rcpt: String,
    action: &'static str,
    status: &'static str,
    diag: &'static str,
    time: i64,
    original: &'static str,
    campaign: &'static str,
}

impl Dsn {
    pub(crate) fn bounce(id: &str, rcpt: &str, time: i64) -> Dsn {
        Dsn {
            id: id.to_string(),
            rcpt: rcpt.to_string(),
            action: "failed",
            status: "5.1.1",
            diag: "550 5.1.1 <user> User unknown; rejecting",
            time,
            original: "",
            campaign: "spring",
        }
    }

    pub(crate) fn soft(id: &str, rcpt: &str, time: i64) -> Dsn {
        Dsn {
            status: "4.2.2",
            diag: "452 4.2.2 Mailbox full, over quota",
            ..Dsn::bounce(id, rcpt, time)
        }
    }

    pub(crate) fn text(&self) -> String {
        let date = format_rfc2822(self.time);
        let original = if self.original.is_empty() {
            format!("orig-{}", self.id)
        } else {
            self.original.to_string()
        };
        format!(
            "From: MAILER-DAEMON@mx.example.net\n\
             To: bounces@example.com\n\
             Subject: Delivery Status Notification\n\
             Date: {date}\n\
             Message-ID: <{id}@mx.example.net>\n\
             MIME-Version: 1.0\n\
             Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\
             \n\
             --b\n\
             Content-Type: text/plain\n\
             \n\
             Delivery to {rcpt}: {action}.\n\
             \n\
             --b\n\
             Content-Type: message/delivery-status\n\
             \n\
             Reporting-MTA: dns; mx.example.net\n\
             \n\
             Final-Recipient: rfc822; {rcpt}\n\
             Action: {action}\n\
             Status: {status}\n\
             Remote-MTA: dns; mail.example.org\n\
             Diagnostic-Code: smtp; {diag}\n\
             Last-Attempt-Date: {date}\n\
             \n\
             --b\n\
             Content-Type: text/rfc822-headers\n\
             \n\
             Message-ID: <{original}@example.com>\n\
             From: news@example.com\n\
             To: {rcpt}\n\
             Subject: Our news\n\
             X-Campaign-ID: {campaign}\n\
             \n\
             --b--\n",
            id = self.id,
            rcpt = self.rcpt,
            action = self.action,
            status = self.status,
            diag = self.diag,
            campaign = self.campaign,
        )
    }
}

/// An RFC 5965 complaint about `rcpt`.
pub(crate) fn complaint(id: &str, rcpt: &str, time: i64) -> String {
    let date = format_rfc2822(time);
    format!(
        "From: feedback@fbl.example.net\n\
         To: abuse@example.com\n\
         Subject: Complaint\n\
         Date: {date}\n\
         Message-ID: <{id}@fbl.example.net>\n\
         MIME-Version: 1.0\n\
         Content-Type: multipart/report; report-type=feedback-report; boundary=\"f\"\n\
         \n\
         --f\n\
         Content-Type: text/plain\n\
         \n\
         This is an abuse report.\n\
         \n\
         --f\n\
         Content-Type: message/feedback-report\n\
         \n\
         Feedback-Type: abuse\n\
         User-Agent: fbl/1.0\n\
         Version: 1\n\
         Original-Rcpt-To: {rcpt}\n\
         Arrival-Date: {date}\n\
         \n\
         --f\n\
         Content-Type: text/rfc822-headers\n\
         \n\
         Message-ID: <o-{id}@example.com>\n\
         From: news@example.com\n\
         To: {rcpt}\n\
         \n\
         --f--\n"
    )
}

/// An unsubscribe request mailed by `from`.
fn unsubscribe(id: &str, from: &str, time: i64) -> String {
    format!(
        "From: {from}\nTo: list-unsubscribe@example.com\nSubject: unsubscribe\n\
         Date: {}\nMessage-ID: <{id}@example.org>\n\nunsubscribe\n",
        format_rfc2822(time)
    )
}

fn t0() -> i64 {
    parse_rfc3339("2024-03-04T09:00:00Z").unwrap()
}

#[test]
fn reingest_records_nothing_new() {
    let mut e = Env::new();
    let a =
        e.file("a.eml", &Dsn::bounce("a1", "gone@example.org", t0()).text());
    let b = e.file("b.eml", &Dsn::soft("b1", "full@example.org", t0()).text());
    let c = e.file("c.eml", &complaint("c1", "angry@example.org", t0()));
    let first = e.ingest(&[&a, &b, &c]);
    assert!(first.contains("3 new events, 0 already recorded"), "{first}");
    let before = e.events();
    assert_eq!(before, 3);
    let again = e.ingest(&[&a, &b, &c]);
    assert!(again.contains("0 new events, 3 already recorded"), "{again}");
    // The same report with CRLF line ends (as an IMAP server returns it)
    // is the same report.
    let crlf = e.file(
        "a-crlf.eml",
        &Dsn::bounce("a1", "gone@example.org", t0())
            .text()
            .replace('\n', "\r\n"),
    );
    e.ingest(&[&crlf]);
    assert_eq!(e.events(), before);
    let s = e.status("gone@example.org");
    assert_eq!(s["counts"]["hard"], 1);
    assert_eq!(s["history"].as_array().unwrap().len(), 1);
}

#[test]
fn samples_ingested_twice_count_once() {
    let e = Env::new();
    let files = sample_messages();
    let paths: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    e.ingest(&paths);
    let once = e.events();
    let addresses = e.count("SELECT count(*) FROM addresses");
    assert!(once > 100, "only {once} events from the samples");
    let again = e.ingest(&paths);
    assert!(again.contains(" 0 new events"), "{again}");
    assert_eq!(e.events(), once);
    assert_eq!(e.count("SELECT count(*) FROM addresses"), addresses);
}

#[test]
fn late_report_takes_its_place_in_history() {
    let mut e = Env::new();
    let r = "slow@example.org";
    let times = [0, H, 5 * H, 29 * H, 77 * H].map(|d| t0() + d);
    let files: Vec<PathBuf> = times
        .iter()
        .enumerate()
        .map(|(i, &t)| {
            e.file("soft.eml", &Dsn::soft(&format!("s{i}"), r, t).text())
        })
        .collect();
    // The third report (+5h) arrives last, days late.
    e.ingest(&[&files[0], &files[1], &files[3], &files[4]]);
    let s = e.status(r);
    assert_eq!(s["state"], "soft_bouncing");
    assert_eq!(s["soft_streak"], 4);
    e.ingest(&[&files[2]]);
    let s = e.status(r);
    assert_eq!(s["state"], "suppressed");
    assert_eq!(s["suppression_reason"], "soft_escalated");
    assert_eq!(s["suppressed_at"], "2024-03-07T14:00:00Z");
    let history: Vec<&str> = s["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["event_time"].as_str().unwrap())
        .collect();
    let mut sorted = history.clone();
    sorted.sort();
    assert_eq!(history, sorted, "history is in event time order");
    assert_eq!(history[2], "2024-03-04T14:00:00Z");
    let ids: Vec<i64> = s["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids[2], *ids.iter().max().unwrap(), "recorded last");
}

#[test]
fn late_delivery_before_the_fifth_bounce_prevents_escalation() {
    let mut e = Env::new();
    let r = "back@example.org";
    let mut files: Vec<PathBuf> = [0, H, 5 * H, 29 * H, 77 * H]
        .iter()
        .enumerate()
        .map(|(i, d)| {
            e.file(
                "soft.eml",
                &Dsn::soft(&format!("s{i}"), r, t0() + d).text(),
            )
        })
        .collect();
    e.ingest(&files.iter().map(PathBuf::as_path).collect::<Vec<_>>());
    assert_eq!(e.status(r)["suppression_reason"], "soft_escalated");
    // A success receipt from +30h arrives afterwards: the streak was
    // broken, so the address was never escalated.
    let delivered = Dsn {
        action: "delivered",
        status: "2.0.0",
        diag: "250 2.0.0 OK",
        ..Dsn::bounce("d1", r, t0() + 30 * H)
    };
    files.push(e.file("delivered.eml", &delivered.text()));
    e.ingest(&[files.last().unwrap()]);
    let s = e.status(r);
    assert_eq!(s["state"], "soft_bouncing");
    assert_eq!(s["soft_streak"], 1);
    assert_eq!(s["counts"]["delivered"], 1);
}

#[test]
fn five_soft_bounces_over_the_schedule_escalate_a_burst_does_not() {
    let mut e = Env::new();
    let slow: Vec<PathBuf> = [0, H, 5 * H, 29 * H, 77 * H]
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let d = Dsn::soft(&format!("a{i}"), "dead@example.org", t0() + d);
            e.file("soft.eml", &d.text())
        })
        .collect();
    let burst: Vec<PathBuf> = (0..6)
        .map(|i| {
            let d =
                Dsn::soft(&format!("b{i}"), "busy@example.org", t0() + i * 60);
            e.file("soft.eml", &d.text())
        })
        .collect();
    e.ingest(&slow[..4].iter().map(PathBuf::as_path).collect::<Vec<_>>());
    assert_eq!(e.status("dead@example.org")["state"], "soft_bouncing");
    e.ingest(&[&slow[4]]);
    let s = e.status("dead@example.org");
    assert_eq!(s["state"], "suppressed");
    assert_eq!(s["suppression_reason"], "soft_escalated");
    assert_eq!(s["counts"]["soft"], 5);
    e.ingest(&burst.iter().map(PathBuf::as_path).collect::<Vec<_>>());
    let s = e.status("busy@example.org");
    assert_eq!(s["state"], "soft_bouncing");
    assert_eq!(s["soft_streak"], 6);
}

#[test]
fn delivery_resets_the_soft_count() {
    let mut e = Env::new();
    let r = "flaky@example.org";
    let mut files: Vec<PathBuf> = (0..4)
        .map(|i| {
            let d = Dsn::soft(&format!("s{i}"), r, t0() + i * 20 * H);
            e.file("soft.eml", &d.text())
        })
        .collect();
    // A delivery reported by the sending platform's webhook.
    let events = e.file(
        "events.jsonl",
        &format!(
            "{{\"event\":\"delivered\",\"email\":\"{r}\",\"timestamp\":{}}}\n",
            t0() + 61 * H
        ),
    );
    files.push(e.file("soft.eml", &Dsn::soft("s9", r, t0() + 80 * H).text()));
    e.ingest(&files.iter().map(PathBuf::as_path).collect::<Vec<_>>());
    e.ok("ingest", &["--events", events.to_str().unwrap()]);
    let s = e.status(r);
    assert_eq!(s["state"], "soft_bouncing");
    assert_eq!(s["soft_streak"], 1);
    assert_eq!(s["counts"]["soft"], 5);
    assert_eq!(s["counts"]["delivered"], 1);
}

#[test]
fn sender_side_alerts_never_suppress_but_are_counted() {
    let mut e = Env::new();
    let d = Dsn {
        status: "5.7.26",
        diag: "550 5.7.26 Unauthenticated email from example.com is not accepted due to domain's DMARC policy",
        ..Dsn::bounce("x1", "reader@example.org", t0())
    };
    let f = e.file("dmarc.eml", &d.text());
    e.ingest(&[&f]);
    let s = e.status("reader@example.org");
    assert_eq!(s["state"], "active");
    assert_eq!(s["counts"]["alert"], 1);
    assert_eq!(s["history"][0]["action"], "alert");
    let stats: Value =
        serde_json::from_str(&e.ok("stats", &["--json"])).unwrap();
    assert_eq!(stats["totals"]["alerts"], 1);
    let list = e.ok("export", &["--format", "postmark"]);
    assert_eq!(list, "email\n");
}

#[test]
fn delays_and_auto_replies_change_no_state() {
    let mut e = Env::new();
    let d = Dsn {
        action: "delayed",
        status: "4.4.1",
        diag: "421 4.4.1 Connection timed out",
        ..Dsn::bounce("w1", "later@example.org", t0())
    };
    let f = e.file("delay.eml", &d.text());
    e.ingest(&[&f]);
    let s = e.status("later@example.org");
    assert_eq!(s["state"], "active");
    assert_eq!(s["counts"]["delay"], 1);
    let stats: Value =
        serde_json::from_str(&e.ok("stats", &["--json"])).unwrap();
    assert_eq!(stats["totals"]["delays"], 1);
    assert_eq!(stats["totals"]["soft"], 0);
}

#[test]
fn complaints_and_unsubscribes_suppress() {
    let mut e = Env::new();
    let c = e.file("c.eml", &complaint("c1", "angry@example.org", t0()));
    let u = e.file("u.eml", &unsubscribe("u1", "done@example.org", t0()));
    e.ingest(&[&c, &u]);
    let s = e.status("angry@example.org");
    assert_eq!(
        (s["state"].as_str(), s["suppression_reason"].as_str()),
        (Some("suppressed"), Some("complaint"))
    );
    assert_eq!(s["suppressed_by"]["kind"], "complaint");
    let s = e.status("done@example.org");
    assert_eq!(
        (s["state"].as_str(), s["suppression_reason"].as_str()),
        (Some("suppressed"), Some("unsubscribed"))
    );
    let text = e.ok("status", &["angry@example.org"]);
    assert!(text.contains("state: suppressed (complaint) since 2024-03-04"));
    assert!(text.contains("why: complaint"), "{text}");
}

/// A DMARC failure report (RFC 6591 `auth-failure`) reaching the bounce
/// mailbox is about the sender's authentication, not the recipient: it
/// alerts and leaves the address mailable; an abuse report suppresses.
#[test]
fn an_authentication_failure_report_does_not_suppress() {
    let mut e = Env::new();
    let r = "reader@example.org";
    let report = complaint("d1", r, t0()).replace(
        "Feedback-Type: abuse",
        "Feedback-Type: auth-failure\nAuth-Failure: dmarc",
    );
    let f = e.file("dmarc.eml", &report);
    e.ingest(&[&f]);
    let s = e.status(r);
    assert_eq!(s["state"], "active", "{s}");
    assert_eq!(s["counts"]["complaint"], 0, "{s}");
    assert_eq!(s["counts"]["alert"], 1, "{s}");
    let stats: serde_json::Value =
        serde_json::from_str(&e.ok("stats", &["--json"])).unwrap();
    assert_eq!(stats["totals"]["complaints"], 0, "{stats}");
    let c = e.file("abuse.eml", &complaint("d2", r, t0() + 60));
    e.ingest(&[&c]);
    let s = e.status(r);
    assert_eq!(
        (s["state"].as_str(), s["suppression_reason"].as_str()),
        (Some("suppressed"), Some("complaint"))
    );
}

#[test]
fn unsuppress_is_audited_and_holds_against_older_reports() {
    let mut e = Env::new();
    let r = "oops@example.org";
    let f = e.file("hard.eml", &Dsn::bounce("h1", r, t0()).text());
    e.ingest(&[&f]);
    assert_eq!(e.status(r)["state"], "suppressed");
    let o = e.run("unsuppress", &[r]);
    assert_eq!(o.status.code(), Some(2), "--note is required");
    e.ok("unsuppress", &[r, "--note", "typo fixed by support, ticket 12"]);
    let s = e.status(r);
    assert_eq!(s["state"], "active");
    let last = s["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["kind"], "unsuppress");
    assert_eq!(last["note"], "typo fixed by support, ticket 12");
    assert_eq!(last["source"], "manual");
    let o = e.run("unsuppress", &[r, "--note", "again"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not suppressed"));
    // A report of an older bounce arriving now does not undo the lift.
    let old = e.file("old.eml", &Dsn::bounce("h0", r, t0() - H).text());
    e.ingest(&[&old]);
    let s = e.status(r);
    assert_eq!(s["state"], "active");
    assert_eq!(s["counts"]["hard"], 2);
    // A new one does.
    let new = e.file(
        "new.eml",
        &Dsn::bounce("h2", r, rebound::time::now() + H).text(),
    );
    e.ingest(&[&new]);
    assert_eq!(e.status(r)["state"], "suppressed");
}

/// A ledger with one address of each kind, for the export tests.
fn export_ledger() -> Env {
    let mut e = Env::new();
    let hard = e.file(
        "hard.eml",
        &Dsn {
            diag: "550 5.1.1 =HYPERLINK(\"http://x.example\") user, \"quoted\"",
            campaign: "-2+3",
            ..Dsn::bounce("h1", "gone@example.org", t0())
        }
        .text(),
    );
    let c = e.file("c.eml", &complaint("c1", "angry@example.net", t0() + H));
    let u =
        e.file("u.eml", &unsubscribe("u1", "done@example.com", t0() + 2 * H));
    e.ingest(&[&hard, &c, &u]);
    let events = e.file(
        "events.jsonl",
        &format!(
            "{}\n",
            serde_json::json!({"event": "bounce", "email": "@sum@example.org",
              "status": "5.1.1", "reason": "550 5.1.1 No such user\n=cmd|' /C calc'!A0",
              "type": "hard", "timestamp": t0() + 3 * H})
        ),
    );
    e.ok("ingest", &["--events", events.to_str().unwrap()]);
    e
}

/// Every row of a CSV text, the header row included.
fn csv_rows(s: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(s.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[test]
fn every_export_format_has_its_platform_columns() {
    let e = export_ledger();
    let exp = |f: &str| e.ok("export", &["--format", f]);
    let row = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();

    // Amazon SES: no header, email,BOUNCE|COMPLAINT.
    assert_eq!(
        csv_rows(&exp("ses")),
        vec![
            row(&["gone@example.org", "BOUNCE"]),
            row(&["angry@example.net", "COMPLAINT"]),
            row(&["done@example.com", "COMPLAINT"]),
            row(&["'@sum@example.org", "BOUNCE"]),
        ]
    );

    // Mailgun: address,code,error,created_at (RFC 2822).
    let m = csv_rows(&exp("mailgun"));
    assert_eq!(m[0], row(&["address", "code", "error", "created_at"]));
    assert_eq!(m.len(), 5);
    assert_eq!(m[1][0], "gone@example.org");
    assert_eq!(m[1][1], "550");
    assert!(m[1][2].starts_with("550 5.1.1 =HYPERLINK"), "{:?}", m[1][2]);
    assert_eq!(m[1][3], "Mon, 4 Mar 2024 09:00:00 +0000");
    assert_eq!(m[2][0], "angry@example.net");
    assert_eq!(m[2][1], "550");
    assert_eq!(m[2][2], "feedback report from fbl/1.0");
    assert_eq!(m[2][3], "Mon, 4 Mar 2024 10:00:00 +0000");

    // SparkPost: recipient,type,description; hard bounces for both
    // streams, complaints and unsubscribes for commercial mail only.
    let s = csv_rows(&exp("sparkpost"));
    assert_eq!(s[0], row(&["recipient", "type", "description"]));
    let pairs: Vec<(&str, &str)> =
        s[1..].iter().map(|r| (r[0].as_str(), r[1].as_str())).collect();
    assert_eq!(
        pairs,
        vec![
            ("gone@example.org", "transactional"),
            ("gone@example.org", "non_transactional"),
            ("angry@example.net", "non_transactional"),
            ("done@example.com", "non_transactional"),
            ("'@sum@example.org", "transactional"),
            ("'@sum@example.org", "non_transactional"),
        ]
    );
    assert!(s[1][2].starts_with("rebound: hard_bounce 5.1.1 550"));
    assert!(s.iter().all(|r| r[2].chars().count() <= 1024));

    // Postmark: email.
    assert_eq!(
        exp("postmark"),
        "email\ngone@example.org\nangry@example.net\ndone@example.com\n'@sum@example.org\n"
    );

    // SendGrid: email,created (Unix seconds).
    let g = csv_rows(&exp("sendgrid"));
    assert_eq!(g[0], row(&["email", "created"]));
    assert_eq!(g[1], row(&["gone@example.org", &t0().to_string()]));
    assert_eq!(g[3], row(&["done@example.com", &(t0() + 2 * H).to_string()]));

    // rebound's CSV.
    let c = csv_rows(&exp("csv"));
    assert_eq!(
        c[0],
        row(&[
            "email",
            "domain",
            "reason",
            "suppressed_at",
            "event",
            "class",
            "status",
            "reply_code",
            "diagnostic",
            "campaign_id",
            "provider",
            "hard_count",
            "soft_count",
            "complaint_count",
            "last_event_at",
            "note",
            "until"
        ])
    );
    assert_eq!(
        c[1][0..8],
        row(&[
            "gone@example.org",
            "example.org",
            "hard_bounce",
            "2024-03-04T09:00:00Z",
            "bounce",
            "10",
            "5.1.1",
            "550"
        ])[..]
    );
    assert_eq!(c[1][9], "'-2+3");
    assert_eq!(
        c[1][11..15],
        row(&["1", "0", "0", "2024-03-04T09:00:00Z"])[..]
    );
    assert_eq!(c[2][2], "complaint");
    assert_eq!(c[3][2], "unsubscribed");

    // JSON and JSON lines carry the same objects.
    let json: Value = serde_json::from_str(&exp("json")).unwrap();
    let json = json.as_array().unwrap();
    let lines: Vec<Value> = exp("jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(json, &lines);
    assert_eq!(json.len(), 4);
    assert_eq!(json[0]["email"], "gone@example.org");
    assert_eq!(json[0]["reason"], "hard_bounce");
    assert_eq!(json[0]["campaign_id"], "-2+3", "JSON is not defused");
    assert_eq!(json[1]["event"], "complaint");

    // Filters.
    let only = |args: &[&str]| {
        let mut a = vec!["--format", "postmark"];
        a.extend_from_slice(args);
        e.ok("export", &a)
    };
    assert_eq!(only(&["--reason", "complaint"]), "email\nangry@example.net\n");
    assert_eq!(
        only(&["--domain", "example.com"]),
        "email\ndone@example.com\n"
    );
    assert_eq!(
        only(&["--since", "2024-03-04T10:30:00Z"]),
        "email\ndone@example.com\n'@sum@example.org\n"
    );
}

#[test]
fn csv_exports_are_quoted_and_formula_safe() {
    let e = export_ledger();
    let raw = e.ok("export", &["--format", "csv"]);
    // Embedded quotes, commas and newlines are quoted (RFC 4180) ...
    assert!(
        raw.contains(
            ",\"550 5.1.1 =HYPERLINK(\"\"http://x.example\"\") user, \"\"quoted\"\"\","
        ),
        "{raw}"
    );
    assert!(
        raw.contains(",\"550 5.1.1 No such user\n=cmd|' /C calc'!A0\","),
        "{raw}"
    );
    // ... and no cell starts a formula.
    for f in ["csv", "ses", "mailgun", "sparkpost", "postmark", "sendgrid"] {
        let out = e.ok("export", &["--format", f]);
        for r in csv_rows(&out) {
            for cell in r {
                assert!(
                    !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
                    "{f}: cell {cell:?} starts a formula"
                );
            }
        }
    }
}

#[test]
fn sends_give_rates_and_time_to_bounce() {
    let mut e = Env::new();
    let mut sends = String::from("message_id,recipient,campaign_id,sent_at\n");
    for i in 0..200 {
        sends.push_str(&format!(
            "<m{i}@example.com>,user{i}@example.org,spring,2024-03-04T08:00:00Z\n"
        ));
    }
    let sends = e.file("sends.csv", &sends);
    // A bounce that names no campaign is tied to its send by the returned
    // Message-ID; two days later is a delayed bounce.
    let hard = Dsn {
        original: "m1",
        campaign: "",
        ..Dsn::bounce("h1", "user1@example.org", t0())
    };
    let soft = Dsn {
        original: "m2",
        ..Dsn::soft("s1", "user2@example.org", t0() + 47 * H)
    };
    let (h, s) =
        (e.file("h.eml", &hard.text()), e.file("s.eml", &soft.text()));
    e.ingest(&[&h]);
    e.ok("import-sends", &[sends.to_str().unwrap()]);
    e.ok("import-sends", &[sends.to_str().unwrap()]);
    e.ingest(&[&s]);
    assert_eq!(e.count("SELECT count(*) FROM sends"), 200);
    let st: Value = serde_json::from_str(
        &e.ok("stats", &["--json", "--campaign", "spring"]),
    )
    .unwrap();
    let c = &st["campaigns"][0];
    assert_eq!(c["campaign"], "spring");
    assert_eq!(c["sent"], 200);
    assert_eq!((c["hard"].as_i64(), c["soft"].as_i64()), (Some(1), Some(1)));
    assert_eq!(c["hard_rate"], 0.005);
    assert_eq!(c["hard_rating"], "warning");
    assert_eq!(c["soft_rating"], "ok");
    assert_eq!(c["overall_rating"], "ok");
    let t = &st["time_to_bounce"];
    assert_eq!(
        (t["linked"].as_i64(), t["immediate"].as_i64(), t["delayed"].as_i64()),
        (Some(2), Some(0), Some(2))
    );
    assert_eq!(t["buckets"]["1h-24h"], 1);
    assert_eq!(t["buckets"]["1d-3d"], 1);
    assert_eq!(st["weekly"][0]["week"], "2024-03-04");
    let text = e.ok("stats", &[]);
    assert!(text.contains("0.50% warning"), "{text}");
}

/// Every rate in `stats --json` (totals, campaigns, providers, weeks) as
/// (where, value).
fn rates_of(v: &Value, at: &str, out: &mut Vec<(String, f64)>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let at = format!("{at}.{k}");
                match x.as_f64() {
                    Some(r) if k.ends_with("_rate") => out.push((at, r)),
                    _ => rates_of(x, &at, out),
                }
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                rates_of(x, &format!("{at}[{i}]"), out);
            }
        }
        _ => {}
    }
}

/// Every percentage written in a text.
fn percentages(text: &str) -> Vec<f64> {
    text.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '%'))
        .filter_map(|w| w.strip_suffix('%')?.parse().ok())
        .collect()
}

/// Issue 19, point 1: two sends imported for a campaign whose bounces
/// number forty give rates of those two sends only, never above 100 %,
/// in `stats --json`, the text, the provider table and the report.
#[test]
fn partial_sends_never_give_a_rate_above_100_percent() {
    let mut e = Env::new();
    let mut paths = Vec::new();
    for i in 0..40 {
        let rcpt = format!("user{i}@example.org");
        let d = if i % 3 == 0 {
            Dsn::soft(&format!("b{i}"), &rcpt, t0() + i * H)
        } else {
            Dsn::bounce(&format!("b{i}"), &rcpt, t0() + i * H)
        };
        paths.push(e.file("b.eml", &d.text()));
    }
    // The first send bounced twice (soft, then hard): one send, one
    // hard bounce of it.
    let again = Dsn {
        original: "orig-b0",
        ..Dsn::bounce("b0-again", "user0@example.org", t0() + 2 * H)
    };
    paths.push(e.file("again.eml", &again.text()));
    paths.push(
        e.file("c.eml", &complaint("c1", "user5@example.org", t0() + 3 * H)),
    );
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    e.ingest(&refs);
    let sends = e.file(
        "sends.csv",
        "message_id,recipient,campaign_id,sent_at\n\
         <orig-b0@example.com>,user0@example.org,spring,2024-03-04T08:00:00Z\n\
         <orig-b1@example.com>,user1@example.org,spring,2024-03-04T08:00:00Z\n",
    );
    e.ok("import-sends", &[sends.to_str().unwrap()]);

    let st: Value = serde_json::from_str(&e.ok("stats", &["--json"])).unwrap();
    let mut rates = Vec::new();
    rates_of(&st, "", &mut rates);
    assert!(!rates.is_empty(), "{st}");
    for (at, r) in &rates {
        assert!((0.0..=1.0).contains(r), "{at} = {r}: {st}");
    }
    assert_eq!(st["basis"], "sends");
    let spring = st["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["campaign"] == "spring")
        .unwrap();
    // The events stay counted; the rates divide the two sends.
    let (hard, soft) = (spring["hard"].as_i64(), spring["soft"].as_i64());
    assert_eq!(hard.unwrap() + soft.unwrap(), 41);
    assert_eq!(spring["sent"], 2);
    assert_eq!(
        (spring["hard_sends"].as_i64(), spring["soft_sends"].as_i64()),
        (Some(2), Some(0))
    );
    assert_eq!(spring["hard_rate"], 1.0);
    assert_eq!(spring["outside"], 38);
    let total_sent: i64 = st["providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["sent"].as_i64().unwrap())
        .sum();
    assert_eq!(total_sent, 2);

    let text = e.ok("stats", &[]);
    assert!(text.contains("38 bounces tied to no send"), "{text}");
    for p in percentages(&text) {
        assert!(p <= 100.0, "{p}% in:\n{text}");
    }
    let html = e.dir.path().join("report.html");
    e.ok("report", &["-o", html.to_str().unwrap()]);
    let page = std::fs::read_to_string(&html).unwrap();
    let shown = percentages(&page);
    assert!(!shown.is_empty());
    for p in shown {
        assert!(p <= 100.0, "{p}% in the report");
    }
}

/// The lines of the table under `title` in a `stats` text: its header
/// line and rows, up to the next blank line or sentence.
fn table_under<'t>(text: &'t str, title: &str) -> Vec<&'t str> {
    let mut lines = text.lines().skip_while(|l| !l.starts_with(title)).skip(1);
    let head = lines.next().unwrap_or_else(|| panic!("{title}: {text}"));
    assert!(
        head.split_whitespace().all(|w| w == w.to_uppercase()),
        "{title} has no header line: {head:?}"
    );
    std::iter::once(head)
        .chain(lines.take_while(|l| {
            !l.is_empty() && !l.ends_with('.') && !l.ends_with(')')
        }))
        .collect()
}

/// Issue 19, point 7: every table of `stats` has a header line and its
/// columns aligned whatever the campaign id's length, every reason's class
/// has a name, the weekly trend shows the latest 12 weeks unless told
/// (`--weeks N`), one of a thing is singular, and `report` says what it
/// wrote.
#[test]
fn stats_text_is_tables_with_headers_and_aligned_columns() {
    let mut e = Env::new();
    let long = "a-campaign-id-much-longer-than-any-column-was-made-for";
    let first =
        Dsn { campaign: long, ..Dsn::bounce("w0", "u0@example.org", t0()) };
    let f = e.file("first.eml", &first.text());
    let err = e.ingest(&[&f]);
    assert!(err.contains("1 message: 1 report recorded"), "{err}");
    assert!(err.contains(": 1 new event, 0 already"), "{err}");
    let mut paths = Vec::new();
    for w in 1..15 {
        let d = Dsn::soft(
            &format!("w{w}"),
            "u1@example.org",
            t0() + w * 7 * 24 * H,
        );
        paths.push(e.file("w.eml", &d.text()));
    }
    paths.push(e.file("c.eml", &complaint("c1", "u2@example.org", t0())));
    let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
    e.ingest(&refs);

    let text = e.ok("stats", &[]);
    let campaigns = table_under(&text, "Campaigns");
    assert!(campaigns.iter().any(|l| l.starts_with(long)), "{text}");
    // Each number column ends where its header ends, on every line.
    let head = campaigns[0];
    for col in ["SENT", "HARD", "SOFT", "OUTSIDE"] {
        let end = head.find(col).unwrap() + col.len();
        for l in &campaigns[1..] {
            let cell = &l[..end];
            assert!(
                cell.ends_with(|c: char| c.is_ascii_digit())
                    && l[end..].starts_with(' '),
                "{col} not aligned in {l:?}:\n{text}"
            );
        }
    }
    for title in ["Soft bounces by provider", "Reasons", "Weekly trend"] {
        table_under(&text, title);
    }
    let reasons = table_under(&text, "Reasons");
    let name_at = reasons[0].find("CLASS NAME").unwrap();
    for l in &reasons[1..] {
        assert!(
            l[name_at..].chars().next().is_some_and(char::is_alphabetic),
            "a class without a name: {l:?}"
        );
    }
    let weeks = table_under(&text, "Weekly trend");
    assert_eq!(weeks.len(), 1 + 12, "{text}");
    assert!(text.contains("the latest 12 weeks of 15"), "{text}");
    let text = e.ok("stats", &["--weeks", "3"]);
    let weeks = table_under(&text, "Weekly trend");
    assert_eq!(weeks.len(), 1 + 3, "{text}");
    assert!(
        weeks[3].starts_with(
            &rebound::time::format_rfc3339(t0() + 14 * 7 * 24 * H)[..10]
        ),
        "the latest weeks: {text}"
    );

    let html = e.dir.path().join("r.html");
    let o = e.run("report", &["-o", html.to_str().unwrap()]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("wrote {}", html.display()))
            && err.contains("1 complaint,"),
        "{err}"
    );
}

/// Issue 19, point 11: a report without Message-ID, read as an LF file,
/// then as the CRLF copy an IMAP sweep fetches, then from an mbox (a
/// postmark line, `>From ` quoting, a blank line before the next
/// message), is one event.
#[test]
fn the_same_report_from_a_file_imap_and_an_mbox_is_one_event() {
    let mut e = Env::new();
    let lf = "From: MAILER-DAEMON@mx.example.net\n\
              To: bounces@example.com\n\
              Subject: Undelivered Mail Returned to Sender\n\
              Date: Tue, 5 Mar 2024 10:15:01 +0000\n\
              MIME-Version: 1.0\n\
              Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\
              \n\
              --b\n\
              Content-Type: text/plain\n\
              \n\
              From the mail system at mx.example.net: no such user.\n\
              \n\
              --b\n\
              Content-Type: message/delivery-status\n\
              \n\
              Reporting-MTA: dns; mx.example.net\n\
              \n\
              Final-Recipient: rfc822; gone@example.org\n\
              Action: failed\n\
              Status: 5.1.1\n\
              \n\
              --b--\n";
    let crlf = lf.replace('\n', "\r\n");
    let mbox = format!(
        "From MAILER-DAEMON Tue Mar  5 10:15:02 2024\n{}\n\
         From someone Tue Mar  5 11:00:00 2024\nFrom: a@example.com\n\
         Subject: not a bounce\n\nhello\n",
        lf.replace("\nFrom the mail", "\n>From the mail")
    );
    let files = [
        e.file("lf.eml", lf),
        e.file("crlf.eml", &crlf),
        e.file("archive.mbox", &mbox),
    ];
    let first = e.ingest(&[&files[0]]);
    assert!(first.contains("1 new event,"), "{first}");
    for f in &files[1..] {
        let again = e.ingest(&[f]);
        assert!(
            again.contains("0 new events, 1 already recorded"),
            "{f:?}: {again}"
        );
    }
    assert_eq!(e.events(), 1);
}

/// Issue 19, point 5: a report's time is read from the date shapes
/// mailers write, else from its Received fields, else it is unknown and
/// in no week; never the time it was ingested.
#[test]
fn broken_dates_give_a_stable_time_or_none() {
    let mut e = Env::new();
    let report = |to: &str, head: &str| {
        format!(
            "From: MAILER-DAEMON@mx.example.net\n{head}\
             Subject: Undelivered Mail Returned to Sender\n\
             MIME-Version: 1.0\n\
             Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\
             \n\
             --b\n\
             Content-Type: message/delivery-status\n\
             \n\
             Reporting-MTA: dns; mx.example.net\n\
             \n\
             Final-Recipient: rfc822; {to}\n\
             Action: failed\n\
             Status: 5.1.1\n\
             \n\
             --b--\n"
        )
    };
    let files = [
        e.file(
            "x2.eml",
            &report(
                "a@example.org",
                "Date: Thursday, April 09, 2003 9:00 AM\n",
            ),
        ),
        e.file(
            "received.eml",
            &report(
                "b@example.org",
                "Received: from mx.example.net (mx.example.net [192.0.2.1])\n\
                 \tby mail.example.com; Tue, 5 Mar 2024 10:15:01 +0100\n\
                 Date: sometime last week\n",
            ),
        ),
        e.file("none.eml", &report("c@example.org", "")),
    ];
    let refs: Vec<&Path> = files.iter().map(PathBuf::as_path).collect();
    e.ingest(&refs);
    let time_of = |a: &str| e.status(a)["history"][0]["event_time"].clone();
    assert_eq!(time_of("a@example.org"), "2003-04-09T09:00:00Z");
    assert_eq!(time_of("b@example.org"), "2024-03-05T09:15:01Z");
    let unknown =
        e.count("SELECT count(*) FROM events WHERE time_unknown = 1");
    assert_eq!(unknown, 1);
    let st: Value = serde_json::from_str(&e.ok("stats", &["--json"])).unwrap();
    assert_eq!(st["undated"], 1);
    let weeks: Vec<&str> = st["weekly"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["week"].as_str().unwrap())
        .collect();
    assert_eq!(weeks, ["2003-04-07", "2024-03-04"], "{st}");
    let weekly_bounces: i64 = st["weekly"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["hard"].as_i64().unwrap())
        .sum();
    assert_eq!(weekly_bounces, 2);
    assert_eq!(st["totals"]["hard"], 3);
    // Read again, the same times.
    let again = e.ingest(&refs);
    assert!(again.contains("0 new events, 3 already recorded"), "{again}");
    assert_eq!(time_of("a@example.org"), "2003-04-09T09:00:00Z");
}

#[test]
fn webhook_events_are_recorded_once() {
    let mut e = Env::new();
    let lines = [
        r#"{"event":"bounce","email":"a@example.org","status":"5.1.1","reason":"550 5.1.1 user unknown","type":"hard","provider":"gmail","campaign_id":"c1","timestamp":1709542800,"ip":"192.0.2.1","domain":"example.org"}"#,
        r#"{"event":"spamreport","email":"b@example.org","timestamp":"2024-03-04T09:00:00Z"}"#,
        r#"{"event":"open","email":"c@example.org","timestamp":1709542800}"#,
        r#"{"event":"bounce","email":"d@example.org","status":"4.2.2","reason":"452 4.2.2 mailbox full","type":"soft","timestamp":1709542800}"#,
        "not json",
    ];
    let f = e.file("events.jsonl", &(lines.join("\n") + "\n"));
    let o = e.run("ingest", &["--events", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "a bad line makes the exit 1");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(":5: not a webhook event"), "{err}");
    assert_eq!(e.events(), 3);
    assert_eq!(e.status("a@example.org")["suppression_reason"], "hard_bounce");
    assert_eq!(e.status("a@example.org")["history"][0]["provider"], "gmail");
    assert_eq!(e.status("b@example.org")["suppression_reason"], "complaint");
    assert_eq!(e.status("d@example.org")["state"], "soft_bouncing");
    e.run("ingest", &["--events", f.to_str().unwrap()]);
    assert_eq!(e.events(), 3);
}

/// An mbox of `n` authored DSNs for distinct recipients.
fn big_mbox(e: &mut Env, n: i64) -> PathBuf {
    let mut mbox = String::new();
    for i in 0..n {
        mbox.push_str("From MAILER-DAEMON Mon Mar  4 09:00:00 2024\n");
        let d = Dsn::bounce(
            &format!("k{i}"),
            &format!("u{i}@example.org"),
            t0() + i,
        );
        mbox.push_str(&d.text());
        mbox.push('\n');
    }
    e.file("big.mbox", &mbox)
}

#[test]
fn killed_mid_ingest_keeps_commits_and_rerun_counts_nothing_twice() {
    let mut e = Env::new();
    let n = 6000;
    let mbox = big_mbox(&mut e, n);
    let mut child = rebound()
        .args(["ingest", "--batch", "50", "--db"])
        .arg(&e.db)
        .arg(&mbox)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let mut seen = 0;
    while seen == 0 && start.elapsed() < Duration::from_secs(120) {
        std::thread::sleep(Duration::from_millis(20));
        if e.db.exists() {
            seen = rusqlite::Connection::open(&e.db)
                .and_then(|c| {
                    c.query_row("SELECT count(*) FROM events", [], |r| {
                        r.get(0)
                    })
                })
                .unwrap_or(0);
        }
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "ingest finished before it could be killed; make the input larger"
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let partial = e.events();
    assert!(partial > 0 && partial < n, "{partial} events after the kill");
    assert_eq!(partial % 50, 0, "whole batches only");
    assert_eq!(e.count("SELECT count(*) FROM addresses"), partial);
    let err = e.ingest(&[&mbox]);
    assert!(
        err.contains(&format!(
            "{} new events, {partial} already recorded",
            n - partial
        )),
        "{err}"
    );
    assert_eq!(e.events(), n);
    assert_eq!(
        e.count("SELECT count(*) FROM addresses WHERE state = 'suppressed'"),
        n
    );
    let ok: String = rusqlite::Connection::open(&e.db)
        .unwrap()
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}

/// Asserts a failed ledger command: exit 2, the file named, the words.
fn assert_ledger_error(o: &Output, db: &Path, words: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains(&db.display().to_string()), "file not named: {err}");
    assert!(err.contains(words), "expected {words:?} in: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

/// A ledger with one suppressed address, and that event count.
fn seeded() -> (Env, PathBuf) {
    let mut e = Env::new();
    let f =
        e.file("a.eml", &Dsn::bounce("a1", "gone@example.org", t0()).text());
    e.ingest(&[&f]);
    let g =
        e.file("b.eml", &Dsn::bounce("b1", "more@example.org", t0()).text());
    (e, g)
}

#[test]
fn a_locked_ledger_is_a_clear_error() {
    let (e, more) = seeded();
    let mut c = rusqlite::Connection::open(&e.db).unwrap();
    let tx = c
        .transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)
        .unwrap();
    let o = rebound()
        .args(["ingest", "--busy-timeout", "300", "--db"])
        .arg(&e.db)
        .arg(&more)
        .output()
        .unwrap();
    assert_ledger_error(&o, &e.db, "locked by another process");
    drop(tx);
    drop(c);
    assert_eq!(e.events(), 1);
    e.ingest(&[&more]);
    assert_eq!(e.events(), 2);
}

#[test]
fn a_corrupt_ledger_is_a_clear_error() {
    let mut e = Env::new();
    let junk: Vec<u8> = (0..8192u32).map(|i| (i * 7 + 3) as u8).collect();
    std::fs::write(&e.db, &junk).unwrap();
    let f =
        e.file("a.eml", &Dsn::bounce("a1", "gone@example.org", t0()).text());
    let o = e.run("ingest", &[f.to_str().unwrap()]);
    assert_ledger_error(&o, &e.db, "corrupt");
    let o = e.run("export", &[]);
    assert_ledger_error(&o, &e.db, "corrupt");
    assert_eq!(std::fs::read(&e.db).unwrap(), junk, "the file is left alone");
}

/// The application id and the tables of an SQLite file, and its journal.
fn header_and_tables(db: &Path) -> (i32, String, Vec<String>) {
    let c = rusqlite::Connection::open(db).unwrap();
    let id = c.query_row("PRAGMA application_id", [], |r| r.get(0)).unwrap();
    let journal =
        c.query_row("PRAGMA journal_mode", [], |r| r.get(0)).unwrap();
    let tables = c
        .prepare("SELECT name FROM sqlite_master ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    (id, journal, tables)
}

#[test]
fn another_programs_database_is_refused_and_left_alone() {
    let mut e = Env::new();
    {
        let c = rusqlite::Connection::open(&e.db).unwrap();
        c.execute_batch(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);
             INSERT INTO users (email) VALUES ('ann@example.org');",
        )
        .unwrap();
    }
    let before = header_and_tables(&e.db);
    let f =
        e.file("a.eml", &Dsn::bounce("a1", "gone@example.org", t0()).text());
    let sends = e.file(
        "sends.csv",
        "message_id,recipient,sent_at\n<m1@example.com>,a@example.org,2024-03-04\n",
    );
    let o = e.run("ingest", &[f.to_str().unwrap()]);
    assert_ledger_error(&o, &e.db, "not a rebound ledger");
    assert!(String::from_utf8_lossy(&o.stderr).contains("users"));
    for (cmd, args) in [
        ("stats", vec![]),
        ("export", vec![]),
        ("status", vec!["ann@example.org"]),
        ("import-sends", vec![sends.to_str().unwrap()]),
    ] {
        let o = e.run(cmd, &args);
        assert_ledger_error(&o, &e.db, "not a rebound ledger");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!err.contains("ingest"), "{cmd} advises ingest: {err}");
    }
    assert_eq!(header_and_tables(&e.db), before, "the file is left alone");

    // A new ledger carries rebound's id; one written before the id
    // existed is read as it is and stamped by the next writing command.
    let mut e = Env::new();
    let f =
        e.file("a.eml", &Dsn::bounce("a1", "gone@example.org", t0()).text());
    e.ingest(&[&f]);
    let id = rebound::ledger::APPLICATION_ID;
    assert_eq!(header_and_tables(&e.db).0, id);
    rusqlite::Connection::open(&e.db)
        .unwrap()
        .execute_batch("PRAGMA application_id = 0")
        .unwrap();
    e.ok("stats", &[]);
    assert_eq!(header_and_tables(&e.db).0, 0);
    e.ingest(&[&f]);
    assert_eq!(header_and_tables(&e.db).0, id);
    assert_eq!(e.events(), 1);
}

#[test]
fn a_full_ledger_rolls_back_the_batch_and_keeps_the_rest() {
    let (mut e, _) = seeded();
    let size = std::fs::metadata(&e.db).unwrap().len()
        + std::fs::metadata(e.db.with_extension("db-wal"))
            .map_or(0, |m| m.len());
    let mbox = big_mbox(&mut e, 400);
    let o = rebound()
        .args(["ingest", "--batch", "400", "--db-max-size"])
        .arg((size + 8192).to_string())
        .arg("--db")
        .arg(&e.db)
        .arg(&mbox)
        .output()
        .unwrap();
    assert_ledger_error(&o, &e.db, "full");
    assert_eq!(e.events(), 1, "the seeded event is kept, the batch is not");
    assert_eq!(e.status("gone@example.org")["state"], "suppressed");
}

/// A directory on a small tmpfs, unmounted on drop (needs mount rights).
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(dir: &Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).ok()?;
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(dir.to_path_buf()))
    }

    fn remount_read_only(&self) -> bool {
        std::process::Command::new("mount")
            .args(["-o", "remount,ro"])
            .arg(&self.0)
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

/// True when this process can write a file whose mode says read-only
/// (root): chmod alone does not make a read-only ledger then.
fn ignores_permissions(dir: &Path) -> bool {
    let p = dir.join("probe");
    std::fs::write(&p, b"x").unwrap();
    let mut perm = std::fs::metadata(&p).unwrap().permissions();
    perm.set_readonly(true);
    std::fs::set_permissions(&p, perm).unwrap();
    std::fs::OpenOptions::new().append(true).open(&p).is_ok()
}

#[test]
fn a_disk_full_tmpfs_is_a_clear_error() {
    let e = Env::new();
    let Some(fs) = Tmpfs::mount(&e.dir.path().join("small"), "192k") else {
        // Without mount rights the size-limit test above covers SQLITE_FULL.
        assert!(!ignores_permissions(e.dir.path()), "root but cannot mount");
        return;
    };
    let db = fs.0.join("ledger.db");
    let mut e2 =
        Env { dir: tempfile::tempdir().unwrap(), db: db.clone(), n: 0 };
    let f =
        e2.file("a.eml", &Dsn::bounce("a1", "gone@example.org", t0()).text());
    e2.ingest(&[&f]);
    let mbox = big_mbox(&mut e2, 3000);
    let o = e2.run("ingest", &["--batch", "3000", mbox.to_str().unwrap()]);
    assert_ledger_error(&o, &db, "full");
    assert_eq!(e2.events(), 1);
    drop(e2);
}

#[test]
fn a_read_only_ledger_is_a_clear_error_and_still_readable() {
    let (e, more) = seeded();
    // Closed cleanly: no -wal/-shm left; make the file and directory
    // read-only (or, for root, the whole file system).
    let dir = e.dir.path().join("ro");
    std::fs::create_dir(&dir).unwrap();
    let db = dir.join("ledger.db");
    let _fs = if ignores_permissions(e.dir.path()) {
        let m = Tmpfs::mount(&dir, "1m").expect("root can mount a tmpfs");
        std::fs::copy(&e.db, &db).unwrap();
        assert!(m.remount_read_only());
        Some(m)
    } else {
        std::fs::copy(&e.db, &db).unwrap();
        for p in [&db, &dir] {
            let mut perm = std::fs::metadata(p).unwrap().permissions();
            perm.set_readonly(true);
            std::fs::set_permissions(p, perm).unwrap();
        }
        None
    };
    let ro = Env { dir: tempfile::tempdir().unwrap(), db: db.clone(), n: 0 };
    let o = ro.run("ingest", &[more.to_str().unwrap()]);
    assert_ledger_error(&o, &db, "read-only");
    assert_eq!(ro.status("gone@example.org")["state"], "suppressed");
    assert_eq!(
        ro.ok("export", &["--format", "postmark"]),
        "email\ngone@example.org\n"
    );
}

#[test]
fn status_of_something_not_an_address_is_refused() {
    let (e, _) = seeded();
    for arg in ["hello world", "example.org", "gone@"] {
        let o = e.run("status", &[arg]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{arg}: {err}");
        assert!(err.contains("is not an email address"), "{err}");
        assert!(o.stdout.is_empty());
    }
    let out = e.ok("status", &["new@example.org"]);
    assert!(out.contains("not in the ledger (mailable)"), "{out}");
    assert_eq!(e.status("Gone@example.org")["state"], "suppressed");
}

#[test]
fn import_sends_records_the_good_rows_and_names_the_bad_by_line() {
    let mut e = Env::new();
    // A quoted field spanning two lines: rows are named by the physical
    // line they start on.
    let sends = e.file(
        "sends.csv",
        "message_id,recipient,campaign_id,sent_at\n\
         <m1@example.com>,a@example.org,c,2024-03-04T08:00:00Z\n\
         <m2@example.com>,,c,2024-03-04\n\
         <m3@example.com>,b@example.org,\"two\nlines\",2024-03-04\n\
         <m4@example.com>,c@example.org,c,yesterday\n\
         <m5@example.com>,d@example.org\n\
         <m6@example.com>,e@example.org,c,1709539200\n",
    );
    let path = sends.to_str().unwrap();
    let o = e.run("import-sends", &[path]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    for want in [
        format!("{path}:3: message_id and recipient are required"),
        format!("{path}:6: sent_at \"yesterday\" is not a time"),
        format!("{path}:7: 2 fields where the header has 4"),
        "3 sends read, 3 new".to_string(),
        "3 bad rows skipped".to_string(),
    ] {
        assert!(err.contains(&want), "{want:?} not in: {err}");
    }
    assert_eq!(err.matches(&format!("{path}:")).count(), 3, "{err}");
    assert_eq!(e.count("SELECT count(*) FROM sends"), 3);

    // --strict: all or nothing.
    let strict = Env::new();
    let o = strict.run("import-sends", &["--strict", path]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("nothing recorded"));
    assert!(!strict.db.exists(), "no ledger for nothing recorded");
    let good = e.file(
        "good.csv",
        "message_id,recipient,sent_at\n<g1@example.com>,g@example.org,2024-03-04\n",
    );
    strict.ok("import-sends", &["--strict", good.to_str().unwrap()]);
    assert_eq!(strict.count("SELECT count(*) FROM sends"), 1);
}

#[test]
fn a_path_that_holds_no_ledger_is_one_clear_message() {
    let e = Env::new();
    let dir = e.dir.path();
    let eml = dir.join("a.eml");
    std::fs::write(&eml, Dsn::bounce("a1", "a@example.org", t0()).text())
        .unwrap();
    let eml = eml.to_str().unwrap();
    let missing_dir = dir.join("no-such-dir");
    let in_missing = missing_dir.join("l.db");
    let none = dir.join("none.db");
    let cases: Vec<(&str, Vec<&str>, &Path, String)> = vec![
        (
            "ingest",
            vec![eml],
            &in_missing,
            format!("the directory {} does not exist", missing_dir.display()),
        ),
        ("ingest", vec![eml], dir, "is a directory".into()),
        ("stats", vec![], dir, "is a directory".into()),
        ("stats", vec![], &none, "`rebound ingest` creates one".into()),
        ("export", vec![], &none, "`rebound ingest` creates one".into()),
        (
            "status",
            vec!["a@example.org"],
            &none,
            format!("no ledger at {}", none.display()),
        ),
    ];
    for (cmd, args, db, words) in cases {
        let o = rebound()
            .arg(cmd)
            .arg("--db")
            .arg(db)
            .args(&args)
            .env_remove("REBOUND_DB")
            .output()
            .unwrap();
        assert_ledger_error(&o, db, &words);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(
            err.lines().count(),
            1,
            "{cmd}: said more than once: {err}"
        );
        assert!(!err.contains("Error code"), "{err}");
    }
    assert!(!none.exists(), "a reading command created the ledger");
    // `--help` says which commands create the ledger, and only those
    // offer a size cap.
    for cmd in ["stats", "export", "status", "report", "scrub"] {
        let help = String::from_utf8(
            rebound().args([cmd, "--help"]).output().unwrap().stdout,
        )
        .unwrap();
        assert!(!help.contains("created when missing"), "{cmd}: {help}");
        assert!(!help.contains("--db-max-size"), "{cmd}: {help}");
    }
    let help = String::from_utf8(
        rebound().args(["ingest", "--help"]).output().unwrap().stdout,
    )
    .unwrap();
    assert!(
        help.contains("created when missing")
            && help.contains("--db-max-size")
    );
}
