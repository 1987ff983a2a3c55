//! The image pruner's part of a pass (spec 40 §2): the default ImagePruner, its objects in
//! order (ClusterRole, ClusterRoleBinding, ServiceAccount, `serviceca`, NetworkPolicy,
//! CronJob), and its status.

pub mod cronjob;
pub mod resources;
pub mod status;

use k8s_openapi::api::batch::v1::{CronJob, Job};
use serde_json::json;

use crate::action::{Action, KubeAction, Payload};
use crate::api::{ApiObject, ImagePruner, ImagePrunerSpec, ImagePrunerStatus};
use crate::diff::differences_under;
use crate::inputs::Inputs;
use crate::names::{CLUSTER, NAMESPACE};
use crate::objects::{Desired, apply_action};
use crate::observed::ObjectKey;
use crate::plan::Plan;
use crate::validation::kubernetes::{self, PodFields};
use crate::validation::{self, Errors};

const CONTROLLER: &str = "pruner";

/// The ImagePruner the operator creates when there is none.
pub fn default_image_pruner() -> ImagePruner {
    ImagePruner::new(
        CLUSTER,
        ImagePrunerSpec {
            suspend: Some(false),
            keep_tag_revisions: Some(3),
            successful_jobs_history_limit: Some(3),
            failed_jobs_history_limit: Some(3),
            ignore_invalid_image_references: true,
            ..ImagePrunerSpec::default()
        },
    )
}

/// The pod fields the ImagePruner's CronJob copies, checked as the API server would check them:
/// an invalid one is named and the CronJob is left as it is.
pub fn validate(pruner: &ImagePruner) -> Result<(), String> {
    let spec = &pruner.spec;
    let mut errors = Errors::default();
    let fields = PodFields {
        node_selector: spec.node_selector.as_ref(),
        tolerations: spec.tolerations.as_deref(),
        resources: spec.resources.as_ref(),
        affinity: spec.affinity.as_ref(),
        topology_spread_constraints: None,
    };
    kubernetes::pod_fields(&fields, &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!("invalid ImagePruner: {}", validation::message(&errors.into_vec())))
    }
}

/// Plans the pruner's actions; returns its new status (for the ClusterOperator) when it has
/// one. `registry_hostname` is the registry's internal hostname as this pass reports it.
pub fn plan(observed: &Inputs<'_>, registry_hostname: &str, plan: &mut Plan) -> Option<ImagePrunerStatus> {
    let pruner = match &observed.pruner {
        Err(e) => {
            plan.error(CONTROLLER, format!("unable to read the image pruner: {e}"));
            return None;
        }
        Ok(Some(pruner)) => pruner.clone(),
        // The default is created and its objects planned in the same pass: they follow from
        // the object this pass creates, as the plan executes in order.
        Ok(None) => match serde_json::to_value(default_image_pruner()) {
            Ok(object) => {
                plan.push(
                    Action::Kube(KubeAction::Create {
                        key: ObjectKey::of::<ImagePruner>("", CLUSTER),
                        object: Payload::new(object),
                    }),
                    "no ImagePruner \"cluster\" exists: create it with the defaults",
                );
                default_image_pruner()
            }
            Err(e) => {
                plan.error(CONTROLLER, format!("cannot encode the default ImagePruner: {e}"));
                return None;
            }
        },
    };
    let builders: [&dyn Fn() -> Result<Desired, String>; 6] = [
        &resources::cluster_role,
        &resources::cluster_role_binding,
        &resources::service_account,
        &resources::service_ca,
        &resources::network_policy,
        &|| {
            validate(&pruner)?;
            cronjob::cronjob(observed.memo, &pruner, &observed.operator.image_pruner, registry_hostname)
        },
    ];
    let mut apply_error = None;
    for build in builders {
        match build() {
            Ok(desired) => {
                if let Some(action) = apply_action(&desired, observed) {
                    plan.push(Action::Kube(action), "the image pruner needs it as the operator applies it");
                }
            }
            Err(e) => {
                apply_error = Some(format!("unable to apply objects: {e}"));
                break;
            }
        }
    }
    let cronjob_exists = observed.objects.raw_of::<CronJob>(NAMESPACE, cronjob::CRONJOB).is_some();
    let jobs = match observed.objects.list::<Job>(NAMESPACE) {
        Ok(jobs) => jobs,
        Err(e) => {
            plan.error(CONTROLLER, format!("unable to list pruner jobs: {e}"));
            return None;
        }
    };
    let new = status::compute(&pruner, cronjob_exists, &jobs, apply_error.as_deref(), observed.now);
    let old = pruner.status.clone().unwrap_or_default();
    if new != old {
        let new_value = serde_json::to_value(&new).unwrap_or_default();
        let old_value = serde_json::to_value(&old).unwrap_or_default();
        let take_back = crate::objects::takeback::emptied(&old_value, &new_value);
        let mut changes = differences_under("ImagePruner", &["status"], &new_value, &old_value);
        changes.iter_mut().for_each(|c| c.path = format!("status.{}", c.path));
        let object = json!({
            "apiVersion": ImagePruner::api_version(),
            "kind": ImagePruner::KIND,
            "metadata": { "name": CLUSTER },
            "status": new_value,
        });
        plan.push(
            Action::Kube(KubeAction::ApplyStatus {
                key: ObjectKey::of::<ImagePruner>("", CLUSTER),
                take_back,
                object: Payload::new(object),
                changes,
            }),
            "the image pruner's reported status changed",
        );
    }
    if let Some(e) = apply_error {
        plan.error(CONTROLLER, e);
    }
    Some(new)
}
