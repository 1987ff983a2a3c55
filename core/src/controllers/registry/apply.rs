//! Applying the registry's objects: build them from the completed Config and the storage wiring,
//! apply what differs, predict the Deployment's generation, and delete routes no longer asked for.

use std::collections::BTreeSet;

use serde_json::Value;

use super::status::ApplyError;
use crate::action::{Action, KubeAction, Preconditions};
use crate::api::Config;
use crate::api::openshift::Route;
use crate::inputs::Inputs;
use crate::names::{NAMESPACE, OWNERSHIP_ANNOTATION};
use crate::objects::{self, Context, Desired, apply_action_to, routes};
use crate::observed::ObjectKey;
use crate::plan::Plan;
use crate::storage;

/// Why the registry's objects could not all be applied.
pub(super) enum ObjectsError {
    /// The storage backend's pod wiring could not be built.
    Wiring(ApplyError),
    /// An object could not be built.
    Apply(ApplyError),
}

/// What applying the registry's objects leaves to report.
pub(super) struct Applied {
    /// The generation the Deployment will have once the plan ran, when this pass writes it.
    pub deployment_generation: Option<i64>,
    /// The objects the observation lacks, as `Kind name`.
    pub missing: Vec<String>,
}

/// Applies the registry's objects, then deletes operator routes no longer asked for.
pub(super) fn apply_objects(
    observed: &Inputs<'_>,
    config: &Config,
    also_planned: &[Desired],
    plan: &mut Plan,
) -> Result<Applied, ObjectsError> {
    let wiring = storage::wiring(config, observed)
        .map_err(|e| ObjectsError::Wiring(ApplyError::transient(format!("unable to get generators: {e}"))))?;
    let (desired, failure) = objects::registry_objects(&Context { config, observed, wiring: &wiring, also_planned });
    let mut deployment_generation = None;
    let mut missing = Vec::new();
    let certificate = ObjectKey::of::<k8s_openapi::api::core::v1::Secret>(NAMESPACE, objects::pod::TLS_SECRET);
    for object in &desired {
        // The pod cannot start before the service-ca operator mints its serving certificate (a
        // required projected source), and a Deployment created earlier rolls again as soon as
        // the certificate joins its dependency digest: the first creation waits for it.
        let current = observed.objects.raw(&object.key);
        if current.is_none() {
            missing.push(format!("{} {}", object.key.kind, object.key.name));
        }
        let first = object.key.kind == "Deployment" && current.is_none();
        if first && observed.objects.raw(&certificate).is_none() {
            continue;
        }
        if let Some(action) = apply_action_to(object, current) {
            if object.key.kind == "Deployment" {
                deployment_generation = next_generation(&action, current);
            }
            let reason = if matches!(&action, KubeAction::Apply { new: true, .. }) {
                "the registry needs it and it does not exist"
            } else {
                "it differs from what the operator applies"
            };
            plan.push(Action::Kube(action), reason);
        }
    }
    if let Some(e) = failure {
        return Err(ObjectsError::Apply(ApplyError::transient(format!("unable to apply objects: {e}"))));
    }
    let wanted: BTreeSet<String> = routes::wanted(config).into_iter().map(|r| r.name).collect();
    for (key, route) in owned_routes(observed) {
        if !wanted.contains(&key.name) && route.metadata.deletion_timestamp.is_none() {
            plan.push(delete(&key, &route), "the operator created this route and the Config no longer asks for it");
        }
    }
    Ok(Applied { deployment_generation, missing })
}

/// The generation an object will have after `action`: 1 when created, one more when its spec
/// changes, unchanged for metadata-only writes (the API server's rule).
fn next_generation(action: &KubeAction, current: Option<&Value>) -> Option<i64> {
    let generation = current.and_then(|c| c.pointer("/metadata/generation")).and_then(Value::as_i64).unwrap_or(0);
    match action {
        KubeAction::Apply { new: true, .. } => Some(1),
        KubeAction::Apply { changes, .. } if changes.iter().any(|c| c.path.starts_with("spec")) => Some(generation + 1),
        KubeAction::Apply { .. }
        | KubeAction::Create { .. }
        | KubeAction::ApplyStatus { .. }
        | KubeAction::Patch { .. }
        | KubeAction::AddFinalizer { .. }
        | KubeAction::RemoveFinalizer { .. }
        | KubeAction::Delete { .. } => None,
    }
}

pub(super) fn owned_routes(observed: &Inputs<'_>) -> Vec<(ObjectKey, Route)> {
    let routes = observed.objects.list::<Route>(NAMESPACE).unwrap_or_default();
    routes
        .into_iter()
        .filter(|r| r.metadata.annotations.as_ref().is_some_and(|a| a.contains_key(OWNERSHIP_ANNOTATION)))
        .map(|r| (ObjectKey::of::<Route>(NAMESPACE, r.metadata.name.as_deref().unwrap_or_default()), r))
        .collect()
}

pub(super) fn delete<K: serde::Serialize>(key: &ObjectKey, object: &K) -> Action {
    let metadata = serde_json::to_value(object).ok().and_then(|v| v.get("metadata").cloned()).unwrap_or_default();
    let text = |field: &str| metadata.get(field).and_then(Value::as_str).map(str::to_owned);
    Action::Kube(KubeAction::Delete {
        key: key.clone(),
        preconditions: Preconditions { uid: text("uid"), resource_version: text("resourceVersion") },
    })
}
