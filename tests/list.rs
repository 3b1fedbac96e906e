//! Running the suppression list by hand through the real binary on real
//! SQLite files: manual and domain entries (`suppress`, `unsuppress`),
//! imported lists (`import-suppressions`), erasure (`forget`) and
//! `purge`.

use std::path::PathBuf;
use std::process::Output;

use rebound::time::parse_rfc3339;
use serde_json::Value;

use crate::ledger::{Dsn, complaint};
use crate::util::{ok_on, run_on};

/// A temporary directory with a ledger in it.
struct Env {
    dir: tempfile::TempDir,
    db: PathBuf,
}

impl Env {
    fn new() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("ledger.db");
        Env { dir, db }
    }

    /// Runs `rebound CMD --db LEDGER ARGS...`.
    fn run(&self, cmd: &str, args: &[&str]) -> Output {
        run_on(&self.db, cmd, args)
    }

    /// Like [`Env::run`], asserting success; returns stdout.
    fn ok(&self, cmd: &str, args: &[&str]) -> String {
        ok_on(&self.db, cmd, args)
    }

    /// A second ledger, empty, in its own directory.
    fn empty() -> Env {
        Env::new()
    }

    fn file(&self, name: &str, body: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        p
    }

    /// Ingests mail given as texts.
    fn ingest(&self, mails: &[String]) {
        let mut paths = Vec::new();
        for (i, m) in mails.iter().enumerate() {
            let p = self.file(&format!("in-{}.eml", i), m);
            paths.push(p.to_str().unwrap().to_string());
        }
        let args: Vec<&str> = paths.iter().map(String::as_str).collect();
        self.ok("ingest", &args);
        for p in paths {
            std::fs::remove_file(p).unwrap();
        }
    }

    fn status(&self, address: &str) -> Value {
        serde_json::from_str(&self.ok("status", &[address, "--json"])).unwrap()
    }

    fn export(&self, format: &str) -> String {
        self.ok("export", &["--format", format])
    }
}

fn t0() -> i64 {
    parse_rfc3339("2024-03-04T09:00:00Z").unwrap()
}

/// The `reject_reason` and `reject_detail` of each rejected row of a
/// scrub of `addresses`.
fn scrub(e: &Env, addresses: &[&str]) -> Vec<(String, String, String)> {
    let list =
        e.file("list.csv", &format!("email\n{}\n", addresses.join("\n")));
    e.ok("scrub", &[list.to_str().unwrap()]);
    let text = std::fs::read_to_string(e.dir.path().join("list.rejects.csv"))
        .unwrap();
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].to_string(), r[1].to_string(), r[2].to_string())
        })
        .collect()
}

