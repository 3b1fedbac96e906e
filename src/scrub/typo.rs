//! Typo'd mailbox domains: a table of common mailbox providers' domains and
//! the optimal-string-alignment (restricted Damerau-Levenshtein) distance,
//! so `gmai.com`, `yahooo.com` and `hotmial.com` get a "did you mean".
//!
//! A domain within distance 2 of a table domain gets the nearest one (the
//! first in table order on a tie); for table domains of 7 octets or fewer
//! (`me.com`, `gmx.net`) only distance 1 counts, since two edits turn a
//! short name into unrelated real domains. Domains in the table get no
//! suggestion.

/// Common mailbox domains, most used first (ties go to the earlier one).
#[rustfmt::skip]
pub const DOMAINS: &[&str] = &[
    "gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com",
    "icloud.com", "live.com", "msn.com", "googlemail.com", "me.com",
    "mac.com", "comcast.net", "verizon.net", "att.net", "sbcglobal.net",
    "cox.net", "charter.net", "earthlink.net", "protonmail.com",
    "proton.me", "zoho.com", "fastmail.com", "yandex.ru", "mail.ru",
    "gmx.com", "gmx.de", "gmx.net", "web.de", "t-online.de", "orange.fr",
    "free.fr", "laposte.net", "wanadoo.fr", "sfr.fr", "libero.it",
    "virgilio.it", "btinternet.com", "sky.com", "virginmedia.com",
    "yahoo.co.uk", "yahoo.fr", "yahoo.de", "yahoo.co.jp", "hotmail.co.uk",
    "hotmail.fr", "hotmail.de", "hotmail.it", "live.co.uk", "outlook.de",
    "qq.com", "163.com", "126.com", "naver.com", "daum.net",
    "rocketmail.com", "ymail.com", "bigpond.com", "shaw.ca", "rogers.com",
    "uol.com.br", "bol.com.br", "terra.com.br",
];

/// Optimal string alignment distance over bytes (three rolling rows).
pub fn distance(a: &str, b: &str) -> usize {
    bounded_distance(a, b, usize::MAX)
}

/// [`distance`], giving up with `limit + 1` as soon as every cell of a row
/// exceeds `limit` (the distance can only grow from there).
fn bounded_distance(a: &str, b: &str, limit: usize) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let mut two: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur: Vec<usize> = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v =
                (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(two[j - 2] + 1);
            }
            cur[j] = v;
        }
        if cur.iter().all(|&v| v > limit) {
            return limit.saturating_add(1);
        }
        std::mem::swap(&mut two, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// The table domain `domain` (lower-case ASCII) is probably a typo of.
pub fn suggest(domain: &str) -> Option<&'static str> {
    if DOMAINS.contains(&domain) {
        return None;
    }
    let mut best: Option<(usize, &'static str)> = None;
    for &d in DOMAINS {
        // Cheap bound: the distance is at least the length difference.
        if d.len().abs_diff(domain.len()) > 2 {
            continue;
        }
        let limit = if d.len() <= 7 { 1 } else { 2 };
        let n = bounded_distance(domain, d, limit);
        if n <= limit && best.is_none_or(|(b, _)| n < b) {
            best = Some((n, d));
        }
    }
    best.map(|(_, d)| d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_counts_transpositions_once() {
        assert_eq!(distance("hotmial.com", "hotmail.com"), 1);
        assert_eq!(distance("gmai.com", "gmail.com"), 1);
        assert_eq!(distance("yahooo.com", "yahoo.com"), 1);
        assert_eq!(distance("gnail.con", "gmail.com"), 2);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("ca", "abc"), 3);
        assert_eq!(bounded_distance("example.org", "gmail.com", 2), 3);
        assert_eq!(bounded_distance("gmial.com", "gmail.com", 2), 1);
    }

    #[test]
    fn suggestions() {
        for (typo, want) in [
            ("gmai.com", "gmail.com"),
            ("gmial.com", "gmail.com"),
            ("gmail.co", "gmail.com"),
            ("yahooo.com", "yahoo.com"),
            ("yaho.com", "yahoo.com"),
            ("hotmial.com", "hotmail.com"),
            ("hotmail.con", "hotmail.com"),
            ("outlok.com", "outlook.com"),
            ("iclod.com", "icloud.com"),
            ("comcats.net", "comcast.net"),
        ] {
            assert_eq!(suggest(typo), Some(want), "{typo}");
        }
        for ok in ["gmail.com", "me.com", "example.com", "gmx.at"] {
            assert_eq!(suggest(ok), None, "{ok}");
        }
    }

    #[test]
    fn table_is_deduplicated() {
        let mut d = DOMAINS.to_vec();
        d.sort();
        d.dedup();
        assert_eq!(d.len(), DOMAINS.len());
    }
}
