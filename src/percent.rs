//! Percent-encoding as the AWS SDKs write it, shared by the server (SigV4's canonical request)
//! and the task layer (service URLs and query strings).
//!
//! In: text. Out: the text with every byte but RFC 3986's unreserved characters encoded.

/// RFC 3986 percent-encoding of all but the unreserved characters (and `/` when `keep_slash`), as
/// the AWS SDKs encode path segments (`:` becomes `%3A`): one rule for a Lambda Invoke URL and
/// for SigV4's canonical request.
pub fn percent_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
