//! Operator tools through the real binary: `explain` on pasted responses
//! and whole messages, `scrub` on real CSV files with a real ledger and a
//! DNS server on loopback (a minimal UDP responder written here).

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

use crate::ledger::Dsn;
use crate::util::{rebound, root};

fn explain(args: &[&str]) -> Output {
    rebound().arg("explain").args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).unwrap()
}

#[test]
fn explain_auth_failure_gives_dns_checks() {
    let text = "550 5.7.26 Unauthenticated email from example.com is not \
                accepted due to domain's DMARC policy";
    let out = stdout(&explain(&[text]));
    for want in [
        "class:      50 Mail Block",
        "reason:     auth_failure",
        "action:     alert",
        "SPF TXT record",
        "_domainkey",
        "_dmarc",
        "alignment",
    ] {
        assert!(out.contains(want), "{want:?} missing in:\n{out}");
    }
    let j: Value =
        serde_json::from_str(&stdout(&explain(&[text, "--json"]))).unwrap();
    assert_eq!(j["status"], "5.7.26");
    assert_eq!(j["reply_code"], "550");
    assert_eq!(j["class"], 50);
    assert_eq!(j["category"], "hard");
    assert!(j["rule"].as_str().is_some_and(|r| !r.is_empty()));
    assert!(j["next_steps"].as_array().is_some_and(|s| s.len() >= 2));
}

#[test]
fn explain_matches_the_classifier_for_each_kind() {
    let cases = [
        (
            "550 5.1.1 <a@example.org>: Recipient address rejected: User unknown",
            "user_unknown",
            "suppress",
            None,
        ),
        (
            "452 4.2.2 The email account that you tried to reach is over quota",
            "mailbox_full",
            "retry",
            Some(86400),
        ),
        (
            "421 4.7.0 Try again later, closing connection: rate limited",
            "rate_limited",
            "retry",
            Some(14400),
        ),
    ];
    for (text, reason, action, retry) in cases {
        let j: Value =
            serde_json::from_str(&stdout(&explain(&[text, "--json"])))
                .unwrap();
        assert_eq!(j["reason"], reason, "{text}");
        assert_eq!(j["action"], action, "{text}");
        assert_eq!(j["retry_after_secs"].as_u64(), retry, "{text}");
    }
}

