//! Storage backends: which one is configured, and what each contributes to the registry pod
//! (env settings, volumes, keys of `image-registry-private-configuration`).

// A new action or storage kind must be decided on wherever these enums are matched.
#![deny(clippy::wildcard_enum_match_arm)]

pub mod azure;
pub mod completion;
pub mod credentials;
mod dispatch;
pub mod envvar;
pub mod gcs;
pub mod naming;
pub mod pvc;
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

/// Gives every bucket, account and container the Config names (spec or status) an entry in
/// `cloud` (absent until observed): what the shell's cloud clients are asked about.
pub fn name_all(objects: &crate::observed::ObjectStore, cloud: &mut crate::observed::CloudFacts) {
    use crate::validation::storage as rules;
    let Ok(Some(config)) = objects.get::<Config>("", crate::names::CLUSTER) else { return };
    let status = config.status.map(|s| s.storage).unwrap_or_default();
    let spec = config.spec.storage;
    // A name in the spec that the cloud would refuse is never read: the pass reports it
    // (`VerificationFailed`) and carries it nowhere. A name in the status was applied before
    // and is always observed.
    let named = |spec: Option<String>, status: Option<String>, rule: fn(&str) -> Result<(), String>| {
        let spec = spec.filter(|n| rule(n).is_ok());
        spec.into_iter().chain(status).filter(|n| !n.is_empty()).collect::<Vec<_>>()
    };
    for name in named(spec.s3.map(|s| s.bucket), status.s3.map(|s| s.bucket), rules::s3_bucket) {
        cloud.s3.entry(name).or_default();
    }
    for name in named(spec.gcs.map(|s| s.bucket), status.gcs.map(|s| s.bucket), rules::gcs_bucket) {
        cloud.gcs.entry(name).or_default();
    }
    let spec_azure = spec.azure.filter(|a| rules::azure_account(&a.account_name).is_ok());
    for (azure, from_spec) in [(spec_azure, true), (status.azure, false)] {
        let Some(azure) = azure.filter(|a| !a.account_name.is_empty()) else { continue };
        let account = cloud.azure.entry(azure.account_name).or_default();
        if !azure.container.is_empty() && (!from_spec || rules::azure_container(&azure.container).is_ok()) {
            account.containers.entry(azure.container).or_default();
        }
    }
    for name in named(spec.swift.map(|s| s.container), status.swift.map(|s| s.container), rules::swift_container) {
        cloud.swift_containers.entry(name).or_default();
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

    /// Issue 25: a spec name the cloud would refuse is never read; the applied one still is.
    #[test]
    fn names_a_cloud_would_refuse_are_never_asked_about() {
        use crate::api::storage::{Azure, Gcs, Swift};
        use crate::api::{Config, ImageRegistryStatus};
        let storage = |s3: &str, gcs: &str, account: &str, container: &str, swift: &str| Storage {
            s3: Some(S3 { bucket: s3.into(), ..S3::default() }),
            gcs: Some(Gcs { bucket: gcs.into(), ..Gcs::default() }),
            azure: Some(Azure { account_name: account.into(), container: container.into(), ..Azure::default() }),
            swift: Some(Swift { container: swift.into(), ..Swift::default() }),
            ..Storage::default()
        };
        let mut config = Config::default();
        config.metadata.name = Some("cluster".into());
        config.spec.storage = storage("MyCluster-UPPER-Bucket", "goog-x", "Bad_Account", "bad--c", "a/b");
        config.status = Some(ImageRegistryStatus {
            storage: storage("applied-bucket", "applied-gcs", "appliedaccount", "applied-c", "applied"),
            ..ImageRegistryStatus::default()
        });
        let mut objects = crate::observed::ObjectStore::default();
        let Ok(value) = serde_json::to_value(&config) else { panic!("encodes") };
        objects.insert(value).ok();
        let mut cloud = crate::observed::CloudFacts::default();
        name_all(&objects, &mut cloud);
        assert_eq!(cloud.s3.keys().collect::<Vec<_>>(), ["applied-bucket"]);
        assert_eq!(cloud.gcs.keys().collect::<Vec<_>>(), ["applied-gcs"]);
        assert_eq!(cloud.azure.keys().collect::<Vec<_>>(), ["appliedaccount"]);
        assert_eq!(cloud.swift_containers.keys().collect::<Vec<_>>(), ["applied"]);
        let Some(account) = cloud.azure.get("appliedaccount") else { panic!("named") };
        assert_eq!(account.containers.keys().collect::<Vec<_>>(), ["applied-c"]);
        // A valid account with a container Azure would refuse: the account is read, not the container.
        config.spec.storage = storage("", "", "validaccount", "bad--c", "");
        config.status = None;
        let mut objects = crate::observed::ObjectStore::default();
        let Ok(value) = serde_json::to_value(&config) else { panic!("encodes") };
        objects.insert(value).ok();
        let mut cloud = crate::observed::CloudFacts::default();
        name_all(&objects, &mut cloud);
        let Some(account) = cloud.azure.get("validaccount") else { panic!("named") };
        assert!(account.containers.is_empty());
    }
}
