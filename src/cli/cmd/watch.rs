//! `rebound watch`: the long-running sweeper (see `rebound::sweep::watch`).
//! Every flag, environment variable and configuration key of `sweep` works
//! the same way; `[watch]` in the file (or the flags below) says how it
//! waits.
//!
//! Output on stderr: one line per mailbox when watching starts, one when a
//! connection is lost and one when it is back (not one per retry),
//! quarantined messages, and a summary line at the end. SIGTERM or SIGINT
//! finish the batch in hand, commit it and exit 0; a second one exits at
//! once (130; the ledger stays consistent, as after a kill). Exit codes
//! otherwise as `sweep`: 2 configuration, 3 refused credentials, untrusted
//! certificate or revoked OAuth2 grant, 4 lock held.

use std::process::ExitCode;
use std::sync::Mutex;

use clap::Args;
use rebound::sweep::watch::{Shutdown, WatchSettings, Watcher};
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use super::sweep::{Progress, Resolved, SweepArgs, code_of, summary_line};

/// Arguments of `rebound watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub sweep: SweepArgs,
    /// Poll servers without IDLE, and POP3 accounts, every SECS seconds
    /// [default: 60].
    #[arg(long, value_name = "SECS", env = "REBOUND_POLL_INTERVAL")]
    pub poll_interval: Option<u64>,
    /// Renew each IDLE command after SECS seconds (at most 1740, RFC
    /// 2177) [default: 600].
    #[arg(long, value_name = "SECS", env = "REBOUND_IDLE_INTERVAL")]
    pub idle_interval: Option<u64>,
    /// Wait at most SECS seconds between two reconnection attempts
    /// [default: 300].
    #[arg(long, value_name = "SECS", env = "REBOUND_MAX_BACKOFF")]
    pub max_backoff: Option<u64>,
}

/// Runs `rebound watch`.
pub fn run(a: WatchArgs) -> anyhow::Result<ExitCode> {
    let s = &a.sweep;
    let parser = s.parser.build(false)?;
    let Resolved { config, accounts, opts } = s.resolve()?;
    let mut w = config.watch;
    w.poll_interval = a.poll_interval.or(w.poll_interval);
    w.idle_interval = a.idle_interval.or(w.idle_interval);
    w.max_backoff = a.max_backoff.or(w.max_backoff);
    let settings = WatchSettings::from_config(&w)
        .map_err(|e| super::Exit { code: 2, message: e.to_string() })?;
    let notify = match s.dry_run {
        true => None,
        false => s.notify.start(&opts.db)?,
    };
    let watcher = Watcher::new(accounts, opts, settings, parser);
    let shutdown = Shutdown::new();
    let mut signals = Signals::new([SIGTERM, SIGINT])?;
    let signal_handle = signals.handle();
    let observer = Mutex::new(Progress::new(s.dry_run, notify).without_bar());
    let result = std::thread::scope(|scope| {
        scope.spawn(|| {
            for (n, signal) in signals.forever().enumerate() {
                if n > 0 {
                    eprintln!("rebound: second signal: exiting now");
                    std::process::exit(130);
                }
                let name =
                    if signal == SIGTERM { "SIGTERM" } else { "SIGINT" };
                eprintln!("rebound: {name}: finishing the batch in hand");
                shutdown.trigger();
            }
        });
        let result = watcher.run(&shutdown, &observer);
        signal_handle.close();
        result
    });
    let mut progress =
        observer.into_inner().unwrap_or_else(|p| p.into_inner());
    let code = match result {
        Ok(total) => {
            eprintln!(
                "rebound: watch ended: {}",
                summary_line(&total, s.dry_run)
            );
            0
        }
        Err(e) => {
            eprintln!("rebound: watch: {e}");
            code_of(&e)
        }
    };
    if let Some(n) = progress.notify.take() {
        n.finish();
    }
    Ok(ExitCode::from(code))
}
