//! `rebound serve` as a real process on a loopback port, driven by a real
//! HTTP client: each provider's documented payloads signed with keys made
//! here (for SNS, a certificate served over https by `openssl s_server` on
//! a host the test allows), forged, stale and replayed requests, the
//! generic shape and raw messages, the API, concurrency, kill -9, SIGTERM
//! and a CLI writing the same ledger.

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use hmac::{Hmac, Mac};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::sign::Signer;
use rebound::ledger::{Ledger, LedgerOptions};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::util::{rebound, root};

const TOKEN: &str = "test-token-0123456789abcdef";
const B64: base64::engine::GeneralPurpose =
    base64::engine::general_purpose::STANDARD;

fn now() -> i64 {
    rebound::time::now()
}

/// A running `rebound serve`.
struct Server {
    child: Child,
    url: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// Starts `rebound serve --listen 127.0.0.1:0 --db DB` with `env`.
    fn start(db: &Path, env: &[(&str, String)]) -> Server {
        let mut cmd = rebound();
        cmd.args(["serve", "--listen", "127.0.0.1:0", "--db"])
            .arg(db)
            .env_remove("REBOUND_DB")
            .env_remove("REBOUND_CONFIG")
            .env("REBOUND_API_TOKEN", TOKEN)
            .current_dir(db.parent().unwrap())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("rebound serve starts");
        let mut err = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        err.read_line(&mut line).unwrap();
        let url = line
            .split("listening on ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_string();
        let log = Arc::new(Mutex::new(line));
        let sink = log.clone();
        std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = err.read_to_string(&mut rest);
            sink.lock().unwrap().push_str(&rest);
        });
        Server { child, url, log }
    }

    /// POSTs `body` to `path` with `headers`: (status, body).
    fn post(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, String) {
        call(ureq::post(&format!("{}{path}", self.url)), headers, Some(body))
    }

    /// GETs `path` with the API token.
    fn get(&self, path: &str) -> (u16, String) {
        call(ureq::get(&format!("{}{path}", self.url)), &[auth()], None)
    }

    /// The metrics text.
    fn metrics(&self) -> String {
        let (code, text) = self.get("/metrics");
        assert_eq!(code, 200);
        text
    }

    /// Sends SIGTERM and waits for the exit code.
    fn terminate(mut self) -> (i32, String) {
        let pid = self.child.id().to_string();
        // The shell's own `kill`: no procps needed.
        Command::new("sh")
            .args(["-c", &format!("kill -TERM {pid}")])
            .status()
            .unwrap();
        let status = self.child.wait().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        let log = self.log.lock().unwrap().clone();
        (status.code().unwrap_or(-1), log)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn auth() -> (&'static str, &'static str) {
    ("Authorization", "Bearer test-token-0123456789abcdef")
}

fn call(
    mut req: ureq::Request,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> (u16, String) {
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let r = match body {
        Some(b) => req.send_bytes(b),
        None => req.call(),
    };
    match r {
        Ok(r) => (r.status(), r.into_string().unwrap()),
        Err(ureq::Error::Status(c, r)) => (c, r.into_string().unwrap()),
        Err(e) => panic!("request failed: {e}"),
    }
}

/// The value of a metric line (`name{labels}`), 0 when absent.
fn metric(text: &str, name_and_labels: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name_and_labels)?.trim().parse().ok())
        .unwrap_or(0.0)
}

/// The ledger, read-only.
fn ledger(db: &Path) -> Ledger {
    Ledger::open_with(
        db,
        &LedgerOptions { read_only: true, ..Default::default() },
    )
    .unwrap()
}

/// The state of an address and its suppression reason.
fn state_of(db: &Path, address: &str) -> (Option<String>, Option<String>) {
    let v = ledger(db).check(&[address]).unwrap().remove(0);
    (v.state.map(str::to_string), v.reason)
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// `openssl s_server -WWW` serving `dir` over https on loopback with a
/// self-signed certificate for `localhost` (its `cert.pem`).
struct HttpsFiles {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl HttpsFiles {
    fn start(dir: &Path, connections: usize) -> HttpsFiles {
        let ok = Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                "key.pem",
                "-out",
                "cert.pem",
                "-days",
                "2",
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=DNS:localhost",
            ])
            .current_dir(dir)
            .stderr(Stdio::null())
            .status()
            .expect("the openssl command is installed");
        assert!(ok.success());
        let port = free_port();
        let log = dir.join("s_server.log");
        // It exits (writing its log) after `connections` connections.
        let child = Command::new("openssl")
            .args([
                "s_server",
                "-naccept",
                &connections.to_string(),
                "-accept",
            ])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-cert", "cert.pem", "-key", "key.pem", "-WWW"])
            .current_dir(dir)
            .stdout(Stdio::null())
            // It names each file served (`FILE:name`) on stderr.
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let t = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(t.elapsed() < Duration::from_secs(10), "s_server");
            std::thread::sleep(Duration::from_millis(50));
        }
        HttpsFiles { child, port, log }
    }

    /// Waits for the server to have served its connections; its log.
    fn log(&mut self) -> String {
        let t = Instant::now();
        while self.child.try_wait().unwrap().is_none() {
            assert!(t.elapsed() < Duration::from_secs(10), "s_server runs on");
            std::thread::sleep(Duration::from_millis(50));
        }
        std::fs::read_to_string(&self.log).unwrap()
    }
}

