//! ClusterOperator `image-registry` (spec 40 §1): Available, Progressing and Degraded
//! aggregated from the Config's and the ImagePruner's conditions, the operator version, and
//! related objects.

use jiff::Timestamp;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use serde_json::json;

use crate::action::{Action, KubeAction, Payload};
use crate::api::openshift::{
    ClusterOperator, ClusterOperatorCondition, ClusterOperatorStatus, OperandVersion, RelatedObject,
};
use crate::api::{ApiObject, ConditionStatus, Config, ImagePrunerStatus, ManagementState, OperatorCondition};
use crate::diff::differences_under;
use crate::inputs::Inputs;
use crate::names::NAMESPACE;
use crate::observed::ObjectKey;
use crate::plan::Plan;

/// The ClusterOperator's name.
pub const NAME: &str = crate::names::CLUSTER_OPERATOR;

/// One aggregated condition: status, reason, message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Union {
    /// `True`, `False` or `Unknown`.
    pub status: &'static str,
    /// Joined reasons.
    pub reason: String,
    /// Joined message lines.
    pub message: String,
}

fn status_text(status: ConditionStatus) -> &'static str {
    match status {
        ConditionStatus::True => "True",
        ConditionStatus::False => "False",
        ConditionStatus::Unknown => "Unknown",
    }
}

/// Aggregates every input condition whose type ends with `suffix` (spec 40 §1.2 rules 1–3).
pub fn union(inputs: &[OperatorCondition], suffix: &str, normal: ConditionStatus) -> Union {
    let matching: Vec<&OperatorCondition> = inputs.iter().filter(|c| c.type_.ends_with(suffix)).collect();
    let decided = matching.iter().find(|c| c.status != ConditionStatus::Unknown && c.status != normal);
    let status = match decided {
        Some(c) => c.status,
        None if matching.iter().any(|c| c.status == ConditionStatus::Unknown) => ConditionStatus::Unknown,
        None => normal,
    };
    let mut reasons: Vec<String> = matching
        .iter()
        .filter(|c| !c.reason.is_empty() && c.reason != "AsExpected")
        .map(|c| format!("{}{}", c.type_.strip_suffix(suffix).unwrap_or_default(), c.reason))
        .collect();
    reasons.sort();
    let mut reason = reasons.join("::");
    if reason.is_empty() && status == normal {
        reason = "AsExpected".to_owned();
    }
    let message = matching
        .iter()
        .filter(|c| !c.message.is_empty())
        .flat_map(|c| c.message.split('\n').map(move |line| format!("{}: {line}", c.type_)))
        .collect::<Vec<_>>()
        .join("\n");
    Union { status: status_text(status), reason, message }
}

/// The objects `oc adm must-gather` collects for this operator.
pub fn related_objects() -> Vec<RelatedObject> {
    let object = |group: &str, resource: &str, name: &str| RelatedObject {
        group: group.to_owned(),
        resource: resource.to_owned(),
        namespace: String::new(),
        name: name.to_owned(),
    };
    vec![
        object("imageregistry.operator.openshift.io", "configs", "cluster"),
        object("imageregistry.operator.openshift.io", "imagepruners", "cluster"),
        object("rbac.authorization.k8s.io", "clusterroles", "system:registry"),
        object("rbac.authorization.k8s.io", "clusterrolebindings", "registry-registry-role"),
        object("rbac.authorization.k8s.io", "clusterrolebindings", "openshift-image-registry-pruner"),
        object("", "namespaces", NAMESPACE),
    ]
}

/// The operator version to report, or `None` to keep what is there (spec 40 §1.3).
pub fn version(config: &Config, deployment: Option<&Deployment>, release: &str) -> Option<String> {
    let version = if config.spec.management_state() == ManagementState::Managed {
        let deployment = deployment?;
        let status = deployment.status.clone().unwrap_or_default();
        let rolled_out = status.available_replicas.unwrap_or(0) > 0
            && status.observed_generation.unwrap_or(0) >= deployment.metadata.generation.unwrap_or(0)
            && status.updated_replicas.unwrap_or(0) == status.replicas.unwrap_or(0);
        if !rolled_out {
            return None;
        }
        deployment.metadata.annotations.as_ref()?.get("release.openshift.io/version")?.clone()
    } else {
        release.to_owned()
    };
    (!version.is_empty()).then_some(version)
}

