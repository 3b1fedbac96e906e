//! Time helpers: RFC 3339 formatting and parsing of the dates found in mail.

use mail_parser::DateTime;

/// Parses an RFC 5322 date (as found in Date, Arrival-Date and
/// Last-Attempt-Date) into Unix seconds.
pub fn parse_mail_date(s: &str) -> Option<i64> {
    let d = DateTime::parse_rfc822(s.trim())?;
    d.is_valid().then(|| d.to_timestamp())
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

    #[test]
    fn reads_mail_dates_with_zones() {
        let a = parse_mail_date("Thu, 29 Apr 2010 23:45:40 +0900").unwrap();
        assert_eq!(format_rfc3339(a), "2010-04-29T14:45:40Z");
        assert_eq!(parse_mail_date("not a date"), None);
    }
}
