//! A private Postfix instance for the log tests, and the SMTP sink it
//! relays to.
//!
//! The instance lives in a temporary directory (its own
//! `config_directory`, `queue_directory` and `data_directory`, its log in
//! `maillog` through `maillog_file` and the `postlog` service, so no
//! syslog is needed), has no local delivery, and relays everything to
//! the sink, a small SMTP server on a loopback port that refuses chosen
//! recipients with chosen replies and keeps every message it accepts
//! (Postfix's own bounce notifications among them). Mail goes in through
//! Postfix's `sendmail -C DIR`. Running Postfix needs its `postfix` user
//! and `postdrop` group (the Debian package creates them) and root; a
//! missing Postfix fails the test with a message saying so.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One message the sink accepted.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// MAIL FROM (empty for a bounce notification).
    pub from: String,
    /// The message (LF line ends, dot-stuffing undone).
    pub data: String,
}

/// What the sink does; shared with its connection threads.
#[derive(Debug, Default)]
pub struct SinkState {
    /// Messages accepted.
    pub accepted: Vec<Accepted>,
    /// Times `full@` was refused.
    pub full_refusals: u32,
}

/// The SMTP sink.
pub struct Sink {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// What it accepted.
    pub state: Arc<Mutex<SinkState>>,
    /// While set, RCPT TO `slow@` gets no answer (Postfix times out).
    pub slow: Arc<AtomicBool>,
}

/// The reply to RCPT TO `rcpt`: `None` to say nothing (a timeout).
fn rcpt_reply(
    rcpt: &str,
    st: &Mutex<SinkState>,
    slow: bool,
) -> Option<String> {
    let local = rcpt.split('@').next().unwrap_or("");
    Some(match local {
        "unknown" => format!("550 5.1.1 <{rcpt}>: Recipient address rejected: unknown user"),
        "block" => "554 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org".into(),
        "full" => {
            let mut s = st.lock().unwrap();
            if s.full_refusals == 0 {
                s.full_refusals += 1;
                format!("452 4.2.2 <{rcpt}>: mailbox full")
            } else {
                "250 2.1.5 Ok".into()
            }
        }
        "slow" if slow => return None,
        _ => "250 2.1.5 Ok".into(),
    })
}

fn serve(stream: TcpStream, st: Arc<Mutex<SinkState>>, slow: Arc<AtomicBool>) {
    let mut out = stream.try_clone().unwrap();
    let mut r = BufReader::new(stream);
    let mut say = |s: &str| out.write_all(format!("{s}\r\n").as_bytes());
    if say("220 sink.example.net ESMTP").is_err() {
        return;
    }
    let mut from = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let cmd = line.trim_end().to_string();
        let upper = cmd.to_ascii_uppercase();
        let arg = |c: &str| {
            let a = c.split_once(':').map_or("", |(_, a)| a).trim();
            let a = a.split(' ').next().unwrap_or("");
            a.trim_start_matches('<').trim_end_matches('>').to_string()
        };
        let reply = if upper.starts_with("EHLO") {
            "250-sink.example.net\r\n250 8BITMIME".to_string()
        } else if upper.starts_with("HELO") {
            "250 sink.example.net".into()
        } else if upper.starts_with("MAIL FROM") {
            from = arg(&cmd);
            "250 2.1.0 Ok".into()
        } else if upper.starts_with("RCPT TO") {
            let rcpt = arg(&cmd);
            match rcpt_reply(&rcpt, &st, slow.load(Ordering::SeqCst)) {
                Some(rep) => rep,
                None => {
                    // Say nothing until the client gives up.
                    std::thread::sleep(Duration::from_secs(6));
                    return;
                }
            }
        } else if upper == "DATA" {
            if say("354 go ahead").is_err() {
                return;
            }
            let mut data = String::new();
            loop {
                line.clear();
                if r.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let l = line.trim_end_matches(['\r', '\n']);
                if l == "." {
                    break;
                }
                data.push_str(l.strip_prefix('.').unwrap_or(l));
                data.push('\n');
            }
            st.lock()
                .unwrap()
                .accepted
                .push(Accepted { from: from.clone(), data });
            "250 2.0.0 Ok: queued".into()
        } else if upper == "QUIT" {
            let _ = say("221 2.0.0 Bye");
            return;
        } else {
            "250 2.0.0 Ok".into()
        };
        if say(&reply).is_err() {
            return;
        }
    }
}

impl Sink {
    /// Starts the sink on a free loopback port.
    pub fn start() -> Sink {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(SinkState::default()));
        let slow = Arc::new(AtomicBool::new(false));
        let (st, sl) = (state.clone(), slow.clone());
        std::thread::spawn(move || {
            for s in l.incoming().flatten() {
                let (st, sl) = (st.clone(), sl.clone());
                std::thread::spawn(move || serve(s, st, sl));
            }
        });
        Sink { port, state, slow }
    }
}

/// A running private Postfix; stopped when dropped.
pub struct Postfix {
    /// Its directory (config in `etc/`, log in `maillog`).
    pub dir: tempfile::TempDir,
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("cannot run {cmd:?}: {e} (is Postfix installed? apt-get install postfix)")
    });
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

