//! Execute: a plan's actions in order against the API server and the clouds. Server-side apply
//! under one field manager, status through the status subresource, finalizers through guarded
//! JSON patches, deletes with preconditions. Each action yields an [`Outcome`]; after the first
//! failure the rest are skipped (they may depend on it). Errors are classified, never judged:
//! the core decides what they mean on the next pass.

use image_registry_core::action::{Action, KubeAction, Preconditions};
use image_registry_core::observed::ObjectKey;
use image_registry_core::outcome::{ErrorClass, Outcome, OutcomeResult};
use image_registry_core::plan::Plan;
use kube::api::{Api, DeleteParams, DynamicObject, Patch, PatchParams, PostParams, PropagationPolicy};
use serde_json::{Value, json};
use tracing::{info, warn};

use crate::cloud::CloudApi;
use crate::kinds;
use crate::lease::Fence;

/// The one field manager of every write.
pub const FIELD_MANAGER: &str = "cluster-image-registry-operator";

/// What a successful write left behind, so the next pass can wait for the caches to see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    /// The object.
    pub key: ObjectKey,
    /// Its resourceVersion after the write; `None` when it is gone.
    pub resource_version: Option<String>,
    /// A delete: the object may go from the cache at any time after it.
    pub deleted: bool,
}

/// The outcomes of a plan, and the writes that took effect.
#[derive(Clone, Debug, Default)]
pub struct Executed {
    /// One per step, in order.
    pub outcomes: Vec<Outcome>,
    /// Kubernetes writes that succeeded.
    pub written: Vec<Written>,
    /// The lease's fence closed before a step: it and the rest were not sent.
    pub fenced: bool,
}

type Failure = (ErrorClass, String);

/// Classifies an API error by its status code (and reason for 409).
#[expect(
    clippy::wildcard_enum_match_arm,
    reason = "a foreign error enum that grows with its crate: a kind this code does not know is classed as the generic case"
)]
pub fn classify(error: &kube::Error) -> ErrorClass {
    match error {
        kube::Error::Api(status) => match status.code {
            409 if status.reason == "AlreadyExists" => ErrorClass::AlreadyExists,
            409 => ErrorClass::Conflict,
            404 => ErrorClass::NotFound,
            401 | 403 => ErrorClass::Forbidden,
            429 => ErrorClass::Throttled,
            400 | 422 => ErrorClass::Invalid,
            500 | 502 | 503 => ErrorClass::Unavailable,
            504 => ErrorClass::Timeout,
            _ => ErrorClass::Other,
        },
        kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::ReadEvents(_) => ErrorClass::Unavailable,
        _ => ErrorClass::Other,
    }
}

fn failed(error: &kube::Error) -> Failure {
    let message = if let kube::Error::Api(status) = error { status.message.clone() } else { error.to_string() };
    (classify(error), message)
}

fn object_of(value: &Value) -> Result<DynamicObject, Failure> {
    serde_json::from_value(value.clone()).map_err(|e| (ErrorClass::Invalid, format!("not an object: {e}")))
}

fn version_of(object: &DynamicObject) -> Option<String> {
    object.metadata.resource_version.clone()
}

/// Runs a plan. Never panics; every step gets an outcome. Each step first asks the lease's
/// fence: once it is closed, that step and the rest are skipped, status writes included.
pub async fn execute(client: &kube::Client, cloud: &dyn CloudApi, plan: &Plan, fence: &Fence) -> Executed {
    let mut executed = Executed::default();
    let mut failed_before = false;
    for step in &plan.steps {
        executed.fenced = executed.fenced || !fence.open();
        // After a failure the rest is skipped, except status writes: the report (a Progressing
        // or Degraded condition naming the failure) must still reach the user.
        let status_write = matches!(step.action, Action::Kube(KubeAction::ApplyStatus { .. }));
        let result = if executed.fenced || (failed_before && !status_write) {
            OutcomeResult::Skipped
        } else {
            let result = match &step.action {
                Action::Kube(action) => kube_action(client, action).await.map(|w| {
                    executed.written.extend(w);
                }),
                Action::Cloud(call) => cloud.execute(call).await.map_err(|e| (e.class, e.message)),
            };
            match result {
                Ok(()) => {
                    info!(action = %step.action.describe(), "done");
                    OutcomeResult::Succeeded
                }
                Err((class, message)) => {
                    warn!(action = %step.action.describe(), ?class, %message, "failed");
                    failed_before = true;
                    OutcomeResult::Failed { class, message }
                }
            }
        };
        executed.outcomes.push(Outcome { action_id: step.id.clone(), result });
    }
    executed
}

