//! Completing the configured storage in a Managed pass, and removing what the operator owns
//! when the registry is Removed or the Config is deleted (spec 10 §4, §5.4; spec 30 §2–§3).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{PersistentVolumeClaim, PersistentVolumeClaimSpec, VolumeResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{SelectError, select};
use crate::action::{Action, KubeAction, Payload, Preconditions};
use crate::api::storage::{EmptyDir, Pvc};
use crate::api::{ConditionStatus, Config, Storage, StorageKind};
use crate::conditions::Wanted;
use crate::inputs::Inputs;
use crate::names::{DEFAULT_CLAIM, NAMESPACE, OWNERSHIP_ANNOTATION};
use crate::observed::ObjectKey;

/// The storage condition type.
pub const STORAGE_EXISTS: &str = "StorageExists";

/// What completing the storage decided.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Completion {
    /// `spec.storage` as it should be (generated names and management state filled in).
    pub spec: Storage,
    /// `status.storage` as it should be, when it changes.
    pub status: Option<Storage>,
    /// Storage conditions to set.
    pub conditions: Vec<Wanted>,
    /// Kubernetes or cloud actions that create or fix the storage.
    pub actions: Vec<(Action, String)>,
    /// A driver error: the objects are not applied and the pass is retried.
    pub error: Option<String>,
    /// A storage state that needs a person (reason, message): reported as Degraded, not retried.
    pub permanent: Option<(String, String)>,
}

impl Completion {
    fn new(spec: &Storage) -> Self {
        Self { spec: spec.clone(), ..Self::default() }
    }

    /// The operator generated the storage's name (persisted before anything is created): what
    /// it names it creates, so an empty management state becomes `Managed` in the same write,
    /// never the `Unmanaged` of the legacy fallback.
    pub(crate) fn generated_name(&mut self) {
        if self.spec.management_state.is_empty() {
            self.spec.management_state = "Managed".to_owned();
        }
    }

    /// Sets `StorageExists`.
    pub(crate) fn condition(&mut self, status: ConditionStatus, reason: &str, message: impl Into<String>) {
        self.conditions.push(Wanted::new(STORAGE_EXISTS, status, reason, message));
    }

    /// Sets another storage condition (`StorageTagged`, `StorageEncrypted`, …).
    pub(crate) fn set(&mut self, type_: &str, status: ConditionStatus, reason: &str, message: impl Into<String>) {
        self.conditions.push(Wanted::new(type_, status, reason, message));
    }

    /// Storage the operator recorded in `status.storage` is gone: reported, not recreated
    /// empty (docs/storage.md decision a).
    pub(crate) fn vanished(&mut self, what: &str, name: &str, reason: &str) {
        let message = format!(
            "The {what} {name} that held the registry's data no longer exists. It is not recreated empty: \
             restore it, or clear status.storage to have a new one created"
        );
        self.condition(ConditionStatus::False, reason, message.clone());
        self.permanent = Some(("StorageMissing".to_owned(), message));
    }

    fn fail(&mut self, reason: &str, message: String) {
        self.condition(ConditionStatus::False, reason, message.clone());
        self.error = Some(message);
    }

    /// Sets the management state when the user left it empty.
    fn claim_management(&mut self, candidate: &str) {
        if self.spec.management_state.is_empty() {
            self.spec.management_state = candidate.to_owned();
        }
    }
}

/// Completes the storage `config.spec.storage` selects (which must name exactly one backend).
pub fn complete(config: &Config, observed: &Inputs<'_>) -> Completion {
    let spec = &config.spec.storage;
    let status = config.status.as_ref().map(|s| s.storage.clone()).unwrap_or_default();
    let mut out = Completion::new(spec);
    match select(spec) {
        Ok(StorageKind::EmptyDir) => {
            out.claim_management("Managed");
            if status.empty_dir != spec.empty_dir {
                out.status = Some(Storage { empty_dir: Some(EmptyDir {}), ..Storage::default() });
                out.condition(ConditionStatus::True, "Creation Successful", "EmptyDir storage successfully created");
            }
        }
        Ok(StorageKind::Pvc) => complete_pvc(config, observed, &status, &mut out),
        Ok(StorageKind::S3) => super::s3_provision::complete(config, observed, &status, &mut out),
        Ok(StorageKind::Gcs) => super::gcs::complete(observed, &status, &mut out),
        Ok(StorageKind::Azure) => super::azure::complete(observed, &status, &mut out),
        Ok(StorageKind::Swift) => super::swift::complete(observed, &status, &mut out),
        Ok(StorageKind::IbmCos) => {
            let message = "IBM Cloud Object Storage is not supported yet".to_owned();
            out.condition(ConditionStatus::Unknown, "Not Supported", message.clone());
            out.permanent = Some(("StorageNotSupported".to_owned(), message));
        }
        Err(e) => out.error = Some(e.to_string()),
    }
    out
}

