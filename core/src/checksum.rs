//! Deterministic digests of JSON values: the checksums that force rollouts and mark what the
//! operator last applied. Keys are sorted here, whatever map type serde_json was built with.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// JSON text with object keys in sorted order and no whitespace.
pub fn canonical_json(value: &Value) -> String {
    let mut out = Vec::new();
    write(value, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// Streams the canonical JSON of `value` into `out`, allocating nothing for a map whose keys
/// already iterate in order (serde_json's default `BTreeMap`).
fn write(value: &Value, out: &mut impl std::io::Write) {
    // Writing into a `Vec` or a hasher cannot fail; a scalar serialises infallibly.
    match value {
        Value::Object(map) => {
            let _ = out.write_all(b"{");
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            if !entries.is_sorted_by(|a, b| a.0 <= b.0) {
                entries.sort_by(|a, b| a.0.cmp(b.0));
            }
            for (index, (key, child)) in entries.into_iter().enumerate() {
                if index > 0 {
                    let _ = out.write_all(b",");
                }
                let _ = serde_json::to_writer(&mut *out, key);
                let _ = out.write_all(b":");
                write(child, out);
            }
            let _ = out.write_all(b"}");
        }
        Value::Array(items) => {
            let _ = out.write_all(b"[");
            for (index, child) in items.iter().enumerate() {
                if index > 0 {
                    let _ = out.write_all(b",");
                }
                write(child, out);
            }
            let _ = out.write_all(b"]");
        }
        scalar => {
            let _ = serde_json::to_writer(out, scalar);
        }
    }
}

/// A SHA-256 that canonical JSON is streamed into.
struct Hashing(Sha256);

impl std::io::Write for Hashing {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn hex(digest: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(digest.len() * 2);
    for byte in digest {
        for nibble in [byte >> 4, byte & 0xf] {
            text.push(char::from(DIGITS.get(usize::from(nibble)).copied().unwrap_or(b'0')));
        }
    }
    text
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// [`checksum`] of the object `{key: value, …}` (an absent value is `null`), streamed from the
/// parts without building the object: the dependency digest reads CA bundles and secrets that
/// can be large, and copying them every pass would cost more than hashing them.
pub fn checksum_of_fields(fields: &[(&str, Option<&Value>)]) -> String {
    use std::io::Write;
    let mut sorted: Vec<&(&str, Option<&Value>)> = fields.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    let mut hashing = Hashing(Sha256::new());
    let _ = hashing.write_all(b"{");
    for (index, (key, value)) in sorted.into_iter().enumerate() {
        if index > 0 {
            let _ = hashing.write_all(b",");
        }
        let _ = serde_json::to_writer(&mut hashing, key);
        let _ = hashing.write_all(b":");
        write(value.unwrap_or(&Value::Null), &mut hashing);
    }
    let _ = hashing.write_all(b"}");
    format!("sha256:{}", hex(&hashing.0.finalize()))
}

/// `sha256:<hex>` of the canonical JSON of `value` (the reference's `Checksum`).
pub fn checksum(value: &Value) -> String {
    let mut hashing = Hashing(Sha256::new());
    write(value, &mut hashing);
    format!("sha256:{}", hex(&hashing.0.finalize()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn key_order_does_not_matter_and_content_does() {
        let a = json!({"b": 1, "a": [1, {"y": true, "x": null}]});
        let b: Value = serde_json::from_str(r#"{"a":[1,{"x":null,"y":true}],"b":1}"#).unwrap();
        assert_eq!(canonical_json(&a), r#"{"a":[1,{"x":null,"y":true}],"b":1}"#);
        assert_eq!(checksum(&a), checksum(&b));
        assert_ne!(checksum(&a), checksum(&json!({"b": 2, "a": [1, {"y": true, "x": null}]})));
        assert!(checksum(&a).starts_with("sha256:"));
        let data = json!({"k": "v"});
        assert_eq!(
            checksum_of_fields(&[("type", None), ("data", Some(&data))]),
            checksum(&json!({"data": {"k": "v"}, "type": null}))
        );
        assert_eq!(checksum(&a).len(), 7 + 64);
    }
}
