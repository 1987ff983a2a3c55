//! Values derived from the pass's random seed. Deterministic for a given seed, so plans can be
//! snapshot-tested; the shell draws the seed from the operating system's random source.

use sha2::{Digest, Sha512};

/// `bytes` pseudo-random bytes for `purpose`, as lowercase hex (`2 × bytes` characters).
///
/// SHA-512 in counter mode over `(purpose, counter, seed)`: different purposes never share
/// output, and the seed cannot be recovered from a published value.
pub fn derive_hex(seed: &str, purpose: &str, bytes: usize) -> String {
    let mut out = String::with_capacity(bytes * 2);
    let mut counter: u64 = 0;
    while out.len() < bytes * 2 {
        let mut hasher = Sha512::new();
        hasher.update(purpose.as_bytes());
        hasher.update([0u8]);
        hasher.update(counter.to_be_bytes());
        hasher.update(seed.as_bytes());
        for byte in hasher.finalize() {
            if out.len() < bytes * 2 {
                out.push_str(&format!("{byte:02x}"));
            }
        }
        counter += 1;
    }
    out
}

/// The registry's `httpSecret`: 64 random bytes as 128 lowercase hex characters (spec 10 §3.4).
pub fn http_secret(seed: &str) -> String {
    derive_hex(seed, "httpSecret", 64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_secret_is_128_lowercase_hex_and_depends_on_the_seed() {
        let a = http_secret("seed-a");
        assert_eq!(a.len(), 128);
        assert!(a.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert_eq!(a, http_secret("seed-a"));
        assert_ne!(a, http_secret("seed-b"));
        assert_ne!(derive_hex("seed-a", "other", 64), a);
    }
}
