//! A private Dovecot IMAP (and POP3) server for the sweep tests and
//! benchmarks, run with `tests/support/dovecot-test-server.sh` in a
//! temporary directory on free loopback ports (login `bounces` /
//! `secret`, also accepted as an XOAUTH2 bearer token, and optionally any
//! token an introspection endpoint calls active), delivery with Dovecot's
//! LDA, restarts, plus a generator of authored bounce messages.
//!
//! A missing Dovecot is a test failure, never a skip.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The login of the test server.
pub const USER: &str = "bounces";
/// The password (and bearer token) of the test server.
pub const PASSWORD: &str = "secret";

/// A running Dovecot; stopped and deleted on drop.
pub struct Dovecot {
    dir: tempfile::TempDir,
    /// Plain IMAP port (offers STARTTLS).
    pub imap_port: u16,
    /// Implicit TLS port.
    pub imaps_port: u16,
    /// The CA certificate that signed the server certificate.
    pub ca: PathBuf,
    /// POP3 port (offers STLS), when started with POP3.
    pub pop3_port: u16,
    /// POP3 implicit TLS port, when started with POP3.
    pub pop3s_port: u16,
    /// The OAuth2 introspection URL Dovecot asks, if any.
    introspection: Option<String>,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/support/dovecot-test-server.sh")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a free port")
        .port()
}

/// Runs the script's `start` in `dir` on `ports` (IMAP, IMAPS and
/// optionally POP3, POP3S): the CA path, or the script's stderr.
fn run_start(
    dir: &Path,
    ports: &[u16],
    introspection: Option<&str>,
) -> Result<PathBuf, String> {
    let mut c = Command::new("bash");
    c.arg(script()).arg("start").arg(dir);
    c.args(ports.iter().map(u16::to_string));
    if let Some(url) = introspection {
        c.env("DOVECOT_TEST_OAUTH2_INTROSPECTION_URL", url);
    }
    let out = c.output().expect("run dovecot-test-server.sh");
    match out.status.success() {
        true => Ok(String::from_utf8_lossy(&out.stdout).trim().into()),
        false => Err(String::from_utf8_lossy(&out.stderr).into_owned()),
    }
}

static FILES: AtomicUsize = AtomicUsize::new(0);

impl Dovecot {
    /// Starts an IMAP server; panics (fails the test) when Dovecot is
    /// missing or does not start.
    pub fn start() -> Dovecot {
        Dovecot::launch(false, None)
    }

    /// Starts an IMAP and POP3 server (`dovecot-pop3d`).
    pub fn start_with_pop3() -> Dovecot {
        Dovecot::launch(true, None)
    }

    /// Starts an IMAP server that also accepts the bearer tokens the
    /// RFC 7662 endpoint at `url` calls active (Dovecot's oauth2 passdb).
    pub fn start_with_introspection(url: &str) -> Dovecot {
        Dovecot::launch(false, Some(url.to_string()))
    }

    fn launch(pop3: bool, introspection: Option<String>) -> Dovecot {
        assert!(
            Path::new("/usr/sbin/dovecot").exists()
                || Command::new("sh")
                    .args(["-c", "command -v dovecot"])
                    .output()
                    .is_ok_and(|o| o.status.success()),
            "dovecot is not installed: the IMAP tests need it (apt-get install dovecot-imapd dovecot-pop3d)"
        );
        // Unix sockets live in DIR/run: keep the path short.
        let dir = tempfile::Builder::new()
            .prefix("rbdv")
            .tempdir_in("/tmp")
            .expect("temp dir");
        for _ in 0..5 {
            let ports: Vec<u16> =
                (0..if pop3 { 4 } else { 2 }).map(|_| free_port()).collect();
            let mut unique = ports.clone();
            unique.sort_unstable();
            unique.dedup();
            if unique.len() != ports.len() {
                continue;
            }
            match run_start(dir.path(), &ports, introspection.as_deref()) {
                Ok(ca) => {
                    return Dovecot {
                        dir,
                        imap_port: ports[0],
                        imaps_port: ports[1],
                        ca,
                        pop3_port: ports.get(2).copied().unwrap_or(0),
                        pop3s_port: ports.get(3).copied().unwrap_or(0),
                        introspection,
                    };
                }
                Err(e) if e.contains("Address already in use") => {}
                Err(e) => panic!("dovecot did not start: {e}"),
            }
        }
        panic!("dovecot: no free ports after 5 tries");
    }

