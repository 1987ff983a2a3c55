//! What Azure said about the storage accounts (and containers) and virtual networks the core
//! asked about.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::storage::facts::BucketState;

/// Azure's facts.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Facts {
    /// Storage accounts named in the Config's spec or status, by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub accounts: BTreeMap<String, AzureAccount>,
    /// Virtual networks by resource group: listed only for the group whose vnet or subnet a
    /// private endpoint must discover (the core asks: `read::Reads::vnets`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub vnets: BTreeMap<String, Vec<AzureVnet>>,
}

/// An Azure storage account (and its containers) as the shell observed it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AzureAccount {
    /// Whether the account exists and is usable.
    pub state: BucketState,
    /// The error text behind `forbidden` or `unknown`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// The account's tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Its containers' states.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub containers: BTreeMap<String, BucketState>,
    /// The account's primary access key (ListKeys), when the shell may read it. Secret: it
    /// only ever reaches the private-configuration Secret.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub primary_key: String,
    /// `properties.publicNetworkAccess` (`Enabled`, `Disabled`; empty when not read).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub public_network_access: String,
    /// `properties.allowSharedKeyAccess` (absent: Azure's default, allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_shared_key_access: Option<bool>,
}

/// An Azure virtual network as the shell listed it (spec 30 §6.7 step 7: the private endpoint's
/// vnet and subnet are discovered by the cluster's tag when the Config does not name them).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AzureVnet {
    /// Its name.
    pub name: String,
    /// Its tags.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// Its subnets' names, in the order Azure lists them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub subnets: Vec<String>,
}

impl crate::storage::facts::Secrets for Facts {
    fn hide_secrets(&mut self, hide: &mut dyn FnMut(&str) -> String) {
        for account in self.accounts.values_mut().filter(|a| !a.primary_key.is_empty()) {
            account.primary_key = hide(&account.primary_key);
        }
    }
}
