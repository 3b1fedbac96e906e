//! DMARC (RFC 7489) of the From domain: policy discovery at `_dmarc.D`, or
//! at the organisational domain's `_dmarc` (section 6.6.3; the
//! organisational domain comes from the public suffix list, section 3.2);
//! the record parses, its policy and `pct`, aggregate reports (`rua=`,
//! including the external destination's consent of section 7.1); and the
//! identifier alignment of section 3.1: the From domain against the SPF
//! (Return-Path) domain under `aspf` and against each DKIM `d=` under
//! `adkim`.

use super::report::{Check, Evidence, Status};
use super::tags;
use crate::dns::{Answer, Dns};
use crate::model::Reason;

/// The parts of a DMARC record the checks use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Policy {
    /// `p=`, lower-case; `none` when missing but `rua=` is present.
    pub p: String,
    /// `sp=` (subdomain policy), lower-case.
    pub sp: Option<String>,
    /// `pct=`.
    pub pct: u8,
    /// `rua=` destinations.
    pub rua: Vec<String>,
    /// `adkim=s`.
    pub adkim_strict: bool,
    /// `aspf=s`.
    pub aspf_strict: bool,
    /// True when the record was found at the organisational domain.
    pub inherited: bool,
}

impl Policy {
    /// The policy that applies to the From domain: `sp=` when the record
    /// came from the organisational domain, else `p=`.
    pub(crate) fn applied(&self) -> &str {
        match (&self.sp, self.inherited) {
            (Some(sp), true) => sp,
            _ => &self.p,
        }
    }
}

/// The organisational domain of `domain`: its registrable domain by the
/// public suffix list, or the domain itself when the list knows none.
pub(crate) fn org_domain(domain: &str) -> String {
    let d = domain.trim_end_matches('.').to_ascii_lowercase();
    psl::domain_str(&d).map_or(d.clone(), str::to_string)
}

/// True when `a` and `b` are aligned: the same name (strict) or the same
/// organisational domain (relaxed).
pub(crate) fn aligned(a: &str, b: &str, strict: bool) -> bool {
    if strict {
        a.eq_ignore_ascii_case(b)
    } else {
        org_domain(a) == org_domain(b)
    }
}

fn is_dmarc(txt: &str) -> bool {
    let first = txt.split(';').next().unwrap_or("");
    first
        .split_once('=')
        .is_some_and(|(n, v)| n.trim() == "v" && v.trim() == "DMARC1")
}

/// The DMARC records among `answer`'s TXT records.
fn dmarc_records(answer: &Answer<String>) -> Vec<String> {
    answer.records().iter().filter(|t| is_dmarc(t)).cloned().collect()
}

