//! The registry's status: the conditions from the apply error, the Deployment and failed writes
//! (with Degraded inertia), and the one status write per pass.

use serde_json::{Value, json};

use super::status::ApplyError;
use super::{CONTROLLER, Draft, config_key, status};
use crate::action::{Action, FieldChange, KubeAction, Payload};
use crate::api::openshift::Route;
use crate::api::{ApiObject, ConditionStatus, Config, ImageRegistryStatus, ManagementState, Storage};
use crate::conditions::Wanted;
use crate::diff::differences_under;
use crate::inputs::Inputs;
use crate::names::{CLUSTER, NAMESPACE};
use crate::objects::{routes, takeback};
use crate::outcome::{ErrorClass, OutcomeResult};
use crate::plan::Plan;

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
    // The Config's status is the operator's whole, as the reference's update makes it: what the
    // new one leaves out goes, whoever wrote it (exactly one backend in `status.storage`).
    let take_back = takeback::status_whole(Config::KIND, &old, &new);
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
pub(super) fn report(
    observed: &Inputs<'_>,
    config: &Config,
    state: &ManagementState,
    error: Option<&ApplyError>,
    storage_conditions: Vec<Wanted>,
    storage: Storage,
    mirror: bool,
    missing: Vec<String>,
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
        missing,
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
