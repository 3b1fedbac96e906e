//! MTA log benchmark (`cargo bench --bench logs [-- LINES]`, default 10
//! million lines): writes a synthetic Postfix log, then runs the release
//! binary `rebound ingest --log postfix FILE --db DB` as a whole process
//! on it and prints lines/s, wall and CPU time, and the child's peak RSS
//! (from `wait4`), with its resident memory sampled over the run to show
//! whether it stays flat. The ledger is then checked to hold one event
//! per status line, and a second run to read nothing new.
//!
//! The log is what Postfix writes for a list server submitting over SMTP
//! (deterministic, from a fixed seed): `smtpd` `connect from` /
//! `client=` / `disconnect from` (1 to 20 messages a connection),
//! `cleanup` `message-id=`, `qmgr` `from=` ... `(queue active)`, one
//! `smtp` `to=` status line per delivery attempt and `qmgr` `removed`.
//! Status lines are 90% `sent`, 8% `deferred`, 2% `bounced`, with the
//! replies of Gmail, Outlook, Yahoo and generic Postfix servers. A
//! deferred message is tried again later (its retry is drawn from the
//! same mix); after five deferrals it expires (`status=expired,
//! returned to sender`). Each bounce or expiry is followed by Postfix's
//! own non-delivery notification to the list's bounce address (a null
//! sender: no event). Recipients are drawn from 1 million addresses.
//!
//! `REBOUND_BENCH_DIR` names where the log and the ledger are written
//! (default: a temporary directory); `REBOUND_BENCH_BIN` another
//! `rebound` binary to measure (an earlier build, for a before/after).

use std::collections::VecDeque;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// A cheap deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A receiving system: its recipient domain (`{n}`: a numbered one), MX
/// host, its acceptance, and its refusals (enhanced status, reply).
struct Receiver {
    domain: &'static str,
    mx: &'static str,
    accept: &'static str,
    bounces: &'static [(&'static str, &'static str)],
    deferrals: &'static [(&'static str, &'static str)],
}

// Replies as these systems write them (`{r}`: the recipient, `{q}`: a
// queue id, `{d}`: the domain).
#[rustfmt::skip]
const RECEIVERS: &[Receiver] = &[
    Receiver {
        domain: "gmail.com",
        mx: "gmail-smtp-in.l.google.com[192.0.2.10]",
        accept: "250 2.0.0 OK  1733443200 {q}.123 - gsmtp",
        bounces: &[
            ("5.1.1", "550-5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. For more information, go to 550 5.1.1  https://support.google.com/mail/?p=NoSuchUser {q}.123 - gsmtp"),
            ("5.7.26", "550-5.7.26 Unauthenticated email from lists.example.com is not accepted due to domain's DMARC policy. Please contact the administrator of lists.example.com domain if this was a legitimate mail. To learn about the DMARC initiative, go to 550 5.7.26  https://support.google.com/mail/?p=DmarcRejection {q}.123 - gsmtp"),
        ],
        deferrals: &[
            ("4.2.2", "452-4.2.2 The recipient's inbox is out of storage space. Please direct the recipient to 452 4.2.2  https://support.google.com/mail/?p=OverQuotaTemp {q}.123 - gsmtp"),
            ("4.7.28", "421-4.7.28 Gmail has detected an unusual rate of unsolicited mail originating from your IP address. To protect our users from spam, mail sent from your IP address has been temporarily rate limited. 421 4.7.28  https://support.google.com/mail/?p=UnsolicitedRateLimitError {q}.123 - gsmtp"),
        ],
    },
    Receiver {
        domain: "outlook.com",
        mx: "outlook-com.olc.protection.outlook.com[192.0.2.20]",
        accept: "250 2.6.0 <{q}@lists.example.com> [InternalId=1234567890123, Hostname=AM0PR01MB1234.eurprd01.prod.outlook.com] 10240 bytes in 0.101, 98.512 KB/sec Queued mail for delivery",
        bounces: &[
            ("5.5.0", "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [AM0PR01MB1234.eurprd01.prod.outlook.com]"),
            ("5.7.1", "550 5.7.1 Unfortunately, messages from [198.51.100.1] weren't sent. Please contact your Internet service provider since part of their network is on our block list (S3150). You can also refer your provider to http://mail.live.com/mail/troubleshooting.aspx#errors. [AM0PR01MB1234.eurprd01.prod.outlook.com]"),
        ],
        deferrals: &[
            ("4.7.650", "451 4.7.650 The mail server [198.51.100.1] has been temporarily rate limited due to IP reputation. For e-mail delivery information, see https://postmaster.live.com (S775) [AM0PR01MB1234.eurprd01.prod.outlook.com]"),
        ],
    },
    Receiver {
        domain: "yahoo.com",
        mx: "mta5.am0.yahoodns.net[192.0.2.30]",
        accept: "250 ok dirdel",
        bounces: &[
            ("5.0.0", "554 delivery error: dd This user doesn't have a yahoo.com account ({r}) [0] - mta1234.mail.gq1.yahoo.com"),
        ],
        deferrals: &[
            ("4.7.0", "421 4.7.0 [TSS04] Messages from 198.51.100.1 temporarily deferred due to unexpected volume or user complaints - 4.16.55.1; see https://postmaster.yahooinc.com/error-codes"),
        ],
    },
    Receiver {
        domain: "example{n}.org",
        mx: "mx.{d}[192.0.2.40]",
        accept: "250 2.0.0 Ok: queued as {q}",
        bounces: &[
            ("5.1.1", "550 5.1.1 <{r}>: Recipient address rejected: User unknown in virtual mailbox table"),
            ("5.7.1", "554 5.7.1 Service unavailable; Client host [198.51.100.1] blocked using zen.spamhaus.org; https://www.spamhaus.org/query/ip/198.51.100.1"),
            ("5.2.2", "552 5.2.2 <{r}>: Recipient address rejected: Mailbox full"),
        ],
        deferrals: &[
            ("4.2.2", "452 4.2.2 <{r}>: Mailbox full"),
            ("4.7.1", "450 4.7.1 <{r}>: Recipient address rejected: Greylisted, see https://postgrey.schweikert.ch/help/{d}.html"),
            ("4.4.1", ""),
        ],
    },
];

