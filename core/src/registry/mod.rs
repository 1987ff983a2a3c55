//! The registry's main controller: bootstrap, then per management state create/update, remove
//! or leave alone the registry's objects and storage, and report status (spec 10 §3–§6).
//!
//! Action order within a pass: the Config patch (finalizer, generated values) first, so nothing
//! is created without the finalizer; storage next; then the objects in the reference's order;
//! stale routes; the status write last. The shell stops at the first failed action.

// A new action or storage kind must be decided on wherever these enums are matched.
#![deny(clippy::wildcard_enum_match_arm)]

pub mod lifecycle;
pub mod status;

use std::collections::BTreeSet;

use k8s_openapi::api::apps::v1::Deployment;
use serde_json::{Map, Value, json};

use crate::action::{Action, FieldChange, KubeAction, Payload, Preconditions};
use crate::api::openshift::Route;
use crate::api::{ApiObject, ConditionStatus, Config, ImageRegistryStatus, ManagementState, Storage};
use crate::bootstrap;
use crate::conditions::Wanted;
use crate::diff::differences_under;
use crate::inputs::Inputs;
use crate::names::{CLUSTER, DEFAULT_ROUTE, FINALIZER, NAMESPACE, OWNERSHIP_ANNOTATION, REGISTRY_NAME};
use crate::objects::{self, Context, Desired, apply_action, routes, takeback};
use crate::observed::ObjectKey;
use crate::outcome::{ErrorClass, OutcomeResult};
use crate::plan::Plan;
use crate::platform::platform_storage;
use crate::seed;
use crate::storage::{self, SelectError, completion};
use lifecycle::{Lifecycle, decide};
use status::ApplyError;

const CONTROLLER: &str = "registry";

/// The Config's new status, before the other controllers add their conditions and it is
/// compared with the stored one.
#[derive(Clone, Debug, PartialEq)]
pub struct Draft {
    /// The Config as read at the start of the pass.
    pub config: Config,
    /// Its status as it should be.
    pub status: ImageRegistryStatus,
}

/// Plans the registry's part of a pass. Returns the status draft when the Config's status is
/// to be reported this pass (not during bootstrap or deletion).
pub fn plan(observed: &Inputs<'_>, also_planned: &[Desired], plan: &mut Plan) -> Option<Draft> {
    let config = match &observed.config {
        Err(e) => {
            plan.error(CONTROLLER, format!("unable to read the registry configuration: {e}"));
            return None;
        }
        Ok(None) => {
            bootstrap::plan(observed, plan);
            return None;
        }
        Ok(Some(config)) => config.clone(),
    };
    let has_finalizer = config.metadata.finalizers.iter().flatten().any(|f| f == FINALIZER);
    let deleting = config.metadata.deletion_timestamp.is_some();
    let state = config.spec.management_state();
    let status = match decide(has_finalizer, deleting, &state) {
        Lifecycle::Released => None,
        Lifecycle::Finalize => {
            finalize(observed, &config, plan);
            None
        }
        Lifecycle::Manage { add_finalizer } => manage(observed, &config, add_finalizer, also_planned, plan),
        Lifecycle::Remove => remove(observed, &config, plan),
        Lifecycle::Unmanaged | Lifecycle::Inert => {
            let previous = config.status.as_ref().map(|s| s.storage.clone()).unwrap_or_default();
            report(observed, &config, &state, None, Vec::new(), previous, false, plan)
        }
    };
    status.map(|status| Draft { config, status })
}

