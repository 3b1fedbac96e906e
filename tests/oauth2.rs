//! OAuth2 without a helper script, end to end: a token endpoint run by the
//! test on loopback (RFC 6749 §6 refresh grant, rotating refresh tokens,
//! and RFC 7662 introspection for Dovecot), and a Dovecot whose oauth2
//! passdb accepts exactly the access tokens that endpoint calls active.
//! An expired access token is refreshed, a refused one too, a rotated
//! refresh token is written back (mode 0600), a revoked grant exits 3.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use crate::dovecot::{self, Dovecot, USER};
use crate::imap::{command_as, db_in, run, stderr, summary};

const CLIENT_ID: &str = "rebound-test";
const CLIENT_SECRET: &str = "s3cret-client";

/// What the token endpoint knows.
#[derive(Default)]
struct Grants {
    /// Refresh tokens that are valid now.
    refresh: Vec<String>,
    /// Access tokens issued and not revoked.
    access: Vec<String>,
    /// Hand out a new refresh token with every refresh.
    rotate: bool,
    /// Refresh requests seen: (refresh token, client secret, scope).
    requests: Vec<(String, String, String)>,
    issued: usize,
}

/// The token endpoint: `POST /token` (refresh grant) and `POST
/// /introspect` (for Dovecot), one thread, one request per connection.
struct TokenServer {
    url: String,
    grants: Arc<Mutex<Grants>>,
}

impl TokenServer {
    fn start(first_refresh: &str, rotate: bool) -> TokenServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let grants = Arc::new(Mutex::new(Grants {
            refresh: vec![first_refresh.to_string()],
            rotate,
            ..Grants::default()
        }));
        let shared = grants.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let _ = answer(stream, &shared);
            }
        });
        TokenServer { url, grants }
    }

    fn token_url(&self) -> String {
        format!("{}/token", self.url)
    }

    fn introspection_url(&self) -> String {
        format!("{}/introspect", self.url)
    }

    fn grants(&self) -> std::sync::MutexGuard<'_, Grants> {
        self.grants.lock().unwrap()
    }
}

