//! Phrase rules as data: an ordered list of [`Rule`]s, each a reason with
//! the regex phrases that say it, compiled as needed ([`set`]). The built-in
//! rules are the files under `rules/` (embedded in the binary); operators
//! add their own with `--rules FILE` ([`Rules::load`]). The format is
//! `docs/rules.md`, read by [`format`].

pub(crate) mod format;
mod set;

pub(crate) use set::PhraseSet;

use std::path::Path;

use regex::bytes::RegexBuilder;

use crate::error::RulesError;
use crate::model::Reason;
use crate::parse::fields;

use format::{Phrase, RuleFile, RuleSpec};
use set::Dialect;

/// The id prefix of the operator's rules.
const LOCAL: &str = "local:";

/// One rule: the reason its phrases mean.
#[derive(Debug, Clone)]
pub struct Rule {
    id: String,
    reason: Reason,
    status: String,
    pattern: String,
}

impl Rule {
    fn new(spec: &RuleSpec<'_>, id: String) -> Rule {
        let phrases: Vec<&str> = spec.phrases.iter().map(|p| p.text).collect();
        Rule {
            id,
            reason: spec.reason,
            status: spec.status.to_string(),
            pattern: phrases.join("|"),
        }
    }

    /// Stable rule id (`text:user_unknown`, `gmail:dmarc`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The reason it gives.
    pub fn reason(&self) -> Reason {
        self.reason
    }

    /// Whether the rule applies under `status`: it names no status, or
    /// `status` starts with the one it names.
    fn applies(&self, status: Option<&str>) -> bool {
        self.status.is_empty()
            || status.is_some_and(|s| s.starts_with(self.status.as_str()))
    }
}

/// Rules in priority order, compiled as needed ([`PhraseSet`]): the
/// first rule that applies and whose phrase matches decides.
#[derive(Debug, Clone, Default)]
pub struct Rules {
    rules: Vec<Rule>,
    /// The patterns of the rules with phrases.
    set: PhraseSet,
    /// `slots[k]` is rule `k`'s pattern in `set`, `None` for a rule
    /// without phrases (its status alone decides).
    slots: Vec<Option<usize>>,
}

impl Rules {
    /// The rules of a built-in file (`rules/...`, checked by the tests),
    /// with the ids as written.
    pub(crate) fn builtin(file: &RuleFile<'_>) -> Rules {
        Rules::new(
            file.rules
                .iter()
                .map(|r| Rule::new(r, r.id.to_string()))
                .collect(),
        )
    }

    fn new(rules: Vec<Rule>) -> Rules {
        let mut slots = Vec::with_capacity(rules.len());
        let mut patterns = Vec::new();
        for r in &rules {
            slots.push((!r.pattern.is_empty()).then(|| {
                patterns.push(r.pattern.as_str());
                patterns.len() - 1
            }));
        }
        let set = PhraseSet::new(patterns.into_iter());
        Rules { rules, set, slots }
    }

    /// Loads the operator's rule files, earlier files first. Every line
    /// is checked: the syntax, the reason, each phrase compiles and
    /// matches its examples. Ids get the prefix `local:` unless they have
    /// it.
    pub fn load(paths: &[impl AsRef<Path>]) -> Result<Rules, RulesError> {
        let mut rules: Vec<Rule> = Vec::new();
        // Where each rule is defined, `file:line`.
        let mut origins: Vec<String> = Vec::new();
        for path in paths {
            let path = path.as_ref();
            let src = std::fs::read_to_string(path).map_err(|source| {
                RulesError::Read { path: path.to_path_buf(), source }
            })?;
            let name = path.display().to_string();
            for (rule, line) in local(&name, &src)? {
                if let Some(k) = rules.iter().position(|r| r.id == rule.id) {
                    return Err(RulesError::Line {
                        file: name,
                        line,
                        message: format!(
                            "rule `{}` is already defined in {}",
                            rule.id, origins[k]
                        ),
                    });
                }
                origins.push(format!("{name}:{line}"));
                rules.push(rule);
            }
        }
        Ok(Rules::new(rules))
    }

    /// The first rule that applies under `status` and matches `text`.
    pub fn lookup(&self, status: Option<&str>, text: &str) -> Option<&Rule> {
        if self.rules.is_empty() {
            return None;
        }
        let text = text.as_bytes();
        let candidates = self.set.candidates(text);
        self.rules
            .iter()
            .zip(&self.slots)
            .find(|(r, slot)| {
                r.applies(status)
                    && slot.is_none_or(|k| {
                        self.set.is_match(k, text, &candidates)
                    })
            })
            .map(|(r, _)| r)
    }
}

/// The rules of one operator file, each with its line, checked.
fn local(name: &str, src: &str) -> Result<Vec<(Rule, usize)>, RulesError> {
    let at = |line: usize, message: String| RulesError::Line {
        file: name.to_string(),
        line,
        message,
    };
    let file = format::parse(src).map_err(|e| at(e.line, e.message))?;
    if let Some(h) = &file.provider {
        return Err(at(
            h.line,
            "provider files are built in; a local file holds rules only"
                .to_string(),
        ));
    }
    let mut out = Vec::new();
    for spec in &file.rules {
        if spec.phrases.is_empty() && spec.status.is_empty() {
            return Err(at(
                spec.line,
                format!(
                    "rule `{}` has no phrase and no status: it would match \
                     every diagnostic",
                    spec.id
                ),
            ));
        }
        check(spec).map_err(|(line, message)| at(line, message))?;
        let id = if spec.id.starts_with(LOCAL) {
            spec.id.to_string()
        } else {
            format!("{LOCAL}{}", spec.id)
        };
        out.push((Rule::new(spec, id), spec.line));
    }
    Ok(out)
}