/// What the generator wrote.
#[derive(Debug, Default)]
struct Written {
    lines: u64,
    bytes: u64,
    messages: u64,
    sent: u64,
    deferred: u64,
    bounced: u64,
    expired: u64,
    notifications: u64,
}

impl Written {
    /// Events the log gives: one per status line of a list message, one
    /// per expiry (notifications give none).
    fn events(&self) -> u64 {
        self.sent + self.deferred + self.bounced + self.expired
    }
}

/// A message waiting for its next delivery attempt.
struct Queued {
    qid: String,
    rcpt: String,
    receiver: usize,
    domain: String,
    deferrals: u32,
    /// The message number after which it is tried again.
    due: u64,
}

/// The log being written.
struct Log {
    w: BufWriter<std::fs::File>,
    n: Written,
    rng: Rng,
    /// Deferred messages, by the time of their next attempt.
    retries: VecDeque<Queued>,
    next_qid: u64,
    /// Messages so far (the clock: about 30 a second).
    msg: u64,
}

/// A syslog stamp `t` seconds after 00:00 on 6 December.
fn stamp(t: u64) -> String {
    format!(
        "Dec  {} {:02}:{:02}:{:02}",
        6 + t / 86_400,
        (t / 3600) % 24,
        (t / 60) % 60,
        t % 60
    )
}

impl Log {
    fn line(&mut self, text: std::fmt::Arguments<'_>) -> std::io::Result<()> {
        let s = text.to_string();
        self.n.lines += 1;
        self.n.bytes += s.len() as u64 + 1;
        self.w.write_all(s.as_bytes())?;
        self.w.write_all(b"\n")
    }

    fn now(&self) -> String {
        stamp(self.msg / 30)
    }

    /// A new queue id in Postfix's long form (base 52, unique: a
    /// multiplication modulo 52^11 by a number prime to it).
    fn qid(&mut self) -> String {
        const DIGITS: &[u8; 52] =
            b"0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";
        const SPAN: u128 = 52u128.pow(11);
        self.next_qid += 1;
        let mut v = u128::from(self.next_qid) * 0x9E37_79B9_7F4A_7C15 % SPAN;
        let mut s = String::from("4Y");
        for _ in 0..11 {
            s.push(char::from(DIGITS[(v % 52) as usize]));
            v /= 52;
        }
        s
    }

