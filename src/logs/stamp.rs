//! Log timestamps and syslog headers: `TIMESTAMP HOST TAG[PID]: MESSAGE`
//! with the timestamp in any of the forms MTA logs are written in:
//!
//! - RFC 3164 (`Dec  6 00:12:36`, also zero-padded `Dec 06` as Postfix's
//!   own `maillog_file` writes it, optionally with `.micros`): no year
//!   and no zone. The zone is [`Clock::utc_offset`]; the year is the one
//!   that puts the time at most a day after the clock's reference (the
//!   file's modification time, or now), so December lines read in
//!   January belong to last year, and reading the same file again gives
//!   the same times;
//! - ISO 8601 / RFC 3339 as rsyslog writes it (`2026-12-06T00:12:36.123456+01:00`)
//!   and `journalctl -o short-iso` (`2026-12-06T00:12:36+0100`);
//! - RFC 5424 (`<22>1 2026-12-06T00:12:36Z host app procid msgid - msg`);
//! - a leading `<PRI>` of a line written as received is skipped.
//!
//! Exim and PowerMTA write `YYYY-MM-DD HH:MM:SS[ ±HHMM]` ([`datetime`]).
//! Read by hand: it runs on every line.

use super::LineError;
use crate::time::days_from_civil;

/// How to place times that carry no year or zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    /// The latest time the log can hold (Unix seconds): its file's
    /// modification time, or now.
    pub reference: i64,
    /// The zone of times written without one, in seconds east of UTC.
    pub utc_offset: i64,
}

/// A syslog line's header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header<'a> {
    /// When (Unix seconds).
    pub time: i64,
    /// The program (`postfix/smtp`, `sendmail`), without its `[pid]`.
    pub tag: &'a str,
    /// What follows `TAG[PID]: `.
    pub message: &'a str,
}

/// Reads the header of a syslog line.
pub(crate) fn header<'a>(
    line: &'a str,
    clock: &Clock,
) -> Result<Header<'a>, LineError> {
    let mut s = line.trim_start();
    if s.starts_with('<') {
        // <PRI>, then "1 " for RFC 5424.
        let end = s.find('>').ok_or(LineError::Timestamp)?;
        s = &s[end + 1..];
        if let Some(rest) = s.strip_prefix("1 ") {
            return rfc5424(rest, clock);
        }
    }
    let (time, used) = if s.as_bytes().first().is_some_and(u8::is_ascii_digit)
    {
        datetime(s, clock).ok_or(LineError::Timestamp)?
    } else {
        rfc3164(s, clock).ok_or(LineError::Timestamp)?
    };
    let rest = s[used..].trim_start();
    // HOST TAG[PID]: MESSAGE
    let (_, rest) = rest.split_once(' ').ok_or(LineError::Timestamp)?;
    let (tag, message) = match rest.split_once(": ") {
        Some((t, m)) if !t.contains(' ') => (t, m),
        _ => ("", rest),
    };
    let tag = tag.split_once('[').map_or(tag, |(t, _)| t);
    Ok(Header { time, tag, message })
}

/// `TIMESTAMP HOST APP PROCID MSGID SD MSG` (RFC 5424 section 6).
fn rfc5424<'a>(s: &'a str, clock: &Clock) -> Result<Header<'a>, LineError> {
    let (time, used) = datetime(s, clock).ok_or(LineError::Timestamp)?;
    let mut parts = s[used..].trim_start().splitn(5, ' ');
    let _host = parts.next();
    let tag = parts.next().unwrap_or("");
    let _procid = parts.next();
    let _msgid = parts.next();
    let rest = parts.next().unwrap_or("");
    // Structured data: `-` or `[...]` groups (not parsed: MTAs log none).
    let message = if let Some(r) = rest.strip_prefix("- ") {
        r
    } else if rest.starts_with('[') {
        rest.find("] ").map_or("", |i| &rest[i + 2..])
    } else {
        rest
    };
    Ok(Header { time, tag, message: message.trim_start_matches('\u{feff}') })
}

/// Digits at `s[at..at + n]` as a number.
fn num(s: &[u8], at: usize, n: usize) -> Option<i64> {
    let d = s.get(at..at + n)?;
    d.iter().try_fold(0i64, |v, c| {
        c.is_ascii_digit().then(|| v * 10 + i64::from(c - b'0'))
    })
}

/// The year of a time (Unix seconds).
fn year_of(t: i64) -> i64 {
    // Inverse of days_from_civil, year only.
    let z = t.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    yoe + era * 400 + i64::from(m <= 2)
}

/// Seconds of a clock time, checked.
fn clock_secs(h: i64, m: i64, s: i64) -> Option<i64> {
    (h < 24 && m < 60 && s <= 60).then_some(h * 3600 + m * 60 + s)
}

