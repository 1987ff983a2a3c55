//! What Swift said: whether the registry can use it (OpenStack's bootstrap) and the containers
//! the core asked about.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::storage::facts::BucketState;

/// Swift's facts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Facts {
    /// OpenStack only: can the registry use Swift? Needed to bootstrap on OpenStack.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<SwiftProbe>,
    /// Containers named in the Config's spec or status, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub containers: BTreeMap<String, SwiftContainer>,
}

/// Result of the OpenStack Swift availability probe (spec 10 §2.5), observed by the shell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum SwiftProbe {
    /// Swift is in the catalog and listing containers works.
    Usable,
    /// No object-store endpoint, or listing failed: fall back to a PVC.
    NotUsable {
        /// What the probe saw.
        reason: String,
    },
    /// The probe itself failed (credentials, auth, CA bundle): bootstrap must be retried.
    Failed {
        /// The error.
        message: String,
    },
}

/// A Swift container as the shell observed it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SwiftContainer {
    /// Whether it exists and is usable.
    pub state: BucketState,
    /// The error text behind `forbidden` or `unknown`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// Its `X-Container-Meta-*` metadata (header suffix → value).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

impl crate::storage::facts::Secrets for Facts {}
