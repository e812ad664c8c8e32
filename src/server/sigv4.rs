//! AWS Signature Version 4 verification for service `states`, when `--credentials` is given.
//!
//! The checks run in the order AWS's JSON services run them, and fail with their errors and texts:
//! no `AWS4-` authorization → `MissingAuthenticationTokenException`; a missing `Credential`,
//! `SignedHeaders`, `Signature` or `X-Amz-Date`, an unparsable date, another algorithm or a
//! malformed credential → `IncompleteSignatureException`; a date more than 15 minutes away, an
//! unsigned `host` (or `x-amz-date`, or `x-amz-target` on the JSON API, so that a captured request
//! cannot be replayed as another operation), a scope for another region, service or date →
//! `InvalidSignatureException`; an unknown key → `UnrecognizedClientException`; and a signature
//! that does not match → `InvalidSignatureException`.
//!
//! The payload hash in the canonical request is always the SHA-256 of the body received, whatever
//! `X-Amz-Content-Sha256` says: a swapped body, or a client that signed `UNSIGNED-PAYLOAD`, fails
//! the signature (Step Functions is a JSON API; every SDK signs the real hash). HMAC-SHA256 and the
//! constant-time comparison are the `hmac` crate's (`Mac::verify_slice`).
//!
//! In: a request's head and body, the time now, the server's region and the route. Out: `Ok`,
//! or the `ApiError` AWS answers an unsigned or badly signed request with.

use std::collections::HashMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use hyper::http::request::Parts;
use sha2::{Digest, Sha256};

use super::protocol::ApiError;
use crate::percent::percent_encode;

/// Access key id → secret key.
#[derive(Clone, Debug, Default)]
pub struct Credentials {
    keys: HashMap<String, String>,
}

/// What a request must have signed besides `host` and `x-amz-date`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// `POST /` with `X-Amz-Target`: the target must be signed too.
    AwsJson,
    /// `POST /execute/{name}`: the path names the machine and is signed with the request.
    Gateway,
}

/// How many seconds a request's `X-Amz-Date` may be away from the server's clock.
const MAX_SKEW_SECS: i64 = 15 * 60;
const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const AMZ_DATE: &str = "%Y%m%dT%H%M%SZ";

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn mac(key: &[u8]) -> Hmac<Sha256> {
    <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length")
}

/// HMAC-SHA256 (RFC 2104).
fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut m = mac(key);
    m.update(msg);
    m.finalize().into_bytes().into()
}

fn unrecognized() -> ApiError {
    ApiError::coral(
        400,
        "UnrecognizedClientException",
        Some("The security token included in the request is invalid.".into()),
    )
}

fn invalid(message: String) -> ApiError {
    ApiError::coral(400, "InvalidSignatureException", Some(message))
}

fn incomplete(message: String) -> ApiError {
    ApiError::coral(400, "IncompleteSignatureException", Some(message))
}

const MISMATCH: &str = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

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

/// `YYYYMMDDTHHMMSSZ` of a Unix time.
fn amz_date(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format(AMZ_DATE).to_string())
        .unwrap_or_default()
}

/// The parts of an `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
struct Authorization<'a> {
    algorithm: &'a str,
    credential: &'a str,
    signed: &'a str,
    signature: &'a str,
}

