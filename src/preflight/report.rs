//! What `preflight` reports: one [`Check`] per verdict (pass, warn, fail,
//! cannot check) with its evidence (the name looked up and the answer), the
//! next step, and the bounce reason whose `explain` advice applies, so that
//! the operator reads the same root cause and steps before a send as after
//! the bounces.

use serde::{Serialize, Serializer};

use crate::classify::advice::{Advice, advice};
use crate::model::Reason;

/// A check's verdict, ordered from best to worst.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Set up as receivers expect.
    Pass,
    /// Works, but weaker than it should be.
    Warn,
    /// Could not be decided: the lookup failed or the list refused it.
    CannotCheck,
    /// Will cost deliveries.
    Fail,
}

impl Status {
    /// The label people read.
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::CannotCheck => "cannot check",
            Status::Fail => "FAIL",
        }
    }
}

/// One DNS lookup behind a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Evidence {
    /// The name and type asked (`_dmarc.example.org TXT`).
    pub query: String,
    /// What came back (the records, NXDOMAIN, NODATA or the failure).
    pub answer: String,
}

impl Evidence {
    /// Evidence for `name` `rtype` answered by `answer`.
    pub fn new(name: &str, rtype: &str, answer: impl Into<String>) -> Self {
        Evidence { query: format!("{name} {rtype}"), answer: answer.into() }
    }
}

/// One verdict.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// The check's stable id (`spf.record`, `dkim.key`, `dnsbl.ip`, ...).
    pub check: &'static str,
    /// What was checked: a domain, an IP, a selector name, an IP on a list.
    pub subject: String,
    /// The verdict.
    pub status: Status,
    /// The verdict in one line.
    pub detail: String,
    /// The lookups behind it.
    pub evidence: Vec<Evidence>,
    /// What to do about it (only when it did not pass).
    pub next_step: Option<String>,
    /// The bounce reason a failure here shows up as; its advice is the
    /// one `rebound explain` prints.
    #[serde(serialize_with = "reason_name")]
    pub reason: Option<Reason>,
}

fn reason_name<S: Serializer>(
    r: &Option<Reason>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match r {
        Some(r) => s.serialize_str(r.name()),
        None => s.serialize_none(),
    }
}

impl Check {
    /// A check with no evidence, next step or reason yet.
    pub fn new(
        check: &'static str,
        subject: impl Into<String>,
        status: Status,
        detail: impl Into<String>,
    ) -> Check {
        Check {
            check,
            subject: subject.into(),
            status,
            detail: detail.into(),
            evidence: Vec::new(),
            next_step: None,
            reason: None,
        }
    }

    /// Adds evidence.
    pub fn with_evidence(
        mut self,
        e: impl IntoIterator<Item = Evidence>,
    ) -> Self {
        self.evidence.extend(e);
        self
    }

    /// Sets the next step and the bounce reason, kept only when the check
    /// did not pass.
    pub fn advise(mut self, step: impl Into<String>, reason: Reason) -> Self {
        if self.status != Status::Pass {
            self.next_step = Some(step.into());
            self.reason = Some(reason);
        }
        self
    }
}

/// Every verdict of one run, in the order the checks are listed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// The verdicts.
    pub checks: Vec<Check>,
}

impl Report {
    /// True when a check failed.
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| c.status == Status::Fail)
    }

    /// How many checks have `status`.
    pub fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

    /// The `explain` advice of the reasons behind the checks that did not
    /// pass, each once, in order of first appearance.
    pub fn advice(&self) -> Vec<&'static Advice> {
        let mut out: Vec<&'static Advice> = Vec::new();
        for c in &self.checks {
            if let Some(a) = c.reason.and_then(advice)
                && !out.iter().any(|o| o.reason == a.reason)
            {
                out.push(a);
            }
        }
        out
    }

    /// The checks with id `check`.
    pub fn find<'a>(
        &'a self,
        check: &'a str,
    ) -> impl Iterator<Item = &'a Check> + 'a {
        self.checks.iter().filter(move |c| c.check == check)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advice_is_kept_only_for_checks_that_did_not_pass() {
        let pass = Check::new("ptr", "192.0.2.1", Status::Pass, "ok")
            .advise("set a PTR", Reason::RequirePtr);
        assert_eq!(pass.next_step, None);
        let fail = Check::new("ptr", "192.0.2.2", Status::Fail, "none")
            .advise("set a PTR", Reason::RequirePtr);
        let warn = Check::new("dkim.key", "s", Status::Warn, "1024 bits")
            .advise("rotate", Reason::AuthFailure);
        let r = Report { checks: vec![pass, fail.clone(), warn, fail] };
        let reasons: Vec<Reason> =
            r.advice().iter().map(|a| a.reason).collect();
        assert_eq!(reasons, [Reason::RequirePtr, Reason::AuthFailure]);
        assert!(r.failed());
        assert_eq!(r.count(Status::Fail), 2);
        let json = serde_json::to_value(&r.checks[1]).unwrap();
        assert_eq!(json["reason"], "require_ptr");
        assert_eq!(json["status"], "fail");
    }
}
