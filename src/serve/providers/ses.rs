//! Amazon SES through Amazon SNS
//! (<https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html>,
//! <https://docs.aws.amazon.com/sns/latest/dg/sns-message-and-json-formats.html>):
//! SNS posts a JSON message (`Type`, `MessageId`, `TopicArn`, `Message`,
//! `Timestamp`, `SignatureVersion`, `Signature`, `SigningCertURL`, and for
//! a subscription `SubscribeURL` and `Token`).
//!
//! Checks, in order: the `TopicArn` is one configured; the certificate URL
//! is https on an allowed host (`sns.<region>.amazonaws.com` by default);
//! the certificate (fetched once, then cached) verifies the signature —
//! RSA with SHA-1 (`SignatureVersion` 1) or SHA-256 (2) over the fields
//! SNS lists for the message type, each name and value on its own line;
//! the `Timestamp` is fresh. A `SubscriptionConfirmation` is then
//! confirmed by fetching its `SubscribeURL` (on an allowed host too); a
//! `Notification`'s `Message` is an SES notification or event-publishing
//! record (Bounce, Complaint, Delivery, DeliveryDelay), read by the SES
//! detector's own reader (`detect::amazonses::rows_of`). Raw message
//! delivery carries no signature and is refused.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Public};
use openssl::sign::Verifier;
use openssl::x509::X509;
use serde_json::Value;

use super::{
    Accepted, Provider, Refusal, Request, fresh, json, message_id, replay_key,
    text, time_of,
};
use crate::detect::amazonses::rows_of;
use crate::ledger::webhook::PlatformEvent;
use crate::serve::ServeError;
use crate::serve::config::SesConfig;

/// The hosts SNS signs from, by default.
const SNS_HOSTS: &[&str] = &["sns.*.amazonaws.com", "sns.*.amazonaws.com.cn"];

/// Certificates kept at most.
const MAX_CERTS: usize = 64;

/// The SES endpoint.
pub(crate) struct Ses {
    topics: Vec<String>,
    hosts: Vec<String>,
    agent: ureq::Agent,
    certs: Mutex<HashMap<String, PKey<Public>>>,
    max_age: i64,
}

impl Ses {
    /// From `[serve.ses]`.
    pub(crate) fn new(c: &SesConfig, max_age: i64) -> Result<Ses, ServeError> {
        let bad = |m: String| ServeError::Config(format!("[serve.ses] {m}"));
        let topics = c.topic_arns.clone().unwrap_or_default();
        if topics.is_empty() {
            return Err(
                bad("topic_arns is empty: name the SNS topics".into()),
            );
        }
        let hosts = c.cert_hosts.clone().unwrap_or_else(|| {
            SNS_HOSTS.iter().map(|h| h.to_string()).collect()
        });
        let mut tls = native_tls::TlsConnector::builder();
        if let Some(ca) = &c.ca_file {
            for cert in ca_certs(ca).map_err(bad)? {
                tls.add_root_certificate(cert);
            }
        }
        let tls =
            tls.build().map_err(|e| bad(format!("cannot set up TLS: {e}")))?;
        let agent = ureq::AgentBuilder::new()
            .tls_connector(std::sync::Arc::new(tls))
            .timeout(Duration::from_secs(10))
            .redirects(0)
            .build();
        Ok(Ses {
            topics,
            hosts,
            agent,
            certs: Mutex::new(HashMap::new()),
            max_age,
        })
    }

    /// Whether a URL is https on an allowed host.
    fn allowed(&self, raw: &str) -> Result<url::Url, Refusal> {
        let u = url::Url::parse(raw).map_err(|_| {
            Refusal::Forbidden(format!("{raw:?} is not a URL"))
        })?;
        let host = u.host_str().unwrap_or("").to_ascii_lowercase();
        if u.scheme() != "https"
            || !self.hosts.iter().any(|p| host_matches(p, &host))
        {
            return Err(Refusal::Forbidden(format!(
                "{raw} is not https on an SNS host"
            )));
        }
        Ok(u)
    }

