//! Sweep configuration: the `rebound.toml` file, merged with command-line
//! flags, resolved into checked [`AccountSettings`]. The file's `[serve]`
//! section belongs to `rebound serve` (`crate::serve::config`), which
//! loads the file with [`Config::load`] too.
//!
//! Every key is optional in an [`AccountConfig`] layer; the file gives one
//! layer per `[[account]]`, the flags one more that overrides it
//! ([`AccountConfig::overridden_by`]), and [`AccountConfig::resolve`]
//! fills the defaults and rejects unsafe or incomplete settings.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use super::oauth2::{OAuth2Config, OAuth2Layer};
use super::{SweepError, utf7};

/// Messages larger than this are read only up to this size by default
/// (headers and report parts come first in a bounce; the returned copy of
/// a huge original is what gets cut).
pub const DEFAULT_MAX_MESSAGE_SIZE: u32 = 2 * 1024 * 1024;

/// The configuration file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The ledger file.
    pub db: Option<PathBuf>,
    /// The accounts to sweep, in order.
    #[serde(default, rename = "account")]
    pub accounts: Vec<AccountConfig>,
    /// The `[serve]` section, read by `rebound serve`
    /// (`rebound::serve::config`); sweeps leave it alone.
    #[serde(default)]
    pub serve: Option<toml::Table>,
    /// Settings of `rebound watch` (`[watch]`).
    #[serde(default)]
    pub watch: WatchConfig,
}

/// The `[watch]` table: how `rebound watch` waits, in seconds.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WatchConfig {
    /// How often a mailbox whose server lacks IDLE (and every POP3
    /// account) is polled.
    pub poll_interval: Option<u64>,
    /// How long one IDLE command may last before it is renewed (at most
    /// 29 minutes, RFC 2177).
    pub idle_interval: Option<u64>,
    /// The longest wait between two reconnection attempts.
    pub max_backoff: Option<u64>,
}

impl Config {
    /// Reads and parses a TOML configuration file.
    pub fn load(path: &Path) -> Result<Config, SweepError> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            SweepError::Config(format!("{}: {e}", path.display()))
        })?;
        Config::parse(&text).map_err(|e| match e {
            SweepError::Config(m) => {
                SweepError::Config(format!("{}: {m}", path.display()))
            }
            e => e,
        })
    }

    /// Parses TOML text.
    pub fn parse(text: &str) -> Result<Config, SweepError> {
        toml::from_str(text).map_err(|e| SweepError::Config(e.to_string()))
    }
}

/// How the connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TlsMode {
    /// TLS from the first byte (port 993).
    Implicit,
    /// Plain IMAP upgraded with STARTTLS (port 143).
    Starttls,
    /// No TLS at all; allowed only with `insecure = true`.
    None,
}

/// The mail access protocol of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// IMAP (RFC 3501): folders, moves, IDLE.
    Imap,
    /// POP3 (RFC 1939): one maildrop, messages kept or deleted.
    Pop3,
}

/// What happens to a recorded message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum After {
    /// Move it to the processed folder.
    Move,
    /// Leave it in place and set a flag.
    Flag,
    /// Delete it (expunge; `DELE` over POP3).
    Delete,
    /// Leave it untouched; the checkpoint (IMAP) or the remembered UIDL
    /// (POP3) keeps it from being fetched again.
    Keep,
}

/// What happens to a message that is not a bounce (or cannot be parsed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NonBounces {
    /// Leave it where it was, unread state untouched, and remember it (by
    /// UIDVALIDITY and UID, or by UIDL) so it is not fetched again: for
    /// shared inboxes.
    Leave,
    /// Move it to the quarantine folder (the IMAP default).
    Quarantine,
    /// Leave it, set `non_bounce_flag` on it, and remember it.
    Flag,
}

