//! `rebound serve [--config rebound.toml] [--listen ADDR] [--db PATH]`:
//! runs the service of `rebound::serve` (webhooks in, the suppression API
//! and metrics out) until SIGTERM. Every `[serve]` key of the
//! configuration file is also an environment variable
//! (`REBOUND_API_TOKEN`, `REBOUND_MAILGUN_SIGNING_KEY`, ...; see
//! `rebound::serve::config`). Exit 0 after a clean stop, 2 on a
//! configuration, ledger or listening error.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use rebound::ledger::LedgerOptions;
use rebound::serve::{self, ServeConfig};
use rebound::sweep::Config;

use super::Exit;
use super::parse::ParserArgs;

/// The configuration file read when `--config` is not given (a missing
/// default file is not an error).
const DEFAULT_CONFIG: &str = "rebound.toml";

/// Arguments of `rebound serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// TOML configuration file with a `[serve]` section [default:
    /// ./rebound.toml when present].
    #[arg(long, env = "REBOUND_CONFIG")]
    pub config: Option<PathBuf>,
    /// Address and port to listen on [default: 127.0.0.1:8025].
    #[arg(long, env = "REBOUND_LISTEN")]
    pub listen: Option<String>,
    /// The ledger file [default: the file's `db`, else ./rebound.db].
    #[arg(long, env = "REBOUND_DB")]
    pub db: Option<PathBuf>,
    /// How long to wait for another process holding the ledger, in
    /// milliseconds.
    #[arg(long, env = "REBOUND_BUSY_TIMEOUT", default_value_t = 5000)]
    pub busy_timeout: u64,
    /// Refuse to grow the ledger file beyond this many bytes.
    #[arg(long, env = "REBOUND_DB_MAX_SIZE")]
    pub db_max_size: Option<u64>,
    #[command(flatten)]
    pub parser: ParserArgs,
}

/// Runs `rebound serve`.
pub fn run(a: ServeArgs) -> anyhow::Result<ExitCode> {
    let config_error = |message: String| Exit { code: 2, message };
    let parser = a.parser.build(false)?;
    let file = match &a.config {
        Some(path) => Config::load(path),
        None if Path::new(DEFAULT_CONFIG).exists() => {
            Config::load(Path::new(DEFAULT_CONFIG))
        }
        None => Ok(Config::default()),
    }
    .map_err(|e| config_error(e.to_string()))?;
    let settings = ServeConfig::load(file.serve, |k| std::env::var(k).ok())
        .and_then(|c| c.resolve(a.listen.as_deref()))
        .map_err(|e| config_error(e.to_string()))?;
    let db = a.db.or(file.db).unwrap_or_else(|| PathBuf::from("rebound.db"));
    let ledger = LedgerOptions {
        busy_timeout: Duration::from_millis(a.busy_timeout),
        max_size: a.db_max_size,
        ..LedgerOptions::default()
    };
    serve::run(settings, &db, &ledger, parser, |addr| {
        eprintln!(
            "rebound: serve: listening on http://{addr} (ledger {})",
            db.display()
        );
    })?;
    eprintln!("rebound: serve: stopped; everything taken is committed");
    Ok(ExitCode::SUCCESS)
}
