//! `rebound explain`: why a pasted SMTP response (argument or stdin) or a
//! whole bounce message (`--file`, or an argument naming an existing file)
//! was classified as it was (a path-like argument naming no file, a
//! directory or empty input is an error, exit 2; so is no argument on a
//! terminal, with the usage), with the root cause and next steps from the
//! advice table. The same rule engine as `parse` decides, with the same
//! `--rules` files:
//! [`rebound::classify::decide_text`] for a response,
//! [`rebound::Parser::parse`] for a message.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use rebound::classify::{self, Reason, advice::advice, class_name};
use serde_json::{Value, json};

use super::Exit;
use super::parse::ParserArgs;
use crate::cli::args::Cli;
use crate::cli::output::DocArgs;

/// Arguments of `rebound explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The SMTP response (`550 5.7.26 ...`), or the path of a bounce
    /// message; read from stdin when missing.
    pub text: Option<String>,
    /// Read a whole bounce message from this file (`-` for stdin).
    #[arg(long, conflicts_with = "text")]
    pub file: Option<PathBuf>,
    /// Text, or JSON (one object per recipient); and where to write.
    #[command(flatten)]
    pub output: DocArgs,
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

/// What `explain` was given.
enum Input {
    /// A whole bounce message.
    Message(Vec<u8>),
    /// A pasted SMTP reply.
    Reply(String),
}

/// An argument that names a file rather than quoting a reply: one word
/// (a reply has its code and text), not starting with a digit (a bare
/// `5.1.1`), with a directory separator, a leading `.` or `~`, or a file
/// extension (`bounce.eml`); an address is not a path.
fn looks_like_path(arg: &str) -> bool {
    !arg.is_empty()
        && !arg.chars().any(char::is_whitespace)
        && !arg.starts_with(|c: char| c.is_ascii_digit())
        && !arg.contains('@')
        && (arg.contains(['/', '\\'])
            || arg.starts_with(['.', '~'])
            || std::path::Path::new(arg).extension().is_some())
}

fn read_message(p: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    if p.as_os_str() == "-" {
        return read_stdin();
    }
    if p.is_dir() {
        return Err(Exit {
            code: 2,
            message: format!(
                "{} is a directory; explain reads one message (`rebound \
                 parse` reads directories)",
                p.display()
            ),
        }
        .into());
    }
    std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))
}

/// The input: `--file`, else the argument (an existing file or
/// directory, a path-like word naming nothing, or a reply), else stdin
/// (a reply); on a terminal without an argument, the usage.
fn input(a: &ExplainArgs) -> anyhow::Result<Input> {
    if let Some(p) = &a.file {
        return Ok(Input::Message(read_message(p)?));
    }
    if let Some(t) = &a.text {
        let p = std::path::Path::new(t);
        if p.is_file() || p.is_dir() {
            return Ok(Input::Message(read_message(p)?));
        }
        if looks_like_path(t) {
            return Err(Exit {
                code: 2,
                message: format!(
                    "{t}: no such file (to explain a reply, give its text \
                     with the code, e.g. \"550 5.1.1 user unknown\")"
                ),
            }
            .into());
        }
        return Ok(Input::Reply(t.clone()));
    }
    if std::io::stdin().is_terminal() {
        let mut cli = <Cli as clap::CommandFactory>::command();
        cli.build();
        let usage = cli
            .find_subcommand_mut("explain")
            .map(|c| c.render_usage().to_string())
            .unwrap_or_default();
        return Err(Exit {
            code: 2,
            message: format!(
                "nothing to explain: give an SMTP reply (\"550 5.1.1 ...\"), \
                 a bounce message (PATH or --file PATH) or pipe one in\n\
                 {usage}\nFor more information, try 'rebound explain --help'."
            ),
        }
        .into());
    }
    Ok(Input::Reply(String::from_utf8_lossy(&read_stdin()?).into_owned()))
}

/// Runs `rebound explain`.
pub fn run(a: ExplainArgs) -> anyhow::Result<ExitCode> {
    let verdicts = match input(&a)? {
        Input::Message(bytes) if bytes.trim_ascii().is_empty() => {
            return Err(empty());
        }
        Input::Reply(t) if t.trim().is_empty() => return Err(empty()),
        Input::Message(bytes) => from_message(&a, &bytes)?,
        Input::Reply(t) => vec![from_response(&a, t.trim())?],
    };
    if verdicts.is_empty() {
        return Err(Exit {
            code: 1,
            message: "no bounced recipient in this message (not a bounce?)"
                .into(),
        }
        .into());
    }
    let mut out = a.output.writer()?;
    for (i, v) in verdicts.iter().enumerate() {
        if a.output.json() {
            serde_json::to_writer(&mut out, &to_json(v))?;
        } else {
            if i > 0 {
                writeln!(out)?;
            }
            write_text(&mut out, v)?;
        }
        writeln!(out)?;
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

fn empty() -> anyhow::Error {
    Exit { code: 2, message: "nothing to explain: the input is empty".into() }
        .into()
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
