//! The storage-safety rules as a checker over a plan: storage is deleted only when the Config
//! is Removed or being deleted, the storage is Managed, and the resource is the one the
//! operator recorded (and, for buckets, tagged as this cluster's); a bucket is created only
//! under the name the Config already holds. Tests run it over generated snapshots; the shell
//! can run it as a last check before executing a plan.

// A new action or storage kind must be decided on wherever these enums are matched.
#![deny(clippy::wildcard_enum_match_arm)]

use k8s_openapi::api::core::v1::PersistentVolumeClaim;

use crate::action::{Action, CloudAction, KubeAction};
use crate::api::{Config, ManagementState};
use crate::observed::Observed;
use crate::plan::Plan;
use crate::storage::s3::ownership_tag;

/// Why the Config allows no storage deletion, or `None` when it does.
fn deletion_forbidden(config: Option<&Config>) -> Option<String> {
    let Some(config) = config else { return Some("there is no Config".into()) };
    let removing =
        config.metadata.deletion_timestamp.is_some() || config.spec.management_state() == ManagementState::Removed;
    if !removing {
        return Some(format!("the registry is {} and not being deleted", config.spec.management_state().as_str()));
    }
    if config.spec.storage.management_state != "Managed" {
        return Some("the storage is not Managed".into());
    }
    None
}

