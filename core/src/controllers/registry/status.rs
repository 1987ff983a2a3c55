//! The Config's status: Available, Progressing, Degraded and Removed with the reference's
//! reasons, messages and timing (spec 10 §6), plus readyReplicas, observedGeneration,
//! generations and the applied storage.

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentStatus};

use crate::api::openshift::Route;
use crate::api::{ConditionStatus, Config, GenerationStatus, ImageRegistryStatus, ManagementState, Storage};
use crate::conditions::{self, Wanted};
use crate::names::{NAMESPACE, REGISTRY_NAME};

/// How long Available may be not-True before Degraded turns True.
pub const DEGRADED_INERTIA: SignedDuration = SignedDuration::from_secs(5 * 60);

/// An error of the apply step, shown in the conditions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplyError {
    /// Permanent errors are configuration mistakes: no retry until the Config changes.
    pub permanent: bool,
    /// Reason for permanent errors (`VerificationFailed`, `StorageNotConfigured`).
    pub reason: String,
    /// The error text.
    pub message: String,
}

impl ApplyError {
    /// A configuration error: reported, not retried.
    pub fn permanent(reason: &str, message: impl Into<String>) -> Self {
        Self { permanent: true, reason: reason.to_owned(), message: message.into() }
    }

    /// An error worth retrying.
    pub fn transient(message: impl Into<String>) -> Self {
        Self { permanent: false, reason: "Error".to_owned(), message: message.into() }
    }
}

/// What the status is computed from.
pub struct Facts<'a> {
    /// The Config as read.
    pub config: &'a Config,
    /// Its management state (deletion is handled elsewhere).
    pub state: &'a ManagementState,
    /// The registry Deployment, if it exists.
    pub deployment: Option<&'a Deployment>,
    /// Routes the Config asks for that exist.
    pub routes: Vec<Route>,
    /// The apply step's error.
    pub apply_error: Option<&'a ApplyError>,
    /// Storage conditions the storage step set.
    pub storage_conditions: Vec<Wanted>,
    /// `status.storage` as it should be now.
    pub storage: Storage,
    /// Whether the storage management state should be mirrored (Managed passes only).
    pub mirror_storage_management: bool,
    /// The registry's objects the observation lacks (this pass creates them), as `Kind name`.
    pub missing: Vec<String>,
    /// The pass's clock.
    pub now: Timestamp,
}

fn deployment_complete(deployment: &Deployment) -> bool {
    let conditions = deployment.status.as_ref().and_then(|s| s.conditions.as_ref());
    conditions.is_some_and(|list| {
        list.iter().any(|c| {
            c.type_ == "Progressing" && c.status == "True" && c.reason.as_deref() == Some("NewReplicaSetAvailable")
        })
    })
}

fn route_errors(routes: &[Route]) -> Vec<String> {
    let mut errors = Vec::new();
    for route in routes {
        let name = route.metadata.name.clone().unwrap_or_default();
        for ingress in route.status.iter().flat_map(|s| &s.ingress) {
            for condition in ingress.conditions.iter().filter(|c| c.type_ == "Admitted" && c.status != "True") {
                errors.push(format!(
                    "route {name} (host {}, router {}) not admitted: {}",
                    ingress.host, ingress.router_name, condition.message
                ));
            }
        }
    }
    errors
}

const UNMANAGED: &str = "The registry configuration is set to unmanaged mode";

fn missing_message(missing: &[String]) -> String {
    format!("The registry's objects are missing and being created: {}", missing.join(", "))
}
const REMOVED: &str = "The registry is removed";

