//! AWS Signature Version 4 verification for service `states`, when `--credentials` is given.
//!
//! Unsigned requests get `MissingAuthenticationTokenException`, an unknown access key
//! `UnrecognizedClientException`, a wrong signature `InvalidSignatureException`, as AWS answers.

use std::collections::HashMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use hyper::http::request::Parts;
use sha2::{Digest, Sha256};

use super::protocol::ApiError;
use crate::tasks::percent_encode;

/// Access key id → secret key.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    keys: HashMap<String, String>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// HMAC-SHA256 (RFC 2104).
fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

fn unrecognized() -> ApiError {
    ApiError::coral(
        400,
        "UnrecognizedClientException",
        Some("The security token included in the request is invalid.".into()),
    )
}

fn bad_signature() -> ApiError {
    ApiError::coral(
        400,
        "InvalidSignatureException",
        Some("The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.".into()),
    )
}

fn missing() -> ApiError {
    ApiError::coral(
        400,
        "MissingAuthenticationTokenException",
        Some("Request is missing Authentication Token".into()),
    )
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Ok(v) = u8::from_str_radix(
                std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"),
                16,
            )
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Credentials {
    /// Credentials from pairs.
    pub fn from_pairs<I: IntoIterator<Item = (String, String)>>(pairs: I) -> Credentials {
        Credentials {
            keys: pairs.into_iter().collect(),
        }
    }

    /// Reads a credentials file: an AWS shared-credentials INI (`aws_access_key_id` /
    /// `aws_secret_access_key` in any profile), or lines of `ACCESS_KEY_ID SECRET` (or `:`).
    pub fn load(path: &Path) -> std::io::Result<Credentials> {
        let text = std::fs::read_to_string(path)?;
        let mut keys = HashMap::new();
        let mut pending_id: Option<String> = None;
        let mut pending_secret: Option<String> = None;
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
                continue;
            }
            if line.starts_with('[') {
                pending_id = None;
                pending_secret = None;
                continue;
            }
            if let Some((k, v)) = line.split_once('=') {
                match k.trim() {
                    "aws_access_key_id" => pending_id = Some(v.trim().to_string()),
                    "aws_secret_access_key" => pending_secret = Some(v.trim().to_string()),
                    _ => {}
                }
                if let (Some(id), Some(secret)) = (&pending_id, &pending_secret) {
                    keys.insert(id.clone(), secret.clone());
                    pending_id = None;
                    pending_secret = None;
                }
                continue;
            }
            let mut parts = line.splitn(2, [' ', ':', '\t']);
            if let (Some(id), Some(secret)) = (parts.next(), parts.next()) {
                keys.insert(id.trim().to_string(), secret.trim().to_string());
            }
        }
        Ok(Credentials { keys })
    }

    /// Checks the request's `Authorization` header against the body and the signed headers.
    pub fn verify(&self, parts: &Parts, body: &[u8], now: SystemTime) -> Result<(), ApiError> {
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let auth = header("authorization").ok_or_else(missing)?;
        let rest = auth
            .strip_prefix("AWS4-HMAC-SHA256 ")
            .ok_or_else(bad_signature)?;
        let mut fields = HashMap::new();
        for f in rest.split(',') {
            if let Some((k, v)) = f.trim().split_once('=') {
                fields.insert(k, v);
            }
        }
        let (Some(cred), Some(signed), Some(sig)) = (
            fields.get("Credential"),
            fields.get("SignedHeaders"),
            fields.get("Signature"),
        ) else {
            return Err(bad_signature());
        };
        let scope: Vec<&str> = cred.split('/').collect();
        let [akid, date, region, service, "aws4_request"] = scope.as_slice() else {
            return Err(bad_signature());
        };
        let secret = self.keys.get(*akid).ok_or_else(unrecognized)?;
        if *service != "states" {
            return Err(bad_signature());
        }
        let amz_date = header("x-amz-date").ok_or_else(bad_signature)?;
        if !amz_date.starts_with(date) || amz_date.len() != 16 {
            return Err(bad_signature());
        }
        if let Some(skew) = skew_secs(amz_date, now)
            && skew > 15 * 60
        {
            return Err(ApiError::coral(
                400,
                "InvalidSignatureException",
                Some(format!(
                    "Signature expired: {amz_date} is now earlier or later than 15 min from the current time."
                )),
            ));
        }
        let mut canonical_headers = String::new();
        for name in signed.split(';') {
            let values: Vec<String> = parts
                .headers
                .get_all(name)
                .iter()
                .map(|v| {
                    String::from_utf8_lossy(v.as_bytes())
                        .split_whitespace()
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .collect();
            if values.is_empty() && name != "host" {
                return Err(bad_signature());
            }
            canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
        }
        let payload_hash = match header("x-amz-content-sha256") {
            Some(h) if h != "UNSIGNED-PAYLOAD" => h.to_string(),
            _ => hex(&Sha256::digest(body)),
        };
        let mut query: Vec<(String, String)> = parts
            .uri
            .query()
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (
                    percent_encode(&decode(k), false),
                    percent_encode(&decode(v), false),
                )
            })
            .collect();
        query.sort();
        let query: Vec<String> = query.into_iter().map(|(k, v)| format!("{k}={v}")).collect();
        let canonical = format!(
            "{}\n{}\n{}\n{}\n{}\n{}",
            parts.method,
            percent_encode(&decode(parts.uri.path()), true),
            query.join("&"),
            canonical_headers,
            signed,
            payload_hash
        );
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{amz_date}\n{date}/{region}/{service}/aws4_request\n{}",
            hex(&Sha256::digest(canonical.as_bytes()))
        );
        let k_date = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
        let k_region = hmac(&k_date, region.as_bytes());
        let k_service = hmac(&k_region, service.as_bytes());
        let k_signing = hmac(&k_service, b"aws4_request");
        let expected = hex(&hmac(&k_signing, to_sign.as_bytes()));
        if expected.as_bytes() != sig.as_bytes() {
            return Err(bad_signature());
        }
        Ok(())
    }
}