impl Drop for HttpsFiles {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Signs an SNS message (the fields of its type, name and value on their
/// own lines) with `key`, version 1 (SHA1) or 2 (SHA256).
fn sns_sign(m: &mut Value, key: &PKey<Private>, version: u8) {
    let fields: &[&str] = if m["Type"] == "Notification" {
        &["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"]
    } else {
        &[
            "Message",
            "MessageId",
            "SubscribeURL",
            "Timestamp",
            "Token",
            "TopicArn",
            "Type",
        ]
    };
    let mut text = String::new();
    for f in fields {
        if let Some(v) = m[*f].as_str() {
            text.push_str(&format!("{f}\n{v}\n"));
        }
    }
    let md = if version == 1 {
        MessageDigest::sha1()
    } else {
        MessageDigest::sha256()
    };
    let mut s = Signer::new(md, key).unwrap();
    s.update(text.as_bytes()).unwrap();
    m["SignatureVersion"] = version.to_string().into();
    m["Signature"] = B64.encode(s.sign_to_vec().unwrap()).into();
}

fn iso(t: i64) -> String {
    rebound::time::format_rfc3339(t).replace('Z', ".000Z")
}

#[test]
fn ses_over_sns_subscribes_records_and_refuses_forgeries() {
    let dir = tempdir();
    // Three connections: the probe that it listens, the certificate (then
    // cached) and the confirmation.
    let mut files = HttpsFiles::start(dir.path(), 3);
    std::fs::write(dir.path().join("confirm?Token=t0k3n"), "<ok/>").unwrap();
    let cert_url = format!("https://localhost:{}/cert.pem", files.port);
    let key_pem = std::fs::read(dir.path().join("key.pem")).unwrap();
    let key = PKey::private_key_from_pem(&key_pem).unwrap();
    let topic = "arn:aws:sns:us-east-1:123456789012:ses-bounces";
    let db = dir.path().join("l.db");
    let s = Server::start(
        &db,
        &[
            ("REBOUND_SES_TOPIC_ARNS", topic.into()),
            ("REBOUND_SES_CERT_HOSTS", "localhost".into()),
            (
                "REBOUND_SES_CA_FILE",
                dir.path().join("cert.pem").display().to_string(),
            ),
        ],
    );
    let hdr = [
        ("x-amz-sns-message-type", "Notification"),
        ("Content-Type", "text/plain"),
    ];
    // The subscription is confirmed by fetching SubscribeURL.
    let mut sub = json!({
        "Type": "SubscriptionConfirmation", "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
        "Token": "t0k3n", "TopicArn": topic,
        "Message": "You have chosen to subscribe to the topic.",
        "SubscribeURL": format!("https://localhost:{}/confirm?Token=t0k3n", files.port),
        "Timestamp": iso(now()), "SigningCertURL": cert_url,
    });
    sns_sign(&mut sub, &key, 1);
    let (code, body) =
        s.post("/webhooks/ses", &hdr, sub.to_string().as_bytes());
    assert_eq!(code, 200, "{body}");
    assert!(body.contains("subscription confirmed"), "{body}");
    let log = files.log();
    assert!(log.contains("FILE:cert.pem"), "{log}");
    assert!(log.contains("FILE:confirm?Token=t0k3n"), "{log}");

    // A bounce (SES notification contents: bounceType, bounceSubType,
    // bouncedRecipients with status and diagnosticCode), signature v1.
    let t = now();
    let bounce = json!({
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": "Permanent", "bounceSubType": "General",
            "bouncedRecipients": [{"emailAddress": "jane@example.com", "action": "failed",
                "status": "5.1.1", "diagnosticCode": "smtp; 550 5.1.1 user unknown"}],
            "timestamp": iso(t - 60), "feedbackId": "0100-1", "reportingMTA": "dsn; a8-70.smtp-out.amazonses.com"
        },
        "mail": {"timestamp": iso(t - 120), "source": "sender@example.net", "messageId": "0100-m",
            "destination": ["jane@example.com"], "commonHeaders": {"messageId": "<sent-1@example.net>"}}
    });
    let mut n = json!({
        "Type": "Notification", "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
        "TopicArn": topic, "Message": bounce.to_string(), "Timestamp": iso(t),
        "SigningCertURL": cert_url, "UnsubscribeURL": "https://localhost/unsub",
    });
    sns_sign(&mut n, &key, 1);
    let (code, body) = s.post("/webhooks/ses", &hdr, n.to_string().as_bytes());
    assert_eq!(code, 200, "{body}");
    assert_eq!(json_of(&body)["recorded"], 1);
    assert_eq!(
        state_of(&db, "jane@example.com"),
        (Some("suppressed".into()), Some("hard_bounce".into()))
    );
    // The same request again is a replay.
    let (code, _) = s.post("/webhooks/ses", &hdr, n.to_string().as_bytes());
    assert_eq!(code, 409);
    // A complaint (configuration-set event publishing: eventType), v2.
    let complaint = json!({
        "eventType": "Complaint",
        "complaint": {"complainedRecipients": [{"emailAddress": "joe@example.com"}],
            "timestamp": iso(t - 30), "feedbackId": "0100-2", "complaintFeedbackType": "abuse"},
        "mail": {"timestamp": iso(t - 300), "messageId": "0100-n", "source": "sender@example.net"}
    });
    let mut c = json!({
        "Type": "Notification", "MessageId": "b1b5b1a8-0c55-4d9e-a33e-4c5f8d6c1f2a",
        "TopicArn": topic, "Subject": "Amazon SES Email Event Notification",
        "Message": complaint.to_string(), "Timestamp": iso(t), "SigningCertURL": cert_url,
    });
    sns_sign(&mut c, &key, 2);
    let (code, body) = s.post("/webhooks/ses", &hdr, c.to_string().as_bytes());
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        state_of(&db, "joe@example.com").1.as_deref(),
        Some("complaint")
    );