/// Computes the status. Returns it with the time at which Degraded is due to turn True if
/// nothing else changes (so the caller can ask for a pass then).
pub fn compute(facts: &Facts<'_>) -> (ImageRegistryStatus, Option<Timestamp>) {
    use ConditionStatus::{False, True};
    let Facts { config, state, deployment, apply_error, now, .. } = *facts;
    let mut status = config.status.clone().unwrap_or_default();
    let unmanaged = *state == ManagementState::Unmanaged;
    let removed = *state == ManagementState::Removed;
    let permanent = apply_error.filter(|e| e.permanent);
    let deleted = deployment.is_some_and(|d| d.metadata.deletion_timestamp.is_some());
    let no_status = DeploymentStatus::default();
    let deploy_status = deployment.and_then(|d| d.status.as_ref()).unwrap_or(&no_status);
    let available_replicas = deploy_status.available_replicas.unwrap_or(0);

    let available = if unmanaged {
        Wanted::new("Available", True, "Unmanaged", UNMANAGED)
    } else if deployment.is_none() {
        match (permanent, removed) {
            (Some(e), _) => Wanted::new("Available", False, &e.reason, format!("Error: {}", e.message)),
            (None, true) => Wanted::new("Available", True, "Removed", REMOVED),
            (None, false) => Wanted::new("Available", False, "DeploymentNotFound", "The deployment does not exist"),
        }
    } else if deleted {
        Wanted::new("Available", False, "DeploymentDeleted", "The deployment is being deleted")
    } else if !removed && facts.missing.iter().any(|m| !m.starts_with("Route ")) {
        // A registry without its Service, certificates or RBAC does not serve, whatever the
        // Deployment says: after an etcd restore, say, until they are back. A route only
        // exposes it outside the cluster: its absence is progress, not unavailability.
        Wanted::new("Available", False, "ObjectsMissing", missing_message(&facts.missing))
    } else if available_replicas == 0 {
        Wanted::new("Available", False, "NoReplicasAvailable", "The deployment does not have available replicas")
    } else if available_replicas != deploy_status.replicas.unwrap_or(0) {
        Wanted::new("Available", True, "MinimumAvailability", "The registry has minimum availability")
    } else {
        Wanted::new("Available", True, "Ready", "The registry is ready")
    };

    let complete = deployment.is_some_and(deployment_complete);
    let progressing = if unmanaged {
        Wanted::new("Progressing", False, "Unmanaged", UNMANAGED)
    } else if removed {
        match deployment {
            Some(_) => Wanted::new("Progressing", True, "DeletingDeployment", "The deployment is being removed"),
            None => Wanted::new("Progressing", False, "Removed", "All registry resources are removed"),
        }
    } else if let Some(e) = apply_error {
        let status = if e.permanent { False } else { True };
        Wanted::new("Progressing", status, "Error", format!("Unable to apply resources: {}", e.message))
    } else if deployment.is_none() {
        Wanted::new(
            "Progressing",
            True,
            "WaitingForDeployment",
            "All resources are successfully applied, but the deployment does not exist",
        )
    } else if deleted {
        Wanted::new("Progressing", True, "FinalizingDeployment", "The deployment is being deleted")
    } else if !facts.missing.is_empty() {
        Wanted::new("Progressing", True, "ObjectsMissing", missing_message(&facts.missing))
    } else if !complete {
        Wanted::new("Progressing", True, "DeploymentNotCompleted", "The deployment has not completed")
    } else {
        Wanted::new("Progressing", False, "Ready", "The registry is ready")
    };

    let available_true = available.status == True;
    let available_message = available.message.clone();
    conditions::set(&mut status.conditions, available, now);
    let available_since = conditions::find(&status.conditions, "Available").map(|c| c.last_transition_time.0);
    let mut degraded_due = None;

    let degraded = if unmanaged {
        Wanted::new("Degraded", False, "Unmanaged", UNMANAGED)
    } else if let Some(e) = permanent {
        Wanted::new("Degraded", True, &e.reason, format!("Error: {}", e.message))
    } else if removed {
        Wanted::new("Degraded", False, "Removed", REMOVED)
    } else if !available_true {
        let due = available_since.map(|since| since + DEGRADED_INERTIA);
        match due {
            Some(due) if now > due => Wanted::new("Degraded", True, "Unavailable", available_message),
            _ => {
                degraded_due = due;
                Wanted::new("Degraded", False, "", "")
            }
        }
    } else if !complete {
        let first = deploy_status.conditions.iter().flatten().find(|c| c.type_ == "Progressing");
        match first.filter(|c| c.reason.as_deref() == Some("ProgressDeadlineExceeded")) {
            Some(c) => Wanted::new(
                "Degraded",
                True,
                "ProgressDeadlineExceeded",
                format!("Registry deployment has timed out progressing: {}", c.message.clone().unwrap_or_default()),
            ),
            None => Wanted::new("Degraded", False, "", ""),
        }
    } else {
        let errors = route_errors(&facts.routes);
        if errors.is_empty() {
            Wanted::new("Degraded", False, "", "")
        } else {
            Wanted::new("Degraded", True, "RouteDegraded", errors.join(","))
        }
    };
    conditions::set(&mut status.conditions, progressing, now);
    conditions::set(&mut status.conditions, degraded, now);
    let removed_condition =
        if removed { Wanted::new("Removed", True, "Removed", REMOVED) } else { Wanted::new("Removed", False, "", "") };
    conditions::set(&mut status.conditions, removed_condition, now);
    for wanted in facts.storage_conditions.iter().cloned() {
        conditions::set(&mut status.conditions, wanted, now);
    }

    status.ready_replicas = deploy_status.ready_replicas.unwrap_or(0);
    status.observed_generation = config.metadata.generation.unwrap_or(0);
    if let Some(generation) = deployment.and_then(|d| d.metadata.generation) {
        record_generation(&mut status.generations, generation);
    }
    status.storage = facts.storage.clone();
    if facts.mirror_storage_management {
        status.storage.management_state = config.spec.storage.management_state.clone();
        status.storage_managed = config.spec.storage.management_state == "Managed";
    }
    (status, degraded_due)
}

