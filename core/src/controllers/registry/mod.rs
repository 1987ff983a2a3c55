//! The registry's main controller: bootstrap, then per management state create/update, remove
//! or leave alone the registry's objects and storage, and report status (spec 10 §3–§6).
//!
//! Action order within a pass: the Config patch (finalizer, generated values) first, so nothing
//! is created without the finalizer; storage next; then the objects in the reference's order;
//! stale routes; the status write last. The shell stops at the first failed action.

// A new action or storage kind must be decided on wherever these enums are matched.
#![deny(clippy::wildcard_enum_match_arm)]

mod apply;
pub mod bootstrap;
pub mod lifecycle;
mod removal;
mod report;
mod spec;
pub mod status;

use crate::action::{Action, KubeAction};
use crate::api::{Config, ImageRegistryStatus, ManagementState};
use crate::inputs::Inputs;
use crate::names::{CLUSTER, FINALIZER};
use crate::objects::Desired;
use crate::observed::ObjectKey;
use crate::plan::Plan;
use crate::storage;
use apply::{ObjectsError, apply_objects};
use lifecycle::{Lifecycle, decide};
use removal::{finalize, remove};
use report::report;
pub use report::write_status;
pub use spec::validate;
use spec::{complete_spec, config_patch};
use status::ApplyError;

const CONTROLLER: &str = "registry";

/// The Config's new status, before the other controllers add their conditions and it is
/// compared with the stored one.
#[derive(Clone, Debug, PartialEq)]
pub struct Draft<'a> {
    /// The Config as read at the start of the pass.
    pub config: &'a Config,
    /// Its status as it should be.
    pub status: ImageRegistryStatus,
}

/// Plans the registry's part of a pass. Returns the status draft when the Config's status is
/// to be reported this pass (not during bootstrap or deletion).
pub fn plan<'a>(observed: &'a Inputs<'_>, also_planned: &[Desired], plan: &mut Plan) -> Option<Draft<'a>> {
    let config = match &observed.config {
        Err(e) => {
            plan.error(CONTROLLER, format!("unable to read the registry configuration: {e}"));
            return None;
        }
        Ok(None) => {
            bootstrap::plan(observed, plan);
            return None;
        }
        Ok(Some(config)) => config,
    };
    let has_finalizer = config.metadata.finalizers.iter().flatten().any(|f| f == FINALIZER);
    let deleting = config.metadata.deletion_timestamp.is_some();
    let state = config.spec.management_state();
    let status = match decide(has_finalizer, deleting, &state) {
        Lifecycle::Released => None,
        Lifecycle::Finalize => {
            finalize(observed, config, plan);
            None
        }
        Lifecycle::Manage { add_finalizer } => manage(observed, config, add_finalizer, also_planned, plan),
        Lifecycle::Remove => remove(observed, config, plan),
        Lifecycle::Unmanaged | Lifecycle::Inert => {
            let previous = config.status.as_ref().map(|s| s.storage.clone()).unwrap_or_default();
            report(observed, config, &state, None, Vec::new(), previous, false, Vec::new(), plan)
        }
    };
    status.map(|status| Draft { config, status })
}

fn config_key() -> ObjectKey {
    ObjectKey::of::<Config>("", CLUSTER)
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
        return report(observed, config, &state, Some(&error), Vec::new(), previous_storage, false, Vec::new(), plan);
    }
    let completed = match complete_spec(observed, config) {
        Ok(completed) => completed,
        Err(error) => {
            if let Some(patch) = config_patch(config, finalizers, config) {
                plan.push(Action::Kube(patch), "the finalizer goes on before anything else");
            }
            return report(
                observed,
                config,
                &state,
                Some(&error),
                Vec::new(),
                previous_storage,
                false,
                Vec::new(),
                plan,
            );
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
    let mut missing = Vec::new();
    if error.is_none() {
        match apply_objects(observed, &effective, also_planned, plan) {
            Ok(applied) => (deployment_generation, missing) = (applied.deployment_generation, applied.missing),
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
    let status =
        report(observed, &reported, &state, error.as_ref(), completion.conditions, storage_status, true, missing, plan);
    status.map(|mut status| {
        if let Some(generation) = deployment_generation {
            status::record_generation(&mut status.generations, generation);
        }
        status
    })
}