    // Forged: the right topic and certificate, a message changed after
    // signing.
    let mut forged = n.clone();
    forged["Message"] = bounce.to_string().replace("jane@", "victim@").into();
    forged["MessageId"] = "other".into();
    let (code, _) =
        s.post("/webhooks/ses", &hdr, forged.to_string().as_bytes());
    assert_eq!(code, 403);
    // Signed with another key.
    let other =
        PKey::from_rsa(openssl::rsa::Rsa::generate(2048).unwrap()).unwrap();
    let mut forged = n.clone();
    forged["MessageId"] = "another".into();
    sns_sign(&mut forged, &other, 1);
    let (code, _) =
        s.post("/webhooks/ses", &hdr, forged.to_string().as_bytes());
    assert_eq!(code, 403);
    // A topic not configured, a certificate from another host, http.
    let mut wrong = n.clone();
    wrong["TopicArn"] = "arn:aws:sns:us-east-1:999999999999:other".into();
    sns_sign(&mut wrong, &key, 1);
    assert_eq!(
        s.post("/webhooks/ses", &hdr, wrong.to_string().as_bytes()).0,
        403
    );
    for url in [
        format!("https://127.0.0.1:{}/cert.pem", files.port),
        format!("http://localhost:{}/cert.pem", files.port),
    ] {
        let mut wrong = n.clone();
        wrong["SigningCertURL"] = url.into();
        sns_sign(&mut wrong, &key, 1);
        assert_eq!(
            s.post("/webhooks/ses", &hdr, wrong.to_string().as_bytes()).0,
            403
        );
    }
    // Stale: signed six minutes ago.
    let mut stale = n.clone();
    stale["Timestamp"] = iso(now() - 360).into();
    stale["MessageId"] = "stale".into();
    sns_sign(&mut stale, &key, 2);
    assert_eq!(
        s.post("/webhooks/ses", &hdr, stale.to_string().as_bytes()).0,
        403
    );
    // Raw message delivery (no envelope) is refused.
    assert_eq!(
        s.post("/webhooks/ses", &hdr, bounce.to_string().as_bytes()).0,
        401
    );
    assert_eq!(state_of(&db, "victim@example.com").0, None);
    let m = s.metrics();
    assert_eq!(
        metric(
            &m,
            "rebound_webhook_refused_total{provider=\"ses\",reason=\"signature\"}"
        ),
        2.0
    );
    assert_eq!(
        metric(
            &m,
            "rebound_webhook_refused_total{provider=\"ses\",reason=\"forbidden\"}"
        ),
        3.0
    );
    assert_eq!(
        metric(
            &m,
            "rebound_webhook_refused_total{provider=\"ses\",reason=\"stale\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(
            &m,
            "rebound_webhook_refused_total{provider=\"ses\",reason=\"replay\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(
            &m,
            "rebound_events_total{provider=\"ses\",type=\"bounce\",result=\"new\"}"
        ),
        1.0
    );
}

/// A SendGrid key pair: the private key and the verification key (base64
/// DER) SendGrid would show.
fn sendgrid_keys() -> (PKey<Private>, String) {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    let key = PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap();
    let public = B64.encode(key.public_key_to_der().unwrap());
    (key, public)
}

/// Posts a SendGrid payload signed with `key` at `ts`. ECDSA signatures
/// differ at each signing: a second post of the same body and time is
/// what a replay of the captured request looks like to the server.
fn sendgrid_post(
    s: &Server,
    key: &PKey<Private>,
    ts: i64,
    body: &str,
) -> (u16, String) {
    let mut signer = Signer::new(MessageDigest::sha256(), key).unwrap();
    signer.update(ts.to_string().as_bytes()).unwrap();
    signer.update(body.as_bytes()).unwrap();
    let sig = B64.encode(signer.sign_to_vec().unwrap());
    let ts = ts.to_string();
    s.post(
        "/webhooks/sendgrid",
        &[
            ("X-Twilio-Email-Event-Webhook-Signature", &sig),
            ("X-Twilio-Email-Event-Webhook-Timestamp", &ts),
            ("Content-Type", "application/json"),
        ],
        body.as_bytes(),
    )
}

#[test]
fn sendgrid_signed_batches_forgeries_and_redelivery() {
    let dir = tempdir();
    let db = dir.path().join("l.db");
    let (key, public) = sendgrid_keys();
    let s =
        Server::start(&db, &[("REBOUND_SENDGRID_PUBLIC_KEY", public.clone())]);
    let t = now();
    // Fields from SendGrid's event webhook reference.
    let events = json!([
        {"email": "hard@example.com", "timestamp": t - 10, "smtp-id": "<14c5d75ce93.dfd.64b469@ismtpd-555>",
         "event": "bounce", "category": "cat facts", "sg_event_id": "6g4ZI7SA-xmRDv57GoPIPw==",
         "sg_message_id": "14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0", "reason": "500 unknown recipient",
         "status": "5.0.0", "type": "bounce", "bounce_classification": "Invalid Address"},
        {"email": "slow@example.com", "timestamp": t - 9, "event": "deferred",
         "sg_event_id": "def-1", "response": "400 try again later", "attempt": "5"},
        {"email": "ok@example.com", "timestamp": t - 8, "event": "delivered",
         "sg_event_id": "del-1", "response": "250 OK"},
        {"email": "angry@example.com", "timestamp": t - 7, "event": "spamreport", "sg_event_id": "spam-1"},
        {"email": "reader@example.com", "timestamp": t - 6, "event": "open", "sg_event_id": "open-1"}
    ])
    .to_string();
    let (code, body) = sendgrid_post(&s, &key, t, &events);
    assert_eq!(code, 200, "{body}");
    let b = json_of(&body);
    assert_eq!(
        (b["recorded"].as_i64(), b["ignored"].as_i64()),
        (Some(4), Some(1))
    );
    assert_eq!(
        state_of(&db, "hard@example.com").1.as_deref(),
        Some("hard_bounce")
    );
    assert_eq!(
        state_of(&db, "angry@example.com").1.as_deref(),
        Some("complaint")
    );
    assert_eq!(state_of(&db, "ok@example.com").0.as_deref(), Some("active"));
    // SendGrid redelivers (signed anew): recorded once.
    let (code, body) = sendgrid_post(&s, &key, t + 1, &events);
    assert_eq!(code, 200);
    assert_eq!(json_of(&body)["duplicates"], 4);
    assert_eq!(ledger(&db).size().unwrap().events, 4);
    // Replayed as captured (or with the signature re-encoded): refused.
    let (code, _) = sendgrid_post(&s, &key, t + 1, &events);
    assert_eq!(code, 409);
    // Forged (another key), tampered, stale, unsigned.
    let (other, _) = sendgrid_keys();
    let forged = events.replace("hard@", "victim@");
    assert_eq!(sendgrid_post(&s, &other, t, &forged).0, 403);
    let mut signer = Signer::new(MessageDigest::sha256(), &key).unwrap();
    signer.update(t.to_string().as_bytes()).unwrap();
    signer.update(events.as_bytes()).unwrap();
    let sig = B64.encode(signer.sign_to_vec().unwrap());
    let ts = t.to_string();
    let tampered = s.post(
        "/webhooks/sendgrid",
        &[
            ("X-Twilio-Email-Event-Webhook-Signature", &sig),
            ("X-Twilio-Email-Event-Webhook-Timestamp", &ts),
        ],
        forged.as_bytes(),
    );
    assert_eq!(tampered.0, 403);
    assert_eq!(sendgrid_post(&s, &key, t - 301, &forged).0, 403);
    assert_eq!(s.post("/webhooks/sendgrid", &[], forged.as_bytes()).0, 401);
    // Signed but not a payload: 400 naming the event.
    let (code, body) = sendgrid_post(
        &s,
        &key,
        t,
        r#"[{"event":"bounce","email":"a@example.com"},{"event":"bounce"}]"#,
    );
    assert_eq!(code, 400);
    assert!(body.contains("event 2"), "{body}");
    assert_eq!(state_of(&db, "victim@example.com").0, None);
    assert_eq!(state_of(&db, "a@example.com").0, None);
    let m = s.metrics();
    assert_eq!(
        metric(
            &m,
            "rebound_webhook_refused_total{provider=\"sendgrid\",reason=\"signature\"}"
        ),
        2.0
    );
    assert_eq!(
        metric(
            &m,
            "rebound_webhook_refused_total{provider=\"sendgrid\",reason=\"stale\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(
            &m,
            "rebound_webhook_refused_total{provider=\"sendgrid\",reason=\"unauthenticated\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(
            &m,
            "rebound_webhook_refused_total{provider=\"sendgrid\",reason=\"replay\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(
            &m,
            "rebound_events_total{provider=\"sendgrid\",type=\"bounce\",result=\"duplicate\"}"
        ),
        1.0
    );
    // No secret or key in the log.
    let (code, log) = s.terminate();
    assert_eq!(code, 0, "{log}");
    assert!(!log.contains(&public) && !log.contains(TOKEN), "{log}");
}

