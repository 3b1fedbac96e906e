//! DKIM key records (RFC 6376 section 3.6.1): `S._domainkey.D` exists for
//! each selector, parses as a tag list, publishes a key (`p=` present and
//! not empty, which would mean revoked), and the key is strong enough: an
//! RSA key below 1024 bits fails (RFC 8301 section 3.2 says verifiers must
//! not accept it), below 2048 bits warns; ed25519 (RFC 8463) passes. The
//! key is decoded by OpenSSL (SubjectPublicKeyInfo, as published in
//! practice, or a bare RSAPublicKey, as RFC 6376 3.6.1 words it).

use base64::Engine as _;
use openssl::pkey::{Id, PKey};
use openssl::rsa::Rsa;

use super::report::{Check, Evidence, Status};
use super::tags;
use crate::dns::{Answer, Dns};
use crate::model::Reason;

/// A selector and the signing domain (`d=`) it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Selector {
    /// The selector (`s=`).
    pub(crate) selector: String,
    /// The signing domain (`d=`).
    pub(crate) domain: String,
}

impl Selector {
    /// The name of its key record.
    pub(crate) fn name(&self) -> String {
        format!("{}._domainkey.{}", self.selector, self.domain)
    }
}

/// Bits below which an RSA key fails.
const RSA_MIN: u32 = 1024;
/// Bits below which an RSA key warns.
const RSA_GOOD: u32 = 2048;

/// The verdict for one selector; the bool is true when the key can
/// verify signatures (it passed or only warned).
pub(crate) async fn check(dns: &Dns, s: &Selector) -> (Check, bool) {
    let name = s.name();
    let answer = dns.txt(&name).await;
    let evidence = Evidence::new(&name, "TXT", answer.describe());
    let (status, detail) = match &answer {
        Answer::Failed(e) => {
            (Status::CannotCheck, format!("TXT lookup failed: {e}"))
        }
        Answer::NoData | Answer::NxDomain => {
            (Status::Fail, format!("no DKIM key record at {name}"))
        }
        Answer::Found(records) => match records.as_slice() {
            [one] => judge(one),
            many => (
                Status::Fail,
                format!(
                    "{} TXT records at {name}; verifiers use one of them at \
                     random",
                    many.len()
                ),
            ),
        },
    };
    let usable = matches!(status, Status::Pass | Status::Warn);
    let check = Check::new("dkim.key", name.clone(), status, detail)
        .with_evidence([evidence])
        .advise(
            format!(
                "Publish the signing key as one TXT record at {name} \
                 (v=DKIM1; k=rsa; p=<base64 public key>), 2048-bit RSA or \
                 longer, and sign with selector {} and d={}.",
                s.selector, s.domain
            ),
            Reason::AuthFailure,
        );
    (check, usable)
}

/// The verdict for one key record's text.
fn judge(text: &str) -> (Status, String) {
    let t = match tags::parse(text) {
        Ok(t) => t,
        Err(e) => return (Status::Fail, format!("does not parse: {e}")),
    };
    if let Some(v) = tags::get(&t, "v")
        && (v != "DKIM1" || t[0].0 != "v")
    {
        return (
            Status::Fail,
            format!("v={v}: must be v=DKIM1 and the first tag"),
        );
    }
    let Some(p) = tags::get(&t, "p") else {
        return (Status::Fail, "no p= tag (the public key)".into());
    };
    let p: String = p.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    if p.is_empty() {
        return (Status::Fail, "key revoked (empty p=)".into());
    }
    if let Some(s) = tags::get(&t, "s")
        && !s.split(':').any(|x| matches!(x.trim(), "*" | "email"))
    {
        return (Status::Fail, format!("s={s}: the key is not for email"));
    }
    if let Some(h) = tags::get(&t, "h")
        && !h.split(':').any(|x| x.trim().eq_ignore_ascii_case("sha256"))
    {
        return (
            Status::Fail,
            format!("h={h}: sha256 not allowed (RFC 8301 forbids sha1)"),
        );
    }
    let bytes = match base64::engine::general_purpose::STANDARD.decode(&p) {
        Ok(b) => b,
        Err(e) => return (Status::Fail, format!("p= is not base64: {e}")),
    };
    let k = tags::get(&t, "k").unwrap_or("rsa");
    let (status, mut detail) = match k.to_ascii_lowercase().as_str() {
        "rsa" => rsa_bits(&bytes).map_or_else(
            |e| (Status::Fail, e),
            |bits| {
                let status = if bits < RSA_MIN {
                    Status::Fail
                } else if bits < RSA_GOOD {
                    Status::Warn
                } else {
                    Status::Pass
                };
                let note = match status {
                    Status::Fail => " (below 1024 bits: receivers ignore it)",
                    Status::Warn => " (below 2048 bits: rotate to 2048)",
                    _ => "",
                };
                (status, format!("RSA key, {bits} bits{note}"))
            },
        ),
        "ed25519" => {
            match PKey::public_key_from_raw_bytes(&bytes, Id::ED25519) {
                Ok(_) => (
                    Status::Pass,
                    "ed25519 key (RFC 8463; sign with an RSA key as well, \
                     not every receiver verifies ed25519)"
                        .to_string(),
                ),
                Err(_) => (
                    Status::Fail,
                    format!(
                        "p= is not an ed25519 key ({} bytes, want 32)",
                        bytes.len()
                    ),
                ),
            }
        }
        other => (Status::Fail, format!("unknown key type k={other}")),
    };
    if status == Status::Pass
        && tags::get(&t, "t")
            .is_some_and(|f| f.split(':').any(|x| x.trim() == "y"))
    {
        detail
            .push_str("; t=y: testing mode, receivers treat mail as unsigned");
        return (Status::Warn, detail);
    }
    (status, detail)
}