    /// One SMTP session of the list server submitting 1 to 20 messages,
    /// each tried at once; retries that fall due are tried after each.
    fn session(&mut self, pid: u32) -> std::io::Result<()> {
        let count = 1 + self.rng.below(20);
        let st = self.now();
        self.line(format_args!(
            "{st} mta postfix/smtpd[{pid}]: connect from lists.example.com[198.51.100.7]"
        ))?;
        for _ in 0..count {
            self.msg += 1;
            self.n.messages += 1;
            let st = self.now();
            let q = self.qid();
            let user = self.rng.below(1_000_000);
            let receiver = match self.rng.below(10) {
                0..=3 => 0,
                4 | 5 => 1,
                6 => 2,
                _ => 3,
            };
            let domain = RECEIVERS[receiver]
                .domain
                .replace("{n}", &(user % 1000).to_string());
            let rcpt = format!("user{user}@{domain}");
            let size = 4096 + self.rng.below(30_000);
            let msg = self.msg;
            self.line(format_args!(
                "{st} mta postfix/smtpd[{pid}]: {q}: client=lists.example.com[198.51.100.7]"
            ))?;
            self.line(format_args!(
                "{st} mta postfix/cleanup[2101]: {q}: message-id=<{msg}.{user}@lists.example.com>"
            ))?;
            self.line(format_args!(
                "{st} mta postfix/qmgr[2102]: {q}: from=<bounces+{user}@lists.example.com>, size={size}, nrcpt=1 (queue active)"
            ))?;
            self.attempt(Queued {
                qid: q,
                rcpt,
                receiver,
                domain,
                deferrals: 0,
                due: 0,
            })?;
            while self.retries.front().is_some_and(|m| m.due <= self.msg) {
                let m = self.retries.pop_front().expect("a due retry");
                self.attempt(m)?;
            }
        }
        let st = self.now();
        self.line(format_args!(
            "{st} mta postfix/smtpd[{pid}]: disconnect from lists.example.com[198.51.100.7] ehlo=1 mail={count} rcpt={count} data={count} quit=1 commands={}",
            3 * count + 2
        ))
    }

    /// One delivery attempt of `m`: 90% sent, 8% deferred (tried again
    /// about 10 minutes later; expired after five), 2% bounced.
    fn attempt(&mut self, mut m: Queued) -> std::io::Result<()> {
        let st = self.now();
        let r = &RECEIVERS[m.receiver];
        let mx = r.mx.replace("{d}", &m.domain);
        let fill = |t: &str, q: &str| {
            t.replace("{r}", &m.rcpt)
                .replace("{d}", &m.domain)
                .replace("{q}", q)
        };
        let roll = self.rng.below(100);
        let delay = format!(
            "delay={}.{}, delays=0.01/0/0.{}/0.{}",
            m.deferrals * 600 + self.rng.below(3) as u32,
            self.rng.below(100),
            self.rng.below(10),
            self.rng.below(10)
        );
        let (qid, rcpt) = (m.qid.clone(), m.rcpt.clone());
        if roll < 90 {
            self.n.sent += 1;
            let remote = self.qid();
            let text = fill(r.accept, &remote);
            self.line(format_args!(
                "{st} mta postfix/smtp[2201]: {qid}: to=<{rcpt}>, relay={mx}:25, {delay}, dsn=2.0.0, status=sent ({text})"
            ))?;
        } else if roll < 98 {
            self.n.deferred += 1;
            let (dsn, text) =
                r.deferrals[self.rng.below(r.deferrals.len() as u64) as usize];
            if text.is_empty() {
                self.line(format_args!(
                    "{st} mta postfix/smtp[2201]: {qid}: to=<{rcpt}>, relay=none, {delay}, dsn={dsn}, status=deferred (connect to {}:25: Connection timed out)",
                    mx
                ))?;
            } else {
                let text = fill(text, &self.qid());
                let host = mx.split_once('[').map_or(mx.as_str(), |(h, _)| h);
                self.line(format_args!(
                    "{st} mta postfix/smtp[2201]: {qid}: to=<{rcpt}>, relay={mx}:25, {delay}, dsn={dsn}, status=deferred (host {host}[{}] said: {text} (in reply to RCPT TO command))",
                    mx.split_once('[').map_or("", |(_, ip)| ip.trim_end_matches(']'))
                ))?;
            }
            m.deferrals += 1;
            if m.deferrals < 5 {
                // About ten minutes later.
                m.due = self.msg + 18_000;
                self.retries.push_back(m);
                return Ok(());
            }
            self.n.expired += 1;
            self.line(format_args!(
                "{st} mta postfix/qmgr[2102]: {qid}: from=<bounces@lists.example.com>, status=expired, returned to sender"
            ))?;
            self.notify(&qid)?;
        } else {
            self.n.bounced += 1;
            let (dsn, text) =
                r.bounces[self.rng.below(r.bounces.len() as u64) as usize];
            let text = fill(text, &self.qid());
            let (host, ip) = mx.split_once('[').unwrap_or((&mx, ""));
            self.line(format_args!(
                "{st} mta postfix/smtp[2201]: {qid}: to=<{rcpt}>, relay={mx}:25, {delay}, dsn={dsn}, status=bounced (host {host}[{ip} said: {text} (in reply to RCPT TO command))"
            ))?;
            self.notify(&qid)?;
        }
        self.line(format_args!("{st} mta postfix/qmgr[2102]: {qid}: removed"))
    }

