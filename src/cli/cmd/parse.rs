//! `rebound parse PATH...`: parse saved mail and print one record per
//! recipient. Ordinary mail gives no record and is counted in the summary
//! on stderr; messages that cannot be parsed are named on stderr and make
//! the exit code 1; inputs that cannot be read are named too and make it 2
//! (what could be read is still output); inputs that hold no message at
//! all are a warning. A closed output pipe (`| head`) ends it quietly.

use std::io::{self, BufWriter};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Args;
use rebound::classify::Rules;
use rebound::input::{self, InputMessage};
use rebound::{ParseConfig, Parser, Report};

use crate::cli::output::{Format, Writer};

/// Arguments of `rebound parse`.
#[derive(Debug, Args)]
pub struct ParseArgs {
    /// .eml files, directories (recursive; Maildir cur/ and new/), mbox
    /// files, or `-` for stdin.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Jsonl)]
    pub format: Format,
    /// Add an `explain` field saying why each record was classified so.
    #[arg(long)]
    pub explain: bool,
    #[command(flatten)]
    pub parser: ParserArgs,
}

/// Parser settings shared by `parse`, `ingest`, `sweep` and `explain`.
#[derive(Debug, Args, Clone)]
pub struct ParserArgs {
    /// Headers of the returned message that carry a campaign id
    /// (comma-separated, in order of preference).
    #[arg(long, value_delimiter = ',', env = "REBOUND_CAMPAIGN_HEADERS")]
    pub campaign_headers: Option<Vec<String>>,
    /// Regex with named groups `user` and `domain` recovering a recipient
    /// from a VERP address (default: `local+user=domain@host`).
    #[arg(long, env = "REBOUND_VERP_PATTERN")]
    pub verp_pattern: Option<String>,
    /// Local phrase rules (format: docs/rules.md), tried before the
    /// built-in ones; repeatable, earlier files first.
    #[arg(long = "rules", value_name = "FILE")]
    pub rules: Vec<PathBuf>,
}

impl ParserArgs {
    /// Loads the `--rules` files; a bad line is an error naming it.
    pub fn rules(&self) -> anyhow::Result<Rules> {
        Ok(Rules::load(&self.rules)?)
    }

    /// Builds the parser.
    pub fn build(&self, explain: bool) -> anyhow::Result<Parser> {
        let mut cfg = ParseConfig {
            explain,
            rules: self.rules()?,
            ..ParseConfig::default()
        };
        if let Some(h) = &self.campaign_headers {
            cfg.campaign_headers = h.clone();
        }
        if let Some(p) = &self.verp_pattern {
            cfg.verp_pattern = p.clone();
        }
        Parser::new(cfg).context("invalid --verp-pattern")
    }
}

/// One input message after parsing: its report, or why it has none.
pub enum ParsedInput {
    /// Parsed (records may be empty: not a bounce); with its source.
    Parsed(String, Report),
    /// Not parseable.
    Failed(InputMessage, String),
    /// Not readable.
    Unreadable(String),
}

/// Parses every message of `paths` on all cores, handing each
/// [`ParsedInput`] to `sink` in input order.
pub fn parse_inputs(
    paths: &[PathBuf],
    parser: &Parser,
    sink: impl FnMut(ParsedInput) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut sink = sink;
    let mut result = Ok(());
    input::for_each_parallel(
        input::open(paths),
        |m| match m {
            Err(e) => ParsedInput::Unreadable(e.to_string()),
            Ok(m) => match parser.parse(&m.bytes) {
                Ok(mut report) => {
                    for r in &mut report.records {
                        r.file = Some(m.source.clone());
                    }
                    ParsedInput::Parsed(m.name(), report)
                }
                Err(e) => ParsedInput::Failed(m, e.to_string()),
            },
        },
        |o| {
            if result.is_ok() {
                result = sink(o);
            }
        },
    );
    result
}

/// Runs `rebound parse`.
pub fn run(a: ParseArgs) -> anyhow::Result<ExitCode> {
    let parser = a.parser.build(a.explain)?;
    let stdout = io::stdout().lock();
    let mut w = Writer::new(
        a.format,
        BufWriter::with_capacity(1 << 16, stdout),
        a.explain,
    )?;
    let (mut messages, mut reports, mut records, mut ignored, mut failed) =
        (0, 0, 0, 0, 0);
    let mut unreadable = 0;
    parse_inputs(&a.paths, &parser, |o| {
        match o {
            ParsedInput::Parsed(source, report) => {
                messages += 1;
                if report.records.is_empty() {
                    ignored += 1;
                    if a.explain {
                        eprintln!(
                            "rebound: {source}: not a bounce (no detector recognised it)"
                        );
                    }
                } else {
                    reports += 1;
                }
                for r in &report.records {
                    records += 1;
                    w.write(r)?;
                }
            }
            ParsedInput::Failed(m, e) => {
                messages += 1;
                failed += 1;
                eprintln!("rebound: {}: cannot parse: {e}", m.name());
            }
            ParsedInput::Unreadable(e) => {
                unreadable += 1;
                eprintln!("rebound: cannot read {e}");
            }
        }
        Ok(())
    })?;
    w.finish()?;
    if messages == 0 && unreadable == 0 {
        eprintln!(
            "rebound: warning: the inputs hold no message (an empty directory?)"
        );
    }
    eprintln!(
        "rebound: {messages} messages: {reports} reports ({records} records), {ignored} not bounces, {failed} unparseable, {unreadable} unreadable inputs"
    );
    // An input that cannot be read is an I/O error (2) even when others
    // were read and output; a message that cannot be parsed is 1.
    Ok(if unreadable > 0 {
        ExitCode::from(2)
    } else if failed > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
