//! Storage backends: which one is configured, and what each contributes to the registry pod
//! (env settings, volumes, keys of `image-registry-private-configuration`).

// A new action or storage kind must be decided on wherever these enums are matched.
#![deny(clippy::wildcard_enum_match_arm)]

pub mod backends;
pub mod call;
pub(crate) mod completion;
pub(crate) mod credentials;
mod dispatch;
pub(crate) mod envvar;
pub mod facts;
pub(crate) mod naming;
mod provision;
pub(crate) mod pvc;
pub mod read;

/// One folder per backend of the list (`storage/<module>/`).
macro_rules! backend_modules {
    ($($(#[$doc:meta])* $variant:ident => $module:ident;)*) => {
        $($(#[$doc])* pub mod $module;)*
    };
}
crate::cloud_backends!(backend_modules);

pub(crate) use dispatch::{complete, remove, wiring};

use std::collections::BTreeMap;
use std::fmt;

use k8s_openapi::api::core::v1::{SecretVolumeSource, Volume, VolumeMount};

use crate::api::{Config, Storage, StorageKind};
use crate::inputs::Inputs;
use completion::{Completion, Removal};
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

/// What a cloud backend provides the rest of the core: its reads, its completion (name,
/// observe, adopt, create or report vanished storage), its removal and its pod wiring. The
/// list of backends implements it for each (`slices`); `dispatch` and `read` call it for every
/// backend of the list (`storage::backends`).
pub(crate) trait Backend {
    /// What the shell reads of the backend's cloud (`<backend>::read::Reads`).
    type Reads;
    /// The reads a pass needs; `None` when there is nothing to read.
    fn reads(observed: &Inputs<'_>) -> Option<Self::Reads>;
    /// Completes the storage for a Managed pass.
    fn complete(config: &Config, observed: &Inputs<'_>, applied: &Storage, out: &mut Completion);
    /// Removes the storage `applied` records.
    fn remove(observed: &Inputs<'_>, applied: &Storage) -> (Removal, Vec<crate::conditions::Wanted>);
    /// What the backend adds to the registry pod.
    fn wiring(storage: &Storage, observed: &Inputs<'_>) -> Result<Wiring, String>;
}

/// Each backend of the list as a [`Backend`]: its folder's `read::reads`, `provision::complete`,
/// `removal::remove` and `wiring`, which the compiler holds to these signatures.
pub(crate) mod slices {
    use super::Backend;
    use crate::api::{Config, Storage};
    use crate::inputs::Inputs;
    use crate::storage::Wiring;
    use crate::storage::completion::{Completion, Removal};

    macro_rules! slices {
        ($($(#[$doc:meta])* $variant:ident => $module:ident;)*) => {
            $(
                $(#[$doc])*
                pub(crate) struct $variant;

                impl Backend for $variant {
                    type Reads = crate::storage::$module::read::Reads;

                    fn reads(observed: &Inputs<'_>) -> Option<Self::Reads> {
                        crate::storage::$module::read::reads(observed)
                    }

                    fn complete(config: &Config, observed: &Inputs<'_>, applied: &Storage, out: &mut Completion) {
                        crate::storage::$module::provision::complete(config, observed, applied, out)
                    }

                    fn remove(observed: &Inputs<'_>, applied: &Storage) -> (Removal, Vec<crate::conditions::Wanted>) {
                        crate::storage::$module::removal::remove(observed, applied)
                    }

                    fn wiring(storage: &Storage, observed: &Inputs<'_>) -> Result<Wiring, String> {
                        crate::storage::$module::wiring(storage, observed)
                    }
                }
            )*
        };
    }
    crate::cloud_backends!(slices);
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
pub(crate) const STORAGE_VOLUME: &str = "registry-storage";
const STORAGE_PATH: &str = "/registry";

pub(crate) fn filesystem(source: Volume) -> Wiring {
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
