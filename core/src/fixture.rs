//! Fixtures: a scenario as multi-document YAML. Every document is a Kubernetes object as
//! `kubectl get -o yaml` prints it (a `kind: List` is unpacked), plus exactly one
//! `apiVersion: fixtures/v1, kind: Scenario` document with `now`, `seed`, the operator's
//! settings and what the clouds say. Errors name the file, the document and the field.

use std::collections::BTreeSet;
use std::fmt;

use jiff::Timestamp;
use serde::Deserialize;
use serde_json::Value;

use crate::api;
use crate::observed::{CloudFacts, Memory, ObjectError, Observed, OperatorEnv};
use crate::outcome::Outcome;

/// `apiVersion` of the scenario document.
pub const SCENARIO_API_VERSION: &str = "fixtures/v1";
/// `kind` of the scenario document.
pub const SCENARIO_KIND: &str = "Scenario";

/// A parsed fixture.
#[derive(Clone, Debug, PartialEq)]
pub struct Fixture {
    /// What the scenario is about.
    pub description: String,
    /// The snapshot.
    pub observed: Observed,
}

/// One YAML document of a fixture file.
#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    /// 1-based position among the file's non-empty documents.
    pub number: usize,
    /// Line the document starts on.
    pub line: usize,
    /// Its content.
    pub value: Value,
}

/// Bad fixture input, located as precisely as the input allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FixtureError {
    /// The file.
    pub file: String,
    /// Document number and start line, when the problem is inside one.
    pub document: Option<(usize, usize)>,
    /// Dotted field path, when the problem is a field.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for FixtureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some((number, line)) = self.document {
            write!(f, ": document {number} (line {line})")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field {field}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for FixtureError {}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Scenario {
    #[allow(dead_code)]
    api_version: String,
    #[allow(dead_code)]
    kind: String,
    #[serde(default)]
    description: String,
    now: Timestamp,
    seed: String,
    #[serde(default)]
    operator: OperatorEnv,
    #[serde(default)]
    cloud: CloudFacts,
    #[serde(default)]
    outcomes: Vec<Outcome>,
    #[serde(default)]
    memory: Memory,
}

fn is_separator(line: &str) -> bool {
    line == "---" || line.starts_with("--- ") || line.starts_with("---\t")
}

/// Splits a file into its non-empty YAML documents.
pub fn documents(file: &str, text: &str) -> Result<Vec<Document>, FixtureError> {
    let mut chunks: Vec<(usize, String)> = vec![(1, String::new())];
    for (index, line) in text.lines().enumerate() {
        if is_separator(line) {
            chunks.push((index + 2, String::new()));
        } else if let Some((_, chunk)) = chunks.last_mut() {
            chunk.push_str(line);
            chunk.push('\n');
        }
    }
    let mut out = Vec::new();
    for (line, chunk) in chunks {
        let number = out.len() + 1;
        // YAML 1.2 booleans only: `n`, `no`, `on` stay strings, as Kubernetes reads them.
        let options = serde_saphyr::options! { strict_booleans: true };
        let value: Value = serde_saphyr::from_str_with_options(&chunk, options).map_err(|e| FixtureError {
            file: file.to_owned(),
            document: Some((number, line)),
            field: None,
            message: format!("not valid YAML: {e}"),
        })?;
        if !value.is_null() {
            out.push(Document { number, line, value });
        }
    }
    Ok(out)
}

/// Parses a fixture file.
pub fn parse(file: &str, text: &str) -> Result<Fixture, FixtureError> {
    assemble(file, documents(file, text)?)
}

/// Builds the snapshot from documents (in any order: the result does not depend on it).
pub fn assemble(file: &str, documents: Vec<Document>) -> Result<Fixture, FixtureError> {
    let err = |doc: &Document, field: Option<String>, message: String| FixtureError {
        file: file.to_owned(),
        document: Some((doc.number, doc.line)),
        field,
        message,
    };
    let mut scenario: Option<Scenario> = None;
    let mut objects = Vec::new();
    for doc in &documents {
        let api_version = doc.value.get("apiVersion").and_then(Value::as_str);
        let kind = doc.value.get("kind").and_then(Value::as_str);
        match (api_version, kind) {
            (Some(SCENARIO_API_VERSION), Some(SCENARIO_KIND)) => {
                if scenario.is_some() {
                    return Err(err(doc, None, "a second Scenario document: a fixture has exactly one".into()));
                }
                let parsed = api::decode::<Scenario>(&doc.value).map_err(|e| err(doc, Some(e.path), e.message))?;
                scenario = Some(parsed);
            }
            (_, Some("List")) => {
                let items = doc
                    .value
                    .get("items")
                    .and_then(Value::as_array)
                    .ok_or_else(|| err(doc, Some("items".into()), "a List needs an items array".into()))?;
                for (index, item) in items.iter().enumerate() {
                    objects.push((doc, format!("items[{index}]."), item.clone()));
                }
            }
            _ => objects.push((doc, String::new(), doc.value.clone())),
        }
    }
    let scenario = scenario.ok_or_else(|| FixtureError {
        file: file.to_owned(),
        document: None,
        field: None,
        message: format!(
            "no Scenario document: add one with `apiVersion: {SCENARIO_API_VERSION}`, `kind: {SCENARIO_KIND}`, `now` and `seed`"
        ),
    })?;
    let mut observed = Observed::new(scenario.now, scenario.seed);
    observed.operator = scenario.operator;
    observed.cloud = scenario.cloud;
    observed.outcomes = scenario.outcomes;
    observed.memory = scenario.memory;
    let mut seen = BTreeSet::new();
    for (doc, prefix, object) in objects {
        let key = observed.objects.insert(object.clone()).map_err(|ObjectError::Missing(field)| {
            err(doc, Some(format!("{prefix}{field}")), "required (a non-empty string)".into())
        })?;
        // A kind the core reads, at a version it does not: reading it as the known version
        // would misread it without a word.
        let version = object.get("apiVersion").and_then(Value::as_str).and_then(|v| v.rsplit('/').next());
        if let (Some(known), Some(version)) = (api::Kind::find(&key.group, &key.kind), version)
            && known.version != version
        {
            let served = known.api_version();
            let message = format!("{} is read as {served}; version {version} is not one the operator knows", key.kind);
            return Err(err(doc, Some(format!("{prefix}apiVersion")), message));
        }
        if let Some(Err(e)) = api::check_known(&key.group, &key.kind, &object) {
            return Err(err(doc, Some(format!("{prefix}{}", e.path)), format!("{key}: {}", e.message)));
        }
        // Two documents for one object would make the result depend on document order.
        if !seen.insert(key.clone()) {
            return Err(err(doc, None, format!("{key} appears more than once")));
        }
    }
    Ok(Fixture { description: scenario.description, observed })
}

