//! What GCS said about the buckets the core asked about.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::storage::facts::BucketState;

/// GCS's facts: the buckets read, by name.
pub type Facts = BTreeMap<String, GcsBucket>;

impl crate::storage::facts::Secrets for Facts {}

/// A GCS bucket as the shell observed it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GcsBucket {
    /// Whether it exists and is usable.
    pub state: BucketState,
    /// The error text behind `forbidden` or `unknown`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// Its labels.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// Tag values bound to it, as `<parentID>/<key>/<value>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}
