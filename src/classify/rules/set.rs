//! An ordered list of case-insensitive phrase patterns (one per rule, or
//! one per provider signature), searched for the first that matches a
//! text. Nothing is compiled up front: a literal prefilter (one
//! Aho-Corasick automaton over literals that every match of a pattern must
//! contain, taken from the pattern's syntax) names the few patterns that
//! can match a text, and only those are compiled, each on its first use,
//! and run. A run over a few hundred messages so compiles the rules its
//! messages need rather than every rule, and the automata stay small.
//!
//! The prefilter is exact by construction: a pattern is skipped only when
//! the text lacks every literal one of which each of its matches holds;
//! a pattern with no such literal (`\d{3}`, a class at each end) is always
//! tried. Matching is what a `RegexSet` of the same patterns gives.

use std::sync::OnceLock;

use aho_corasick::{
    AhoCorasick, AhoCorasickBuilder, AhoCorasickKind, MatchKind,
};
use regex::bytes::{Regex, RegexBuilder};
use regex_syntax::hir::Hir;
use regex_syntax::hir::literal::{ExtractKind, Extractor};

/// The patterns, in order.
#[derive(Debug, Clone, Default)]
pub(crate) struct PhraseSet {
    patterns: Vec<String>,
    index: OnceLock<Index>,
}

/// What is built on first use: the prefilter, and a slot per pattern for
/// its compiled form.
#[derive(Debug, Clone)]
struct Index {
    /// Every needed literal once (ASCII case-insensitive); `None` when no
    /// pattern has one.
    literals: Option<AhoCorasick>,
    /// For each literal of `literals`, the patterns it stands for.
    owners: Vec<Vec<usize>>,
    /// The patterns without a needed literal: tried on every text.
    always: Vec<usize>,
    /// Each pattern compiled, on its first use.
    regexes: Vec<OnceLock<Regex>>,
}

/// The patterns of a [`PhraseSet`] that may match one text.
pub(crate) struct Candidates(Vec<u64>);

impl Candidates {
    fn with(n: usize) -> Candidates {
        Candidates(vec![0; n.div_ceil(64)])
    }

    fn add(&mut self, k: usize) {
        self.0[k / 64] |= 1 << (k % 64);
    }

    fn has(&self, k: usize) -> bool {
        self.0[k / 64] & (1 << (k % 64)) != 0
    }
}

impl PhraseSet {
    /// The patterns, in order (each a rule's phrases joined with `|`).
    pub(crate) fn new<'a>(patterns: impl Iterator<Item = &'a str>) -> Self {
        PhraseSet {
            patterns: patterns.map(String::from).collect(),
            index: OnceLock::new(),
        }
    }

    fn index(&self) -> &Index {
        self.index.get_or_init(|| Index::build(&self.patterns))
    }

    /// The patterns that may match `text`: every one that does is among
    /// them.
    pub(crate) fn candidates(&self, text: &[u8]) -> Candidates {
        let ix = self.index();
        let mut c = Candidates::with(self.patterns.len());
        for &k in &ix.always {
            c.add(k);
        }
        if let Some(ac) = &ix.literals {
            for m in ac.find_overlapping_iter(text) {
                for &k in &ix.owners[m.pattern().as_usize()] {
                    c.add(k);
                }
            }
        }
        c
    }

    /// Whether pattern `k`, one of `candidates` (from the same `text`),
    /// matches `text`.
    pub(crate) fn is_match(
        &self,
        k: usize,
        text: &[u8],
        candidates: &Candidates,
    ) -> bool {
        candidates.has(k)
            && self.index().regexes[k]
                .get_or_init(|| compile(&self.patterns[k]))
                .is_match(text)
    }

    /// The first pattern, in order, that matches `text`.
    pub(crate) fn first(&self, text: &[u8]) -> Option<usize> {
        let c = self.candidates(text);
        (0..self.patterns.len()).find(|&k| self.is_match(k, text, &c))
    }
}

