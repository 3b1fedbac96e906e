//! Credentials in request headers: the API's bearer tokens, and the HTTP
//! basic auth or token header of the providers that sign nothing
//! (Postmark, SparkPost, Mailjet, Brevo). Secrets are compared in
//! constant time (over their SHA-256, so that lengths leak nothing
//! either), and never logged or echoed.

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use base64::Engine;
use sha2::{Digest, Sha256};

use super::ServeError;
use super::config::{BasicConfig, Secret, secret};
use super::providers::Refusal;

/// Whether two secrets are equal, in time independent of their contents.
pub(crate) fn same_secret(a: &[u8], b: &[u8]) -> bool {
    openssl::memcmp::eq(&Sha256::digest(a), &Sha256::digest(b))
}

/// The token of an `Authorization: Bearer TOKEN` header.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, token) = v.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Whether the request carries one of the API tokens.
pub(crate) fn has_token(headers: &HeaderMap, tokens: &[Secret]) -> bool {
    bearer(headers).is_some_and(|t| {
        // Every token is compared, so the time says nothing of which.
        tokens.iter().fold(false, |ok, s| {
            same_secret(t.as_bytes(), s.0.as_bytes()) | ok
        })
    })
}

/// The user name and password of an `Authorization: Basic` header.
fn basic(headers: &HeaderMap) -> Option<(String, String)> {
    let v = headers.get(AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, b64) = v.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let raw =
        base64::engine::general_purpose::STANDARD.decode(b64.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

/// How an unsigned provider's requests prove where they come from.
#[derive(Debug)]
pub(crate) struct HeaderAuth {
    basic: Option<(String, Secret)>,
    token: Option<(String, Secret)>,
}

impl HeaderAuth {
    /// From a provider's section; `None` when it sets no credential (the
    /// provider's endpoint is then off).
    pub(crate) fn new(
        provider: &str,
        c: &BasicConfig,
    ) -> Result<Option<HeaderAuth>, ServeError> {
        let named = |e: ServeError| match e {
            ServeError::Config(m) => {
                ServeError::Config(format!("[serve.{provider}] {m}"))
            }
            e => e,
        };
        let password = secret("password", &c.password, &c.password_file)
            .map_err(named)?;
        let basic = match (&c.username, password) {
            (Some(u), Some(p)) if !u.is_empty() => Some((u.clone(), p)),
            (None, None) => None,
            _ => {
                return Err(ServeError::Config(format!(
                    "[serve.{provider}] basic auth needs both username and password"
                )));
            }
        };
        let token = secret("token", &c.token, &c.token_file)
            .map_err(named)?
            .map(|t| {
                let h = c
                    .token_header
                    .clone()
                    .unwrap_or_else(|| AUTHORIZATION.as_str().to_string());
                (h.to_ascii_lowercase(), t)
            });
        Ok((basic.is_some() || token.is_some())
            .then_some(HeaderAuth { basic, token }))
    }

    /// Checks the request's credentials.
    pub(crate) fn check(&self, headers: &HeaderMap) -> Result<(), Refusal> {
        let mut offered = false;
        if let Some((user, pass)) = &self.basic
            && let Some((u, p)) = basic(headers)
        {
            offered = true;
            let user_ok = same_secret(u.as_bytes(), user.as_bytes());
            if user_ok & same_secret(p.as_bytes(), pass.0.as_bytes()) {
                return Ok(());
            }
        }
        if let Some((header, token)) = &self.token {
            let given = if header == AUTHORIZATION.as_str() {
                bearer(headers)
            } else {
                headers.get(header.as_str()).and_then(|v| v.to_str().ok())
            };
            if let Some(t) = given {
                offered = true;
                if same_secret(t.trim().as_bytes(), token.0.as_bytes()) {
                    return Ok(());
                }
            }
        }
        Err(match offered {
            true => Refusal::Forged("wrong credentials".into()),
            false => Refusal::Missing("no credentials".into()),
        })
    }
}
