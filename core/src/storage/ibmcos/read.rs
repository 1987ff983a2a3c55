//! IBM COS's reads: the resource group, service instance and resource key the Config names
//! (by CRN, or by the name the operator gives them), the buckets, the API key and the trust.
//! The bucket is read with the HMAC pair of the key read in the same pass.

use super::call::{CosTarget, instance_name_for};
use super::{Endpoints, api_key, effective};
use crate::inputs::Inputs;
use crate::storage::credentials::SecretText;
use crate::storage::s3::read::Trust;

/// How to reach IBM Cloud this pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reads {
    /// The API key, or why there is none (naming the secret and key).
    pub api_key: Result<SecretText, String>,
    /// Where IAM, the Resource Controller and Manager, and COS are.
    pub endpoints: Endpoints,
    /// The service instance.
    pub instance: Lookup,
    /// The resource key.
    pub key: Option<Lookup>,
    /// The buckets the Config names (spec first, then status), read with the HMAC pair of the
    /// key found (by CRN, or the first active one of the name).
    pub buckets: Vec<CosTarget>,
    /// The CAs to trust (the cluster's cloud bundle beside the system roots).
    pub trust: Result<Trust, String>,
}

/// The credentials file an HMAC pair signs S3 calls with, for the operator's bucket client (the
/// registry's is the same file, in `image-registry-private-configuration`).
pub fn credentials_file(hmac: &crate::storage::ibmcos::facts::Hmac) -> SecretText {
    SecretText(crate::storage::credentials::static_credentials_file(&hmac.access_key_id, &hmac.secret_access_key))
}

/// How to find an instance or a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// The one the Config records.
    Crn(String),
    /// Those of this name in `within`: the resource group's name (instances) or the instance's
    /// CRN (keys).
    Named {
        /// The name the operator gives it.
        name: String,
        /// Where to look.
        within: String,
    },
}

/// What the shell reads of IBM Cloud; `None` when the Config has no `ibmcos` storage.
pub(crate) fn reads(observed: &Inputs<'_>) -> Option<Reads> {
    let config = observed.config.as_ref().ok()?.as_ref()?;
    let spec = config.spec.storage.ibmcos.as_ref()?;
    let status = config.status.as_ref().and_then(|s| s.storage.ibmcos.clone()).unwrap_or_default();
    let (cos, endpoints) = effective(spec, observed.platform_status()).ok()?;
    let name = instance_name_for(observed.infrastructure_name());
    let instance_crn = [&cos.service_instance_crn, &status.service_instance_crn].into_iter().find(|c| !c.is_empty());
    let instance = match instance_crn {
        Some(crn) => Lookup::Crn(crn.clone()),
        None => Lookup::Named { name: name.clone(), within: cos.resource_group_name.clone() },
    };
    let key_crn = [&cos.resource_key_crn, &status.resource_key_crn].into_iter().find(|c| !c.is_empty());
    let key = match (key_crn, instance_crn) {
        (Some(crn), _) => Some(Lookup::Crn(crn.clone())),
        (None, Some(instance)) => Some(Lookup::Named { name, within: instance.clone() }),
        (None, None) => None,
    };
    let mut buckets: Vec<CosTarget> = Vec::new();
    if key.is_some() {
        // A spec bucket COS would refuse is never read (the pass reports it); the status's always is.
        let readable = Some(&cos.bucket).filter(|b| crate::validation::storage::s3_bucket(b).is_ok());
        for bucket in [readable, Some(&status.bucket)].into_iter().flatten().filter(|b| !b.is_empty()) {
            if !buckets.iter().any(|b| b.bucket == *bucket) {
                let location = if *bucket == status.bucket && !status.location.is_empty() {
                    status.location.clone()
                } else {
                    cos.location.clone()
                };
                buckets.push(CosTarget { bucket: bucket.clone(), location, endpoint: endpoints.cos.clone() });
            }
        }
    }
    Some(Reads {
        api_key: api_key(observed).map(SecretText),
        endpoints,
        instance,
        key,
        buckets,
        trust: crate::storage::s3::read::trust(observed, ""),
    })
}
