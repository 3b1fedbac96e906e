//! `rebound sweep` against a real Dovecot (see `dovecot.rs`): full sweeps,
//! re-runs, quarantine, TLS modes, XOAUTH2, failures and their exit codes,
//! crash recovery, UIDVALIDITY resets, the lock and the size cap.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use rebound::ledger::Ledger;

use crate::dovecot::{self, Dovecot, Kind, PASSWORD, USER};
use crate::util::rebound;

/// `rebound sweep` of account `test` over implicit TLS against `d`,
/// trusting its CA, with the ledger at `db`, but no credential yet.
fn sweep_as(d: &Dovecot, db: &Path) -> Command {
    command_as("sweep", d, db)
}

/// `rebound <sub>` (`sweep` or `watch`) of account `test` over implicit
/// TLS against `d`, trusting its CA, with the ledger at `db`, but no
/// credential yet.
pub(crate) fn command_as(sub: &str, d: &Dovecot, db: &Path) -> Command {
    let mut c = rebound();
    c.args([sub, "--host", "127.0.0.1", "--user", USER])
        .args(["--port", &d.imaps_port.to_string(), "--tls", "implicit"])
        .arg("--ca-file")
        .arg(&d.ca)
        .arg("--db")
        .arg(db)
        .args(["--account", "test"])
        .env_remove(rebound::sweep::CRASH_AFTER_COMMIT_ENV);
    c
}

/// [`sweep_as`] with the password from an environment variable.
pub(crate) fn sweep(d: &Dovecot, db: &Path) -> Command {
    let mut c = sweep_as(d, db);
    c.args(["--password-env", "RB_TEST_PASSWORD"])
        .env("RB_TEST_PASSWORD", PASSWORD);
    c
}