/// One account as configured: every key optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountConfig {
    /// Name used in the ledger and the lock file (default `user@host`).
    pub name: Option<String>,
    /// `imap` (default) or `pop3`.
    pub protocol: Option<Protocol>,
    /// Server host name.
    pub host: Option<String>,
    /// Server port (default 993 for implicit TLS, else 143; POP3: 995,
    /// else 110).
    pub port: Option<u16>,
    /// TLS mode (default implicit).
    pub tls: Option<TlsMode>,
    /// Allow `tls = "none"`.
    pub insecure: Option<bool>,
    /// PEM file of the CA that signed the server certificate; when given,
    /// only this CA is trusted.
    pub ca_file: Option<PathBuf>,
    /// Login name.
    pub user: Option<String>,
    /// Name of an environment variable holding the password.
    pub password_env: Option<String>,
    /// File holding the password (first line).
    pub password_file: Option<PathBuf>,
    /// Shell command printing the password.
    pub password_command: Option<String>,
    /// Shell command printing an OAuth2 bearer token (XOAUTH2 login).
    pub oauth2_token_command: Option<String>,
    /// OAuth2 refresh grant (RFC 6749 §6) run by rebound itself.
    pub oauth2: Option<OAuth2Layer>,
    /// Mailboxes to sweep (default INBOX).
    pub mailboxes: Option<Vec<String>>,
    /// Folder for recorded messages (default `Processed`).
    pub processed_folder: Option<String>,
    /// Folder for messages that are not bounces or cannot be parsed
    /// (default `Quarantine`).
    pub quarantine_folder: Option<String>,
    /// What to do with recorded messages (default move).
    pub after: Option<After>,
    /// The flag set by `after = "flag"` (default `$Rebound`).
    pub flag: Option<String>,
    /// What happens to messages that are not bounces (default
    /// quarantine; POP3: leave).
    pub non_bounces: Option<NonBounces>,
    /// The flag set by `non_bounces = "flag"` (default `$NotBounce`).
    pub non_bounce_flag: Option<String>,
    /// Read at most this many bytes of a message.
    pub max_message_size: Option<u32>,
}

/// Where the secret comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    /// A password in an environment variable.
    PasswordEnv(String),
    /// A password in a file.
    PasswordFile(PathBuf),
    /// A password printed by a shell command.
    PasswordCommand(String),
    /// An OAuth2 bearer token printed by a shell command.
    OAuth2Command(String),
    /// An OAuth2 access token obtained (and refreshed) with a refresh
    /// token ([`super::oauth2`]).
    OAuth2(OAuth2Config),
}

/// The credential itself, once read.
#[derive(Clone)]
pub enum Credential {
    /// Log in with LOGIN.
    Password(String),
    /// Log in with AUTHENTICATE XOAUTH2.
    BearerToken(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Credential::Password(_) => "Password(..)",
            Credential::BearerToken(_) => "BearerToken(..)",
        })
    }
}

/// A checked, complete account.
#[derive(Debug, Clone)]
pub struct AccountSettings {
    /// Name used in the ledger and the lock file.
    pub name: String,
    /// IMAP or POP3.
    pub protocol: Protocol,
    /// Server host name.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// TLS mode.
    pub tls: TlsMode,
    /// Private CA file.
    pub ca_file: Option<PathBuf>,
    /// Login name.
    pub user: String,
    /// Where the password or token comes from.
    pub secret: Secret,
    /// Mailboxes to sweep, as sent to the server (modified UTF-7, see
    /// [`utf7`]); `INBOX` for POP3.
    pub mailboxes: Vec<String>,
    /// Folder for recorded messages (modified UTF-7), or a SPECIAL-USE
    /// attribute such as `\Archive` (RFC 6154) that names it.
    pub processed_folder: String,
    /// Folder for quarantined messages (modified UTF-7, or a SPECIAL-USE
    /// attribute).
    pub quarantine_folder: String,
    /// What to do with recorded messages.
    pub after: After,
    /// The flag set by [`After::Flag`].
    pub flag: String,
    /// What to do with messages that are not bounces.
    pub non_bounces: NonBounces,
    /// The flag set by [`NonBounces::Flag`].
    pub non_bounce_flag: String,
    /// Read at most this many bytes of a message.
    pub max_message_size: u32,
}

