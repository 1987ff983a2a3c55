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
    Ok(vec![("00_configs.crd.yaml", config_crd()?), ("01_imagepruners.crd.yaml", image_pruner_crd()?)])
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
    // The API's defaults (spec 50 §5), on both sides where the field exists; nothing else.
    for side in ["spec", "status"] {
        for (path, default) in [
            ("storage.azure.networkAccess", json!({"type": "External"})),
            ("storage.azure.networkAccess.type", json!("External")),
            ("storage.oss.endpointAccessibility", json!("Internal")),
            ("storage.oss.encryption.method", json!("AES256")),
            ("storage.s3.cloudFront.privateKey.name", json!("")),
        ] {
            set(node(NAME, &mut crd, &format!("{side}.{path}"))?, "default", default);
        }
    }
    for path in ["spec.logLevel", "spec.operatorLogLevel"] {
        set(node(NAME, &mut crd, path)?, "default", json!("Normal"));
    }
    for path in ["spec.unsupportedConfigOverrides", "spec.observedConfig"] {
        set(node(NAME, &mut crd, path)?, "nullable", Value::Bool(true));
    }
    // Only under spec: valid iff (no kms and method is not KMS) or (method is KMS and kms is set).
    let encryption = node(NAME, &mut crd, "spec.storage.oss.encryption")?;
    set(
        encryption,
        "anyOf",
        json!([
            { "not": { "required": ["kms"] }, "properties": { "method": { "not": { "enum": ["KMS"] } } } },
            { "properties": { "method": { "enum": ["KMS"] } }, "required": ["kms"] }
        ]),
    );
    Ok(crd)
}

/// `imagepruners.imageregistry.operator.openshift.io`.
pub fn image_pruner_crd() -> Result<Value, CrdError> {
    const NAME: &str = "imagepruners.imageregistry.operator.openshift.io";
    let mut crd = to_value(NAME, ImagePruner::crd())?;
    let required: &[(&str, &[&str])] =
        &[("", &["metadata", "spec"]), ("status.conditions[]", &["type", "status", "lastTransitionTime"])];
    finish(NAME, &mut crd, required, "https://github.com/openshift/api/pull/555")?;
    set(node(NAME, &mut crd, "spec.logLevel")?, "default", json!("Normal"));
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

fn finish(name: &'static str, crd: &mut Value, required: &[(&str, &[&str])], approval: &str) -> Result<(), CrdError> {
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
        properties.insert(
            "apiVersion".into(),
            json!({
                "description": "APIVersion defines the versioned schema of this representation of an object.",
                "type": "string"
            }),
        );
        properties.insert(
            "kind".into(),
            json!({
                "description": "Kind is a string value representing the REST resource this object represents.",
                "type": "string"
            }),
        );
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
        current = current.get_mut("properties").and_then(|p| p.get_mut(field)).ok_or_else(|| missing(crd, path))?;
        if items {
            current = current.get_mut("items").ok_or_else(|| missing(crd, path))?;
        }
    }
    Ok(current)
}

