//! Deterministic digests of JSON values: the checksums that force rollouts and mark what the
//! operator last applied. Keys are sorted here, whatever map type serde_json was built with.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// JSON text with object keys in sorted order and no whitespace.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write(value, &mut out);
    out
}

fn write(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (index, (key, child)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write(child, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, child) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write(child, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// `sha256:<hex>` of the canonical JSON of `value` (the reference's `Checksum`).
pub fn checksum(value: &Value) -> String {
    format!("sha256:{}", sha256_hex(canonical_json(value).as_bytes()))
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
        assert_eq!(checksum(&a).len(), 7 + 64);
    }
}