/// Records the Deployment's generation in `status.generations`.
pub fn record_generation(generations: &mut Vec<GenerationStatus>, generation: i64) {
    let entry = GenerationStatus {
        group: "apps".to_owned(),
        resource: "deployments".to_owned(),
        namespace: NAMESPACE.to_owned(),
        name: REGISTRY_NAME.to_owned(),
        last_generation: generation,
        hash: String::new(),
    };
    let same = |g: &GenerationStatus| {
        g.group == entry.group && g.resource == entry.resource && g.namespace == entry.namespace && g.name == entry.name
    };
    match generations.iter_mut().find(|g| same(g)) {
        Some(existing) => existing.last_generation = generation,
        None => generations.push(entry),
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;
    use k8s_openapi::api::apps::v1::{DeploymentCondition, DeploymentStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    use super::*;
    use crate::api::OperatorCondition;
    use crate::api::openshift::{RouteIngress, RouteIngressCondition, RouteStatus};

    fn now() -> Timestamp {
        "2026-01-01T12:00:00Z".parse().unwrap()
    }

    fn condition(type_: &str, status: &str, reason: &str, message: &str) -> DeploymentCondition {
        DeploymentCondition {
            type_: type_.into(),
            status: status.into(),
            reason: Some(reason.into()),
            message: Some(message.into()),
            ..DeploymentCondition::default()
        }
    }

    fn complete() -> DeploymentCondition {
        condition("Progressing", "True", "NewReplicaSetAvailable", "")
    }

    fn deployment(replicas: i32, available: i32, conditions: Vec<DeploymentCondition>) -> Deployment {
        Deployment {
            status: Some(DeploymentStatus {
                replicas: Some(replicas),
                available_replicas: Some(available),
                conditions: Some(conditions),
                ..DeploymentStatus::default()
            }),
            ..Deployment::default()
        }
    }

    fn route(admitted: &str, message: &str) -> Route {
        let mut route = Route::default();
        route.metadata.name = Some("my-route".into());
        route.status = Some(RouteStatus {
            ingress: vec![RouteIngress {
                host: "registry-host.openshift".into(),
                router_name: "default".into(),
                conditions: vec![RouteIngressCondition {
                    type_: "Admitted".into(),
                    status: admitted.into(),
                    message: message.into(),
                    ..RouteIngressCondition::default()
                }],
            }],
        });
        route
    }

    struct Case {
        state: ManagementState,
        deployment: Option<Deployment>,
        routes: Vec<Route>,
        error: Option<ApplyError>,
        prior: Vec<OperatorCondition>,
    }

    fn case(state: ManagementState, deployment: Option<Deployment>) -> Case {
        Case { state, deployment, routes: vec![], error: None, prior: vec![] }
    }

    fn run(case: Case) -> Vec<(String, String, String)> {
        let config = Config {
            status: Some(ImageRegistryStatus { conditions: case.prior, ..ImageRegistryStatus::default() }),
            ..Config::default()
        };
        let facts = Facts {
            config: &config,
            state: &case.state,
            deployment: case.deployment.as_ref(),
            routes: case.routes,
            apply_error: case.error.as_ref(),
            storage_conditions: vec![],
            storage: Storage::default(),
            mirror_storage_management: false,
            missing: vec![],
            now: now(),
        };
        let (status, _) = compute(&facts);
        ["Available", "Progressing", "Degraded", "Removed"]
            .iter()
            .map(|t| {
                let c = conditions::find(&status.conditions, t).unwrap();
                (format!("{:?}", c.status), c.reason.clone(), c.message.clone())
            })
            .collect()
    }

    fn summary(result: &[(String, String, String)]) -> Vec<String> {
        result.iter().map(|(s, r, _)| format!("{s} {r}").trim().to_owned()).collect()
    }

    fn unavailable_since(seconds: i64) -> Vec<OperatorCondition> {
        vec![OperatorCondition {
            type_: "Available".into(),
            status: ConditionStatus::False,
            last_transition_time: Time(now() - SignedDuration::from_secs(seconds)),
            reason: String::new(),
            message: String::new(),
        }]
    }

    #[test]
    fn reference_sync_status_cases() {
        use ManagementState::{Managed, Removed, Unmanaged};
        let progressing = |reason: &str| condition("Progressing", "True", reason, "");
        // 1
        let r = run(case(Removed, Some(deployment(3, 3, vec![complete()]))));
        assert_eq!(summary(&r), ["True Ready", "True DeletingDeployment", "False Removed", "True Removed"]);
        // 2
        let mut c = case(Managed, Some(deployment(3, 3, vec![complete()])));
        c.routes = vec![route("True", ""), route("True", "")];
        assert_eq!(summary(&run(c)), ["True Ready", "False Ready", "False", "False"]);
        // 3
        assert_eq!(
            summary(&run(case(Managed, Some(deployment(0, 2, vec![complete()]))))),
            ["True MinimumAvailability", "False Ready", "False", "False"]
        );
        // 4
        let r = run(case(Managed, Some(deployment(0, 2, vec![progressing("ReplicaSetUpdated")]))));
        assert_eq!(summary(&r), ["True MinimumAvailability", "True DeploymentNotCompleted", "False", "False"]);
        // 5
        let deadline = vec![
            condition("Available", "False", "", ""),
            condition("Progressing", "False", "ProgressDeadlineExceeded", "tired"),
        ];
        let r = run(case(Managed, Some(deployment(0, 2, deadline))));
        assert_eq!(
            summary(&r),
            ["True MinimumAvailability", "True DeploymentNotCompleted", "True ProgressDeadlineExceeded", "False"]
        );
        assert_eq!(r[2].2, "Registry deployment has timed out progressing: tired");
        // 6
        let mut c = case(Managed, Some(deployment(0, 0, vec![progressing("ReplicaSetUpdated")])));
        c.prior = unavailable_since(5 * 60 + 1);
        let r = run(c);
        assert_eq!(
            summary(&r),
            ["False NoReplicasAvailable", "True DeploymentNotCompleted", "True Unavailable", "False"]
        );
        assert_eq!(r[2].2, "The deployment does not have available replicas");
        // 7
        let r = run(case(Managed, Some(deployment(0, 0, vec![progressing("ReplicaSetUpdated")]))));
        assert_eq!(summary(&r), ["False NoReplicasAvailable", "True DeploymentNotCompleted", "False", "False"]);
        // 8
        let mut deleting = deployment(1, 1, vec![complete()]);
        deleting.metadata.deletion_timestamp = Some(Time(now()));
        assert_eq!(
            summary(&run(case(Managed, Some(deleting)))),
            ["False DeploymentDeleted", "True FinalizingDeployment", "False", "False"]
        );
        // 9
        assert_eq!(
            summary(&run(case(Removed, None))),
            ["True Removed", "False Removed", "False Removed", "True Removed"]
        );
        // 10
        let mut c = case(Managed, None);
        c.error = Some(ApplyError::permanent("Permanent", "segfault"));
        let r = run(c);
        assert_eq!(summary(&r), ["False Permanent", "False Error", "True Permanent", "False"]);
        assert_eq!(
            (r[0].2.as_str(), r[1].2.as_str(), r[2].2.as_str()),
            ("Error: segfault", "Unable to apply resources: segfault", "Error: segfault")
        );
        // 11
        let mut c = case(Managed, None);
        c.error = Some(ApplyError::transient("error creating deployment"));
        c.prior = unavailable_since(5 * 60 + 1);
        let r = run(c);
        assert_eq!(summary(&r), ["False DeploymentNotFound", "True Error", "True Unavailable", "False"]);
        assert_eq!(
            (r[1].2.as_str(), r[2].2.as_str()),
            ("Unable to apply resources: error creating deployment", "The deployment does not exist")
        );
        // 12
        let mut c = case(Managed, None);
        c.error = Some(ApplyError::transient("error creating deployment"));
        assert_eq!(summary(&run(c)), ["False DeploymentNotFound", "True Error", "False", "False"]);
        // 13
        assert_eq!(
            summary(&run(case(Unmanaged, Some(Deployment::default())))),
            ["True Unmanaged", "False Unmanaged", "False Unmanaged", "False"]
        );
        // 14
        assert_eq!(
            summary(&run(case(Managed, None))),
            ["False DeploymentNotFound", "True WaitingForDeployment", "False", "False"]
        );
        // 15
        let mut c = case(Managed, Some(deployment(3, 3, vec![complete()])));
        c.routes = vec![route("False", "not working")];
        let r = run(c);
        assert_eq!(summary(&r), ["True Ready", "False Ready", "True RouteDegraded", "False"]);
        assert_eq!(r[2].2, "route my-route (host registry-host.openshift, router default) not admitted: not working");
    }

    #[test]
    fn missing_objects_make_the_registry_unavailable_and_progressing_routes_only_progressing() {
        let ready = deployment(2, 2, vec![complete()]);
        let config = Config::default();
        let state = ManagementState::Managed;
        let facts = |missing: Vec<String>| Facts {
            config: &config,
            state: &state,
            deployment: Some(&ready),
            routes: vec![],
            apply_error: None,
            storage_conditions: vec![],
            storage: Storage::default(),
            mirror_storage_management: false,
            missing,
            now: now(),
        };
        let summary = |missing: Vec<String>| {
            let (status, _) = compute(&facts(missing));
            ["Available", "Progressing"]
                .map(|t| conditions::find(&status.conditions, t).map(|c| format!("{:?} {}", c.status, c.reason)))
        };
        assert_eq!(summary(vec![]), [Some("True Ready".into()), Some("False Ready".into())]);
        assert_eq!(
            summary(vec!["Service image-registry".into()]),
            [Some("False ObjectsMissing".into()), Some("True ObjectsMissing".into())]
        );
        assert_eq!(
            summary(vec!["Route default-route".into()]),
            [Some("True Ready".into()), Some("True ObjectsMissing".into())]
        );
    }

    #[test]
    fn degraded_waits_five_minutes_and_asks_for_a_pass_then() {
        let mut c = case(ManagementState::Managed, None);
        c.prior = unavailable_since(60);
        let config = Config {
            status: Some(ImageRegistryStatus { conditions: c.prior.clone(), ..ImageRegistryStatus::default() }),
            ..Config::default()
        };
        let facts = Facts {
            config: &config,
            state: &c.state,
            deployment: None,
            routes: vec![],
            apply_error: None,
            storage_conditions: vec![],
            storage: Storage::default(),
            mirror_storage_management: false,
            missing: vec![],
            now: now(),
        };
        let (status, due) = compute(&facts);
        assert_eq!(conditions::find(&status.conditions, "Degraded").unwrap().status, ConditionStatus::False);
        assert_eq!(due, Some(now() + SignedDuration::from_secs(4 * 60)));
    }
}