fn claim_key(claim: &str) -> ObjectKey {
    ObjectKey::of::<PersistentVolumeClaim>(NAMESPACE, claim)
}

fn owned(claim: &PersistentVolumeClaim) -> bool {
    claim.metadata.annotations.as_ref().is_some_and(|a| a.contains_key(OWNERSHIP_ANNOTATION))
}

/// A claim the driver creates: RWX, 100Gi, the cluster's default storage class.
fn new_claim(name: &str) -> Result<serde_json::Value, String> {
    serde_json::to_value(PersistentVolumeClaim {
        metadata: ObjectMeta {
            name: Some(name.to_owned()),
            namespace: Some(NAMESPACE.to_owned()),
            annotations: Some(BTreeMap::from([(OWNERSHIP_ANNOTATION.to_owned(), "true".to_owned())])),
            ..ObjectMeta::default()
        },
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteMany".to_owned()]),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([("storage".to_owned(), Quantity("100Gi".to_owned()))])),
                ..VolumeResourceRequirements::default()
            }),
            ..PersistentVolumeClaimSpec::default()
        }),
        ..PersistentVolumeClaim::default()
    })
    .map_err(|e| e.to_string())
}

fn complete_pvc(config: &Config, observed: &Inputs<'_>, status: &Storage, out: &mut Completion) {
    let mut pvc = out.spec.pvc.clone().unwrap_or_default();
    let changed = status.pvc.as_ref() != Some(&pvc);
    let lookup = |name: &str| observed.objects.get::<PersistentVolumeClaim>(NAMESPACE, name);
    if !changed {
        // Steady state: only check that the claim is still there.
        match lookup(&pvc.claim) {
            Ok(Some(_)) => out.condition(ConditionStatus::True, "PVC Exists", ""),
            Ok(None) => out.fail("PVC does not exist", format!("PVC {} does not exist", pvc.claim)),
            Err(e) => {
                let reason = format!("Unknown error occurred checking for volume claim {}", pvc.claim);
                out.condition(ConditionStatus::Unknown, &reason, e.to_string());
                out.error = Some(e.to_string());
            }
        }
        return;
    }
    let candidate;
    let mut existing = None;
    if pvc.claim.is_empty() {
        pvc.claim = DEFAULT_CLAIM.to_owned();
        candidate = "Managed";
        match lookup(&pvc.claim) {
            Err(e) => {
                out.error = Some(e.to_string());
                return;
            }
            Ok(Some(claim)) if !owned(&claim) => {
                return out.fail(
                    "PVC Already Exists",
                    "could not create default PVC, it already exists and is not owned by the operator".to_owned(),
                );
            }
            Ok(Some(claim)) => existing = Some(claim),
            Ok(None) => match new_claim(&pvc.claim) {
                Ok(object) => {
                    out.actions.push((
                        Action::Kube(KubeAction::Create { key: claim_key(&pvc.claim), object: Payload::new(object) }),
                        "PVC storage without a claim name: the operator provisions image-registry-storage".to_owned(),
                    ));
                    out.condition(ConditionStatus::True, "PVC Created", "");
                }
                Err(e) => return out.fail("Creation Failed", e),
            },
        }
    } else {
        candidate = "Unmanaged";
        out.condition(ConditionStatus::True, "PVC Exists", "");
        existing = lookup(&pvc.claim).ok().flatten();
    }
    if let Some(claim) = existing
        && let Err(e) = access_mode_check(config, &pvc.claim, &claim)
    {
        return out.fail("PVC Issues Found", e);
    }
    out.claim_management(candidate);
    out.spec.pvc = Some(pvc.clone());
    out.status = Some(Storage { pvc: Some(pvc), ..Storage::default() });
}

fn access_mode_check(config: &Config, name: &str, claim: &PersistentVolumeClaim) -> Result<(), String> {
    let modes = claim.spec.as_ref().and_then(|s| s.access_modes.clone()).unwrap_or_default();
    if modes.iter().any(|m| m == "ReadWriteMany") {
        return Ok(());
    }
    if modes.iter().any(|m| m == "ReadWriteOnce") {
        if config.spec.replicas > 1 {
            return Err("cannot use ReadWriteOnce access mode with more than one replica of the image registry".into());
        }
        let strategy = if config.spec.rollout_strategy.is_empty() {
            "RollingUpdate"
        } else {
            config.spec.rollout_strategy.as_str()
        };
        if strategy != "Recreate" {
            return Err(format!("cannot use ReadWriteOnce access mode with {strategy} rollout strategy"));
        }
        return Ok(());
    }
    Err(format!("PVC {name} does not contain the necessary access modes: ReadWriteMany or ReadWriteOnce"))
}

