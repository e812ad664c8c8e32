//! Random ids the server hands out: execution names, the id part of Express execution ARNs,
//! `x-amzn-RequestId`. Version-4 UUIDs drawn from the thread's generator (`rand::thread_rng`,
//! a ChaCha generator seeded from the OS), written without allocating.
//!
//! In: nothing but the thread's generator. Out: UUID text, or a header value.

use rand::RngCore;

/// The 36 bytes of a random UUID in its lowercase hyphenated form.
fn uuid_bytes() -> [u8; 36] {
    let mut random = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut random);
    let id = uuid::Builder::from_random_bytes(random).into_uuid();
    let mut text = [0u8; 36];
    id.hyphenated().encode_lower(&mut text);
    text
}

/// Appends a random UUID to `out`.
pub fn push_uuid(out: &mut String) {
    let text = uuid_bytes();
    // `encode_lower` writes hex digits and hyphens only.
    out.push_str(std::str::from_utf8(&text).unwrap_or_default());
}

/// A random UUID as a `String`.
pub fn uuid_string() -> String {
    let mut s = String::with_capacity(36);
    push_uuid(&mut s);
    s
}

/// A random UUID as a header value.
pub fn uuid_header() -> Option<hyper::header::HeaderValue> {
    hyper::header::HeaderValue::from_bytes(&uuid_bytes()).ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_are_version_4_uuids_and_differ() {
        let a = super::uuid_string();
        let b = super::uuid_string();
        assert_ne!(a, b);
        for id in [&a, &b] {
            let parsed = uuid::Uuid::parse_str(id).expect("a UUID");
            assert_eq!(parsed.get_version_num(), 4, "{id}");
            assert_eq!(parsed.hyphenated().to_string(), *id);
        }
        let h = super::uuid_header().expect("a header value");
        assert_eq!(h.len(), 36);
    }
}
