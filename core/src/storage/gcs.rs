//! Google Cloud Storage (spec 30 §5): effective config, credentials, pod wiring, completion
//! from observed bucket facts, and removal of a bucket labelled as this cluster's.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::VolumeMount;

use super::credentials::{self, Source};
use super::envvar::{Setting, SettingValue};
use super::provision::{Completion, Removal, STORAGE_EXISTS, decide_removal};
use super::{Wiring, naming, secret_volume};
use crate::action::{Action, CloudAction};
use crate::api::openshift::{KeyValue, PlatformStatus};
use crate::api::storage::Gcs;
use crate::api::{ConditionStatus, Storage};
use crate::conditions::Wanted;
use crate::inputs::Inputs;
use crate::names::PRIVATE_CONFIGURATION_SECRET;
use crate::observed::BucketState;

const KEYFILE: &str = "REGISTRY_STORAGE_GCS_KEYFILE";

/// `spec.storage.gcs` with the platform defaults: an empty region takes the cluster's region
/// and project (the project is replaced even when set, as in the reference).
pub fn effective(spec: &Gcs, platform: Option<&PlatformStatus>) -> Gcs {
    let mut gcs = spec.clone();
    if gcs.region.is_empty()
        && let Some(gcp) = platform.and_then(|p| p.gcp.as_ref())
    {
        gcs.region = gcp.region.clone();
        gcs.project_id = gcp.project_id.clone();
    }
    gcs
}

/// The service-account key JSON.
pub fn keyfile(observed: &Inputs<'_>) -> Result<String, String> {
    match credentials::source(observed)? {
        Source::User(user) => user.require(KEYFILE),
        Source::Installer(minted) => minted.require("service_account.json"),
    }
}

/// The registry's env, keyfile volume and credentials for GCS.
pub fn wiring(spec: Option<&Gcs>, observed: &Inputs<'_>) -> Result<Wiring, String> {
    let gcs = effective(&spec.cloned().unwrap_or_default(), observed.platform_status().cloned().as_ref());
    let str = |s: &str| SettingValue::Str(s.to_owned());
    Ok(Wiring {
        settings: vec![
            Setting::new("REGISTRY_STORAGE", str("gcs")),
            Setting::new("REGISTRY_STORAGE_GCS_BUCKET", str(&gcs.bucket)),
            Setting::new(KEYFILE, str("/gcs/keyfile")),
        ],
        volumes: vec![secret_volume(
            "registry-storage-keyfile",
            PRIVATE_CONFIGURATION_SECRET,
            Some(vec![(KEYFILE.to_owned(), "keyfile".to_owned())]),
        )],
        mounts: vec![VolumeMount {
            name: "registry-storage-keyfile".to_owned(),
            mount_path: "/gcs".to_owned(),
            ..VolumeMount::default()
        }],
        volume_secrets: BTreeMap::from([(KEYFILE.to_owned(), keyfile(observed)?)]),
    })
}

/// The label that marks a bucket as this cluster's.
pub fn ownership_label(infra: &str) -> KeyValue {
    KeyValue { key: format!("kubernetes-io-cluster-{infra}"), value: "owned".to_owned() }
}

fn labels(observed: &Inputs<'_>, infra: &str) -> Vec<KeyValue> {
    let mut labels = vec![ownership_label(infra)];
    let user = observed.platform_status().cloned().and_then(|p| p.gcp).map(|g| g.resource_labels).unwrap_or_default();
    for label in user {
        labels.retain(|l| l.key != label.key);
        labels.push(label);
    }
    labels
}

fn wanted_tags(observed: &Inputs<'_>) -> Vec<String> {
    let tags = observed.platform_status().cloned().and_then(|p| p.gcp).map(|g| g.resource_tags).unwrap_or_default();
    tags.into_iter().map(|t| format!("{}/{}/{}", t.parent_id, t.key, t.value)).collect()
}

fn push(out: &mut Completion, type_: &str, status: ConditionStatus, reason: &str, message: impl Into<String>) {
    out.set(type_, status, reason, message);
}