impl Index {
    fn build(patterns: &[String]) -> Index {
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut owners: Vec<Vec<usize>> = Vec::new();
        let mut always = Vec::new();
        for (k, p) in patterns.iter().enumerate() {
            let Some(needed) = needed_literals(p) else {
                always.push(k);
                continue;
            };
            for lit in needed {
                match literals
                    .iter()
                    .position(|l| l.eq_ignore_ascii_case(&lit))
                {
                    Some(i) => owners[i].push(k),
                    None => {
                        literals.push(lit);
                        owners.push(vec![k]);
                    }
                }
            }
        }
        let literals = (!literals.is_empty()).then(|| {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                // The texts are short: a DFA would cost more to build
                // (measured: a tenth of a 316-message run) than it saves.
                .kind(Some(AhoCorasickKind::ContiguousNFA))
                .build(&literals)
                .expect("prefilter literals build")
        });
        Index {
            literals,
            owners,
            always,
            regexes: patterns.iter().map(|_| OnceLock::new()).collect(),
        }
    }
}

/// How a pattern is compiled: cheap for the lazy DFA, with ASCII classes
/// and ASCII word boundaries. A Unicode `\b` or a Unicode class over many
/// repetitions makes the DFA give up and the search fall back to the
/// PikeVM, ten times slower. A pattern with non-ASCII character classes
/// keeps Unicode classes but gets ASCII word boundaries; non-ASCII phrases
/// match as UTF-8 byte strings either way. The choice is made for a
/// rule's whole pattern, so each phrase behaves alone as it does in its
/// rule.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Dialect {
    Ascii,
    Unicode,
}

impl Dialect {
    pub(crate) fn of(pattern: &str) -> Dialect {
        if syntax(Dialect::Ascii, pattern).is_some() {
            Dialect::Ascii
        } else {
            Dialect::Unicode
        }
    }

    pub(crate) fn apply(self, p: &str) -> String {
        match self {
            Dialect::Ascii => format!("(?-u:{p})"),
            Dialect::Unicode => p.replace(r"\b", r"(?-u:\b)"),
        }
    }

    /// A pattern as the sets compile it.
    pub(crate) fn compile(
        self,
        p: &str,
    ) -> Result<regex::bytes::Regex, regex::Error> {
        RegexBuilder::new(&self.apply(p)).case_insensitive(true).build()
    }
}

/// The syntax of `pattern` in `dialect`, read case-sensitively, as the
/// byte-oriented regex reads it; `None` when it does not parse so.
fn syntax(dialect: Dialect, pattern: &str) -> Option<Hir> {
    regex_syntax::ParserBuilder::new()
        .utf8(false)
        .build()
        .parse(&dialect.apply(pattern))
        .ok()
}

/// Compiles one pattern of a set.
fn compile(pattern: &str) -> Regex {
    Dialect::of(pattern).compile(pattern).expect("rule patterns compile")
}