impl AccountConfig {
    /// This layer with every key set in `over` replaced by that value.
    /// The five secret sources exclude each other: one given in `over`
    /// replaces whichever this layer had.
    pub fn overridden_by(self, over: &AccountConfig) -> AccountConfig {
        let o = over.clone();
        let s = if o.password_env.is_some()
            || o.password_file.is_some()
            || o.password_command.is_some()
            || o.oauth2_token_command.is_some()
            || o.oauth2.is_some()
        {
            &o
        } else {
            &self
        };
        let (password_env, password_file, password_command, command) = (
            s.password_env.clone(),
            s.password_file.clone(),
            s.password_command.clone(),
            s.oauth2_token_command.clone(),
        );
        // The flags' oauth2 keys refine the file's table key by key.
        let oauth2 = match (&self.oauth2, &o.oauth2) {
            (Some(file), Some(flags)) => {
                Some(file.clone().overridden_by(flags))
            }
            _ => s.oauth2.clone(),
        };
        AccountConfig {
            password_env,
            password_file,
            password_command,
            oauth2_token_command: command,
            oauth2,
            name: o.name.or(self.name),
            protocol: o.protocol.or(self.protocol),
            host: o.host.or(self.host),
            port: o.port.or(self.port),
            tls: o.tls.or(self.tls),
            insecure: o.insecure.or(self.insecure),
            ca_file: o.ca_file.or(self.ca_file),
            user: o.user.or(self.user),
            mailboxes: o.mailboxes.or(self.mailboxes),
            processed_folder: o.processed_folder.or(self.processed_folder),
            quarantine_folder: o.quarantine_folder.or(self.quarantine_folder),
            after: o.after.or(self.after),
            flag: o.flag.or(self.flag),
            non_bounces: o.non_bounces.or(self.non_bounces),
            non_bounce_flag: o.non_bounce_flag.or(self.non_bounce_flag),
            max_message_size: o.max_message_size.or(self.max_message_size),
        }
    }

    /// Fills the defaults and checks the settings.
    pub fn resolve(self) -> Result<AccountSettings, SweepError> {
        let cfg = |m: &str| SweepError::Config(m.to_string());
        let host = self.host.filter(|h| !h.is_empty()).ok_or_else(|| {
            cfg("no IMAP host (set `host` in the config or --host)")
        })?;
        let user = self.user.filter(|u| !u.is_empty()).ok_or_else(|| {
            cfg("no user name (set `user` in the config or --user)")
        })?;
        let tls = self.tls.unwrap_or(TlsMode::Implicit);
        if tls == TlsMode::None && self.insecure != Some(true) {
            return Err(cfg(
                "tls = none sends the password in clear text; it needs --insecure (insecure = true)",
            ));
        }
        let protocol = self.protocol.unwrap_or(Protocol::Imap);
        let port = self.port.unwrap_or(match (protocol, tls) {
            (Protocol::Imap, TlsMode::Implicit) => 993,
            (Protocol::Imap, TlsMode::Starttls | TlsMode::None) => 143,
            (Protocol::Pop3, TlsMode::Implicit) => 995,
            (Protocol::Pop3, TlsMode::Starttls | TlsMode::None) => 110,
        });
        let mut secrets = Vec::new();
        secrets.extend(self.password_env.map(Secret::PasswordEnv));
        secrets.extend(self.password_file.map(Secret::PasswordFile));
        secrets.extend(self.password_command.map(Secret::PasswordCommand));
        secrets.extend(self.oauth2_token_command.map(Secret::OAuth2Command));
        if let Some(layer) = self.oauth2 {
            secrets.push(Secret::OAuth2(layer.resolve()?));
        }
        if secrets.len() > 1 {
            return Err(cfg(
                "give only one of password_env, password_file, password_command, oauth2_token_command, oauth2",
            ));
        }
        let secret = secrets.pop().ok_or_else(|| {
            cfg(
                "no credential: give password_env, password_file, password_command, oauth2_token_command or oauth2",
            )
        })?;
        if protocol == Protocol::Pop3 {
            pop3_fits(&self.mailboxes, &self.after, &self.non_bounces)?;
            if self.processed_folder.is_some()
                || self.quarantine_folder.is_some()
            {
                return Err(cfg(
                    "POP3 has no folders: processed_folder and quarantine_folder apply to IMAP only",
                ));
            }
        }
        let mailboxes = self.mailboxes.unwrap_or_else(|| vec!["INBOX".into()]);
        if mailboxes.is_empty() {
            return Err(cfg("the mailbox list is empty"));
        }
        let processed_folder =
            self.processed_folder.unwrap_or_else(|| "Processed".into());
        let quarantine_folder =
            self.quarantine_folder.unwrap_or_else(|| "Quarantine".into());
        for m in &mailboxes {
            if [&processed_folder, &quarantine_folder]
                .iter()
                .any(|f| f.eq_ignore_ascii_case(m))
            {
                return Err(SweepError::Config(format!(
                    "mailbox {m:?} is also the processed or quarantine folder"
                )));
            }
        }
        // The server gets the names in modified UTF-7.
        let mailboxes = mailboxes.iter().map(|m| utf7::encode(m)).collect();
        let processed_folder = utf7::encode(&processed_folder);
        let quarantine_folder = utf7::encode(&quarantine_folder);
        let flag =
            checked_flag(self.flag.unwrap_or_else(|| "$Rebound".into()))?;
        let non_bounce_flag = checked_flag(
            self.non_bounce_flag.unwrap_or_else(|| "$NotBounce".into()),
        )?;
        let name = self.name.unwrap_or_else(|| format!("{user}@{host}"));
        let (after, non_bounces) = match protocol {
            Protocol::Imap => (
                self.after.unwrap_or(After::Move),
                self.non_bounces.unwrap_or(NonBounces::Quarantine),
            ),
            Protocol::Pop3 => {
                (self.after.unwrap_or(After::Delete), NonBounces::Leave)
            }
        };
        Ok(AccountSettings {
            name,
            protocol,
            host,
            port,
            tls,
            ca_file: self.ca_file,
            user,
            secret,
            mailboxes,
            processed_folder,
            quarantine_folder,
            after,
            flag,
            non_bounces,
            non_bounce_flag,
            max_message_size: self
                .max_message_size
                .unwrap_or(DEFAULT_MAX_MESSAGE_SIZE)
                .max(64 * 1024),
        })
    }
}