/// Completes GCS storage for a Managed pass.
pub fn complete(observed: &Inputs<'_>, applied: &Storage, out: &mut Completion) {
    let mut gcs = effective(&out.spec.gcs.clone().unwrap_or_default(), observed.platform_status().cloned().as_ref());
    if let Err(e) = keyfile(observed) {
        push(out, STORAGE_EXISTS, ConditionStatus::Unknown, "Unknown Error Occurred", e.clone());
        out.error = Some(e);
        return;
    }
    let infra = observed.infrastructure_name().to_owned();
    if gcs.bucket.is_empty() {
        let cluster_id = match observed.cluster_id() {
            Ok(id) => id,
            Err(e) => {
                push(out, STORAGE_EXISTS, ConditionStatus::Unknown, "Unknown Error Occurred", e.to_string());
                out.error = Some(e.to_string());
                return;
            }
        };
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
                push(
                    out,
                    STORAGE_EXISTS,
                    ConditionStatus::True,
                    "GCS Bucket Exists",
                    "User supplied GCS bucket exists and is accessible",
                );
            } else {
                push(out, STORAGE_EXISTS, ConditionStatus::True, "GCS Bucket Exists", "");
            }
            if out.spec.management_state == "Managed" {
                if tags.is_empty() {
                    push(
                        out,
                        "StorageTagged",
                        ConditionStatus::False,
                        "SuccessTaggingBucket",
                        "user did not define any tags",
                    );
                } else if missing_tags.is_empty() {
                    let message = format!("Successfully added user-defined tags to {} storage bucket", gcs.bucket);
                    push(out, "StorageTagged", ConditionStatus::True, "SuccessTaggingBucket", message);
                } else {
                    let bind = CloudAction::GcsBindTags { bucket: gcs.bucket.clone(), tags: missing_tags };
                    out.actions.push((Action::Cloud(bind), "the bucket lacks the cluster's resource tags".to_owned()));
                }
                if facts.labels.contains_key(&ownership_label(&infra).key) {
                    let message = format!("Successfully added user-defined labels to {} storage bucket", gcs.bucket);
                    push(out, "StorageLabeled", ConditionStatus::True, "Bucket Labeled Successfully", message);
                }
                if !gcs.key_id.is_empty() {
                    push(
                        out,
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
            push(
                out,
                STORAGE_EXISTS,
                ConditionStatus::False,
                "Bucket does not exist",
                format!("The GCS bucket {} does not exist yet", gcs.bucket),
            );
            if out.spec.management_state.is_empty() {
                out.spec.management_state = "Managed".to_owned();
            }
            let create = CloudAction::GcsCreateBucket {
                bucket: gcs.bucket.clone(),
                project: gcs.project_id.clone(),
                location: gcs.region.clone(),
                labels: labels(observed, &infra),
                kms_key: gcs.key_id.clone(),
            };
            out.actions
                .push((Action::Cloud(create), format!("the registry's GCS bucket {} does not exist", gcs.bucket)));
            if !tags.is_empty() {
                let bind = CloudAction::GcsBindTags { bucket: gcs.bucket.clone(), tags };
                out.actions.push((Action::Cloud(bind), "the new bucket gets the cluster's resource tags".to_owned()));
            }
            out.spec.gcs = Some(gcs);
        }
        BucketState::Forbidden | BucketState::Unknown => {
            push(out, STORAGE_EXISTS, ConditionStatus::Unknown, "Unknown Error Occurred", facts.message.clone());
            out.error = Some(facts.message.clone());
        }
    }
}

/// Removal of the applied GCS bucket (the caller checked that storage is Managed).
pub fn remove(observed: &Inputs<'_>, applied: &Gcs) -> (Removal, Vec<Wanted>) {
    if applied.bucket.is_empty() {
        return (Removal::Done, Vec::new());
    }
    let Some(facts) = observed.cloud.gcs.get(&applied.bucket) else {
        return (Removal::Blocked(format!("GCS bucket {} has not been observed", applied.bucket)), Vec::new());
    };
    let label = ownership_label(observed.infrastructure_name());
    let labelled = facts.labels.get(&label.key) == Some(&label.value);
    let owned = if labelled { Ok(()) } else { Err(format!("the label {}={}", label.key, label.value)) };
    let delete = Action::Cloud(CloudAction::GcsDeleteBucket { bucket: applied.bucket.clone(), require_label: label });
    decide_removal(
        "GCS bucket",
        &applied.bucket,
        facts.state,
        owned,
        ("GCS Bucket Deleted", "The GCS bucket has been removed."),
        delete,
    )
}
