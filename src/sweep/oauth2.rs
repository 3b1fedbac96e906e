//! OAuth2 without a helper script: rebound keeps the account's refresh
//! token and trades it for access tokens itself, with the refresh grant of
//! RFC 6749 §6 (Google and Microsoft 365 issue such grants to mail
//! clients; the access token then logs in with XOAUTH2).
//!
//! - The access token is cached in `<refresh_token_file>.access` (with its
//!   expiry, mode 0600) and refreshed a minute before it expires, or when
//!   the server refuses it.
//! - A refresh token the endpoint rotates (sends a new one) is written back
//!   atomically: a temporary file of mode 0600 in the same directory, synced,
//!   then renamed over the old one, so a crash leaves the old or the new
//!   token, never half of one.
//! - Refreshes in one process are serialised, so that sessions connecting
//!   at once never spend a rotated refresh token twice.
//! - `invalid_grant` (the grant was revoked or has expired) is
//!   [`SweepError::OAuth2Revoked`]: a person must authorise rebound again.
//!
//! The token URL must be `https://`; `http://` is accepted only for a
//! loopback host (127.0.0.0/8, `[::1]`, `localhost`), where nothing
//! crosses a network (a local token proxy, the tests).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use serde::Deserialize;

use super::SweepError;
use crate::time;

/// An access token is refreshed this many seconds before it expires.
const EXPIRY_MARGIN: i64 = 60;

/// Lifetime assumed when the endpoint does not say (`expires_in` is only
/// RECOMMENDED by RFC 6749 §5.1).
const DEFAULT_LIFETIME: i64 = 3600;

/// How long the token request may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// Serialises refreshes within the process.
static REFRESH: Mutex<()> = Mutex::new(());

/// The `oauth2` table of an account as configured: every key optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OAuth2Layer {
    /// The token endpoint.
    pub token_url: Option<String>,
    /// The client id registered with the provider.
    pub client_id: Option<String>,
    /// File holding the client secret (none for a public client).
    pub client_secret_file: Option<PathBuf>,
    /// File holding the refresh token; rewritten when it is rotated.
    pub refresh_token_file: Option<PathBuf>,
    /// Scopes to ask for (Microsoft wants them on every refresh).
    pub scope: Option<String>,
}

impl OAuth2Layer {
    /// This layer with every key set in `over` replaced by that value.
    pub fn overridden_by(self, over: &OAuth2Layer) -> OAuth2Layer {
        let o = over.clone();
        OAuth2Layer {
            token_url: o.token_url.or(self.token_url),
            client_id: o.client_id.or(self.client_id),
            client_secret_file: o
                .client_secret_file
                .or(self.client_secret_file),
            refresh_token_file: o
                .refresh_token_file
                .or(self.refresh_token_file),
            scope: o.scope.or(self.scope),
        }
    }

    /// Checks the keys: token_url, client_id and refresh_token_file are
    /// needed, and the URL must be https (or http on loopback).
    pub fn resolve(self) -> Result<OAuth2Config, SweepError> {
        let missing =
            |k: &str| SweepError::Config(format!("oauth2: {k} is missing"));
        let token_url = self.token_url.ok_or_else(|| missing("token_url"))?;
        check_url(&token_url)?;
        Ok(OAuth2Config {
            token_url,
            client_id: self.client_id.ok_or_else(|| missing("client_id"))?,
            client_secret_file: self.client_secret_file,
            refresh_token_file: self
                .refresh_token_file
                .ok_or_else(|| missing("refresh_token_file"))?,
            scope: self.scope,
        })
    }
}

/// `url` is https, or http to a loopback host.
fn check_url(url: &str) -> Result<(), SweepError> {
    let lower = url.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("https://")
        && !rest.is_empty()
        && !rest.starts_with('/')
    {
        return Ok(());
    }
    if let Some(rest) = lower.strip_prefix("http://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(""),
            None => authority.rsplit_once(':').map_or(authority, |h| h.0),
        };
        let loopback = host == "localhost"
            || host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback());
        if loopback {
            return Ok(());
        }
    }
    Err(SweepError::Config(format!(
        "oauth2: token_url {url:?} must be https:// (http:// only to a loopback host)"
    )))
}

/// A checked OAuth2 grant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuth2Config {
    /// The token endpoint.
    pub token_url: String,
    /// The client id.
    pub client_id: String,
    /// File holding the client secret.
    pub client_secret_file: Option<PathBuf>,
    /// File holding the refresh token.
    pub refresh_token_file: PathBuf,
    /// Scopes asked for on refresh.
    pub scope: Option<String>,
}

/// The cached access token (`<refresh_token_file>.access`).
#[derive(Debug, serde::Serialize, Deserialize)]
struct Cached {
    access_token: String,
    /// Unix seconds.
    expires_at: i64,
}

/// A token endpoint's answer (RFC 6749 §5.1 and §5.2).
#[derive(Debug, Deserialize)]
struct TokenResponse {
    access_token: Option<String>,
    expires_in: Option<i64>,
    refresh_token: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

impl OAuth2Config {
    /// The file caching the access token.
    pub fn cache_file(&self) -> PathBuf {
        let mut name = self.refresh_token_file.as_os_str().to_os_string();
        name.push(".access");
        PathBuf::from(name)
    }

