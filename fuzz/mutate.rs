//! The mutation fuzzer's engine, shared by `examples/fuzz.rs` (long runs)
//! and `tests/hostile.rs` (a short run in the test suite); both include
//! this file with `#[path]`, so there is one copy of the logic.
//!
//! Inputs are seed messages (the golden samples, the dev corpus read at
//! run time, and a few messages built here) changed by a stack of
//! mutations that imitate what a bounce mailbox really receives: bit
//! flips, truncation, removed or mangled MIME boundaries, duplicated
//! header lines, random charsets and transfer encodings, CR/LF mixes,
//! NULs and invalid UTF-8, splices of two messages, deep nesting and long
//! runs. Each input is derived from `(seed, index)` alone, so one input of
//! a long run can be replayed without the rest.
//!
//! [`Harness`] runs [`Parser::parse`] (MIME, DSN, detectors, classifier)
//! and the JSON encoding of every record on a worker thread under
//! `catch_unwind`, and gives up waiting after a time limit, so a panic is
//! reported with its message and a hang is reported instead of blocking
//! the run.

use std::path::Path;
use std::sync::mpsc::{self, Receiver, Sender};
use std::time::{Duration, Instant};

use rebound::Parser;

/// SplitMix64: a tiny, fast, well-mixed PRNG (Steele, Lea, Flood 2014).
pub struct Rng(u64);

impl Rng {
    /// A generator for input `index` of run `seed`.
    pub fn for_input(seed: u64, index: u64) -> Rng {
        let mut r = Rng(seed ^ index.wrapping_mul(0xD1B5_4A32_D192_ED03));
        r.next_u64();
        r
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 { 0 } else { (self.next_u64() % n as u64) as usize }
    }

    /// True with probability `1/n`.
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    /// A random element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A few seeds built in code, so the fuzzer has the main formats even
/// where no sample or corpus is at hand: RFC 3464 DSNs, an ARF report,
/// an auto-reply and a plain-text bounce with an inline copy.
pub fn builtin_seeds() -> Vec<Vec<u8>> {
    let dsn = "From: MAILER-DAEMON@mx.example.net\nTo: bounces+a=example.org@example.com\nSubject: Undelivered Mail Returned to Sender\nMessage-ID: <dsn1@mx.example.net>\nDate: Mon, 1 Jan 2024 00:00:00 +0000\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\n\n--b1\nContent-Type: text/plain; charset=us-ascii\n\nThe mail system could not deliver your message.\n<a@example.org>: host mx.example.org[192.0.2.1] said: 550 5.1.1 User unknown\n\n--b1\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\nArrival-Date: Mon, 1 Jan 2024 00:00:00 +0000\n\nFinal-Recipient: rfc822; a@example.org\nAction: failed\nStatus: 5.1.1\nRemote-MTA: dns; mx.example.org\nDiagnostic-Code: smtp; 550 5.1.1 <a@example.org>: User unknown\n\n--b1\nContent-Type: message/rfc822\n\nFrom: news@example.com\nTo: a@example.org\nSubject: News\nMessage-ID: <orig1@example.com>\nX-Campaign-ID: c42\n\nHello\n--b1--\n";
    let arf = "From: fbl@isp.example.net\nTo: abuse@example.com\nSubject: complaint\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=feedback-report; boundary=\"f\"\n\n--f\nContent-Type: text/plain\n\nThis is an abuse report.\n--f\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nUser-Agent: fbl/1.0\nVersion: 1\nOriginal-Rcpt-To: u@example.org\n\n--f\nContent-Type: text/rfc822-headers\n\nFrom: news@example.com\nTo: u@example.org\nMessage-ID: <o2@example.com>\n--f--\n";
    let auto = "From: Jane <jane@example.org>\nTo: news@example.com\nSubject: Out of Office: News\nAuto-Submitted: auto-replied\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\nI am away until Monday =E2=80=94 back soon.\n";
    let plain = "From: postmaster@example.net\nTo: sender@example.com\nSubject: Delivery failure\n\nThis message could not be delivered to b@example.org:\n550 5.2.2 mailbox full\n\n------ This is a copy of the message, including all the headers. ------\n\nReturn-Path: <sender@example.com>\nMessage-ID: <o3@example.com>\nTo: b@example.org\nSubject: hi\n\nbody\n";
    let mut all: Vec<Vec<u8>> = [dsn, arf, auto, plain]
        .iter()
        .map(|s| s.as_bytes().to_vec())
        .collect();
    all.push(self::dsn(3, "Three recipients failed."));
    all
}

/// A DSN for `n` recipients `user{i}@example.org`, with `text` as its
/// human-readable part.
pub fn dsn(n: usize, text: &str) -> Vec<u8> {
    let mut s = String::from(
        "From: MAILER-DAEMON@mx.example.net\nTo: sender@example.com\nSubject: Undelivered Mail Returned to Sender\nMessage-ID: <big@mx.example.net>\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"rb\"\n\n--rb\nContent-Type: text/plain\n\n",
    );
    s.push_str(text);
    s.push_str("\n--rb\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.net\n");
    for i in 0..n {
        s.push_str(&format!(
            "\nFinal-Recipient: rfc822; user{i}@example.org\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 <user{i}@example.org>: User unknown\n"
        ));
    }
    s.push_str("\n--rb\nContent-Type: text/rfc822-headers\n\nFrom: news@example.com\nTo: user0@example.org\nMessage-ID: <orig@example.com>\nSubject: News\n\n--rb--\n");
    s.into_bytes()
}

/// Every `*.eml` under `dir` (recursively), sorted; nothing when `dir`
/// is missing.
fn emls(dir: &Path) -> Vec<Vec<u8>> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for p in entries.filter_map(|e| e.ok().map(|e| e.path())) {
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "eml") {
                files.push(p);
            }
        }
    }
    files.sort();
    files.iter().filter_map(|p| std::fs::read(p).ok()).collect()
}