    fn ports(&self) -> Vec<u16> {
        let mut p = vec![self.imap_port, self.imaps_port];
        if self.pop3_port != 0 {
            p.extend([self.pop3_port, self.pop3s_port]);
        }
        p
    }

    /// Stops the server (the mail stays).
    pub fn stop(&self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("stop")
            .arg(self.dir.path())
            .output();
    }

    /// Starts the stopped server again on the same ports (retrying while
    /// the old sockets linger).
    pub fn start_again(&self) {
        let mut last = String::new();
        for _ in 0..50 {
            match run_start(
                self.dir.path(),
                &self.ports(),
                self.introspection.as_deref(),
            ) {
                Ok(_) => return,
                Err(e) => last = e,
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        panic!("dovecot did not start again: {last}");
    }

    /// Delivers one message to INBOX with Dovecot's LDA (`dovecot-lda`),
    /// as an MTA would; the server's IDLE sessions hear of it.
    pub fn lda(&self, message: &[u8]) {
        use std::io::Write;
        let mut child = Command::new("bash")
            .arg(script())
            .arg("deliver")
            .arg(self.dir.path())
            .stdin(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run dovecot-lda");
        child.stdin.take().unwrap().write_all(message).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "dovecot-lda failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The server's directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The Maildir of a folder (`INBOX` is the root, `X` is `.X`).
    pub fn folder(&self, name: &str) -> PathBuf {
        let root = self.dir.path().join("mail").join(USER);
        if name.eq_ignore_ascii_case("INBOX") {
            root
        } else {
            root.join(format!(".{name}"))
        }
    }

    /// Puts messages straight into a folder's `cur/` (the next SELECT
    /// indexes them), owned like the directory.
    pub fn deliver<I: IntoIterator<Item = Vec<u8>>>(
        &self,
        folder: &str,
        msgs: I,
    ) {
        use std::os::unix::fs::MetadataExt;
        let cur = self.folder(folder).join("cur");
        let meta = std::fs::metadata(&cur).expect("folder exists");
        for m in msgs {
            let n = FILES.fetch_add(1, Ordering::Relaxed);
            let path = cur.join(format!(
                "1700000000.M{n}P{}.rbtest,S={}:2,",
                std::process::id(),
                m.len()
            ));
            std::fs::write(&path, &m).expect("write message");
            std::os::unix::fs::chown(
                &path,
                Some(meta.uid()),
                Some(meta.gid()),
            )
            .expect("chown message");
        }
    }

    /// Creates a folder's Maildir (`cur`, `new`, `tmp`), owned like the
    /// root (`name` as on disk: `A.B` is `A/B` on the wire).
    pub fn create_folder(&self, name: &str) {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(self.folder("INBOX")).expect("maildir");
        let dir = self.folder(name);
        for sub in ["", "cur", "new", "tmp"] {
            let p = dir.join(sub);
            std::fs::create_dir_all(&p).expect("create folder");
            std::os::unix::fs::chown(&p, Some(meta.uid()), Some(meta.gid()))
                .expect("chown folder");
        }
    }

    /// Messages in a folder (files in `cur/` and `new/`).
    pub fn count(&self, folder: &str) -> usize {
        ["cur", "new"]
            .iter()
            .map(|d| {
                std::fs::read_dir(self.folder(folder).join(d))
                    .map(|r| r.count())
                    .unwrap_or(0)
            })
            .sum()
    }

    /// Appends settings to the server's configuration and reloads it
    /// (SIGHUP; the listeners stay up).
    pub fn reconfigure(&self, extra: &str) {
        use std::io::Write;
        let conf = self.dir.path().join("dovecot.conf");
        let mut f =
            std::fs::OpenOptions::new().append(true).open(&conf).unwrap();
        writeln!(f, "{extra}").unwrap();
        let reloads = || self.log().matches("reloading configuration").count();
        let before = reloads();
        let pid = std::fs::read_to_string(self.dir.path().join("dovecot.pid"))
            .unwrap();
        let ok =
            Command::new("kill").args(["-HUP", pid.trim()]).status().unwrap();
        assert!(ok.success(), "SIGHUP to dovecot");
        for _ in 0..100 {
            if reloads() > before {
                // The new config applies to processes started after this.
                std::thread::sleep(std::time::Duration::from_millis(200));
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("dovecot did not reload: {}", self.log());
    }

    /// The server log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("log/dovecot.log"))
            .unwrap_or_default()
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = Command::new("bash")
            .arg(script())
            .arg("stop")
            .arg(self.dir.path())
            .output();
    }
}

/// What an authored report says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// 5.1.1 unknown user (Postfix-style wording).
    UserUnknown,
    /// 4.2.2 mailbox full, retried and given up.
    MailboxFull,
    /// A delay warning (`Action: delayed`) about a message sent days ago.
    Delayed,
}

/// The kind of the `i`-th generated report: mostly unknown users, every
/// fifth a full mailbox, every seventh a delay warning.
pub fn kind_of(i: usize) -> Kind {
    if i % 7 == 3 {
        Kind::Delayed
    } else if i % 5 == 1 {
        Kind::MailboxFull
    } else {
        Kind::UserUnknown
    }
}

/// An RFC 3464 delivery status notification about `user<i>@example.org`,
/// CRLF line ends; `days_late` moves its dates into the past.
pub fn bounce(i: usize, days_late: u32) -> Vec<u8> {
    let kind = kind_of(i);
    let day = 20 - days_late.min(19);
    let date =
        format!("{day} Nov 2025 10:{:02}:{:02} +0000", i / 60 % 60, i % 60);
    let rcpt = format!("user{i}@example.org");
    let (action, status, diag, subject) = match kind {
        Kind::UserUnknown => (
            "failed",
            "5.1.1",
            format!("smtp; 550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in local recipient table"),
            "Undelivered Mail Returned to Sender",
        ),
        Kind::MailboxFull => (
            "failed",
            "5.2.2",
            format!("smtp; 552 5.2.2 <{rcpt}>: Mailbox full: quota exceeded"),
            "Undelivered Mail Returned to Sender",
        ),
        Kind::Delayed => (
            "delayed",
            "4.4.1",
            "X-Postfix; connect to mx.example.org[192.0.2.7]:25: Connection timed out".to_string(),
            "Delayed Mail (still being retried)",
        ),
    };
    let retry = if kind == Kind::Delayed {
        format!("Will-Retry-Until: {} Nov 2025 10:00:00 +0000\r\n", day + 5)
    } else {
        String::new()
    };
    format!(
        "Return-Path: <>\r\n\
Date: {date}\r\n\
From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\n\
To: bounces@example.com\r\n\
Subject: {subject}\r\n\
Message-ID: <dsn-{i}@mx.example.net>\r\n\
Auto-Submitted: auto-replied\r\n\
MIME-Version: 1.0\r\n\
Content-Type: multipart/report; report-type=delivery-status;\r\n\
\tboundary=\"B{i}\"\r\n\
\r\n\
--B{i}\r\n\
Content-Type: text/plain; charset=us-ascii\r\n\
\r\n\
This is the mail system at host mx.example.net.\r\n\
\r\n\
Your message could not be delivered to one or more recipients.\r\n\
\r\n\
<{rcpt}>: {diag}\r\n\
\r\n\
--B{i}\r\n\
Content-Type: message/delivery-status\r\n\
\r\n\
Reporting-MTA: dns; mx.example.net\r\n\
Arrival-Date: {date}\r\n\
\r\n\
Final-Recipient: rfc822; {rcpt}\r\n\
Original-Recipient: rfc822; {rcpt}\r\n\
Action: {action}\r\n\
Status: {status}\r\n\
Remote-MTA: dns; mx.example.org\r\n\
Diagnostic-Code: {diag}\r\n\
Last-Attempt-Date: {date}\r\n\
{retry}\
\r\n\
--B{i}\r\n\
Content-Type: text/rfc822-headers\r\n\
\r\n\
From: news@example.com\r\n\
To: {rcpt}\r\n\
Subject: November news\r\n\
Message-ID: <news-{i}@example.com>\r\n\
\r\n\
--B{i}--\r\n"
    )
    .into_bytes()
}

/// An ordinary message (no report): must go to quarantine.
pub fn not_a_bounce(i: usize) -> Vec<u8> {
    format!(
        "Date: Thu, 20 Nov 2025 09:00:00 +0000\r\n\
From: Alice <alice@example.com>\r\n\
To: bounces@example.com\r\n\
Subject: Lunch on Friday? {i}\r\n\
Message-ID: <lunch-{i}@example.com>\r\n\
\r\n\
Are you free for lunch on Friday?\r\n"
    )
    .into_bytes()
}

/// Bytes that are not a mail message at all: must go to quarantine.
pub fn garbage(i: usize) -> Vec<u8> {
    format!("\u{1}\u{2} binary junk {i} without any header line\r\n")
        .into_bytes()
}