    /// A valid access token: the cached one unless it expires within a
    /// minute or `refused` (the server just refused the cached token),
    /// else a fresh one from the token endpoint.
    pub fn access_token(&self, refused: bool) -> Result<String, SweepError> {
        let stale = if refused { self.cached() } else { None };
        let _serial = REFRESH.lock().unwrap_or_else(|p| p.into_inner());
        // Read under the lock: another session may have refreshed.
        if let Some(c) = self.cached() {
            let fresh = c.expires_at - EXPIRY_MARGIN > time::now();
            let refused_one = stale
                .as_ref()
                .is_some_and(|s| s.access_token == c.access_token);
            if fresh && !refused_one {
                return Ok(c.access_token);
            }
        }
        self.refresh()
    }

    fn cached(&self) -> Option<Cached> {
        let text = std::fs::read_to_string(self.cache_file()).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Runs the refresh grant, caches the access token and writes back a
    /// rotated refresh token.
    fn refresh(&self) -> Result<String, SweepError> {
        let refresh_token =
            read_secret(&self.refresh_token_file, "refresh token")?;
        let secret = match &self.client_secret_file {
            Some(f) => Some(read_secret(f, "client secret")?),
            None => None,
        };
        let mut form = vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.as_str()),
            ("client_id", self.client_id.as_str()),
        ];
        if let Some(s) = &secret {
            form.push(("client_secret", s));
        }
        if let Some(s) = &self.scope {
            form.push(("scope", s));
        }
        let err = |message: String, transient: bool| SweepError::OAuth2 {
            token_url: self.token_url.clone(),
            message,
            transient,
        };
        let agent = ureq::AgentBuilder::new()
            .timeout(TIMEOUT)
            .tls_connector(std::sync::Arc::new(
                native_tls::TlsConnector::new()
                    .map_err(|e| err(e.to_string(), false))?,
            ))
            .build();
        let response = match agent
            .post(&self.token_url)
            .set("Accept", "application/json")
            .send_form(&form)
        {
            Ok(r) => r,
            Err(ureq::Error::Status(code, r)) => {
                let body: Option<TokenResponse> = r
                    .into_string()
                    .ok()
                    .and_then(|t| serde_json::from_str(&t).ok());
                let (error, description) = body
                    .map(|b| (b.error, b.error_description))
                    .unwrap_or((None, None));
                if error.as_deref() == Some("invalid_grant") {
                    return Err(SweepError::OAuth2Revoked {
                        token_url: self.token_url.clone(),
                        refresh_token_file: self.refresh_token_file.clone(),
                        description: description.unwrap_or_default(),
                    });
                }
                let what = match (error, description) {
                    (Some(e), Some(d)) => format!("{e}: {d}"),
                    (Some(e), None) => e,
                    _ => "no error code".into(),
                };
                // 429 and 5xx pass; a refused request stays refused.
                let transient = code == 429 || code >= 500;
                return Err(err(format!("HTTP {code} ({what})"), transient));
            }
            Err(ureq::Error::Transport(t)) => {
                return Err(err(t.to_string(), true));
            }
        };
        let body: TokenResponse = response
            .into_string()
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string()))
            .map_err(|e| {
                err(format!("the answer is not a token response: {e}"), true)
            })?;
        let access_token =
            body.access_token.filter(|t| !t.is_empty()).ok_or_else(|| {
                err("the answer has no access_token".into(), false)
            })?;
        if let Some(rotated) =
            body.refresh_token.filter(|t| *t != refresh_token)
        {
            write_private(
                &self.refresh_token_file,
                format!("{rotated}\n").as_bytes(),
            )
            .map_err(|source| SweepError::Io {
                path: self.refresh_token_file.clone(),
                source,
            })?;
        }
        let cached = Cached {
            access_token: access_token.clone(),
            expires_at: time::now()
                + body
                    .expires_in
                    .filter(|&s| s > 0)
                    .unwrap_or(DEFAULT_LIFETIME),
        };
        // Only a cache: a failure to write it costs a refresh next time.
        if let Ok(json) = serde_json::to_vec(&cached) {
            let _ = write_private(&self.cache_file(), &json);
        }
        Ok(access_token)
    }
}

/// The first line of a secret file.
fn read_secret(path: &Path, what: &str) -> Result<String, SweepError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        SweepError::Config(format!(
            "oauth2 {what} file {}: {e}",
            path.display()
        ))
    })?;
    let line = text.lines().next().unwrap_or("").trim().to_string();
    if line.is_empty() {
        return Err(SweepError::Config(format!(
            "oauth2 {what} file {} is empty",
            path.display()
        )));
    }
    Ok(line)
}

/// Replaces `path` atomically with `bytes`, readable by the owner only:
/// a temporary file of mode 0600 beside it, synced, renamed over it, and
/// the directory synced.
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_urls_are_https_or_loopback_http() {
        for ok in [
            "https://oauth2.googleapis.com/token",
            "https://login.microsoftonline.com/common/oauth2/v2.0/token",
            "http://127.0.0.1:8080/token",
            "http://localhost/token",
            "http://[::1]:9/t",
        ] {
            assert!(check_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://oauth2.example.com/token",
            "http://127.0.0.1.example.com/token",
            "ftp://127.0.0.1/",
            "https:///token",
            "token",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_grant_needs_its_url_client_and_refresh_token() {
        let layer = OAuth2Layer {
            token_url: Some("https://t.example/token".into()),
            client_id: Some("c".into()),
            ..OAuth2Layer::default()
        };
        assert!(layer.clone().resolve().is_err());
        let flags = OAuth2Layer {
            refresh_token_file: Some("/r".into()),
            ..OAuth2Layer::default()
        };
        let c = layer.overridden_by(&flags).resolve().unwrap();
        assert_eq!(c.cache_file(), Path::new("/r.access"));
    }

    #[test]
    fn private_files_are_replaced_whole_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("refresh");
        std::fs::write(&p, "old\n").unwrap();
        write_private(&p, b"new\n").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new\n");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