/// The seed messages: `samples/**/*.eml` of the crate at `root`, the dev
/// corpus at `root/../shared/corpus/dev/emails` (read, never copied) and
/// [`builtin_seeds`].
pub fn seeds(root: &Path) -> Vec<Vec<u8>> {
    let mut all = emls(&root.join("samples"));
    all.extend(emls(&root.join("../shared/corpus/dev/emails")));
    all.extend(builtin_seeds());
    all
}

const CHARSETS: &[&str] = &[
    "",
    "\"\"",
    "bogus-42",
    "gb18030",
    "iso-2022-jp",
    "iso-8859-1",
    "koi8-r",
    "shift_jis",
    "us-ascii",
    "utf-16",
    "utf-16le",
    "utf-32",
    "utf-7",
    "utf-8",
    "windows-1252",
];

const ENCODINGS: &[&str] = &[
    "7bit",
    "8bit",
    "base64",
    "binary",
    "quoted-printable",
    "x-uuencode",
    "zz",
];

const TOKENS: &[&str] = &[
    "\n",
    "\r",
    "\r\n",
    "\n\n",
    "\0",
    ":",
    ";",
    "=",
    "--",
    "<",
    ">",
    "@",
    "\"",
    "=?",
    "?=",
    "=?utf-8?B?",
    "=?x?Q?=FF=00?=",
    "\n\t",
    "\u{feff}",
    "\u{fffd}",
    "\u{202e}",
    "Content-Type: message/delivery-status\n\n",
    "Content-Type: multipart/mixed; boundary=\"x\"\n\n--x\n",
    "Final-Recipient: rfc822; ",
    "Action: failed\nStatus: 5.1.1\n",
    "Diagnostic-Code: smtp; 550 ",
    "Reporting-MTA: dns; ",
    "\n--",
    "From ",
];

/// Byte offsets just after each `\n` in `data` (line starts), plus 0.
fn line_starts(data: &[u8]) -> Vec<usize> {
    let mut v = vec![0];
    v.extend(
        data.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i + 1),
    );
    v
}

/// End of the header section: the first blank line, or the end.
fn header_end(data: &[u8]) -> usize {
    data.windows(2)
        .position(|w| w == b"\n\n" || w == b"\r\r")
        .map_or(data.len(), |i| i + 1)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w.eq_ignore_ascii_case(needle))
}

/// Every non-overlapping match of `needle` (ASCII case-insensitive).
fn find_all(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = find(&hay[at..], needle) {
        out.push(at + i);
        at += i + needle.len();
    }
    out
}

/// The parameter value starting at `at` (quoted or token).
fn param_value(data: &[u8], at: usize) -> (usize, usize) {
    let quoted = data.get(at) == Some(&b'"');
    let start = at + usize::from(quoted);
    let end =
        data[start..]
            .iter()
            .position(|&b| {
                if quoted { b == b'"' } else { b";\r\n \t".contains(&b) }
            })
            .map_or(data.len(), |i| start + i);
    (start, end)
}

