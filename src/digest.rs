//! The hash algorithms Step Functions offers by name, shared by the intrinsic `States.Hash` and
//! JSONata's `$hash`, so both accept exactly the same names and print the same digests.
//!
//! In: an algorithm name as AWS spells it (`MD5`, `SHA-1`, `SHA-256`, `SHA-384`, `SHA-512`) and
//! bytes. Out: the lowercase hex digest, or `None` for any other name (each caller words its own
//! error, as AWS does).

use std::fmt::Write as _;

use sha2::Digest as _;

/// Lowercase hex digest of `data` under `algorithm`; `None` when the name is not one AWS offers.
pub(crate) fn hex_digest(algorithm: &str, data: &[u8]) -> Option<String> {
    let digest: Vec<u8> = match algorithm {
        "MD5" => md5::Md5::digest(data).to_vec(),
        "SHA-1" => sha1::Sha1::digest(data).to_vec(),
        "SHA-256" => sha2::Sha256::digest(data).to_vec(),
        "SHA-384" => sha2::Sha384::digest(data).to_vec(),
        "SHA-512" => sha2::Sha512::digest(data).to_vec(),
        _ => return None,
    };
    let mut hex = String::with_capacity(digest.len() * 2);
    for b in digest {
        let _ = write!(hex, "{b:02x}");
    }
    Some(hex)
}

#[cfg(test)]
mod tests {
    use super::hex_digest;

    #[test]
    fn names_as_aws_spells_them() {
        let abc = |alg| hex_digest(alg, b"abc");
        assert_eq!(
            abc("MD5").as_deref(),
            Some("900150983cd24fb0d6963f7d28e17f72")
        );
        assert_eq!(
            abc("SHA-1").as_deref(),
            Some("a9993e364706816aba3e25717850c26c9cd0d89d")
        );
        assert_eq!(
            abc("SHA-256").as_deref(),
            Some("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        );
        assert_eq!(abc("SHA-384").map(|h| h.len()), Some(96));
        assert_eq!(abc("SHA-512").map(|h| h.len()), Some(128));
        assert_eq!(abc("sha-256"), None);
        assert_eq!(abc("SHA256"), None);
    }
}