pub(crate) fn run(c: &mut Command) -> Output {
    let out = c.output().expect("rebound runs");
    eprintln!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The numbers of the summary line: (messages, reports, records, new,
/// already recorded, quarantined).
pub(crate) fn summary(o: &Output) -> [usize; 6] {
    let err = stderr(o);
    let line = err
        .lines()
        .find(|l| l.contains("swept "))
        .unwrap_or_else(|| panic!("no summary line in {err}"));
    let nums: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect();
    assert!(nums.len() >= 6, "unexpected summary line {line}");
    [nums[0], nums[1], nums[2], nums[3], nums[4], nums[5]]
}

pub(crate) fn db_in(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("ledger.db")
}

pub(crate) fn checkpoint(db: &Path, mailbox: &str) -> (u32, u32) {
    let c = Ledger::open(db)
        .unwrap()
        .checkpoint("test", mailbox)
        .unwrap()
        .expect("a checkpoint");
    (c.uidvalidity, c.last_uid)
}

#[test]
fn generated_reports_parse_as_intended() {
    let parser =
        rebound::Parser::new(rebound::ParseConfig::default()).unwrap();
    for i in 0..14 {
        let r = parser.parse(&dovecot::bounce(i, 0)).unwrap();
        assert_eq!(r.records.len(), 1, "message {i}");
        let rec = &r.records[0];
        assert_eq!(
            rec.recipient.as_deref(),
            Some(&*format!("user{i}@example.org"))
        );
        let want = match dovecot::kind_of(i) {
            Kind::Delayed => rebound::EventType::Delay,
            _ => rebound::EventType::Bounce,
        };
        assert_eq!(rec.kind, Some(want), "message {i}");
    }
    assert!(
        parser.parse(&dovecot::not_a_bounce(1)).unwrap().records.is_empty()
    );
    assert!(parser.parse(&dovecot::garbage(1)).is_err());
}

#[test]
fn full_sweep_records_everything_and_a_second_sweep_nothing_new() {
    let d = Dovecot::start();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    d.deliver("INBOX", (0..300).map(|i| dovecot::bounce(i, 0)));
    d.deliver("INBOX", (0..2).map(dovecot::not_a_bounce));
    d.deliver("INBOX", (0..1).map(dovecot::garbage));

    let out = run(&mut sweep(&d, &db));
    assert_eq!(out.status.code(), Some(1), "quarantined messages give exit 1");
    assert_eq!(summary(&out), [303, 300, 300, 300, 0, 3]);
    let err = stderr(&out);
    assert_eq!(
        err.matches("rebound: quarantined imap:test/INBOX/").count(),
        3
    );
    assert!(err.contains("Lunch on Friday? 0): not a bounce"), "{err}");
    assert!(err.contains("cannot parse"), "{err}");
    assert_eq!(d.count("INBOX"), 0);
    assert_eq!(d.count("Processed"), 300);
    assert_eq!(d.count("Quarantine"), 3);
    assert_eq!(checkpoint(&db, "INBOX").1, 303);
    // The ledger holds each recipient's event as parsed, from its message.
    let ledger = Ledger::open(&db).unwrap();
    for i in [0, 1, 3, 299] {
        let h =
            ledger.status(&format!("user{i}@example.org")).unwrap().history;
        assert_eq!(h.len(), 1, "user{i}: {h:?}");
        let (kind, status) = match dovecot::kind_of(i) {
            Kind::UserUnknown => ("bounce", "5.1.1"),
            Kind::MailboxFull => ("bounce", "5.2.2"),
            Kind::Delayed => ("delay", "4.4.1"),
        };
        assert_eq!(
            (h[0].kind.as_str(), h[0].status.as_deref()),
            (kind, Some(status))
        );
        assert!(
            h[0].source
                .as_deref()
                .is_some_and(|s| s.starts_with("imap:test/INBOX/"))
        );
    }
    drop(ledger);

    let out = run(&mut sweep(&d, &db));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(summary(&out), [0, 0, 0, 0, 0, 0]);

    // Only what arrived since is fetched; a bounce about an old send is
    // new, a copy of an already recorded report is a duplicate.
    d.deliver("INBOX", [dovecot::bounce(1000, 6), dovecot::bounce(5, 0)]);
    let out = run(&mut sweep(&d, &db));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(summary(&out), [2, 2, 2, 1, 1, 0]);
    assert_eq!(d.count("Processed"), 302);
    // The late report carries the time of its event, not of the sweep.
    let h = Ledger::open(&db)
        .unwrap()
        .status("user1000@example.org")
        .unwrap()
        .history;
    assert_eq!(h.len(), 1);
    assert!(h[0].event_time.starts_with("2025-11-14T"), "{h:?}");
    assert_eq!(checkpoint(&db, "INBOX").1, 305);
}

#[test]
fn starttls_with_a_config_file_and_flags_overriding_it() {
    let d = Dovecot::start();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    d.deliver("INBOX", (0..20).map(|i| dovecot::bounce(i, 0)));
    let pw = tmp.path().join("password");
    std::fs::write(&pw, format!("{PASSWORD}\n")).unwrap();
    let config = tmp.path().join("rebound.toml");
    std::fs::write(
        &config,
        format!(
            "db = {db:?}\n\n[[account]]\nname = \"test\"\nhost = \"localhost\"\n\
             port = {}\ntls = \"starttls\"\nca_file = {:?}\nuser = \"{USER}\"\n\
             password_file = {pw:?}\nmailboxes = [\"INBOX\"]\n\
             processed_folder = \"Done\"\nquarantine_folder = \"Odd\"\n",
            d.imap_port, d.ca
        ),
    )
    .unwrap();
    let out = run(rebound().arg("sweep").arg("--config").arg(&config).args([
        "--limit",
        "15",
        "--processed-folder",
        "Done2",
    ]));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(summary(&out), [15, 15, 15, 15, 0, 0]);
    assert_eq!(d.count("Done2"), 15);
    assert_eq!(d.count("INBOX"), 5);
    assert!(d.folder("Odd").exists(), "the quarantine folder is created");
    assert!(
        d.log().contains("Login: user=<bounces>, method=PLAIN")
            && d.log().contains("TLS"),
        "{}",
        d.log()
    );
    assert!(
        d.log()
            .lines()
            .filter(|l| l.contains("Login: user"))
            .all(|l| l.contains(", TLS")),
        "every login is over TLS: {}",
        d.log()
    );
}

#[test]
fn xoauth2_logs_in_and_a_wrong_token_exits_3() {
    let d = Dovecot::start();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    d.deliver("INBOX", (0..10).map(|i| dovecot::bounce(i, 0)));
    let oauth = |token: &str| {
        let mut c = sweep_as(&d, &db);
        c.args(["--oauth2-token-command", &format!("echo {token}")]);
        c
    };
    let out = run(&mut oauth("wrong-token"));
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("login as bounces failed"));
    assert_eq!(d.count("INBOX"), 10);
    let out = run(&mut oauth(PASSWORD));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(summary(&out)[3], 10);
    assert!(d.log().contains("method=XOAUTH2"), "{}", d.log());
}

#[test]
fn wrong_password_and_untrusted_certificate_exit_3() {
    let d = Dovecot::start();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    d.deliver("INBOX", [dovecot::bounce(1, 0)]);
    let out = run(sweep(&d, &db).env("RB_TEST_PASSWORD", "not-the-password"));
    assert_eq!(out.status.code(), Some(3));
    assert!(stderr(&out).contains("login as bounces failed"));

    // Without the CA file the self-signed chain is not trusted: the
    // system roots do not know it, and verification cannot be turned off.
    let mut c = rebound();
    c.args(["sweep", "--host", "127.0.0.1", "--user", USER])
        .args(["--port", &d.imaps_port.to_string()])
        .args(["--password-env", "RB_TEST_PASSWORD"])
        .env("RB_TEST_PASSWORD", PASSWORD)
        .arg("--db")
        .arg(&db);
    let out = run(&mut c);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("TLS with 127.0.0.1 failed"),
        "{}",
        stderr(&out)
    );
    let mut c = rebound();
    c.args(["sweep", "--host", "localhost", "--user", USER])
        .args(["--port", &d.imap_port.to_string(), "--tls", "starttls"])
        .args(["--password-env", "RB_TEST_PASSWORD"])
        .env("RB_TEST_PASSWORD", PASSWORD)
        .arg("--db")
        .arg(&db);
    let out = run(&mut c);
    assert!(
        stderr(&out).contains("TLS with localhost failed"),
        "{}",
        stderr(&out)
    );
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(d.count("INBOX"), 1);

    // Plaintext needs an explicit --insecure: a configuration error.
    let mut c = rebound();
    c.args(["sweep", "--host", "127.0.0.1", "--user", USER, "--tls", "none"])
        .args(["--port", &d.imap_port.to_string(), "--account", "test"])
        .args(["--password-env", "RB_TEST_PASSWORD"])
        .env("RB_TEST_PASSWORD", PASSWORD)
        .arg("--db")
        .arg(&db);
    let out = run(&mut c);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--insecure"));
    let out = run(c.arg("--insecure"));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(summary(&out), [1, 1, 1, 1, 0, 0]);
}

