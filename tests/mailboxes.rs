//! Mailboxes as they are, against a real Dovecot: shared inboxes
//! (`--non-bounces leave|flag`), folders found by their SPECIAL-USE
//! attribute, Gmail's way of deleting (a move to the trash), and a server
//! that throttles (the sweep waits and finishes).

use std::collections::BTreeSet;
use std::time::Duration;

use crate::dovecot::{self, Dovecot, PASSWORD};
use crate::imap::{db_in, events, run, stderr, summary, sweep};
use crate::util::Background;

/// The file names in a folder's `cur/` and `new/` (Maildir keeps the
/// flags in them: `:2,S` is \Seen).
fn files(d: &Dovecot, folder: &str) -> BTreeSet<String> {
    ["cur", "new"]
        .iter()
        .flat_map(|sub| {
            std::fs::read_dir(d.folder(folder).join(sub))
                .into_iter()
                .flatten()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        })
        .collect()
}

#[test]
fn leave_keeps_ordinary_mail_unread_in_place_and_unfetched_next_time() {
    let d = Dovecot::start();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    d.deliver("INBOX", (0..3).map(dovecot::not_a_bounce));
    let ordinary = files(&d, "INBOX");
    d.deliver("INBOX", (0..10).map(|i| dovecot::bounce(i, 0)));
    d.deliver("INBOX", [dovecot::not_a_bounce(9)]);
    let out = run(sweep(&d, &db).args(["--non-bounces", "leave"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(summary(&out), [14, 10, 10, 10, 0, 0]);
    assert!(stderr(&out).contains("4 ordinary messages left in place"));
    assert!(!stderr(&out).contains("quarantined imap:"));
    assert!(!d.folder("Quarantine").exists(), "no quarantine folder made");
    let now = files(&d, "INBOX");
    assert_eq!(now.len(), 4);
    assert!(ordinary.is_subset(&now), "untouched: {now:?}");
    assert!(now.iter().all(|f| f.ends_with(":2,")), "still unread: {now:?}");
    assert_eq!(d.count("Processed"), 10);

    // The next sweeps fetch none of them again, only what is new.
    let out = run(sweep(&d, &db).args(["--non-bounces", "leave"]));
    assert_eq!(summary(&out), [0, 0, 0, 0, 0, 0]);
    d.deliver("INBOX", [dovecot::bounce(20, 0)]);
    let out = run(sweep(&d, &db).args(["--non-bounces", "leave"]));
    assert_eq!(summary(&out), [1, 1, 1, 1, 0, 0]);
    // Even a sweep that re-checks everything below the checkpoint (as
    // after a crash: every run of `sweep` does) skips them.
    let c = rusqlite::Connection::open(&db).unwrap();
    let left: i64 = c
        .query_row("SELECT count(*) FROM left_messages", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 4);
    // A person deletes one: the ledger forgets it.
    let gone = now.iter().next().unwrap();
    std::fs::remove_file(d.folder("INBOX").join("cur").join(gone)).unwrap();
    let out = run(sweep(&d, &db).args(["--non-bounces", "leave"]));
    assert_eq!(summary(&out), [0, 0, 0, 0, 0, 0]);
    let left: i64 = c
        .query_row("SELECT count(*) FROM left_messages", [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 3);
}

#[test]
fn flag_marks_ordinary_mail_and_leaves_it() {
    let d = Dovecot::start();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    d.deliver("INBOX", (0..5).map(|i| dovecot::bounce(i, 0)));
    d.deliver("INBOX", (0..2).map(dovecot::not_a_bounce));
    let out = run(sweep(&d, &db).args(["--non-bounces", "flag"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(summary(&out), [7, 5, 5, 5, 0, 0]);
    assert_eq!(d.count("INBOX"), 2);
    let keywords =
        std::fs::read_to_string(d.folder("INBOX").join("dovecot-keywords"))
            .unwrap_or_default();
    assert!(keywords.contains("$NotBounce"), "{keywords}");
    let flagged = files(&d, "INBOX");
    assert!(
        flagged.iter().all(|f| f.ends_with(":2,a")),
        "keyword a, not \\Seen: {flagged:?}"
    );
    let out = run(sweep(&d, &db).args(["--non-bounces", "flag"]));
    assert_eq!(summary(&out), [0, 0, 0, 0, 0, 0]);
}

#[test]
fn folders_are_found_by_their_special_use_attribute() {
    let d = Dovecot::start();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    d.deliver("INBOX", (0..6).map(|i| dovecot::bounce(i, 0)));
    d.deliver("INBOX", [dovecot::garbage(1)]);
    let args =
        ["--processed-folder", "\\Archive", "--quarantine-folder", "\\Junk"];
    // Not there yet: a clear configuration error, nothing touched.
    let out = run(sweep(&d, &db).args(args));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("SPECIAL-USE attribute \\Archive"),
        "{}",
        stderr(&out)
    );
    assert_eq!(d.count("INBOX"), 7);
    // The server's folders carry the attributes under local names.
    d.create_folder("Archiv");
    d.create_folder("Junk-E-Mail");
    let out = run(sweep(&d, &db).args(args));
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(summary(&out), [7, 6, 6, 6, 0, 1]);
    assert_eq!(d.count("Archiv"), 6);
    assert_eq!(d.count("Junk-E-Mail"), 1);
    assert!(
        !d.folder("\\Archive").exists() && !d.folder("Processed").exists()
    );
}

#[test]
fn on_gmail_delete_moves_to_the_trash_folder() {
    let d = Dovecot::start();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    // Dovecot announcing Gmail's extension, with a German Gmail trash.
    d.reconfigure("protocol imap {\n  imap_capability = +X-GM-EXT-1\n}");
    d.create_folder("[Gmail]");
    d.create_folder("[Gmail].Papierkorb");
    d.deliver("INBOX", (0..8).map(|i| dovecot::bounce(i, 0)));
    let out = run(sweep(&d, &db).args(["--after", "delete"]));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(summary(&out), [8, 8, 8, 8, 0, 0]);
    assert_eq!(d.count("INBOX"), 0);
    assert_eq!(d.count("[Gmail].Papierkorb"), 8, "moved, not expunged");
    assert!(!d.folder("Processed").exists());
}

#[test]
fn a_throttling_server_is_waited_for_and_the_sweep_completes() {
    let d = Dovecot::start();
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    d.deliver("INBOX", (0..30).map(|i| dovecot::bounce(i, 0)));
    // Two sessions per user and address; another client holds one, so
    // the sweep's second login gets "NO [LIMIT] Maximum number of
    // connections" (RFC 5530) until that client leaves.
    d.reconfigure("protocol imap {\n  mail_max_userip_connections = 2\n}");
    let account = rebound::sweep::Config::parse(&format!(
        "[[account]]\nhost = \"127.0.0.1\"\nport = {}\nca_file = {:?}\n\
         user = \"bounces\"\npassword_env = \"RB_UNUSED\"\n",
        d.imaps_port, d.ca
    ))
    .unwrap()
    .accounts
    .remove(0)
    .resolve()
    .unwrap();
    let credential =
        rebound::sweep::config::Credential::Password(PASSWORD.into());
    let open = || rebound::sweep::connect::open(&account, &credential);
    let mut held = open().unwrap();
    // The new limit holds for sessions started after the reload: wait
    // until a third session is refused.
    let in_force = Background::wait_until(Duration::from_secs(30), || {
        let second = open().unwrap();
        let third = open();
        drop(second);
        third.is_err()
    });
    assert!(in_force.is_some(), "the connection limit never applied");
    std::thread::sleep(Duration::from_millis(300));
    let w = Background::spawn(&mut sweep(&d, &db));
    w.expect_stderr("trying again in", Duration::from_secs(30));
    assert!(w.stderr().contains("[LIMIT]"), "{}", w.stderr());
    std::thread::sleep(Duration::from_millis(1500));
    held.logout().unwrap();
    let (code, err) = w.wait(Duration::from_secs(120));
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("swept 30 messages"), "{err}");
    assert_eq!(events(&db), (30, 30));
}
