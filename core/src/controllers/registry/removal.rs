//! Removed and finalization: delete every object the operator owns, remove the storage it
//! manages, and release the Config's finalizer once everything is gone.

use super::apply::{delete, owned_routes};
use super::report::report;
use super::{CONTROLLER, config_key};
use crate::action::{Action, KubeAction};
use crate::api::openshift::Route;
use crate::api::{Config, ImageRegistryStatus, ManagementState, Storage};
use crate::conditions::Wanted;
use crate::inputs::Inputs;
use crate::names::{FINALIZER, NAMESPACE};
use crate::objects::{self, routes};
use crate::observed::ObjectKey;
use crate::plan::Plan;
use crate::storage::{self, completion};

/// The keys of everything the operator owns for the registry, in apply order, plus every
/// route carrying its ownership annotation.
fn owned_keys(config: &Config, observed: &Inputs<'_>) -> Vec<ObjectKey> {
    let mut keys: Vec<ObjectKey> = objects::OWNED.iter().map(|owned| (owned.key)()).collect();
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

/// Plans the removal of the storage the operator manages; whether it is finished (removed,
/// kept, or nothing of the operator's to remove), and the storage conditions to report.
fn remove_storage(observed: &Inputs<'_>, config: &Config, plan: &mut Plan) -> (bool, Vec<Wanted>) {
    let (removal, conditions) = storage::remove(config, observed);
    let done = match removal {
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
    (done, conditions)
}

pub(super) fn remove(observed: &Inputs<'_>, config: &Config, plan: &mut Plan) -> Option<ImageRegistryStatus> {
    delete_owned(config, observed, plan, "the registry is Removed: the operator deletes what it created");
    let (done, conditions) = remove_storage(observed, config, plan);
    // Removed, kept, or nothing of the operator's to remove: forget the applied storage.
    let storage =
        if done { Storage::default() } else { config.status.as_ref().map(|s| s.storage.clone()).unwrap_or_default() };
    report(observed, config, &ManagementState::Removed, None, conditions, storage, false, Vec::new(), plan)
}

pub(super) fn finalize(observed: &Inputs<'_>, config: &Config, plan: &mut Plan) {
    let why = "the Config is being deleted: the operator deletes what it created";
    let objects_remain = delete_owned(config, observed, plan, why);
    let (storage_done, _) = remove_storage(observed, config, plan);
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
