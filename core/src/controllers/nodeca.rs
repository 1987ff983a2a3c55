//! The node-ca DaemonSet (spec 40 §5): puts the registry's CA on every node, in every
//! management state, and reports NodeCADaemon* conditions on the Config.

use std::collections::BTreeMap;

use jiff::SignedDuration;
use k8s_openapi::api::apps::v1::{DaemonSet, DaemonSetSpec, DaemonSetUpdateStrategy, RollingUpdateDaemonSet};
use k8s_openapi::api::core::v1::{
    ConfigMapVolumeSource, Container, HostPathVolumeSource, PodSpec, PodTemplateSpec, ResourceRequirements,
    SecurityContext, Toleration, Volume, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::action::Action;
use crate::api::ConditionStatus;
use crate::conditions::Wanted;
use crate::inputs::Inputs;
use crate::memo::Memo;
use crate::names::NAMESPACE;
use crate::objects::{Desired, apply_action};
use crate::outcome::OutcomeResult;
use crate::plan::Plan;

/// How long a failure streak lasts before Degraded turns True.
pub const INERTIA: SignedDuration = SignedDuration::from_secs(120);
/// The DaemonSet (and its service account).
pub const NAME: &str = crate::names::NODE_CA;

fn labels() -> BTreeMap<String, String> {
    BTreeMap::from([("name".to_owned(), NAME.to_owned())])
}

/// The desired DaemonSet.
pub fn daemon_set(memo: Option<&Memo>, image: &str) -> Result<Desired, String> {
    let mount = |name: &str, path: &str| VolumeMount {
        name: name.to_owned(),
        mount_path: path.to_owned(),
        ..VolumeMount::default()
    };
    let daemon_set = DaemonSet {
        metadata: ObjectMeta {
            name: Some(NAME.to_owned()),
            namespace: Some(NAMESPACE.to_owned()),
            ..ObjectMeta::default()
        },
        spec: Some(DaemonSetSpec {
            selector: LabelSelector { match_labels: Some(labels()), ..LabelSelector::default() },
            update_strategy: Some(DaemonSetUpdateStrategy {
                type_: Some("RollingUpdate".to_owned()),
                rolling_update: Some(RollingUpdateDaemonSet {
                    max_unavailable: Some(IntOrString::String("10%".to_owned())),
                    ..RollingUpdateDaemonSet::default()
                }),
            }),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels()),
                    annotations: Some(BTreeMap::from([
                        (
                            "target.workload.openshift.io/management".to_owned(),
                            r#"{"effect": "PreferredDuringScheduling"}"#.to_owned(),
                        ),
                        ("openshift.io/required-scc".to_owned(), "privileged".to_owned()),
                    ])),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    node_selector: Some(BTreeMap::from([("kubernetes.io/os".to_owned(), "linux".to_owned())])),
                    priority_class_name: Some("system-cluster-critical".to_owned()),
                    service_account_name: Some(NAME.to_owned()),
                    host_network: Some(true),
                    tolerations: Some(vec![Toleration {
                        operator: Some("Exists".to_owned()),
                        ..Toleration::default()
                    }]),
                    containers: vec![Container {
                        name: NAME.to_owned(),
                        image: Some(image.to_owned()),
                        command: Some(vec!["cluster-image-registry-operator".to_owned()]),
                        args: Some(vec!["node-ca-sync".to_owned()]),
                        security_context: Some(SecurityContext {
                            read_only_root_filesystem: Some(true),
                            privileged: Some(true),
                            run_as_user: Some(1001),
                            run_as_group: Some(0),
                            ..SecurityContext::default()
                        }),
                        resources: Some(ResourceRequirements {
                            requests: Some(BTreeMap::from([
                                ("cpu".to_owned(), Quantity("10m".to_owned())),
                                ("memory".to_owned(), Quantity("10Mi".to_owned())),
                            ])),
                            ..ResourceRequirements::default()
                        }),
                        termination_message_policy: Some("FallbackToLogsOnError".to_owned()),
                        volume_mounts: Some(vec![
                            mount("serviceca", "/tmp/serviceca"),
                            mount("host", "/etc/docker/certs.d"),
                        ]),
                        ..Container::default()
                    }],
                    volumes: Some(vec![
                        Volume {
                            name: "host".to_owned(),
                            host_path: Some(HostPathVolumeSource {
                                path: "/etc/docker/certs.d".to_owned(),
                                type_: None,
                            }),
                            ..Volume::default()
                        },
                        Volume {
                            name: "serviceca".to_owned(),
                            config_map: Some(ConfigMapVolumeSource {
                                name: "image-registry-certificates".to_owned(),
                                ..ConfigMapVolumeSource::default()
                            }),
                            ..Volume::default()
                        },
                    ]),
                    ..PodSpec::default()
                }),
            },
            ..DaemonSetSpec::default()
        }),
        ..DaemonSet::default()
    };
    Desired::remembered(memo, &daemon_set, vec![])
}