/// Literals one of which every match of `pattern` (case-insensitive)
/// contains, ASCII case aside; `None` when there are none worth using.
/// Taken from the prefixes or the suffixes of the matches, whichever
/// gives the longer shortest literal. The syntax is read
/// case-sensitively: an ASCII-case-insensitive search for its literals
/// finds every case variant, except where case folding leaves ASCII
/// (Unicode patterns: `k` is also the Kelvin sign, `s` the long s, and
/// other letters fold outside ASCII), so such patterns keep only the
/// longest run of each literal that is free of these.
fn needed_literals(pattern: &str) -> Option<Vec<Vec<u8>>> {
    let dialect = Dialect::of(pattern);
    let hir = syntax(dialect, pattern)?;
    let usable = |b: u8| match dialect {
        Dialect::Ascii => true,
        Dialect::Unicode => {
            b.is_ascii() && !matches!(b.to_ascii_lowercase(), b'k' | b's')
        }
    };
    let mut best: Option<Vec<Vec<u8>>> = None;
    for kind in [ExtractKind::Prefix, ExtractKind::Suffix] {
        // Short literals, few of them: longer ones or more variants cost
        // more to extract and to build into the automaton than they save.
        let seq = Extractor::new()
            .kind(kind)
            .limit_literal_len(24)
            .limit_total(64)
            .extract(&hir);
        let Some(lits) = seq.literals() else { continue };
        let lits: Vec<Vec<u8>> = lits
            .iter()
            .map(|l| {
                l.as_bytes()
                    .split(|&b| !usable(b))
                    .max_by_key(|run| run.len())
                    .unwrap_or_default()
                    .to_vec()
            })
            .collect();
        let shortest = |ls: &[Vec<u8>]| ls.iter().map(Vec::len).min();
        if lits.is_empty() || shortest(&lits) == Some(0) {
            continue;
        }
        if best.as_ref().is_none_or(|b| shortest(&lits) > shortest(b)) {
            best = Some(lits);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needed(p: &str) -> Option<Vec<String>> {
        needed_literals(p).map(|ls| {
            ls.into_iter().map(|l| String::from_utf8(l).unwrap()).collect()
        })
    }

    #[test]
    fn literals_every_match_holds() {
        assert_eq!(
            needed("mailbox (?:is )?full"),
            Some(vec!["mailbox is full".into(), "mailbox full".into()])
        );
        assert_eq!(
            needed(r"(?:user|mailbox) unknown|no such user"),
            Some(vec![
                "user unknown".into(),
                "mailbox unknown".into(),
                "no such user".into()
            ])
        );
        // Nothing at either end: tried on every text.
        assert_eq!(needed(r"\w+\s+\w+"), None);
        // Unicode (a non-ASCII class): only what folds within ASCII.
        assert_eq!(Dialect::of("empf[äa]nger|usu[áa]rio"), Dialect::Unicode);
        let n = needed("empf[äa]nger existiert nicht|usu[áa]rio").unwrap();
        assert!(n.iter().all(|l| l.is_ascii() && !l.contains(['s', 'k'])));
    }

    /// The ASCII letters whose case folds leave ASCII are `k` and `s`
    /// alone (what [`needed_literals`] assumes).
    #[test]
    fn only_k_and_s_fold_outside_ascii() {
        let outside: String = ('a'..='z')
            .filter(|c| {
                let re = Regex::new(&format!("(?i)^{c}$")).unwrap();
                (0x80..=0x10FFFFu32)
                    .filter_map(char::from_u32)
                    .any(|u| re.is_match(u.to_string().as_bytes()))
            })
            .collect();
        assert_eq!(outside, "ks");
    }

    /// The first match agrees with a `RegexSet` of the same patterns,
    /// case variants and Unicode folds included.
    #[test]
    fn first_match_is_the_sets() {
        let patterns = [
            r"\bover ?quota\b",
            "mailbox (?:is )?full",
            r"\d{3} 5\.1\.1",
            "usuário desconocido|Пользователь не найден",
            "usu[áa]rio inexistente|bo[îi]te pleine",
            "no such user",
            "skip",
        ];
        let set = PhraseSet::new(patterns.iter().copied());
        let re = regex::bytes::RegexSetBuilder::new(
            patterns.iter().map(|p| Dialect::of(p).apply(p)),
        )
        .case_insensitive(true)
        .build()
        .unwrap();
        for text in [
            "552 User OVER QUOTA",
            "552 userover quota",
            "MAILBOX IS FULL",
            "550 5.1.1 nope",
            "USUÁRIO desconocido",
            "пользователь НЕ НАЙДЕН",
            "NO \u{17F}UCH USER",
            "U\u{17F}UÁRIO DESCONOCIDO",
            "U\u{17F}UÁRIO INEXISTENTE",
            "BOÎTE PLEINE",
            "\u{17F}\u{212A}IP",
            "nothing here",
        ] {
            assert_eq!(
                set.first(text.as_bytes()),
                re.matches(text.as_bytes()).iter().next(),
                "{text}"
            );
        }
    }
}
