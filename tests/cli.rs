//! `rebound parse` end to end: output formats, exit codes, inputs (stdin,
//! directories, Maildir, mbox with LF and CRLF line ends), `--explain` and
//! the summary line on stderr. Runs the real binary on authored samples.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use serde_json::Value;

use crate::util::{rebound, root};

fn sample(rel: &str) -> PathBuf {
    root().join("samples").join(rel)
}

const DSN: &str = "rfc3464/01-multipart-report-three-recipients.eml";
const ARF: &str = "arf/01-abuse-original-rcpt-to.eml";
const VACATION: &str = "rfc3834/01-auto-submitted-english.eml";
const NEWSLETTER: &str = "not-bounce/01-newsletter.eml";

fn parse(args: &[&str], paths: &[&Path]) -> Output {
    rebound()
        .arg("parse")
        .args(args)
        .args(paths)
        .stdin(Stdio::null())
        .output()
        .expect("rebound runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn records(o: &Output) -> Vec<Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect()
}

fn field<'a>(records: &'a [Value], name: &str) -> Vec<&'a str> {
    records.iter().map(|r| r[name].as_str().unwrap_or("")).collect()
}

/// The raw bytes of a sample with its line ends turned into LF.
fn lf(rel: &str) -> Vec<u8> {
    std::fs::read(sample(rel))
        .unwrap()
        .into_iter()
        .filter(|&b| b != b'\r')
        .collect()
}

fn mbox_of(messages: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        writeln!(out, "From MAILER-DAEMON  Tue Mar  5 10:15:0{i} 2024")
            .unwrap();
        out.extend_from_slice(m);
        if !m.ends_with(b"\n") {
            out.push(b'\n');
        }
        out.push(b'\n');
    }
    out
}