/// NodeCADaemonAvailable and NodeCADaemonProgressing from the observed DaemonSet.
fn availability(observed: &Inputs<'_>) -> [Wanted; 2] {
    use ConditionStatus::{False, True, Unknown};
    match observed.node_ca.clone() {
        Err(e) => [
            Wanted::new(
                "NodeCADaemonAvailable",
                Unknown,
                "Unknown",
                format!("Unable to check daemon set availability: {e}"),
            ),
            Wanted::new(
                "NodeCADaemonProgressing",
                Unknown,
                "Unknown",
                format!("Unable to check daemon set progress: {e}"),
            ),
        ],
        Ok(None) => {
            let message = "The daemon set node-ca does not exist";
            [
                Wanted::new("NodeCADaemonAvailable", False, "NotFound", message),
                Wanted::new("NodeCADaemonProgressing", True, "NotFound", message),
            ]
        }
        Ok(Some(ds)) => {
            let status = ds.status.unwrap_or_default();
            let available = if status.number_available.unwrap_or(0) > 0 {
                Wanted::new(
                    "NodeCADaemonAvailable",
                    True,
                    "AsExpected",
                    "The daemon set node-ca has available replicas",
                )
            } else {
                Wanted::new(
                    "NodeCADaemonAvailable",
                    False,
                    "NoAvailableReplicas",
                    "The daemon set node-ca does not have available replicas",
                )
            };
            let updating = status.updated_number_scheduled.unwrap_or(0) < status.desired_number_scheduled
                || status.number_misscheduled > 0;
            let progressing = if updating {
                Wanted::new(
                    "NodeCADaemonProgressing",
                    True,
                    "Progressing",
                    "The daemon set node-ca is updating node pods",
                )
            } else {
                Wanted::new("NodeCADaemonProgressing", False, "AsExpected", "The daemon set node-ca is deployed")
            };
            [available, progressing]
        }
    }
}

