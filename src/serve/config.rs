//! `rebound serve` settings: the `[serve]` section of `rebound.toml`
//! (loaded with the sweep's [`Config::load`](crate::sweep::Config::load)),
//! every key also an environment variable, resolved into checked
//! [`Settings`].
//!
//! The variable of a key is `REBOUND_` and the key in upper case
//! (`listen` → `REBOUND_LISTEN`); a provider's key adds the provider
//! (`[serve.mailgun] signing_key` → `REBOUND_MAILGUN_SIGNING_KEY`). A
//! variable overrides the file. Lists (`topic_arns`, `cert_hosts`) are
//! comma-separated in a variable. Every secret can also be read from a
//! file (`signing_key_file`, ...: its first line), so that it appears
//! neither in the configuration nor in the environment; secrets are never
//! printed (the [`Debug`] of a secret is `"..."`).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use super::ServeError;

/// Where `rebound serve` listens unless told otherwise.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8025";

/// A secret read from the configuration; never printed.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("\"...\"")
    }
}

/// The `[serve]` section as written: every key optional.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeConfig {
    /// Address and port to listen on.
    pub listen: Option<String>,
    /// The API token (bearer) of `/v1/*`, `/webhooks/bounce` and
    /// `/metrics`.
    pub api_token: Option<Secret>,
    /// A file of API tokens, one per line (several allow a rotation).
    pub api_token_file: Option<PathBuf>,
    /// The largest request body taken, in bytes (webhooks, API).
    pub max_body_bytes: Option<u64>,
    /// The largest message taken by `POST /v1/messages`, in bytes.
    pub max_message_bytes: Option<u64>,
    /// How long one request may take, in seconds.
    pub request_timeout_secs: Option<u64>,
    /// Requests handled at once; more wait for a turn.
    pub max_concurrency: Option<u64>,
    /// How long the writer waits for more requests to share a commit, in
    /// milliseconds.
    pub commit_delay_ms: Option<u64>,
    /// Signed webhook requests older (or further in the future) than this
    /// many seconds are refused.
    pub max_age_secs: Option<u64>,
    /// Amazon SES through Amazon SNS.
    pub ses: Option<SesConfig>,
    /// SendGrid's signed event webhook.
    pub sendgrid: Option<SendGridConfig>,
    /// Mailgun's signed webhooks.
    pub mailgun: Option<MailgunConfig>,
    /// Resend's webhooks (signed by Svix).
    pub resend: Option<ResendConfig>,
    /// Postmark's webhooks (basic auth or a header).
    pub postmark: Option<BasicConfig>,
    /// SparkPost's webhooks (basic auth or a header).
    pub sparkpost: Option<BasicConfig>,
    /// Mailjet's event API (basic auth or a header).
    pub mailjet: Option<BasicConfig>,
    /// Brevo's webhooks (basic auth or a bearer token).
    pub brevo: Option<BasicConfig>,
}

/// `[serve.ses]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SesConfig {
    /// The SNS topics whose messages are taken (their ARNs).
    pub topic_arns: Option<Vec<String>>,
    /// Host names a signing certificate (and a subscription's confirm URL)
    /// may come from; `*` stands for one DNS label. Default
    /// `sns.*.amazonaws.com` and `sns.*.amazonaws.com.cn`.
    pub cert_hosts: Option<Vec<String>>,
    /// A PEM file of CA certificates trusted (besides the system's) when
    /// fetching certificates and confirming subscriptions.
    pub ca_file: Option<PathBuf>,
}

/// `[serve.sendgrid]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SendGridConfig {
    /// The verification key SendGrid shows (base64 of the DER public key).
    pub public_key: Option<Secret>,
    /// A file holding it.
    pub public_key_file: Option<PathBuf>,
}

/// `[serve.mailgun]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailgunConfig {
    /// The HTTP webhook signing key.
    pub signing_key: Option<Secret>,
    /// A file holding it.
    pub signing_key_file: Option<PathBuf>,
}

/// `[serve.resend]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResendConfig {
    /// The webhook's signing secret (`whsec_...`).
    pub signing_secret: Option<Secret>,
    /// A file holding it.
    pub signing_secret_file: Option<PathBuf>,
}

/// The section of a provider that authenticates with HTTP basic auth
/// (credentials in the webhook URL) or a token in a header.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicConfig {
    /// Basic auth user name.
    pub username: Option<String>,
    /// Basic auth password.
    pub password: Option<Secret>,
    /// A file holding the password.
    pub password_file: Option<PathBuf>,
    /// A token the requests carry in `token_header`.
    pub token: Option<Secret>,
    /// A file holding the token.
    pub token_file: Option<PathBuf>,
    /// The header holding the token (default `Authorization`, as
    /// `Bearer TOKEN`; any other header holds the token alone).
    pub token_header: Option<String>,
}

