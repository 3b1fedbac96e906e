//! `rebound sweep`: sweep IMAP bounce mailboxes into the ledger (see
//! `rebound::sweep`). Every configuration key is also a flag (and an
//! environment variable), so a one-off run needs no file.
//!
//! Output: a progress bar on a terminal; otherwise silence except errors,
//! quarantined messages and one summary line (cron mails what it gets).
//! Exit codes: 0 done, 1 done with quarantined messages, 2 usage or
//! configuration error, 3 connection/TLS/authentication failure, 4 another
//! sweep holds the lock. `--notify URL` posts each newly recorded event
//! after its batch is committed (`crate::cli::notify`).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use rebound::ledger::{Ledger, LedgerOptions};
use rebound::sweep::config::{
    AccountSettings, After, NonBounces, Protocol, TlsMode,
};
use rebound::sweep::oauth2::OAuth2Layer;
use rebound::sweep::{
    self, AccountConfig, Config, ErrorKind, MessageFate, Observer, Options,
    SweepError, SweepTotals,
};

use super::parse::ParserArgs;
use crate::cli::notify::{Notify, NotifyArgs};

/// The configuration file read when `--config` is not given; a missing
/// default file is not an error (flags alone then describe the account).
const DEFAULT_CONFIG: &str = "rebound.toml";

/// The ledger used when neither `--db` nor the file's `db` names one.
const DEFAULT_DB: &str = "rebound.db";

/// `--tls`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum TlsArg {
    /// TLS from the first byte (default; port 993).
    Implicit,
    /// Plain connection upgraded with STARTTLS (port 143).
    Starttls,
    /// No TLS (needs --insecure).
    None,
}

/// `--after`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AfterArg {
    /// Move recorded messages to the processed folder (IMAP default).
    Move,
    /// Leave them and set `--flag`.
    Flag,
    /// Delete them (IMAP expunge; POP3 DELE, the POP3 default).
    Delete,
    /// Leave them untouched (the checkpoint or the remembered UIDL keeps
    /// them from being fetched again).
    Keep,
}

/// `--protocol`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ProtocolArg {
    /// IMAP (default).
    Imap,
    /// POP3.
    Pop3,
}

/// `--non-bounces`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum NonBouncesArg {
    /// Leave ordinary mail where it is, unread state untouched, and
    /// remember it (shared inboxes; always so over POP3).
    Leave,
    /// Move it to the quarantine folder (IMAP default).
    Quarantine,
    /// Leave it, set `--non-bounce-flag` on it, and remember it.
    Flag,
}