/// Plans the DaemonSet; returns the conditions for the Config. A failed apply in the previous
/// pass starts (or continues) a failure streak; Degraded turns True after two minutes of it.
pub fn plan(observed: &Inputs<'_>, plan: &mut Plan) -> Vec<Wanted> {
    let mut conditions = availability(observed).to_vec();
    let desired = match daemon_set(observed.memo, &observed.operator.operator_image) {
        Ok(desired) => desired,
        Err(e) => {
            plan.error(NAME, e);
            return conditions;
        }
    };
    let action = apply_action(&desired, observed);
    let failure = action.as_ref().and_then(|a| {
        let id = Action::Kube(a.clone()).id();
        observed.outcomes.iter().find(|o| o.action_id == id).and_then(|o| match &o.result {
            OutcomeResult::Failed { message, .. } => Some(message.clone()),
            _ => None,
        })
    });
    if let Some(action) = action {
        plan.push(Action::Kube(action), "node-ca places the registry's CA on every node");
    }
    match failure {
        None => {
            plan.memory.failing_since.remove(NAME);
            conditions.push(Wanted::new("NodeCADaemonControllerDegraded", ConditionStatus::False, "AsExpected", ""));
        }
        Some(message) => {
            let since = *plan.memory.failing_since.entry(NAME.to_owned()).or_insert(observed.now);
            if observed.now.duration_since(since) > INERTIA {
                conditions.push(Wanted::new("NodeCADaemonControllerDegraded", ConditionStatus::True, "Error", message));
            } else {
                let left = (since + INERTIA).duration_since(observed.now).as_secs().max(0);
                plan.requeue_within(u64::try_from(left).unwrap_or(0) + 1);
            }
        }
    }
    conditions
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use serde_json::json;

    use super::*;
    use crate::observed::Observed;
    use crate::outcome::{ErrorClass, Outcome};

    const ID: &str = "kube/apply/DaemonSet.apps openshift-image-registry/node-ca";

    fn observed(failing_since: Option<i64>, failed: bool) -> Observed {
        let now: Timestamp = "2026-01-01T12:00:00Z".parse().unwrap();
        let mut observed = Observed::new(now, "seed");
        observed
            .objects
            .insert(json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "node-ca", "namespace": NAMESPACE},
                          "status": {"numberAvailable": 3, "desiredNumberScheduled": 3, "updatedNumberScheduled": 3, "numberMisscheduled": 0,
                                     "currentNumberScheduled": 3, "numberReady": 3}}))
            .unwrap();
        if let Some(seconds) = failing_since {
            observed.memory.failing_since.insert(NAME.into(), now - SignedDuration::from_secs(seconds));
        }
        if failed {
            let result =
                OutcomeResult::Failed { class: ErrorClass::Unavailable, message: "simulated API server error".into() };
            observed.outcomes.push(Outcome { action_id: ID.into(), result });
        }
        observed
    }

    fn run(observed: &Observed) -> (Vec<Wanted>, Plan) {
        let observed = &Inputs::decode(observed);
        let mut plan = Plan { memory: observed.memory.clone(), ..Plan::default() };
        let conditions = super::plan(observed, &mut plan);
        (conditions, plan)
    }

    fn degraded(conditions: &[Wanted]) -> Option<ConditionStatus> {
        conditions.iter().find(|c| c.type_ == "NodeCADaemonControllerDegraded").map(|c| c.status)
    }

    #[test]
    fn first_failure_starts_a_streak_without_degrading() {
        let o = observed(None, true);
        let (conditions, plan) = run(&o);
        assert_eq!(plan.memory.failing_since.get(NAME), Some(&o.now));
        assert_eq!(degraded(&conditions), None);
        assert!(plan.requeue_after_seconds.is_some());
        let available = conditions.iter().find(|c| c.type_ == "NodeCADaemonAvailable").unwrap();
        assert_eq!(available.status, ConditionStatus::True, "availability is still reported during the streak");
    }

    #[test]
    fn failure_within_two_minutes_does_not_degrade() {
        let (conditions, plan) = run(&observed(Some(0), true));
        assert_eq!(degraded(&conditions), None);
        assert!(plan.memory.failing_since.contains_key(NAME));
    }

    #[test]
    fn failure_past_two_minutes_degrades() {
        let (conditions, _) = run(&observed(Some(121), true));
        assert_eq!(degraded(&conditions), Some(ConditionStatus::True));
    }

    #[test]
    fn success_clears_the_streak() {
        let (conditions, plan) = run(&observed(Some(60), false));
        assert_eq!(degraded(&conditions), Some(ConditionStatus::False));
        assert!(!plan.memory.failing_since.contains_key(NAME));
    }

    #[test]
    fn the_daemon_set_tolerates_every_taint() {
        let ds = daemon_set(None, "operator:latest").unwrap().object;
        assert_eq!(ds["spec"]["template"]["spec"]["tolerations"], json!([{"operator": "Exists"}]));
        assert_eq!(ds["spec"]["template"]["spec"]["containers"][0]["args"], json!(["node-ca-sync"]));
    }
}