impl Postfix {
    /// Starts an instance relaying to `sink_port`. `lifetime` is
    /// `maximal_queue_lifetime` (how long a deferred message is retried).
    pub fn start(sink_port: u16, lifetime: &str) -> Postfix {
        assert!(
            Path::new("/usr/sbin/postfix").exists(),
            "Postfix is missing: the log tests run a real Postfix (apt-get install postfix; .ci/run installs it)"
        );
        let dir = tempfile::Builder::new()
            .prefix("rebound-postfix")
            .tempdir()
            .unwrap();
        let d = dir.path();
        for sub in ["etc", "queue", "data"] {
            std::fs::create_dir(d.join(sub)).unwrap();
        }
        run(Command::new("chown").arg("postfix").arg(d.join("data")));
        let main = format!(
            "compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mta.example.com
mydomain = example.com
myorigin = example.com
mydestination =
local_transport = error:no local delivery
alias_maps =
alias_database =
inet_interfaces = loopback-only
inet_protocols = ipv4
relayhost = [127.0.0.1]:{sink_port}
maillog_file = {d}/maillog
maillog_file_prefixes = {d}
smtp_connect_timeout = 2s
smtp_helo_timeout = 3s
smtp_rcpt_timeout = 2s
smtp_tls_security_level = none
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
maximal_queue_lifetime = {lifetime}
bounce_queue_lifetime = {lifetime}
delay_warning_time = 0
",
            d = d.display()
        );
        std::fs::write(d.join("etc/main.cf"), main).unwrap();
        let services = [
            ("pickup", "unix  n - n 60 1", "pickup"),
            ("cleanup", "unix  n - n - 0", "cleanup"),
            ("qmgr", "unix  n - n 300 1", "qmgr"),
            ("rewrite", "unix  - - n - -", "trivial-rewrite"),
            ("bounce", "unix  - - n - 0", "bounce"),
            ("defer", "unix  - - n - 0", "bounce"),
            ("trace", "unix  - - n - 0", "bounce"),
            ("verify", "unix  - - n - 1", "verify"),
            ("flush", "unix  n - n 1000? 0", "flush"),
            ("proxymap", "unix  - - n - -", "proxymap"),
            ("smtp", "unix  - - n - -", "smtp"),
            ("relay", "unix  - - n - -", "smtp"),
            ("showq", "unix  n - n - -", "showq"),
            ("error", "unix  - - n - -", "error"),
            ("retry", "unix  - - n - -", "error"),
            ("discard", "unix  - - n - -", "discard"),
            ("anvil", "unix  - - n - 1", "anvil"),
            ("scache", "unix  - - n - 1", "scache"),
            // Postfix >= 3.4 writes maillog_file through postlogd.
            ("postlog", "unix-dgram n - n - 1", "postlogd"),
        ];
        let master: String = services
            .iter()
            .map(|(n, how, cmd)| format!("{n} {how} {cmd}\n"))
            .collect();
        std::fs::write(d.join("etc/master.cf"), master).unwrap();
        run(Command::new("postfix").arg("-c").arg(d.join("etc")).arg("start"));
        Postfix { dir }
    }

    /// The configuration directory.
    pub fn etc(&self) -> PathBuf {
        self.dir.path().join("etc")
    }

    /// The log.
    pub fn maillog(&self) -> PathBuf {
        self.dir.path().join("maillog")
    }

    /// Sends a message from `sender@example.com` to `to` with this
    /// Message-ID, through `sendmail -C`.
    pub fn send(&self, to: &str, message_id: &str) {
        let mut child = Command::new("/usr/sbin/sendmail")
            .arg("-C")
            .arg(self.etc())
            .args(["-f", "sender@example.com", to])
            .stdin(Stdio::piped())
            .spawn()
            .expect("Postfix's sendmail runs");
        let msg = format!(
            "From: sender@example.com\nTo: {to}\nSubject: test\nMessage-ID: <{message_id}>\n\nhello {to}\n"
        );
        child.stdin.take().unwrap().write_all(msg.as_bytes()).unwrap();
        assert!(child.wait().unwrap().success());
    }

    /// Waits until the queue is empty (every message delivered, bounced
    /// or expired), at most `limit`.
    pub fn settle(&self, limit: Duration) {
        let start = Instant::now();
        loop {
            let q = run(Command::new("postqueue")
                .arg("-c")
                .arg(self.etc())
                .arg("-p"));
            if q.contains("Mail queue is empty") {
                return;
            }
            assert!(
                start.elapsed() < limit,
                "the Postfix queue did not settle in {limit:?}:\n{q}\nlog:\n{}",
                std::fs::read_to_string(self.maillog()).unwrap_or_default()
            );
            let _ = Command::new("postqueue")
                .arg("-c")
                .arg(self.etc())
                .arg("-f")
                .output();
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let _ = Command::new("postfix")
            .arg("-c")
            .arg(self.etc())
            .arg("stop")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}