/// Arguments of `rebound sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// TOML configuration file [default: ./rebound.toml when present].
    #[arg(long, env = "REBOUND_CONFIG")]
    pub config: Option<PathBuf>,
    /// Sweep only the configured account of this name; without a
    /// configuration file, the name of the account in the ledger
    /// [default: USER@HOST].
    #[arg(long, env = "REBOUND_ACCOUNT")]
    pub account: Option<String>,
    /// The ledger file [default: ./rebound.db].
    #[arg(long, env = "REBOUND_DB")]
    pub db: Option<PathBuf>,
    /// The mail access protocol [default: imap].
    #[arg(long, value_enum, env = "REBOUND_PROTOCOL")]
    pub protocol: Option<ProtocolArg>,
    /// IMAP (or POP3) server host name.
    #[arg(long, env = "REBOUND_HOST")]
    pub host: Option<String>,
    /// Server port [default: 993 with implicit TLS, else 143; POP3: 995,
    /// else 110].
    #[arg(long, env = "REBOUND_PORT")]
    pub port: Option<u16>,
    /// How the connection is secured [default: implicit].
    #[arg(long, value_enum, env = "REBOUND_TLS")]
    pub tls: Option<TlsArg>,
    /// Allow `--tls none` (the password crosses the network in clear).
    #[arg(long, env = "REBOUND_INSECURE")]
    pub insecure: bool,
    /// PEM file of the CA of a private server certificate (then the only
    /// CA trusted; certificates are always verified).
    #[arg(long, env = "REBOUND_CA_FILE")]
    pub ca_file: Option<PathBuf>,
    /// Login name.
    #[arg(long, env = "REBOUND_USER")]
    pub user: Option<String>,
    /// Read the password from this environment variable.
    #[arg(long, value_name = "VAR", env = "REBOUND_PASSWORD_ENV")]
    pub password_env: Option<String>,
    /// Read the password from the first line of this file.
    #[arg(long, value_name = "FILE", env = "REBOUND_PASSWORD_FILE")]
    pub password_file: Option<PathBuf>,
    /// Run this shell command and use its output as the password.
    #[arg(long, value_name = "CMD", env = "REBOUND_PASSWORD_COMMAND")]
    pub password_command: Option<String>,
    /// Run this shell command and log in with XOAUTH2 using its output as
    /// the bearer token (Gmail, Microsoft 365).
    #[arg(long, value_name = "CMD", env = "REBOUND_OAUTH2_TOKEN_COMMAND")]
    pub oauth2_token_command: Option<String>,
    /// OAuth2 token endpoint: rebound refreshes the access token itself
    /// (RFC 6749 refresh grant; https, or http to a loopback host).
    #[arg(long, value_name = "URL", env = "REBOUND_OAUTH2_TOKEN_URL")]
    pub oauth2_token_url: Option<String>,
    /// OAuth2 client id.
    #[arg(long, value_name = "ID", env = "REBOUND_OAUTH2_CLIENT_ID")]
    pub oauth2_client_id: Option<String>,
    /// File holding the OAuth2 client secret (none for a public client).
    #[arg(
        long,
        value_name = "FILE",
        env = "REBOUND_OAUTH2_CLIENT_SECRET_FILE"
    )]
    pub oauth2_client_secret_file: Option<PathBuf>,
    /// File holding the OAuth2 refresh token (rewritten, mode 0600, when
    /// the provider rotates it).
    #[arg(
        long,
        value_name = "FILE",
        env = "REBOUND_OAUTH2_REFRESH_TOKEN_FILE"
    )]
    pub oauth2_refresh_token_file: Option<PathBuf>,
    /// OAuth2 scopes asked for on refresh.
    #[arg(long, value_name = "SCOPES", env = "REBOUND_OAUTH2_SCOPE")]
    pub oauth2_scope: Option<String>,
    /// Mailbox to sweep (repeat or comma-separate) [default: INBOX].
    #[arg(long, value_delimiter = ',', env = "REBOUND_MAILBOX")]
    pub mailbox: Option<Vec<String>>,
    /// Folder for recorded messages, created when missing, or its
    /// SPECIAL-USE attribute (`\\Archive`) [default: Processed].
    #[arg(long, env = "REBOUND_PROCESSED_FOLDER")]
    pub processed_folder: Option<String>,
    /// Folder for messages that are not bounces or cannot be parsed,
    /// created when missing [default: Quarantine].
    #[arg(long, env = "REBOUND_QUARANTINE_FOLDER")]
    pub quarantine_folder: Option<String>,
    /// What to do with recorded messages [default: move].
    #[arg(long, value_enum, env = "REBOUND_AFTER")]
    pub after: Option<AfterArg>,
    /// The flag `--after flag` sets [default: $Rebound].
    #[arg(long, env = "REBOUND_FLAG")]
    pub flag: Option<String>,
    /// What happens to messages that are not bounces [default:
    /// quarantine; POP3: leave].
    #[arg(long, value_enum, env = "REBOUND_NON_BOUNCES")]
    pub non_bounces: Option<NonBouncesArg>,
    /// The flag `--non-bounces flag` sets [default: $NotBounce].
    #[arg(long, env = "REBOUND_NON_BOUNCE_FLAG")]
    pub non_bounce_flag: Option<String>,
    /// Read at most this many bytes of a message (headers and report
    /// parts come first) [default: 2097152].
    #[arg(long, value_name = "BYTES", env = "REBOUND_MAX_MESSAGE_SIZE")]
    pub max_message_size: Option<u32>,
    /// How long to wait for another process holding the ledger, in
    /// milliseconds.
    #[arg(long, env = "REBOUND_BUSY_TIMEOUT", default_value_t = 5000)]
    pub busy_timeout: u64,
    /// Refuse to grow the ledger file beyond this many bytes.
    #[arg(long, env = "REBOUND_DB_MAX_SIZE")]
    pub db_max_size: Option<u64>,
    /// Fetch and parse, print what would happen; write and move nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Handle at most N messages in this run.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Fetch, parse and record at most N messages at a time.
    #[arg(
        long,
        value_name = "N",
        env = "REBOUND_BATCH_SIZE",
        default_value_t = sweep::DEFAULT_BATCH_SIZE,
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..)
    )]
    pub batch_size: usize,
    #[command(flatten)]
    pub parser: ParserArgs,
    #[command(flatten)]
    pub notify: NotifyArgs,
}