#[test]
fn explain_reads_stdin_and_whole_messages() {
    use std::io::Write;
    let mut child = rebound()
        .args(["explain", "--json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"554 5.7.1 Client host [192.0.2.1] blocked using zen.spamhaus.org\n")
        .unwrap();
    let o = child.wait_with_output().unwrap();
    let j: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(j["reason"], "blocklisted");
    assert!(j["next_steps"].to_string().contains("Spamhaus"));

    // The same message as `parse` sees it, by path and with --file.
    let eml = root().join("samples/rfc3464/07-inline-dsn-and-inline-copy.eml");
    let eml = eml.to_str().unwrap();
    let parsed: Value = serde_json::from_str(
        stdout(&rebound().args(["parse", eml]).output().unwrap())
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    for args in [vec![eml, "--json"], vec!["--file", eml, "--json"]] {
        let j: Value = serde_json::from_str(&stdout(&explain(&args))).unwrap();
        for k in ["recipient", "reason", "class", "rule", "action"] {
            assert_eq!(j[k], parsed[k], "{k}");
        }
    }
    let text = stdout(&explain(&[eml]));
    assert!(text.contains("recipient:  ivan@example.org"), "{text}");
    assert!(text.contains("root cause:"), "{text}");

    // Not a bounce: exit 1 with a message.
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("hello.eml");
    std::fs::write(
        &plain,
        "From: a@example.com\nTo: b@example.org\nSubject: hi\n\nhello\n",
    )
    .unwrap();
    let o = explain(&["--file", plain.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
}

/// Runs `rebound explain ARGS` with `stdin` as its input.
fn explain_stdin(args: &[&str], stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut child = rebound()
        .arg("explain")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

/// Asserts exit 2, nothing on stdout and `words` on stderr.
fn refused(o: &Output, words: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(o.stdout.is_empty(), "{}", String::from_utf8_lossy(&o.stdout));
    assert!(err.contains(words), "{words:?} not in: {err}");
}

#[test]
fn explain_refuses_what_is_not_a_reply_or_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("bounce.eml");
    let missing = missing.to_str().unwrap();
    refused(&explain(&[missing]), &format!("{missing}: no such file"));
    refused(&explain(&["bounce.eml"]), "bounce.eml: no such file");
    let d = dir.path().to_str().unwrap();
    refused(&explain(&[d]), "is a directory");
    refused(&explain(&["--file", d]), "is a directory");
    refused(&explain(&[""]), "the input is empty");
    refused(&explain_stdin(&[], b" \n\n"), "the input is empty");
    let empty = dir.path().join("empty.eml");
    std::fs::write(&empty, "").unwrap();
    refused(&explain(&[empty.to_str().unwrap()]), "the input is empty");
    // A reply is still read as one, with or without spaces.
    let j: Value =
        serde_json::from_str(&stdout(&explain(&["5.1.1", "--json"]))).unwrap();
    assert_eq!(j["reason"], "user_unknown");
}

#[test]
fn explain_without_input_on_a_terminal_prints_the_usage() {
    // `script` runs the command on a pseudo-terminal (util-linux).
    let cmd = format!("{} explain", env!("CARGO_BIN_EXE_rebound"));
    let o = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("script (util-linux) runs");
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(2), "{out}");
    assert!(out.contains("nothing to explain"), "{out}");
    assert!(out.contains("Usage: rebound explain"), "{out}");
}

#[test]
fn explain_of_an_unknown_reply_names_the_issue_tracker() {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    let repo = manifest
        .lines()
        .find_map(|l| l.strip_prefix("repository = "))
        .expect("Cargo.toml names the repository")
        .trim_matches('"');
    assert!(repo.starts_with("https://"), "{repo}");
    let o = explain(&["the frobnicator declined politely"]);
    let out = stdout(&o);
    assert!(out.contains("reason:     undetermined"), "{out}");
    assert!(out.contains(&format!("{repo}/issues")), "{out}");
}

/// A DNS responder on loopback for a few test domains (RFC 1035 wire
/// format, answers only what the tests ask).
fn dns_server() -> SocketAddr {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        while let Ok((n, peer)) = sock.recv_from(&mut buf) {
            if let Some(reply) = answer(&buf[..n]) {
                let _ = sock.send_to(&reply, peer);
            }
        }
    });
    addr
}

fn encode_name(name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for l in name.split('.').filter(|l| !l.is_empty()) {
        out.push(l.len() as u8);
        out.extend_from_slice(l.as_bytes());
    }
    out.push(0);
    out
}

fn answer(q: &[u8]) -> Option<Vec<u8>> {
    const MX: u16 = 15;
    const A: u16 = 1;
    let mut i = 12;
    let mut labels = Vec::new();
    while *q.get(i)? != 0 {
        let len = q[i] as usize;
        labels.push(
            String::from_utf8_lossy(q.get(i + 1..i + 1 + len)?).to_lowercase(),
        );
        i += 1 + len;
    }
    let qend = i + 5;
    let qtype = u16::from_be_bytes([*q.get(i + 1)?, *q.get(i + 2)?]);
    let name = labels.join(".");
    // (rdata per answer, exists)
    let (answers, exists): (Vec<(u16, Vec<u8>)>, bool) = match name.as_str() {
        "good.example" => match qtype {
            MX => (
                vec![(
                    MX,
                    [&[0, 10][..], &encode_name("mx.good.example")].concat(),
                )],
                true,
            ),
            _ => (vec![], true),
        },
        "nullmx.example" => match qtype {
            MX => (vec![(MX, vec![0, 0, 0])], true),
            _ => (vec![], true),
        },
        "aonly.example" => match qtype {
            A => (vec![(A, vec![192, 0, 2, 25])], true),
            _ => (vec![], true),
        },
        "nohost.example" => (vec![], true),
        _ => (vec![], false),
    };
    let rcode: u16 = if exists { 0 } else { 3 };
    let flags = 0x8000
        | 0x0400
        | (u16::from_be_bytes([q[2], q[3]]) & 0x0100)
        | 0x0080
        | rcode;
    let mut r = Vec::new();
    r.extend_from_slice(&q[..2]);
    r.extend_from_slice(&flags.to_be_bytes());
    r.extend_from_slice(&1u16.to_be_bytes());
    r.extend_from_slice(&(answers.len() as u16).to_be_bytes());
    r.extend_from_slice(&[0, 0, 0, 0]);
    r.extend_from_slice(q.get(12..qend)?);
    for (ty, rdata) in answers {
        r.extend_from_slice(&[0xc0, 12]);
        r.extend_from_slice(&ty.to_be_bytes());
        r.extend_from_slice(&1u16.to_be_bytes());
        r.extend_from_slice(&300u32.to_be_bytes());
        r.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        r.extend_from_slice(&rdata);
    }
    Some(r)
}

fn read_csv(p: &Path) -> Vec<Vec<String>> {
    let mut r =
        csv::ReaderBuilder::new().has_headers(false).from_path(p).unwrap();
    r.records()
        .map(|x| x.unwrap().iter().map(str::to_string).collect())
        .collect()
}

/// A ledger in which `gone@example.org` is suppressed by a hard bounce.
fn ledger(dir: &Path) -> PathBuf {
    let db = dir.join("ledger.db");
    let eml = dir.join("bounce.eml");
    std::fs::write(
        &eml,
        Dsn::bounce("b1", "Gone@Example.org", 1_700_000_000).text(),
    )
    .unwrap();
    let o = rebound()
        .args(["ingest", "--db", db.to_str().unwrap(), eml.to_str().unwrap()])
        .env_remove("REBOUND_DB")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    db
}

const LIST: &str = "name,Email,city\n\
    Ann,ann@example.com,Paris\n\
    Bob,\"bob@gmai.com\",\"Oslo, NO\"\n\
    Cat,not-an-address,Rome\n\
    Dan,info@example.com,Lima\n\
    Ann again,ANN@Example.COM,Paris\n\
    Eve,gone@example.org,Kyiv\n\
    Fay,fay@yahooo.com,Baku\n\
    Gus,gus@bücher.example,Graz\n\
    Hal,hal@hotmial.com,Nice\n";

#[test]
fn scrub_writes_clean_and_rejected_rows_with_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let db = ledger(dir.path());
    let list = dir.path().join("list.csv");
    std::fs::write(&list, LIST).unwrap();
    let o = rebound()
        .args(["scrub", list.to_str().unwrap(), "--db", db.to_str().unwrap()])
        .env_remove("REBOUND_DB")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("9 rows: 2 clean"), "{err}");
    let clean = read_csv(&dir.path().join("list.clean.csv"));
    assert_eq!(
        clean,
        [
            vec!["name", "Email", "city"],
            vec!["Ann", "ann@example.com", "Paris"],
            vec!["Gus", "gus@bücher.example", "Graz"],
        ]
    );
    let rejects = read_csv(&dir.path().join("list.rejects.csv"));
    let got: Vec<(&str, &str, &str)> = rejects
        .iter()
        .map(|r| (r[1].as_str(), r[3].as_str(), r[4].as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("Email", "reject_reason", "reject_detail"),
            ("bob@gmai.com", "typo_domain", "did you mean bob@gmail.com?"),
            ("not-an-address", "invalid_syntax", "no @"),
            ("info@example.com", "role_account", "role account info@"),
            ("ANN@Example.COM", "duplicate", "already listed above"),
            ("gone@example.org", "suppressed", "hard_bounce"),
            ("fay@yahooo.com", "typo_domain", "did you mean fay@yahoo.com?"),
            (
                "hal@hotmial.com",
                "typo_domain",
                "did you mean hal@hotmail.com?"
            ),
        ]
    );
    // Quoted fields survive unchanged.
    assert_eq!(rejects[1][2], "Oslo, NO");
}