/// The ClusterOperator's status for this pass's Config and pruner conditions.
pub fn compute(
    existing: Option<&ClusterOperatorStatus>,
    config: &Config,
    config_conditions: &[OperatorCondition],
    pruner: Option<&ImagePrunerStatus>,
    deployment: Option<&Deployment>,
    release: &str,
    now: Timestamp,
) -> ClusterOperatorStatus {
    let mut status = existing.cloned().unwrap_or_default();
    let mut inputs = config_conditions.to_vec();
    for condition in pruner.map(|p| p.conditions.as_slice()).unwrap_or_default() {
        inputs.push(OperatorCondition { type_: format!("ImagePruner{}", condition.type_), ..condition.clone() });
    }
    for (type_, normal) in [
        ("Available", ConditionStatus::True),
        ("Progressing", ConditionStatus::False),
        ("Degraded", ConditionStatus::False),
    ] {
        let union = union(&inputs, type_, normal);
        match status.conditions.iter_mut().find(|c| c.type_ == type_) {
            Some(existing) => {
                if existing.status != union.status {
                    existing.status = union.status.to_owned();
                    existing.last_transition_time = Time(now);
                }
                existing.reason = union.reason;
                existing.message = union.message;
            }
            None => status.conditions.push(ClusterOperatorCondition {
                type_: type_.to_owned(),
                status: union.status.to_owned(),
                last_transition_time: Time(now),
                reason: union.reason,
                message: union.message,
            }),
        }
    }
    if let Some(version) = version(config, deployment, release) {
        status.versions = vec![OperandVersion { name: "operator".to_owned(), version }];
    }
    status.related_objects = related_objects();
    status
}

/// While the Config is being bootstrapped: create the ClusterOperator if it is missing, so the
/// cluster shows the operator at once; its status follows once the Config exists (spec 40 §1.1:
/// no Config, no status).
pub fn bootstrap(observed: &Inputs<'_>, plan: &mut Plan) {
    if matches!(observed.cluster_operator, Ok(None)) {
        plan.push(create_action(), "the ClusterOperator image-registry does not exist");
    }
}

fn create_action() -> Action {
    let object = json!({ "apiVersion": ClusterOperator::api_version(), "kind": ClusterOperator::KIND, "metadata": { "name": NAME }, "spec": {} });
    Action::Kube(KubeAction::Create { key: ObjectKey::of::<ClusterOperator>("", NAME), object: Payload::new(object) })
}

