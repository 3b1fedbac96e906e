//! UID sets: sorted UID lists written as compact IMAP sequence sets
//! (`1:5,7,9:12`, RFC 3501 §9 `sequence-set`), cut so that no command line
//! grows past [`MAX_SET_LEN`].

/// A UID set in one command is at most this long (RFC 7162 §4 asks
/// clients to keep command lines under 8192 octets); longer sets are
/// split over several commands.
pub const MAX_SET_LEN: usize = 8000;

/// A sorted UID list as a compact IMAP sequence set (`1:5,7,9:12`).
pub(crate) fn uid_set(uids: &[u32]) -> String {
    uid_sets(uids, usize::MAX).next().unwrap_or_default()
}

/// A sorted UID list as compact IMAP sequence sets of at most `max_len`
/// characters each (a single range is never split, and is at most 21).
pub(crate) fn uid_sets(
    uids: &[u32],
    max_len: usize,
) -> impl Iterator<Item = String> {
    let mut rest = uids;
    std::iter::from_fn(move || {
        let mut out = String::new();
        while let Some(&first) = rest.first() {
            let run = rest
                .windows(2)
                .position(|w| w[1] != w[0].wrapping_add(1))
                .map_or(rest.len(), |i| i + 1);
            let range = match run {
                1 => first.to_string(),
                _ => format!("{first}:{}", rest[run - 1]),
            };
            if !out.is_empty() && out.len() + 1 + range.len() > max_len {
                break;
            }
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(&range);
            rest = &rest[run..];
        }
        (!out.is_empty()).then_some(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_compress_runs() {
        assert_eq!(uid_set(&[1, 2, 3, 5, 7, 8]), "1:3,5,7:8");
        assert_eq!(uid_set(&[4]), "4");
        assert_eq!(uid_set(&[]), "");
        let all: Vec<u32> = (1..=10_000).collect();
        assert_eq!(uid_set(&all), "1:10000");
        assert_eq!(
            uid_set(&[u32::MAX - 1, u32::MAX]),
            "4294967294:4294967295"
        );
    }

    #[test]
    fn long_uid_sets_are_split_without_losing_a_uid() {
        assert_eq!(
            uid_sets(&[1, 2, 3, 5, 7, 8, 10], 8).collect::<Vec<_>>(),
            ["1:3,5", "7:8,10"]
        );
        // A range longer than the limit still goes out whole.
        assert_eq!(uid_sets(&[100, 101], 3).collect::<Vec<_>>(), ["100:101"]);
        assert_eq!(uid_sets(&[], 8).count(), 0);
        // Every other UID: 30,000 single UIDs of 5 or 6 digits.
        let odd: Vec<u32> = (0..30_000).map(|i| 10_001 + 2 * i).collect();
        let sets: Vec<String> = uid_sets(&odd, MAX_SET_LEN).collect();
        assert!(sets.len() > 1, "{} sets", sets.len());
        assert!(sets.iter().all(|s| s.len() <= MAX_SET_LEN));
        let back: Vec<u32> = sets
            .iter()
            .flat_map(|s| s.split(','))
            .map(|u| u.parse().unwrap())
            .collect();
        assert_eq!(back, odd);
    }
}
