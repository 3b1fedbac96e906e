//! POP3 accounts against a real Dovecot (`dovecot-pop3d`): implicit TLS
//! and STLS, `--after delete` (DELE only after the commit) and `--after
//! keep` (nothing deleted, nothing fetched twice: the UIDLs are in the
//! ledger), a crash between commit and QUIT, XOAUTH2, and a watcher that
//! polls.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::dovecot::{self, Dovecot, PASSWORD, USER};
use crate::imap::{db_in, events, run, stderr, summary};
use crate::util::{Background, rebound};

/// `rebound <sub>` of POP3 account `pop` against `d` over `tls`.
fn pop3(sub: &str, d: &Dovecot, db: &Path, tls: &str) -> Command {
    let port = match tls {
        "implicit" => d.pop3s_port,
        _ => d.pop3_port,
    };
    let mut c = rebound();
    c.args([sub, "--protocol", "pop3", "--host", "localhost", "--user", USER])
        .args(["--port", &port.to_string(), "--tls", tls])
        .arg("--ca-file")
        .arg(&d.ca)
        .arg("--db")
        .arg(db)
        .args(["--account", "pop"])
        .env_remove(rebound::sweep::CRASH_AFTER_COMMIT_ENV);
    c
}

fn with_password(mut c: Command) -> Command {
    c.args(["--password-env", "RB_TEST_PASSWORD"])
        .env("RB_TEST_PASSWORD", PASSWORD);
    c
}

/// 20 bounces and 2 ordinary messages.
fn fill(d: &Dovecot) {
    d.deliver("INBOX", (0..20).map(|i| dovecot::bounce(i, 0)));
    d.deliver("INBOX", (0..2).map(dovecot::not_a_bounce));
}

#[test]
fn pop3_delete_records_then_deletes_bounces_and_leaves_ordinary_mail() {
    let d = Dovecot::start_with_pop3();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    fill(&d);
    let out = run(&mut with_password(pop3("sweep", &d, &db, "implicit")));
    assert_eq!(out.status.code(), Some(0), "ordinary mail left is no error");
    assert_eq!(summary(&out), [22, 20, 20, 20, 0, 0]);
    assert!(stderr(&out).contains("2 ordinary messages left in place"));
    assert_eq!(d.count("INBOX"), 2, "only the ordinary messages stay");
    assert_eq!(events(&db), (20, 20));
    let c = rusqlite::Connection::open(&db).unwrap();
    let sources: Vec<String> = c
        .prepare("SELECT source FROM events LIMIT 1")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(sources[0].starts_with("pop3:pop/"), "{sources:?}");
    // Nothing is fetched twice; new mail is.
    let out = run(&mut with_password(pop3("sweep", &d, &db, "implicit")));
    assert_eq!(summary(&out), [0, 0, 0, 0, 0, 0]);
    d.deliver("INBOX", [dovecot::bounce(30, 0)]);
    let out = run(&mut with_password(pop3("sweep", &d, &db, "starttls")));
    assert_eq!(summary(&out), [1, 1, 1, 1, 0, 0]);
    assert_eq!(d.count("INBOX"), 2);
    assert!(
        d.log()
            .lines()
            .filter(|l| l.contains("pop3-login: Info: Login"))
            .all(|l| l.contains("TLS")),
        "every POP3 login is over TLS: {}",
        d.log()
    );
}

#[test]
fn pop3_keep_leaves_every_message_and_fetches_none_twice() {
    let d = Dovecot::start_with_pop3();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    fill(&d);
    let keep = || {
        let mut c = with_password(pop3("sweep", &d, &db, "starttls"));
        c.args(["--after", "keep"]);
        c
    };
    let out = run(&mut keep());
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(summary(&out), [22, 20, 20, 20, 0, 0]);
    assert_eq!(d.count("INBOX"), 22);
    let out = run(&mut keep());
    assert_eq!(summary(&out), [0, 0, 0, 0, 0, 0]);
    d.deliver("INBOX", [dovecot::bounce(40, 0)]);
    let out = run(&mut keep());
    assert_eq!(summary(&out), [1, 1, 1, 1, 0, 0]);
    assert_eq!(d.count("INBOX"), 23);
    // Switching to delete later deletes the recorded ones without
    // fetching them again.
    let out = run(&mut with_password(pop3("sweep", &d, &db, "starttls")));
    assert_eq!(summary(&out), [0, 0, 0, 0, 0, 0]);
    assert_eq!(d.count("INBOX"), 2);
}

#[test]
fn pop3_crash_between_commit_and_quit_deletes_later_without_refetching() {
    let d = Dovecot::start_with_pop3();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    fill(&d);
    let out = run(with_password(pop3("sweep", &d, &db, "implicit"))
        .args(["--batch-size", "5"])
        .env(rebound::sweep::CRASH_AFTER_COMMIT_ENV, "1"));
    assert!(!out.status.success(), "the hook aborts the sweep");
    assert_eq!(events(&db), (5, 5), "one batch committed");
    assert_eq!(d.count("INBOX"), 22, "no QUIT: nothing deleted");
    let out = run(with_password(pop3("sweep", &d, &db, "implicit"))
        .args(["--batch-size", "5"]));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        summary(&out),
        [17, 15, 15, 15, 0, 0],
        "the 5 are not refetched"
    );
    assert_eq!(d.count("INBOX"), 2);
    assert_eq!(events(&db), (20, 20));
}

#[test]
fn pop3_xoauth2_logs_in_and_a_wrong_token_exits_3() {
    let d = Dovecot::start_with_pop3();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    fill(&d);
    let oauth = |token: &str| {
        let mut c = pop3("sweep", &d, &db, "implicit");
        c.args(["--oauth2-token-command", &format!("echo {token}")]);
        c
    };
    let out = run(&mut oauth("wrong"));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(stderr(&out).contains("login as bounces failed"));
    let out = run(&mut oauth(PASSWORD));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(d.log().contains("method=XOAUTH2"), "{}", d.log());
    // POP3 settings that cannot work are configuration errors.
    let out = run(with_password(pop3("sweep", &d, &db, "implicit"))
        .args(["--after", "move"]));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("POP3 can only delete or keep"));
}

#[test]
fn a_watcher_polls_a_pop3_account() {
    let d = Dovecot::start_with_pop3();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    let w = Background::spawn(
        with_password(pop3("watch", &d, &db, "implicit"))
            .args(["--poll-interval", "1"]),
    );
    w.expect_stderr("watching pop/INBOX (polling)", Duration::from_secs(60));
    d.lda(&dovecot::bounce(3, 0));
    let got = Background::wait_until(Duration::from_secs(30), || {
        db.exists() && events(&db).0 == 1
    });
    assert!(got.is_some(), "{}", w.stderr());
    w.signal("TERM");
    let (code, err) = w.wait(Duration::from_secs(60));
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(d.count("INBOX"), 0);
}