#[test]
fn jsonl_is_the_default_with_one_record_per_recipient() {
    let o = parse(&[], &[&sample(DSN)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = records(&o);
    assert_eq!(
        field(&r, "recipient"),
        ["ann@example.org", "bob@example.org", "carol@example.net"]
    );
    assert_eq!(field(&r, "type"), ["bounce", "bounce", "delay"]);
    assert_eq!(field(&r, "action"), ["suppress", "retry", "ignore"]);
    assert_eq!(field(&r, "campaign_id"), ["spring-2024"; 3]);
    assert_eq!(
        field(&r, "original_message_id"),
        ["spring-2024.1001@example.com"; 3]
    );
    assert_eq!(field(&r, "reporting_mta"), ["mx1.example.net"; 3]);
    assert_eq!(r[0]["original_recipient"], "Ann@Example.org");
    assert_eq!(r[0]["class"], 10);
    assert_eq!(r[0]["event_time"], "2024-03-05T10:15:00Z");
    assert_eq!(r[2]["will_retry_until"], "2024-03-09T10:14:58Z");
    assert!(r[0].get("explain").is_none());
    assert!(r[0]["file"].as_str().unwrap().ends_with(DSN));
}

#[test]
fn csv_has_a_header_and_one_row_per_record() {
    let o = parse(&["--format", "csv"], &[&sample(DSN), &sample(ARF)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut rdr = csv::Reader::from_reader(o.stdout.as_slice());
    let head = rdr.headers().unwrap().clone();
    let col = |n: &str| head.iter().position(|h| h == n).unwrap();
    let rows: Vec<csv::StringRecord> =
        rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 4);
    assert_eq!(&rows[3][col("recipient")], "mallory@example.net");
    assert_eq!(&rows[3][col("type")], "complaint");
    assert_eq!(&rows[3][col("feedback_type")], "abuse");
    assert_eq!(&rows[2][col("will_retry_until")], "2024-03-09T10:14:58Z");
    assert_eq!(&rows[0][col("class")], "10");
    assert_eq!(&rows[0][col("class_name")], "Invalid Recipient");
}

#[test]
fn table_is_aligned_for_people() {
    let o = parse(&["--format", "table"], &[&sample(DSN)]);
    assert_eq!(o.status.code(), Some(0));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 4, "{out}");
    assert!(lines[0].starts_with("RECIPIENT"), "{out}");
    let col = lines[0].find("TYPE").unwrap();
    for l in &lines[1..] {
        assert_eq!(&l[col - 2..col], "  ", "{out}");
        assert!(
            l[col..].starts_with("bounce") || l[col..].starts_with("delay")
        );
    }
}

#[test]
fn ordinary_mail_gives_no_record_and_is_counted() {
    let o = parse(&[], &[&sample(NEWSLETTER), &sample(VACATION)]);
    assert_eq!(o.status.code(), Some(0));
    let r = records(&o);
    assert_eq!(field(&r, "type"), ["auto_reply"]);
    assert!(
        stderr(&o).contains(
            "rebound: 2 messages: 1 reports (1 records), 1 not bounces, 0 unparseable, 0 unreadable inputs"
        ),
        "{}",
        stderr(&o)
    );
}

#[test]
fn unparseable_input_exits_1_names_it_and_keeps_the_rest() {
    let bad = sample("edge/05-not-mail.eml");
    let o = parse(&[], &[&sample(ARF), &bad, &sample(VACATION)]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        field(&records(&o), "recipient"),
        ["mallory@example.net", "rupert@example.org"]
    );
    let err = stderr(&o);
    assert!(
        err.contains(&format!("{}: cannot parse", bad.display())),
        "{err}"
    );
    assert!(
        err.contains(
            "3 messages: 2 reports (2 records), 0 not bounces, 1 unparseable"
        ),
        "{err}"
    );
}

#[test]
fn usage_and_io_errors_exit_2() {
    let o = rebound().arg("parse").output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let o = parse(&["--format", "xml"], &[&sample(ARF)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty());
    let missing = root().join("samples/no-such-file.eml");
    let o = parse(&[], &[&missing]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no-such-file.eml"), "{}", stderr(&o));
    // An unreadable input is an I/O error even when others were read;
    // what could be read is still output.
    let o = parse(&[], &[&sample(ARF), &missing]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(field(&records(&o), "recipient"), ["mallory@example.net"]);
    let o = parse(&["--verp-pattern", "(unclosed"], &[&sample(ARF)]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn stdin_is_read_with_a_dash() {
    let mut child = rebound()
        .args(["parse", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&lf(ARF)).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = records(&o);
    assert_eq!(field(&r, "file"), ["-"]);
    assert_eq!(field(&r, "feedback_type"), ["abuse"]);
}

#[test]
fn a_directory_is_read_recursively_in_order() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("b.eml"), lf(VACATION)).unwrap();
    std::fs::write(dir.path().join("a.eml"), lf(ARF)).unwrap();
    std::fs::write(dir.path().join("sub/c.eml"), lf(NEWSLETTER)).unwrap();
    std::fs::write(dir.path().join(".hidden.eml"), lf(DSN)).unwrap();
    let o = parse(&[], &[dir.path()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        field(&records(&o), "recipient"),
        ["mallory@example.net", "rupert@example.org"]
    );
    assert!(stderr(&o).contains("3 messages"), "{}", stderr(&o));
}

#[test]
fn a_maildir_reads_cur_and_new_and_skips_tmp() {
    let dir = tempfile::tempdir().unwrap();
    for d in ["cur", "new", "tmp"] {
        std::fs::create_dir(dir.path().join(d)).unwrap();
    }
    std::fs::write(dir.path().join("cur/1710000000.M1P1.host:2,S"), lf(ARF))
        .unwrap();
    std::fs::write(dir.path().join("new/1710000001.M2P1.host"), lf(VACATION))
        .unwrap();
    // A half-written delivery: must not be read.
    std::fs::write(dir.path().join("tmp/1710000002.M3P1.host"), lf(DSN))
        .unwrap();
    let o = parse(&[], &[dir.path()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(
        field(&records(&o), "recipient"),
        ["mallory@example.net", "rupert@example.org"]
    );
}

/// An mbox of a DSN, an auto-reply whose body has a `>From ` quoted line
/// and a bare `From ` line that is not a separator, and an ARF report.
fn quoted_mbox() -> Vec<u8> {
    let mut reply = lf(VACATION);
    reply.extend_from_slice(
        b"\n>From the desk of Rupert: see you soon.\nFrom here on, prose.\n",
    );
    mbox_of(&[&lf(DSN), &reply, &lf(ARF)])
}

#[test]
fn an_mbox_is_split_on_separator_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bounces.mbox");
    std::fs::write(&path, quoted_mbox()).unwrap();
    let o = parse(&[], &[&path]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = records(&o);
    assert_eq!(
        field(&r, "recipient"),
        [
            "ann@example.org",
            "bob@example.org",
            "carol@example.net",
            "rupert@example.org",
            "mallory@example.net"
        ]
    );
    // Every record names the mbox itself; the report's Message-ID tells
    // the messages apart.
    assert!(field(&r, "file").iter().all(|f| *f == path.to_str().unwrap()));
    assert_eq!(r[3]["message_id"], "ooo-1@example.org");
    // The `>From ` line was unquoted and the `From ` line kept as text.
    assert!(
        r[3]["diagnostic"]
            .as_str()
            .unwrap()
            .contains("From the desk of Rupert: see you soon. From here on"),
        "{}",
        r[3]["diagnostic"]
    );
    assert!(stderr(&o).contains("3 messages: 3 reports (5 records)"));
}

#[test]
fn a_crlf_mbox_gives_the_same_records() {
    let dir = tempfile::tempdir().unwrap();
    let lf_path = dir.path().join("lf.mbox");
    let crlf_path = dir.path().join("crlf.mbox");
    let mbox = quoted_mbox();
    std::fs::write(&lf_path, &mbox).unwrap();
    let crlf = String::from_utf8(mbox).unwrap().replace('\n', "\r\n");
    std::fs::write(&crlf_path, crlf).unwrap();
    let strip = |o: &Output| {
        records(o)
            .into_iter()
            .map(|mut r| {
                r.as_object_mut().unwrap().remove("file");
                r
            })
            .collect::<Vec<_>>()
    };
    let a = parse(&[], &[&lf_path]);
    let b = parse(&[], &[&crlf_path]);
    assert_eq!(b.status.code(), Some(0), "{}", stderr(&b));
    assert_eq!(strip(&a).len(), 5);
    assert_eq!(strip(&a), strip(&b));
}

#[test]
fn a_bad_message_inside_an_mbox_is_named_by_its_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mixed.mbox");
    let mbox = mbox_of(&[&lf(ARF), b"no header here\njust text\n"]);
    std::fs::write(&path, mbox).unwrap();
    let o = parse(&[], &[&path]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(field(&records(&o), "recipient"), ["mallory@example.net"]);
    let err = stderr(&o);
    assert!(
        err.contains(&format!("{}#2: cannot parse", path.display())),
        "{err}"
    );
    // Recording the mbox names the bad message the same way.
    let db = dir.path().join("ledger.db");
    let o = rebound()
        .args(["ingest", "--db"])
        .arg(&db)
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains(&format!("{}#2: cannot parse", path.display())),
        "{err}"
    );
    assert!(err.contains("1 new events"), "{err}");
}

#[test]
fn explain_says_which_rule_decided() {
    let o = parse(&["--explain"], &[&sample(DSN), &sample(NEWSLETTER)]);
    assert_eq!(o.status.code(), Some(0));
    let r = records(&o);
    let e = r[0]["explain"].as_str().unwrap();
    assert!(e.starts_with("rule text:user_unknown gave reason user_unknown (class 10, hard, action suppress)"), "{e}");
    assert!(e.contains("status=5.1.1 reply=550"), "{e}");
    assert!(
        stderr(&o).contains(&format!(
            "{}: not a bounce",
            sample(NEWSLETTER).display()
        )),
        "{}",
        stderr(&o)
    );
}

#[test]
fn explain_adds_a_column_to_csv_and_the_table() {
    let o = parse(&["--explain", "--format", "csv"], &[&sample(DSN)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let mut rdr = csv::Reader::from_reader(o.stdout.as_slice());
    let head = rdr.headers().unwrap().clone();
    assert_eq!(head.iter().next_back(), Some("explain"));
    let rows: Vec<csv::StringRecord> =
        rdr.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 3);
    for r in &rows {
        assert!(r[head.len() - 1].starts_with("rule "), "{r:?}");
    }
    let o = parse(&["--explain", "--format", "table"], &[&sample(DSN)]);
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].ends_with("  EXPLAIN"), "{out}");
    let col = lines[0].find("EXPLAIN").unwrap();
    // Written whole: the table does not cut the explanation.
    let e = records(&parse(&["--explain"], &[&sample(DSN)]))[0]["explain"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(&lines[1][col..], e, "{out}");
}

#[test]
fn a_closed_output_pipe_ends_parse_quietly() {
    use std::io::BufRead;
    // Enough records to fill the pipe: the samples, five times over.
    let samples = root().join("samples");
    for format in ["jsonl", "csv"] {
        let mut child = rebound()
            .args(["parse", "--format", format])
            .args(std::iter::repeat_n(&samples, 5))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut out = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut first = String::new();
        out.read_line(&mut first).unwrap();
        assert!(!first.is_empty(), "{format}");
        drop(out);
        let o = child.wait_with_output().unwrap();
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(0), "{format}: {err}");
        assert!(!err.to_lowercase().contains("broken pipe"), "{err}");
    }
}

#[test]
fn inputs_holding_no_message_are_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let o = parse(&[], &[&empty]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stderr(&o).contains("warning: the inputs hold no message"));
    // `ingest` says so too, and creates no ledger.
    let db = dir.path().join("l.db");
    let o = rebound()
        .args(["ingest", "--db"])
        .arg(&db)
        .arg(&empty)
        .env_remove("REBOUND_DB")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("inputs hold no message") && !db.exists(),
        "{}",
        stderr(&o)
    );
}

/// A `--rules` file of the operator's own phrases (docs/rules.md).
fn rules_file(dir: &Path, text: &str) -> PathBuf {
    let path = dir.join("local.rules");
    std::fs::write(&path, text).unwrap();
    path
}

const LOCAL_RULES: &str = "# Our relay answers every refused recipient so.
[recipient_table] filtered
user unknown in local recipient table  e.g. 550 5.1.1 <a@example.org>: Recipient address rejected: User unknown in local recipient table
";

/// `--rules` adds phrases that decide before the built-in rules, in
/// `parse` and in `explain` (pasted response and whole message).
#[test]
fn local_rules_decide_first() {
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_file(dir.path(), LOCAL_RULES);
    let rules = rules.to_str().unwrap();
    let o = parse(&[], &[&sample(DSN)]);
    assert_eq!(field(&records(&o), "rule")[0], "text:user_unknown");
    let o = parse(&["--rules", rules], &[&sample(DSN)]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r = records(&o);
    assert_eq!(
        field(&r, "rule"),
        ["local:recipient_table", "text:mailbox_full", "text:expired"]
    );
    assert_eq!(field(&r, "reason")[0], "filtered");
    let explain = |args: &[&str]| {
        let o = rebound().arg("explain").args(args).output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        stdout(&o)
    };
    let text = "550 5.1.1 <a@example.org>: Recipient address rejected: \
                User unknown in local recipient table";
    assert!(explain(&[text]).contains("rule:       text:user_unknown"));
    assert!(
        explain(&["--rules", rules, text])
            .contains("rule:       local:recipient_table")
    );
    let message = sample(DSN);
    let out = explain(&["--rules", rules, message.to_str().unwrap()]);
    assert!(out.contains("rule:       local:recipient_table"), "{out}");
}

/// A bad `--rules` file stops every command with exit 2, naming the file,
/// the line and what is wrong.
#[test]
fn a_bad_rules_file_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let rules = rules_file(
        dir.path(),
        "# ours\n[quota] mailbox_full\nquota reached  e.g. 552 quota reached\n\
         [gone] usr_unknown\n",
    );
    let want = format!(
        "rebound: {}:4: unknown reason `usr_unknown`",
        rules.display()
    );
    let rules = rules.to_str().unwrap();
    let o = parse(&["--rules", rules], &[&sample(DSN)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).starts_with(&want), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    let o = rebound()
        .args(["explain", "--rules", rules, "550 5.1.1 User unknown"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).starts_with(&want), "{}", stderr(&o));
    let missing = dir.path().join("missing.rules");
    let o = parse(&["--rules", missing.to_str().unwrap()], &[&sample(DSN)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("missing.rules"), "{}", stderr(&o));
}