impl SweepArgs {
    /// The flags as a configuration layer over the file's accounts.
    fn layer(&self, with_name: bool) -> AccountConfig {
        let oauth2 = OAuth2Layer {
            token_url: self.oauth2_token_url.clone(),
            client_id: self.oauth2_client_id.clone(),
            client_secret_file: self.oauth2_client_secret_file.clone(),
            refresh_token_file: self.oauth2_refresh_token_file.clone(),
            scope: self.oauth2_scope.clone(),
        };
        AccountConfig {
            name: self.account.clone().filter(|_| with_name),
            protocol: self.protocol.map(|p| match p {
                ProtocolArg::Imap => Protocol::Imap,
                ProtocolArg::Pop3 => Protocol::Pop3,
            }),
            host: self.host.clone(),
            port: self.port,
            tls: self.tls.map(|t| match t {
                TlsArg::Implicit => TlsMode::Implicit,
                TlsArg::Starttls => TlsMode::Starttls,
                TlsArg::None => TlsMode::None,
            }),
            insecure: self.insecure.then_some(true),
            ca_file: self.ca_file.clone(),
            user: self.user.clone(),
            password_env: self.password_env.clone(),
            password_file: self.password_file.clone(),
            password_command: self.password_command.clone(),
            oauth2_token_command: self.oauth2_token_command.clone(),
            oauth2: (oauth2 != OAuth2Layer::default()).then_some(oauth2),
            mailboxes: self.mailbox.clone(),
            processed_folder: self.processed_folder.clone(),
            quarantine_folder: self.quarantine_folder.clone(),
            after: self.after.map(|a| match a {
                AfterArg::Move => After::Move,
                AfterArg::Flag => After::Flag,
                AfterArg::Delete => After::Delete,
                AfterArg::Keep => After::Keep,
            }),
            flag: self.flag.clone(),
            non_bounces: self.non_bounces.map(|n| match n {
                NonBouncesArg::Leave => NonBounces::Leave,
                NonBouncesArg::Quarantine => NonBounces::Quarantine,
                NonBouncesArg::Flag => NonBounces::Flag,
            }),
            non_bounce_flag: self.non_bounce_flag.clone(),
            max_message_size: self.max_message_size,
        }
    }
}

/// Exit with a configuration error.
fn config_error(message: String) -> anyhow::Error {
    super::Exit { code: 2, message }.into()
}

/// The exit code of a sweep error.
pub fn code_of(e: &SweepError) -> u8 {
    match e.kind() {
        ErrorKind::Connection => 3,
        ErrorKind::Locked => 4,
        _ => 2,
    }
}

/// What `sweep` and `watch` resolve from the flags and the file.
pub struct Resolved {
    /// The configuration file (for its `[watch]` table).
    pub config: Config,
    /// The accounts, checked.
    pub accounts: Vec<AccountSettings>,
    /// Run-wide settings.
    pub opts: Options,
}