/// Writes a snapshot as a fixture: the scenario document, then every object in key order.
/// Outcomes are left out: a fixture starts a pass from scratch.
pub fn render(description: &str, observed: &Observed) -> Result<String, String> {
    let scenario = serde_json::json!({
        "apiVersion": SCENARIO_API_VERSION,
        "kind": SCENARIO_KIND,
        "description": description,
        "now": observed.now.to_string(),
        "seed": observed.seed,
        "operator": observed.operator,
        "cloud": observed.cloud,
        "memory": observed.memory,
    });
    let mut text = crate::render::yaml(&scenario).map_err(|e| e.to_string())?;
    for (_, object) in observed.objects.iter() {
        text.push_str("---\n");
        text.push_str(&crate::render::yaml(object).map_err(|e| e.to_string())?);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCENARIO: &str = "apiVersion: fixtures/v1\nkind: Scenario\nnow: 2026-01-01T00:00:00Z\nseed: s\n";

    #[test]
    fn a_known_kind_at_an_unknown_version_names_the_document() {
        let text = format!(
            "{SCENARIO}---\napiVersion: config.openshift.io/v7\nkind: Infrastructure\nmetadata: {{name: cluster}}\n"
        );
        let e = parse("f.yaml", &text).unwrap_err();
        assert_eq!(e.document, Some((2, 6)));
        assert_eq!(e.field.as_deref(), Some("apiVersion"));
        assert_eq!(
            e.message,
            "Infrastructure is read as config.openshift.io/v1; version v7 is not one the operator knows"
        );
    }

    #[test]
    fn parses_objects_lists_and_the_scenario() {
        let text = format!(
            "{SCENARIO}---\napiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {{name: a, namespace: ns}}\n---\n# comment only\n---\napiVersion: config.openshift.io/v1\nkind: Infrastructure\nmetadata: {{name: cluster}}\n"
        );
        let fixture = parse("f.yaml", &text).unwrap();
        assert_eq!(fixture.observed.objects.len(), 2);
        assert_eq!(fixture.observed.seed, "s");
    }

    #[test]
    fn bad_field_names_file_document_and_field() {
        let text = format!(
            "{SCENARIO}---\napiVersion: config.openshift.io/v1\nkind: Infrastructure\nmetadata: {{name: cluster}}\nstatus:\n  platformStatus:\n    type: [AWS]\n"
        );
        let e = parse("bad.yaml", &text).unwrap_err();
        assert_eq!(e.document, Some((2, 6)));
        assert_eq!(e.field.as_deref(), Some("status.platformStatus.type"));
        assert!(e.to_string().starts_with("bad.yaml: document 2 (line 6): field status.platformStatus.type: "));
    }

    #[test]
    fn missing_scenario_name_and_unknown_scenario_field_are_errors() {
        let e = parse("f.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n").unwrap_err();
        assert!(e.message.contains("no Scenario document"));
        let e = parse("f.yaml", &format!("{SCENARIO}sead: typo\n")).unwrap_err();
        assert!(e.message.contains("unknown field `sead`"), "{e}");
        let e =
            parse("f.yaml", &format!("{SCENARIO}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{}}\n")).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("metadata.name"));
        let e = parse("f.yaml", "apiVersion: fixtures/v1\nkind: Scenario\nnow: yesterday\nseed: s\n").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("now"));
    }

    #[test]
    fn yaml_syntax_errors_and_duplicates_are_reported() {
        let e = parse("f.yaml", &format!("{SCENARIO}---\na: [\n")).unwrap_err();
        assert_eq!(e.document, Some((2, 6)));
        let cm = "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: n}\n";
        let e = parse("f.yaml", &format!("{SCENARIO}{cm}{cm}")).unwrap_err();
        assert!(e.message.contains("more than once"), "{e}");
    }
}