#[test]
fn a_crash_after_the_commit_double_counts_nothing() {
    let d = Dovecot::start();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    d.deliver("INBOX", (0..120).map(|i| dovecot::bounce(i, 0)));
    d.deliver("INBOX", [dovecot::not_a_bounce(1)]);
    let out =
        run(sweep(&d, &db).env(rebound::sweep::CRASH_AFTER_COMMIT_ENV, "1"));
    assert!(!out.status.success(), "the hook aborts the sweep");
    assert!(stderr(&out).contains("aborting after the ledger commit"));
    // Committed, but nothing moved yet.
    assert_eq!(checkpoint(&db, "INBOX").1, 121);
    assert_eq!(d.count("INBOX"), 121);
    assert_eq!(d.count("Processed"), 0);

    let out = run(&mut sweep(&d, &db));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(summary(&out), [121, 120, 120, 0, 120, 1]);
    assert_eq!(d.count("INBOX"), 0);
    assert_eq!(d.count("Processed"), 120);
    assert_eq!(d.count("Quarantine"), 1);
}

#[test]
fn a_uidvalidity_reset_rescans_without_double_counting() {
    let d = Dovecot::start();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    d.deliver("INBOX", (0..50).map(|i| dovecot::bounce(i, 0)));
    let out = run(sweep(&d, &db).args(["--after", "flag"]));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(summary(&out), [50, 50, 50, 50, 0, 0]);
    assert_eq!(d.count("INBOX"), 50, "flag mode leaves the messages");
    let (v1, last) = checkpoint(&db, "INBOX");
    assert_eq!(last, 50);
    let out = run(sweep(&d, &db).args(["--after", "flag"]));
    assert_eq!(summary(&out)[0], 0, "flagged messages are not fetched again");

    // Forget every UID: Dovecot renumbers the mailbox with a new
    // UIDVALIDITY (a time stamp, so wait for the next second).
    std::thread::sleep(Duration::from_millis(1100));
    for e in std::fs::read_dir(d.folder("INBOX")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("dovecot-uidlist")
            || name.starts_with("dovecot.index")
        {
            std::fs::remove_file(&p).unwrap();
        }
    }
    d.deliver("INBOX", [dovecot::bounce(77, 3)]);
    let out = run(sweep(&d, &db).args(["--after", "flag"]));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(summary(&out), [51, 51, 51, 1, 50, 0]);
    let (v2, last) = checkpoint(&db, "INBOX");
    assert_ne!(v1, v2, "the new UIDVALIDITY is recorded");
    assert_eq!(last, 51);
}