    /// Postfix's non-delivery notification about `qid` to the list's
    /// bounce address (a null sender).
    fn notify(&mut self, qid: &str) -> std::io::Result<()> {
        self.n.notifications += 1;
        let st = self.now();
        let nq = self.qid();
        self.line(format_args!(
            "{st} mta postfix/bounce[2301]: {qid}: sender non-delivery notification: {nq}"
        ))?;
        self.line(format_args!(
            "{st} mta postfix/cleanup[2101]: {nq}: message-id=<{nq}@mta.example.com>"
        ))?;
        self.line(format_args!(
            "{st} mta postfix/qmgr[2102]: {nq}: from=<>, size=6210, nrcpt=1 (queue active)"
        ))?;
        self.line(format_args!(
            "{st} mta postfix/smtp[2202]: {nq}: to=<bounces@lists.example.com>, relay=lists.example.com[198.51.100.7]:25, delay=0.05, delays=0/0/0.02/0.03, dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 4Y{nq})"
        ))?;
        self.line(format_args!("{st} mta postfix/qmgr[2102]: {nq}: removed"))
    }
}

/// Writes the log (`lines` lines at least, whole SMTP sessions) to `out`.
fn generate(out: &Path, lines: u64) -> std::io::Result<Written> {
    let mut log = Log {
        w: BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?),
        n: Written::default(),
        rng: Rng(42),
        retries: VecDeque::new(),
        next_qid: 0,
        msg: 0,
    };
    let mut pid = 3000;
    while log.n.lines < lines {
        pid += 1;
        log.session(pid)?;
    }
    log.w.flush()?;
    Ok(log.n)
}

/// What a child process used, from `wait4`.
struct Usage {
    wall: Duration,
    cpu: f64,
    max_rss_mb: f64,
    /// Context switches: waiting (I/O, locks) and preempted (a busy
    /// machine); kilobytes written.
    waits: i64,
    preempted: i64,
    written_mb: f64,
    /// Resident memory (MB) sampled every second.
    samples: Vec<f64>,
    ok: bool,
    stderr: String,
}

