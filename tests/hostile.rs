//! Hostile and huge input: a short mutation-fuzz run over the whole path
//! from bytes to classified records (the long run is
//! `cargo run --release --example fuzz`),
//! and pathological messages generated here, each checked for the right
//! outcome, not only for surviving.

#[path = "../fuzz/mutate.rs"]
mod mutate;

use std::io::Write;
use std::time::Duration;

use rebound::input::{self, InputMessage};
use rebound::{EventType, ParseError, Parser, Report};

use crate::util::root;
use mutate::{Harness, dsn};

fn parse(raw: &[u8]) -> Result<Report, ParseError> {
    Parser::default().parse(raw)
}

/// Asserts `report` is the one-recipient bounce of [`dsn`]`(1, ..)`.
fn assert_single_bounce(report: &Report) {
    assert_eq!(report.detector, Some("rfc3464"));
    assert_eq!(report.records.len(), 1, "{:?}", report.records);
    let r = &report.records[0];
    assert_eq!(r.recipient.as_deref(), Some("user0@example.org"));
    assert_eq!(r.kind, Some(EventType::Bounce));
    assert_eq!(r.status.as_deref(), Some("5.1.1"));
    assert_eq!(r.reply_code.as_deref(), Some("550"));
    assert_eq!(r.original_message_id.as_deref(), Some("orig@example.com"));
}

