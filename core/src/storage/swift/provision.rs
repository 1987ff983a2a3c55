//! Swift provisioning: name and create the container with this cluster's metadata (spec 30 §7).

use super::credentials;
use crate::action::{Action, CloudAction};
use crate::api::openshift::KeyValue;
use crate::api::{ConditionStatus, Storage};
use crate::inputs::Inputs;
use crate::observed::BucketState;
use crate::storage::completion::Completion;
use crate::storage::naming;

pub(crate) fn push(out: &mut Completion, status: ConditionStatus, reason: &str, message: impl Into<String>) {
    out.condition(status, reason, message);
}

/// Completes Swift storage for a Managed pass.
pub fn complete(_config: &crate::api::Config, observed: &Inputs<'_>, applied: &Storage, out: &mut Completion) {
    if let Err(e) = credentials(observed) {
        push(out, ConditionStatus::False, &e, e.clone());
        out.error = Some(e);
        return;
    }
    let mut swift = out.spec.swift.clone().unwrap_or_default();
    let infra = observed.infrastructure_name().to_owned();
    if swift.container.is_empty() {
        let Some(cluster_id) = out.cluster_id(observed) else { return };
        swift.container = naming::random(cluster_id, &[], observed.seed, "swift-container");
        out.spec.swift = Some(swift);
        out.generated_name();
        return;
    }
    let Some(facts) = observed.cloud.swift.containers.get(&swift.container) else {
        out.error = Some(format!("Swift container {} has not been observed", swift.container));
        return;
    };
    match facts.state {
        BucketState::Exists => {
            if out.spec.management_state.is_empty() {
                out.spec.management_state = "Unmanaged".to_owned();
                push(out, ConditionStatus::True, "Container exists", "User supplied container already exists");
            } else {
                push(out, ConditionStatus::True, "Swift container Exists", "");
            }
            out.status = Some(Storage { swift: Some(swift.clone()), ..Storage::default() });
            out.spec.swift = Some(swift);
        }
        BucketState::Missing if applied.swift.as_ref().is_some_and(|a| a.container == swift.container) => {
            out.vanished("Swift container", &swift.container, "Swift Container Missing");
        }
        BucketState::Missing => {
            push(
                out,
                ConditionStatus::False,
                "Storage does not exist",
                format!("The Swift container {} does not exist yet", swift.container),
            );
            if out.spec.management_state.is_empty() {
                out.spec.management_state = "Managed".to_owned();
            }
            let metadata = vec![
                KeyValue { key: "Openshiftclusterid".into(), value: infra },
                KeyValue { key: "Name".into(), value: swift.container.clone() },
            ];
            let create =
                CloudAction::Swift(super::call::Call::CreateContainer { container: swift.container.clone(), metadata });
            out.actions.push((
                Action::Cloud(create),
                format!("the registry's Swift container {} does not exist", swift.container),
            ));
            out.spec.swift = Some(swift);
        }
        BucketState::Forbidden | BucketState::Unknown => {
            push(out, ConditionStatus::Unknown, "Unknown error occurred", facts.message.clone());
            out.error = Some(facts.message.clone());
        }
    }
}