/// `application/x-www-form-urlencoded` → map (the values used here need
/// only `+` and `%XX`).
fn form(body: &str) -> HashMap<String, String> {
    let decode = |s: &str| {
        let s = s.replace('+', " ");
        let mut out = Vec::new();
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' && i + 2 < b.len() {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
                out.push(u8::from_str_radix(hex, 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    };
    body.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn answer(stream: TcpStream, grants: &Mutex<Grants>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request = String::new();
    reader.read_line(&mut request)?;
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line)?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let f = form(&String::from_utf8_lossy(&body));
    let mut g = grants.lock().unwrap();
    let (status, json) = if request.starts_with("POST /token ") {
        let rt = f.get("refresh_token").cloned().unwrap_or_default();
        g.requests.push((
            rt.clone(),
            f.get("client_secret").cloned().unwrap_or_default(),
            f.get("scope").cloned().unwrap_or_default(),
        ));
        if f.get("grant_type").map(String::as_str) != Some("refresh_token")
            || f.get("client_id").map(String::as_str) != Some(CLIENT_ID)
            || f.get("client_secret").map(String::as_str)
                != Some(CLIENT_SECRET)
        {
            (401, r#"{"error":"invalid_client"}"#.to_string())
        } else if !g.refresh.contains(&rt) {
            (
                400,
                r#"{"error":"invalid_grant","error_description":"Token has been expired or revoked."}"#
                    .to_string(),
            )
        } else {
            g.issued += 1;
            let access = format!("at-{}", g.issued);
            g.access.push(access.clone());
            let mut json = format!(
                r#"{{"access_token":"{access}","token_type":"Bearer","expires_in":3599"#
            );
            if g.rotate {
                let next = format!("rt-{}", g.issued + 1);
                g.refresh = vec![next.clone()];
                json += &format!(r#","refresh_token":"{next}""#);
            }
            json += "}";
            (200, json)
        }
    } else if request.starts_with("POST /introspect") {
        let token = f.get("token").cloned().unwrap_or_default();
        match g.access.contains(&token) {
            true => (200, format!(r#"{{"active":true,"username":"{USER}"}}"#)),
            false => (200, r#"{"active":false}"#.to_string()),
        }
    } else {
        (404, "{}".to_string())
    };
    drop(g);
    let mut out = stream;
    write!(
        out,
        "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
        json.len()
    )?;
    out.flush()
}

/// The files of a grant in `dir`.
struct Files {
    refresh: PathBuf,
    secret: PathBuf,
}

fn files(dir: &Path, refresh_token: &str) -> Files {
    let f = Files {
        refresh: dir.join("refresh-token"),
        secret: dir.join("client-secret"),
    };
    std::fs::write(&f.refresh, format!("{refresh_token}\n")).unwrap();
    std::fs::write(&f.secret, format!("{CLIENT_SECRET}\n")).unwrap();
    f
}

/// `rebound <sub>` logging in with the OAuth2 grant.
fn oauth_command(
    sub: &str,
    d: &Dovecot,
    db: &Path,
    t: &TokenServer,
    f: &Files,
) -> Command {
    oauth_command_at(sub, d, db, &t.token_url(), f)
}

/// [`oauth_command`] with any token URL.
fn oauth_command_at(
    sub: &str,
    d: &Dovecot,
    db: &Path,
    token_url: &str,
    f: &Files,
) -> Command {
    let mut c = command_as(sub, d, db);
    c.args(["--oauth2-token-url", token_url])
        .args(["--oauth2-client-id", CLIENT_ID])
        .arg("--oauth2-client-secret-file")
        .arg(&f.secret)
        .arg("--oauth2-refresh-token-file")
        .arg(&f.refresh)
        .args(["--oauth2-scope", "https://mail.example/imap offline_access"]);
    c
}

#[test]
fn expired_and_refused_access_tokens_are_refreshed_and_rotation_saved() {
    let t = TokenServer::start("rt-1", true);
    let d = Dovecot::start_with_introspection(&t.introspection_url());
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    let f = files(tmp.path(), "rt-1");
    // A cached access token that expired an hour ago.
    let cache = tmp.path().join("refresh-token.access");
    std::fs::write(&cache, r#"{"access_token":"at-old","expires_at":1}"#)
        .unwrap();
    d.deliver("INBOX", (0..5).map(|i| dovecot::bounce(i, 0)));
    let out = run(&mut oauth_command("sweep", &d, &db, &t, &f));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(summary(&out), [5, 5, 5, 5, 0, 0]);
    {
        let g = t.grants();
        assert_eq!(g.requests.len(), 1, "one refresh");
        assert_eq!(
            g.requests[0],
            (
                "rt-1".to_string(),
                CLIENT_SECRET.to_string(),
                "https://mail.example/imap offline_access".to_string()
            )
        );
    }
    assert!(d.log().contains("method=XOAUTH2"), "{}", d.log());
    // The rotated refresh token replaced the old one, readable by the
    // owner only; the new access token is cached.
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::read_to_string(&f.refresh).unwrap(), "rt-2\n");
    let mode = std::fs::metadata(&f.refresh).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    assert!(std::fs::read_to_string(&cache).unwrap().contains("\"at-1\""));

    // A valid cached token is used as it is: no refresh.
    d.deliver("INBOX", [dovecot::bounce(10, 0)]);
    let out = run(&mut oauth_command("sweep", &d, &db, &t, &f));
    assert_eq!(summary(&out), [1, 1, 1, 1, 0, 0]);
    assert_eq!(t.grants().requests.len(), 1);

    // The provider revokes the access token before it expires: the
    // server refuses it, rebound refreshes (with the rotated token) once
    // and logs in.
    t.grants().access.clear();
    d.deliver("INBOX", [dovecot::bounce(11, 0)]);
    let out = run(&mut oauth_command("sweep", &d, &db, &t, &f));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(summary(&out), [1, 1, 1, 1, 0, 0]);
    let g = t.grants();
    assert_eq!(g.requests.len(), 2);
    assert_eq!(g.requests[1].0, "rt-2");
    drop(g);
    assert_eq!(std::fs::read_to_string(&f.refresh).unwrap(), "rt-3\n");
}

#[test]
fn a_revoked_grant_exits_3_and_says_what_to_do() {
    let t = TokenServer::start("rt-valid", false);
    let d = Dovecot::start_with_introspection(&t.introspection_url());
    let tmp = tempfile::tempdir().unwrap();
    let db = db_in(&tmp);
    let f = files(tmp.path(), "rt-revoked");
    d.deliver("INBOX", [dovecot::bounce(1, 0)]);
    for sub in ["sweep", "watch"] {
        let out = run(&mut oauth_command(sub, &d, &db, &t, &f));
        assert_eq!(out.status.code(), Some(3), "{sub}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("invalid_grant"), "{err}");
        assert!(err.contains("authorise rebound again"), "{err}");
        assert!(err.contains(&f.refresh.display().to_string()), "{err}");
    }
    assert_eq!(d.count("INBOX"), 1, "nothing touched");
    // A plain-http token URL elsewhere than loopback is refused.
    let out = run(&mut oauth_command_at(
        "sweep",
        &d,
        &db,
        "http://oauth2.example.com/token",
        &f,
    ));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("must be https://"), "{}", stderr(&out));
}