/// How a key's environment variable is read.
#[derive(Clone, Copy)]
enum Kind {
    Text,
    Number,
    List,
}

/// The keys of `[serve]` and how their variables are read.
#[rustfmt::skip]
const KEYS: &[(&str, Kind)] = &[
    ("api_token", Kind::Text),
    ("api_token_file", Kind::Text),
    ("commit_delay_ms", Kind::Number),
    ("listen", Kind::Text),
    ("max_age_secs", Kind::Number),
    ("max_body_bytes", Kind::Number),
    ("max_concurrency", Kind::Number),
    ("max_message_bytes", Kind::Number),
    ("request_timeout_secs", Kind::Number),
];

/// The keys of the basic-auth providers' sections.
#[rustfmt::skip]
const BASIC_KEYS: &[(&str, Kind)] = &[
    ("password", Kind::Text),
    ("password_file", Kind::Text),
    ("token", Kind::Text),
    ("token_file", Kind::Text),
    ("token_header", Kind::Text),
    ("username", Kind::Text),
];

/// Each provider section and its keys.
#[rustfmt::skip]
const PROVIDER_KEYS: &[(&str, &[(&str, Kind)])] = &[
    ("brevo", BASIC_KEYS),
    ("mailgun", &[("signing_key", Kind::Text), ("signing_key_file", Kind::Text)]),
    ("mailjet", BASIC_KEYS),
    ("postmark", BASIC_KEYS),
    ("resend", &[("signing_secret", Kind::Text), ("signing_secret_file", Kind::Text)]),
    ("sendgrid", &[("public_key", Kind::Text), ("public_key_file", Kind::Text)]),
    ("ses", &[("ca_file", Kind::Text), ("cert_hosts", Kind::List), ("topic_arns", Kind::List)]),
    ("sparkpost", BASIC_KEYS),
];

/// The value of a variable as a TOML value of `kind`.
fn value_of(
    var: &str,
    text: String,
    kind: Kind,
) -> Result<toml::Value, ServeError> {
    Ok(match kind {
        Kind::Text => toml::Value::String(text),
        Kind::Number => {
            toml::Value::Integer(text.trim().parse().map_err(|_| {
                ServeError::Config(format!("{var}: {text:?} is not a number"))
            })?)
        }
        Kind::List => toml::Value::Array(
            text.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_string()))
                .collect(),
        ),
    })
}

impl ServeConfig {
    /// The `[serve]` section of the file (`None`: no section), with the
    /// variables `env` returns laid over it.
    pub fn load(
        file: Option<toml::Table>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ServeConfig, ServeError> {
        let mut table = file.unwrap_or_default();
        for (key, kind) in KEYS {
            let var = format!("REBOUND_{}", key.to_uppercase());
            if let Some(text) = env(&var) {
                table.insert(key.to_string(), value_of(&var, text, *kind)?);
            }
        }
        for (provider, keys) in PROVIDER_KEYS {
            for (key, kind) in *keys {
                let var = format!(
                    "REBOUND_{}_{}",
                    provider.to_uppercase(),
                    key.to_uppercase()
                );
                let Some(text) = env(&var) else { continue };
                let section = table
                    .entry(provider.to_string())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                let toml::Value::Table(section) = section else {
                    return Err(ServeError::Config(format!(
                        "[serve] {provider} must be a table"
                    )));
                };
                section.insert(key.to_string(), value_of(&var, text, *kind)?);
            }
        }
        table
            .try_into()
            .map_err(|e| ServeError::Config(format!("[serve]: {e}")))
    }
}

/// Checked settings.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The API tokens accepted.
    pub api_tokens: Vec<Secret>,
    /// The largest request body taken.
    pub max_body_bytes: usize,
    /// The largest message taken by `/v1/messages`.
    pub max_message_bytes: usize,
    /// How long one request may take.
    pub request_timeout: Duration,
    /// Requests handled at once.
    pub max_concurrency: usize,
    /// How long a commit waits for more requests to join it.
    pub commit_delay: Duration,
    /// The oldest a signed webhook request may be.
    pub max_age: Duration,
    /// The providers' sections, as configured.
    pub providers: ServeConfig,
}

/// A secret given in the configuration or in a file (first line); both
/// is an error.
pub(crate) fn secret(
    what: &str,
    value: &Option<Secret>,
    file: &Option<PathBuf>,
) -> Result<Option<Secret>, ServeError> {
    match (value, file) {
        (Some(_), Some(_)) => Err(ServeError::Config(format!(
            "give {what} or {what}_file, not both"
        ))),
        (Some(v), None) if v.0.trim().is_empty() => {
            Err(ServeError::Config(format!("{what} is empty")))
        }
        (Some(v), None) => Ok(Some(Secret(v.0.trim().to_string()))),
        (None, Some(p)) => Ok(Some(Secret(first_line(p, what)?))),
        (None, None) => Ok(None),
    }
}