async fn kube_action(client: &kube::Client, action: &KubeAction) -> Result<Option<Written>, Failure> {
    let key = action.key();
    let (api, _) = kinds::api_for(client, key).map_err(|e| (ErrorClass::Invalid, e))?;
    let name = key.name.as_str();
    let written = |object: DynamicObject| {
        Some(Written { key: key.clone(), resource_version: version_of(&object), deleted: false })
    };
    let apply = PatchParams::apply(FIELD_MANAGER).force();
    match action {
        KubeAction::Create { object, .. } => {
            let params = PostParams { field_manager: Some(FIELD_MANAGER.into()), ..PostParams::default() };
            api.create(&params, &object_of(object.expose())?).await.map(written).map_err(|e| failed(&e))
        }
        KubeAction::Apply { object, take_back, .. } => {
            if let Some(ops) = take_back_patch(take_back)? {
                let params = PatchParams { field_manager: Some(FIELD_MANAGER.into()), ..PatchParams::default() };
                api.patch(name, &params, &Patch::<()>::Json(ops)).await.map_err(|e| failed(&e))?;
            }
            api.patch(name, &apply, &Patch::Apply(object.expose())).await.map(written).map_err(|e| failed(&e))
        }
        KubeAction::ApplyStatus { object, take_back, .. } => {
            if let Some(ops) = take_back_patch(take_back)? {
                let params = PatchParams { field_manager: Some(FIELD_MANAGER.into()), ..PatchParams::default() };
                api.patch_status(name, &params, &Patch::<()>::Json(ops)).await.map_err(|e| failed(&e))?;
            }
            api.patch_status(name, &apply, &Patch::Apply(object.expose())).await.map(written).map_err(|e| failed(&e))
        }
        KubeAction::Patch { patch, resource_version, .. } => {
            // The resourceVersion inside a merge patch is a precondition: a stale one is a 409.
            let mut body = patch.expose().clone();
            json_patch::merge(&mut body, &json!({"metadata": {"resourceVersion": resource_version}}));
            let params = PatchParams { field_manager: Some(FIELD_MANAGER.into()), ..PatchParams::default() };
            api.patch(name, &params, &Patch::Merge(&body)).await.map(written).map_err(|e| failed(&e))
        }
        KubeAction::AddFinalizer { finalizer, resource_version, .. } => {
            finalizer_patch(&api, key, finalizer, resource_version, true).await
        }
        KubeAction::RemoveFinalizer { finalizer, resource_version, .. } => {
            finalizer_patch(&api, key, finalizer, resource_version, false).await
        }
        KubeAction::Delete { preconditions, .. } => delete(&api, key, preconditions).await,
    }
}

/// The guarded JSON patch an apply sends first (`objects::takeback`), if it has one: every
/// removal is preceded by a `test` of the value, so a concurrent edit fails it instead.
fn take_back_patch(ops: &[Value]) -> Result<Option<json_patch::Patch>, Failure> {
    if ops.is_empty() {
        return Ok(None);
    }
    serde_json::from_value(Value::Array(ops.to_vec()))
        .map(Some)
        .map_err(|e| (ErrorClass::Invalid, format!("take-back patch: {e}")))
}

async fn delete(
    api: &Api<DynamicObject>,
    key: &ObjectKey,
    preconditions: &Preconditions,
) -> Result<Option<Written>, Failure> {
    let params = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Foreground),
        grace_period_seconds: Some(0),
        preconditions: Some(kube::api::Preconditions {
            uid: preconditions.uid.clone(),
            resource_version: preconditions.resource_version.clone(),
        }),
        ..DeleteParams::default()
    };
    match api.delete(&key.name, &params).await {
        Ok(either) => {
            // An object that kept finalizers (foreground deletion waits for the garbage
            // collector) stays, at this resourceVersion; one returned without them is gone.
            let resource_version = either
                .left()
                .filter(|o| o.metadata.finalizers.as_ref().is_some_and(|f| !f.is_empty()))
                .and_then(|o| version_of(&o));
            Ok(Some(Written { key: key.clone(), resource_version, deleted: true }))
        }
        Err(e) => Err(failed(&e)),
    }
}

/// Adds or removes a finalizer with a JSON patch that first tests the resourceVersion the core
/// decided on (and, to remove, the entry's position), so it never acts on a newer object.
async fn finalizer_patch(
    api: &Api<DynamicObject>,
    key: &ObjectKey,
    finalizer: &str,
    resource_version: &str,
    add: bool,
) -> Result<Option<Written>, Failure> {
    let current = api.get(&key.name).await.map_err(|e| failed(&e))?;
    if version_of(&current).as_deref() != Some(resource_version) {
        return Err((ErrorClass::Conflict, format!("{key} changed since resourceVersion {resource_version}")));
    }
    let finalizers = current.metadata.finalizers.clone().unwrap_or_default();
    let position = finalizers.iter().position(|f| f == finalizer);
    let mut ops = vec![json!({"op": "test", "path": "/metadata/resourceVersion", "value": resource_version})];
    match (add, position) {
        (true, Some(_)) | (false, None) => return Ok(None),
        (true, None) if finalizers.is_empty() && current.metadata.finalizers.is_none() => {
            ops.push(json!({"op": "add", "path": "/metadata/finalizers", "value": [finalizer]}));
        }
        (true, None) => ops.push(json!({"op": "add", "path": "/metadata/finalizers/-", "value": finalizer})),
        (false, Some(i)) => {
            ops.push(json!({"op": "test", "path": format!("/metadata/finalizers/{i}"), "value": finalizer}));
            ops.push(json!({"op": "remove", "path": format!("/metadata/finalizers/{i}")}));
        }
    }
    let patch: json_patch::Patch =
        serde_json::from_value(Value::Array(ops)).map_err(|e| (ErrorClass::Other, e.to_string()))?;
    let params = PatchParams { field_manager: Some(FIELD_MANAGER.into()), ..PatchParams::default() };
    match api.patch(&key.name, &params, &Patch::Json::<()>(patch)).await {
        // Removing the last finalizer of an object being deleted deletes it.
        Ok(object) => Ok(Some(Written { key: key.clone(), resource_version: version_of(&object), deleted: !add })),
        // The only tests are the guards: a failed one means the object moved on.
        Err(kube::Error::Api(status)) if status.code == 422 => Err((ErrorClass::Conflict, status.message.clone())),
        Err(e) => Err(failed(&e)),
    }
}
