//! Things that happen between two passes that the operator did not do: a user edits the
//! Config, a registry pod restarts, a node reboots, a bucket is deleted behind the operator's
//! back, the operator restarts, time moves on.

use jiff::SignedDuration;
use serde_json::{Value, json};

use super::World;
use image_registry_core::api::Config;
use image_registry_core::names::{CLUSTER, NAMESPACE, REGISTRY_NAME};
use image_registry_core::observed::{BucketState, ObjectKey};

/// An event between passes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A user merge-patches the Config (`{"spec": {"replicas": 3}}`).
    EditConfig(Value),
    /// This many registry replicas stop being available until the next rollout settles.
    PodsUnavailable(i64),
    /// Someone deletes the registry's storage bucket (S3, GCS) or container (Swift).
    StorageDeleted,
    /// The operator restarts: it forgets its memory and the last outcomes.
    OperatorRestart,
    /// Time moves on.
    Wait(SignedDuration),
}

impl World {
    /// Lets an event happen.
    pub fn apply(&mut self, event: &Event) {
        match event {
            Event::EditConfig(patch) => {
                let key = ObjectKey::of::<Config>("", CLUSTER);
                if let Some(before) = self.observed.objects.raw(&key).cloned() {
                    let mut after = before.clone();
                    super::server::merge_patch(&mut after, patch);
                    self.update(&key, super::OTHERS, &before, after);
                }
            }
            Event::PodsUnavailable(count) => {
                let key = ObjectKey::of::<k8s_openapi::api::apps::v1::Deployment>(NAMESPACE, REGISTRY_NAME);
                if let Some(mut deployment) = self.observed.objects.raw(&key).cloned() {
                    let replicas = deployment.pointer("/status/replicas").and_then(Value::as_i64).unwrap_or(0);
                    let available = (replicas - count).max(0);
                    if let Some(Value::Object(status)) = deployment.get_mut("status") {
                        status.insert("availableReplicas".into(), json!(available));
                        status.insert("readyReplicas".into(), json!(available));
                    }
                    self.observed.objects.insert_at(key, deployment);
                }
            }
            Event::StorageDeleted => {
                let cloud = &mut self.observed.cloud;
                cloud.s3.values_mut().for_each(|b| *b = Default::default());
                cloud.gcs.values_mut().for_each(|b| *b = Default::default());
                cloud.swift.containers.values_mut().for_each(|c| *c = Default::default());
                for account in cloud.azure.accounts.values_mut() {
                    account.containers.values_mut().for_each(|c| *c = BucketState::Missing);
                }
            }
            Event::OperatorRestart => {
                self.observed.memory = Default::default();
                self.observed.outcomes.clear();
            }
            Event::Wait(by) => self.advance(*by),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image_registry_core::observed::Observed;

    fn world() -> World {
        let mut observed = Observed::new("2026-01-01T00:00:00Z".parse().unwrap(), "s");
        observed
            .objects
            .insert(json!({"apiVersion": "imageregistry.operator.openshift.io/v1", "kind": "Config",
                           "metadata": {"name": "cluster", "resourceVersion": "1", "generation": 1},
                           "spec": {"replicas": 2, "managementState": "Managed"}}))
            .unwrap();
        World::new(observed)
    }

    #[test]
    fn a_user_edit_bumps_version_and_generation() {
        let mut world = world();
        world.apply(&Event::EditConfig(json!({"spec": {"replicas": 3}})));
        let config = world.observed.objects.raw(&ObjectKey::of::<Config>("", CLUSTER)).unwrap();
        assert_eq!(config["spec"]["replicas"], 3);
        assert_eq!(config["metadata"]["generation"], 2);
        assert_ne!(config["metadata"]["resourceVersion"], "1");
    }

    #[test]
    fn waiting_moves_the_clock_and_a_restart_forgets() {
        let mut world = world();
        world.observed.memory.failing_since.insert("x".into(), world.observed.now);
        world.apply(&Event::Wait(SignedDuration::from_secs(60)));
        world.apply(&Event::OperatorRestart);
        assert_eq!(world.observed.now.to_string(), "2026-01-01T00:01:00Z");
        assert!(world.observed.memory.failing_since.is_empty());
    }
}