#[test]
fn a_second_concurrent_sweep_exits_4() {
    let d = Dovecot::start();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    d.deliver("INBOX", (0..5).map(|i| dovecot::bounce(i, 0)));
    // The first sweep takes the lock, then waits in its password command.
    let first = sweep_as(&d, &db)
        .args(["--password-command", &format!("sleep 2; echo {PASSWORD}")])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(700));
    let out = run(&mut sweep(&d, &db));
    assert_eq!(out.status.code(), Some(4));
    assert!(
        stderr(&out).contains("another sweep is running"),
        "{}",
        stderr(&out)
    );
    let first = first.wait_with_output().unwrap();
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert_eq!(summary(&first)[3], 5);
    // A sweep of another account on the same ledger is not blocked.
    assert_eq!(d.count("INBOX"), 0);
}

#[test]
fn dry_run_writes_nothing_and_shows_event_times() {
    let d = Dovecot::start();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    // A delay warning about a send six days ago, and an ordinary bounce.
    d.deliver("INBOX", [dovecot::bounce(3, 6), dovecot::bounce(4, 0)]);
    d.deliver("INBOX", [dovecot::not_a_bounce(9)]);
    let out = run(sweep(&d, &db).arg("--dry-run"));
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("would record delay user3@example.org 4.4.1")
            && stdout.contains("2025-11-14T10:00:03Z"),
        "{stdout}"
    );
    assert!(stdout.contains("would record bounce user4@example.org 5.1.1"));
    assert!(stderr(&out).contains("would quarantine"));
    assert!(!db.exists(), "a dry run creates no ledger");
    assert_eq!(d.count("INBOX"), 3);
    assert!(!d.folder("Processed").exists());
}