impl SweepArgs {
    /// Reads the configuration file, lays the flags over each account
    /// and checks the result (exit 2 on a bad setting).
    pub fn resolve(&self) -> anyhow::Result<Resolved> {
        let a = self;
        let config = match &a.config {
            Some(path) => Config::load(path),
            None if Path::new(DEFAULT_CONFIG).exists() => {
                Config::load(Path::new(DEFAULT_CONFIG))
            }
            None => Ok(Config::default()),
        }
        .map_err(|e| config_error(e.to_string()))?;
        let from_file = !config.accounts.is_empty();
        let layers: Vec<AccountConfig> = if from_file {
            let chosen: Vec<AccountConfig> = config
                .accounts
                .iter()
                .filter(|c| {
                    a.account.is_none()
                        || c.name.as_deref() == a.account.as_deref()
                })
                .cloned()
                .collect();
            if chosen.is_empty() {
                return Err(config_error(format!(
                    "no account named {:?} in the configuration",
                    a.account.as_deref().unwrap_or("")
                )));
            }
            chosen
        } else {
            vec![AccountConfig::default()]
        };
        let flags = a.layer(!from_file);
        let accounts = layers
            .into_iter()
            .map(|l| l.overridden_by(&flags).resolve())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| config_error(e.to_string()))?;
        let db =
            a.db.clone()
                .or(config.db.clone())
                .unwrap_or_else(|| PathBuf::from(DEFAULT_DB));
        let ledger = LedgerOptions {
            busy_timeout: Duration::from_millis(a.busy_timeout),
            max_size: a.db_max_size,
            read_only: false,
            ..LedgerOptions::default()
        };
        let opts = Options {
            db,
            ledger,
            dry_run: a.dry_run,
            limit: a.limit,
            batch_size: a.batch_size,
        };
        Ok(Resolved { config, accounts, opts })
    }
}

/// Runs `rebound sweep`.
pub fn run(a: SweepArgs) -> anyhow::Result<ExitCode> {
    let parser = a.parser.build(false)?;
    let Resolved { accounts, opts, .. } = a.resolve()?;
    let notify = match a.dry_run {
        true => None,
        false => a.notify.start(&opts.db)?,
    };
    let mut observer = Progress::new(a.dry_run, notify);
    let mut total = SweepTotals::default();
    let mut failure = None;
    let mut swept = 0;
    for account in &accounts {
        let mut o = opts.clone();
        o.limit = a.limit.map(|l| l.saturating_sub(total.messages));
        match sweep::sweep(account, &o, &parser, &mut observer) {
            Ok(s) => {
                total += s;
                swept += 1;
            }
            Err(e) => {
                observer.finish();
                eprintln!("rebound: sweep of {}: {e}", account.name);
                failure.get_or_insert(code_of(&e));
            }
        }
        observer.finish();
    }
    if swept > 0 {
        eprintln!("rebound: {}", summary_line(&total, a.dry_run));
    }
    if let Some(n) = observer.notify.take() {
        n.finish();
    }
    Ok(ExitCode::from(match failure {
        Some(code) => code,
        None if total.quarantined > 0 => 1,
        None => 0,
    }))
}

/// The one summary line.
pub fn summary_line(s: &SweepTotals, dry_run: bool) -> String {
    let mut line = format!(
        "{}swept {} messages: {} reports ({} records",
        if dry_run { "dry run: " } else { "" },
        s.messages,
        s.reports,
        s.records
    );
    if !dry_run {
        line += &format!(
            ": {} new, {} already recorded",
            s.new_events, s.duplicates
        );
    }
    line += &format!("), {} quarantined", s.quarantined);
    if s.left > 0 {
        line += &format!(", {} ordinary messages left in place", s.left);
    }
    if s.truncated > 0 {
        line += &format!(", {} read only up to the size cap", s.truncated);
    }
    line
}

/// Progress bar on a terminal, quarantine notices, dry-run lines, and
/// the watcher's connection notices.
pub struct Progress {
    tty: bool,
    bar: Option<ProgressBar>,
    dry_run: bool,
    /// The `--notify` delivery, when asked for.
    pub notify: Option<Notify>,
}

