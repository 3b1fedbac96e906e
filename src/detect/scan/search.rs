//! Searching report texts: marker lines compared case-insensitively
//! without copying the text, the rare-byte search behind them, phrase
//! tables, and which text of a message to search.

use std::borrow::Cow;

use memchr::memmem::Finder;

use crate::parse::Mail;

/// The lines of `text` with the byte offset each starts at.
pub(crate) fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.split_inclusive('\n').scan(0, |offset, line| {
        let start = *offset;
        *offset += line.len();
        Some((start, line.trim_end_matches(['\n', '\r'])))
    })
}

/// True when `text` contains one of `markers`, compared case-insensitively
/// (without copying `text` for ASCII markers).
pub(crate) fn has_marker(text: &str, markers: &[&str]) -> bool {
    let mut lower = None;
    markers.iter().any(|m| {
        if m.is_ascii() {
            contains_ci(text, m)
        } else if text.is_ascii() {
            // A non-ASCII marker stays non-ASCII lower-cased.
            false
        } else {
            lower
                .get_or_insert_with(|| text.to_lowercase())
                .contains(&m.to_lowercase())
        }
    })
}

/// True when `text` contains the ASCII `needle`, ignoring ASCII case.
fn contains_ci(text: &str, needle: &str) -> bool {
    find_ci(text, needle).is_some()
}

/// Where the ASCII `needle` first occurs in `text`, ignoring ASCII case.
/// Candidates are found by the needle's rarest byte in ordinary text (a
/// memchr over its two cases), then the whole needle is compared there.
pub(crate) fn find_ci(text: &str, needle: &str) -> Option<usize> {
    let (hay, needle) = (text.as_bytes(), needle.as_bytes());
    if needle.is_empty() {
        return Some(0);
    }
    if hay.len() < needle.len() {
        return None;
    }
    let k = (0..needle.len())
        .min_by_key(|&i| commonness(needle[i]))
        .expect("the needle is not empty");
    let b = needle[k];
    let (lo, up) = (b.to_ascii_lowercase(), b.to_ascii_uppercase());
    // Byte k of every possible match lies in this window.
    let window = &hay[k..=hay.len() - needle.len() + k];
    memchr::memchr2_iter(lo, up, window)
        .find(|&i| hay[i..i + needle.len()].eq_ignore_ascii_case(needle))
}

/// How often each byte occurs in ordinary English mail text, as a rank
/// (higher is more common): spaces and the most frequent letters first
/// (either case), then the rest of the letters by frequency; digits,
/// punctuation and other bytes count as rare (0).
static COMMONNESS: [u8; 256] = {
    const BY_FREQUENCY: &[u8] = b" etaoinsrhldcumfpgwybvkxjqz";
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < BY_FREQUENCY.len() {
        let rank = (BY_FREQUENCY.len() - i) as u8;
        let c = BY_FREQUENCY[i];
        table[c as usize] = rank;
        table[c.to_ascii_uppercase() as usize] = rank;
        i += 1;
    }
    table
};

/// [`COMMONNESS`] of `b`.
fn commonness(b: u8) -> u8 {
    COMMONNESS[usize::from(b)]
}

/// The first line of `text` that contains one of `markers` (see
/// [`has_marker`]), as [`lines`] gives it. ASCII markers (which hold no
/// line break) are searched in the whole text at once: the line of the
/// earliest hit is the first line with a hit.
pub(super) fn first_line_with<'t>(
    text: &'t str,
    markers: &[&str],
) -> Option<(usize, &'t str)> {
    if !markers.iter().all(|m| m.is_ascii() && !m.contains(['\n', '\r'])) {
        return lines(text).find(|(_, l)| has_marker(l, markers));
    }
    if text.is_empty() {
        return None;
    }
    let hit = markers.iter().filter_map(|m| find_ci(text, m)).min()?;
    let start = text[..hit].rfind('\n').map_or(0, |i| i + 1);
    let end = text[hit..].find('\n').map_or(text.len(), |i| hit + i);
    Some((start, text[start..end].trim_end_matches(['\n', '\r'])))
}

/// [`has_marker`] over the whole text of a message, searched in its
/// lower-cased view (made once per message).
pub(crate) fn text_has_marker(mail: &Mail<'_>, markers: &[&str]) -> bool {
    markers.iter().any(|m| {
        if m.chars().any(char::is_uppercase) {
            mail.lower_has(&m.to_lowercase())
        } else {
            mail.lower_has(m)
        }
    })
}

/// The first line of `text` that contains a phrase of `table` (see
/// [`lookup`]): its byte offset, the offset just after it, and the
/// phrase's value.
pub(crate) fn find_line<T: Copy>(
    text: &str,
    table: &[(&str, T)],
) -> Option<(usize, usize, T)> {
    lines(text).find_map(|(start, line)| {
        let end = (start + line.len() + 1).min(text.len());
        lookup(line, table).map(|v| (start, end, v))
    })
}