/// `flag` if it is a valid IMAP flag or keyword.
fn checked_flag(flag: String) -> Result<String, SweepError> {
    if flag.is_empty()
        || !flag
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b"(){%*\"]".contains(&b))
    {
        return Err(SweepError::Config(format!(
            "{flag:?} is not a valid IMAP flag"
        )));
    }
    Ok(flag)
}

/// Checks the settings of a POP3 account: one maildrop, no moves, no
/// flags, non-bounces always left on the server.
fn pop3_fits(
    mailboxes: &Option<Vec<String>>,
    after: &Option<After>,
    non_bounces: &Option<NonBounces>,
) -> Result<(), SweepError> {
    let cfg = |m: &str| Err(SweepError::Config(m.to_string()));
    if mailboxes
        .as_ref()
        .is_some_and(|m| m.len() != 1 || !m[0].eq_ignore_ascii_case("INBOX"))
    {
        return cfg("POP3 has one maildrop: mailboxes must be [\"INBOX\"]");
    }
    if matches!(after, Some(After::Move | After::Flag)) {
        return cfg(
            "POP3 can only delete or keep: after = \"delete\" or \"keep\"",
        );
    }
    if matches!(non_bounces, Some(NonBounces::Quarantine | NonBounces::Flag)) {
        return cfg(
            "POP3 has no folders or flags: non-bounces are left on the server (non_bounces = \"leave\")",
        );
    }
    Ok(())
}