#[test]
fn domain_entries_are_honoured_by_status_scrub_and_export() {
    let e = Env::new();
    e.ingest(&[Dsn::soft("s1", "known@example.net", t0()).text()]);
    let o = e.run("suppress", &["@Example.NET", "--note", "closed down"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Twice: nothing more recorded, exit 1.
    assert_eq!(
        e.run("suppress", &["@example.net", "--note", "again"]).status.code(),
        Some(1)
    );
    e.ok(
        "suppress",
        &["@example.com", "--note", "a whole group", "--subdomains"],
    );
    e.ok(
        "suppress",
        &[
            "one@example.org",
            "--note",
            "asked by phone",
            "--reason",
            "complaint",
        ],
    );
    // status: an address never seen, at a refused domain.
    let s = e.status("new@example.net");
    assert_eq!(s["state"], Value::Null);
    assert_eq!(s["mailable"], false);
    assert_eq!(s["domain_entry"], "example.net");
    assert_eq!(s["suppression_reason"], "manual");
    // A known address there keeps its own state and is refused.
    let s = e.status("known@example.net");
    assert_eq!(
        (s["state"].as_str(), s["mailable"].as_bool()),
        (Some("soft_bouncing"), Some(false))
    );
    // Subdomains only when asked.
    assert_eq!(e.status("a@mx.example.net")["mailable"], true);
    assert_eq!(e.status("a@mx.example.com")["domain_entry"], "*.example.com");
    assert_eq!(e.status("a@example.com")["mailable"], false);
    assert_eq!(e.status("a@example.community")["mailable"], true);
    let text = e.ok("status", &["b@example.net"]);
    assert!(
        text.contains("refused by the domain entry example.net: manual"),
        "{text}"
    );
    // scrub refuses the same addresses.
    let rejects = scrub(
        &e,
        &[
            "x@example.net",
            "y@sub.example.net",
            "z@a.example.com",
            "one@example.org",
        ],
    );
    assert_eq!(
        rejects,
        [
            (
                "x@example.net".into(),
                "suppressed".into(),
                "manual (domain example.net)".into()
            ),
            (
                "z@a.example.com".into(),
                "suppressed".into(),
                "manual (domain *.example.com)".into()
            ),
            (
                "one@example.org".into(),
                "suppressed".into(),
                "complaint".into()
            ),
        ]
    );
    // export: the entries in the own layout, the known addresses at them
    // in a platform's.
    let csv = e.export("csv");
    let emails: Vec<String> = csv::Reader::from_reader(csv.as_bytes())
        .records()
        .map(|r| r.unwrap()[0].to_string())
        .collect();
    let mut sorted = emails.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ["*@*.example.com", "*@example.net", "one@example.org"]
    );
    assert!(csv.contains("*@example.net,example.net,manual,"), "{csv}");
    let ses = e.export("ses");
    let mut lines: Vec<&str> = ses.lines().collect();
    lines.sort();
    assert_eq!(
        lines,
        ["known@example.net,BOUNCE", "one@example.org,COMPLAINT"]
    );
    // unsuppress lifts either kind.
    e.ok("unsuppress", &["@example.net", "--note", "reopened"]);
    assert_eq!(e.status("new@example.net")["mailable"], true);
    assert_eq!(
        e.run("unsuppress", &["@example.net", "--note", "again"])
            .status
            .code(),
        Some(1)
    );
    e.ok("unsuppress", &["one@example.org", "--note", "wrong person"]);
    assert_eq!(e.status("one@example.org")["mailable"], true);
    assert_eq!(e.export("ses"), "");
    // A suppression given an end says so.
    e.ok(
        "suppress",
        &["two@example.org", "--note", "holiday", "--until", "2999-01-01"],
    );
    let s = e.status("two@example.org");
    assert_eq!(s["suppressed_until"], "2999-01-01T00:00:00Z");
    assert_eq!(s["mailable"], false);
    // Bad input is refused.
    for bad in [
        &["@", "--note", "x"][..],
        &["nobody", "--note", "x"],
        &["a@example.org", "--note", "x", "--until", "2001-01-01"],
        &["a@example.org", "--note", " "],
        &["a@example.org", "--note", "x", "--subdomains"],
    ] {
        assert_eq!(e.run("suppress", bad).status.code(), Some(2), "{bad:?}");
    }
}

/// A ledger holding one suppression of each kind: a hard bounce, a
/// complaint, manual ones (with a formula-like note, another reason, an
/// end), a domain entry with a known address at it.
fn varied() -> Env {
    let e = Env::new();
    e.ingest(&[
        Dsn::bounce("h1", "gone@example.org", t0()).text(),
        complaint("c1", "angry@example.net", t0() + 60),
        Dsn::soft("s1", "k@blocked.example", t0() + 120).text(),
    ]);
    e.ok("suppress", &["hand@example.org", "--note", "=cmd|' /C calc'!A0"]);
    e.ok(
        "suppress",
        &["left@example.com", "--note", "asked", "--reason", "unsubscribed"],
    );
    e.ok(
        "suppress",
        &[
            "later@example.com",
            "--note",
            "on leave",
            "--reason",
            "soft_escalated",
            "--until",
            "2999-01-01",
        ],
    );
    e.ok("suppress", &["@blocked.example", "--note", "closed"]);
    e
}

/// The columns of `rebound export`'s own layouts that describe the
/// suppression (not the address's history: event kind, counters, last
/// event, which an import does not bring).
const LIST_COLUMNS: [&str; 12] = [
    "email",
    "domain",
    "reason",
    "suppressed_at",
    "class",
    "status",
    "reply_code",
    "diagnostic",
    "campaign_id",
    "provider",
    "note",
    "until",
];

/// The list an export describes, comparable across ledgers: for the own
/// layouts the rows' [`LIST_COLUMNS`], for the platforms' the lines
/// (sorted where the layout carries no time, so no order).
fn list_of(format: &str, text: &str) -> Vec<String> {
    match format {
        "csv" => {
            let mut r = csv::Reader::from_reader(text.as_bytes());
            let h = r.headers().unwrap().clone();
            let idx: Vec<usize> = LIST_COLUMNS
                .iter()
                .map(|c| h.iter().position(|x| x == *c).unwrap())
                .collect();
            r.records()
                .map(|rec| {
                    let rec = rec.unwrap();
                    idx.iter().map(|&i| &rec[i]).collect::<Vec<_>>().join("|")
                })
                .collect()
        }
        "json" | "jsonl" => {
            let rows: Vec<Value> = if format == "json" {
                serde_json::from_str(text).unwrap()
            } else {
                text.lines()
                    .map(|l| serde_json::from_str(l).unwrap())
                    .collect()
            };
            rows.iter()
                .map(|o| {
                    LIST_COLUMNS
                        .iter()
                        .map(|c| {
                            o.get(*c)
                                .cloned()
                                .unwrap_or(Value::Null)
                                .to_string()
                        })
                        .collect::<Vec<_>>()
                        .join("|")
                })
                .collect()
        }
        _ => {
            let mut lines: Vec<String> =
                text.lines().map(str::to_string).collect();
            if matches!(format, "ses" | "postmark" | "sparkpost") {
                lines.sort();
            }
            lines
        }
    }
}

#[test]
fn import_round_trips_every_format() {
    let a = varied();
    for format in [
        "csv",
        "json",
        "jsonl",
        "ses",
        "mailgun",
        "sendgrid",
        "postmark",
        "sparkpost",
    ] {
        let first = a.export(format);
        // Every kind is in the list (SES and Postmark say less of it).
        assert!(first.contains("gone@example.org"), "{format}: {first}");
        assert!(
            first.contains("k@blocked.example")
                || !matches!(
                    format,
                    "ses" | "mailgun" | "sendgrid" | "postmark" | "sparkpost"
                ),
            "{format}: {first}"
        );
        let b = Env::empty();
        let f = b.file(&format!("list.{format}"), &first);
        let o = b.run(
            "import-suppressions",
            &["--format", format, f.to_str().unwrap()],
        );
        assert!(
            o.status.success(),
            "{format}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let second = b.export(format);
        assert_eq!(
            list_of(format, &first),
            list_of(format, &second),
            "{format}:\n{first}\n{second}"
        );
        // And the imported list is a fixed point, byte for byte.
        let c = Env::empty();
        let f = c.file(&format!("list.{format}"), &second);
        c.ok(
            "import-suppressions",
            &["--format", format, f.to_str().unwrap()],
        );
        let third = c.export(format);
        if matches!(format, "ses" | "postmark" | "sparkpost") {
            assert_eq!(
                list_of(format, &second),
                list_of(format, &third),
                "{format}"
            );
        } else {
            assert_eq!(second, third, "{format}");
        }
        // Importing again records nothing more.
        let o = c.run(
            "import-suppressions",
            &["--format", format, f.to_str().unwrap()],
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(" 0 suppressed"), "{format}: {err}");
    }
    // The own layout brings back the domain entry and the reasons.
    let b = Env::empty();
    let f = b.file("list.csv", &a.export("csv"));
    b.ok("import-suppressions", &["--format", "csv", f.to_str().unwrap()]);
    assert_eq!(
        b.status("new@blocked.example")["domain_entry"],
        "blocked.example"
    );
    let s = b.status("later@example.com");
    assert_eq!(s["suppression_reason"], "soft_escalated");
    assert_eq!(s["suppressed_until"], "2999-01-01T00:00:00Z");
    assert_eq!(
        b.status("hand@example.org")["history"][0]["note"],
        "=cmd|' /C calc'!A0"
    );
}

#[test]
fn platform_exports_are_read_and_bad_rows_named() {
    let e = Env::new();
    let cases: [(&str, &str); 4] = [
        (
            "postmark",
            "EmailAddress,SuppressionReason,Origin,CreatedAt\n\
             p1@example.org,HardBounce,Recipient,2024-01-02T03:04:05Z\n\
             p2@example.org,SpamComplaint,Recipient,2024-01-02T03:04:05Z\n\
             p3@example.org,Nonsense,Customer,2024-01-02T03:04:05Z\n",
        ),
        (
            "sparkpost",
            "recipient,type,source,description\n\
             s1@example.org,non_transactional,List Unsubscribe,clicked\n\
             s2@example.org,transactional,Bounce Rule,550 no such user\n\
             s2@example.org,non_transactional,Bounce Rule,550 no such user\n",
        ),
        (
            "mailgun",
            "address,code,error,created_at\n\
             m1@example.org,550,No such user,\"Tue, 2 Jan 2024 03:04:05 +0000\"\n\
             ,550,no address,\"Tue, 2 Jan 2024 03:04:05 +0000\"\n\
             m2@example.org,550,x,not a date\n",
        ),
        ("ses", "e1@example.org,BOUNCE\ne2@example.org,COMPLAINT\n"),
    ];
    let mut bad = Vec::new();
    for (format, text) in cases {
        let f = e.file(&format!("in.{format}"), text);
        let o = e.run(
            "import-suppressions",
            &["--format", format, f.to_str().unwrap()],
        );
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        bad.push((format, o.status.code(), err));
    }
    assert_eq!(bad[0].1, Some(1), "{}", bad[0].2);
    assert!(
        bad[0].2.contains("in.postmark:4: unknown reason \"Nonsense\""),
        "{}",
        bad[0].2
    );
    assert_eq!(bad[1].1, Some(0), "{}", bad[1].2);
    assert_eq!(bad[2].1, Some(1));
    assert!(bad[2].2.contains("in.mailgun:3: no address"), "{}", bad[2].2);
    assert!(
        bad[2].2.contains("in.mailgun:4: \"not a date\" is not a time"),
        "{}",
        bad[2].2
    );
    assert_eq!(bad[3].1, Some(0), "{}", bad[3].2);
    let reason = |a: &str| {
        e.status(a)["suppression_reason"].as_str().map(str::to_string)
    };
    assert_eq!(reason("p1@example.org").as_deref(), Some("hard_bounce"));
    assert_eq!(reason("p2@example.org").as_deref(), Some("complaint"));
    assert_eq!(e.status("p3@example.org")["state"], Value::Null);
    assert_eq!(reason("s1@example.org").as_deref(), Some("unsubscribed"));
    assert_eq!(reason("s2@example.org").as_deref(), Some("hard_bounce"));
    assert_eq!(reason("m1@example.org").as_deref(), Some("hard_bounce"));
    assert_eq!(
        e.status("m1@example.org")["suppressed_at"],
        "2024-01-02T03:04:05Z"
    );
    assert_eq!(reason("e2@example.org").as_deref(), Some("complaint"));
    let h = &e.status("s2@example.org")["history"];
    assert_eq!(h.as_array().unwrap().len(), 1);
    assert!(
        h[0]["source"].as_str().unwrap().ends_with("in.sparkpost:3"),
        "{h}"
    );
}

/// Whether the ledger file or its WAL holds `needle` (any case).
fn file_holds(db: &std::path::Path, needle: &str) -> bool {
    let needle = needle.to_lowercase().into_bytes();
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    [db.to_path_buf(), PathBuf::from(wal)].iter().any(|p| {
        let bytes = std::fs::read(p).unwrap_or_default().to_ascii_lowercase();
        bytes.windows(needle.len()).any(|w| w == needle.as_slice())
    })
}

#[test]
fn forget_leaves_no_trace_yet_keeps_the_address_refused() {
    let e = Env::new();
    let who = "Bob.Person@example.org";
    let other =
        Dsn::bounce("o1", "other@example.org", t0() + 60).text().replace(
            "User unknown;",
            "User unknown (forwarded for bob.person@example.org);",
        );
    e.ingest(&[
        Dsn::bounce("b1", who, t0()).text(),
        Dsn::soft("b2", "bob.person@example.org", t0() + 30).text(),
        other,
    ]);
    let sends = e.file(
        "sends.csv",
        "message_id,recipient,campaign_id,sent_at\n\
         <m1@example.com>,bob.person@example.org,spring,2024-03-04T08:00:00Z\n\
         <m2@example.com>,other@example.org,spring,2024-03-04T08:00:00Z\n",
    );
    e.ok("import-sends", &[sends.to_str().unwrap()]);
    // The WAL is checkpointed into the file first: the address is there.
    {
        let c = rusqlite::Connection::open(&e.db).unwrap();
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
    }
    assert!(file_holds(&e.db, "bob.person@example.org"));
    // A note naming the address is refused (the audit event keeps it).
    let o = e.run("forget", &[who, "--note", "erase bob.person@example.org"]);
    assert_eq!(o.status.code(), Some(2));
    let o = e.run("forget", &[who, "--note", "GDPR request 2024-117"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("1 addresses forgotten: 2 events"), "{err}");
    {
        let c = rusqlite::Connection::open(&e.db).unwrap();
        c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
    }
    assert!(!file_holds(&e.db, "bob.person@example.org"));
    // The other address keeps its event, the mention redacted.
    let o = e.status("other@example.org");
    let diag = o["history"][0]["diagnostic"].as_str().unwrap();
    assert!(diag.contains("forwarded for [forgotten]"), "{diag}");
    // Still refused, by status, scrub and the check, even once it is back.
    let s = e.status(who);
    assert_eq!(
        (s["mailable"].as_bool(), s["forgotten"].as_bool()),
        (Some(false), Some(true))
    );
    assert_eq!(s["suppression_reason"], "hard_bounce");
    let rejects = scrub(&e, &["bob.person@example.org"]);
    assert_eq!(rejects[0].1, "suppressed");
    e.ingest(&[Dsn::soft("b3", who, t0() + 90).text()]);
    assert_eq!(e.status(who)["mailable"], false);
    // The audit event names no address.
    let c = rusqlite::Connection::open(&e.db).unwrap();
    let (note, address): (String, Option<i64>) = c
        .query_row(
            "SELECT note, address_id FROM events WHERE kind = 'forget'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((note.as_str(), address), ("GDPR request 2024-117", None));
}

/// Every address's state and counters, by address.
fn states(db: &std::path::Path) -> Vec<Vec<rusqlite::types::Value>> {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut st = c
        .prepare(
            "SELECT address, state, suppression_reason, suppressed_at,
               suppressed_by, soft_streak, streak_start, hard_count,
               soft_count, alert_count, delay_count, complaint_count,
               unsubscribe_count, auto_reply_count, delivered_count,
               first_event, last_event, suppressed_until
             FROM addresses ORDER BY address",
        )
        .unwrap();
    st.query_map([], |r| (0..18).map(|i| r.get(i)).collect())
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn count(db: &std::path::Path, sql: &str) -> i64 {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn purge_keeps_states_and_counters_through_later_recomputes() {
    const D: i64 = 86_400;
    let old = parse_rfc3339("2020-01-06T00:00:00Z").unwrap();
    let recent = rebound::time::now() - 60 * D;
    let mails = |e: &Env| {
        e.ingest(&[
            Dsn::bounce("a1", "hard@example.org", old).text(),
            Dsn::soft("b1", "soft@example.org", old).text(),
            Dsn::soft("b2", "soft@example.org", old + D).text(),
            Dsn::soft("b3", "soft@example.org", old + 3 * D).text(),
            complaint("c1", "mixed@example.org", old + 5 * D),
            Dsn::soft("d1", "mixed@example.org", recent).text(),
            Dsn::soft("b4", "soft@example.org", recent).text(),
            Dsn::soft("e1", "new@example.org", recent + D).text(),
        ]);
        // Recorded after the recent ones, yet older than the cut: a
        // chain to relink around it.
        e.ingest(&[Dsn::soft("b0", "soft@example.org", old - D).text()]);
    };
    let (e, twin) = (Env::new(), Env::empty());
    mails(&e);
    mails(&twin);
    let before = states(&e.db);
    let events = count(&e.db, "SELECT count(*) FROM events");
    let o = e.run("purge", &["--older-than", "2y"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("6 events before"), "{err}");
    assert_eq!(states(&e.db), before);
    assert_eq!(count(&e.db, "SELECT count(*) FROM events"), events - 6);
    assert_eq!(count(&e.db, "PRAGMA freelist_count"), 0);
    // What is left of a history is still a chain: status shows it.
    let s = e.status("soft@example.org");
    assert_eq!(s["history"].as_array().unwrap().len(), 1);
    assert_eq!(s["counts"]["soft"], 5);
    // A late report recomputes from what the purge folded: the same
    // states as the ledger that kept everything.
    for l in [&e, &twin] {
        l.ingest(&[
            Dsn::soft("late1", "soft@example.org", recent - D).text(),
            Dsn::soft("late2", "mixed@example.org", recent - D).text(),
        ]);
    }
    // Event ids differ between two ledgers (files are ingested in
    // parallel): the suppressing event is compared by its time alone.
    let no_ids = |mut v: Vec<Vec<rusqlite::types::Value>>| {
        v.iter_mut().for_each(|r| r[4] = rusqlite::types::Value::Null);
        v
    };
    assert_eq!(no_ids(states(&e.db)), no_ids(states(&twin.db)));
    assert_eq!(e.status("hard@example.org")["state"], "suppressed");
    // Nothing older than the cut: nothing to do.
    let o = e.run("purge", &["--older-than", "2y"]);
    assert!(String::from_utf8_lossy(&o.stderr).contains(" 0 events before"));
    assert_eq!(e.run("purge", &["--older-than", "2"]).status.code(), Some(2));
}