/// Runs `rebound ingest --log postfix LOG --db DB` and measures it.
fn ingest(log: &Path, db: &Path, stderr_to: &Path) -> Usage {
    let err = std::fs::File::create(stderr_to).expect("stderr file");
    let start = Instant::now();
    let bin = std::env::var_os("REBOUND_BENCH_BIN")
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_rebound").into());
    let child = Command::new(bin)
        .args(["ingest", "--log", "postfix"])
        .arg(log)
        .arg("--db")
        .arg(db)
        .env_remove("REBOUND_DB")
        .stderr(err)
        .spawn()
        .expect("rebound starts");
    let pid = child.id() as libc::pid_t;
    let mut samples = Vec::new();
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of the plain C struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: waits for our own child; `status` and `ru` are valid
        // for writes.
        let got =
            unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut ru) };
        if got == pid {
            break;
        }
        assert!(got == 0, "wait4 failed: {}", std::io::Error::last_os_error());
        let rss = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| {
                    l.split_whitespace().nth(1)?.parse::<f64>().ok()
                })
            });
        if let Some(kb) = rss
            && start.elapsed().as_millis() as usize / 1000 >= samples.len()
        {
            samples.push(kb / 1024.0);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let wall = start.elapsed();
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    std::mem::forget(child);
    Usage {
        wall,
        cpu: secs(ru.ru_utime) + secs(ru.ru_stime),
        max_rss_mb: ru.ru_maxrss as f64 / 1024.0,
        waits: ru.ru_nvcsw,
        preempted: ru.ru_nivcsw,
        written_mb: ru.ru_oublock as f64 * 512.0 / 1e6,
        samples,
        ok: libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        stderr: std::fs::read_to_string(stderr_to).unwrap_or_default(),
    }
}

/// Events in the ledger.
fn events_in(db: &Path) -> u64 {
    let c = rusqlite::Connection::open(db).expect("the ledger opens");
    c.query_row("SELECT count(*) FROM events", [], |r| r.get::<_, i64>(0))
        .expect("events counted") as u64
}

fn main() {
    let lines: u64 = std::env::args()
        .skip(1)
        .find_map(|a| a.replace('_', "").parse().ok())
        .unwrap_or(10_000_000);
    let tmp = tempfile::tempdir_in(
        std::env::var_os("REBOUND_BENCH_DIR")
            .unwrap_or_else(|| std::env::temp_dir().into()),
    )
    .expect("a temporary directory");
    let log = tmp.path().join("mail.log");
    let db = tmp.path().join("bench.db");
    let t = Instant::now();
    let n = generate(&log, lines).expect("the log is written");
    let status = n.sent + n.deferred + n.bounced;
    println!(
        "log: {} lines, {:.0} MB, {} messages, status lines {:.1}% sent / {:.1}% deferred / {:.1}% bounced, {} expired, {} notifications (written in {:.1} s)",
        n.lines,
        n.bytes as f64 / 1e6,
        n.messages,
        100.0 * n.sent as f64 / status as f64,
        100.0 * n.deferred as f64 / status as f64,
        100.0 * n.bounced as f64 / status as f64,
        n.expired,
        n.notifications,
        t.elapsed().as_secs_f64()
    );
    let u = ingest(&log, &db, &tmp.path().join("stderr"));
    assert!(u.ok, "rebound ingest failed: {}", u.stderr);
    let wall = u.wall.as_secs_f64();
    println!(
        "ingest: {:.0} lines/s (wall), {:.0} lines/s (CPU); wall {wall:.1} s, CPU {:.1} s, peak RSS {:.0} MB (target >= 200,000 lines/s, flat memory)",
        n.lines as f64 / wall,
        n.lines as f64 / u.cpu,
        u.cpu,
        u.max_rss_mb
    );
    println!(
        "  {} waits, {} preemptions, {:.0} MB written; load average {}",
        u.waits,
        u.preempted,
        u.written_mb,
        std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim()
    );
    let step = (u.samples.len() / 10).max(1);
    let rss: Vec<String> =
        u.samples.iter().step_by(step).map(|m| format!("{m:.0}")).collect();
    println!("RSS every {step} s (MB): {}", rss.join(" "));
    print!("{}", u.stderr);
    let recorded = events_in(&db);
    assert_eq!(recorded, n.events(), "events in the ledger");
    let again = ingest(&log, &db, &tmp.path().join("stderr"));
    assert!(
        again.ok && again.stderr.contains(" 0 new events"),
        "second run: {}",
        again.stderr
    );
    println!(
        "ledger: {recorded} events ({:.0} MB); a second run read nothing new in {:.2} s",
        std::fs::metadata(&db).map_or(0.0, |m| m.len() as f64 / 1e6),
        again.wall.as_secs_f64()
    );
}
