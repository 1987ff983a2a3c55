//! The one place that turns the selected backend into its completion and its removal: a match
//! over `StorageKind` per step, exhaustive, so a new backend cannot be forgotten here.

use crate::api::storage::EmptyDir;
use crate::api::{ConditionStatus, Config, Storage, StorageKind};
use crate::conditions::Wanted;
use crate::inputs::Inputs;
use crate::storage::completion::{Completion, Removal};
use crate::storage::{SelectError, select};
use crate::storage::{azure, gcs, pvc, s3, swift};

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
        Ok(StorageKind::Pvc) => pvc::complete(config, observed, &status, &mut out),
        Ok(StorageKind::S3) => s3::complete(config, observed, &status, &mut out),
        Ok(StorageKind::Gcs) => gcs::complete(observed, &status, &mut out),
        Ok(StorageKind::Azure) => azure::complete(observed, &status, &mut out),
        Ok(StorageKind::Swift) => swift::complete(observed, &status, &mut out),
        Ok(StorageKind::IbmCos) => {
            let message = "IBM Cloud Object Storage is not supported yet".to_owned();
            out.condition(ConditionStatus::Unknown, "Not Supported", message.clone());
            out.permanent = Some(("StorageNotSupported".to_owned(), message));
        }
        Err(e) => out.error = Some(e.to_string()),
    }
    out
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
        Ok(StorageKind::S3) => s3::remove(observed, &applied.s3.unwrap_or_default()),
        Ok(StorageKind::Gcs) => gcs::remove(observed, &applied.gcs.unwrap_or_default()),
        Ok(StorageKind::Azure) => azure::remove(observed, &applied.azure.unwrap_or_default()),
        Ok(StorageKind::Swift) => swift::remove(observed, &applied.swift.unwrap_or_default()),
        Ok(StorageKind::Pvc) => pvc::remove(observed, applied.pvc),
        // Nothing outside the cluster to delete (an emptyDir goes with its pods; IBM COS is
        // never created), or no single backend recorded.
        Ok(StorageKind::EmptyDir | StorageKind::IbmCos) | Err(SelectError::NotConfigured | SelectError::Several(_)) => {
            (Removal::Done, Vec::new())
        }
    }
}