impl Progress {
    /// The observer of a run; a bar only on a terminal.
    pub fn new(dry_run: bool, notify: Option<Notify>) -> Progress {
        Progress {
            tty: std::io::stderr().is_terminal(),
            bar: None,
            dry_run,
            notify,
        }
    }

    /// Without a progress bar (a watcher runs for ever).
    pub fn without_bar(mut self) -> Progress {
        self.tty = false;
        self
    }

    /// Clears the bar.
    pub fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }

    /// Prints a line to stderr without tearing the bar.
    fn note(&self, line: String) {
        match &self.bar {
            Some(b) => b.suspend(|| eprintln!("{line}")),
            None => eprintln!("{line}"),
        }
    }
}

/// Where a mailbox is, for notices: `account/mailbox` or `account`.
fn place(account: &str, mailbox: Option<&str>) -> String {
    match mailbox {
        Some(m) => format!("{account}/{m}"),
        None => account.to_string(),
    }
}

impl Observer for Progress {
    fn committed(&mut self, ledger: &Ledger, new_events: &[i64]) {
        if let Some(n) = &self.notify {
            n.forward(ledger, new_events);
        }
    }

    fn retrying(
        &mut self,
        account: &str,
        mailbox: Option<&str>,
        error: &SweepError,
        wait: Duration,
    ) {
        self.note(format!(
            "rebound: {}: {error}; trying again in {:.1} s (backing off up to the maximum until it works)",
            place(account, mailbox),
            wait.as_secs_f64()
        ));
    }

    fn recovered(
        &mut self,
        account: &str,
        mailbox: Option<&str>,
        attempts: u32,
        down: Duration,
    ) {
        self.note(format!(
            "rebound: {}: connected again after {attempts} failed attempts ({:.1} s)",
            place(account, mailbox),
            down.as_secs_f64()
        ));
    }

    fn watching(&mut self, account: &str, mailbox: &str, idle: bool) {
        let how = if idle { "IDLE" } else { "polling" };
        self.note(format!("rebound: watching {account}/{mailbox} ({how})"));
    }

    fn mailbox(&mut self, account: &str, mailbox: &str, messages: usize) {
        self.finish();
        if self.tty {
            let bar = ProgressBar::new(messages as u64)
                .with_message(format!("{account} {mailbox}"));
            if let Ok(style) = ProgressStyle::with_template(
                "{msg} [{bar:30}] {pos}/{len} {per_sec} eta {eta}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            self.bar = Some(bar);
        }
    }

    fn message(&mut self, fate: &MessageFate<'_>) {
        if let Some(b) = &self.bar {
            b.inc(1);
        }
        match fate {
            MessageFate::Quarantined { source, subject, reason } => {
                let verb = if self.dry_run {
                    "would quarantine"
                } else {
                    "quarantined"
                };
                let subject = subject
                    .map(|s| format!(" (Subject: {s})"))
                    .unwrap_or_default();
                self.note(format!(
                    "rebound: {verb} {source}{subject}: {reason}"
                ));
            }
            MessageFate::Recorded { source, report, truncated }
                if self.dry_run =>
            {
                let cut = if *truncated { " (cut at size cap)" } else { "" };
                for r in &report.records {
                    let line = format!(
                        "{source}: would record {} {} {} {} {} at {}{cut}",
                        r.kind.map_or("-", |k| k.as_str()),
                        r.recipient.as_deref().unwrap_or("-"),
                        r.status.as_deref().unwrap_or("-"),
                        r.reason.as_deref().unwrap_or("-"),
                        r.action.map_or("-", |a| a.as_str()),
                        r.event_time.as_deref().unwrap_or("-"),
                    );
                    match &self.bar {
                        Some(b) => b.suspend(|| println!("{line}")),
                        None => println!("{line}"),
                    }
                }
            }
            MessageFate::Left { source, reason, .. } if self.dry_run => {
                self.note(format!("rebound: would leave {source}: {reason}"));
            }
            MessageFate::Recorded { .. } | MessageFate::Left { .. } => {}
        }
    }
}
