//! `rebound watch` against a real Dovecot: a bounce delivered by Dovecot's
//! LDA is in the ledger within 2 s (IDLE); a restarted server is
//! reconnected (logged once) and caught up; SIGTERM finishes the batch in
//! hand and exits 0; kill -9 mid-sweep then a restart loses and doubles
//! nothing; servers without IDLE are polled; the watcher holds the sweep's
//! lock.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::dovecot::{self, Dovecot, PASSWORD};
use crate::imap::{checkpoint, command_as, db_in, events, run, stderr};
use crate::util::Background;

/// `rebound watch` of account `test` (password from the environment).
fn watch(d: &Dovecot, db: &Path) -> Command {
    let mut c = command_as("watch", d, db);
    c.args(["--password-env", "RB_TEST_PASSWORD"])
        .env("RB_TEST_PASSWORD", PASSWORD);
    c
}

/// Events in the ledger, 0 while it cannot be read yet.
fn recorded(db: &Path) -> usize {
    if !db.exists() {
        return 0;
    }
    let c = rusqlite::Connection::open_with_flags(
        db,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    );
    c.and_then(|c| {
        c.busy_timeout(Duration::from_secs(5))?;
        c.query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0))
    })
    .map_or(0, |n| n as usize)
}

const LONG: Duration = Duration::from_secs(60);

#[test]
fn a_bounce_delivered_while_watching_is_recorded_within_2_seconds() {
    let d = Dovecot::start();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    d.deliver("INBOX", (0..3).map(|i| dovecot::bounce(i, 0)));
    let w = Background::spawn(&mut watch(&d, &db));
    w.expect_stderr("watching test/INBOX (IDLE)", LONG);
    // It caught up with what was there before.
    assert!(Background::wait_until(LONG, || recorded(&db) == 3).is_some());
    // The watched account is locked for sweeps.
    let out = run(&mut crate::imap::sweep(&d, &db));
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));

    for (n, i) in (100..105).enumerate() {
        d.lda(&dovecot::bounce(i, 0));
        let took = Background::wait_until(Duration::from_secs(10), || {
            recorded(&db) == 3 + n + 1
        })
        .unwrap_or_else(|| panic!("bounce {i} not recorded:\n{}", w.stderr()));
        assert!(took < Duration::from_secs(2), "bounce {i} took {took:?}");
    }
    // An ordinary message goes to quarantine, as with sweep.
    d.lda(&dovecot::not_a_bounce(1));
    assert!(
        Background::wait_until(LONG, || d.count("Quarantine") == 1).is_some()
    );
    assert!(
        Background::wait_until(LONG, || d.count("Processed") == 8).is_some()
    );
    assert_eq!(d.count("INBOX"), 0);
    w.signal("TERM");
    let (code, err) = w.wait(LONG);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("SIGTERM: finishing the batch in hand"), "{err}");
    assert!(
        err.contains("watch ended: swept 9 messages: 8 reports (8 records: 8 new, 0 already recorded), 1 quarantined"),
        "{err}"
    );
    assert!(!err.contains("trying again"), "no reconnection: {err}");
}

#[test]
fn a_restarted_server_is_reconnected_once_and_caught_up() {
    let d = Dovecot::start();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    let w = Background::spawn(watch(&d, &db).args([
        "--max-backoff",
        "2",
        "--mailbox",
        "INBOX",
    ]));
    w.expect_stderr("watching test/INBOX (IDLE)", LONG);
    d.stop();
    // Mail arrives while the server is down (straight into the Maildir).
    d.deliver("INBOX", (0..20).map(|i| dovecot::bounce(i, 0)));
    std::thread::sleep(Duration::from_secs(4));
    d.start_again();
    assert!(
        Background::wait_until(LONG, || recorded(&db) == 20).is_some(),
        "{}",
        w.stderr()
    );
    w.expect_stderr("connected again after", LONG);
    let err = w.stderr();
    assert_eq!(
        err.matches("rebound: test/INBOX: ").count(),
        2,
        "one line when the connection is lost, one when it is back: {err}"
    );
    assert!(err.contains("trying again in"), "{err}");
    // And it watches again: a new delivery arrives quickly.
    d.lda(&dovecot::bounce(50, 0));
    let took = Background::wait_until(LONG, || recorded(&db) == 21);
    assert!(took.is_some_and(|t| t < Duration::from_secs(2)), "{took:?}");
    w.signal("INT");
    let (code, err) = w.wait(LONG);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(d.count("Processed"), 21);
}

