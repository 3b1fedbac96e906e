//! Time helpers: RFC 3339 formatting and parsing of the dates found in mail.

use mail_parser::DateTime;

/// Parses a date as found in Date, Arrival-Date, Last-Attempt-Date and
/// Received into Unix seconds: RFC 5322, else one of the shapes mailers
/// write instead ([`parse_loose_date`]).
pub fn parse_mail_date(s: &str) -> Option<i64> {
    // RFC 5322 has no AM/PM, and its parser would read past them.
    let twelve_hour = s.split_whitespace().any(|w| {
        let w = w.trim_end_matches([',', '.']).to_ascii_lowercase();
        w == "am"
            || w == "pm"
            || (w.contains(':') && (w.ends_with("am") || w.ends_with("pm")))
    });
    if twelve_hour {
        return parse_loose_date(s);
    }
    DateTime::parse_rfc822(s.trim())
        .filter(DateTime::is_valid)
        .map(|d| d.to_timestamp())
        .or_else(|| parse_loose_date(s))
}

/// Parses the date shapes mailers write instead of RFC 5322's, in any
/// order of their parts: a month name (`April 09, 2003`, `9 Apr 2003`),
/// or an ISO date (`2003-04-09`, `2003/04/09`, `2003-04-09T09:00:00`);
/// an optional weekday; a time `H:MM[:SS]` with an optional `AM`/`PM`;
/// an optional zone (`+0200`, `-05:00`, `UTC`, `GMT`, `Z`, the North
/// American zone names), else UTC. Asctime (`Thu Apr  9 09:00:00 2003`,
/// an mbox `From ` line's date) is one of them. A date whose day and
/// month cannot be told apart (`04/09/2003`), or with any other part not
/// understood, is not read: never a guess.
pub fn parse_loose_date(s: &str) -> Option<i64> {
    let (mut year, mut month, mut day) = (None, None, None);
    let (mut hms, mut pm, mut zone) = (None, None, 0i64);
    let s = s.split('(').next().unwrap_or(s);
    for tok in s.split(|c: char| c.is_whitespace() || c == ',') {
        let t = tok.trim_end_matches('.').to_ascii_lowercase();
        if t.is_empty() {
            continue;
        }
        let (date, time) = match t.split_once('t') {
            Some((d, tm)) if d.len() == 10 && d.as_bytes()[4] == b'-' => {
                (d, Some(tm))
            }
            _ => (t.as_str(), None),
        };
        if let Some((y, m, d)) = iso_date(date) {
            (year, month, day) = (Some(y), Some(m), Some(d));
            if let Some(tm) = time {
                let (tm, z) = split_zone(tm);
                hms = Some(clock(tm)?);
                zone = z.map_or(Ok(0), offset).ok()?;
            }
        } else if let Some(m) = month_of(&t) {
            month = Some(m);
        } else if WEEKDAYS.iter().any(|w| t.starts_with(w)) {
        } else if t.contains(':') {
            let (tm, ampm) = match t.strip_suffix("am") {
                Some(x) => (x, Some(false)),
                None => match t.strip_suffix("pm") {
                    Some(x) => (x, Some(true)),
                    None => (t.as_str(), None),
                },
            };
            if let Some(c) = clock(tm) {
                hms = Some(c);
                pm = ampm.or(pm);
            } else {
                zone = offset(&t).ok()?;
            }
        } else if t == "am" || t == "pm" {
            pm = Some(t == "pm");
        } else if t.starts_with(['+', '-']) {
            zone = offset(&t).ok()?;
        } else if let Some(z) = named_zone(&t) {
            zone = z;
        } else if let Ok(n) = t.parse::<i64>() {
            match (t.len(), day, year) {
                (4, _, None) => year = Some(n),
                (1 | 2, None, _) => day = Some(n),
                (2, Some(_), None) => {
                    year = Some(n + 2000 - 100 * i64::from(n >= 70))
                }
                _ => return None,
            }
        } else if !matches!(t.as_str(), "at" | "on") {
            // A part not understood (`04-46-42`, `04/09/2003`): the date
            // is not read rather than read in part.
            return None;
        }
    }
    let (y, m, d) = (year?, month?, day?);
    let (mut h, mi, sec) = hms.unwrap_or((0, 0, 0));
    match pm {
        Some(_) if !(1..=12).contains(&h) => return None,
        Some(true) if h < 12 => h += 12,
        Some(false) if h == 12 => h = 0,
        _ => {}
    }
    if !(1970..=2200).contains(&y)
        || !(1..=31).contains(&d)
        || d > days_in(y, m)
        || h > 23
        || mi > 59
        || sec > 60
    {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86400 + h * 3600 + mi * 60 + sec - zone)
}

