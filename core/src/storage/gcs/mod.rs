//! Google Cloud Storage (spec 30 §5): effective config, credentials, pod wiring, completion
//! from observed bucket facts, and removal of a bucket labelled as this cluster's.
//!
//! Every backend has the same shape: this file reads its inputs and wires the registry pod,
//! `provision.rs` completes the storage for a Managed pass, `removal.rs` removes what the
//! operator owns.

pub mod call;
pub mod facts;
pub(crate) mod provision;
pub mod read;
pub(crate) mod removal;

pub use call::ownership_label;
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::VolumeMount;

use super::credentials::{self, Source};
use super::envvar::{Setting, SettingValue};
use super::{Wiring, secret_volume};
use crate::api::openshift::PlatformStatus;
use crate::api::storage::Gcs;
use crate::inputs::Inputs;
use crate::names::PRIVATE_CONFIGURATION_SECRET;

pub(crate) const KEYFILE: &str = "REGISTRY_STORAGE_GCS_KEYFILE";

/// `spec.storage.gcs` with the platform defaults: an empty region takes the cluster's region
/// and project (the project is replaced even when set, as in the reference).
pub(crate) fn effective(spec: &Gcs, platform: Option<&PlatformStatus>) -> Gcs {
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
pub(crate) fn keyfile(observed: &Inputs<'_>) -> Result<String, String> {
    match credentials::source(observed)? {
        Source::User(user) => user.require(KEYFILE),
        Source::Installer(minted) => minted.require("service_account.json"),
    }
}

/// The registry's env, keyfile volume and credentials for GCS.
pub(crate) fn wiring(storage: &crate::api::Storage, observed: &Inputs<'_>) -> Result<Wiring, String> {
    let spec = storage.gcs.as_ref();
    let gcs = effective(&spec.cloned().unwrap_or_default(), observed.platform_status());
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