impl Secret {
    /// Reads the password or token (runs the command, reads the file or
    /// the variable, or takes the cached OAuth2 access token, refreshing
    /// it when it has expired). Trailing line ends are dropped.
    pub fn read(&self) -> Result<Credential, SweepError> {
        let value = match self {
            Secret::OAuth2(c) => {
                return Ok(Credential::BearerToken(c.access_token(false)?));
            }
            Secret::PasswordEnv(var) => std::env::var(var).map_err(|_| {
                SweepError::Config(format!(
                    "environment variable {var} (the password) is not set"
                ))
            })?,
            Secret::PasswordFile(path) => std::fs::read_to_string(path)
                .map_err(|e| {
                    SweepError::Config(format!(
                        "password file {}: {e}",
                        path.display()
                    ))
                })?
                .lines()
                .next()
                .unwrap_or("")
                .to_string(),
            Secret::PasswordCommand(cmd) | Secret::OAuth2Command(cmd) => {
                run_command(cmd)?
            }
        };
        let value = value.trim_end_matches(['\r', '\n']).to_string();
        if value.is_empty() {
            return Err(SweepError::Config(
                "the password or token is empty".into(),
            ));
        }
        Ok(match self {
            Secret::OAuth2Command(_) => Credential::BearerToken(value),
            _ => Credential::Password(value),
        })
    }

    /// After the server refused a credential: a fresh one when the secret
    /// can give one (an OAuth2 grant refreshes its access token, which may
    /// have been revoked or expired early), else None.
    pub fn renewed(&self) -> Result<Option<Credential>, SweepError> {
        match self {
            Secret::OAuth2(c) => {
                Ok(Some(Credential::BearerToken(c.access_token(true)?)))
            }
            _ => Ok(None),
        }
    }
}

/// Runs `cmd` with `sh -c` and returns its standard output.
fn run_command(cmd: &str) -> Result<String, SweepError> {
    let out = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::inherit())
        .output()
        .map_err(|e| SweepError::Config(format!("cannot run {cmd:?}: {e}")))?;
    if !out.status.success() {
        return Err(SweepError::Config(format!(
            "credential command {cmd:?} failed ({})",
            out.status
        )));
    }
    String::from_utf8(out.stdout).map_err(|_| {
        SweepError::Config(format!("{cmd:?} printed non-UTF-8 output"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(text: &str) -> AccountConfig {
        Config::parse(text).unwrap().accounts.remove(0)
    }

    #[test]
    fn defaults_fill_a_minimal_account() {
        let a = layer(
            "[[account]]\nhost = \"imap.example.com\"\nuser = \"b\"\npassword_env = \"P\"\n",
        )
        .resolve()
        .unwrap();
        assert_eq!(
            (a.port, a.tls, a.after),
            (993, TlsMode::Implicit, After::Move)
        );
        assert_eq!(a.mailboxes, ["INBOX"]);
        assert_eq!(a.name, "b@imap.example.com");
        assert_eq!(a.secret, Secret::PasswordEnv("P".into()));
    }

    #[test]
    fn plaintext_needs_insecure() {
        let base = "[[account]]\nhost = \"h\"\nuser = \"u\"\npassword_env = \"P\"\ntls = \"none\"\n";
        assert!(matches!(layer(base).resolve(), Err(SweepError::Config(_))));
        let a = layer(&format!("{base}insecure = true\n")).resolve().unwrap();
        assert_eq!(a.port, 143);
    }

    #[test]
    fn a_flag_secret_replaces_the_file_secret() {
        let file = layer(
            "[[account]]\nhost = \"h\"\nuser = \"u\"\npassword_file = \"/p\"\nport = 1\n",
        );
        let flags = AccountConfig {
            oauth2_token_command: Some("tok".into()),
            port: Some(2),
            ..AccountConfig::default()
        };
        let a = file.overridden_by(&flags).resolve().unwrap();
        assert_eq!(a.secret, Secret::OAuth2Command("tok".into()));
        assert_eq!(a.port, 2);
        assert_eq!(a.host, "h");
    }

    #[test]
    fn two_secrets_or_unknown_keys_are_errors() {
        let two = "[[account]]\nhost = \"h\"\nuser = \"u\"\npassword_env = \"P\"\npassword_file = \"f\"\n";
        assert!(layer(two).resolve().is_err());
        assert!(Config::parse("[[account]]\nhots = \"h\"\n").is_err());
    }

    #[test]
    fn the_swept_mailbox_cannot_be_a_target_folder() {
        let t = "[[account]]\nhost = \"h\"\nuser = \"u\"\npassword_env = \"P\"\nmailboxes = [\"Quarantine\"]\n";
        assert!(layer(t).resolve().is_err());
    }
}
