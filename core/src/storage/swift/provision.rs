//! Swift provisioning: name and create the container with this cluster's metadata (spec 30 §7).

use super::credentials;
use crate::action::{Action, CloudAction};
use crate::api::openshift::KeyValue;
use crate::api::storage::Swift;
use crate::api::{ConditionStatus, Config, Storage};
use crate::inputs::Inputs;
use crate::observed::BucketState;
use crate::storage::completion::Completion;
use crate::storage::naming;
use crate::storage::provision::{self, Provision, Step};
use crate::storage::swift::facts::SwiftContainer;

/// Completes Swift storage for a Managed pass.
pub fn complete(config: &Config, observed: &Inputs<'_>, applied: &Storage, out: &mut Completion) {
    provision::run(&Container, config, observed, applied, out);
}

/// The registry's Swift container in the shared flow.
struct Container;

impl Provision for Container {
    type Spec = Swift;
    type Facts = SwiftContainer;
    const WHAT: &'static str = "Swift container";
    const VANISHED: &'static str = "Swift Container Missing";

    fn resolve(&self, _config: &Config, observed: &Inputs<'_>, out: &mut Completion) -> Option<Swift> {
        if let Err(e) = credentials(observed) {
            out.fail(&e, e.clone());
            return None;
        }
        Some(out.spec.swift.clone().unwrap_or_default())
    }

    fn key(spec: &Swift) -> &str {
        &spec.container
    }

    fn name(&self, spec: &mut Swift, cluster_id: &str, observed: &Inputs<'_>) {
        spec.container = naming::random(cluster_id, &[], observed.seed, "swift-container");
    }

    fn facts(&self, spec: &Swift, observed: &Inputs<'_>) -> Option<SwiftContainer> {
        observed.cloud.swift.containers.get(&spec.container).cloned()
    }

    fn step(&self, _: &Swift, facts: &SwiftContainer, _: &Config, _: &Inputs<'_>, _: &mut Completion) -> Step {
        match facts.state {
            BucketState::Exists => Step::Adopt,
            BucketState::Missing => Step::Missing,
            BucketState::Forbidden | BucketState::Unknown => Step::Unreachable(facts.message.clone()),
        }
    }

    fn recorded(spec: &Swift, applied: &Storage) -> bool {
        applied.swift.as_ref().is_some_and(|a| a.container == spec.container)
    }

    fn adopt(
        &self,
        _: &mut Swift,
        _: &SwiftContainer,
        user_supplied: bool,
        _: &Config,
        _: &Inputs<'_>,
        out: &mut Completion,
    ) -> bool {
        if user_supplied {
            out.condition(ConditionStatus::True, "Container exists", "User supplied container already exists");
        } else {
            out.condition(ConditionStatus::True, "Swift container Exists", "");
        }
        true
    }

    fn create(&self, swift: &mut Swift, _: &SwiftContainer, observed: &Inputs<'_>, out: &mut Completion) {
        let message = format!("The Swift container {} does not exist yet", swift.container);
        out.condition(ConditionStatus::False, "Storage does not exist", message);
        let metadata = vec![
            KeyValue { key: "Openshiftclusterid".into(), value: observed.infrastructure_name().to_owned() },
            KeyValue { key: "Name".into(), value: swift.container.clone() },
        ];
        let create =
            CloudAction::Swift(super::call::Call::CreateContainer { container: swift.container.clone(), metadata });
        let why = format!("the registry's Swift container {} does not exist", swift.container);
        out.actions.push((Action::Cloud(create), why));
    }

    fn unreachable(&self, message: &str, out: &mut Completion) {
        out.condition(ConditionStatus::Unknown, "Unknown error occurred", message);
    }

    fn place(spec: Swift, storage: &mut Storage) {
        storage.swift = Some(spec);
    }
}