#[test]
fn scrub_options_roles_output_paths_and_missing_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("list.csv");
    std::fs::write(
        &list,
        "addr\ninfo@example.com\nsales@example.com\nkim@example.com\n",
    )
    .unwrap();
    let (out, rej) = (dir.path().join("ok.csv"), dir.path().join("no.csv"));
    let o = rebound()
        .args(["scrub", list.to_str().unwrap(), "--column", "ADDR"])
        .args(["--role-accounts", "sales", "--out", out.to_str().unwrap()])
        .args(["--rejects", rej.to_str().unwrap()])
        .args(["--db", dir.path().join("none.db").to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("no ledger at"), "{err}");
    assert!(!dir.path().join("none.db").exists());
    assert_eq!(read_csv(&out).len(), 3);
    assert_eq!(read_csv(&rej)[1][0], "sales@example.com");

    let o = rebound()
        .args(["scrub", list.to_str().unwrap(), "--column", "mail"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no column"));
}

#[test]
fn scrub_check_mx_asks_the_given_dns_server() {
    let server = dns_server();
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("mx.csv");
    std::fs::write(
        &list,
        "email\na@good.example\nb@nullmx.example\nc@aonly.example\n\
         d@nohost.example\ne@missing.example\nf@good.example\n",
    )
    .unwrap();
    let o = rebound()
        .args(["scrub", list.to_str().unwrap(), "--check-mx"])
        .args(["--dns-server", &server.to_string(), "--dns-timeout", "2"])
        .args(["--db", dir.path().join("none.db").to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    let clean: Vec<String> = read_csv(&dir.path().join("mx.clean.csv"))
        .into_iter()
        .map(|r| r[0].clone())
        .collect();
    assert_eq!(
        clean,
        ["email", "a@good.example", "c@aonly.example", "f@good.example"]
    );
    let rejects: Vec<(String, String)> =
        read_csv(&dir.path().join("mx.rejects.csv"))
            .into_iter()
            .skip(1)
            .map(|r| (r[0].clone(), r[2].clone()))
            .collect();
    assert_eq!(
        rejects,
        [
            (
                "b@nullmx.example".into(),
                "null MX (RFC 7505): accepts no mail".into()
            ),
            ("d@nohost.example".into(), "no MX, A or AAAA record".into()),
            (
                "e@missing.example".into(),
                "domain does not exist (NXDOMAIN)".into()
            ),
        ]
    );
}

#[test]
fn scrub_check_mx_is_bounded_when_the_server_is_silent() {
    // A socket that never answers: every lookup times out, rows are kept.
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let list = dir.path().join("l.csv");
    std::fs::write(&list, "email\na@slow.example\nb@slow.example\n").unwrap();
    let start = std::time::Instant::now();
    let o = rebound()
        .args(["scrub", list.to_str().unwrap(), "--check-mx"])
        .args(["--dns-server", &silent.local_addr().unwrap().to_string()])
        .args(["--dns-timeout", "1"])
        .args(["--db", dir.path().join("none.db").to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
    assert!(err.contains("1 domains could not be resolved"), "{err}");
    assert_eq!(read_csv(&dir.path().join("l.clean.csv")).len(), 3);
}

/// Runs `rebound ARGS` with `--db DB` (but for `explain`, which reads no
/// ledger): exit code, stdout, stderr.
fn run_db(db: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut cmd = rebound();
    cmd.args(args).env_remove("REBOUND_DB");
    if args[0] != "explain" {
        cmd.arg("--db").arg(db);
    }
    let o = cmd.output().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

#[test]
fn every_command_spells_output_and_format_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let db = ledger(dir.path());
    let file = |name: &str| dir.path().join(name);
    let read = |p: &Path| std::fs::read_to_string(p).unwrap();
    let reply = "550 5.1.1 user unknown";
    // --format json, its alias --json, and -o/--output FILE.
    for args in [
        vec!["stats"],
        vec!["status", "gone@example.org"],
        vec!["explain", reply],
    ] {
        let with = |extra: &[&str]| {
            let mut v = args.clone();
            v.extend_from_slice(extra);
            run_db(&db, &v)
        };
        let (code, json, err) = with(&["--format", "json"]);
        assert_eq!(code, Some(0), "{args:?}: {err}");
        serde_json::from_str::<Value>(&json).unwrap();
        assert_eq!(with(&["--json"]).1, json, "{args:?}: --json");
        let out = file("doc.json");
        let o = out.to_str().unwrap();
        let (code, stdout, _) = with(&["--format", "json", "-o", o]);
        assert_eq!((code, stdout.as_str()), (Some(0), ""), "{args:?}");
        assert_eq!(read(&out), json, "{args:?}: -o");
        let (_, text, _) = with(&["--format", "text"]);
        let (_, stdout, _) = with(&["--output", o]);
        assert_eq!((stdout.as_str(), read(&out)), ("", text), "{args:?}");
        let (code, _, err) = with(&["--json", "--format", "text"]);
        assert_eq!(code, Some(2), "{args:?}: {err}");
    }
    // export, report and scrub: -o/--output and --format too.
    let out = file("x.csv");
    let (code, _, err) = run_db(
        &db,
        &["export", "--format", "csv", "-o", out.to_str().unwrap()],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(read(&out).contains("gone@example.org"));
    let page = file("r.html");
    let (code, _, err) = run_db(
        &db,
        &["report", "--format", "html", "--output", page.to_str().unwrap()],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(read(&page).starts_with("<!DOCTYPE html>"));
    assert!(!err.contains("deprecated"), "{err}");
    let list = file("list.csv");
    std::fs::write(&list, "email\nann@example.com\ngone@example.org\n")
        .unwrap();
    let clean = file("clean.csv");
    let (code, _, err) = run_db(
        &db,
        &[
            "scrub",
            list.to_str().unwrap(),
            "--format",
            "csv",
            "-o",
            clean.to_str().unwrap(),
        ],
    );
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(read(&clean), "email\nann@example.com\n");
    // The old spellings still work, with a note.
    let old = file("old.html");
    let (code, _, err) =
        run_db(&db, &["report", "--html", old.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("--html FILE is deprecated; use -o/--output"),
        "{err}"
    );
    assert_eq!(read(&old), read(&page));
    let old = file("old.csv");
    let (code, _, err) = run_db(
        &db,
        &["scrub", list.to_str().unwrap(), "--out", old.to_str().unwrap()],
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("--out FILE is deprecated; use -o/--output"),
        "{err}"
    );
    assert_eq!(read(&old), read(&clean));
}
