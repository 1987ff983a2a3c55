//! The Config's status: Available, Progressing, Degraded and Removed with the reference's
//! reasons, messages and timing (spec 10 §6), plus readyReplicas, observedGeneration,
//! generations and the applied storage.

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::apps::v1::Deployment;

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
pub struct Inputs<'a> {
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
const REMOVED: &str = "The registry is removed";

/// Computes the status. Returns it with the time at which Degraded is due to turn True if
/// nothing else changes (so the caller can ask for a pass then).
pub fn compute(inputs: &Inputs<'_>) -> (ImageRegistryStatus, Option<Timestamp>) {
    use ConditionStatus::{False, True};
    let Inputs { config, state, deployment, apply_error, now, .. } = *inputs;
    let previous = config.status.clone().unwrap_or_default();
    let mut status = previous.clone();
    let unmanaged = *state == ManagementState::Unmanaged;
    let removed = *state == ManagementState::Removed;
    let permanent = apply_error.filter(|e| e.permanent);
    let deleted = deployment.is_some_and(|d| d.metadata.deletion_timestamp.is_some());
    let deploy_status = deployment.and_then(|d| d.status.clone()).unwrap_or_default();
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
        let errors = route_errors(&inputs.routes);
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
    for wanted in inputs.storage_conditions.iter().cloned() {
        conditions::set(&mut status.conditions, wanted, now);
    }

    status.ready_replicas = deploy_status.ready_replicas.unwrap_or(0);
    status.observed_generation = config.metadata.generation.unwrap_or(0);
    if let Some(generation) = deployment.and_then(|d| d.metadata.generation) {
        record_generation(&mut status.generations, generation);
    }
    status.storage = inputs.storage.clone();
    if inputs.mirror_storage_management {
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