/// Writes the Config's status when it differs from the stored one (time-insensitive: a
/// condition whose status did not change kept its transition time).
pub fn write_status(draft: &Draft, plan: &mut Plan) {
    let old_status = match &draft.config.status {
        Some(old) if *old == draft.status => return,
        Some(old) => old.clone(),
        None => ImageRegistryStatus::default(),
    };
    if draft.status == old_status {
        return;
    }
    let new = serde_json::to_value(&draft.status).unwrap_or(Value::Null);
    let old = serde_json::to_value(&old_status).unwrap_or(Value::Null);
    let changes = status_changes(&old, &new);
    let take_back = takeback::emptied(&old, &new);
    let object = json!({
        "apiVersion": Config::api_version(),
        "kind": Config::KIND,
        "metadata": { "name": CLUSTER },
        "status": new,
    });
    plan.push(
        Action::Kube(KubeAction::ApplyStatus { key: config_key(), take_back, object: Payload::new(object), changes }),
        "the registry's reported status changed",
    );
}

fn config_key() -> ObjectKey {
    ObjectKey::of::<Config>("", CLUSTER)
}

/// Operator-side validation (spec 10 §3.4 step 2).
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
    Ok(())
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
fn complete_spec(observed: &Inputs<'_>, config: &Config) -> Result<Config, ApplyError> {
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
        let defaults = platform_storage(&platform_type, observed.cloud.swift.as_ref()).map_err(|e| {
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
fn config_patch(config: &Config, finalizers: Option<Vec<String>>, spec: &Config) -> Option<KubeAction> {
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

fn manage(
    observed: &Inputs<'_>,
    config: &Config,
    add_finalizer: bool,
    also_planned: &[Desired],
    plan: &mut Plan,
) -> Option<ImageRegistryStatus> {
    let finalizers = add_finalizer.then(|| {
        let mut list = config.metadata.finalizers.clone().unwrap_or_default();
        list.push(FINALIZER.to_owned());
        list
    });
    let state = ManagementState::Managed;
    let previous_storage = config.status.as_ref().map(|s| s.storage.clone()).unwrap_or_default();
    if let Err(e) = validate(config) {
        if let Some(patch) = config_patch(config, finalizers, config) {
            plan.push(Action::Kube(patch), "the finalizer goes on before anything else");
        }
        let error = ApplyError::permanent("VerificationFailed", format!("unable to complete resource: {e}"));
        return report(observed, config, &state, Some(&error), Vec::new(), previous_storage, false, plan);
    }
    let completed = match complete_spec(observed, config) {
        Ok(completed) => completed,
        Err(error) => {
            if let Some(patch) = config_patch(config, finalizers, config) {
                plan.push(Action::Kube(patch), "the finalizer goes on before anything else");
            }
            return report(observed, config, &state, Some(&error), Vec::new(), previous_storage, false, plan);
        }
    };
    let completion = storage::complete(&completed, observed);
    let mut effective = completed;
    effective.spec.storage = completion.spec.clone();
    if effective.spec.storage.management_state.is_empty() {
        let legacy = config.status.as_ref().is_some_and(|s| s.storage_managed);
        effective.spec.storage.management_state = if legacy { "Managed" } else { "Unmanaged" }.to_owned();
    }
    let mut bumped = None;
    if let Some(patch) = config_patch(config, finalizers, &effective) {
        // A spec change bumps the generation by one; report the generation this pass leaves.
        if matches!(&patch, KubeAction::Patch { patch, .. } if patch.expose().get("spec").is_some()) {
            bumped = Some(config.metadata.generation.unwrap_or(0) + 1);
        }
        plan.push(Action::Kube(patch), "persist the finalizer and the values the operator fills in (spec 10 §3.4)");
    }
    let creating_storage = !completion.actions.is_empty();
    for (action, reason) in completion.actions.iter().cloned() {
        plan.push(action, reason);
    }
    let storage_status = completion.status.clone().unwrap_or(previous_storage);
    let mut error =
        completion.error.map(|e| ApplyError::transient(format!("unable to sync storage configuration: {e}")));
    if let Some((reason, message)) = completion.permanent {
        error = Some(ApplyError::permanent(&reason, message));
    }
    let mut deployment_generation = None;
    if error.is_none() {
        match apply_objects(observed, &effective, also_planned, plan) {
            Ok(generation) => deployment_generation = generation,
            // The storage this pass creates is what the wiring needs (an Azure account key):
            // the objects follow once it is observed. Waiting, not failing.
            Err(ObjectsError::Wiring(_)) if creating_storage => {}
            Err(ObjectsError::Wiring(e) | ObjectsError::Apply(e)) => error = Some(e),
        }
    }
    // The objects are built from the spec alone; the report names the generation left behind.
    let mut reported = effective;
    if bumped.is_some() {
        reported.metadata.generation = bumped;
    }
    let status = report(observed, &reported, &state, error.as_ref(), completion.conditions, storage_status, true, plan);
    status.map(|mut status| {
        if let Some(generation) = deployment_generation {
            status::record_generation(&mut status.generations, generation);
        }
        status
    })
}

/// Why the registry's objects could not all be applied.
enum ObjectsError {
    /// The storage backend's pod wiring could not be built.
    Wiring(ApplyError),
    /// An object could not be built.
    Apply(ApplyError),
}

/// Applies the registry's objects, then deletes operator routes no longer asked for. Returns
/// the generation the Deployment will have once the plan ran, when this pass writes it.
fn apply_objects(
    observed: &Inputs<'_>,
    config: &Config,
    also_planned: &[Desired],
    plan: &mut Plan,
) -> Result<Option<i64>, ObjectsError> {
    let wiring = storage::wiring(config, observed)
        .map_err(|e| ObjectsError::Wiring(ApplyError::transient(format!("unable to get generators: {e}"))))?;
    let (desired, failure) = objects::registry_objects(&Context { config, observed, wiring: &wiring, also_planned });
    let mut deployment_generation = None;
    let certificate = ObjectKey::of::<k8s_openapi::api::core::v1::Secret>(NAMESPACE, objects::pod::TLS_SECRET);
    for object in &desired {
        // The pod cannot start before the service-ca operator mints its serving certificate (a
        // required projected source), and a Deployment created earlier rolls again as soon as
        // the certificate joins its dependency digest: the first creation waits for it.
        let first = object.key.kind == "Deployment" && observed.objects.raw(&object.key).is_none();
        if first && observed.objects.raw(&certificate).is_none() {
            continue;
        }
        if let Some(action) = apply_action(object, observed) {
            if object.key.kind == "Deployment" {
                deployment_generation = next_generation(&action, observed.objects.raw(&object.key));
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
    Ok(deployment_generation)
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

fn owned_routes(observed: &Inputs<'_>) -> Vec<(ObjectKey, Route)> {
    let routes = observed.objects.list::<Route>(NAMESPACE).unwrap_or_default();
    routes
        .into_iter()
        .filter(|r| r.metadata.annotations.as_ref().is_some_and(|a| a.contains_key(OWNERSHIP_ANNOTATION)))
        .map(|r| (ObjectKey::of::<Route>(NAMESPACE, r.metadata.name.as_deref().unwrap_or_default()), r))
        .collect()
}

fn delete<K: serde::Serialize>(key: &ObjectKey, object: &K) -> Action {
    let metadata = serde_json::to_value(object).ok().and_then(|v| v.get("metadata").cloned()).unwrap_or_default();
    let text = |field: &str| metadata.get(field).and_then(Value::as_str).map(str::to_owned);
    Action::Kube(KubeAction::Delete {
        key: key.clone(),
        preconditions: Preconditions { uid: text("uid"), resource_version: text("resourceVersion") },
    })
}

/// The keys of everything the operator owns for the registry, in apply order, plus every
/// route carrying its ownership annotation.
fn owned_keys(config: &Config, observed: &Inputs<'_>) -> Vec<ObjectKey> {
    use k8s_openapi::api::{core::v1 as core, networking::v1 as net, policy::v1 as policy, rbac::v1 as rbac};
    let mut keys = vec![
        ObjectKey::of::<rbac::ClusterRole>("", objects::rbac::CLUSTER_ROLE),
        ObjectKey::of::<rbac::ClusterRoleBinding>("", objects::rbac::CLUSTER_ROLE_BINDING),
        ObjectKey::of::<core::ServiceAccount>(NAMESPACE, crate::names::REGISTRY_SERVICE_ACCOUNT),
        ObjectKey::of::<core::Secret>(NAMESPACE, crate::names::INSTALLATION_PULL_SECRETS),
        ObjectKey::of::<core::Secret>(NAMESPACE, crate::names::PRIVATE_CONFIGURATION_SECRET),
        ObjectKey::of::<core::Service>(NAMESPACE, REGISTRY_NAME),
        ObjectKey::of::<Deployment>(NAMESPACE, REGISTRY_NAME),
        ObjectKey::of::<policy::PodDisruptionBudget>(NAMESPACE, REGISTRY_NAME),
        ObjectKey::of::<net::NetworkPolicy>(NAMESPACE, "image-registry-networkpolicy"),
    ];
    for route in routes::wanted(config) {
        keys.push(ObjectKey::of::<Route>(NAMESPACE, &route.name));
    }
    for (key, _) in owned_routes(observed) {
        if !keys.contains(&key) {
            keys.push(key);
        }
    }
    keys
}

/// Deletes every owned object that still exists; returns whether any does.
fn delete_owned(config: &Config, observed: &Inputs<'_>, plan: &mut Plan, why: &str) -> bool {
    let mut remaining = false;
    for key in owned_keys(config, observed) {
        if let Some(object) = observed.objects.raw(&key) {
            remaining = true;
            // One already being deleted (foreground deletion waits for its pods) is waited
            // for, not deleted again on every pass.
            if object.pointer("/metadata/deletionTimestamp").is_none() {
                plan.push(delete(&key, object), why);
            }
        }
    }
    remaining
}

fn remove(observed: &Inputs<'_>, config: &Config, plan: &mut Plan) -> Option<ImageRegistryStatus> {
    delete_owned(config, observed, plan, "the registry is Removed: the operator deletes what it created");
    let previous = config.status.as_ref().map(|s| s.storage.clone()).unwrap_or_default();
    let (removal, conditions) = storage::remove(config, observed);
    let storage = match removal {
        completion::Removal::Pending(actions) => {
            for (action, reason) in actions {
                plan.push(action, reason);
            }
            previous
        }
        completion::Removal::Blocked(why) => {
            plan.error(CONTROLLER, format!("unable to remove storage: {why}"));
            previous
        }
        // Removed, kept, or nothing of the operator's to remove: forget the applied storage.
        completion::Removal::Done | completion::Removal::Kept(_) => Storage::default(),
    };
    report(observed, config, &ManagementState::Removed, None, conditions, storage, false, plan)
}

fn finalize(observed: &Inputs<'_>, config: &Config, plan: &mut Plan) {
    let why = "the Config is being deleted: the operator deletes what it created";
    let objects_remain = delete_owned(config, observed, plan, why);
    let storage_done = match storage::remove(config, observed).0 {
        completion::Removal::Pending(actions) => {
            for (action, reason) in actions {
                plan.push(action, reason);
            }
            false
        }
        completion::Removal::Blocked(why) => {
            plan.error(CONTROLLER, format!("unable to remove storage: {why}"));
            false
        }
        completion::Removal::Done | completion::Removal::Kept(_) => true,
    };
    if !objects_remain && storage_done {
        plan.push(
            Action::Kube(KubeAction::RemoveFinalizer {
                key: config_key(),
                finalizer: FINALIZER.to_owned(),
                resource_version: config.metadata.resource_version.clone().unwrap_or_default(),
            }),
            "every owned object and all managed storage are gone",
        );
    }
}

/// The memory key of the failing-writes streak.
const WRITES: &str = "registry-writes";

/// The first Kubernetes write of the previous pass that failed (its id, the server's message
/// and the error's class); status writes are left out, since they carry the report itself.
fn failed_write(observed: &Inputs<'_>) -> Option<(String, String, ErrorClass)> {
    observed.outcomes.iter().find_map(|o| match &o.result {
        OutcomeResult::Failed { message, class }
            if o.action_id.starts_with("kube/") && !o.action_id.starts_with("kube/apply-status-of/") =>
        {
            Some((o.action_id.clone(), message.clone(), *class))
        }
        OutcomeResult::Failed { .. } | OutcomeResult::Succeeded | OutcomeResult::Skipped => None,
    })
}

/// Computes the status; asks for a pass when Degraded is due to flip. Transient errors are also
/// pass errors (retried with backoff).
#[allow(clippy::too_many_arguments)]
fn report(
    observed: &Inputs<'_>,
    config: &Config,
    state: &ManagementState,
    error: Option<&ApplyError>,
    storage_conditions: Vec<Wanted>,
    storage: Storage,
    mirror: bool,
    plan: &mut Plan,
) -> Option<ImageRegistryStatus> {
    let deployment = match &observed.deployment {
        Ok(d) => d.as_ref(),
        Err(e) => {
            plan.error(CONTROLLER, format!("failed to get \"image-registry\" deployment: {e}"));
            return None;
        }
    };
    let routes = routes::wanted(config)
        .into_iter()
        .filter_map(|r| observed.objects.get::<Route>(NAMESPACE, &r.name).ok().flatten())
        .collect();
    // A write of the last pass that failed is an apply error too, and one failing for longer
    // than the inertia degrades the registry: the status must tell the truth exactly then.
    let failed_write = failed_write(observed);
    let write_error = failed_write.as_ref().map(|(id, message, _)| ApplyError::transient(format!("{id}: {message}")));
    let error = error.or(write_error.as_ref());
    // A server that is briefly unavailable, throttling or racing is an ordinary disturbance:
    // it shows in Progressing and is retried. A write the server refuses (invalid, forbidden)
    // does not heal by waiting: that streak degrades the registry after the inertia.
    let failing_for = match &failed_write {
        Some((_, _, class)) if !class.is_transient() => {
            let since = *plan.memory.failing_since.entry(WRITES.to_owned()).or_insert(observed.now);
            Some(observed.now.duration_since(since))
        }
        _ => {
            plan.memory.failing_since.remove(WRITES);
            None
        }
    };
    let facts = status::Facts {
        config,
        state,
        deployment,
        routes,
        apply_error: error,
        storage_conditions,
        storage,
        mirror_storage_management: mirror,
        now: observed.now,
    };
    let (mut new_status, degraded_due) = status::compute(&facts);
    if let (Some(elapsed), Some(e)) = (failing_for, write_error.as_ref()) {
        if elapsed > status::DEGRADED_INERTIA {
            let wanted = Wanted::new("Degraded", ConditionStatus::True, "WriteFailing", e.message.clone());
            crate::conditions::set(&mut new_status.conditions, wanted, observed.now);
        } else {
            let left = (status::DEGRADED_INERTIA - elapsed).as_secs().max(0);
            plan.requeue_within(u64::try_from(left).unwrap_or(0).saturating_add(1));
        }
    }
    if let Some(due) = degraded_due {
        let seconds = due.duration_since(observed.now).as_secs().max(0);
        plan.requeue_within(u64::try_from(seconds).unwrap_or(0).saturating_add(1));
    }
    if let Some(e) = error.filter(|e| !e.permanent) {
        plan.error(CONTROLLER, e.message.clone());
    }
    Some(new_status)
}

/// Field-level changes between two statuses, both ways (a status write replaces the status).
fn status_changes(old: &Value, new: &Value) -> Vec<FieldChange> {
    let mut changes = differences_under("Config", &["status"], new, old);
    for removed in differences_under("Config", &["status"], old, new) {
        if !changes.iter().any(|c| c.path == removed.path) {
            changes.push(FieldChange { path: removed.path, before: removed.after, after: None, secret: false });
        }
    }
    for change in &mut changes {
        change.path = format!("status.{}", change.path);
    }
    changes
}
