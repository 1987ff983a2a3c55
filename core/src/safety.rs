//! The storage-safety rules as a checker over a plan: storage is deleted only when the Config
//! is Removed or being deleted, the storage is Managed, and the resource is the one the
//! operator recorded (and, for buckets, tagged as this cluster's); a bucket is created only
//! under the name the Config already holds. Tests run it over generated snapshots; the shell
//! can run it as a last check before executing a plan.

// A new action or storage kind must be decided on wherever these enums are matched.
#![deny(clippy::wildcard_enum_match_arm)]

use k8s_openapi::api::core::v1::PersistentVolumeClaim;

use crate::action::{Action, KubeAction};
use crate::api::{Config, ManagementState};
use crate::observed::Observed;
use crate::plan::Plan;
use crate::storage::call::Guard;

/// Why the Config allows no storage deletion, or `None` when it does.
fn deletion_forbidden(config: Option<&Config>) -> Option<String> {
    let Some(config) = config else { return Some("there is no Config".into()) };
    let removing =
        config.metadata.deletion_timestamp.is_some() || config.spec.management_state() == ManagementState::Removed;
    if !removing {
        return Some(format!("the registry is {} and not being deleted", config.spec.management_state().as_str()));
    }
    if config.spec.storage.management_state != "Managed" {
        return Some("the storage is not Managed".into());
    }
    None
}

/// Every rule the plan breaks, or `Ok` when it keeps them all.
pub fn check(observed: &Observed, plan: &Plan) -> Result<(), Vec<String>> {
    let inputs = crate::inputs::Inputs::decode(observed);
    let config = inputs.config.clone().ok().flatten();
    let applied = config.as_ref().and_then(|c| c.status.as_ref()).map(|s| s.storage.clone()).unwrap_or_default();
    let mut broken = Vec::new();
    for step in &plan.steps {
        match &step.action {
            Action::Cloud(call) => match call.guard() {
                Guard::Deletes(name) => {
                    let what = call.what();
                    if let Some(why) = deletion_forbidden(config.as_ref()) {
                        broken.push(format!("deletes {what} {name} although {why}"));
                    }
                    if call.recorded(&applied) != Some(name) {
                        broken.push(format!("deletes {what} {name} which status.storage does not record"));
                    }
                    if let Err(mark) = call.marked(&observed.cloud, inputs.infrastructure_name()) {
                        broken.push(format!("deletes {what} {name} without this cluster's {mark}"));
                    }
                }
                Guard::Creates(name) => {
                    let persisted = config.as_ref().and_then(|c| call.recorded(&c.spec.storage));
                    if persisted != Some(name) {
                        broken
                            .push(format!("creates {} {name} before its name is persisted in the Config", call.what()));
                    }
                }
                // Configuring storage that exists loses nothing; no rule.
                Guard::Configures => {}
            },
            Action::Kube(KubeAction::Delete { key, .. })
                if key.kind == "PersistentVolumeClaim" && key.group.is_empty() =>
            {
                if let Some(why) = deletion_forbidden(config.as_ref()) {
                    broken.push(format!("deletes claim {} although {why}", key.name));
                }
                if applied.pvc.as_ref().map(|p| p.claim.as_str()) != Some(key.name.as_str()) {
                    broken.push(format!("deletes claim {} which status.storage does not record", key.name));
                }
                let exists =
                    observed.objects.get::<PersistentVolumeClaim>(&key.namespace, &key.name).ok().flatten().is_some();
                if !exists {
                    broken.push(format!("deletes claim {} which does not exist", key.name));
                }
            }
            // Other deletions (the registry's own objects) hold no user data.
            Action::Kube(
                KubeAction::Delete { .. }
                | KubeAction::Create { .. }
                | KubeAction::Apply { .. }
                | KubeAction::ApplyStatus { .. }
                | KubeAction::Patch { .. }
                | KubeAction::AddFinalizer { .. }
                | KubeAction::RemoveFinalizer { .. },
            ) => {}
        }
    }
    if broken.is_empty() { Ok(()) } else { Err(broken) }
}
