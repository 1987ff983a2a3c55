//! GCS provisioning: name, create, label and tag the bucket the Config names (spec 30 §5).

use super::{effective, keyfile, ownership_label};
use crate::action::{Action, CloudAction};
use crate::api::openshift::KeyValue;
use crate::api::storage::Gcs;
use crate::api::{ConditionStatus, Config, Storage};
use crate::inputs::Inputs;
use crate::observed::BucketState;
use crate::storage::completion::{Completion, STORAGE_EXISTS};
use crate::storage::gcs::facts::GcsBucket;
use crate::storage::naming;
use crate::storage::provision::{self, Provision, Step};

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
pub fn complete(config: &Config, observed: &Inputs<'_>, applied: &Storage, out: &mut Completion) {
    provision::run(&Bucket, config, observed, applied, out);
}

/// The registry's GCS bucket in the shared flow.
struct Bucket;

impl Provision for Bucket {
    type Spec = Gcs;
    type Facts = GcsBucket;
    const WHAT: &'static str = "GCS bucket";
    const VANISHED: &'static str = "GCS Bucket Missing";

    fn resolve(&self, _config: &Config, observed: &Inputs<'_>, out: &mut Completion) -> Option<Gcs> {
        let gcs = effective(&out.spec.gcs.clone().unwrap_or_default(), observed.platform_status());
        if let Err(e) = keyfile(observed) {
            out.unknown(e);
            return None;
        }
        Some(gcs)
    }

    fn key(spec: &Gcs) -> &str {
        &spec.bucket
    }

    fn name(&self, spec: &mut Gcs, cluster_id: &str, observed: &Inputs<'_>) {
        spec.bucket = naming::random(cluster_id, &[&spec.region], observed.seed, "gcs-bucket");
    }

    fn facts(&self, spec: &Gcs, observed: &Inputs<'_>) -> Option<GcsBucket> {
        observed.cloud.gcs.get(&spec.bucket).cloned()
    }

    fn step(&self, _: &Gcs, facts: &GcsBucket, _: &Config, _: &Inputs<'_>, _: &mut Completion) -> Step {
        match facts.state {
            BucketState::Exists => Step::Adopt,
            BucketState::Missing => Step::Missing,
            BucketState::Forbidden | BucketState::Unknown => Step::Unreachable(facts.message.clone()),
        }
    }

    fn recorded(spec: &Gcs, applied: &Storage) -> bool {
        applied.gcs.as_ref().is_some_and(|a| a.bucket == spec.bucket)
    }

    fn adopt(
        &self,
        gcs: &mut Gcs,
        facts: &GcsBucket,
        user_supplied: bool,
        _config: &Config,
        observed: &Inputs<'_>,
        out: &mut Completion,
    ) -> bool {
        if user_supplied {
            let message = "User supplied GCS bucket exists and is accessible";
            out.set(STORAGE_EXISTS, ConditionStatus::True, "GCS Bucket Exists", message);
        } else {
            out.set(STORAGE_EXISTS, ConditionStatus::True, "GCS Bucket Exists", "");
        }
        if out.spec.management_state != "Managed" {
            return true;
        }
        let tags = wanted_tags(observed);
        let missing_tags: Vec<String> = tags.iter().filter(|t| !facts.tags.contains(t)).cloned().collect();
        if tags.is_empty() {
            out.set("StorageTagged", ConditionStatus::False, "SuccessTaggingBucket", "user did not define any tags");
        } else if missing_tags.is_empty() {
            let message = format!("Successfully added user-defined tags to {} storage bucket", gcs.bucket);
            out.set("StorageTagged", ConditionStatus::True, "SuccessTaggingBucket", message);
        } else {
            let bind = CloudAction::Gcs(super::call::Call::BindTags { bucket: gcs.bucket.clone(), tags: missing_tags });
            out.actions.push((Action::Cloud(bind), "the bucket lacks the cluster's resource tags".to_owned()));
        }
        if facts.labels.contains_key(&ownership_label(observed.infrastructure_name()).key) {
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
        true
    }

    fn create(&self, gcs: &mut Gcs, _facts: &GcsBucket, observed: &Inputs<'_>, out: &mut Completion) {
        let message = format!("The GCS bucket {} does not exist yet", gcs.bucket);
        out.set(STORAGE_EXISTS, ConditionStatus::False, "Bucket does not exist", message);
        let create = CloudAction::Gcs(super::call::Call::CreateBucket {
            bucket: gcs.bucket.clone(),
            project: gcs.project_id.clone(),
            location: gcs.region.clone(),
            labels: labels(observed, observed.infrastructure_name()),
            kms_key: gcs.key_id.clone(),
        });
        out.actions.push((Action::Cloud(create), format!("the registry's GCS bucket {} does not exist", gcs.bucket)));
        let tags = wanted_tags(observed);
        if !tags.is_empty() {
            let bind = CloudAction::Gcs(super::call::Call::BindTags { bucket: gcs.bucket.clone(), tags });
            out.actions.push((Action::Cloud(bind), "the new bucket gets the cluster's resource tags".to_owned()));
        }
    }

    fn unreachable(&self, message: &str, out: &mut Completion) {
        out.set(STORAGE_EXISTS, ConditionStatus::Unknown, "Unknown Error Occurred", message);
    }

    fn place(spec: Gcs, storage: &mut Storage) {
        storage.gcs = Some(spec);
    }
}
