//! Generated storage names (spec 30 §1.6): deterministic for S3 buckets, seeded-random for GCS
//! buckets and Azure/Swift containers, and Azure storage accounts. A generated name is written
//! into the Config and read back before anything is created under it.

use crate::seed::derive_hex;

/// `<infra>-image-registry[-extra…]` with runs of dashes collapsed.
fn prefix(infra: &str, extras: &[&str]) -> String {
    let mut parts = vec![infra, "image-registry"];
    parts.extend(extras.iter().copied().filter(|e| !e.is_empty()));
    let joined = parts.join("-");
    let mut out = String::with_capacity(joined.len());
    for c in joined.chars() {
        if !(c == '-' && out.ends_with('-')) {
            out.push(c);
        }
    }
    out
}

fn cut(name: &str, length: usize) -> String {
    name.chars().take(length).collect()
}

/// The S3 bucket name: no randomness, same inputs give the same name.
pub fn deterministic(infra: &str, extras: &[&str]) -> String {
    let mut name = cut(&prefix(infra, extras), 62);
    if name.ends_with('-') {
        name.pop();
        name.push('s');
    }
    name.to_lowercase()
}

/// Letters drawn from `alphabet` using the seed.
fn draw(seed: &str, purpose: &str, alphabet: &[u8], count: usize) -> String {
    let hex = derive_hex(seed, purpose, count.max(1));
    (0..count)
        .map(|i| {
            let byte = hex.get(i * 2..i * 2 + 2).and_then(|h| u8::from_str_radix(h, 16).ok()).unwrap_or(0);
            let index = usize::from(byte) % alphabet.len().max(1);
            alphabet.get(index).map_or('a', |b| char::from(*b))
        })
        .collect()
}

const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyz";

/// A 62-character name with a random tail (GCS buckets, Azure and Swift containers).
pub fn random(infra: &str, extras: &[&str], seed: &str, purpose: &str) -> String {
    let base = prefix(infra, extras);
    let length = base.chars().count();
    let name = if length == 61 {
        format!("{base}{}", draw(seed, purpose, LETTERS, 1))
    } else if length < 61 {
        format!("{base}-{}", draw(seed, purpose, LETTERS, 61 - length))
    } else {
        let mut name = cut(&base, 62);
        if name.ends_with('-') {
            name.pop();
            name.push_str(&draw(seed, purpose, LETTERS, 1));
        }
        name
    };
    name.to_lowercase()
}

/// An Azure storage account name: 3–24 characters of `[0-9a-z]`.
pub fn azure_account(infra: &str, seed: &str, purpose: &str) -> String {
    let alphanumeric: String = format!("imageregistry{infra}").chars().filter(char::is_ascii_alphanumeric).collect();
    let tail = draw(seed, purpose, b"bcdfghjklmnpqrstvwxz2456789", 5);
    format!("{}{tail}", cut(&alphanumeric, 19)).to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_names_follow_the_spec_table() {
        let table: &[(&str, &[&str], &str)] = &[
            ("my-cluster-abc12", &["us-east-1"], "my-cluster-abc12-image-registry-us-east-1"),
            ("my-cluster", &[], "my-cluster-image-registry"),
            ("my--cluster", &["us-east-1"], "my-cluster-image-registry-us-east-1"),
            ("MY-CLUSTER", &["us-east-1"], "my-cluster-image-registry-us-east-1"),
            (
                "a-very-long-infrastructure-name-that-exceeds",
                &["us-gov-west-1"],
                "a-very-long-infrastructure-name-that-exceeds-image-registry-us",
            ),
            (
                "a-very-long-infrastructure-name-that-exceeds-things",
                &["us-gov-west-1"],
                "a-very-long-infrastructure-name-that-exceeds-things-image-regi",
            ),
            (
                "exactly-sixty-two-chars-infra-name-ending-",
                &["us-east-1"],
                "exactly-sixty-two-chars-infra-name-ending-image-registry-us-ea",
            ),
        ];
        for (infra, extras, want) in table {
            assert_eq!(deterministic(infra, extras), *want, "{infra} {extras:?}");
            assert_eq!(deterministic(infra, extras), deterministic(infra, extras));
        }
    }

    #[test]
    fn cut_names_never_end_in_a_dash() {
        // 61 characters then a dash at position 62.
        let infra = format!("{}-", "a".repeat(46));
        let name = deterministic(&infra, &["x"]);
        assert!(name.len() <= 62 && !name.ends_with('-'), "{name}");
    }

    #[test]
    fn random_names_are_62_lowercase_characters_with_the_prefix() {
        let x32 = "x".repeat(32);
        let cases: Vec<(&str, Vec<&str>)> = vec![
            ("valid-infra-name", vec![]),
            ("valid-infra-name", vec!["", ""]),
            ("valid-infra-name", vec!["test1"]),
            ("valid-infra-name", vec!["test1", "test2"]),
            ("valid-infra-name", vec!["abcdefghijklmnopqrstuvwxyz", "abcdefghijklmnopqrstuvwxyz"]),
            ("invalid-infra--name", vec!["test1", "test2"]),
            ("invalid-infra-name---", vec!["test1", "test2"]),
            ("MY-INFRA", vec!["test1", "test2"]),
            (x32.as_str(), vec!["us-gov-west-1"]),
        ];
        for (infra, extras) in cases {
            let name = random(infra, &extras, "seed", "test");
            let expected_prefix = prefix(infra, &extras).to_lowercase();
            assert_eq!(name.chars().count(), 62, "{name}");
            assert!(
                name.starts_with(&cut(&expected_prefix, 61)) || expected_prefix.starts_with(&cut(&name, 61)),
                "{name}"
            );
            assert!(!name.contains("--") && !name.ends_with('-'), "{name}");
            assert_eq!(name, name.to_lowercase());
            assert_eq!(name, random(infra, &extras, "seed", "test"), "stable for a seed");
        }
    }

    #[test]
    fn azure_account_names_are_3_to_24_alphanumerics() {
        for infra in ["", "foo", "foo-bar-baz", "FOO-BAR-3000", &"1".repeat(19), &"2".repeat(24)] {
            let name = azure_account(infra, "seed", "account");
            assert!((3..=24).contains(&name.len()), "{name}");
            assert!(name.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()), "{name}");
        }
    }
}