#[test]
fn non_ascii_folder_names_go_to_the_server_in_modified_utf7() {
    let d = Dovecot::start();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    d.deliver("INBOX", (0..4).map(|i| dovecot::bounce(i, 0)));
    d.deliver("INBOX", [dovecot::garbage(1)]);
    let out = run(sweep(&d, &db).args([
        "--processed-folder",
        "Zurückgewiesen & erledigt",
        "--quarantine-folder",
        "Карантин",
    ]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(summary(&out), [5, 4, 4, 4, 0, 1]);
    // Dovecot's Maildir keeps the names as they came on the wire.
    assert_eq!(d.count("Zur&APw-ckgewiesen &- erledigt"), 4);
    assert_eq!(d.count("&BBoEMARABDAEPQRCBDgEPQ-"), 1);
    assert_eq!(d.count("INBOX"), 0);
}

#[test]
fn huge_messages_are_read_up_to_the_cap() {
    let d = Dovecot::start();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    // A bounce whose returned message is 3 MB of attachment.
    let mut big = String::from_utf8(dovecot::bounce(8, 0)).unwrap();
    let tail = big.rfind("--B8--").unwrap();
    let filler = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\r\n".repeat(45_000);
    big.insert_str(tail, &format!("--B8\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n{filler}\r\n"));
    d.deliver("INBOX", [big.into_bytes(), dovecot::bounce(9, 0)]);
    let out = run(sweep(&d, &db).args(["--max-message-size", "65536"]));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(summary(&out), [2, 2, 2, 2, 0, 0]);
    assert!(stderr(&out).contains("1 read only up to the size cap"));
    assert_eq!(d.count("Processed"), 2);
}

#[test]
fn without_the_move_extension_copy_and_expunge_do_it_and_delete_works() {
    let d = Dovecot::start();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    // Advertise no MOVE (the post-login capability list is replaced).
    d.reconfigure(
        "protocol imap {\n  imap_capability = IMAP4rev1 LITERAL+ UIDPLUS\n}",
    );
    d.deliver("INBOX", (0..40).map(|i| dovecot::bounce(i, 0)));
    d.deliver("INBOX", [dovecot::not_a_bounce(2)]);
    let out = run(sweep(&d, &db).args(["--limit", "30"]));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(summary(&out), [30, 30, 30, 30, 0, 0]);
    assert_eq!(d.count("Processed"), 30);
    assert_eq!(d.count("INBOX"), 11);
    // COPY + STORE \\Deleted + UID EXPUNGE, as Dovecot's session log counts
    // (written when the session process ends, which may be after we exit).
    let logged = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(100));
        d.log().contains("deleted=30 expunged=30")
    });
    assert!(logged, "{}", d.log());

    let out = run(sweep(&d, &db).args(["--after", "delete"]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(summary(&out), [11, 10, 10, 10, 0, 1]);
    assert_eq!(d.count("INBOX"), 0);
    assert_eq!(d.count("Processed"), 30, "deleted, not moved");
    assert_eq!(d.count("Quarantine"), 1, "quarantine is never deleted");
}

/// Events in the ledger, and how many distinct sources they name.
pub(crate) fn events(db: &Path) -> (usize, usize) {
    let c = rusqlite::Connection::open(db).unwrap();
    c.query_row(
        "SELECT COUNT(*), COUNT(DISTINCT source) FROM events",
        [],
        |r| Ok((r.get::<_, i64>(0)? as usize, r.get::<_, i64>(1)? as usize)),
    )
    .unwrap()
}

/// 157 bounces with 5 ordinary messages among them.
fn deliver_mixed(d: &Dovecot) {
    for part in 0..5 {
        let bounces = part * 32..(part * 32 + 32).min(157);
        d.deliver("INBOX", bounces.map(|i| dovecot::bounce(i, 0)));
        d.deliver("INBOX", [dovecot::not_a_bounce(part)]);
    }
}

#[test]
fn many_small_batches_lose_and_double_count_nothing_even_after_a_crash() {
    let d = Dovecot::start();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    deliver_mixed(&d);
    // 17 batches of 10: the fetch and parse stages run ahead of the
    // commit, but the crash right after the first commit leaves exactly
    // one batch recorded and nothing moved.
    let out = run(sweep(&d, &db)
        .args(["--batch-size", "10"])
        .env(rebound::sweep::CRASH_AFTER_COMMIT_ENV, "1"));
    assert!(!out.status.success(), "the hook aborts the sweep");
    assert_eq!(checkpoint(&db, "INBOX").1, 10);
    assert_eq!(d.count("INBOX"), 162);
    assert_eq!(d.count("Processed"), 0);
    let (first, sources) = events(&db);
    assert_eq!(first, sources);
    assert!((5..=10).contains(&first), "{first} events in the first batch");

    let out = run(sweep(&d, &db).args(["--batch-size", "10"]));
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(summary(&out), [162, 157, 157, 157 - first, first, 5]);
    assert_eq!(d.count("INBOX"), 0);
    assert_eq!(d.count("Processed"), 157);
    assert_eq!(d.count("Quarantine"), 5);
    assert_eq!(checkpoint(&db, "INBOX").1, 162);
    assert_eq!(events(&db), (157, 157), "one event per message");
    let ledger = Ledger::open(&db).unwrap();
    for i in 0..157 {
        let h =
            ledger.status(&format!("user{i}@example.org")).unwrap().history;
        assert_eq!(h.len(), 1, "user{i}: {h:?}");
    }
}

#[test]
fn a_ledger_failure_mid_sweep_exits_2_and_the_next_sweep_completes() {
    let d = Dovecot::start();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    d.deliver("INBOX", (0..5).map(|i| dovecot::bounce(i, 0)));
    let out = run(&mut sweep(&d, &db));
    assert_eq!(summary(&out), [5, 5, 5, 5, 0, 0]);
    // Allow the ledger a few pages more than it has: some batches of 10
    // fit, then the ledger is full.
    let bytes: i64 = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            [],
            |r| r.get(0),
        )
        .unwrap();
    d.deliver("INBOX", (5..400).map(|i| dovecot::bounce(i, 0)));
    let out = run(sweep(&d, &db)
        .args(["--batch-size", "10", "--db-max-size"])
        .arg((bytes + 6 * 4096).to_string()));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("size limit is full"), "{}", stderr(&out));
    let (recorded, _) = events(&db);
    assert!(recorded > 5 && recorded < 400, "{recorded} events recorded");
    // Only recorded messages were moved; nothing is lost.
    assert!(d.count("Processed") <= recorded);
    assert_eq!(d.count("INBOX") + d.count("Processed"), 400);

    let out = run(&mut sweep(&d, &db));
    assert_eq!(out.status.code(), Some(0));
    let s = summary(&out);
    assert_eq!(s[3], 400 - recorded, "new events");
    assert_eq!(s[3] + s[4], s[1], "the rest are duplicates");
    assert_eq!(d.count("Processed"), 400);
    assert_eq!(events(&db), (400, 400));
}

