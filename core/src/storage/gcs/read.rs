//! GCS's reads: the buckets the Config names, the keyfile to read them with, where their
//! resource tags are bound, and whether the cluster asks for tags at all (spec 30 §5).

use super::{effective, keyfile};
use crate::inputs::Inputs;
use crate::storage::credentials::SecretText;

/// What the shell reads of GCS this pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reads {
    /// The buckets, by name (spec first when valid, then status; once each).
    pub buckets: Vec<String>,
    /// The registry's keyfile (a service account key or an external account), or why there is
    /// none (naming the secret and key).
    pub keyfile: Result<SecretText, String>,
    /// The configured location: where a bucket's tag bindings are listed.
    pub location: String,
    /// Whether to read the buckets' effective tags (the cluster asks for resource tags).
    pub tags: bool,
}

/// What the shell reads of GCS; `None` when the Config names no bucket.
pub(crate) fn reads(observed: &Inputs<'_>) -> Option<Reads> {
    let config = observed.config.as_ref().ok()?.as_ref()?;
    let spec = config.spec.storage.gcs.as_ref().map(|g| g.bucket.clone());
    let status = config.status.as_ref().and_then(|s| s.storage.gcs.as_ref()).map(|g| g.bucket.clone());
    let buckets = crate::storage::read::named(spec, status, crate::validation::storage::gcs_bucket);
    if buckets.is_empty() {
        return None;
    }
    let platform = observed.platform_status();
    let spec = config.spec.storage.gcs.clone().unwrap_or_default();
    Some(Reads {
        buckets,
        keyfile: keyfile(observed).map(SecretText),
        location: effective(&spec, platform).region,
        tags: platform.and_then(|p| p.gcp.as_ref()).is_some_and(|gcp| !gcp.resource_tags.is_empty()),
    })
}