    /// The public key of the certificate at `url` (cached).
    fn key(&self, url: &url::Url) -> Result<PKey<Public>, Refusal> {
        let lock = || self.certs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(k) = lock().get(url.as_str()) {
            return Ok(k.clone());
        }
        let unavailable = |m: String| {
            Refusal::Unavailable(format!("signing certificate {url}: {m}"))
        };
        let pem = self
            .agent
            .request_url("GET", url)
            .call()
            .map_err(|e| unavailable(e.to_string()))?
            .into_string()
            .map_err(|e| unavailable(e.to_string()))?;
        let key = X509::from_pem(pem.as_bytes())
            .and_then(|c| c.public_key())
            .map_err(|e| {
                Refusal::Forged(format!("signing certificate {url}: {e}"))
            })?;
        let mut certs = lock();
        if certs.len() >= MAX_CERTS {
            certs.clear();
        }
        certs.insert(url.to_string(), key.clone());
        Ok(key)
    }
}

/// The CA certificates of a PEM file.
fn ca_certs(path: &Path) -> Result<Vec<native_tls::Certificate>, String> {
    let pem = std::fs::read(path)
        .map_err(|e| format!("ca_file {}: {e}", path.display()))?;
    let certs = X509::stack_from_pem(&pem)
        .map_err(|e| format!("ca_file {}: {e}", path.display()))?;
    certs
        .iter()
        .map(|c| {
            c.to_der()
                .ok()
                .and_then(|d| native_tls::Certificate::from_der(&d).ok())
                .ok_or_else(|| format!("ca_file {}: unusable", path.display()))
        })
        .collect()
}

/// Whether `host` matches `pattern`, where `*` stands for one DNS label.
fn host_matches(pattern: &str, host: &str) -> bool {
    let (p, h): (Vec<&str>, Vec<&str>) =
        (pattern.split('.').collect(), host.split('.').collect());
    p.len() == h.len()
        && p.iter().zip(&h).all(|(p, h)| {
            (*p == "*" && !h.is_empty()) || p.eq_ignore_ascii_case(h)
        })
}

/// The text SNS signs: the fields of the message type, in order, each
/// name and value on a line of its own (absent optional fields left out).
fn string_to_sign(m: &Value, kind: &str) -> Result<String, Refusal> {
    let fields: &[&str] = match kind {
        "Notification" => &[
            "Message",
            "MessageId",
            "Subject",
            "Timestamp",
            "TopicArn",
            "Type",
        ],
        "SubscriptionConfirmation" | "UnsubscribeConfirmation" => &[
            "Message",
            "MessageId",
            "SubscribeURL",
            "Timestamp",
            "Token",
            "TopicArn",
            "Type",
        ],
        _ => {
            return Err(Refusal::Payload(format!(
                "unknown SNS message type {kind:?}"
            )));
        }
    };
    let mut s = String::new();
    for f in fields {
        match m.get(*f).and_then(Value::as_str) {
            Some(v) => {
                s.push_str(f);
                s.push('\n');
                s.push_str(v);
                s.push('\n');
            }
            None if *f == "Subject" => {}
            None => {
                return Err(Refusal::Payload(format!(
                    "the SNS message has no {f}"
                )));
            }
        }
    }
    Ok(s)
}

