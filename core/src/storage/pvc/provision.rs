//! PVC provisioning: create the default claim, or check the user's.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{PersistentVolumeClaim, PersistentVolumeClaimSpec, VolumeResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{claim_key, owned};
use crate::action::{Action, KubeAction, Payload};
use crate::api::{ConditionStatus, Config, Storage};
use crate::inputs::Inputs;
use crate::names::{DEFAULT_CLAIM, NAMESPACE, OWNERSHIP_ANNOTATION};
use crate::storage::completion::Completion;

/// A claim the driver creates: RWX, 100Gi, the cluster's default storage class.
pub(crate) fn new_claim(name: &str) -> Result<serde_json::Value, String> {
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

/// Completes PVC storage for a Managed pass: the default claim is created (and managed) when
/// absent, a claim the user named is only checked.
pub fn complete(config: &Config, observed: &Inputs<'_>, status: &Storage, out: &mut Completion) {
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

pub(crate) fn access_mode_check(config: &Config, name: &str, claim: &PersistentVolumeClaim) -> Result<(), String> {
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
