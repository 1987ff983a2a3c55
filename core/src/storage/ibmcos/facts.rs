//! What IBM Cloud said about the service instance, the resource key and the bucket the core
//! asked about.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::storage::facts::BucketState;

/// IBM COS's facts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Facts {
    /// Why nothing could be read (the IAM token, the API key), when so.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub error: String,
    /// Resource groups looked up by name: their IDs (absent: no such group).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, String>,
    /// Service instances, by CRN: those read by CRN and those found by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub instances: BTreeMap<String, Instance>,
    /// Resource keys, by CRN: those read by CRN and those found by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub keys: BTreeMap<String, Key>,
    /// Buckets, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub buckets: BTreeMap<String, CosBucket>,
}

/// A COS service instance (Resource Controller).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Instance {
    /// Its name.
    pub name: String,
    /// `active`, `provisioning`, `inactive`, `removed`, … (`missing` when the CRN is unknown).
    pub state: String,
    /// The resource group it is in.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resource_group_id: String,
}

/// A resource key of a COS instance.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Key {
    /// Its name.
    pub name: String,
    /// `active`, `removed`, … (`missing` when the CRN is unknown).
    pub state: String,
    /// The CRN of the instance it belongs to.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source_crn: String,
    /// The IAM role it grants (`crn:v1:bluemix:public:iam::::serviceRole:Writer`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub role: String,
    /// Its HMAC keys, when it has them. Secret: only ever reaches the private-configuration
    /// Secret and the operator's own bucket client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hmac: Option<Hmac>,
}

/// An HMAC key pair (`credentials.cos_hmac_keys`).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Hmac {
    /// `access_key_id`.
    pub access_key_id: String,
    /// `secret_access_key`.
    pub secret_access_key: String,
}

impl std::fmt::Debug for Hmac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Hmac(<redacted>)")
    }
}

/// A COS bucket as the shell observed it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CosBucket {
    /// Whether it exists and is usable.
    pub state: BucketState,
    /// The error text behind `forbidden` or `unknown`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

impl crate::storage::facts::Secrets for Facts {
    fn hide_secrets(&mut self, hide: &mut dyn FnMut(&str) -> String) {
        for hmac in self.keys.values_mut().filter_map(|k| k.hmac.as_mut()) {
            hmac.access_key_id = hide(&hmac.access_key_id);
            hmac.secret_access_key = hide(&hmac.secret_access_key);
        }
    }
}
