//! What S3 said about the buckets the core asked about.

use serde::{Deserialize, Serialize};

use crate::storage::facts::BucketState;

/// S3's facts: the buckets read, by name.
pub type Facts = std::collections::BTreeMap<String, S3Bucket>;

impl crate::storage::facts::Secrets for Facts {}

/// An S3 bucket as the shell observed it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct S3Bucket {
    /// Whether it exists and is usable.
    pub state: BucketState,
    /// The error text behind `forbidden` or `unknown`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// The service's error code behind `missing`, `forbidden` or `unknown` (`NoSuchBucket`,
    /// `NotFound`, `Forbidden`, `InvalidAccessKeyId`, ...): the reason the conditions carry.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub code: String,
    /// Its tag set (empty when it has none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<crate::api::openshift::KeyValue>,
    /// Whether all four public-access-block settings are on.
    #[serde(default)]
    pub public_access_blocked: bool,
    /// Default encryption: `AES256` or `aws:kms`; empty when none is configured.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub encryption: String,
    /// The KMS key of `aws:kms` default encryption.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kms_key_id: String,
    /// Whether incomplete multipart uploads are cleaned up by a lifecycle rule.
    #[serde(default)]
    pub incomplete_upload_cleanup: bool,
}