/// Parses a DMARC record.
fn parse(
    text: &str,
    inherited: bool,
) -> Result<(Policy, Vec<String>), String> {
    let t = tags::parse(text)?;
    let mut notes = Vec::new();
    let rua: Vec<String> = tags::get_any_case(&t, "rua")
        .map(|r| {
            r.split(',')
                .map(|u| u.trim().to_string())
                .filter(|u| !u.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if let Some(bad) =
        rua.iter().find(|u| !u.to_ascii_lowercase().starts_with("mailto:"))
    {
        return Err(format!("rua destination {bad:?} is not a mailto: URI"));
    }
    let policy = |name: &str| -> Result<Option<String>, String> {
        match tags::get_any_case(&t, name) {
            None => Ok(None),
            Some(v) => match v.to_ascii_lowercase().as_str() {
                p @ ("none" | "quarantine" | "reject") => {
                    Ok(Some(p.to_string()))
                }
                _ => Err(format!(
                    "{name}={v} is not none, quarantine or reject"
                )),
            },
        }
    };
    let p = match policy("p") {
        Ok(Some(p)) => p,
        // Section 6.6.3: a record without a valid p= but with rua= is
        // taken as p=none.
        Ok(None) | Err(_) if !rua.is_empty() => {
            notes.push(
                "no valid p=: taken as p=none because rua= is set".into(),
            );
            "none".into()
        }
        Ok(None) => return Err("no p= tag (the policy)".into()),
        Err(e) => return Err(e),
    };
    let sp = policy("sp")?;
    let pct = match tags::get_any_case(&t, "pct") {
        None => 100,
        Some(v) => match v.parse::<u8>() {
            Ok(n) if n <= 100 => n,
            _ => return Err(format!("pct={v} is not 0 to 100")),
        },
    };
    let mode = |name: &str| -> Result<bool, String> {
        match tags::get_any_case(&t, name)
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None | Some("r") => Ok(false),
            Some("s") => Ok(true),
            Some(v) => Err(format!("{name}={v} is not r or s")),
        }
    };
    let adkim_strict = mode("adkim")?;
    let aspf_strict = mode("aspf")?;
    Ok((
        Policy { p, sp, pct, rua, adkim_strict, aspf_strict, inherited },
        notes,
    ))
}

const NEXT_RECORD: &str = "Publish one TXT record at _dmarc.<From domain>: \
     v=DMARC1; p=none; rua=mailto:<reports address> to start, then move \
     to p=quarantine and p=reject once the reports show only your own \
     mail failing.";

/// The record, policy and reporting checks of `from`, and the policy found.
pub(crate) async fn check(
    dns: &Dns,
    from: &str,
) -> (Vec<Check>, Option<Policy>) {
    let name = format!("_dmarc.{from}");
    let answer = dns.txt(&name).await;
    let mut evidence = vec![Evidence::new(&name, "TXT", answer.describe())];
    let mut found = dmarc_records(&answer);
    let mut failed = matches!(answer, Answer::Failed(_));
    let mut at = name.clone();
    let org = org_domain(from);
    let mut inherited = false;
    if found.is_empty() && !failed && org != from {
        at = format!("_dmarc.{org}");
        let answer = dns.txt(&at).await;
        evidence.push(Evidence::new(&at, "TXT", answer.describe()));
        found = dmarc_records(&answer);
        failed = matches!(answer, Answer::Failed(_));
        inherited = true;
    }
    let record = |status, detail: String| {
        Check::new("dmarc.record", from, status, detail)
            .with_evidence(evidence.clone())
            .advise(NEXT_RECORD, Reason::AuthFailure)
    };
    let text = match found.as_slice() {
        [] if failed => {
            return (
                vec![record(Status::CannotCheck, "TXT lookup failed".into())],
                None,
            );
        }
        [] => {
            let also = if org != from {
                format!(" or _dmarc.{org}")
            } else {
                String::new()
            };
            return (
                vec![record(
                    Status::Fail,
                    format!("no DMARC record at {name}{also}"),
                )],
                None,
            );
        }
        [one] => one.clone(),
        many => {
            return (
                vec![record(
                    Status::Fail,
                    format!(
                        "{} DMARC records at {at}: receivers apply none \
                         (RFC 7489 6.6.3)",
                        many.len()
                    ),
                )],
                None,
            );
        }
    };
    let (policy, notes) = match parse(&text, inherited) {
        Ok(p) => p,
        Err(e) => {
            return (
                vec![record(Status::Fail, format!("does not parse: {e}"))],
                None,
            );
        }
    };
    let mut detail = text.clone();
    if inherited {
        detail.push_str(&format!(" (at the organisational domain {org})"));
    }
    for n in &notes {
        detail.push_str(&format!("; {n}"));
    }
    let status = if notes.is_empty() { Status::Pass } else { Status::Warn };
    let mut checks = vec![record(status, detail)];

    let applied = policy.applied().to_string();
    let which =
        if policy.inherited && policy.sp.is_some() { "sp" } else { "p" };
    let (status, detail) = match (applied.as_str(), policy.pct) {
        ("none", _) => (
            Status::Warn,
            format!(
                "{which}=none: monitoring only, mail failing DMARC is still \
                 delivered"
            ),
        ),
        (p, pct) if pct < 100 => (
            Status::Warn,
            format!(
                "{which}={p} applies to only {pct}% of failing mail \
                 (pct={pct})"
            ),
        ),
        (p, _) => (Status::Pass, format!("{which}={p}, pct=100")),
    };
    checks.push(
        Check::new("dmarc.policy", from, status, detail)
            .with_evidence([Evidence::new(&at, "TXT", text.clone())])
            .advise(
                "Once the aggregate reports show your own mail passing, \
                 raise the policy to p=quarantine, then p=reject, with \
                 pct=100.",
                Reason::AuthFailure,
            ),
    );
    checks.push(reports(dns, from, &org, &at, &text, &policy).await);
    (checks, Some(policy))
}

/// `rua=` present, and each destination outside the domain's organisation
/// consents to receive its reports (RFC 7489 7.1:
/// `<domain>._report._dmarc.<destination host>` TXT `v=DMARC1`).
async fn reports(
    dns: &Dns,
    from: &str,
    org: &str,
    at: &str,
    text: &str,
    policy: &Policy,
) -> Check {
    let mut evidence = vec![Evidence::new(at, "TXT", text)];
    if policy.rua.is_empty() {
        return Check::new(
            "dmarc.reports",
            from,
            Status::Warn,
            "no rua=: no aggregate reports, so failures go unseen",
        )
        .with_evidence(evidence)
        .advise(
            "Add rua=mailto:<address> to the DMARC record to receive the \
             daily aggregate reports.",
            Reason::AuthFailure,
        );
    }
    let mut missing = Vec::new();
    let mut failed = Vec::new();
    for uri in &policy.rua {
        let addr = uri[7..].split('!').next().unwrap_or("");
        let Some((_, host)) = addr.rsplit_once('@') else { continue };
        let host = host.to_ascii_lowercase();
        if org_domain(&host) == org {
            continue;
        }
        let name = format!("{org}._report._dmarc.{host}");
        let answer = dns.txt(&name).await;
        evidence.push(Evidence::new(&name, "TXT", answer.describe()));
        match &answer {
            Answer::Failed(_) => failed.push(host),
            a if dmarc_records(a).is_empty() => missing.push(host),
            _ => {}
        }
    }
    let rua = policy.rua.join(",");
    let (status, detail) = if !missing.is_empty() {
        (
            Status::Warn,
            format!(
                "rua={rua}: {} has not agreed to receive reports for {org} \
                 (no {org}._report._dmarc.<host> record), so none are sent",
                missing.join(", ")
            ),
        )
    } else if !failed.is_empty() {
        (
            Status::CannotCheck,
            format!("rua={rua}: lookup failed for {}", failed.join(", ")),
        )
    } else {
        (Status::Pass, format!("rua={rua}"))
    };
    Check::new("dmarc.reports", from, status, detail)
        .with_evidence(evidence)
        .advise(
            format!(
                "Ask the report receiver to publish TXT \"v=DMARC1\" at \
             {org}._report._dmarc.<its domain>, or send reports to an \
             address of {org}."
            ),
            Reason::AuthFailure,
        )
}

/// One identifier to align with the From domain.
#[derive(Debug, Clone)]
pub(crate) struct Identifier {
    /// `spf` or `dkim`.
    pub kind: &'static str,
    /// The domain (Return-Path domain or `d=`).
    pub domain: String,
    /// The mechanism itself passes (SPF passes for every IP; the DKIM key
    /// is usable).
    pub passes: bool,
}

/// The alignment checks: one per identifier. Unaligned fails when no
/// identifier both aligns and passes, else warns (DMARC needs only one).
pub(crate) fn alignment(
    from: &str,
    policy: Option<&Policy>,
    ids: &[Identifier],
) -> (Vec<Check>, bool) {
    let strict = |id: &Identifier| {
        policy.is_some_and(|p| {
            if id.kind == "spf" { p.aspf_strict } else { p.adkim_strict }
        })
    };
    let is_aligned = |id: &Identifier| aligned(from, &id.domain, strict(id));
    let dmarc_can_pass = ids.iter().any(|id| id.passes && is_aligned(id));
    let checks = ids
        .iter()
        .map(|id| {
            align_check(from, id, strict(id), is_aligned(id), dmarc_can_pass)
        })
        .collect();
    (checks, dmarc_can_pass)
}

fn align_check(
    from: &str,
    id: &Identifier,
    strict: bool,
    is_aligned: bool,
    dmarc_can_pass: bool,
) -> Check {
    let spf = id.kind == "spf";
    let mode = if strict { "strict" } else { "relaxed" };
    let tag = if spf { "aspf" } else { "adkim" };
    let what = if spf {
        format!("Return-Path domain {}", id.domain)
    } else {
        format!("DKIM d={}", id.domain)
    };
    let (status, detail) = if is_aligned {
        (
            Status::Pass,
            format!("{what} aligns with From {from} ({tag} {mode})"),
        )
    } else if dmarc_can_pass {
        (
            Status::Warn,
            format!(
                "{what} does not align with From {from} ({tag} {mode}); \
                 DMARC still passes through another identifier"
            ),
        )
    } else {
        (
            Status::Fail,
            format!("{what} does not align with From {from} ({tag} {mode})"),
        )
    };
    let check = if spf { "dmarc.align.spf" } else { "dmarc.align.dkim" };
    let which = if spf {
        "Return-Path (bounce) domain"
    } else {
        "DKIM signing domain (d=)"
    };
    let exactly = if strict {
        format!(", exactly {from} as {tag}=s requires")
    } else {
        String::new()
    };
    Check::new(check, id.domain.clone(), status, detail).advise(
        format!("Use a {which} within {from}'s organisation{exactly}."),
        Reason::AuthFailure,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn organisational_domains_follow_the_public_suffix_list() {
        assert_eq!(org_domain("mail.example.co.uk"), "example.co.uk");
        assert_eq!(org_domain("a.b.example.com"), "example.com");
        assert_eq!(org_domain("Bounce.Example.COM."), "example.com");
        assert!(aligned("example.com", "bounce.example.com", false));
        assert!(!aligned("example.com", "bounce.example.com", true));
        assert!(!aligned("example.com", "example.net", false));
    }

    #[test]
    fn records_parse_with_defaults() {
        let (p, notes) =
            parse("v=DMARC1; p=reject; rua=mailto:d@example.com", false)
                .unwrap();
        assert_eq!(
            (p.p.as_str(), p.pct, p.aspf_strict),
            ("reject", 100, false)
        );
        assert!(notes.is_empty());
        let (p, notes) = parse(
            "v=DMARC1; p=bogus; rua=mailto:d@example.com; aspf=s",
            false,
        )
        .unwrap();
        assert_eq!(p.p, "none");
        assert!(p.aspf_strict);
        assert_eq!(notes.len(), 1);
        let (p, _) = parse("v=DMARC1; p=reject; sp=none", true).unwrap();
        assert_eq!(p.applied(), "none");
        for (bad, want) in [
            ("v=DMARC1; p=bogus", "not none"),
            ("v=DMARC1", "no p="),
            ("v=DMARC1; p=none; pct=101", "pct"),
            ("v=DMARC1; p=none; adkim=x", "adkim"),
            ("v=DMARC1; p=none; rua=https://x", "mailto"),
        ] {
            assert!(parse(bad, false).unwrap_err().contains(want), "{bad}");
        }
        assert!(is_dmarc("v=DMARC1; p=none"));
        assert!(!is_dmarc("v=spf1 -all"));
    }
}
