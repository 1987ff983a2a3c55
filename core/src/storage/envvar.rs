//! Storage settings as registry environment variables: values are YAML-encoded the way go-yaml
//! v2 (YAML 1.1) writes them, because the registry parses its environment as YAML (spec 20 §2.5.1).

use k8s_openapi::api::core::v1::{EnvVar, EnvVarSource, SecretKeySelector};

use crate::names::PRIVATE_CONFIGURATION_SECRET;

/// A typed setting value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SettingValue {
    /// A string, quoted when YAML would read it as something else.
    Str(String),
    /// `true` / `false`.
    Bool(bool),
    /// A decimal integer.
    Int(i64),
    /// Pre-rendered YAML (lists and maps, such as the CloudFront middleware).
    Yaml(String),
}

/// One storage setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting {
    /// Environment variable name.
    pub name: String,
    /// Its value.
    pub value: SettingValue,
    /// Secret settings go into `image-registry-private-configuration` and are referenced.
    pub secret: bool,
}

impl Setting {
    /// A non-secret setting.
    pub fn new(name: &str, value: SettingValue) -> Self {
        Self { name: name.to_owned(), value, secret: false }
    }

    /// A secret setting.
    pub fn secret(name: &str, value: SettingValue) -> Self {
        Self { name: name.to_owned(), value, secret: true }
    }

    /// The encoded value.
    pub fn encoded(&self) -> String {
        match &self.value {
            SettingValue::Str(s) => encode_str(s),
            SettingValue::Bool(b) => b.to_string(),
            SettingValue::Int(n) => n.to_string(),
            SettingValue::Yaml(y) => y.trim_end_matches('\n').to_owned(),
        }
    }

    /// The container env var: a literal, or a reference into the private-configuration secret.
    pub fn env_var(&self) -> EnvVar {
        if self.secret {
            EnvVar {
                name: self.name.clone(),
                value_from: Some(EnvVarSource {
                    secret_key_ref: Some(SecretKeySelector {
                        name: PRIVATE_CONFIGURATION_SECRET.to_owned(),
                        key: self.name.clone(),
                        optional: None,
                    }),
                    ..EnvVarSource::default()
                }),
                ..EnvVar::default()
            }
        } else {
            EnvVar { name: self.name.clone(), value: Some(self.encoded()), ..EnvVar::default() }
        }
    }
}

/// Whether a plain scalar would be read by YAML 1.1 as something other than this string.
fn resolves_to_non_string(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
        "on", "On", "ON", "off", "Off", "OFF", "~", "null", "Null", "NULL", ".inf", ".Inf", ".INF", "+.inf", "+.Inf",
        "+.INF", "-.inf", "-.Inf", "-.INF", ".nan", ".NaN", ".NAN", "<<", "=",
    ];
    if WORDS.contains(&s) {
        return true;
    }
    let body = s.strip_prefix(['+', '-']).unwrap_or(s).replace('_', "");
    if body.is_empty() {
        return false;
    }
    let is_int = body.bytes().all(|b| b.is_ascii_digit())
        || body.strip_prefix("0x").is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()))
        || body.strip_prefix("0b").is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b == b'0' || b == b'1'))
        || body.split(':').count() > 1
            && body.split(':').all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let is_float = {
        let (mantissa, exponent) = match body.split_once(['e', 'E']) {
            Some((m, e)) => (m, Some(e.strip_prefix(['+', '-']).unwrap_or(e))),
            None => (body.as_str(), None),
        };
        let digits = mantissa.replace('.', "");
        mantissa.matches('.').count() <= 1
            && !digits.is_empty()
            && digits.bytes().all(|b| b.is_ascii_digit())
            && exponent.is_none_or(|e| !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()))
    };
    // Timestamps (2006-01-02...) read as times; quoting them is always safe.
    let is_date = s.len() >= 10 && s.as_bytes().get(4) == Some(&b'-') && s.bytes().take(4).all(|b| b.is_ascii_digit());
    is_int || is_float || is_date
}

/// Whether plain style cannot hold this string (YAML indicators, `: `, ` #`, edge spaces).
fn plain_is_illegal(s: &str) -> bool {
    let first = s.chars().next();
    let starts_with_indicator = first.is_some_and(|c| "-?:,[]{}#&*!|>'\"%@`".contains(c));
    starts_with_indicator
        || s.contains(": ")
        || s.contains(" #")
        || s.ends_with(':')
        || s.starts_with(' ')
        || s.ends_with(' ')
        || s.contains('\t')
        || s.chars().any(|c| c.is_control())
}

fn double_quoted(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

/// go-yaml v2's rendering of a string scalar (trailing newline removed).
pub fn encode_str(s: &str) -> String {
    if s.is_empty() {
        return "\"\"".to_owned();
    }
    if s.contains('\n') {
        let body: Vec<String> = s.trim_end_matches('\n').lines().map(|l| format!("  {l}")).collect();
        let chomp = if s.ends_with('\n') { "" } else { "-" };
        return format!("|{chomp}\n{}", body.join("\n"));
    }
    if resolves_to_non_string(s) {
        return double_quoted(s);
    }
    if plain_is_illegal(s) {
        if s.chars().any(|c| c.is_control()) {
            return double_quoted(s);
        }
        return format!("'{}'", s.replace('\'', "''"));
    }
    s.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(s: &str) -> String {
        Setting::new("X", SettingValue::Str(s.to_owned())).encoded()
    }

    #[test]
    fn spec_cases() {
        assert_eq!(Setting::new("X", SettingValue::Int(10)).encoded(), "10");
        assert_eq!(Setting::new("X", SettingValue::Bool(true)).encoded(), "true");
        assert_eq!(enc("foo"), "foo");
        assert_eq!(enc("# foo'bar\"baz"), "'# foo''bar\"baz'");
        assert_eq!(enc("10"), "\"10\"");
        assert_eq!(enc("true"), "\"true\"");
        assert_eq!(enc(""), "\"\"");
        for s in ["yes", "on", "null", "~", "1.5", "0x1F", "-3", "1e3", "2006-01-02"] {
            assert_eq!(enc(s), format!("\"{s}\""), "{s}");
        }
        for s in ["s3", "filesystem", "/registry", "us-east-1", "https://s3.example.com", "v3", "a-b.c"] {
            assert_eq!(enc(s), s, "{s}");
        }
    }

    #[test]
    fn secret_settings_reference_the_private_configuration() {
        let var = Setting::secret("SECRET", SettingValue::Str("password".into())).env_var();
        assert_eq!(var.value, None);
        let selector = var.value_from.unwrap().secret_key_ref.unwrap();
        assert_eq!((selector.name.as_str(), selector.key.as_str()), ("image-registry-private-configuration", "SECRET"));
        assert_eq!(selector.optional, None);
    }
}
