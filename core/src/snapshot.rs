//! A cluster as a fixture users can share: every secret value replaced by a placeholder, and
//! the plan kept. Placeholders are digests of the values they replace, so equal secrets stay
//! equal; what the operator derives from secrets (the registry's credentials file, the
//! dependency digest, checksum annotations) is then derived again from the placeholders
//! wherever the cluster was in sync, so the snapshot plans what the cluster plans.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use serde_json::Value;

use crate::action::{Action, KubeAction};
use crate::checksum::sha256_hex;
use crate::names::CHECKSUM_ANNOTATION;
use crate::observed::Observed;
use crate::reconcile;

/// How many rounds of re-deriving it takes at most (each settles one layer: the private
/// configuration, then what digests it).
const ROUNDS: usize = 4;

/// `observed` with no secret value left, and the steps whose plan differs from the cluster's
/// (empty when the plans agree), as `describe` texts.
pub fn redact(observed: &Observed) -> (Observed, Vec<String>) {
    let real = signature(&reconcile(observed));
    let mut redacted = observed.clone();
    hide_values(&mut redacted);
    for _ in 0..ROUNDS {
        let mut changed = false;
        for step in &reconcile(&redacted).steps {
            // Fields this snapshot would change that the cluster would not: if they are what
            // the operator derives from secrets, derive them again from the placeholders.
            let Action::Kube(KubeAction::Apply { key, object, changes, .. }) = &step.action else { continue };
            let planned = real.iter().find(|(id, _, _)| *id == step.id).map(|(_, _, paths)| paths.as_slice());
            let extra: Vec<&str> = changes
                .iter()
                .map(|c| c.path.as_str())
                .filter(|p| !planned.unwrap_or_default().iter().any(|q| q == p))
                .collect();
            if let Some(mut current) = redacted.objects.raw(key).cloned()
                && rederive(&mut current, object.expose(), &extra)
            {
                redacted.objects.insert_at(key.clone(), current);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let plan = signature(&reconcile(&redacted));
    let mut differ: Vec<String> = plan.iter().filter(|s| !real.contains(s)).map(|s| s.1.clone()).collect();
    differ.extend(real.iter().filter(|s| !plan.contains(s)).map(|s| s.1.clone()));
    (redacted, differ)
}

/// The plan as the comparison sees it: each step's id, what it does, which fields it changes.
fn signature(plan: &crate::plan::Plan) -> Vec<(String, String, Vec<String>)> {
    plan.steps
        .iter()
        .map(|step| {
            let paths = match &step.action {
                Action::Kube(
                    KubeAction::Apply { changes, .. }
                    | KubeAction::ApplyStatus { changes, .. }
                    | KubeAction::Patch { changes, .. },
                ) => changes.iter().map(|c| c.path.clone()).collect(),
                Action::Kube(_) | Action::Cloud(_) => Vec::new(),
            };
            (step.id.clone(), step.action.describe(), paths)
        })
        .collect()
}

/// Sets in `current`, as `desired` has them, the fields among `extra` (changed paths) that the
/// operator derives from secret values: the checksum annotations and a Secret's data.
/// Whether anything changed.
fn rederive(current: &mut Value, desired: &Value, extra: &[&str]) -> bool {
    let before = current.clone();
    for path in [&["metadata", "annotations", CHECKSUM_ANNOTATION][..], &TEMPLATE_DIGEST[..]] {
        let dotted = path.join(".");
        if extra.contains(&dotted.as_str())
            && let Some(value) = path.iter().try_fold(desired, |v, k| v.get(*k))
        {
            set(current, path, value.clone());
        }
    }
    if desired.get("kind").and_then(Value::as_str) == Some("Secret")
        && extra.iter().any(|p| p.starts_with("data"))
        && let Some(data) = desired.get("data")
    {
        set(current, &["data"], data.clone());
    }
    *current != before
}

const TEMPLATE_DIGEST: [&str; 5] =
    ["spec", "template", "metadata", "annotations", crate::names::DEPENDENCIES_CHECKSUM_ANNOTATION];

/// Sets `value` at `path`, making the objects on the way.
fn set(target: &mut Value, path: &[&str], value: Value) {
    let Some((last, parents)) = path.split_last() else { return };
    let mut at = target;
    for key in parents {
        let Value::Object(map) = at else { return };
        at = map.entry((*key).to_owned()).or_insert_with(|| Value::Object(serde_json::Map::new()));
    }
    if let Value::Object(map) = at {
        map.insert((*last).to_owned(), value);
    }
}

/// A placeholder for a secret value: a digest prefix, so equal values stay equal.
pub fn placeholder(value: &[u8]) -> String {
    let digest = sha256_hex(value);
    format!("redacted-{}", digest.get(..16).unwrap_or(&digest))
}

/// Replaces every Secret's data, the Config's `httpSecret`, route keys and storage account keys
/// by placeholders, and any other string in any object that equals one of those values (the
/// registry's Deployment carries the `httpSecret` in its env) by the same placeholder.
fn hide_values(observed: &mut Observed) {
    let mut hidden: BTreeMap<String, String> = BTreeMap::new();
    let mut hide = |text: &str| {
        let replacement = placeholder(text.as_bytes());
        // Short values ("true", "Opaque") are not secrets worth matching elsewhere.
        if text.len() >= MATCHED_LENGTH {
            hidden.insert(text.to_owned(), replacement.clone());
        }
        replacement
    };
    let keys: Vec<_> = observed.objects.iter().map(|(k, _)| k.clone()).collect();
    for key in &keys {
        let Some(mut object) = observed.objects.raw(key).cloned() else { continue };
        match (key.group.as_str(), key.kind.as_str()) {
            ("", "Secret") => {
                if let Some(Value::Object(data)) = object.get_mut("data") {
                    for (name, value) in data.iter_mut() {
                        if IDENTIFIERS.contains(&name.as_str()) {
                            continue;
                        }
                        // Secret data is base64, as k8s-openapi's ByteString reads and writes it.
                        let raw = serde_json::from_value::<ByteString>(value.clone()).map(|b| b.0).unwrap_or_default();
                        let replacement = hide_text(&String::from_utf8_lossy(&raw), &mut hide);
                        *value = serde_json::to_value(ByteString(replacement.into_bytes())).unwrap_or(Value::Null);
                    }
                }
                if let Some(Value::Object(data)) = object.get_mut("stringData") {
                    for (_, value) in data.iter_mut().filter(|(name, _)| !IDENTIFIERS.contains(&name.as_str())) {
                        *value = Value::String(hide_text(value.as_str().unwrap_or_default(), &mut hide));
                    }
                }
            }
            ("imageregistry.operator.openshift.io", "Config") => replace_at(&mut object, "/spec/httpSecret", &mut hide),
            ("route.openshift.io", "Route") => replace_at(&mut object, "/spec/tls/key", &mut hide),
            _ => continue,
        }
        observed.objects.insert_at(key.clone(), object);
    }
    macro_rules! hide_cloud_secrets {
        ($($(#[$doc:meta])* $variant:ident => $module:ident;)*) => {
            $(crate::storage::facts::Secrets::hide_secrets(&mut observed.cloud.$module, &mut hide);)*
        };
    }
    crate::cloud_backends!(hide_cloud_secrets);
    for key in &keys {
        if key.kind == "Secret" && key.group.is_empty() {
            continue;
        }
        let Some(mut object) = observed.objects.raw(key).cloned() else { continue };
        if replace_everywhere(&mut object, &hidden) {
            observed.objects.insert_at(key.clone(), object);
        }
    }
}

/// A secret text's placeholder. A JSON or YAML document (a service account key, `clouds.yaml`)
/// keeps its shape and its identifiers, its secret strings replaced, so what the operator reads
/// from it still parses and names the same endpoints; anything else becomes one placeholder.
fn hide_text(text: &str, hide: &mut impl FnMut(&str) -> String) -> String {
    let structured = if text.trim_start().starts_with('{') {
        serde_json::from_str::<Value>(text).ok().filter(Value::is_object).and_then(|mut document| {
            hide_leaves(&mut document, hide);
            serde_json::to_string(&document).ok()
        })
    } else {
        serde_saphyr::from_str::<Value>(text).ok().filter(Value::is_object).and_then(|mut document| {
            hide_leaves(&mut document, hide);
            serde_saphyr::to_string(&document).ok()
        })
    };
    structured.unwrap_or_else(|| hide(text))
}

/// Hides every string in the document but those under keys known to hold identifiers (URLs,
/// regions, names, IDs), which the plan shows as they are. An unknown key is hidden.
fn hide_leaves(value: &mut Value, hide: &mut impl FnMut(&str) -> String) {
    match value {
        Value::Object(map) => {
            for (name, child) in map.iter_mut() {
                match child {
                    Value::String(_) if DOCUMENT_IDENTIFIERS.contains(&name.as_str()) => {}
                    Value::String(text) => *text = hide(text),
                    Value::Object(_) | Value::Array(_) => hide_leaves(child, hide),
                    Value::Null | Value::Bool(_) | Value::Number(_) => {}
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|child| hide_leaves(child, hide)),
        Value::String(text) => *text = hide(text),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Keys inside `clouds.yaml` and service account keys that name things rather than prove them.
const DOCUMENT_IDENTIFIERS: &[&str] = &[
    "auth_url",
    "auth_type",
    "region_name",
    "project_name",
    "project_id",
    "tenant_name",
    "tenant_id",
    "user_domain_name",
    "user_domain_id",
    "project_domain_name",
    "project_domain_id",
    "domain_name",
    "domain_id",
    "interface",
    "identity_api_version",
    "application_credential_id",
    "application_credential_name",
    "cacert",
    "type",
    "client_email",
    "client_id",
    "token_uri",
    "auth_uri",
    "auth_provider_x509_cert_url",
    "client_x509_cert_url",
    "universe_domain",
];

/// Keys of minted credentials that hold identifiers, not secrets: the operator names them in
/// cloud calls and plans (as the reference does), so they stay as they are.
pub const IDENTIFIERS: &[&str] = &[
    "azure_resourcegroup",
    "azure_region",
    "azure_subscription_id",
    "azure_client_id",
    "azure_tenant_id",
    "azure_federated_token_file",
];

/// Secret values at least this long are also looked for outside their own field.
const MATCHED_LENGTH: usize = 8;

fn replace_at(object: &mut Value, pointer: &str, hide: &mut impl FnMut(&str) -> String) {
    if let Some(value) = object.pointer_mut(pointer)
        && let Some(text) = value.as_str().filter(|t| !t.is_empty())
    {
        *value = Value::String(hide(text));
    }
}

fn replace_everywhere(value: &mut Value, hidden: &BTreeMap<String, String>) -> bool {
    match value {
        Value::String(text) => match hidden.get(text.as_str()) {
            Some(replacement) => {
                *text = replacement.clone();
                true
            }
            None => false,
        },
        Value::Object(map) => {
            let mut any = false;
            for child in map.values_mut() {
                any |= replace_everywhere(child, hidden);
            }
            any
        }
        Value::Array(items) => {
            let mut any = false;
            for child in items {
                any |= replace_everywhere(child, hidden);
            }
            any
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_keep_equality() {
        assert_eq!(placeholder(b"x"), placeholder(b"x"));
        assert_ne!(placeholder(b"x"), placeholder(b"y"));
    }
}
