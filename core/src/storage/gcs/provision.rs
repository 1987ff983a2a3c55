//! GCS provisioning: name, create, label and tag the bucket the Config names (spec 30 §5).

use super::{effective, keyfile, ownership_label};
use crate::action::{Action, CloudAction};
use crate::api::openshift::KeyValue;
use crate::api::{ConditionStatus, Storage};
use crate::inputs::Inputs;
use crate::observed::BucketState;
use crate::storage::completion::{Completion, STORAGE_EXISTS};
use crate::storage::naming;

pub(crate) fn labels(observed: &Inputs<'_>, infra: &str) -> Vec<KeyValue> {
    let mut labels = vec![ownership_label(infra)];
    let user =
        observed.platform_status().and_then(|p| p.gcp.as_ref()).map(|g| g.resource_labels.clone()).unwrap_or_default();
    for label in user {
        labels.retain(|l| l.key != label.key);
        labels.push(label);
    }
    labels
}

pub(crate) fn wanted_tags(observed: &Inputs<'_>) -> Vec<String> {
    let tags =
        observed.platform_status().and_then(|p| p.gcp.as_ref()).map(|g| g.resource_tags.clone()).unwrap_or_default();
    tags.into_iter().map(|t| format!("{}/{}/{}", t.parent_id, t.key, t.value)).collect()
}

/// Completes GCS storage for a Managed pass.
pub fn complete(_config: &crate::api::Config, observed: &Inputs<'_>, applied: &Storage, out: &mut Completion) {
    let mut gcs = effective(&out.spec.gcs.clone().unwrap_or_default(), observed.platform_status());
    if let Err(e) = keyfile(observed) {
        out.unknown(e);
        return;
    }
    let infra = observed.infrastructure_name().to_owned();
    if gcs.bucket.is_empty() {
        let Some(cluster_id) = out.cluster_id(observed) else { return };
        gcs.bucket = naming::random(cluster_id, &[&gcs.region], observed.seed, "gcs-bucket");
        out.spec.gcs = Some(gcs);
        out.generated_name();
        return;
    }
    let Some(facts) = observed.cloud.gcs.get(&gcs.bucket) else {
        out.error = Some(format!("GCS bucket {} has not been observed", gcs.bucket));
        return;
    };
    let tags = wanted_tags(observed);
    let missing_tags: Vec<String> = tags.iter().filter(|t| !facts.tags.contains(t)).cloned().collect();
    match facts.state {
        BucketState::Exists => {
            if out.spec.management_state.is_empty() {
                out.spec.management_state = "Unmanaged".to_owned();
                out.set(
                    STORAGE_EXISTS,
                    ConditionStatus::True,
                    "GCS Bucket Exists",
                    "User supplied GCS bucket exists and is accessible",
                );
            } else {
                out.set(STORAGE_EXISTS, ConditionStatus::True, "GCS Bucket Exists", "");
            }
            if out.spec.management_state == "Managed" {
                if tags.is_empty() {
                    out.set(
                        "StorageTagged",
                        ConditionStatus::False,
                        "SuccessTaggingBucket",
                        "user did not define any tags",
                    );
                } else if missing_tags.is_empty() {
                    let message = format!("Successfully added user-defined tags to {} storage bucket", gcs.bucket);
                    out.set("StorageTagged", ConditionStatus::True, "SuccessTaggingBucket", message);
                } else {
                    let bind = CloudAction::Gcs(super::call::Call::BindTags {
                        bucket: gcs.bucket.clone(),
                        tags: missing_tags,
                    });
                    out.actions.push((Action::Cloud(bind), "the bucket lacks the cluster's resource tags".to_owned()));
                }
                if facts.labels.contains_key(&ownership_label(&infra).key) {
                    let message = format!("Successfully added user-defined labels to {} storage bucket", gcs.bucket);
                    out.set("StorageLabeled", ConditionStatus::True, "Bucket Labeled Successfully", message);
                }
                if !gcs.key_id.is_empty() {
                    out.set(
                        "StorageEncrypted",
                        ConditionStatus::True,
                        "Encryption Successful",
                        "KMS encryption was successfully enabled on the GCS bucket",
                    );
                }
            }
            out.status = Some(Storage { gcs: Some(gcs.clone()), ..Storage::default() });
            out.spec.gcs = Some(gcs);
        }
        BucketState::Missing if applied.gcs.as_ref().is_some_and(|a| a.bucket == gcs.bucket) => {
            out.vanished("GCS bucket", &gcs.bucket, "GCS Bucket Missing");
        }
        BucketState::Missing => {
            out.set(
                STORAGE_EXISTS,
                ConditionStatus::False,
                "Bucket does not exist",
                format!("The GCS bucket {} does not exist yet", gcs.bucket),
            );
            if out.spec.management_state.is_empty() {
                out.spec.management_state = "Managed".to_owned();
            }
            let create = CloudAction::Gcs(super::call::Call::CreateBucket {
                bucket: gcs.bucket.clone(),
                project: gcs.project_id.clone(),
                location: gcs.region.clone(),
                labels: labels(observed, &infra),
                kms_key: gcs.key_id.clone(),
            });
            out.actions
                .push((Action::Cloud(create), format!("the registry's GCS bucket {} does not exist", gcs.bucket)));
            if !tags.is_empty() {
                let bind = CloudAction::Gcs(super::call::Call::BindTags { bucket: gcs.bucket.clone(), tags });
                out.actions.push((Action::Cloud(bind), "the new bucket gets the cluster's resource tags".to_owned()));
            }
            out.spec.gcs = Some(gcs);
        }
        BucketState::Forbidden | BucketState::Unknown => {
            out.set(STORAGE_EXISTS, ConditionStatus::Unknown, "Unknown Error Occurred", facts.message.clone());
            out.error = Some(facts.message.clone());
        }
    }
}