fn mailgun_body(key: &str, ts: i64, token: &str, data: Value) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(ts.to_string().as_bytes());
    mac.update(token.as_bytes());
    let sig: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    json!({"signature": {"timestamp": ts.to_string(), "token": token, "signature": sig}, "event-data": data})
        .to_string()
}

#[test]
fn mailgun_signed_json_body() {
    let dir = tempdir();
    let db = dir.path().join("l.db");
    let key = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0";
    let s = Server::start(&db, &[("REBOUND_MAILGUN_SIGNING_KEY", key.into())]);
    let t = now();
    // Fields from Mailgun's event structure.
    let failed = json!({
        "event": "failed", "id": "G9Bn5sl1TC6nu79C8C0bwg", "timestamp": t as f64 - 0.5,
        "severity": "permanent", "reason": "bounce", "recipient": "alice@example.com",
        "delivery-status": {"attempt-no": 1, "code": 550, "mx-host": "mx.example.com",
            "message": "5.1.1 The email account that you tried to reach does not exist.",
            "description": ""},
        "message": {"headers": {"message-id": "20130503182626.18666.16540@example.net", "to": "alice@example.com"}},
        "user-variables": {"campaign_id": "spring"}
    });
    let body = mailgun_body(key, t, "tok-1", failed.clone());
    let (code, out) = s.post(
        "/webhooks/mailgun",
        &[("Content-Type", "application/json")],
        body.as_bytes(),
    );
    assert_eq!(code, 200, "{out}");
    assert_eq!(
        state_of(&db, "alice@example.com").1.as_deref(),
        Some("hard_bounce")
    );
    let (_, status) = s.get("/v1/addresses/alice@example.com");
    let st = json_of(&status);
    assert_eq!(st["history"][0]["campaign_id"], "spring");
    assert_eq!(
        st["history"][0]["original_message_id"],
        "<20130503182626.18666.16540@example.net>"
    );
    assert_eq!(st["history"][0]["reply_code"], "550");
    // A temporary failure is a delay: Mailgun retries.
    let temp = json!({"event": "failed", "id": "t1", "timestamp": t, "severity": "temporary",
        "recipient": "bob@example.com", "delivery-status": {"code": 452, "message": "4.2.2 mailbox full"}});
    let body = mailgun_body(key, t, "tok-2", temp);
    assert_eq!(s.post("/webhooks/mailgun", &[], body.as_bytes()).0, 200);
    assert_eq!(
        json_of(&s.get("/v1/addresses/bob@example.com").1)["counts"]["delay"],
        1
    );
    // Replay, forgery, stale, missing signature.
    assert_eq!(s.post("/webhooks/mailgun", &[], body.as_bytes()).0, 409);
    let forged = mailgun_body("key-wrong", t, "tok-3", failed.clone());
    assert_eq!(s.post("/webhooks/mailgun", &[], forged.as_bytes()).0, 403);
    let stale = mailgun_body(key, t - 600, "tok-4", failed.clone());
    assert_eq!(s.post("/webhooks/mailgun", &[], stale.as_bytes()).0, 403);
    let unsigned = json!({"event-data": failed}).to_string();
    assert_eq!(s.post("/webhooks/mailgun", &[], unsigned.as_bytes()).0, 401);
    assert_eq!(s.post("/webhooks/mailgun", &[], b"{not json").0, 400);
    let m = s.metrics();
    assert_eq!(
        metric(
            &m,
            "rebound_webhook_refused_total{provider=\"mailgun\",reason=\"signature\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(
            &m,
            "rebound_webhook_requests_total{provider=\"mailgun\",code=\"200\"}"
        ),
        2.0
    );
}

fn svix_headers(
    secret: &[u8],
    id: &str,
    ts: i64,
    body: &str,
) -> Vec<(String, String)> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).unwrap();
    mac.update(format!("{id}.{ts}.{body}").as_bytes());
    let sig = B64.encode(mac.finalize().into_bytes());
    vec![
        ("svix-id".into(), id.into()),
        ("svix-timestamp".into(), ts.to_string()),
        ("svix-signature".into(), format!("v1,bm90LXRoaXMtb25l v1,{sig}")),
    ]
}