/// Every rule the plan breaks, or `Ok` when it keeps them all.
pub fn check(observed: &Observed, plan: &Plan) -> Result<(), Vec<String>> {
    let inputs = crate::inputs::Inputs::decode(observed);
    let config = inputs.config.clone().ok().flatten();
    let applied = config.as_ref().and_then(|c| c.status.as_ref()).map(|s| s.storage.clone()).unwrap_or_default();
    let mut broken = Vec::new();
    for step in &plan.steps {
        match &step.action {
            Action::Cloud(CloudAction::S3DeleteBucket { target, require_tag }) => {
                if let Some(why) = deletion_forbidden(config.as_ref()) {
                    broken.push(format!("deletes bucket {} although {why}", target.bucket));
                }
                if applied.s3.as_ref().map(|s| s.bucket.as_str()) != Some(target.bucket.as_str()) {
                    broken.push(format!("deletes bucket {} which status.storage does not record", target.bucket));
                }
                let tag = ownership_tag(inputs.infrastructure_name());
                let tagged = observed.cloud.s3.get(&target.bucket).is_some_and(|b| b.tags.contains(&tag));
                if *require_tag != tag || !tagged {
                    broken.push(format!("deletes bucket {} without this cluster's ownership tag", target.bucket));
                }
            }
            Action::Cloud(CloudAction::GcsDeleteBucket { bucket, require_label }) => {
                if let Some(why) = deletion_forbidden(config.as_ref()) {
                    broken.push(format!("deletes GCS bucket {bucket} although {why}"));
                }
                if applied.gcs.as_ref().map(|g| g.bucket.as_str()) != Some(bucket.as_str()) {
                    broken.push(format!("deletes GCS bucket {bucket} which status.storage does not record"));
                }
                let label = crate::storage::gcs::ownership_label(inputs.infrastructure_name());
                let labelled =
                    observed.cloud.gcs.get(bucket).is_some_and(|b| b.labels.get(&label.key) == Some(&label.value));
                if *require_label != label || !labelled {
                    broken.push(format!("deletes GCS bucket {bucket} without this cluster's ownership label"));
                }
            }
            Action::Cloud(CloudAction::AzureDeleteStorage { account, require_tag, .. }) => {
                if let Some(why) = deletion_forbidden(config.as_ref()) {
                    broken.push(format!("deletes storage account {account} although {why}"));
                }
                if applied.azure.as_ref().map(|a| a.account_name.as_str()) != Some(account.as_str()) {
                    broken.push(format!("deletes storage account {account} which status.storage does not record"));
                }
                let tag = crate::storage::azure::ownership_tag(inputs.infrastructure_name());
                let tagged =
                    observed.cloud.azure.get(account).is_some_and(|a| a.tags.get(&tag.key) == Some(&tag.value));
                if *require_tag != tag || !tagged {
                    broken.push(format!("deletes storage account {account} without this cluster's ownership tag"));
                }
            }
            Action::Cloud(CloudAction::SwiftDeleteContainer { container, require_cluster_id }) => {
                if let Some(why) = deletion_forbidden(config.as_ref()) {
                    broken.push(format!("deletes Swift container {container} although {why}"));
                }
                if applied.swift.as_ref().map(|s| s.container.as_str()) != Some(container.as_str()) {
                    broken.push(format!("deletes Swift container {container} which status.storage does not record"));
                }
                let infra = inputs.infrastructure_name();
                let marked = observed
                    .cloud
                    .swift_containers
                    .get(container)
                    .is_some_and(|c| c.metadata.get("Openshiftclusterid").map(String::as_str) == Some(infra));
                if *require_cluster_id != infra || !marked {
                    broken.push(format!("deletes Swift container {container} not marked as this cluster's"));
                }
            }
            Action::Cloud(CloudAction::GcsCreateBucket { bucket, .. }) => {
                let persisted = config.as_ref().and_then(|c| c.spec.storage.gcs.as_ref()).map(|g| g.bucket.as_str());
                if persisted != Some(bucket.as_str()) {
                    broken.push(format!("creates GCS bucket {bucket} before its name is persisted in the Config"));
                }
            }
            Action::Cloud(CloudAction::AzureCreateStorageAccount { account, .. }) => {
                let persisted =
                    config.as_ref().and_then(|c| c.spec.storage.azure.as_ref()).map(|a| a.account_name.as_str());
                if persisted != Some(account.as_str()) {
                    broken
                        .push(format!("creates storage account {account} before its name is persisted in the Config"));
                }
            }
            Action::Cloud(CloudAction::SwiftCreateContainer { container, .. }) => {
                let persisted =
                    config.as_ref().and_then(|c| c.spec.storage.swift.as_ref()).map(|s| s.container.as_str());
                if persisted != Some(container.as_str()) {
                    broken.push(format!(
                        "creates Swift container {container} before its name is persisted in the Config"
                    ));
                }
            }
            Action::Cloud(CloudAction::S3CreateBucket { target }) => {
                let persisted = config.as_ref().and_then(|c| c.spec.storage.s3.as_ref()).map(|s| s.bucket.as_str());
                if persisted != Some(target.bucket.as_str()) {
                    broken.push(format!("creates bucket {} before its name is persisted in the Config", target.bucket));
                }
            }
            Action::Kube(KubeAction::Delete { key, .. })
                if key.kind == "PersistentVolumeClaim" && key.group.is_empty() =>
            {
                if let Some(why) = deletion_forbidden(config.as_ref()) {
                    broken.push(format!("deletes claim {} although {why}", key.name));
                }
                if applied.pvc.as_ref().map(|p| p.claim.as_str()) != Some(key.name.as_str()) {
                    broken.push(format!("deletes claim {} which status.storage does not record", key.name));
                }
                let exists =
                    observed.objects.get::<PersistentVolumeClaim>(&key.namespace, &key.name).ok().flatten().is_some();
                if !exists {
                    broken.push(format!("deletes claim {} which does not exist", key.name));
                }
            }
            // Configuring storage that exists loses nothing; no rule. Listed one by one so a
            // new call cannot join the plan without a decision here.
            Action::Cloud(
                CloudAction::S3PutPublicAccessBlock { .. }
                | CloudAction::S3PutBucketTagging { .. }
                | CloudAction::S3PutBucketEncryption { .. }
                | CloudAction::S3PutLifecycleConfiguration { .. }
                | CloudAction::GcsBindTags { .. }
                | CloudAction::AzurePrivateEndpoint { .. }
                | CloudAction::AzureDisallowSharedKey { .. }
                | CloudAction::AzureCreateContainer { .. },
            ) => {}
            // Other deletions (the registry's own objects) hold no user data.
            Action::Kube(
                KubeAction::Delete { .. }
                | KubeAction::Create { .. }
                | KubeAction::Apply { .. }
                | KubeAction::ApplyStatus { .. }
                | KubeAction::Patch { .. }
                | KubeAction::AddFinalizer { .. }
                | KubeAction::RemoveFinalizer { .. },
            ) => {}
        }
    }
    if broken.is_empty() { Ok(()) } else { Err(broken) }
}