/// The first line of a secret's file.
fn first_line(path: &Path, what: &str) -> Result<String, ServeError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ServeError::Config(format!("{what}_file {}: {e}", path.display()))
    })?;
    let line = text.lines().next().unwrap_or("").trim().to_string();
    if line.is_empty() {
        return Err(ServeError::Config(format!(
            "{what}_file {} is empty",
            path.display()
        )));
    }
    Ok(line)
}

impl ServeConfig {
    /// Fills the defaults and checks the settings; `listen` (the
    /// command line's) overrides the file and the environment.
    pub fn resolve(
        self,
        listen: Option<&str>,
    ) -> Result<Settings, ServeError> {
        let text = listen
            .map(str::to_string)
            .or(self.listen.clone())
            .unwrap_or_else(|| DEFAULT_LISTEN.to_string());
        let listen = text.parse().map_err(|_| {
            ServeError::Config(format!(
                "listen: {text:?} is not an address and port (like {DEFAULT_LISTEN})"
            ))
        })?;
        let mut api_tokens = Vec::new();
        if let Some(t) = secret("api_token", &self.api_token, &None)? {
            api_tokens.push(t);
        }
        if let Some(p) = &self.api_token_file {
            let text = std::fs::read_to_string(p).map_err(|e| {
                ServeError::Config(format!(
                    "api_token_file {}: {e}",
                    p.display()
                ))
            })?;
            api_tokens.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(|l| Secret(l.to_string())),
            );
        }
        if api_tokens.is_empty() {
            return Err(ServeError::Config(
                "no API token: set REBOUND_API_TOKEN, or api_token_file in [serve]"
                    .into(),
            ));
        }
        if let Some(t) = api_tokens.iter().find(|t| t.0.len() < 16) {
            return Err(ServeError::Config(format!(
                "an API token of {} characters is too easy to guess (16 at least)",
                t.0.len()
            )));
        }
        let n = |v: Option<u64>, default: u64| v.unwrap_or(default);
        let settings = Settings {
            listen,
            api_tokens,
            max_body_bytes: n(self.max_body_bytes, 10 << 20) as usize,
            max_message_bytes: n(self.max_message_bytes, 25 << 20) as usize,
            request_timeout: Duration::from_secs(
                n(self.request_timeout_secs, 30).max(1),
            ),
            max_concurrency: n(self.max_concurrency, 1024).max(1) as usize,
            commit_delay: Duration::from_millis(n(self.commit_delay_ms, 2)),
            max_age: Duration::from_secs(n(self.max_age_secs, 300).max(1)),
            providers: self,
        };
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(
        vars: &'a [(&'a str, &'a str)],
    ) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| vars.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn variables_override_the_file_and_name_provider_keys() {
        let file: toml::Table = toml::from_str(
            "listen = \"127.0.0.1:1\"\nmax_age_secs = 60\n[ses]\ntopic_arns = [\"arn:a\"]\n",
        )
        .unwrap();
        let c = ServeConfig::load(
            Some(file),
            env(&[
                ("REBOUND_LISTEN", "127.0.0.1:2"),
                ("REBOUND_API_TOKEN", "0123456789abcdef"),
                ("REBOUND_MAILGUN_SIGNING_KEY", "key-1"),
                ("REBOUND_SES_CERT_HOSTS", "localhost, sns.*.example"),
            ]),
        )
        .unwrap();
        let ses = c.ses.clone().unwrap();
        assert_eq!(ses.topic_arns.unwrap(), ["arn:a"]);
        assert_eq!(ses.cert_hosts.unwrap(), ["localhost", "sns.*.example"]);
        assert_eq!(
            c.mailgun.clone().unwrap().signing_key,
            Some(Secret("key-1".into()))
        );
        // Secrets never print.
        assert!(!format!("{c:?}").contains("key-1"));
        let s = c.resolve(None).unwrap();
        assert_eq!(s.listen.port(), 2);
        assert_eq!(s.max_age, Duration::from_secs(60));
    }

    #[test]
    fn bad_settings_are_named() {
        let none = ServeConfig::load(None, env(&[])).unwrap();
        let e = none.resolve(None).unwrap_err().to_string();
        assert!(e.contains("REBOUND_API_TOKEN"), "{e}");
        let e =
            ServeConfig::load(None, env(&[("REBOUND_MAX_AGE_SECS", "soon")]))
                .unwrap_err()
                .to_string();
        assert!(e.contains("REBOUND_MAX_AGE_SECS"), "{e}");
        let t: toml::Table =
            toml::from_str("[mailgun]\nsigning_kee = \"x\"\n").unwrap();
        let e = ServeConfig::load(Some(t), env(&[])).unwrap_err().to_string();
        assert!(e.contains("signing_kee"), "{e}");
    }
}