/// Plans the ClusterOperator's creation (when missing) and its status.
pub fn plan(
    observed: &Inputs<'_>,
    config: &Config,
    config_conditions: &[OperatorCondition],
    pruner: Option<&ImagePrunerStatus>,
    plan: &mut Plan,
) {
    let key = ObjectKey::of::<ClusterOperator>("", NAME);
    let existing = match &observed.cluster_operator {
        Ok(existing) => existing,
        Err(e) => return plan.error("clusteroperator", e.to_string()),
    };
    let deployment = observed.deployment.as_ref().ok().and_then(Option::as_ref);
    let old = existing.as_ref().and_then(|co| co.status.as_ref());
    let new =
        compute(old, config, config_conditions, pruner, deployment, &observed.operator.release_version, observed.now);
    if existing.is_none() {
        plan.push(create_action(), "the ClusterOperator image-registry does not exist");
    }
    if old != Some(&new) {
        let new_value = serde_json::to_value(&new).unwrap_or_default();
        let old_value = serde_json::to_value(old.cloned().unwrap_or_default()).unwrap_or_default();
        let take_back = crate::objects::takeback::emptied(&old_value, &new_value);
        let mut changes = differences_under("ClusterOperator", &["status"], &new_value, &old_value);
        changes.iter_mut().for_each(|c| c.path = format!("status.{}", c.path));
        let object = json!({
            "apiVersion": ClusterOperator::api_version(),
            "kind": ClusterOperator::KIND,
            "metadata": { "name": NAME },
            "status": new_value,
        });
        plan.push(
            Action::Kube(KubeAction::ApplyStatus { key, take_back, object: Payload::new(object), changes }),
            "the operator's aggregated status changed",
        );
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::apps::v1::DeploymentStatus;

    use super::*;

    fn c(type_: &str, status: ConditionStatus, reason: &str, message: &str) -> OperatorCondition {
        OperatorCondition {
            type_: type_.into(),
            status,
            last_transition_time: Time(Timestamp::UNIX_EPOCH),
            reason: reason.into(),
            message: message.into(),
        }
    }

    #[test]
    fn healthy_cluster() {
        use ConditionStatus::{False, True};
        let inputs = vec![
            c("Available", True, "Ready", "The registry is ready"),
            c("Progressing", False, "Ready", "The registry is ready"),
            c("Degraded", False, "", ""),
            c("NodeCADaemonAvailable", True, "AsExpected", "The daemon set node-ca has available replicas"),
            c("NodeCADaemonProgressing", False, "AsExpected", "The daemon set node-ca is deployed"),
            c("ImagePrunerAvailable", True, "AsExpected", "Pruner CronJob has been created"),
            c("ImagePrunerDegraded", False, "AsExpected", ""),
        ];
        assert_eq!(
            union(&inputs, "Available", True),
            Union {
                status: "True",
                reason: "Ready".into(),
                message: "Available: The registry is ready\nNodeCADaemonAvailable: The daemon set node-ca has available replicas\nImagePrunerAvailable: Pruner CronJob has been created".into()
            }
        );
        let progressing = union(&inputs, "Progressing", False);
        assert_eq!((progressing.status, progressing.reason.as_str()), ("False", "Ready"));
        assert_eq!(
            progressing.message,
            "Progressing: The registry is ready\nNodeCADaemonProgressing: The daemon set node-ca is deployed"
        );
        assert_eq!(
            union(&inputs, "Degraded", False),
            Union { status: "False", reason: "AsExpected".into(), message: String::new() }
        );
    }

    #[test]
    fn failures_decide_and_reasons_join_sorted() {
        use ConditionStatus::{False, True, Unknown};
        let failed_job =
            vec![c("Degraded", False, "", ""), c("ImagePrunerDegraded", True, "JobFailed", "oops\nline two")];
        let degraded = union(&failed_job, "Degraded", False);
        assert_eq!((degraded.status, degraded.reason.as_str()), ("True", "ImagePrunerJobFailed"));
        assert_eq!(degraded.message, "ImagePrunerDegraded: oops\nImagePrunerDegraded: line two");
        let no_cronjob = vec![
            c("Available", True, "Ready", ""),
            c("ImagePrunerAvailable", False, "Error", "Pruner CronJob does not exist"),
        ];
        let available = union(&no_cronjob, "Available", True);
        assert_eq!((available.status, available.reason.as_str()), ("False", "ImagePrunerError::Ready"));
        let unknown = vec![c("Available", True, "Ready", ""), c("NodeCADaemonAvailable", Unknown, "Unknown", "")];
        assert_eq!(union(&unknown, "Available", True).status, "Unknown");
        assert_eq!(
            union(&[], "Available", True),
            Union { status: "True", reason: "AsExpected".into(), message: String::new() }
        );
        let abnormal_without_reason = vec![c("Degraded", True, "", "")];
        assert_eq!(union(&abnormal_without_reason, "Degraded", False).reason, "");
    }

    #[test]
    fn versions_follow_the_rollout() {
        let mut config = Config::default();
        let mut deployment = Deployment::default();
        deployment.metadata.annotations = Some([("release.openshift.io/version".to_owned(), "1".to_owned())].into());
        // Empty state, no deployment: release version (unset here → unchanged).
        assert_eq!(version(&config, None, ""), None);
        config.spec.management_state = "Managed".into();
        assert_eq!(version(&config, None, "2"), None, "Managed without a Deployment keeps the version");
        assert_eq!(version(&config, Some(&deployment), "2"), None, "not rolled out yet");
        deployment.status = Some(DeploymentStatus { available_replicas: Some(1), ..DeploymentStatus::default() });
        deployment.metadata.generation = Some(0);
        let mut ready = deployment.clone();
        ready.status = Some(DeploymentStatus {
            available_replicas: Some(1),
            replicas: Some(0),
            updated_replicas: Some(0),
            ..DeploymentStatus::default()
        });
        assert_eq!(version(&config, Some(&ready), "2"), Some("1".into()));
        config.spec.management_state = "Removed".into();
        assert_eq!(version(&config, Some(&ready), "3"), Some("3".into()));
        config.spec.management_state = "Unmanaged".into();
        assert_eq!(version(&config, Some(&ready), "4"), Some("4".into()));
    }

    #[test]
    fn related_objects_in_order() {
        let related = related_objects();
        assert_eq!(related.len(), 6);
        assert_eq!(
            related[5],
            RelatedObject {
                group: String::new(),
                resource: "namespaces".into(),
                namespace: String::new(),
                name: "openshift-image-registry".into()
            }
        );
        assert_eq!(
            serde_json::to_value(&related[5]).unwrap(),
            json!({"group": "", "resource": "namespaces", "name": "openshift-image-registry"})
        );
    }
}
