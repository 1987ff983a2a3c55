//! ImagePruner conditions (spec 40 §2.6): Available, Failed, Scheduled, Degraded.

use jiff::Timestamp;
use k8s_openapi::api::batch::v1::Job;

use crate::api::{ConditionStatus, ImagePruner, ImagePrunerStatus};
use crate::conditions::{self, Wanted};

/// The latest finished pruner Job's `Failed` condition (reason, message), if it failed.
/// Only Jobs labelled `created-by=image-pruner` count (the reference meant to filter on it).
pub fn last_failure(jobs: &[Job]) -> Option<(String, String)> {
    let mut ours: Vec<&Job> = jobs
        .iter()
        .filter(|j| {
            j.metadata.labels.as_ref().and_then(|l| l.get("created-by")).map(String::as_str) == Some("image-pruner")
        })
        .collect();
    ours.sort_by(|a, b| b.metadata.creation_timestamp.cmp(&a.metadata.creation_timestamp));
    let finished = ours.into_iter().find_map(|j| j.status.as_ref()?.conditions.as_ref().filter(|c| !c.is_empty()))?;
    finished
        .iter()
        .find(|c| c.type_ == "Failed")
        .map(|c| (c.reason.clone().unwrap_or_default(), c.message.clone().unwrap_or_default()))
}

/// The pruner's new status.
pub fn compute(
    pruner: &ImagePruner,
    cronjob_exists: bool,
    jobs: &[Job],
    apply_error: Option<&str>,
    now: Timestamp,
) -> ImagePrunerStatus {
    use ConditionStatus::{False, True};
    let mut status = pruner.status.clone().unwrap_or_default();
    let available = if cronjob_exists {
        Wanted::new("Available", True, "AsExpected", "Pruner CronJob has been created")
    } else {
        Wanted::new("Available", False, "Error", "Pruner CronJob does not exist")
    };
    let failure = last_failure(jobs);
    let failed = match &failure {
        Some((reason, message)) => Wanted::new("Failed", True, reason, message.clone()),
        None => Wanted::new("Failed", False, "Complete", "Pruner completed successfully"),
    };
    let scheduled = if pruner.spec.suspend == Some(true) {
        Wanted::new("Scheduled", False, "Suspended", "The pruner job has been suspended")
    } else {
        Wanted::new("Scheduled", True, "Scheduled", "The pruner job has been scheduled")
    };
    let degraded = match (apply_error, &failure) {
        (Some(e), _) => Wanted::new("Degraded", True, "SyncError", format!("Error: {e}")),
        (None, Some((_, message))) => Wanted::new("Degraded", True, "JobFailed", message.clone()),
        (None, None) => Wanted::new("Degraded", False, "AsExpected", ""),
    };
    for wanted in [available, failed, scheduled, degraded] {
        conditions::set(&mut status.conditions, wanted, now);
    }
    status.observed_generation = pruner.metadata.generation.unwrap_or(0);
    status
}