/// Seconds between an `x-amz-date` (`YYYYMMDDTHHMMSSZ`) and `now`.
fn skew_secs(amz_date: &str, now: SystemTime) -> Option<u64> {
    let t = chrono::NaiveDateTime::parse_from_str(amz_date, "%Y%m%dT%H%M%SZ").ok()?;
    let then = t.and_utc().timestamp();
    let now = now.duration_since(UNIX_EPOCH).ok()?.as_secs() as i64;
    Some(now.abs_diff(then))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231() {
        assert_eq!(
            hex(&hmac(b"Jefe", b"what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    /// The "get-vanilla" case of AWS's SigV4 test suite (service `service`, so only the
    /// signature arithmetic is checked here; `verify` insists on `states`).
    #[test]
    fn signing_key_chain_matches_aws_example() {
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
        let k_date = hmac(format!("AWS4{secret}").as_bytes(), b"20150830");
        let k_region = hmac(&k_date, b"us-east-1");
        let k_service = hmac(&k_region, b"iam");
        let k_signing = hmac(&k_service, b"aws4_request");
        assert_eq!(
            hex(&k_signing),
            "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9"
        );
    }

    #[test]
    fn credentials_files_parse() {
        let dir = std::env::temp_dir().join(format!("ewy-creds-{}", std::process::id()));
        std::fs::write(
            &dir,
            "[default]\naws_access_key_id = AK\naws_secret_access_key = SK\nAK2 SK2\n",
        )
        .unwrap();
        let c = Credentials::load(&dir).unwrap();
        let _ = std::fs::remove_file(&dir);
        assert_eq!(c.keys.get("AK").map(String::as_str), Some("SK"));
        assert_eq!(c.keys.get("AK2").map(String::as_str), Some("SK2"));
    }
}
