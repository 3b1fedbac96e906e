//! `rebound explain`: why a pasted SMTP response (argument or stdin) or a
//! whole bounce message (`--file`, or an argument naming an existing file)
//! was classified as it was, with the root cause and next steps from the
//! advice table. The same rule engine as `parse` decides, with the same
//! `--rules` files:
//! [`rebound::classify::decide_text`] for a response,
//! [`rebound::Parser::parse`] for a message.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use rebound::classify::{self, Reason, advice::advice, class_name};
use serde_json::{Value, json};

use super::Exit;
use super::parse::ParserArgs;

/// Arguments of `rebound explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The SMTP response (`550 5.7.26 ...`), or the path of a bounce
    /// message; read from stdin when missing.
    pub text: Option<String>,
    /// Read a whole bounce message from this file (`-` for stdin).
    #[arg(long, conflicts_with = "text")]
    pub file: Option<PathBuf>,
    /// Print JSON (one object per recipient).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub parser: ParserArgs,
}

/// One explained verdict.
struct Verdict {
    recipient: Option<String>,
    status: Option<String>,
    reply_code: Option<String>,
    diagnostic: Option<String>,
    class: Option<u16>,
    category: &'static str,
    reason: Option<Reason>,
    reason_name: String,
    action: &'static str,
    retry_after_secs: Option<u64>,
    provider: Option<String>,
    rule: String,
}

fn read_stdin() -> anyhow::Result<Vec<u8>> {
    let mut buf = Vec::new();
    std::io::stdin().read_to_end(&mut buf).context("reading stdin")?;
    Ok(buf)
}

fn from_response(a: &ExplainArgs, text: &str) -> anyhow::Result<Verdict> {
    let (d, status, reply_code) =
        classify::decide_text(text, &a.parser.rules()?);
    Ok(Verdict {
        recipient: None,
        status,
        reply_code,
        diagnostic: Some(text.to_string()),
        class: d.meaning.class,
        category: d.meaning.category.as_str(),
        reason: Some(d.reason),
        reason_name: d.reason.name().to_string(),
        action: d.meaning.action.as_str(),
        retry_after_secs: d.meaning.retry_after_secs,
        provider: d.provider.map(str::to_string),
        rule: d.rule,
    })
}

fn from_message(
    a: &ExplainArgs,
    bytes: &[u8],
) -> anyhow::Result<Vec<Verdict>> {
    let report = a.parser.build(false)?.parse(bytes)?;
    Ok(report
        .records
        .into_iter()
        .map(|r| {
            let name = r.reason.unwrap_or_else(|| "undetermined".into());
            Verdict {
                recipient: r.recipient,
                status: r.status,
                reply_code: r.reply_code,
                diagnostic: r.diagnostic,
                class: r.class,
                category: r.category.map_or("-", |c| c.as_str()),
                reason: Reason::from_name(&name),
                reason_name: name,
                action: r.action.map_or("-", |x| x.as_str()),
                retry_after_secs: r.retry_after_secs,
                provider: r.provider,
                rule: r.rule.unwrap_or_default(),
            }
        })
        .collect())
}

/// Runs `rebound explain`.
pub fn run(a: ExplainArgs) -> anyhow::Result<ExitCode> {
    let file = a.file.clone().or_else(|| {
        a.text.as_ref().map(PathBuf::from).filter(|p| p.is_file())
    });
    let verdicts = match (&file, &a.text) {
        (Some(p), _) => {
            let bytes = if p.as_os_str() == "-" {
                read_stdin()?
            } else {
                std::fs::read(p)
                    .with_context(|| format!("reading {}", p.display()))?
            };
            from_message(&a, &bytes)?
        }
        (None, Some(t)) => vec![from_response(&a, t.trim())?],
        (None, None) => {
            let text = String::from_utf8_lossy(&read_stdin()?).into_owned();
            vec![from_response(&a, text.trim())?]
        }
    };
    if verdicts.is_empty() {
        return Err(Exit {
            code: 1,
            message: "no bounced recipient in this message (not a bounce?)"
                .into(),
        }
        .into());
    }
    let mut out = std::io::stdout().lock();
    for (i, v) in verdicts.iter().enumerate() {
        if a.json {
            serde_json::to_writer(&mut out, &to_json(v))?;
        } else {
            if i > 0 {
                writeln!(out)?;
            }
            write_text(&mut out, v)?;
        }
        writeln!(out)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn hours(secs: u64) -> String {
    if secs.is_multiple_of(3600) {
        format!("{} h", secs / 3600)
    } else {
        format!("{secs} s")
    }
}

fn to_json(v: &Verdict) -> Value {
    let adv = v.reason.and_then(advice);
    json!({
        "recipient": v.recipient,
        "status": v.status,
        "reply_code": v.reply_code,
        "diagnostic": v.diagnostic,
        "class": v.class,
        "class_name": v.class.map(class_name),
        "category": v.category,
        "reason": v.reason_name,
        "action": v.action,
        "retry_after_secs": v.retry_after_secs,
        "provider": v.provider,
        "rule": v.rule,
        "root_cause": adv.map(|a| a.root_cause),
        "next_steps": adv.map(|a| a.next_steps),
    })
}

fn write_text(out: &mut impl Write, v: &Verdict) -> anyhow::Result<()> {
    let dash = |o: &Option<String>| o.clone().unwrap_or_else(|| "-".into());
    if let Some(r) = &v.recipient {
        writeln!(out, "recipient:  {r}")?;
    }
    writeln!(
        out,
        "codes:      status {}, reply {}",
        dash(&v.status),
        dash(&v.reply_code)
    )?;
    match v.class {
        Some(c) => writeln!(out, "class:      {c} {}", class_name(c))?,
        None => writeln!(out, "class:      -")?,
    }
    writeln!(out, "category:   {}", v.category)?;
    writeln!(out, "reason:     {}", v.reason_name)?;
    match v.retry_after_secs {
        Some(s) => {
            writeln!(out, "action:     {} after {}", v.action, hours(s))?
        }
        None => writeln!(out, "action:     {}", v.action)?,
    }
    writeln!(out, "provider:   {}", dash(&v.provider))?;
    writeln!(out, "rule:       {}", v.rule)?;
    if let Some(adv) = v.reason.and_then(advice) {
        writeln!(out, "root cause: {}", adv.root_cause)?;
        writeln!(out, "next steps:")?;
        for (i, s) in adv.next_steps.iter().enumerate() {
            writeln!(out, "  {}. {s}", i + 1)?;
        }
    }
    Ok(())
}
