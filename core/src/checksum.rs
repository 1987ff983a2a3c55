//! Deterministic digests of JSON values: the checksums that force rollouts and mark what the
//! operator last applied. Keys are sorted here, whatever map type serde_json was built with.

use serde_json::Value;
use sha2::{Digest, Sha256};

/// How strings are escaped: as serde_json writes them, or as Go's `encoding/json` does.
#[derive(Clone, Copy)]
enum Strings {
    Serde,
    Go,
}

/// Streams the JSON of `value` into `out` with object keys sorted, allocating nothing for a map
/// whose keys already iterate in order (serde_json's default `BTreeMap`).
fn write(value: &Value, out: &mut impl std::io::Write, strings: Strings) {
    // Writing into a `Vec` or a hasher cannot fail; a scalar serialises infallibly.
    match value {
        Value::Object(map) => {
            let _ = out.write_all(b"{");
            let mut member = |index: usize, key: &str, child: &Value| {
                if index > 0 {
                    let _ = out.write_all(b",");
                }
                write_string(key, out, strings);
                let _ = out.write_all(b":");
                write(child, out, strings);
            };
            if map.keys().is_sorted() {
                map.iter().enumerate().for_each(|(index, (key, child))| member(index, key, child));
            } else {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                entries.into_iter().enumerate().for_each(|(index, (key, child))| member(index, key, child));
            }
            let _ = out.write_all(b"}");
        }
        Value::Array(items) => {
            let _ = out.write_all(b"[");
            for (index, child) in items.iter().enumerate() {
                if index > 0 {
                    let _ = out.write_all(b",");
                }
                write(child, out, strings);
            }
            let _ = out.write_all(b"]");
        }
        Value::String(text) => write_string(text, out, strings),
        scalar => {
            let _ = serde_json::to_writer(out, scalar);
        }
    }
}

fn write_string(text: &str, out: &mut impl std::io::Write, strings: Strings) {
    match strings {
        Strings::Serde => {
            let _ = serde_json::to_writer(out, text);
        }
        Strings::Go => go_string(text, out),
    }
}

/// A SHA-256 that canonical JSON is streamed into.
struct Hashing(Sha256);

impl Hashing {
    fn new() -> Self {
        Self(Sha256::new())
    }

    fn finish(self) -> String {
        format!("sha256:{}", hex(&self.0.finalize()))
    }
}

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

/// The reference's digest of a rollout dependency (spec 20 §3.11): SHA-256 of Go's encoding of
/// the ConfigMap or Secret with its type and metadata cleared: `{"metadata":{}` then, in the Go
/// struct's field order, `immutable`, `data`, `binaryData` (ConfigMap) or `immutable`, `data`,
/// `stringData`, `type` (Secret), empty ones omitted, map keys sorted, strings escaped as Go
/// escapes them. Matching it byte for byte is what lets this operator take over a registry the
/// reference deployed without rolling its pods.
pub fn dependency_checksum(kind: &str, object: &Value) -> String {
    use std::io::Write;
    let fields: &[&str] = if kind == "Secret" {
        &["immutable", "data", "stringData", "type"]
    } else {
        &["immutable", "data", "binaryData"]
    };
    let mut hashing = Hashing::new();
    let _ = hashing.write_all(b"{\"metadata\":{}");
    for field in fields {
        let Some(value) = object.get(*field) else { continue };
        let empty = match value {
            Value::Null => true,
            Value::Object(map) => map.is_empty(),
            Value::String(text) => text.is_empty(),
            Value::Bool(_) | Value::Number(_) | Value::Array(_) => false,
        };
        if empty {
            continue;
        }
        let _ = hashing.write_all(b",");
        go_string(field, &mut hashing);
        let _ = hashing.write_all(b":");
        write(value, &mut hashing, Strings::Go);
    }
    let _ = hashing.write_all(b"}");
    hashing.finish()
}

/// A string as Go's `encoding/json` writes it: HTML-safe (`<`, `>`, `&` as `\u003c`, ...),
/// U+2028 and U+2029 escaped, other control characters as `\u00XX` but for `\b \f \n \r \t`.
fn go_string(text: &str, out: &mut impl std::io::Write) {
    let _ = out.write_all(b"\"");
    let mut plain = 0;
    for (at, c) in text.char_indices() {
        let escaped: Option<&[u8]> = match c {
            '"' => Some(b"\\\""),
            '\\' => Some(b"\\\\"),
            '\n' => Some(b"\\n"),
            '\r' => Some(b"\\r"),
            '\t' => Some(b"\\t"),
            '\u{8}' => Some(b"\\b"),
            '\u{c}' => Some(b"\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => None,
            c if u32::from(c) < 0x20 => None,
            _ => continue,
        };
        let _ = out.write_all(text.get(plain..at).unwrap_or_default().as_bytes());
        match escaped {
            Some(bytes) => {
                let _ = out.write_all(bytes);
            }
            None => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
        }
        plain = at + c.len_utf8();
    }
    let _ = out.write_all(text.get(plain..).unwrap_or_default().as_bytes());
    let _ = out.write_all(b"\"");
}

/// `sha256:<hex>` of the canonical JSON of `value` (the reference's `Checksum`).
pub fn checksum(value: &Value) -> String {
    let mut hashing = Hashing::new();
    write(value, &mut hashing, Strings::Serde);
    hashing.finish()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// The text [`checksum`] digests: object keys in sorted order, no whitespace.
    fn canonical_json(value: &Value) -> String {
        let mut out = Vec::new();
        write(value, &mut out, Strings::Serde);
        String::from_utf8(out).unwrap()
    }

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

    /// Go's encoding, digested: the object with cleared metadata in struct field order, empty
    /// maps left out, HTML-safe strings.
    #[test]
    fn dependencies_are_digested_as_go_encodes_them() {
        let go = |text: &str| format!("sha256:{}", sha256_hex(text.as_bytes()));
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "uid": "u"},
            "type": "kubernetes.io/tls", "data": {"tls.key": "a2V5", "tls.crt": "Y3J0"}});
        assert_eq!(
            dependency_checksum("Secret", &secret),
            go(r#"{"metadata":{},"data":{"tls.crt":"Y3J0","tls.key":"a2V5"},"type":"kubernetes.io/tls"}"#)
        );
        let configmap = json!({"metadata": {"name": "c"}, "data": {"x": "<a & b>\n"}, "binaryData": {}});
        assert_eq!(
            dependency_checksum("ConfigMap", &configmap),
            go(r#"{"metadata":{},"data":{"x":"\u003ca \u0026 b\u003e\n"}}"#)
        );
        assert_eq!(dependency_checksum("Secret", &json!({"type": "Opaque"})), go(r#"{"metadata":{},"type":"Opaque"}"#));
        let odd = json!({"data": {"k": "é\"\\\u{1}\u{2028}\t"}});
        assert_eq!(dependency_checksum("ConfigMap", &odd), go(r#"{"metadata":{},"data":{"k":"é\"\\\u0001\u2028\t"}}"#));
    }
}
