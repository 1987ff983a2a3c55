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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::ImagePrunerSpec;

    fn job(name: &str, created: &str, label: bool, conditions: serde_json::Value) -> Job {
        let labels = if label { json!({"created-by": "image-pruner"}) } else { json!({}) };
        serde_json::from_value(json!({
            "metadata": {"name": name, "creationTimestamp": created, "labels": labels},
            "status": {"conditions": conditions}
        }))
        .unwrap()
    }

    fn now() -> Timestamp {
        "2026-01-01T00:00:00Z".parse().unwrap()
    }

    fn find<'a>(status: &'a ImagePrunerStatus, type_: &str) -> &'a crate::api::OperatorCondition {
        conditions::find(&status.conditions, type_).unwrap()
    }

    #[test]
    fn the_latest_finished_pruner_job_decides() {
        let failed = json!([{"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded", "message": "Job has reached the specified backoff limit"}]);
        let complete = json!([{"type": "Complete", "status": "True"}]);
        let jobs = vec![
            job("old", "2025-12-30T00:00:00Z", true, complete.clone()),
            job("latest", "2025-12-31T00:00:00Z", true, failed),
            job("running", "2026-01-01T00:00:00Z", true, json!([])),
            job("foreign", "2026-01-01T00:00:00Z", false, json!([{"type": "Failed", "status": "True"}])),
        ];
        let pruner = ImagePruner::new("cluster", ImagePrunerSpec::default());
        let status = compute(&pruner, true, &jobs, None, now());
        assert_eq!(find(&status, "Failed").reason, "BackoffLimitExceeded");
        assert_eq!(
            (find(&status, "Degraded").status, find(&status, "Degraded").reason.as_str()),
            (ConditionStatus::True, "JobFailed")
        );
        let ok = compute(&pruner, true, &[job("a", "2026-01-01T00:00:00Z", true, complete)], None, now());
        assert_eq!(
            (find(&ok, "Failed").status, find(&ok, "Failed").reason.as_str()),
            (ConditionStatus::False, "Complete")
        );
        assert_eq!(
            ok.conditions.iter().map(|c| c.type_.as_str()).collect::<Vec<_>>(),
            ["Available", "Failed", "Scheduled", "Degraded"]
        );
    }

    #[test]
    fn suspension_absence_and_apply_errors() {
        let suspended = ImagePruner::new("cluster", ImagePrunerSpec { suspend: Some(true), ..Default::default() });
        let status = compute(&suspended, false, &[], Some("boom"), now());
        assert_eq!(
            (find(&status, "Scheduled").status, find(&status, "Scheduled").reason.as_str()),
            (ConditionStatus::False, "Suspended")
        );
        assert_eq!(find(&status, "Available").message, "Pruner CronJob does not exist");
        assert_eq!(
            (find(&status, "Degraded").reason.as_str(), find(&status, "Degraded").message.as_str()),
            ("SyncError", "Error: boom")
        );
    }
}