/// Replaces the value of a random `name=` parameter with `value`.
fn set_param(rng: &mut Rng, data: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    let hits = find_all(data, name);
    if hits.is_empty() {
        return;
    }
    let at = *rng.pick(&hits) + name.len();
    let (start, end) = param_value(data, at);
    data.splice(start..end, value.iter().copied());
}

/// The MIME boundaries declared in `data`.
fn boundaries(data: &[u8]) -> Vec<Vec<u8>> {
    find_all(data, b"boundary=")
        .into_iter()
        .map(|i| {
            let (s, e) = param_value(data, i + 9);
            data[s..e].to_vec()
        })
        .filter(|b| !b.is_empty())
        .collect()
}

/// One random mutation of `data`; `other` is a second seed for splices.
fn mutate_once(rng: &mut Rng, data: &mut Vec<u8>, other: &[u8]) {
    let len = data.len();
    match rng.below(18) {
        // Bit flips.
        0 => {
            for _ in 0..1 + rng.below(16) {
                if len > 0 {
                    let i = rng.below(len);
                    data[i] ^= 1 << rng.below(8);
                }
            }
        }
        // Random bytes, often invalid UTF-8, NULs and controls.
        1 => {
            for _ in 0..1 + rng.below(32) {
                let i = rng.below(len + 1).min(data.len());
                let b = match rng.below(4) {
                    0 => 0,
                    1 => 0x80 | rng.below(0x80) as u8,
                    2 => rng.below(0x20) as u8,
                    _ => rng.next_u64() as u8,
                };
                data.insert(i, b);
            }
        }
        // Truncation.
        2 => data.truncate(rng.below(len + 1)),
        // Remove a chunk.
        3 if len > 0 => {
            let a = rng.below(len);
            let b = (a + 1 + rng.below(4096)).min(len);
            data.drain(a..b);
        }
        // Duplicate a chunk elsewhere.
        4 if len > 0 => {
            let a = rng.below(len);
            let b = (a + 1 + rng.below(2048)).min(len);
            let chunk = data[a..b].to_vec();
            let at = rng.below(len + 1);
            data.splice(at..at, chunk);
        }
        // Remove or damage MIME boundary lines, or the declaration.
        5 => {
            let bs = boundaries(data);
            if bs.is_empty() {
                return;
            }
            let mut delim = b"--".to_vec();
            let b: &Vec<u8> = rng.pick(&bs);
            delim.extend_from_slice(b);
            let hits = find_all(data, &delim);
            match (hits.is_empty(), rng.below(3)) {
                (false, 0) => {
                    let at = *rng.pick(&hits);
                    data.drain(at..at + delim.len());
                }
                (false, 1) => {
                    let at = *rng.pick(&hits) + delim.len();
                    let junk: &[&[u8]] = &[b"--", b"x", b" "];
                    data.splice(at..at, rng.pick(junk).iter().copied());
                }
                _ => set_param(rng, data, b"boundary=", b""),
            }
        }
        // Duplicate header lines, possibly many times.
        6 => {
            let end = header_end(data);
            let starts: Vec<usize> = line_starts(&data[..end])
                .into_iter()
                .filter(|&i| i < end)
                .collect();
            if starts.is_empty() {
                return;
            }
            let i = *rng.pick(&starts);
            let j = data[i..end].iter().position(|&b| b == b'\n');
            let line = data[i..j.map_or(end, |j| i + j + 1)].to_vec();
            let times = if rng.one_in(8) { 1000 } else { 1 + rng.below(4) };
            let copies = line.repeat(times);
            data.splice(i..i, copies);
        }
        // Random charsets.
        7 => {
            let cs = rng.pick(CHARSETS).as_bytes();
            if rng.one_in(2) {
                set_param(rng, data, b"charset=", cs);
            } else {
                let mut word = b"=?".to_vec();
                word.extend_from_slice(cs);
                word.extend_from_slice(if rng.one_in(2) {
                    b"?B?"
                } else {
                    b"?Q?"
                });
                for _ in 0..rng.below(40) {
                    word.push(rng.next_u64() as u8);
                }
                word.extend_from_slice(b"?=");
                let at = find(data, b"subject:").map_or(0, |i| i + 8);
                data.splice(at..at, word);
            }
        }
        // Random transfer encodings.
        8 => {
            let enc = rng.pick(ENCODINGS).as_bytes();
            let hits = find_all(data, b"content-transfer-encoding:");
            if hits.is_empty() {
                return;
            }
            let at = *rng.pick(&hits) + 26;
            let end = data[at..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(data.len(), |i| at + i);
            let mut v = b" ".to_vec();
            v.extend_from_slice(enc);
            data.splice(at..end, v);
        }
        // Mixed line ends: each line gets LF, CRLF, CR or LFCR.
        9 => {
            let mut out = Vec::with_capacity(data.len() + data.len() / 16);
            for &b in data.iter() {
                if b == b'\n' {
                    let ends: &[&[u8]] = &[b"\n", b"\r\n", b"\r", b"\n\r"];
                    let end: &[u8] = ends[rng.below(ends.len())];
                    out.extend_from_slice(end);
                } else {
                    out.push(b);
                }
            }
            *data = out;
        }
        // Insert a token that means something to a parser.
        10 => {
            let at = rng.below(len + 1);
            let t = rng.pick(TOKENS).as_bytes();
            data.splice(at..at, t.iter().copied());
        }
        // Splice: head of this message, tail of another.
        11 => {
            let a = rng.below(len + 1);
            let b = rng.below(other.len() + 1);
            data.truncate(a);
            data.extend_from_slice(&other[b..]);
        }
        // Wrap in more multipart levels.
        12 => {
            let max = if rng.one_in(4) { 80 } else { 4 };
            let depth = 1 + rng.below(max);
            *data = nest(data, depth);
        }
        // A long run of one byte or one token (long lines, long headers).
        13 => {
            let at = rng.below(len + 1);
            let units: &[&[u8]] = &[
                b"a",
                b" ",
                b"=",
                b"\t",
                b"-",
                b"<a@b.example>,",
                b"5.1.1 ",
                b":",
            ];
            let unit = *rng.pick(units);
            let run = unit.repeat(1 + rng.below(64 * 1024 / unit.len()));
            data.splice(at..at, run);
        }
        // Drop the blank line between header and body.
        14 => {
            let end = header_end(data);
            if end < data.len() {
                data.remove(end);
            }
        }
        // NULs everywhere: replace every n-th byte.
        15 => {
            let step = 2 + rng.below(64);
            for b in data.iter_mut().step_by(step) {
                *b = 0;
            }
        }
        // Content types swapped to the report types the parser reads.
        16 => {
            let types: &[&[u8]] = &[
                b"message/delivery-status",
                b"message/global-delivery-status",
                b"message/feedback-report",
                b"message/rfc822",
                b"message/global",
                b"text/rfc822-headers",
                b"multipart/report",
                b"text/html",
                b"application/octet-stream",
            ];
            let ct = *rng.pick(types);
            let hits = find_all(data, b"content-type:");
            if hits.is_empty() {
                return;
            }
            let at = *rng.pick(&hits) + 13;
            let end = data[at..]
                .iter()
                .position(|&b| b == b';' || b == b'\n')
                .map_or(data.len(), |i| at + i);
            let mut v = b" ".to_vec();
            v.extend_from_slice(ct);
            data.splice(at..end, v);
        }
        // Base64 of random bytes as the body.
        _ => {
            let end = header_end(data).min(data.len());
            let n = rng.below(16 * 1024);
            let raw: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
            data.truncate(end);
            data.extend_from_slice(b"\n");
            data.extend_from_slice(&base64(&raw));
        }
    }
}

/// Wraps `inner` in `depth` levels of multipart/mixed.
pub fn nest(inner: &[u8], depth: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(inner.len() + depth * 120);
    for d in 0..depth {
        out.extend_from_slice(
            format!(
                "Content-Type: multipart/mixed; boundary=\"n{d}\"\n\n--n{d}\n"
            )
            .as_bytes(),
        );
    }
    out.extend_from_slice(inner);
    for d in (0..depth).rev() {
        out.extend_from_slice(format!("\n--n{d}--\n").as_bytes());
    }
    let mut msg =
        b"From: a@example.com\nSubject: nested\nMIME-Version: 1.0\n".to_vec();
    msg.extend_from_slice(&out);
    msg
}

/// Standard base64 with 76-column lines.
pub fn base64(raw: &[u8]) -> Vec<u8> {
    const A: &[u8; 64] =
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::with_capacity(raw.len() * 4 / 3 + raw.len() / 57 + 4);
    for (i, c) in raw.chunks(3).enumerate() {
        if i > 0 && i % 19 == 0 {
            out.push(b'\n');
        }
        let n = u32::from(c[0]) << 16
            | u32::from(*c.get(1).unwrap_or(&0)) << 8
            | u32::from(*c.get(2).unwrap_or(&0));
        for k in 0..4 {
            out.push(if k <= c.len() {
                A[(n >> (18 - 6 * k)) as usize & 63]
            } else {
                b'='
            });
        }
    }
    out.push(b'\n');
    out
}

/// Fuzz inputs are cut to this size, so a stack of growing mutations
/// does not turn the run into a test of huge messages (those have their
/// own tests in `tests/hostile.rs`).
pub const MAX_INPUT: usize = 1 << 20;

/// Input `index` of run `seed`: a seed message with 1 to 6 mutations.
pub fn input(seeds: &[Vec<u8>], seed: u64, index: u64) -> Vec<u8> {
    let mut rng = Rng::for_input(seed, index);
    let mut data = rng.pick(seeds).clone();
    let other = rng.pick(seeds).clone();
    for _ in 0..1 + rng.below(6) {
        mutate_once(&mut rng, &mut data, &other);
        data.truncate(MAX_INPUT);
    }
    data
}

/// What one input did.
#[derive(Debug)]
pub enum Verdict {
    /// Parsed: how many records.
    Parsed(usize),
    /// Rejected with a clear error.
    Rejected(String),
    /// Panicked, with the panic message.
    Panicked(String),
    /// A report broke an invariant (records without a detector, or
    /// the other way round).
    Broken(String),
    /// Still running after the time limit (the worker is abandoned).
    Hung,
}

/// Runs inputs one at a time on a worker thread with a time limit. After
/// [`Verdict::Hung`] the worker is still busy: stop using the harness.
pub struct Harness {
    jobs: Sender<Vec<u8>>,
    done: Receiver<Verdict>,
    limit: Duration,
}

fn run_one(parser: &Parser, raw: &[u8]) -> Verdict {
    match parser.parse(raw) {
        Ok(report) => {
            for r in &report.records {
                if let Err(e) = serde_json::to_string(r) {
                    return Verdict::Broken(format!("record to JSON: {e}"));
                }
            }
            if report.detector.is_some() == report.records.is_empty() {
                return Verdict::Broken(format!(
                    "detector {:?} with {} records",
                    report.detector,
                    report.records.len()
                ));
            }
            Verdict::Parsed(report.records.len())
        }
        Err(e) => Verdict::Rejected(e.to_string()),
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Parsed(n) => write!(f, "parsed, {n} records"),
            Verdict::Rejected(e) => write!(f, "rejected: {e}"),
            Verdict::Panicked(e) => write!(f, "PANIC: {e}"),
            Verdict::Broken(e) => write!(f, "BROKEN REPORT: {e}"),
            Verdict::Hung => write!(f, "HANG: no result within the limit"),
        }
    }
}