/// The value of the first `(phrase, value)` row whose phrase `text`
/// contains (compared lower-case; phrases are lower-case).
pub(crate) fn lookup<T: Copy>(text: &str, table: &[(&str, T)]) -> Option<T> {
    table
        .iter()
        .find(|(m, _)| has_marker(text, std::slice::from_ref(m)))
        .map(|(_, v)| *v)
}

/// [`lookup`] over the whole text of a message, in its lower-cased view.
pub(crate) fn text_lookup<T: Copy>(
    mail: &Mail<'_>,
    table: &[(&str, T)],
) -> Option<T> {
    table.iter().find(|(m, _)| mail.lower_has(m)).map(|(_, v)| *v)
}

pub(crate) fn strip_prefix_ci<'a>(
    s: &'a str,
    prefix: &str,
) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

/// The words of `text` joined with single spaces (line breaks and runs of
/// blanks collapsed).
pub(crate) fn join(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text to scan: the message's human-readable text, or, when that
/// lacks `marker` (a part whose MIME header is broken, e.g. a boundary
/// parameter on an unfolded line), the raw body after the header section.
pub(crate) fn text_with<'a>(mail: &'a Mail<'_>, marker: &str) -> Cow<'a, str> {
    if mail.lower_has(marker) {
        return Cow::Borrowed(&mail.text);
    }
    String::from_utf8_lossy(mail.raw_body())
}

/// True when the text [`text_with`] gives for `marker` contains all of
/// `needles` (case-sensitive, searchers set up once by the caller),
/// without copying the raw body. The lower-cased text is consulted only
/// when the text and the raw body disagree (most messages contain the
/// needles in neither).
pub(crate) fn text_with_has(
    mail: &Mail<'_>,
    marker: &str,
    needles: &[Finder<'_>],
) -> bool {
    let all_in = |hay: &[u8]| needles.iter().all(|n| n.find(hay).is_some());
    let in_text = all_in(mail.text.as_bytes());
    let in_raw = all_in(mail.raw_body());
    if in_text == in_raw {
        return in_text;
    }
    if mail.lower_has(marker) { in_text } else { in_raw }
}

/// True when the keys of a phrase table are lower-case, sorted and
/// unique (for the tables' unit tests).
#[cfg(test)]
pub(crate) fn is_sorted_table<T>(table: &[(&str, T)]) -> bool {
    is_sorted_keys(table.iter().map(|(k, _)| *k))
}

/// True when `keys` (a marker list, or a table's keys) are lower-case,
/// sorted and unique.
#[cfg(test)]
pub(crate) fn is_sorted_keys<'a>(
    keys: impl IntoIterator<Item = &'a str>,
) -> bool {
    let keys: Vec<&str> = keys.into_iter().collect();
    keys.windows(2).all(|w| w[0] < w[1])
        && keys.iter().all(|k| k.to_lowercase() == *k)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole-text search finds the line the line-by-line one found.
    #[test]
    fn first_line_with_is_the_line_by_line_search() {
        let texts = [
            "",
            "one\ntwo Marker here\nthree marker\n",
            "no\r\nMARKER x\r\n",
            "a\nb\nlast line has the marker",
            "marker at the start\n",
            "ümlaut line\n  --- Original Message ---\nx",
            "none of them\n",
        ];
        let sets: [&[&str]; 4] = [
            &["marker"],
            &["original message", "marker"],
            &["zzz", "x"],
            &[""],
        ];
        for t in texts {
            for m in sets {
                let by_line = lines(t).find(|(_, l)| has_marker(l, m));
                assert_eq!(first_line_with(t, m), by_line, "{t:?} {m:?}");
            }
        }
    }

    /// The rare-byte search finds what a plain left-to-right search
    /// finds: every needle over an alphabet mixing cases, rare and common
    /// letters, digits and a non-ASCII char, in every text of that
    /// alphabet up to 6 chars and in longer texts with repeats.
    #[test]
    fn find_ci_is_the_plain_search() {
        let naive = |t: &str, n: &str| {
            let (t, n) = (t.as_bytes(), n.as_bytes());
            if t.len() < n.len() {
                return None;
            }
            (0..=t.len() - n.len())
                .find(|&i| t[i..i + n.len()].eq_ignore_ascii_case(n))
        };
        let alphabet = ['e', 'Z', 'z', ' ', '1', 'é'];
        let mut texts = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..6 {
            last = last
                .iter()
                .flat_map(|t| alphabet.iter().map(move |c| format!("{t}{c}")))
                .collect();
            texts.extend(last.iter().cloned());
        }
        texts.push("eeeZeeeZzzEz ez 1z".repeat(5));
        let needles =
            ["", "e", "z", "Ez", "ze ", "e1", "ZZE", " z1e", "eZz e", "1"];
        for t in &texts {
            for n in needles {
                assert_eq!(find_ci(t, n), naive(t, n), "{t:?} {n:?}");
            }
        }
    }
}