#[rustfmt::skip]
const WEEKDAYS: [&str; 7] = ["fri", "mon", "sat", "sun", "thu", "tue", "wed"];

#[rustfmt::skip]
const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun",
    "jul", "aug", "sep", "oct", "nov", "dec",
];

/// Zone names mailers write for a numeric offset (RFC 822 §5 and the
/// names of UTC itself), in seconds east of UTC.
#[rustfmt::skip]
const ZONES: [(&str, i64); 12] = [
    ("cdt", -5), ("cst", -6), ("edt", -4), ("est", -5), ("gmt", 0),
    ("mdt", -6), ("mst", -7), ("pdt", -7), ("pst", -8), ("ut", 0),
    ("utc", 0), ("z", 0),
];

fn month_of(t: &str) -> Option<i64> {
    let i = MONTHS.iter().position(|m| t.starts_with(m))?;
    // `march`, `mar`; not `marked`.
    let full = [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ][i];
    (t.len() == 3 || full == t || (t == "sept" && i == 8))
        .then_some(i as i64 + 1)
}

fn named_zone(t: &str) -> Option<i64> {
    ZONES.iter().find(|(n, _)| *n == t).map(|(_, h)| h * 3600)
}

/// `+hhmm`, `-hh:mm`, `+hh` in seconds east of UTC.
fn offset(t: &str) -> Result<i64, ()> {
    let sign = match t.as_bytes().first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return named_zone(t).ok_or(()),
    };
    let digits: String = t[1..].chars().filter(|c| *c != ':').collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    let (h, m) = match digits.len() {
        2 => (digits.parse::<i64>().map_err(|_| ())?, 0),
        4 => (
            digits[..2].parse::<i64>().map_err(|_| ())?,
            digits[2..].parse::<i64>().map_err(|_| ())?,
        ),
        _ => return Err(()),
    };
    if h > 14 || m > 59 {
        return Err(());
    }
    Ok(sign * (h * 3600 + m * 60))
}

/// A time and the zone glued to it (`09:00:00z`, `09:00+02:00`).
fn split_zone(t: &str) -> (&str, Option<&str>) {
    match t.find(['+', '-', 'z']) {
        Some(i) => (&t[..i], Some(&t[i..])),
        None => (t, None),
    }
}

/// `H:MM` or `H:MM:SS` (fractions of seconds dropped).
fn clock(t: &str) -> Option<(i64, i64, i64)> {
    let mut parts = t.split(':');
    let mut next = |max_len: usize| -> Option<i64> {
        let p = parts.next()?;
        let p = p.split('.').next()?;
        (!p.is_empty()
            && p.len() <= max_len
            && p.bytes().all(|b| b.is_ascii_digit()))
        .then(|| p.parse().ok())?
    };
    let h = next(2)?;
    let m = next(2)?;
    let s = match parts.next() {
        None => 0,
        Some(p) => {
            let p = p.split('.').next()?;
            if p.len() != 2 || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            p.parse().ok()?
        }
    };
    parts.next().is_none().then_some((h, m, s))
}

/// `YYYY-MM-DD` or `YYYY/MM/DD`.
fn iso_date(t: &str) -> Option<(i64, i64, i64)> {
    let b = t.as_bytes();
    if b.len() != 10 || b[4] != b[7] || !matches!(b[4], b'-' | b'/') {
        return None;
    }
    let n = |r: std::ops::Range<usize>| t.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    (1..=12).contains(&m).then_some((y, m, d))
}

fn days_in(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to a civil date (proleptic Gregorian; H.
/// Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses an RFC 3339 timestamp (or a bare `YYYY-MM-DD`) into Unix seconds.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    let s = s.trim();
    let d = if s.len() == 10 {
        DateTime::parse_rfc3339(&format!("{s}T00:00:00Z"))?
    } else {
        DateTime::parse_rfc3339(s)?
    };
    d.is_valid().then(|| d.to_timestamp())
}

/// Parses a time given as Unix seconds, RFC 3339 or `YYYY-MM-DD` (what
/// `--since` and `?since=` take).
pub fn parse_any(s: &str) -> Option<i64> {
    s.trim().parse::<i64>().ok().or_else(|| parse_rfc3339(s))
}

/// Formats Unix seconds as RFC 3339 in UTC (`2024-01-31T12:00:00Z`).
pub fn format_rfc3339(ts: i64) -> String {
    let d = DateTime::from_timestamp(ts);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        d.year, d.month, d.day, d.hour, d.minute, d.second
    )
}

