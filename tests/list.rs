//! Running the suppression list by hand through the real binary on real
//! SQLite files: manual and domain entries (`suppress`, `unsuppress`),
//! imported lists (`import-suppressions`), erasure (`forget`) and
//! `purge`.

use std::path::PathBuf;
use std::process::Output;

use rebound::time::parse_rfc3339;
use serde_json::Value;

use crate::ledger::Dsn;
use crate::util::rebound;

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
        rebound()
            .arg(cmd)
            .arg("--db")
            .arg(&self.db)
            .args(args)
            .env_remove("REBOUND_DB")
            .output()
            .unwrap()
    }

    /// Like [`Env::run`], asserting success; returns stdout.
    fn ok(&self, cmd: &str, args: &[&str]) -> String {
        let o = self.run(cmd, args);
        assert!(
            o.status.success(),
            "rebound {cmd} {args:?} failed: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
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