impl Verdict {
    /// `None` for a parse or a clear error; otherwise what went wrong.
    pub fn problem(&self) -> Option<&'static str> {
        match self {
            Verdict::Parsed(_) | Verdict::Rejected(_) => None,
            Verdict::Panicked(_) => Some("panic"),
            Verdict::Broken(_) => Some("broken"),
            Verdict::Hung => Some("hang"),
        }
    }
}

impl Harness {
    /// Starts the worker; an input taking longer than `limit` is a hang.
    pub fn new(limit: Duration) -> Harness {
        let (jobs, rx) = mpsc::channel::<Vec<u8>>();
        let (tx, done) = mpsc::channel();
        std::thread::spawn(move || {
            let parser = Parser::default();
            for raw in rx {
                let v = std::panic::catch_unwind(
                    std::panic::AssertUnwindSafe(|| run_one(&parser, &raw)),
                )
                .unwrap_or_else(|p| {
                    Verdict::Panicked(
                        p.downcast_ref::<&str>()
                            .map(|s| s.to_string())
                            .or_else(|| p.downcast_ref::<String>().cloned())
                            .unwrap_or_else(|| "non-string panic".into()),
                    )
                });
                if tx.send(v).is_err() {
                    break;
                }
            }
        });
        Harness { jobs, done, limit }
    }

    /// Runs one input; the verdict and how long it took.
    pub fn run(&self, raw: &[u8]) -> (Verdict, Duration) {
        let start = Instant::now();
        if self.jobs.send(raw.to_vec()).is_err() {
            return (Verdict::Panicked("worker gone".into()), start.elapsed());
        }
        match self.done.recv_timeout(self.limit) {
            Ok(v) => (v, start.elapsed()),
            Err(_) => (Verdict::Hung, start.elapsed()),
        }
    }
}