/// Strips derive-added nullability and defaults (serde's `default` is the decoder's, not the
/// API server's: the API's own defaults are set afterwards from spec 50 §5) and writes
/// integral bounds as integers, recursively.
fn normalise(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.remove("nullable");
            map.remove("default");
            // Under `properties` the keys are field names, not schema keywords.
            if let Some(Value::Object(properties)) = map.get_mut("properties") {
                properties.values_mut().for_each(normalise);
            }
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
            map.iter_mut().filter(|(k, _)| k.as_str() != "properties").for_each(|(_, v)| normalise(v));
        }
        Value::Array(items) => items.iter_mut().for_each(normalise),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Value {
        config_crd().unwrap()
    }

    fn at<'a>(crd: &'a mut Value, path: &str) -> &'a Value {
        node("test", crd, path).unwrap()
    }

    #[test]
    fn config_carries_the_reference_validations() {
        let mut crd = config();
        assert_eq!(at(&mut crd, "spec.managementState")["pattern"], "^(Managed|Unmanaged|Force|Removed)$");
        assert_eq!(at(&mut crd, "spec.logLevel")["enum"], json!(["", "Normal", "Debug", "Trace", "TraceAll"]));
        assert_eq!(at(&mut crd, "spec.logLevel")["default"], "Normal");
        assert_eq!(at(&mut crd, "spec.operatorLogLevel")["default"], "Normal");
        assert_eq!(at(&mut crd, "spec.rolloutStrategy")["pattern"], "^(RollingUpdate|Recreate)$");
        let chunk = at(&mut crd, "spec.storage.s3.chunkSizeMiB").clone();
        assert_eq!((chunk["minimum"].clone(), chunk["maximum"].clone()), (json!(5), json!(5120)));
        assert_eq!(at(&mut crd, "spec.storage.managementState")["pattern"], "^(Managed|Unmanaged)$");
        let container = at(&mut crd, "spec.storage.azure.container").clone();
        assert_eq!((container["minLength"].clone(), container["maxLength"].clone()), (json!(3), json!(63)));
        let network = at(&mut crd, "spec.storage.azure.networkAccess").clone();
        assert_eq!(network["default"], json!({"type": "External"}));
        assert_eq!(
            network["x-kubernetes-validations"][0]["message"],
            "internal is forbidden when type is not Internal"
        );
        assert_eq!(at(&mut crd, "spec.storage.azure.networkAccess.type")["enum"], json!(["Internal", "External"]));
        assert_eq!(
            at(&mut crd, "status.latestAvailableRevision")["x-kubernetes-validations"],
            json!([{"rule": "self >= oldSelf", "message": "must only increase"}])
        );
        assert_eq!(at(&mut crd, "spec.storage.s3.cloudFront.privateKey.name")["default"], "");
        assert_eq!(at(&mut crd, "spec.storage.s3.cloudFront.duration")["format"], "duration");
        assert_eq!(
            at(&mut crd, "spec.requests.read.maxRunning"),
            &json!({"description": "Maximum in-flight requests.", "type": "integer"})
        );
    }

    #[test]
    fn config_list_and_map_types_and_required_fields() {
        let mut crd = config();
        assert_eq!(at(&mut crd, "")["required"], json!(["metadata", "spec"]));
        assert_eq!(at(&mut crd, "spec")["required"], json!(["replicas"]));
        assert_eq!(at(&mut crd, "status")["required"], json!(["storage", "storageManaged"]));
        let conditions = at(&mut crd, "status.conditions").clone();
        assert_eq!(conditions["x-kubernetes-list-type"], "map");
        assert_eq!(conditions["x-kubernetes-list-map-keys"], json!(["type"]));
        assert_eq!(conditions["items"]["required"], json!(["type", "status", "lastTransitionTime"]));
        assert_eq!(
            at(&mut crd, "status.generations")["x-kubernetes-list-map-keys"],
            json!(["group", "resource", "namespace", "name"])
        );
        assert_eq!(at(&mut crd, "spec.routes")["x-kubernetes-list-type"], "atomic");
        assert_eq!(at(&mut crd, "spec.routes[]")["required"], json!(["name"]));
        assert_eq!(at(&mut crd, "spec.requests")["x-kubernetes-map-type"], "atomic");
        assert_eq!(at(&mut crd, "spec.resources")["x-kubernetes-map-type"], "atomic");
        assert_eq!(at(&mut crd, "spec.tolerations")["x-kubernetes-list-type"], "atomic");
        assert_eq!(
            at(&mut crd, "spec.storage.s3.cloudFront")["required"],
            json!(["baseURL", "keypairID", "privateKey"])
        );
    }

    #[test]
    fn only_the_raw_extensions_are_nullable() {
        let mut crd = config();
        for path in ["spec.unsupportedConfigOverrides", "spec.observedConfig"] {
            let node = at(&mut crd, path).clone();
            assert_eq!(node["nullable"], true, "{path}");
            assert_eq!(node["x-kubernetes-preserve-unknown-fields"], true, "{path}");
        }
        let text = serde_json::to_string(&crd).unwrap();
        assert_eq!(text.matches("\"nullable\"").count(), 2);
    }

    #[test]
    fn oss_encryption_rule_exists_only_under_spec() {
        let mut crd = config();
        assert_eq!(at(&mut crd, "spec.storage.oss.encryption")["anyOf"].as_array().unwrap().len(), 2);
        assert!(at(&mut crd, "status.storage.oss.encryption").get("anyOf").is_none());
    }

    #[test]
    fn crds_are_cluster_scoped_with_a_status_subresource() {
        for (_, crd) in crds().unwrap() {
            assert_eq!(crd["spec"]["scope"], "Cluster");
            let version = &crd["spec"]["versions"][0];
            assert_eq!(
                (version["name"].clone(), version["served"].clone(), version["storage"].clone()),
                (json!("v1"), json!(true), json!(true))
            );
            assert_eq!(version["subresources"], json!({"status": {}}));
            assert_eq!(crd["metadata"]["annotations"]["api.openshift.io/merged-by-featuregates"], "true");
        }
        let mut pruner = image_pruner_crd().unwrap();
        assert_eq!(at(&mut pruner, "spec.logLevel")["default"], "Normal");
        assert_eq!(at(&mut pruner, "spec.keepTagRevisions")["type"], "integer");
        assert!(at(&mut pruner, "spec.keepTagRevisions").get("format").is_none());
        assert!(at(&mut pruner, "status.conditions").get("x-kubernetes-list-type").is_none());
    }
}