/// How far removing the storage has got.
#[derive(Clone, Debug, PartialEq)]
pub enum Removal {
    /// Nothing (left) to remove.
    Done,
    /// The storage stays: the operator cannot prove it created it. Counts as done.
    Kept(String),
    /// These actions remove it; look again after they ran.
    Pending(Vec<(Action, String)>),
    /// Cannot decide yet (facts missing); retried.
    Blocked(String),
}

/// The removal decision every cloud backend shares: gone → done; present but not marked as
/// this cluster's (`owner_mark` names the missing mark) → kept and reported; else delete.
pub(crate) fn decide_removal(
    what: &str,
    name: &str,
    state: crate::observed::BucketState,
    owned: Result<(), String>,
    deleted: (&str, &str),
    delete: Action,
) -> (Removal, Vec<Wanted>) {
    match (state, owned) {
        (crate::observed::BucketState::Missing, _) => {
            (Removal::Done, vec![Wanted::new(STORAGE_EXISTS, ConditionStatus::False, deleted.0, deleted.1)])
        }
        (_, Err(mark)) => {
            let message =
                format!("The {what} {name} is kept: it does not carry {mark}, so this cluster did not create it");
            let reason = format!("{} Kept", deleted.0.trim_end_matches(" Deleted"));
            (Removal::Kept(message.clone()), vec![Wanted::new(STORAGE_EXISTS, ConditionStatus::True, &reason, message)])
        }
        (_, Ok(())) => {
            let reason = format!("the operator created and manages {what} {name}, and the registry is being removed");
            (Removal::Pending(vec![(delete, reason)]), Vec::new())
        }
    }
}

/// Removal of the storage recorded in `status.storage`, gated by `spec.storage.managementState`
/// (spec 10 §5.4): only storage the operator manages is ever deleted. Also returns the storage
/// conditions to set.
pub fn remove(config: &Config, observed: &Inputs<'_>) -> (Removal, Vec<Wanted>) {
    let applied = config.status.as_ref().map(|s| s.storage.clone()).unwrap_or_default();
    if config.spec.storage.management_state != "Managed" {
        return (Removal::Done, Vec::new());
    }
    match select(&applied) {
        Ok(StorageKind::S3) => super::s3_provision::remove(observed, &applied.s3.unwrap_or_default()),
        Ok(StorageKind::Gcs) => super::gcs::remove(observed, &applied.gcs.unwrap_or_default()),
        Ok(StorageKind::Azure) => super::azure::remove(observed, &applied.azure.unwrap_or_default()),
        Ok(StorageKind::Swift) => super::swift::remove(observed, &applied.swift.unwrap_or_default()),
        Ok(StorageKind::Pvc) => {
            let claim = applied.pvc.map(|p: Pvc| p.claim).unwrap_or_default();
            if claim.is_empty() {
                return (Removal::Done, Vec::new());
            }
            match observed.objects.get::<PersistentVolumeClaim>(NAMESPACE, &claim) {
                // Already being deleted (the claim waits for its pods): wait, do not delete again.
                Ok(Some(existing)) if existing.metadata.deletion_timestamp.is_some() => {
                    (Removal::Pending(Vec::new()), Vec::new())
                }
                Ok(Some(existing)) => (
                    Removal::Pending(vec![(
                        Action::Kube(KubeAction::Delete {
                            key: claim_key(&claim),
                            preconditions: Preconditions {
                                uid: existing.metadata.uid.clone(),
                                resource_version: existing.metadata.resource_version.clone(),
                            },
                        }),
                        format!("the operator manages the claim {claim}, and the registry is being removed"),
                    )]),
                    Vec::new(),
                ),
                Ok(None) => (Removal::Done, Vec::new()),
                Err(e) => (Removal::Blocked(e.to_string()), Vec::new()),
            }
        }
        // Nothing outside the cluster to delete (an emptyDir goes with its pods; IBM COS is
        // never created), or no single backend recorded.
        Ok(StorageKind::EmptyDir | StorageKind::IbmCos) | Err(SelectError::NotConfigured | SelectError::Several(_)) => {
            (Removal::Done, Vec::new())
        }
    }
}