#[test]
fn sigterm_mid_backlog_commits_the_batch_in_hand_and_exits_0() {
    let d = Dovecot::start();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    let n = 3000;
    d.deliver("INBOX", (0..n).map(|i| dovecot::bounce(i, 0)));
    let w = Background::spawn(watch(&d, &db).args(["--batch-size", "10"]));
    assert!(Background::wait_until(LONG, || recorded(&db) > 0).is_some());
    w.signal("TERM");
    let (code, err) = w.wait(LONG);
    assert_eq!(code, Some(0), "{err}");
    let (done, sources) = events(&db);
    assert_eq!(done, sources);
    assert!(done < n, "it stopped early ({done} of {n} recorded)");
    // Everything recorded is below the checkpoint and was moved; nothing
    // else was.
    assert_eq!(checkpoint(&db, "INBOX").1 as usize, done);
    assert_eq!(d.count("Processed"), done);
    assert_eq!(d.count("INBOX"), n - done);
    // A later sweep does the rest, once each.
    let out = run(&mut crate::imap::sweep(&d, &db));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(events(&db), (n, n));
}

#[test]
fn kill_9_mid_sweep_then_a_restart_loses_and_doubles_nothing() {
    let d = Dovecot::start();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    let n = 2000;
    d.deliver(
        "INBOX",
        (0..n).map(|i| match i % 50 {
            7 => dovecot::not_a_bounce(i),
            _ => dovecot::bounce(i, 0),
        }),
    );
    let ordinary = (0..n).filter(|i| i % 50 == 7).count();
    let w = Background::spawn(watch(&d, &db).args(["--batch-size", "25"]));
    assert!(Background::wait_until(LONG, || recorded(&db) > 100).is_some());
    w.signal("KILL");
    let (code, _) = w.wait(LONG);
    assert_eq!(code, None, "killed by the signal");
    let before = events(&db).0;
    assert!(before < n - ordinary, "killed mid-sweep ({before} recorded)");

    let w = Background::spawn(watch(&d, &db).args(["--batch-size", "25"]));
    assert!(
        Background::wait_until(LONG, || d.count("INBOX") == 0).is_some(),
        "{}",
        w.stderr()
    );
    w.signal("TERM");
    let (code, err) = w.wait(LONG);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(events(&db), (n - ordinary, n - ordinary), "once each");
    assert_eq!(d.count("Processed"), n - ordinary);
    assert_eq!(d.count("Quarantine"), ordinary);
    let ledger = rebound::ledger::Ledger::open(&db).unwrap();
    for i in (0..n).filter(|i| i % 50 != 7).step_by(97) {
        let h =
            ledger.status(&format!("user{i}@example.org")).unwrap().history;
        assert_eq!(h.len(), 1, "user{i}: {h:?}");
    }
}

#[test]
fn a_server_without_idle_is_polled() {
    let d = Dovecot::start();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    d.reconfigure(
        "protocol imap {\n  imap_capability = IMAP4rev1 LITERAL+ UIDPLUS MOVE\n}",
    );
    let w = Background::spawn(watch(&d, &db).args(["--poll-interval", "1"]));
    w.expect_stderr("watching test/INBOX (polling)", LONG);
    d.lda(&dovecot::bounce(1, 0));
    let took = Background::wait_until(LONG, || recorded(&db) == 1);
    assert!(took.is_some_and(|t| t < Duration::from_secs(4)), "{took:?}");
    w.signal("TERM");
    assert_eq!(w.wait(LONG).0, Some(0));
}

#[test]
fn every_mailbox_is_watched_concurrently() {
    let d = Dovecot::start();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    d.create_folder("Bounces-A");
    d.create_folder("Bounces-B");
    let w = Background::spawn(watch(&d, &db).args([
        "--mailbox",
        "INBOX,Bounces-A,Bounces-B",
        "--processed-folder",
        "Done",
    ]));
    for m in ["INBOX", "Bounces-A", "Bounces-B"] {
        w.expect_stderr(&format!("watching test/{m} (IDLE)"), LONG);
    }
    // Mail dropped into each folder's Maildir (the servers' IDLE sees the
    // new files) is recorded and moved.
    for (i, m) in ["Bounces-B", "Bounces-A", "INBOX"].iter().enumerate() {
        d.deliver(m, [dovecot::bounce(i, 0)]);
        assert!(
            Background::wait_until(LONG, || recorded(&db) == i + 1).is_some(),
            "{m}: {}",
            w.stderr()
        );
    }
    assert!(Background::wait_until(LONG, || d.count("Done") == 3).is_some());
    assert!(!w.stderr().contains("trying again"), "{}", w.stderr());
    w.signal("TERM");
    assert_eq!(w.wait(LONG).0, Some(0));
}

#[test]
fn a_mailbox_that_does_not_exist_stops_the_watcher_with_exit_3() {
    let d = Dovecot::start();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    let out = run(watch(&d, &db).args(["--mailbox", "No-Such-Box"]));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out)
            .contains("cannot select No-Such-Box: Mailbox doesn't exist"),
        "{}",
        stderr(&out)
    );
}
