//! The Config's spec as the operator completes it: validation, generated values (httpSecret, platform
//! storage, the observed TLS profile) and the one guarded merge patch that persists them.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

use super::config_key;
use super::status::ApplyError;
use crate::action::{FieldChange, KubeAction, Payload};
use crate::api::Config;
use crate::diff::differences_under;
use crate::inputs::Inputs;
use crate::names::DEFAULT_ROUTE;
use crate::platform::platform_storage;
use crate::seed;
use crate::storage::{self, SelectError};
use crate::validation::kubernetes::{self, PodFields};
use crate::validation::{self, Errors, FieldError, proxy, storage as names};

/// Operator-side validation (spec 10 §3.4 step 2), and beyond the reference's two checks every
/// value the operator passes on: the pod fields the API server validates, the proxy URLs the
/// registry's client parses and the storage names a cloud would refuse (issue 25).
pub fn validate(config: &Config) -> Result<(), String> {
    if config.spec.replicas < 0 {
        return Err("replicas must be greater than or equal to 0".to_owned());
    }
    let mut names = BTreeSet::from([DEFAULT_ROUTE.to_owned()]);
    for route in &config.spec.routes {
        if !names.insert(route.name.clone()) {
            return Err("duplication of names has been detected in the additional routes".to_owned());
        }
    }
    let errors = field_errors(config);
    if errors.is_empty() { Ok(()) } else { Err(validation::message(&errors)) }
}

/// Every invalid value of the Config the operator would pass on, naming its field.
pub fn field_errors(config: &Config) -> Vec<FieldError> {
    let spec = &config.spec;
    let mut errors = Errors::default();
    let fields = PodFields {
        node_selector: spec.node_selector.as_ref(),
        tolerations: spec.tolerations.as_deref(),
        resources: spec.resources.as_ref(),
        affinity: spec.affinity.as_ref(),
        topology_spread_constraints: spec.topology_spread_constraints.as_deref(),
    };
    kubernetes::pod_fields(&fields, &mut errors);
    errors.check("spec.proxy.http", proxy::proxy_url(&spec.proxy.http));
    errors.check("spec.proxy.https", proxy::proxy_url(&spec.proxy.https));
    let named = |name: &str| !name.is_empty();
    let storage = &spec.storage;
    if let Some(s3) = storage.s3.as_ref().filter(|s| named(&s.bucket)) {
        errors.check("spec.storage.s3.bucket", names::s3_bucket(&s3.bucket));
    }
    if let Some(gcs) = storage.gcs.as_ref().filter(|g| named(&g.bucket)) {
        errors.check("spec.storage.gcs.bucket", names::gcs_bucket(&gcs.bucket));
    }
    if let Some(azure) = &storage.azure {
        if named(&azure.account_name) {
            errors.check("spec.storage.azure.accountName", names::azure_account(&azure.account_name));
        }
        if named(&azure.container) {
            errors.check("spec.storage.azure.container", names::azure_container(&azure.container));
        }
    }
    if let Some(swift) = storage.swift.as_ref().filter(|s| named(&s.container)) {
        errors.check("spec.storage.swift.container", names::swift_container(&swift.container));
    }
    // COS names buckets by S3's rules.
    if let Some(cos) = storage.ibmcos.as_ref().filter(|c| named(&c.bucket)) {
        errors.check("spec.storage.ibmcos.bucket", names::s3_bucket(&cos.bucket));
    }
    errors.into_vec()
}

/// A JSON merge patch turning `old` into `new` (keys that disappear become `null`).
fn merge_patch(old: &Value, new: &Value) -> Option<Value> {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let mut patch = Map::new();
            for (key, value) in b {
                match a.get(key) {
                    Some(previous) => {
                        if let Some(inner) = merge_patch(previous, value) {
                            patch.insert(key.clone(), inner);
                        }
                    }
                    None => {
                        patch.insert(key.clone(), value.clone());
                    }
                }
            }
            for key in a.keys().filter(|k| !b.contains_key(*k)) {
                patch.insert(key.clone(), Value::Null);
            }
            (!patch.is_empty()).then_some(Value::Object(patch))
        }
        _ => (old != new).then(|| new.clone()),
    }
}

/// Fills in the spec for a Managed pass: httpSecret, platform storage when none is set.
pub(super) fn complete_spec(observed: &Inputs<'_>, config: &Config) -> Result<Config, ApplyError> {
    let mut config = config.clone();
    if config.spec.http_secret.is_empty() {
        config.spec.http_secret = seed::http_secret(observed.seed);
    }
    // The config observer: the APIServer's TLS profile, as the registry's serving settings. A
    // profile that does not decode leaves the last observed value in place.
    if let Ok(api_server) = &observed.api_server {
        let profile = api_server.as_ref().and_then(|a| a.spec.tls_security_profile.as_ref());
        config.spec.observed_config = Some(crate::tls::observed_config(profile));
    }
    if storage::select(&config.spec.storage) == Err(SelectError::NotConfigured) {
        let platform_type = observed.platform_status().map(|p| p.type_.clone()).unwrap_or_default();
        let defaults = platform_storage(&platform_type, observed.cloud.swift.probe.as_ref()).map_err(|e| {
            ApplyError::transient(format!(
                "unable to sync storage configuration: unable to get storage configuration from cluster install config: {e}"
            ))
        })?;
        config.spec.storage = defaults.storage;
    }
    match storage::select(&config.spec.storage) {
        Ok(_) => Ok(config),
        Err(SelectError::NotConfigured) => {
            Err(ApplyError::permanent("StorageNotConfigured", SelectError::NotConfigured.to_string()))
        }
        Err(e) => Err(ApplyError::transient(format!("unable to sync storage configuration: {e}"))),
    }
}

/// The guarded merge patch of the Config's finalizers and spec, when anything changed.
pub(super) fn config_patch(config: &Config, finalizers: Option<Vec<String>>, spec: &Config) -> Option<KubeAction> {
    if finalizers.is_none() && config.spec == spec.spec {
        return None;
    }
    let old = serde_json::to_value(&config.spec).ok()?;
    let new = serde_json::to_value(&spec.spec).ok()?;
    let mut patch = Map::new();
    let mut changes = differences_under("Config", &["spec"], &new, &old);
    if let Some(spec_patch) = merge_patch(&old, &new) {
        patch.insert("spec".into(), spec_patch);
    }
    if let Some(finalizers) = finalizers {
        let before = config.metadata.finalizers.clone().map(|f| json!(f));
        changes.push(FieldChange {
            path: "metadata.finalizers".into(),
            before,
            after: Some(json!(finalizers)),
            secret: false,
        });
        patch.insert("metadata".into(), json!({ "finalizers": finalizers }));
    }
    if patch.is_empty() {
        return None;
    }
    for change in &mut changes {
        change.secret = change.path.starts_with("httpSecret");
        change.path =
            if change.path.starts_with("metadata") { change.path.clone() } else { format!("spec.{}", change.path) };
    }
    Some(KubeAction::Patch {
        key: config_key(),
        patch: Payload::new(Value::Object(patch)).with_secret("/spec/httpSecret"),
        resource_version: config.metadata.resource_version.clone().unwrap_or_default(),
        changes,
    })
}
