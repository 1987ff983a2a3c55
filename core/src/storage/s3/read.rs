//! S3's reads: which buckets the shell reads this pass and how much of each, the credentials
//! file, and the CAs to trust (spec 30 §4.2–§4.4). Decided here so that the shell decides
//! nothing: it reads what this names and carries out what the plan says.

use k8s_openapi::api::core::v1::ConfigMap;

use super::{credentials_file, effective, target};
use crate::inputs::Inputs;
use crate::storage::credentials::SecretText;
use crate::storage::s3::call::S3Target;

/// How to reach S3 this pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reads {
    /// The buckets the Config names (spec first, then status), once each.
    pub buckets: Vec<BucketRead>,
    /// The shared credentials file, or why there is none (naming the secret and key).
    pub credentials: Result<Credentials, String>,
    /// The CAs to trust, or why they cannot be read (naming the ConfigMap and key).
    pub trust: Result<Trust, String>,
}

/// One bucket to observe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BucketRead {
    /// Where it is.
    pub target: S3Target,
    /// Whether to read its configuration (tags, public-access block, encryption, lifecycle)
    /// too: only for a bucket the operator manages. A user's bucket is only checked for
    /// existence, as the reference does, so credentials limited to the data still work.
    pub configuration: bool,
}

/// An AWS shared credentials (or config) file. Secret: `Debug` never shows it.
pub use crate::storage::credentials::SecretText as Credentials;

/// The CAs the operator's S3 client trusts (spec 30 §4.3).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Trust {
    /// PEM bundle, when one is configured.
    pub bundle: Option<String>,
    /// Whether the system's roots are trusted too: not when the user named a `trustedCA`.
    pub system_roots: bool,
}

/// What the shell reads of S3; `None` when the Config names no bucket.
pub(crate) fn reads(observed: &Inputs<'_>) -> Option<Reads> {
    let config = observed.config.as_ref().ok()?.as_ref()?;
    let platform = observed.platform_status();
    let spec = config.spec.storage.s3.as_ref().map(|s| effective(s, platform));
    let status = config.status.as_ref().and_then(|s| s.storage.s3.clone());
    let managed = config.spec.storage.management_state == "Managed";
    let mut buckets: Vec<BucketRead> = Vec::new();
    // A spec bucket S3 would refuse is never read (the pass reports it); the status's always is.
    let readable = spec.as_ref().filter(|s| crate::validation::storage::s3_bucket(&s.bucket).is_ok());
    for s3 in [readable, status.as_ref()].into_iter().flatten().filter(|s| !s.bucket.is_empty()) {
        if !buckets.iter().any(|b| b.target.bucket == s3.bucket) {
            buckets.push(BucketRead { target: target(s3, platform), configuration: managed });
        }
    }
    if buckets.is_empty() {
        return None;
    }
    let trust = trust(observed, spec.as_ref().or(status.as_ref()).map_or("", |s| s.trusted_ca.name.as_str()));
    Some(Reads { buckets, credentials: credentials_file(observed).map(SecretText), trust })
}

/// The CA bundle for S3: the user's `trustedCA` ConfigMap (key `ca-bundle.crt`, system roots
/// not trusted) when named, else `kube-cloud-config`'s `ca-bundle.pem` beside the system roots.
pub(crate) fn trust(observed: &Inputs<'_>, trusted_ca: &str) -> Result<Trust, String> {
    let read =
        |namespace: &str, name: &str| observed.objects.get::<ConfigMap>(namespace, name).map_err(|e| e.to_string());
    let key = |cm: ConfigMap, key: &str| cm.data.and_then(|mut d| d.remove(key)).filter(|v| !v.is_empty());
    if trusted_ca.is_empty() {
        let bundle = read("openshift-config-managed", "kube-cloud-config")?.and_then(|cm| key(cm, "ca-bundle.pem"));
        return Ok(Trust { bundle, system_roots: true });
    }
    let cm = read("openshift-config", trusted_ca)?
        .ok_or_else(|| format!("failed to get trusted CA \"{trusted_ca}\": configmaps \"{trusted_ca}\" not found"))?;
    let bundle = key(cm, "ca-bundle.crt").ok_or_else(|| {
        format!("trusted CA config map \"{trusted_ca}\" does not contain required key \"ca-bundle.crt\"")
    })?;
    Ok(Trust { bundle: Some(bundle), system_roots: false })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::storage::S3;
    use crate::api::{Config, ImageRegistryStatus};
    use crate::observed::Observed;

    /// Issue 25: S3 is never asked about a spec bucket it would refuse; the applied one still is.
    #[test]
    fn a_spec_bucket_s3_would_refuse_is_not_read() {
        let mut config = Config::default();
        config.metadata.name = Some("cluster".into());
        config.spec.storage.s3 = Some(S3 { bucket: "MyCluster-UPPER-Bucket".into(), ..S3::default() });
        let mut observed = Observed::new(jiff::Timestamp::UNIX_EPOCH, "seed");
        let Ok(value) = serde_json::to_value(&config) else { panic!("encodes") };
        observed.objects.insert(value).ok();
        assert!(reads(&Inputs::decode(&observed)).is_none(), "nothing to read");
        config.status = Some(ImageRegistryStatus::default());
        if let Some(status) = config.status.as_mut() {
            status.storage.s3 = Some(S3 { bucket: "applied-bucket".into(), ..S3::default() });
        }
        let Ok(value) = serde_json::to_value(&config) else { panic!("encodes") };
        observed.objects.insert(value).ok();
        let Some(access) = reads(&Inputs::decode(&observed)) else { panic!("the applied bucket is read") };
        let read: Vec<&str> = access.buckets.iter().map(|b| b.target.bucket.as_str()).collect();
        assert_eq!(read, ["applied-bucket"]);
    }
}