/// Formats Unix seconds as an RFC 5322 date in UTC
/// (`Thu, 1 Feb 2024 12:00:00 +0000`).
pub fn format_rfc2822(ts: i64) -> String {
    DateTime::from_timestamp(ts).to_rfc822()
}

/// The current time in Unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The units of a duration, largest first: `y` (365 days), `w`, `d`,
/// `h`, `m`, `s`.
const UNITS: [(char, i64); 6] = [
    ('y', 365 * 86_400),
    ('w', 7 * 86_400),
    ('d', 86_400),
    ('h', 3_600),
    ('m', 60),
    ('s', 1),
];

/// Parses a duration written as a number and a unit (`90d`, `48h`, `2w`,
/// `1y`, `30m`, `3600s`) into seconds; `None` for anything else (no
/// unit, a negative or zero number, an unknown unit).
pub fn parse_duration(s: &str) -> Option<i64> {
    let s = s.trim();
    let unit = s.chars().last()?;
    let (_, secs) = UNITS.iter().find(|(u, _)| *u == unit)?;
    let n: i64 = s[..s.len() - 1].trim().parse().ok()?;
    (n > 0).then_some(n)?.checked_mul(*secs)
}

/// Formats seconds as [`parse_duration`] reads them, in the largest unit
/// that divides them (`7776000` → `90d`).
pub fn format_duration(secs: i64) -> String {
    let (u, n) = UNITS
        .iter()
        .find(|(_, n)| secs % n == 0)
        .map_or(('s', 1), |&(u, n)| (u, n));
    format!("{}{u}", secs / n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_round_trip() {
        assert_eq!(parse_duration("90d"), Some(90 * 86_400));
        assert_eq!(parse_duration(" 48h"), Some(48 * 3_600));
        assert_eq!(parse_duration("2w"), Some(14 * 86_400));
        for bad in ["", "d", "90", "-1d", "0h", "5x", "1.5d"] {
            assert_eq!(parse_duration(bad), None, "{bad:?}");
        }
        for s in ["90d", "2w", "1y", "36h", "90m", "61s"] {
            assert_eq!(format_duration(parse_duration(s).unwrap()), s);
        }
        assert_eq!(format_duration(14 * 86_400), "2w");
    }

    #[test]
    fn round_trips_rfc3339() {
        let ts = parse_rfc3339("2024-02-29T23:59:58Z").unwrap();
        assert_eq!(format_rfc3339(ts), "2024-02-29T23:59:58Z");
        assert_eq!(parse_rfc3339("2024-03-01").unwrap(), ts + 2);
        assert_eq!(format_rfc2822(ts), "Thu, 29 Feb 2024 23:59:58 +0000");
    }

    /// Issue 19, point 5: the shapes real mailers write instead of RFC
    /// 5322 are read; what cannot be read for sure is not.
    #[test]
    fn reads_the_date_shapes_mailers_write() {
        let at = |s: &str| parse_mail_date(s).map(format_rfc3339);
        for (shape, want) in [
            ("Thursday, April 09, 2003 9:00 AM", "2003-04-09T09:00:00Z"),
            ("Thursday, April 09, 2003 9:00 PM", "2003-04-09T21:00:00Z"),
            ("Wed, 12 Dec 2012 12:00 AM +0100", "2012-12-11T23:00:00Z"),
            ("Thu Apr  9 09:00:00 2003", "2003-04-09T09:00:00Z"),
            ("2003-04-09 09:00:00 +0200", "2003-04-09T07:00:00Z"),
            ("2003-04-09T09:00:00Z", "2003-04-09T09:00:00Z"),
            ("2003/04/09 09:00:00", "2003-04-09T09:00:00Z"),
            ("9 April 2003 09:00:00 EST", "2003-04-09T14:00:00Z"),
            ("Tue, 29 Feb 2000 10:00:00 -05:00 (EST)", "2000-02-29T15:00:00Z"),
            ("Mon, 3 Mar 08 10:00:00 GMT", "2008-03-03T10:00:00Z"),
        ] {
            assert_eq!(at(shape).as_deref(), Some(want), "{shape}");
        }
        for unreadable in [
            "04/09/2003 09:00",
            "2012-10-31 04-46-42",
            "yesterday",
            "Thursday, April 31, 2003",
            "13:00 PM April 9 2003",
            "",
        ] {
            assert_eq!(at(unreadable), None, "{unreadable}");
        }
    }

    #[test]
    fn reads_mail_dates_with_zones() {
        let a = parse_mail_date("Thu, 29 Apr 2010 23:45:40 +0900").unwrap();
        assert_eq!(format_rfc3339(a), "2010-04-29T14:45:40Z");
        assert_eq!(parse_mail_date("not a date"), None);
    }
}