/// Checks that every phrase of a rule compiles and matches its examples,
/// and that the rule matches its own examples: `(line, what is wrong)`.
pub(crate) fn check(spec: &RuleSpec<'_>) -> Result<(), (usize, String)> {
    check_phrases(&spec.phrases)?;
    let rule = Rules::new(vec![Rule::new(spec, spec.id.to_string())]);
    for e in &spec.examples {
        if rule.lookup(fields::status_in(e).as_deref(), e).is_none() {
            return Err((
                spec.line,
                format!("rule `{}` does not match its example `{e}`", spec.id),
            ));
        }
    }
    Ok(())
}

/// Checks that every phrase of one pattern (a rule's, a provider's
/// signature) compiles and matches its examples.
pub(crate) fn check_phrases(
    phrases: &[Phrase<'_>],
) -> Result<(), (usize, String)> {
    let joined: Vec<&str> = phrases.iter().map(|p| p.text).collect();
    let dialect = Dialect::of(&joined.join("|"));
    for p in phrases {
        let re = dialect.compile(p.text).map_err(|e| {
            // The phrase's own error, not that of its compiled form.
            let e = RegexBuilder::new(p.text).build().err().unwrap_or(e);
            (p.line, format!("`{}` is not a valid regex: {e}", p.text))
        })?;
        if let Some(e) = p.examples().find(|e| !re.is_match(e.as_bytes())) {
            return Err((
                p.line,
                format!("`{}` does not match its example `{e}`", p.text),
            ));
        }
    }
    Ok(())
}

/// Test helper for the built-in files: every rule and signature is
/// [`check`]ed and holds one phrase a line (no top-level `|`).
#[cfg(test)]
pub(crate) fn assert_well_formed(file: &RuleFile<'_>) {
    let signature = file.provider.iter().flat_map(|h| &h.signature);
    let phrases = file.rules.iter().flat_map(|r| &r.phrases);
    for p in signature.chain(phrases) {
        assert_eq!(
            tests::alternatives(p.text),
            1,
            "line {}: one phrase a line",
            p.line
        );
    }
    if let Some(h) = &file.provider
        && let Err((line, e)) = check_phrases(&h.signature)
    {
        panic!("{}: line {line}: {e}", h.name);
    }
    for r in &file.rules {
        if let Err((line, e)) = check(r) {
            panic!("line {line}: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How many top-level alternatives a pattern has (outside groups and
    /// classes; nested classes do not occur in the rule files).
    pub(crate) fn alternatives(p: &str) -> usize {
        let (mut depth, mut class, mut escaped, mut n) = (0, false, false, 1);
        for c in p.chars() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '[' => class = true,
                ']' => class = false,
                '(' if !class => depth += 1,
                ')' if !class => depth -= 1,
                '|' if !class && depth == 0 => n += 1,
                _ => {}
            }
        }
        n
    }

    #[test]
    fn top_level_alternatives() {
        assert_eq!(alternatives(r"a(?:b|c)[|]\|d"), 1);
        assert_eq!(alternatives(r"a|(b)|c"), 3);
    }

    fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn local_rules_are_checked_and_prefixed() {
        let dir = tempfile::tempdir().unwrap();
        let good = write(
            dir.path(),
            "good.rules",
            "# ours\n[quota_reached] mailbox_full\n\
             mailbox quota reached  e.g. 552 Mailbox quota reached\n\
             [local:tls] failed_starttls status 5.7.10\n\
             e.g. 530 5.7.10 Encryption needed\n",
        );
        let rules = Rules::load(&[&good]).unwrap();
        let hit = rules.lookup(None, "552 MAILBOX QUOTA REACHED").unwrap();
        assert_eq!(
            (hit.id(), hit.reason()),
            ("local:quota_reached", Reason::MailboxFull)
        );
        assert_eq!(
            rules.lookup(Some("5.7.10"), "any").unwrap().id(),
            "local:tls"
        );
        assert!(rules.lookup(Some("5.7.1"), "any").is_none());
        let err = |text: &str| {
            let bad = write(dir.path(), "bad.rules", text);
            Rules::load(&[&good, &bad]).unwrap_err().to_string()
        };
        let bad = dir.path().join("bad.rules").display().to_string();
        assert!(err("[x] mailbox_full\nfull (  e.g. full (\n").starts_with(
            &format!("{bad}:2: `full (` is not a valid regex: ")
        ));
        assert_eq!(
            err("\n[x] mailbox_full\nfull  e.g. empty\n"),
            format!("{bad}:3: `full` does not match its example `empty`")
        );
        assert!(
            err("[x] mailbox_fll\n").starts_with(&format!(
                "{bad}:1: unknown reason `mailbox_fll`"
            ))
        );
        assert_eq!(
            err("[x] mailbox_full\n"),
            format!(
                "{bad}:1: rule `x` has no phrase and no status: it would match every diagnostic"
            )
        );
        assert!(err("[quota_reached] mailbox_full\nq  e.g. q\n").ends_with(
            &format!("is already defined in {}:2", good.display())
        ));
        assert!(matches!(
            Rules::load(&[dir.path().join("missing.rules")]),
            Err(RulesError::Read { .. })
        ));
    }
}