#[test]
fn resend_svix_signatures() {
    let dir = tempdir();
    let db = dir.path().join("l.db");
    let raw = b"resend-test-secret-bytes-0123456";
    let secret = format!("whsec_{}", B64.encode(raw));
    let s = Server::start(
        &db,
        &[("REBOUND_RESEND_SIGNING_SECRET", secret.clone())],
    );
    let t = now();
    // Resend's email.bounced payload (SES bounce type and subtype).
    let body = json!({"type": "email.bounced", "created_at": iso(t),
        "data": {"created_at": iso(t - 5), "email_id": "56761188-7520-42d8-8898-ff6fc54ce618",
            "from": "Acme <onboarding@resend.dev>", "to": ["delivered@example.com", "second@example.com"],
            "subject": "Sending this example",
            "bounce": {"message": "The recipient's email address is on the suppression list because it has a recent history of producing hard bounces.",
                "subType": "Suppressed", "type": "Permanent"}}})
    .to_string();
    let h = svix_headers(raw, "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", t, &body);
    let hv: Vec<(&str, &str)> =
        h.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let (code, out) = s.post("/webhooks/resend", &hv, body.as_bytes());
    assert_eq!(code, 200, "{out}");
    assert_eq!(json_of(&out)["recorded"], 2);
    assert_eq!(
        state_of(&db, "second@example.com").0.as_deref(),
        Some("suppressed")
    );
    let wrong = svix_headers(b"another-secret", "msg_x", t, &body);
    let wv: Vec<(&str, &str)> =
        wrong.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(s.post("/webhooks/resend", &wv, body.as_bytes()).0, 403);
    let stale = svix_headers(raw, "msg_y", t - 301, &body);
    let sv: Vec<(&str, &str)> =
        stale.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    assert_eq!(s.post("/webhooks/resend", &sv, body.as_bytes()).0, 403);
    assert_eq!(s.post("/webhooks/resend", &hv, body.as_bytes()).0, 409);
    let (_, log) = s.terminate();
    assert!(!log.contains(&secret), "{log}");
}

#[test]
fn basic_auth_providers_and_their_payloads() {
    let dir = tempdir();
    let db = dir.path().join("l.db");
    let s = Server::start(
        &db,
        &[
            ("REBOUND_POSTMARK_USERNAME", "postmark".into()),
            ("REBOUND_POSTMARK_PASSWORD", "pm-secret-1".into()),
            ("REBOUND_SPARKPOST_TOKEN", "sp-secret-2".into()),
            ("REBOUND_SPARKPOST_TOKEN_HEADER", "X-Webhook-Token".into()),
            ("REBOUND_MAILJET_USERNAME", "mailjet".into()),
            ("REBOUND_MAILJET_PASSWORD", "mj-secret-3".into()),
            ("REBOUND_BREVO_TOKEN", "brevo-secret-4".into()),
        ],
    );
    let basic =
        |u: &str, p: &str| format!("Basic {}", B64.encode(format!("{u}:{p}")));
    let t = now();
    // Postmark's bounce webhook.
    let pm = json!({"RecordType": "Bounce", "MessageStream": "outbound", "ID": 4323372036854775807u64,
        "Type": "HardBounce", "TypeCode": 1, "Name": "Hard bounce", "Tag": "Invitation",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483", "ServerID": 23,
        "Description": "The server was unable to deliver your message (ex: unknown user, mailbox not found).",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": "john@example.com", "From": "sender@example.com", "BouncedAt": "2019-11-05T16:33:54.9070259Z",
        "DumpAvailable": true, "Inactive": true, "CanActivate": true, "Subject": "Test subject"}).to_string();
    let good = basic("postmark", "pm-secret-1");
    assert_eq!(
        s.post(
            "/webhooks/postmark",
            &[("Authorization", &good)],
            pm.as_bytes()
        )
        .0,
        200
    );
    assert_eq!(
        s.post(
            "/webhooks/postmark",
            &[("Authorization", &basic("postmark", "guess"))],
            pm.as_bytes()
        )
        .0,
        403
    );
    assert_eq!(s.post("/webhooks/postmark", &[], pm.as_bytes()).0, 401);
    assert_eq!(
        state_of(&db, "john@example.com").1.as_deref(),
        Some("hard_bounce")
    );
    let st = json_of(&s.get("/v1/addresses/john@example.com").1);
    assert_eq!(st["history"][0]["campaign_id"], "Invitation");
    // SparkPost: an array of msys events; bounce class 10.
    let sp = json!([{"msys": {"message_event": {"type": "bounce", "bounce_class": "10",
        "campaign_id": "Example Campaign Name", "error_code": "554", "event_id": "92356927693813856",
        "message_id": "000443ee14578172be22", "raw_rcpt_to": "recipient@example.com",
        "rcpt_to": "recipient@example.com", "raw_reason": "554 5.7.1 [internal] recipient blackholed",
        "reason": "554 5.7.1 [internal] recipient blackholed", "timestamp": (t - 5).to_string()}}},
        {"msys": {"message_event": {"type": "delay", "rcpt_to": "later@example.com", "event_id": "2",
        "raw_reason": "452 4.2.2 mailbox full", "timestamp": t.to_string()}}},
        {"msys": {"track_event": {"type": "open", "rcpt_to": "x@example.com"}}},
        {"msys": {}}]).to_string();
    let (code, out) = s.post(
        "/webhooks/sparkpost",
        &[("X-Webhook-Token", "sp-secret-2")],
        sp.as_bytes(),
    );
    assert_eq!(code, 200, "{out}");
    assert_eq!(
        (
            json_of(&out)["recorded"].as_i64(),
            json_of(&out)["ignored"].as_i64()
        ),
        (Some(2), Some(2))
    );
    assert_eq!(
        s.post(
            "/webhooks/sparkpost",
            &[("X-Webhook-Token", "nope")],
            sp.as_bytes()
        )
        .0,
        403
    );
    assert_eq!(
        state_of(&db, "recipient@example.com").0.as_deref(),
        Some("suppressed")
    );
    // Mailjet: grouped events (an array).
    let mj = json!([{"event": "bounce", "time": t, "MessageID": 13792286917004336u64,
        "Message_GUID": "1ab23cd4-e567-8901-2345-6789f0gh1i2j", "email": "bounce@example.com",
        "mj_campaign_id": 0, "mj_contact_id": 0, "customcampaign": "", "CustomID": "helloworld",
        "Payload": "", "blocked": false, "hard_bounce": true, "error_related_to": "recipient",
        "error": "user unknown", "comment": "Host or domain name not found."},
        {"event": "spam", "time": t, "Message_GUID": "g2", "email": "spam@example.com", "source": "JMRPP"}]).to_string();
    let mjauth = basic("mailjet", "mj-secret-3");
    assert_eq!(
        s.post(
            "/webhooks/mailjet",
            &[("Authorization", &mjauth)],
            mj.as_bytes()
        )
        .0,
        200
    );
    assert_eq!(
        state_of(&db, "bounce@example.com").1.as_deref(),
        Some("hard_bounce")
    );
    assert_eq!(
        state_of(&db, "spam@example.com").1.as_deref(),
        Some("complaint")
    );
    // Brevo: a transactional hard bounce with a bearer token.
    let br = json!({"event": "hard_bounce", "email": "gone@example.com", "id": 26224,
        "date": "2024-02-01 12:00:00", "ts": t, "message-id": "<201798300811.5787683@relay.domain.com>",
        "ts_event": t, "subject": "My first Transactional", "tag": "[\"transactionalTag\"]",
        "sending_ip": "185.41.28.109", "ts_epoch": t * 1000, "reason": "550 5.1.1 user unknown"}).to_string();
    assert_eq!(
        s.post(
            "/webhooks/brevo",
            &[("Authorization", "Bearer brevo-secret-4")],
            br.as_bytes()
        )
        .0,
        200
    );
    assert_eq!(
        s.post(
            "/webhooks/brevo",
            &[("Authorization", "Bearer brevo-wrong")],
            br.as_bytes()
        )
        .0,
        403
    );
    assert_eq!(
        state_of(&db, "gone@example.com").1.as_deref(),
        Some("hard_bounce")
    );
    // Providers without credentials have no endpoint.
    assert_eq!(s.post("/webhooks/mailgun", &[], b"{}").0, 404);
    let m = s.metrics();
    assert_eq!(
        metric(
            &m,
            "rebound_webhook_refused_total{provider=\"postmark\",reason=\"signature\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(
            &m,
            "rebound_webhook_refused_total{provider=\"postmark\",reason=\"unauthenticated\"}"
        ),
        1.0
    );
}

