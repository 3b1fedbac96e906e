//! Writes a synthetic Postfix log for the `ingest --log` benchmark
//! (docs/logs.md): `cargo run --release --example maillog -- OUT [LINES]`
//! (default 10 million lines).
//!
//! Each message is logged as Postfix logs it: `cleanup` (message-id),
//! `qmgr` (from=, queue active), one delivery-agent status line, and
//! `qmgr` removed. The status lines are 90% `sent`, 8% `deferred` (those
//! messages stay queued: their later attempts are not generated, so the
//! reader's queue-id memory fills to its bound) and 2% `bounced`, with
//! the replies of the big providers and of generic servers; recipients
//! are drawn from 1 million addresses at 1,000 domains.

use std::io::{BufWriter, Write};

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
}

#[rustfmt::skip]
const BOUNCES: &[(&str, &str, &str)] = &[
    ("gmail.com", "gmail-smtp-in.l.google.com[192.0.2.10]", "550-5.1.1 The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. Learn more at https://support.google.com/mail/?p=NoSuchUser a1si1 - gsmtp"),
    ("outlook.com", "outlook-com.olc.protection.outlook.com[192.0.2.20]", "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). [AM0PR01MB1234.eurprd01.prod.outlook.com]"),
    ("yahoo.com", "mta5.am0.yahoodns.net[192.0.2.30]", "554 delivery error: dd This user doesn't have a yahoo.com account (x@yahoo.com) [0] - mta1234.mail.gq1.yahoo.com"),
    ("", "mx.{d}[192.0.2.40]", "550 5.1.1 <{r}>: Recipient address rejected: User unknown in virtual mailbox table"),
    ("", "mx.{d}[192.0.2.40]", "554 5.7.1 Service unavailable; Client host [198.51.100.1] blocked using zen.spamhaus.org"),
];

#[rustfmt::skip]
const DEFERRALS: &[&str] = &[
    "host mx.{d}[192.0.2.40] said: 452 4.2.2 <{r}>: Mailbox full (in reply to RCPT TO command)",
    "host mx.{d}[192.0.2.40] said: 421 4.7.0 Try again later, closing connection. (in reply to MAIL FROM command)",
    "connect to mx.{d}[192.0.2.40]:25: Connection timed out",
    "host mx.{d}[192.0.2.40] said: 450 4.2.0 <{r}>: Recipient address rejected: Greylisted, see https://postgrey.schweikert.ch/help/{d}.html (in reply to RCPT TO command)",
];

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let out = args.next().expect("usage: maillog OUT [LINES]");
    let lines: u64 =
        args.next().map_or(10_000_000, |n| n.parse().expect("a number"));
    let mut w = BufWriter::with_capacity(1 << 20, std::fs::File::create(out)?);
    let mut rng = Rng(42);
    let (mut written, mut msg) = (0u64, 0u64);
    while written < lines {
        msg += 1;
        // About 30 messages a second, from 00:00 on 6 December.
        let t = msg / 30;
        let stamp = format!(
            "Dec  6 {:02}:{:02}:{:02}",
            (t / 3600) % 24,
            (t / 60) % 60,
            t % 60
        );
        let qid = format!("{:011X}", msg * 7919 % 0x0FFF_FFFF_FFFF);
        let user = rng.next() % 1_000_000;
        let domain_n = user % 1000;
        let roll = rng.next() % 100;
        let (d, relay, text, status, dsn) = if roll < 90 {
            let d = format!("example{domain_n}.org");
            let relay = format!("mx.{d}[192.0.2.40]:25");
            (
                d,
                relay,
                "250 2.0.0 Ok: queued as 4XYZ123".to_string(),
                "sent",
                "2.0.0",
            )
        } else if roll < 98 {
            let d = format!("example{domain_n}.org");
            let t = DEFERRALS[(rng.next() % 4) as usize];
            (
                d.clone(),
                "none".into(),
                t.replace("{d}", &d),
                "deferred",
                "4.0.0",
            )
        } else {
            let (dom, relay, t) = BOUNCES[(rng.next() % 5) as usize];
            let d = if dom.is_empty() {
                format!("example{domain_n}.org")
            } else {
                dom.to_string()
            };
            let relay = relay.replace("{d}", &d);
            let host = relay.clone();
            (
                d,
                format!("{relay}:25"),
                format!("host {host} said: {t} (in reply to RCPT TO command)"),
                "bounced",
                "5.0.0",
            )
        };
        let rcpt = format!("user{user}@{d}");
        let text = text.replace("{r}", &rcpt);
        let dsn = fields_status(&text).unwrap_or(dsn);
        writeln!(
            w,
            "{stamp} mta postfix/cleanup[2101]: {qid}: message-id=<{msg}.{t}@lists.example.com>"
        )?;
        writeln!(
            w,
            "{stamp} mta postfix/qmgr[2102]: {qid}: from=<bounces@lists.example.com>, size=5120, nrcpt=1 (queue active)"
        )?;
        writeln!(
            w,
            "{stamp} mta postfix/smtp[2103]: {qid}: to=<{rcpt}>, relay={relay}, delay=0.52, delays=0.01/0/0.21/0.3, dsn={dsn}, status={status} ({text})"
        )?;
        written += 3;
        if status != "deferred" {
            writeln!(w, "{stamp} mta postfix/qmgr[2102]: {qid}: removed")?;
            written += 1;
        }
    }
    w.flush()
}

/// The enhanced status code in a reply (`550 5.1.1 ...` → `5.1.1`).
fn fields_status(text: &str) -> Option<&str> {
    text.split([' ', '-']).find(|w| {
        let p: Vec<&str> = w.split('.').collect();
        p.len() == 3
            && p.iter().all(|x| {
                !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit())
            })
            && matches!(p[0], "2" | "4" | "5")
    })
}
