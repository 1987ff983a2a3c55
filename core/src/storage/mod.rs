//! Storage backends: which one is configured, and what each contributes to the registry pod
//! (env settings, volumes, keys of `image-registry-private-configuration`).

// A new action or storage kind must be decided on wherever these enums are matched.
#![deny(clippy::wildcard_enum_match_arm)]

pub mod azure;
pub mod backends;
pub mod call;
pub mod completion;
pub mod credentials;
mod dispatch;
pub mod envvar;
pub mod facts;
pub mod gcs;
pub mod naming;
pub mod pvc;
pub mod read;
pub mod s3;
pub mod swift;

pub use dispatch::{complete, remove};

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::core::v1::{
    EmptyDirVolumeSource, PersistentVolumeClaimVolumeSource, SecretVolumeSource, Volume, VolumeMount,
};

use crate::api::{Config, Storage, StorageKind};
use crate::inputs::Inputs;
use envvar::{Setting, SettingValue};

/// Why no single backend can be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SelectError {
    /// No backend is set (an `oss`-only storage counts as none).
    NotConfigured,
    /// More than one backend is set.
    Several(Vec<StorageKind>),
}

impl fmt::Display for SelectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotConfigured => f.write_str("storage backend not configured"),
            Self::Several(kinds) => {
                let names: Vec<&str> = kinds.iter().map(|k| k.driver_name()).collect();
                write!(
                    f,
                    "exactly one storage type should be configured at the same time, got {}: [{}]",
                    kinds.len(),
                    names.join(" ")
                )
            }
        }
    }
}

/// The one configured backend (spec 30 §1.2).
pub fn select(storage: &Storage) -> Result<StorageKind, SelectError> {
    match storage.kinds().as_slice() {
        [] => Err(SelectError::NotConfigured),
        [one] => Ok(*one),
        several => Err(SelectError::Several(several.to_vec())),
    }
}

/// What a backend adds to the registry pod.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Wiring {
    /// Env settings, in order (first in the container's env).
    pub settings: Vec<Setting>,
    /// Extra volumes, in order (first in the pod's volumes).
    pub volumes: Vec<Volume>,
    /// Their mounts, same order.
    pub mounts: Vec<VolumeMount>,
    /// Extra keys of `image-registry-private-configuration` (credentials files).
    pub volume_secrets: BTreeMap<String, String>,
}

impl Wiring {
    /// The content of `image-registry-private-configuration`: secret settings plus volume secrets.
    pub fn private_configuration(&self) -> BTreeMap<String, String> {
        let mut data = self.volume_secrets.clone();
        for setting in self.settings.iter().filter(|s| s.secret) {
            data.insert(setting.name.clone(), setting.encoded());
        }
        data
    }
}

/// Mount path and volume of node-local or claim storage.
const STORAGE_VOLUME: &str = "registry-storage";
const STORAGE_PATH: &str = "/registry";

fn filesystem(source: Volume) -> Wiring {
    Wiring {
        settings: vec![
            Setting::new("REGISTRY_STORAGE", SettingValue::Str("filesystem".into())),
            Setting::new("REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY", SettingValue::Str(STORAGE_PATH.into())),
        ],
        volumes: vec![source],
        mounts: vec![VolumeMount {
            name: STORAGE_VOLUME.to_owned(),
            mount_path: STORAGE_PATH.to_owned(),
            ..VolumeMount::default()
        }],
        volume_secrets: BTreeMap::new(),
    }
}

/// A secret volume (never optional).
pub(crate) fn secret_volume(name: &str, secret: &str, items: Option<Vec<(String, String)>>) -> Volume {
    Volume {
        name: name.to_owned(),
        secret: Some(SecretVolumeSource {
            secret_name: Some(secret.to_owned()),
            items: items.map(|items| {
                items
                    .into_iter()
                    .map(|(key, path)| k8s_openapi::api::core::v1::KeyToPath { key, path, mode: None })
                    .collect()
            }),
            optional: Some(false),
            ..SecretVolumeSource::default()
        }),
        ..Volume::default()
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
        StorageKind::S3 => s3::wiring(storage.s3.as_ref(), observed),
        StorageKind::Gcs => gcs::wiring(storage.gcs.as_ref(), observed),
        StorageKind::Azure => azure::wiring(storage.azure.as_ref(), observed),
        StorageKind::Swift => swift::wiring(storage.swift.as_ref(), observed),
        StorageKind::IbmCos => Err("the IBMCOS storage driver is not supported yet".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::storage::{EmptyDir, S3};

    #[test]
    fn selection_follows_the_reference() {
        assert_eq!(select(&Storage::default()), Err(SelectError::NotConfigured));
        let two = Storage { empty_dir: Some(EmptyDir {}), s3: Some(S3::default()), ..Storage::default() };
        let err = select(&two).unwrap_err();
        assert_eq!(
            err.to_string(),
            "exactly one storage type should be configured at the same time, got 2: [EmptyDir S3]"
        );
        let oss_only = Storage { oss: Some(Default::default()), ..Storage::default() };
        assert_eq!(select(&oss_only), Err(SelectError::NotConfigured));
        assert_eq!(select(&Storage { s3: Some(S3::default()), ..Storage::default() }), Ok(StorageKind::S3));
    }
}