/// The test-suite fuzz run: `REBOUND_FUZZ_INPUTS` inputs of seed
/// `REBOUND_FUZZ_SEED` (default 1). The default is 20,000 inputs with the
/// release test suite (`cargo test --release`, about 10 s) and 4,000 in
/// a debug build (which parses some 20 times slower). Any panic, broken
/// report or input still running after 20 s (a hang, not a speed
/// measure) fails with the inputs to replay.
#[test]
fn short_fuzz_run_has_no_panic_and_no_hang() {
    const DEFAULT_INPUTS: u64 =
        if cfg!(debug_assertions) { 4_000 } else { 20_000 };
    let env = |k: &str, d: u64| {
        std::env::var(k).ok().and_then(|v| v.parse().ok()).unwrap_or(d)
    };
    let (inputs, seed) = (
        env("REBOUND_FUZZ_INPUTS", DEFAULT_INPUTS),
        env("REBOUND_FUZZ_SEED", 1),
    );
    let seeds = mutate::seeds(&root());
    assert!(seeds.len() >= mutate::builtin_seeds().len());
    let harness = Harness::new(Duration::from_secs(20));
    let (mut parsed, mut records) = (0, 0);
    let mut problems = Vec::new();
    for i in 0..inputs {
        let raw = mutate::input(&seeds, seed, i);
        let (v, _) = harness.run(&raw);
        if let mutate::Verdict::Parsed(n) = v {
            parsed += 1;
            records += n;
        }
        if v.problem().is_some() {
            problems.push(format!(
                "seed {seed} input {i}: {v} (replay: cargo run --release --example fuzz -- --seed {seed} --start {i} --inputs 1)"
            ));
            if matches!(v, mutate::Verdict::Hung) {
                break;
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // The mutations must leave most inputs parseable mail, some of them
    // still reports, or the run tests nothing but the first-line check.
    assert!(parsed > inputs / 2, "only {parsed} of {inputs} parsed");
    assert!(records as u64 > inputs / 20, "only {records} records");
}

#[test]
fn a_20_mb_single_line_is_read() {
    // The human-readable part is one 20 MB line: only its first
    // TEXT_LIMIT bytes are scanned, the DSN is still read.
    let line = "x".repeat(20 << 20);
    let report = parse(&dsn(1, &line)).unwrap();
    assert_single_bounce(&report);
    // The whole message on one line: a header field and nothing else.
    let mut one = b"Subject: ".to_vec();
    one.extend(std::iter::repeat_n(b'y', 20 << 20));
    let report = parse(&one).unwrap();
    assert!(report.records.is_empty());
    assert_eq!(report.subject.map(|s| s.len()), Some(20 << 20));
}

#[test]
fn sixty_levels_of_multipart_nesting() {
    let report = parse(&mutate::nest(&dsn(1, "failed"), 60)).unwrap();
    assert_single_bounce(&report);
}

#[test]
fn a_dsn_with_50000_recipient_groups() {
    let report = parse(&dsn(50_000, "50000 recipients failed")).unwrap();
    assert_eq!(report.detector, Some("rfc3464"));
    assert_eq!(report.records.len(), 50_000);
    for (i, r) in report.records.iter().enumerate() {
        assert_eq!(r.recipient, Some(format!("user{i}@example.org")));
        assert_eq!(r.status.as_deref(), Some("5.1.1"));
    }
}

/// Thousands of DSN groups without a recipient, and thousands of
/// recipients named in X-Failed-Recipients: each recipient gives one
/// record (not one per group: that was 100 million records).
#[test]
fn recipient_less_groups_times_failed_recipients() {
    let names: Vec<String> =
        (0..5_000).map(|i| format!("user{i}@example.org")).collect();
    let src = String::from_utf8(dsn(0, "failed")).unwrap().replacen(
        "MIME-Version",
        &format!("X-Failed-Recipients: {}\nMIME-Version", names.join(", ")),
        1,
    );
    let src = src.replacen(
        "Reporting-MTA: dns; mx.example.net\n",
        &format!(
            "Reporting-MTA: dns; mx.example.net\n{}",
            "\nAction: failed\nStatus: 5.1.1\n".repeat(20_000)
        ),
        1,
    );
    let report = parse(src.as_bytes()).unwrap();
    let got: Vec<_> =
        report.records.iter().map(|r| r.recipient.clone().unwrap()).collect();
    assert_eq!(got, names);
}

/// Per-message values of a megabyte (Reporting-MTA, the original
/// Subject) are clipped before they are copied into each of 20,000
/// records.
#[test]
fn huge_per_message_values_are_not_multiplied() {
    let big = "m".repeat(1 << 20);
    let src = String::from_utf8(dsn(20_000, "failed"))
        .unwrap()
        .replacen("dns; mx.example.net", &format!("dns; {big}"), 1)
        .replacen("Subject: News", &format!("Subject: {big}"), 1);
    let report = parse(src.as_bytes()).unwrap();
    assert_eq!(report.records.len(), 20_000);
    let limit = rebound::parse::fields::VALUE_LIMIT;
    for r in &report.records {
        assert_eq!(r.reporting_mta.as_deref(), Some(&big[..limit]));
        assert_eq!(r.original_subject.as_deref(), Some(&big[..limit]));
    }
}

/// 70,000 unclosed `<style>` tags in an HTML body: the text is scanned
/// once (it was once per tag).
#[test]
fn many_unclosed_style_tags() {
    let mut raw =
        b"From: a@example.com\nSubject: html\nContent-Type: text/html\n\n"
            .to_vec();
    raw.extend_from_slice("<style>".repeat(70_000).as_bytes());
    let harness = Harness::new(Duration::from_secs(60));
    let (v, t) = harness.run(&raw);
    assert!(matches!(v, mutate::Verdict::Parsed(0)), "{v} after {t:?}");
    assert_eq!(
        rebound::parse::html_to_text("a<style>x<p>y</p>b<STYLE>c</Style>d"),
        "ad"
    );
}

#[test]
fn one_megabyte_of_headers() {
    // 1 MB of Received lines, then a 1 MB folded header.
    let mut head = String::new();
    while head.len() < 1 << 20 {
        head.push_str("Received: from relay.example.net (relay.example.net [192.0.2.7]) by mx.example.net; Mon, 1 Jan 2024 00:00:00 +0000\n");
    }
    head.push_str("X-Long: start");
    for _ in 0..(1 << 20) / 64 {
        head.push_str("\n ");
        head.push_str(&"z".repeat(62));
    }
    head.push('\n');
    let mut raw = head.into_bytes();
    raw.extend_from_slice(&dsn(1, "failed"));
    let report = parse(&raw).unwrap();
    assert_single_bounce(&report);
    assert_eq!(
        report.subject.as_deref(),
        Some("Undelivered Mail Returned to Sender")
    );
}

#[test]
fn invalid_utf8_and_nuls_everywhere() {
    // NUL and invalid UTF-8 inside every header value and body line:
    // the structure survives, so the bounce is still read.
    let src = String::from_utf8(dsn(1, "Delivery failed.\nSorry.")).unwrap();
    let mut raw = Vec::new();
    for line in src.lines() {
        raw.extend_from_slice(line.as_bytes());
        let structure = line.is_empty()
            || line.starts_with("--")
            || line.starts_with("Content-Type")
            || line.starts_with("MIME");
        if !structure && !line.contains(':') {
            raw.extend_from_slice(b" \0\xff\xfe\xc3(\x80");
        } else if !structure {
            raw.extend_from_slice(b" \0\xc0\xaf");
        }
        raw.push(b'\n');
    }
    let report = parse(&raw).unwrap();
    assert_eq!(report.detector, Some("rfc3464"));
    assert_eq!(report.records.len(), 1);
    let r = &report.records[0];
    assert_eq!(r.recipient.as_deref(), Some("user0@example.org"));
    assert_eq!(r.status.as_deref(), Some("5.1.1"));
    // NUL after every byte (UTF-16 read as bytes): not mail, a clear error.
    let wide: Vec<u8> = src.bytes().flat_map(|b| [b, 0]).collect();
    assert!(matches!(parse(&wide), Err(ParseError::NotMail(_))));
    // Random bytes with NULs: an error or a report, never a panic.
    let mut rng = mutate::Rng::for_input(7, 0);
    for n in [1, 10, 1000, 100_000] {
        let mut junk: Vec<u8> = b"Subject: junk\n".to_vec();
        junk.extend((0..n).map(|_| rng.next_u64() as u8));
        assert!(parse(&junk).unwrap().records.is_empty());
    }
}

#[test]
fn base64_of_random_bytes() {
    let mut rng = mutate::Rng::for_input(11, 0);
    let random: Vec<u8> = (0..4 << 20).map(|_| rng.next_u64() as u8).collect();
    let b64 = String::from_utf8(mutate::base64(&random)).unwrap();
    // A plain message whose body is 4 MB of random bytes in base64.
    let mut plain = b"From: a@example.com\nSubject: blob\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n".to_vec();
    plain.extend_from_slice(b64.as_bytes());
    let report = parse(&plain).unwrap();
    assert!(report.records.is_empty());
    // A bounce whose text part is random base64 and whose delivery-status
    // is intact: read from the delivery-status.
    let src = String::from_utf8(dsn(1, "")).unwrap().replacen(
        "Content-Type: text/plain\n\n",
        &format!(
            "Content-Type: text/plain\nContent-Transfer-Encoding: base64\n\n{b64}"
        ),
        1,
    );
    assert_single_bounce(&parse(src.as_bytes()).unwrap());
    // A delivery-status that is random base64: no record, no panic.
    let src = String::from_utf8(dsn(1, "x")).unwrap().replacen(
        "Content-Type: message/delivery-status\n\n",
        &format!(
            "Content-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n\n{}\n",
            &b64[..10_000]
        ),
        1,
    );
    let report = parse(src.as_bytes()).unwrap();
    assert!(report.records.iter().all(|r| r.recipient.is_some()));
}

fn read_mbox(content: &[u8]) -> Vec<InputMessage> {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(content).unwrap();
    input::open(&[f.path()]).map(Result::unwrap).collect()
}

#[test]
fn mbox_with_damaged_from_lines() {
    let msg = |i: usize| {
        format!("From: a{i}@example.com\nSubject: message {i}\n\nbody {i}\n")
    };
    let good = |i: usize| {
        format!("From sender{i}@example.com Mon Jan  1 00:00:0{i} 2024\n")
    };
    // Damaged separators: each stays a body line of the message before.
    let damaged = [
        "From \n",                                  // no sender, no date
        "From sender@example.com\n",                // no date
        "From  Mon Jan  1 00:00:00 2024\n",         // empty sender
        "Fro m x@example.com Mon 00:00 2024\n",     // broken keyword
        "From x@example.com Mon Jan 1 0000 2024\n", // no time of day
        ">From x@example.com Mon 00:00 2024\n",     // quoted (mboxrd)
    ];
    let mut mbox = String::new();
    for (i, bad) in damaged.iter().enumerate() {
        mbox.push_str(&good(i));
        mbox.push_str(&msg(i));
        mbox.push('\n');
        mbox.push_str(bad);
        mbox.push_str("more text\n\n");
    }
    // A separator not preceded by a blank line is body text too.
    mbox.push_str(&good(6));
    mbox.push_str(&msg(6));
    mbox.push_str(&good(9));
    // The last message is cut off inside its header.
    mbox.push_str(
        "\nFrom last@example.com Mon Jan  1 00:00:07 2024\nSubject: cut",
    );
    for crlf in [false, true] {
        let content =
            if crlf { mbox.replace('\n', "\r\n") } else { mbox.clone() };
        let msgs = read_mbox(content.as_bytes());
        assert_eq!(msgs.len(), 8, "crlf={crlf}");
        for (i, m) in msgs.iter().enumerate() {
            assert_eq!(m.index, Some(i + 1), "{}", m.name());
            let text = String::from_utf8_lossy(&m.bytes);
            if i < 7 {
                assert!(text.starts_with(&format!("From: a{i}@example.com")));
                let report = parse(&m.bytes).unwrap();
                assert_eq!(report.subject, Some(format!("message {i}")));
            }
            if i < 6 {
                let line = damaged[i].trim_end().trim_start_matches('>');
                assert!(text.contains(line), "{i}: {text:?}");
            }
        }
        assert!(
            String::from_utf8_lossy(&msgs[6].bytes)
                .contains("From sender9@example.com")
        );
        assert_eq!(
            parse(&msgs[7].bytes).unwrap().subject.as_deref(),
            Some("cut")
        );
    }
    // A file whose first separator is damaged is one message, not an mbox.
    let msgs = read_mbox(format!("From \n{}", msg(0)).as_bytes());
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0].index, None);
}