/// Parses the header, or AWS's `IncompleteSignatureException` naming every missing part.
fn authorization<'a>(auth: &'a str, date: Option<&str>) -> Result<Authorization<'a>, ApiError> {
    let (algorithm, rest) = auth.trim().split_once(' ').unwrap_or((auth.trim(), ""));
    let mut fields: HashMap<&str, &str> = HashMap::new();
    for f in rest.split(',') {
        if let Some((k, v)) = f.trim().split_once('=') {
            fields.insert(k.trim(), v.trim());
        }
    }
    let mut msg = String::new();
    for name in ["Credential", "Signature", "SignedHeaders"] {
        if fields
            .get(name)
            .is_none_or(|v| v.is_empty() && name != "SignedHeaders")
        {
            msg.push_str(&format!(
                "Authorization header requires '{name}' parameter. "
            ));
        }
    }
    if date.is_none() {
        msg.push_str(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ",
        );
    }
    if !msg.is_empty() {
        return Err(incomplete(format!("{msg}Authorization={auth}")));
    }
    Ok(Authorization {
        algorithm,
        credential: fields["Credential"],
        signed: fields["SignedHeaders"],
        signature: fields["Signature"],
    })
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

    /// Checks the request's `Authorization` header against the body received, the signed
    /// headers, the server's `region` and clock (`now`).
    pub fn verify(
        &self,
        parts: &Parts,
        body: &[u8],
        now: SystemTime,
        region: &str,
        route: Route,
    ) -> Result<(), ApiError> {
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let auth = header("authorization")
            .filter(|a| a.trim_start().starts_with("AWS4-"))
            .ok_or_else(missing)?;
        let date = header("x-amz-date");
        let a = authorization(auth, date)?;
        let date = date.unwrap_or_default();
        // The date: ISO-8601 basic format, within 15 minutes of the server's clock.
        let when = chrono::NaiveDateTime::parse_from_str(date, AMZ_DATE)
            .ok()
            .filter(|_| date.len() == 16)
            .ok_or_else(|| {
                incomplete(format!(
                    "Date must be in ISO-8601 'basic format'. Got '{date}'. See http://en.wikipedia.org/wiki/ISO_8601"
                ))
            })?
            .and_utc()
            .timestamp();
        let now = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        if when < now - MAX_SKEW_SECS {
            return Err(invalid(format!(
                "Signature expired: {date} is now earlier than {} ({} - 15 min.)",
                amz_date(now - MAX_SKEW_SECS),
                amz_date(now)
            )));
        }
        if when > now + MAX_SKEW_SECS {
            return Err(invalid(format!(
                "Signature not yet current: {date} is still later than {} ({} + 15 min.)",
                amz_date(now + MAX_SKEW_SECS),
                amz_date(now)
            )));
        }
        // What must be signed: the host, the date, and on the JSON API the operation.
        let signed: Vec<&str> = a.signed.split(';').collect();
        let mut required = vec![("host", "Host"), ("x-amz-date", "X-Amz-Date")];
        if route == Route::AwsJson {
            required.push(("x-amz-target", "X-Amz-Target"));
        }
        for (name, shown) in required {
            if !signed.iter().any(|s| s.eq_ignore_ascii_case(name)) {
                return Err(invalid(format!(
                    "'{shown}' must be a 'SignedHeader' in the AWS Authorization."
                )));
            }
        }
        if a.algorithm != ALGORITHM {
            return Err(incomplete(format!(
                "Unsupported AWS 'algorithm': '{}' (only {ALGORITHM} for now). ",
                a.algorithm
            )));
        }
        let scope: Vec<&str> = a.credential.trim_end_matches('/').split('/').collect();
        let [akid, scope_date, scope_region, service, terminator] = scope.as_slice() else {
            return Err(incomplete(format!(
                "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '{}'",
                a.credential
            )));
        };
        let mut msg = String::new();
        if *scope_region != region {
            msg.push_str(&format!(
                "Credential should be scoped to a valid region, not '{scope_region}'. "
            ));
        }
        if *service != "states" {
            msg.push_str("Credential should be scoped to correct service: 'states'. ");
        }
        if *terminator != "aws4_request" {
            msg.push_str(&format!(
                "Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'. "
            ));
        }
        if *scope_date != &date[..8] {
            msg.push_str(&format!(
                "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{scope_date}' != '{}', from '{date}'.",
                &date[..8]
            ));
        }
        if !msg.is_empty() {
            return Err(invalid(msg.trim_end().to_string()));
        }
        let secret = self.keys.get(*akid).ok_or_else(unrecognized)?;
        let canonical = canonical_request(parts, a.signed, body);
        let to_sign = format!(
            "{ALGORITHM}\n{date}\n{scope_date}/{scope_region}/{service}/aws4_request\n{}",
            hex(&Sha256::digest(canonical.as_bytes()))
        );
        let k_date = hmac(format!("AWS4{secret}").as_bytes(), scope_date.as_bytes());
        let k_region = hmac(&k_date, scope_region.as_bytes());
        let k_service = hmac(&k_region, service.as_bytes());
        let k_signing = hmac(&k_service, b"aws4_request");
        let mut expected = mac(&k_signing);
        expected.update(to_sign.as_bytes());
        // Constant time: the comparison does not reveal how many leading bytes matched.
        let given = unhex(a.signature).unwrap_or_default();
        if expected.verify_slice(&given).is_err() {
            return Err(invalid(format!(
                "{MISMATCH}\n\nThe Canonical String for this request should have been\n'{canonical}'\n\nThe String-to-Sign should have been\n'{to_sign}'\n"
            )));
        }
        Ok(())
    }
}

/// The canonical request of SigV4: method, path, sorted query, the signed headers with their
/// values, their names, and the SHA-256 of the body as received.
fn canonical_request(parts: &Parts, signed: &str, body: &[u8]) -> String {
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
        canonical_headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
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
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        parts.method,
        percent_encode(&decode(parts.uri.path()), true),
        query.join("&"),
        canonical_headers,
        signed,
        hex(&Sha256::digest(body))
    )
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