#[test]
fn generic_events_messages_and_the_api() {
    let dir = tempdir();
    let db = dir.path().join("l.db");
    // Room for 10,001 addresses to check (210 kB), not for 1,200 events.
    let s = Server::start(&db, &[("REBOUND_MAX_BODY_BYTES", "240000".into())]);
    let tok = [auth()];
    // The generic shape: one object, or an array; bearer token.
    let one = r#"{"event":"bounce","email":"One@Example.org","status":"5.1.1","reason":"550 5.1.1 user unknown","type":"hard","provider":"inhouse","campaign_id":7,"timestamp":1706788800,"ip":"192.0.2.1","domain":"example.org"}"#;
    assert_eq!(s.post("/webhooks/bounce", &[], one.as_bytes()).0, 401);
    let (code, out) = s.post("/webhooks/bounce", &tok, one.as_bytes());
    assert_eq!(code, 200, "{out}");
    let (code, out) = s.post("/webhooks/bounce", &tok, one.as_bytes());
    assert_eq!((code, json_of(&out)["duplicates"].as_i64()), (200, Some(1)));
    let (code, out) = s.post("/webhooks/bounce", &tok, br#"[{"event":"deferred","email":"d@example.org"},{"event":"bounce"}]"#);
    assert_eq!(code, 400);
    assert!(out.contains("event 2") && out.contains("email"), "{out}");
    assert_eq!(s.post("/webhooks/bounce", &tok, b"[{").0, 400);
    // Too big a body.
    let big = format!("[{}]", vec![one; 1200].join(","));
    assert_eq!(s.post("/webhooks/bounce", &tok, big.as_bytes()).0, 413);
    // A raw bounce message.
    let eml = std::fs::read(root().join("samples/gmail/01-user-unknown.eml"))
        .unwrap();
    let rfc822 = [auth(), ("Content-Type", "message/rfc822")];
    let (code, out) = s.post("/v1/messages", &rfc822, &eml);
    assert_eq!(code, 200, "{out}");
    let b = json_of(&out);
    assert_eq!(
        (b["recorded"].as_i64(), b["detector"].as_str()),
        (Some(1), Some("gmail"))
    );
    assert_eq!(b["records"][0]["recipient"], "nobody@example.org");
    assert_eq!(
        s.post(
            "/v1/messages",
            &[auth(), ("Content-Type", "text/plain")],
            &eml
        )
        .0,
        415
    );
    assert_eq!(s.post("/v1/messages", &rfc822, b"\x00\x01 not mail").0, 400);
    // GET /v1/addresses is `rebound status --json`.
    let (code, api) = s.get("/v1/addresses/one@example.org");
    assert_eq!(code, 200);
    let cli = crate::util::rebound()
        .args(["status", "--json", "--db"])
        .arg(&db)
        .arg("one@example.org")
        .output()
        .unwrap();
    assert_eq!(
        json_of(&api),
        json_of(&String::from_utf8(cli.stdout).unwrap())
    );
    assert_eq!(json_of(&api)["state"], "suppressed");
    assert_eq!(
        json_of(&s.get("/v1/addresses/never@example.org").1)["state"],
        Value::Null
    );
    assert_eq!(
        call(
            ureq::get(&format!("{}/v1/addresses/one@example.org", s.url)),
            &[],
            None
        )
        .0,
        401
    );
    // Manual suppress and unsuppress, audited.
    let sup = br#"{"email":"Hand@Example.org","note":"asked by phone"}"#;
    assert_eq!(s.post("/v1/suppressions", &tok, sup).0, 201);
    assert_eq!(s.post("/v1/suppressions", &tok, sup).0, 200);
    assert_eq!(
        s.post("/v1/suppressions", &tok, br#"{"email":"x@example.org"}"#).0,
        400
    );
    let del = |path: &str| {
        call(ureq::delete(&format!("{}{path}", s.url)), &tok, None)
    };
    assert_eq!(del("/v1/suppressions/nobody@example.org").0, 400);
    assert_eq!(
        del("/v1/suppressions/nobody@example.org?note=wrong%20address").0,
        200
    );
    assert_eq!(del("/v1/suppressions/nobody@example.org?note=again").0, 409);
    let hist = json_of(&s.get("/v1/addresses/hand@example.org").1);
    assert_eq!(hist["history"][0]["kind"], "suppress");
    assert_eq!(hist["history"][0]["note"], "asked by phone");
    // /v1/check: mailable or suppressed, reason and since.
    let (code, out) = s.post(
        "/v1/check",
        &tok,
        br#"{"addresses":["one@example.org","hand@example.org","nobody@example.org","new@example.org"]}"#,
    );
    assert_eq!(code, 200);
    let r = &json_of(&out)["results"];
    assert_eq!(r[0]["mailable"], false);
    assert_eq!(r[0]["reason"], "hard_bounce");
    assert_eq!(r[0]["since"], "2024-02-01T12:00:00Z");
    assert_eq!(
        (
            r[1]["reason"].as_str(),
            r[2]["mailable"].as_bool(),
            r[3]["mailable"].as_bool()
        ),
        (Some("manual"), Some(true), Some(true))
    );
    // A domain entry made by the CLI beside the service is honoured.
    let o = crate::util::rebound()
        .args(["suppress", "@blocked.example", "--note", "gone", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let (_, out) = s.post(
        "/v1/check",
        &tok,
        br#"{"addresses":["who@blocked.example","who@example.org"]}"#,
    );
    let r = &json_of(&out)["results"];
    assert_eq!(
        (r[0]["mailable"].as_bool(), r[0]["domain"].as_str()),
        (Some(false), Some("blocked.example"))
    );
    assert_eq!(r[1]["mailable"], true);
    let many: Vec<String> =
        (0..10_001).map(|i| format!("u{i}@example.org")).collect();
    let too_many = serde_json::to_vec(&many).unwrap();
    let (code, _) = call(
        ureq::post(&format!("{}/v1/check", s.url)),
        &tok,
        Some(&too_many),
    );
    assert!(code == 413, "{code}");
    // The export, streamed, is `rebound export`'s.
    for format in ["csv", "jsonl", "ses", "sendgrid"] {
        let (code, api) = s.get(&format!(
            "/v1/suppressions?format={format}&since=2024-01-01"
        ));
        assert_eq!(code, 200);
        let cli = crate::util::rebound()
            .args([
                "export",
                "--since",
                "2024-01-01",
                "--format",
                format,
                "--db",
            ])
            .arg(&db)
            .output()
            .unwrap();
        assert_eq!(api, String::from_utf8(cli.stdout).unwrap(), "{format}");
    }
    assert_eq!(s.get("/v1/suppressions?format=xls").0, 400);
    assert_eq!(s.get("/v1/suppressions?since=soon").0, 400);
    // Health, readiness, metrics behind the token.
    assert_eq!(
        call(ureq::get(&format!("{}/healthz", s.url)), &[], None).0,
        200
    );
    assert_eq!(
        call(ureq::get(&format!("{}/readyz", s.url)), &[], None).0,
        200
    );
    assert_eq!(
        call(ureq::get(&format!("{}/metrics", s.url)), &[], None).0,
        401
    );
    let m = s.metrics();
    assert_eq!(metric(&m, "rebound_ledger_suppressed_addresses"), 2.0);
    assert!(
        metric(
            &m,
            "rebound_http_request_duration_seconds_count{route=\"/v1/check\"}"
        ) >= 2.0
    );
    assert!(metric(&m, "rebound_commit_events_count") >= 1.0);
}

/// Posts `n` generic events for distinct addresses of `prefix`; returns
/// the addresses whose request was acknowledged.
fn post_events(
    url: &str,
    prefix: &str,
    n: usize,
    per_request: usize,
) -> Vec<String> {
    let agent =
        ureq::AgentBuilder::new().timeout(Duration::from_secs(30)).build();
    let mut acked = Vec::new();
    for start in (0..n).step_by(per_request) {
        let batch: Vec<String> = (start..(start + per_request).min(n))
            .map(|i| format!("{prefix}-{i}@example.org"))
            .collect();
        let body: Vec<Value> = batch
            .iter()
            .map(|a| json!({"event": "bounce", "email": a, "status": "5.1.1", "reason": "user unknown", "timestamp": 1706788800}))
            .collect();
        let r = agent
            .post(&format!("{url}/webhooks/bounce"))
            .set("Authorization", &format!("Bearer {TOKEN}"))
            .send_string(&Value::Array(body).to_string());
        match r {
            Ok(r) if r.status() == 200 => acked.extend(batch),
            _ => {}
        }
    }
    acked
}

#[test]
fn concurrent_clients_give_exactly_the_expected_ledger() {
    let dir = tempdir();
    let db = dir.path().join("l.db");
    let s = Server::start(&db, &[]);
    let (clients, events) = (8, 120);
    let threads: Vec<_> = (0..clients)
        .map(|c| {
            let url = s.url.clone();
            std::thread::spawn(move || {
                // Every client sends its events twice (redeliveries).
                let a = post_events(&url, &format!("c{c}"), events, 1 + c % 3);
                let b = post_events(&url, &format!("c{c}"), events, 7);
                (a.len(), b.len())
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), (events, events));
    }
    let size = ledger(&db).size().unwrap();
    assert_eq!(
        (size.addresses, size.suppressed, size.events),
        (960, 960, 960)
    );
    let m = s.metrics();
    assert_eq!(
        metric(
            &m,
            "rebound_events_total{provider=\"generic\",type=\"bounce\",result=\"new\"}"
        ),
        960.0
    );
    assert_eq!(
        metric(
            &m,
            "rebound_events_total{provider=\"generic\",type=\"bounce\",result=\"duplicate\"}"
        ),
        960.0
    );
    // Requests shared commits: 764 requests, at least two per commit.
    let commits = metric(&m, "rebound_commit_events_count");
    assert!(commits > 0.0 && commits * 2.0 <= 764.0, "{commits} commits");
}

/// Load from a few clients until `stop`; the acknowledged addresses.
fn load(
    url: &str,
    clients: usize,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> Vec<std::thread::JoinHandle<Vec<String>>> {
    (0..clients)
        .map(|c| {
            let (url, stop) = (url.to_string(), stop.clone());
            std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(10)).build();
                let mut acked = Vec::new();
                let mut i = 0;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) && i < 100_000 {
                    let a = format!("load{c}-{i}@example.org");
                    i += 1;
                    let r = agent
                        .post(&format!("{url}/webhooks/bounce"))
                        .set("Authorization", &format!("Bearer {TOKEN}"))
                        .send_string(
                            &json!({"event": "bounce", "email": a, "status": "5.1.1", "timestamp": 1706788800})
                                .to_string(),
                        );
                    match r {
                        Ok(r) if r.status() == 200 => acked.push(a),
                        Ok(_) | Err(ureq::Error::Status(..)) => {}
                        Err(_) => break,
                    }
                }
                acked
            })
        })
        .collect()
}

#[test]
fn kill_9_mid_load_loses_nothing_acknowledged() {
    let dir = tempdir();
    let db = dir.path().join("l.db");
    let mut s = Server::start(&db, &[]);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let threads = load(&s.url, 6, stop.clone());
    std::thread::sleep(Duration::from_millis(1500));
    s.child.kill().unwrap();
    s.child.wait().unwrap();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let acked: Vec<String> =
        threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    assert!(acked.len() > 10, "only {} acknowledged", acked.len());
    // After a restart, every acknowledged event is there.
    let s = Server::start(&db, &[]);
    let refs: Vec<&str> = acked.iter().map(String::as_str).collect();
    let lost: Vec<_> = ledger(&db)
        .check(&refs)
        .unwrap()
        .into_iter()
        .filter(|v| v.mailable)
        .map(|v| v.address)
        .collect();
    assert!(
        lost.is_empty(),
        "lost {} of {}: {:?}",
        lost.len(),
        acked.len(),
        &lost[..lost.len().min(5)]
    );
    assert_eq!(s.get("/healthz").0, 200);
}

#[test]
fn sigterm_drains_commits_and_exits_0() {
    let dir = tempdir();
    let db = dir.path().join("l.db");
    let s = Server::start(&db, &[]);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let threads = load(&s.url, 6, stop.clone());
    std::thread::sleep(Duration::from_millis(2000));
    let (code, log) = s.terminate();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(code, 0, "{log}");
    assert!(log.contains("everything taken is committed"), "{log}");
    let acked: Vec<String> =
        threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    assert!(acked.len() > 10, "only {} acknowledged", acked.len());
    let refs: Vec<&str> = acked.iter().map(String::as_str).collect();
    assert!(ledger(&db).check(&refs).unwrap().iter().all(|v| !v.mailable));
}

#[test]
fn the_cli_and_the_server_share_the_ledger() {
    let dir = tempdir();
    let db = dir.path().join("l.db");
    let s = Server::start(&db, &[]);
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let threads = load(&s.url, 3, stop.clone());
    // Meanwhile the CLI records the samples and lifts a suppression.
    let samples = crate::util::sample_messages();
    let out = crate::util::rebound()
        .args(["ingest", "--db"])
        .arg(&db)
        .args(&samples)
        .output()
        .unwrap();
    assert!(
        out.status.code().unwrap() <= 1,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = crate::util::rebound()
        .args(["unsuppress", "nobody@example.org", "--note", "cli", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let acked: Vec<String> =
        threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    let refs: Vec<&str> = acked.iter().map(String::as_str).collect();
    let l = ledger(&db);
    assert!(l.check(&refs).unwrap().iter().all(|v| !v.mailable));
    let st = json_of(&s.get("/v1/addresses/nobody@example.org").1);
    assert_eq!(st["state"], "active");
    assert!(l.size().unwrap().events as usize > acked.len() + 50);
}

/// The commands of `deploy/` use subcommands and flags that exist.
#[test]
fn deploy_units_use_real_flags() {
    let mut lines: Vec<String> = Vec::new();
    for unit in ["rebound-serve.service", "rebound-sweep.service"] {
        let text =
            std::fs::read_to_string(root().join("deploy").join(unit)).unwrap();
        let exec =
            text.lines().find_map(|l| l.strip_prefix("ExecStart=")).unwrap();
        lines.push(
            exec.trim_start_matches("/usr/local/bin/rebound ").to_string(),
        );
    }
    let docker =
        std::fs::read_to_string(root().join("deploy/Dockerfile")).unwrap();
    let cmd = docker.lines().find_map(|l| l.strip_prefix("CMD ")).unwrap();
    let args: Vec<String> = serde_json::from_str(cmd).unwrap();
    lines.push(args.join(" "));
    for line in lines {
        let mut words = line.split_whitespace();
        let sub = words.next().unwrap();
        let help = rebound().args([sub, "--help"]).output().unwrap();
        assert!(help.status.success(), "rebound {sub}");
        let help = String::from_utf8(help.stdout).unwrap();
        for flag in words.filter(|w| w.starts_with("--")) {
            assert!(help.contains(flag), "rebound {sub} has no {flag}");
        }
    }
}

/// A request whose body never comes is answered 503 at the time limit,
/// and its connection does not hold the service.
#[test]
fn stalled_requests_time_out() {
    use std::io::Write;
    let dir = tempdir();
    let s = Server::start(
        &dir.path().join("l.db"),
        &[("REBOUND_REQUEST_TIMEOUT_SECS", "1".into())],
    );
    let addr = s.url.trim_start_matches("http://");
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        c,
        "POST /webhooks/bounce HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: 1000\r\n\r\n[{{"
    )
    .unwrap();
    let t = Instant::now();
    let mut answer = String::new();
    let _ = c.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer:?}");
    assert!(t.elapsed() < Duration::from_secs(5));
    assert_eq!(s.get("/healthz").0, 200);
}
