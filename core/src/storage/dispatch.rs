//! The one place that turns the selected backend into its completion, its removal and its
//! pod wiring: a match over `StorageKind` per step, exhaustive, its cloud arms made from the
//! list of backends (`storage::backends`), so a new backend cannot be forgotten here.

use k8s_openapi::api::core::v1::{EmptyDirVolumeSource, PersistentVolumeClaimVolumeSource, Volume};

use crate::api::storage::EmptyDir;
use crate::api::{ConditionStatus, Config, Storage, StorageKind};
use crate::conditions::Wanted;
use crate::inputs::Inputs;
use crate::storage::completion::{Completion, Removal};
use crate::storage::{Backend, STORAGE_VOLUME, SelectError, Wiring, filesystem, pvc, select};

macro_rules! dispatch {
    ($($(#[$doc:meta])* $variant:ident => $module:ident;)*) => {
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
                $(Ok(StorageKind::$variant) => {
                    <crate::storage::slices::$variant as Backend>::complete(config, observed, &status, &mut out)
                })*
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
                $(Ok(StorageKind::$variant) => <crate::storage::slices::$variant as Backend>::remove(observed, &applied),)*
                Ok(StorageKind::Pvc) => pvc::remove(observed, applied.pvc),
                // Nothing outside the cluster to delete (an emptyDir goes with its pods), or no
                // single backend recorded.
                Ok(StorageKind::EmptyDir)
                | Err(SelectError::NotConfigured | SelectError::Several(_)) => (Removal::Done, Vec::new()),
            }
        }

        /// The pod wiring of the configured backend, or why it cannot be built.
        pub fn wiring(config: &Config, observed: &Inputs<'_>) -> Result<Wiring, String> {
            let storage = &config.spec.storage;
            match select(storage).map_err(|e| e.to_string())? {
                StorageKind::EmptyDir => Ok(filesystem(Volume {
                    name: STORAGE_VOLUME.to_owned(),
                    empty_dir: Some(EmptyDirVolumeSource::default()),
                    ..Volume::default()
                })),
                StorageKind::Pvc => {
                    let claim = storage.pvc.as_ref().map(|p| p.claim.clone()).unwrap_or_default();
                    Ok(filesystem(Volume {
                        name: STORAGE_VOLUME.to_owned(),
                        persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource { claim_name: claim, read_only: None }),
                        ..Volume::default()
                    }))
                }
                $(StorageKind::$variant => <crate::storage::slices::$variant as Backend>::wiring(storage, observed),)*
            }
        }
    };
}
crate::cloud_backends!(dispatch);