/// `YYYY-MM-DD[T ]HH:MM:SS[.frac][Z|±HH:MM|±HHMM| ±HHMM]` at the start
/// of `s`: the time and the bytes it used. Without a zone the time is in
/// the clock's zone.
pub(crate) fn datetime(s: &str, clock: &Clock) -> Option<(i64, usize)> {
    let b = s.as_bytes();
    if b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || !matches!(b.get(10), Some(b'T' | b' '))
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
    {
        return None;
    }
    let (y, mo, d) = (num(b, 0, 4)?, num(b, 5, 2)?, num(b, 8, 2)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let secs = clock_secs(num(b, 11, 2)?, num(b, 14, 2)?, num(b, 17, 2)?)?;
    let mut at = 19;
    if b.get(at) == Some(&b'.') {
        at += 1;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
    }
    let local = days_from_civil(y, mo, d) * 86_400 + secs;
    // A zone right after the time, or after one space (Exim's
    // `log_timezone`, PowerMTA's `-0500` needs none).
    let zone_at = if b.get(at) == Some(&b' ')
        && matches!(b.get(at + 1), Some(b'+' | b'-'))
    {
        at + 1
    } else {
        at
    };
    match b.get(zone_at) {
        Some(b'Z') => Some((local, zone_at + 1)),
        Some(&sign @ (b'+' | b'-')) => {
            let h = num(b, zone_at + 1, 2)?;
            let (m, end) = if b.get(zone_at + 3) == Some(&b':') {
                (num(b, zone_at + 4, 2)?, zone_at + 6)
            } else {
                (num(b, zone_at + 3, 2)?, zone_at + 5)
            };
            let off = (h * 3600 + m * 60) * if sign == b'-' { -1 } else { 1 };
            Some((local - off, end))
        }
        _ => Some((local - clock.utc_offset, at)),
    }
}

/// `Mmm dd HH:MM:SS[.frac]` (RFC 3164 section 4.1.2; day space- or
/// zero-padded) at the start of `s`, its year inferred from the clock.
fn rfc3164(s: &str, clock: &Clock) -> Option<(i64, usize)> {
    #[rustfmt::skip]
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun",
        b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
    ];
    let b = s.as_bytes();
    let mo =
        MONTHS.iter().position(|m| b.get(..3) == Some(&m[..]))? as i64 + 1;
    if b.get(3) != Some(&b' ') {
        return None;
    }
    let d =
        if b.get(4) == Some(&b' ') { num(b, 5, 1)? } else { num(b, 4, 2)? };
    if b.get(6) != Some(&b' ') || b.get(9) != Some(&b':') {
        return None;
    }
    let secs = clock_secs(num(b, 7, 2)?, num(b, 10, 2)?, num(b, 13, 2)?)?;
    let mut at = 15;
    if b.get(at) == Some(&b'.') {
        at += 1;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
    }
    if !(1..=31).contains(&d) {
        return None;
    }
    let reference = clock.reference + clock.utc_offset;
    let year = year_of(reference);
    let local = |y: i64| days_from_civil(y, mo, d) * 86_400 + secs;
    let mut t = local(year);
    if t > reference + 86_400 {
        t = local(year - 1);
    }
    Some((t - clock.utc_offset, at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::{format_rfc3339, parse_rfc3339};

    fn clock(at: &str) -> Clock {
        Clock { reference: parse_rfc3339(at).unwrap(), utc_offset: 0 }
    }

    fn at(line: &str, c: &Clock) -> (String, String, String) {
        let h = header(line, c).unwrap();
        (format_rfc3339(h.time), h.tag.to_string(), h.message.to_string())
    }

    #[test]
    fn rfc3164_years_follow_the_reference() {
        let c = clock("2027-01-05T10:00:00Z");
        let line = "Dec 31 23:59:59 mta postfix/smtp[12]: ABC: to=<a@b>";
        let (t, tag, msg) = at(line, &c);
        assert_eq!(t, "2026-12-31T23:59:59Z");
        assert_eq!(tag, "postfix/smtp");
        assert_eq!(msg, "ABC: to=<a@b>");
        let (t, ..) = at("Jan  5 10:30:00 mta sendmail[1]: x", &c);
        assert_eq!(t, "2027-01-05T10:30:00Z");
        // Postfix's own maillog_file pads with a zero.
        let (t, ..) = at("Dec 06 00:12:36 mta postfix/qmgr[3]: x", &c);
        assert_eq!(t, "2026-12-06T00:12:36Z");
        // A zone east of UTC.
        let c = Clock { utc_offset: 3600, ..c };
        let (t, ..) = at("Jan  5 10:30:00.123 mta exim[1]: x", &c);
        assert_eq!(t, "2027-01-05T09:30:00Z");
    }

    #[test]
    fn iso_journal_and_rfc5424_stamps() {
        let c = clock("2027-01-05T10:00:00Z");
        let (t, tag, msg) = at(
            "2026-12-06T00:12:36.123456+01:00 mta postfix/smtp[9]: Q: x",
            &c,
        );
        assert_eq!(
            (t.as_str(), tag.as_str()),
            ("2026-12-05T23:12:36Z", "postfix/smtp")
        );
        assert_eq!(msg, "Q: x");
        let (t, ..) =
            at("2026-12-06T00:12:36+0100 mta postfix/smtp[9]: Q: x", &c);
        assert_eq!(t, "2026-12-05T23:12:36Z");
        let (t, tag, msg) = at(
            "<22>1 2026-12-06T00:12:36Z mta postfix/smtp 9 - - Q: to=<a@b>",
            &c,
        );
        assert_eq!(
            (t.as_str(), tag.as_str()),
            ("2026-12-06T00:12:36Z", "postfix/smtp")
        );
        assert_eq!(msg, "Q: to=<a@b>");
        let (t, ..) = at("<22>Dec  6 00:12:36 mta postfix/smtp[9]: Q: x", &c);
        assert_eq!(t, "2026-12-06T00:12:36Z");
    }

    #[test]
    fn unreadable_stamps_are_errors() {
        let c = clock("2027-01-05T10:00:00Z");
        for bad in ["", "garbage here", "Dec 6", "2026-13-01T00:00:00Z x y: z"]
        {
            assert_eq!(header(bad, &c), Err(LineError::Timestamp), "{bad}");
        }
        let (t, _) = datetime("2026-12-06 00:12:36 -0500 x", &c).unwrap();
        assert_eq!(format_rfc3339(t), "2026-12-06T05:12:36Z");
        assert_eq!(
            year_of(parse_rfc3339("2024-12-31T23:59:59Z").unwrap()),
            2024
        );
        assert_eq!(
            year_of(parse_rfc3339("2025-01-01T00:00:00Z").unwrap()),
            2025
        );
    }
}