impl Provider for Ses {
    fn name(&self) -> &'static str {
        "ses"
    }

    fn may_block(&self) -> bool {
        true
    }

    fn accept(&self, req: &Request<'_>) -> Result<Accepted, Refusal> {
        let m = json(req.body)?;
        let kind = text(&m, "Type").ok_or_else(|| {
            Refusal::Missing(
                "not an SNS message (no Type; raw message delivery must be off)"
                    .into(),
            )
        })?;
        let (Some(sig), Some(cert)) =
            (text(&m, "Signature"), text(&m, "SigningCertURL"))
        else {
            return Err(Refusal::Missing(
                "no Signature / SigningCertURL".into(),
            ));
        };
        let topic = text(&m, "TopicArn").unwrap_or("");
        if !self.topics.iter().any(|t| t == topic) {
            return Err(Refusal::Forbidden(format!(
                "topic {topic:?} is not one of topic_arns"
            )));
        }
        let digest = match text(&m, "SignatureVersion") {
            Some("1") => MessageDigest::sha1(),
            Some("2") => MessageDigest::sha256(),
            v => {
                return Err(Refusal::Forged(format!(
                    "unknown SignatureVersion {v:?}"
                )));
            }
        };
        let url = self.allowed(cert)?;
        let signed = string_to_sign(&m, kind)?;
        let raw =
            base64::engine::general_purpose::STANDARD.decode(sig).map_err(
                |_| Refusal::Forged("the signature is not base64".into()),
            )?;
        let key = self.key(&url)?;
        let ok = Verifier::new(digest, &key)
            .and_then(|mut v| {
                v.update(signed.as_bytes())?;
                v.verify(&raw)
            })
            .unwrap_or(false);
        if !ok {
            return Err(Refusal::Forged(
                "the signature does not match".into(),
            ));
        }
        let at = time_of(&m, "Timestamp")
            .ok_or_else(|| Refusal::Payload("unreadable Timestamp".into()))?;
        fresh(at, req.now, self.max_age)?;
        let mut out = Accepted {
            replay_key: Some(replay_key(signed.as_bytes())),
            ..Accepted::default()
        };
        match kind {
            "SubscriptionConfirmation" => {
                let confirm =
                    self.allowed(text(&m, "SubscribeURL").unwrap_or(""))?;
                self.agent.request_url("GET", &confirm).call().map_err(
                    |e| {
                        Refusal::Unavailable(format!(
                            "confirming the subscription to {topic}: {e}"
                        ))
                    },
                )?;
                eprintln!("rebound: serve: subscribed to SNS topic {topic}");
                out.note = Some("subscription confirmed");
            }
            "UnsubscribeConfirmation" => out.note = Some("unsubscribed"),
            _ => {
                let id = text(&m, "MessageId").unwrap_or("");
                match notification(text(&m, "Message").unwrap_or(""), id) {
                    Some(events) => out.events = events,
                    None => out.ignored = 1,
                }
            }
        }
        Ok(out)
    }
}

/// The events of an SES notification; `None` when the message is not one
/// SES writes about deliverability (a test message, an open, ...).
fn notification(message: &str, sns_id: &str) -> Option<Vec<PlatformEvent>> {
    let inner: Value = serde_json::from_str(message).ok()?;
    let rows = rows_of(&inner)?;
    let kind = text(&inner, "notificationType")
        .or(text(&inner, "eventType"))
        .unwrap_or("")
        .to_ascii_lowercase();
    let part = match kind.as_str() {
        "deliverydelay" => "deliveryDelay",
        other => other,
    };
    let time = inner.get(part).and_then(|p| time_of(p, "timestamp"));
    let mail = inner.get("mail").unwrap_or(&Value::Null);
    let sent = mail
        .pointer("/commonHeaders/messageId")
        .and_then(Value::as_str)
        .map(message_id);
    let campaign = mail
        .pointer("/tags/campaign/0")
        .and_then(Value::as_str)
        .map(str::to_string);
    Some(
        rows.into_iter()
            .map(|row| PlatformEvent {
                row,
                time,
                campaign_id: campaign.clone(),
                original_message_id: sent.clone(),
                id: format!("ses\0{sns_id}"),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_patterns_match_one_label_per_star() {
        assert!(host_matches(
            "sns.*.amazonaws.com",
            "sns.us-east-1.amazonaws.com"
        ));
        assert!(!host_matches("sns.*.amazonaws.com", "sns.amazonaws.com"));
        assert!(!host_matches(
            "sns.*.amazonaws.com",
            "sns.evil.example.amazonaws.com"
        ));
        assert!(!host_matches(
            "sns.*.amazonaws.com",
            "sns.x.amazonaws.com.evil.example"
        ));
        assert!(host_matches("localhost", "LOCALHOST"));
    }

    #[test]
    fn notification_fields_in_order_subject_optional() {
        let m: Value = serde_json::json!({
            "Type": "Notification", "MessageId": "m", "TopicArn": "t",
            "Message": "x", "Timestamp": "2024-01-01T00:00:00.000Z"
        });
        assert_eq!(
            string_to_sign(&m, "Notification").unwrap(),
            "Message\nx\nMessageId\nm\nTimestamp\n2024-01-01T00:00:00.000Z\nTopicArn\nt\nType\nNotification\n"
        );
    }
}