/// The size of an RSA public key given as SubjectPublicKeyInfo or as a
/// bare PKCS#1 RSAPublicKey.
fn rsa_bits(der: &[u8]) -> Result<u32, String> {
    if let Ok(key) = PKey::public_key_from_der(der) {
        return match key.rsa() {
            Ok(rsa) => Ok(rsa.size() * 8),
            Err(_) => Err(format!("k=rsa but p= holds a {:?} key", key.id())),
        };
    }
    Rsa::public_key_from_der_pkcs1(der)
        .map(|rsa| rsa.size() * 8)
        .map_err(|_| "p= is not an RSA public key".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spki(bits: u32) -> String {
        let rsa = Rsa::generate(bits).unwrap();
        let der = PKey::from_rsa(rsa).unwrap().public_key_to_der().unwrap();
        base64::engine::general_purpose::STANDARD.encode(der)
    }

    #[test]
    fn rsa_sizes_decide() {
        let (s, d) = judge(&format!("v=DKIM1; k=rsa; p={}", spki(2048)));
        assert_eq!((s, d.as_str()), (Status::Pass, "RSA key, 2048 bits"));
        assert_eq!(judge(&format!("p={}", spki(1024))).0, Status::Warn);
        assert_eq!(judge(&format!("p={}", spki(512))).0, Status::Fail);
    }

    #[test]
    fn bare_pkcs1_keys_are_read() {
        let rsa = Rsa::generate(2048).unwrap();
        let der = rsa.public_key_to_der_pkcs1().unwrap();
        let p = base64::engine::general_purpose::STANDARD.encode(der);
        assert_eq!(judge(&format!("p={p}")).0, Status::Pass);
    }

    #[test]
    fn malformed_and_revoked_records_fail() {
        for (rec, want) in [
            ("v=DKIM1; p=", "revoked"),
            ("v=DKIM1; k=rsa", "no p="),
            ("v=DKIM2; p=AAAA", "v=DKIM2"),
            ("k=rsa; v=DKIM1; p=AAAA", "first tag"),
            ("p=!!!", "not base64"),
            ("p=AAAA", "not an RSA public key"),
            ("k=dsa; p=AAAA", "unknown key type"),
            ("h=sha1; p=AAAA", "sha256"),
            ("s=tlsrpt; p=AAAA", "not for email"),
            ("p=AAAA; p=AAAA", "twice"),
        ] {
            let (s, d) = judge(rec);
            assert_eq!(s, Status::Fail, "{rec}");
            assert!(d.contains(want), "{rec}: {d}");
        }
    }

    #[test]
    fn ed25519_and_testing_mode() {
        let key = PKey::generate_ed25519().unwrap();
        let raw = key.raw_public_key().unwrap();
        let p = base64::engine::general_purpose::STANDARD.encode(raw);
        assert_eq!(
            judge(&format!("v=DKIM1; k=ed25519; p={p}")).0,
            Status::Pass
        );
        assert_eq!(judge("k=ed25519; p=AAAA").0, Status::Fail);
        let (s, d) = judge(&format!("t=y; p={}", spki(2048)));
        assert_eq!(s, Status::Warn);
        assert!(d.contains("testing"));
    }
}
