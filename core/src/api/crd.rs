//! CustomResourceDefinitions generated from the Rust types, finished to match the reference's
//! shipped CRDs (spec 50 §1): required lists, integer bounds, the OSS `anyOf` rule, annotations.
//!
//! kube's derive marks every `Option` as `nullable`; the reference schema is nullable only for
//! the raw-extension fields, so nullability is stripped and then set on exactly those paths.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;
use serde_json::{Value, json};

use super::{Config, ImagePruner};

/// Why a generated CRD could not be finished (a type/schema mismatch: a bug, caught by tests).
#[derive(Debug, thiserror::Error)]
pub enum CrdError {
    /// The schema has no node at a path the finishing table names.
    #[error("CRD {crd}: no schema node at {path}")]
    MissingPath {
        /// CRD name.
        crd: &'static str,
        /// Dotted path in the schema.
        path: String,
    },
    /// Serialising the CRD failed.
    #[error("CRD {crd}: {source}")]
    Json {
        /// CRD name.
        crd: &'static str,
        /// The serde error.
        source: serde_json::Error,
    },
}

/// Both CRDs, in manifest order: `(file name, CRD as JSON)`.
pub fn crds() -> Result<Vec<(&'static str, Value)>, CrdError> {
    Ok(vec![
        ("00_configs.crd.yaml", config_crd()?),
        ("01_imagepruners.crd.yaml", image_pruner_crd()?),
    ])
}

/// `configs.imageregistry.operator.openshift.io`.
pub fn config_crd() -> Result<Value, CrdError> {
    const NAME: &str = "configs.imageregistry.operator.openshift.io";
    let mut crd = to_value(NAME, Config::crd())?;
    let required: &[(&str, &[&str])] = &[
        ("", &["metadata", "spec"]),
        ("spec", &["replicas"]),
        ("status", &["storage", "storageManaged"]),
        ("spec.storage.s3.cloudFront", &["baseURL", "keypairID", "privateKey"]),
        ("spec.storage.s3.cloudFront.privateKey", &["key"]),
        ("status.storage.s3.cloudFront", &["baseURL", "keypairID", "privateKey"]),
        ("status.storage.s3.cloudFront.privateKey", &["key"]),
        ("spec.storage.oss.encryption.kms", &["keyID"]),
        ("status.storage.oss.encryption.kms", &["keyID"]),
        ("spec.routes[]", &["name"]),
        ("status.conditions[]", &["type", "status", "lastTransitionTime"]),
        ("status.generations[]", &["group", "resource", "namespace", "name"]),
    ];
    finish(NAME, &mut crd, required, "https://github.com/openshift/api/pull/519")?;
    for path in ["spec.unsupportedConfigOverrides", "spec.observedConfig"] {
        set(node(NAME, &mut crd, path)?, "nullable", Value::Bool(true));
    }
    // Only under spec: valid iff (no kms and method is not KMS) or (method is KMS and kms is set).
    let encryption = node(NAME, &mut crd, "spec.storage.oss.encryption")?;
    set(encryption, "anyOf", json!([
        { "not": { "required": ["kms"] }, "properties": { "method": { "not": { "enum": ["KMS"] } } } },
        { "properties": { "method": { "enum": ["KMS"] } }, "required": ["kms"] }
    ]));
    Ok(crd)
}

/// `imagepruners.imageregistry.operator.openshift.io`.
pub fn image_pruner_crd() -> Result<Value, CrdError> {
    const NAME: &str = "imagepruners.imageregistry.operator.openshift.io";
    let mut crd = to_value(NAME, ImagePruner::crd())?;
    let required: &[(&str, &[&str])] = &[
        ("", &["metadata", "spec"]),
        ("status.conditions[]", &["type", "status", "lastTransitionTime"]),
    ];
    finish(NAME, &mut crd, required, "https://github.com/openshift/api/pull/555")?;
    Ok(crd)
}

fn to_value(crd: &'static str, value: CustomResourceDefinition) -> Result<Value, CrdError> {
    serde_json::to_value(value).map_err(|source| CrdError::Json { crd, source })
}

fn set(target: &mut Value, key: &str, value: Value) {
    if let Value::Object(map) = target {
        map.insert(key.to_owned(), value);
    }
}

fn finish(
    name: &'static str,
    crd: &mut Value,
    required: &[(&str, &[&str])],
    approval: &str,
) -> Result<(), CrdError> {
    set(
        node_mut(crd, &["metadata"]).ok_or_else(|| missing(name, "metadata"))?,
        "annotations",
        json!({
            "api-approved.openshift.io": approval,
            "api.openshift.io/merged-by-featuregates": "true",
            "include.release.openshift.io/ibm-cloud-managed": "true",
            "include.release.openshift.io/self-managed-high-availability": "true",
        }),
    );
    let schema = schema_mut(name, crd)?;
    normalise(schema);
    if let Some(Value::Object(properties)) = schema.get_mut("properties") {
        properties.insert("apiVersion".into(), json!({
            "description": "APIVersion defines the versioned schema of this representation of an object.",
            "type": "string"
        }));
        properties.insert("kind".into(), json!({
            "description": "Kind is a string value representing the REST resource this object represents.",
            "type": "string"
        }));
        properties.insert("metadata".into(), json!({ "type": "object" }));
    }
    for (path, keys) in required {
        let target = node(name, crd, path)?;
        set(target, "required", json!(keys));
    }
    Ok(())
}

fn missing(crd: &'static str, path: &str) -> CrdError {
    CrdError::MissingPath { crd, path: path.to_owned() }
}

fn node_mut<'a>(value: &'a mut Value, path: &[&str]) -> Option<&'a mut Value> {
    path.iter().try_fold(value, |v, key| v.get_mut(*key))
}

fn schema_mut<'a>(crd: &'static str, value: &'a mut Value) -> Result<&'a mut Value, CrdError> {
    value
        .get_mut("spec")
        .and_then(|s| s.get_mut("versions"))
        .and_then(|v| v.get_mut(0))
        .and_then(|v| v.get_mut("schema"))
        .and_then(|s| s.get_mut("openAPIV3Schema"))
        .ok_or_else(|| missing(crd, "spec.versions[0].schema.openAPIV3Schema"))
}

/// The schema node at a dotted path of property names; `name[]` steps into array items.
fn node<'a>(crd: &'static str, value: &'a mut Value, path: &str) -> Result<&'a mut Value, CrdError> {
    let mut current = schema_mut(crd, value)?;
    for segment in path.split('.').filter(|s| !s.is_empty()) {
        let (field, items) = match segment.strip_suffix("[]") {
            Some(field) => (field, true),
            None => (segment, false),
        };
        current = current
            .get_mut("properties")
            .and_then(|p| p.get_mut(field))
            .ok_or_else(|| missing(crd, path))?;
        if items {
            current = current.get_mut("items").ok_or_else(|| missing(crd, path))?;
        }
    }
    Ok(current)
}

/// Strips derive-added nullability and writes integral bounds as integers, recursively.
fn normalise(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("nullable");
            for key in ["minimum", "maximum"] {
                if let Some(Value::Number(n)) = map.get(key)
                    && let Some(f) = n.as_f64()
                    && f.fract() == 0.0
                    && f.abs() < 9.0e15
                {
                    // Integral and far inside i64: the cast is exact.
                    #[allow(clippy::cast_possible_truncation)]
                    let whole = f as i64;
                    map.insert(key.to_owned(), Value::from(whole));
                }
            }
            map.values_mut().for_each(normalise);
        }
        Value::Array(items) => items.iter_mut().for_each(normalise),
        _ => {}
    }
}
