//! Subresource integrity (W3C SRI): `<algorithm>-<base64 digest>`, the string browsers check in
//! `fetch(url, {integrity})`. The deployer computes it; the shell and tests verify it.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha2::{Digest, Sha256, Sha384, Sha512};

/// The hash functions SRI allows. Publishing uses [`SriAlgorithm::Sha384`], the usual choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SriAlgorithm {
    Sha256,
    Sha384,
    Sha512,
}

impl SriAlgorithm {
    /// The prefix before the `-`, e.g. `sha384`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha384 => "sha384",
            Self::Sha512 => "sha512",
        }
    }

    /// Digest length in bytes, which fixes the base64 length.
    pub fn digest_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    pub fn from_name(name: &str) -> Option<Self> {
        [Self::Sha256, Self::Sha384, Self::Sha512]
            .into_iter()
            .find(|a| a.name() == name)
    }

    fn digest(self, bytes: &[u8]) -> Vec<u8> {
        match self {
            Self::Sha256 => Sha256::digest(bytes).to_vec(),
            Self::Sha384 => Sha384::digest(bytes).to_vec(),
            Self::Sha512 => Sha512::digest(bytes).to_vec(),
        }
    }
}

/// The SRI string of `bytes`, e.g. `sha384-OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb`.
pub fn sri(algorithm: SriAlgorithm, bytes: &[u8]) -> String {
    format!(
        "{}-{}",
        algorithm.name(),
        STANDARD.encode(algorithm.digest(bytes))
    )
}

/// Whether `bytes` match `integrity`. A malformed integrity string never matches.
pub fn verify_sri(integrity: &str, bytes: &[u8]) -> bool {
    match parse_integrity(integrity) {
        Ok((algorithm, expected)) => algorithm.digest(bytes) == expected,
        Err(_) => false,
    }
}

/// Splits and checks an SRI string; the error is a message for a [`crate::FieldError`].
pub(crate) fn parse_integrity(text: &str) -> Result<(SriAlgorithm, Vec<u8>), String> {
    const EXPECTED: &str = "expected \"sha384-<base64>\" (or sha256-/sha512-)";
    let found = crate::rules::quote(text);
    let Some((name, encoded)) = text.split_once('-') else {
        return Err(format!("{EXPECTED}, found {found}"));
    };
    let Some(algorithm) = SriAlgorithm::from_name(name) else {
        return Err(format!("{EXPECTED}, found {found}"));
    };
    let digest = STANDARD
        .decode(encoded)
        .map_err(|_| format!("{EXPECTED}: the digest in {found} is not valid base64"))?;
    if digest.len() != algorithm.digest_len() {
        return Err(format!(
            "{EXPECTED}: a {} digest is {} bytes, {found} holds {}",
            algorithm.name(),
            algorithm.digest_len(),
            digest.len()
        ));
    }
    Ok((algorithm, digest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_known_vector() {
        // The example in the W3C SRI specification (also what
        // `openssl dgst -sha384 -binary | openssl base64 -A` prints for these bytes).
        assert_eq!(
            sri(SriAlgorithm::Sha384, b"alert('Hello, world.');"),
            "sha384-H8BRh8j48O9oYatfu5AZzq6A9RINhZO5H16dQZngK7T62em8MUt1FLm52t+eX6xO"
        );
    }

    #[test]
    fn verifies_every_algorithm() {
        for alg in [
            SriAlgorithm::Sha256,
            SriAlgorithm::Sha384,
            SriAlgorithm::Sha512,
        ] {
            let s = sri(alg, b"bytes");
            assert!(s.starts_with(alg.name()));
            assert!(verify_sri(&s, b"bytes"));
            assert!(!verify_sri(&s, b"bytez"));
        }
    }

    #[test]
    fn malformed_never_verifies() {
        for bad in [
            "",
            "sha384",
            "sha384-",
            "md5-AAAA",
            "sha384-!!!!",
            "sha384-AAAA",
        ] {
            assert!(!verify_sri(bad, b""), "{bad}");
            assert!(parse_integrity(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn wrong_length_says_so() {
        let short = format!("sha384-{}", STANDARD.encode([0u8; 32]));
        let err = parse_integrity(&short).unwrap_err();
        assert!(err.contains("48 bytes"), "{err}");
        assert!(err.starts_with("expected \"sha384-<base64>\""), "{err}");
    }
}