#[test]
fn a_large_mixed_mailbox_moves_in_several_split_commands_and_loses_nothing() {
    let d = Dovecot::start();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    // 6000 messages, bounces and ordinary mail in random UID order (the
    // server numbers Maildir files in directory order): more than one
    // move (MOVE_MIN), and UID sets too fragmented for one command line.
    let n = 3000;
    d.deliver(
        "INBOX",
        (0..2 * n).map(|i| match i % 2 {
            0 => dovecot::bounce(i / 2, 0),
            _ => dovecot::not_a_bounce(i / 2),
        }),
    );
    let out = run(&mut sweep(&d, &db));
    assert_eq!(out.status.code(), Some(1), "new bounces exit 1");
    assert_eq!(summary(&out), [2 * n, n, n, n, 0, n]);
    assert_eq!(d.count("INBOX"), 0);
    assert_eq!(d.count("Processed"), n);
    assert_eq!(d.count("Quarantine"), n);
    assert_eq!(events(&db), (n, n), "one event per bounce");
    // The recorded UIDs form so many runs that one UID set of them would
    // exceed the command-line limit: the move was split.
    let c = rusqlite::Connection::open(&db).unwrap();
    let mut uids: Vec<u32> = c
        .prepare("SELECT source FROM events")
        .unwrap()
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|s| s.unwrap().rsplit('/').next().unwrap().parse().unwrap())
        .collect();
    uids.sort_unstable();
    // Its length: the digits of each run's ends, ":" inside a run of
    // two or more, "," between runs.
    let digits = |u: u32| u.to_string().len();
    let runs: Vec<(u32, u32)> = uids
        .chunk_by(|a, b| a + 1 == *b)
        .map(|r| (r[0], r[r.len() - 1]))
        .collect();
    let set_len = runs.len() - 1
        + runs
            .iter()
            .map(|&(a, b)| match a == b {
                true => digits(a),
                false => digits(a) + 1 + digits(b),
            })
            .sum::<usize>();
    assert!(
        set_len > rebound::sweep::MAX_SET_LEN,
        "the recorded UIDs fit one command ({set_len}): the test does not split"
    );
    assert_eq!(checkpoint(&db, "INBOX").1 as usize, 2 * n);
    let out = run(&mut sweep(&d, &db));
    assert_eq!(summary(&out), [0, 0, 0, 0, 0, 0]);
}
