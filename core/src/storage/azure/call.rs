//! Azure's calls: every call the plan can make on a storage account, its container and its
//! private endpoint.

use serde::Serialize;

use crate::api::openshift::KeyValue;
use crate::api::storage::Storage;
use crate::storage::call::{Change, CloudCall, Guard, Ownership};

/// A call to Azure (Resource Manager and Blob storage).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "call")]
pub enum Call {
    /// Create a storage account (StorageV2, Standard_LRS, HTTPS only, TLS 1.2, no public blobs).
    #[serde(rename = "azureCreateStorageAccount")]
    CreateStorageAccount {
        /// Account name.
        account: String,
        /// Resource group.
        resource_group: String,
        /// Location.
        location: String,
        /// Tags.
        tags: Vec<KeyValue>,
    },
    /// Create a blob container.
    #[serde(rename = "azureCreateContainer")]
    CreateContainer {
        /// Account name.
        account: String,
        /// Container name.
        container: String,
    },
    /// Refuse shared keys on the storage account (`allowSharedKeyAccess: false`): under workload
    /// identity the registry and the operator reach its blobs with tokens (spec 30 §6.7 step 5).
    #[serde(rename = "azureDisallowSharedKey")]
    DisallowSharedKey {
        /// Account name.
        account: String,
        /// Resource group.
        resource_group: String,
    },
    /// Reach the storage account only privately (spec 30 §6.7 step 7): a private endpoint in
    /// the subnet, the `privatelink.blob` DNS zone with the account's A record, the zone group and
    /// the vnet link, then public network access disabled.
    #[serde(rename = "azurePrivateEndpoint")]
    PrivateEndpoint {
        /// Account name.
        account: String,
        /// The account's (and the endpoint's and DNS zone's) resource group.
        resource_group: String,
        /// Location of the endpoint.
        location: String,
        /// Tags for the endpoint.
        tags: Vec<KeyValue>,
        /// The endpoint's name.
        endpoint: String,
        /// The vnet's resource group.
        network_resource_group: String,
        /// The vnet.
        vnet: String,
        /// The subnet the endpoint gets its address in.
        subnet: String,
    },
    /// Delete the registry's container and then its storage account, refused unless the
    /// account carries `require_tag`.
    #[serde(rename = "azureDeleteStorage")]
    DeleteStorage {
        /// Account name.
        account: String,
        /// Resource group.
        resource_group: String,
        /// Container name.
        container: String,
        /// The ownership tag the account must carry.
        require_tag: KeyValue,
        /// The private endpoint to delete first (with its DNS zone group and the vnet link),
        /// when the storage has one.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        private_endpoint: String,
    },
}

impl Call {
    /// The storage account the call acts on.
    pub fn account(&self) -> &str {
        match self {
            Self::CreateStorageAccount { account, .. }
            | Self::CreateContainer { account, .. }
            | Self::DisallowSharedKey { account, .. }
            | Self::PrivateEndpoint { account, .. }
            | Self::DeleteStorage { account, .. } => account,
        }
    }
}

impl CloudCall for Call {
    fn name(&self) -> &'static str {
        match self {
            Self::CreateStorageAccount { .. } => "AzureCreateStorageAccount",
            Self::CreateContainer { .. } => "AzureCreateContainer",
            Self::PrivateEndpoint { .. } => "AzurePrivateEndpoint",
            Self::DisallowSharedKey { .. } => "AzureDisallowSharedKey",
            Self::DeleteStorage { .. } => "AzureDeleteStorage",
        }
    }

    fn resource(&self) -> String {
        match self {
            Self::CreateStorageAccount { account, .. }
            | Self::PrivateEndpoint { account, .. }
            | Self::DisallowSharedKey { account, .. } => account.clone(),
            Self::CreateContainer { account, container } | Self::DeleteStorage { account, container, .. } => {
                format!("{account}/{container}")
            }
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::CreateStorageAccount { account, location, .. } => {
                format!("create Azure storage account {account} in {location}")
            }
            Self::CreateContainer { account, container } => {
                format!("create blob container {container} in Azure storage account {account}")
            }
            Self::PrivateEndpoint { account, endpoint, vnet, subnet, .. } => format!(
                "reach Azure storage account {account} only through private endpoint {endpoint} in {vnet}/{subnet}"
            ),
            Self::DisallowSharedKey { account, .. } => {
                format!("refuse shared keys on Azure storage account {account} (workload identity uses tokens)")
            }
            Self::DeleteStorage { account, container, private_endpoint, .. } if !private_endpoint.is_empty() => {
                format!(
                    "delete private endpoint {private_endpoint}, blob container {container} and Azure storage account {account}"
                )
            }
            Self::DeleteStorage { account, container, .. } => {
                format!("delete blob container {container} and Azure storage account {account}")
            }
        }
    }

    fn change(&self) -> Change {
        match self {
            Self::CreateStorageAccount { .. } | Self::CreateContainer { .. } => Change::Create,
            Self::DisallowSharedKey { .. } | Self::PrivateEndpoint { .. } => Change::Update,
            Self::DeleteStorage { .. } => Change::Delete,
        }
    }

    fn event(&self) -> Option<(&'static str, &'static str)> {
        Some(match self {
            Self::CreateStorageAccount { .. } => ("StorageCreated", "Created Azure storage account"),
            Self::CreateContainer { .. } => ("StorageCreated", "Created Azure container"),
            Self::PrivateEndpoint { .. } => {
                ("PrivateEndpointCreated", "Made private (endpoint, DNS, no public access) Azure storage account")
            }
            Self::DisallowSharedKey { .. } => {
                ("SharedKeyAccessDisallowed", "Refused shared keys (workload identity) on Azure storage account")
            }
            Self::DeleteStorage { .. } => ("StorageRemoved", "Deleted Azure storage"),
        })
    }

    fn guard(&self) -> Guard<'_> {
        match self {
            Self::CreateStorageAccount { account, .. } => Guard::Creates(account),
            Self::DeleteStorage { account, .. } => Guard::Deletes(account),
            // A container inside the account the operator made, and settings of that account.
            Self::CreateContainer { .. } | Self::DisallowSharedKey { .. } | Self::PrivateEndpoint { .. } => {
                Guard::Configures
            }
        }
    }

    fn what(&self) -> &'static str {
        "storage account"
    }
}

impl Ownership for Call {
    type Facts = super::facts::Facts;

    fn recorded(storage: &Storage) -> Option<&str> {
        storage.azure.as_ref().map(|a| a.account_name.as_str())
    }

    fn marked(&self, facts: &Self::Facts, infra: &str) -> Result<(), &'static str> {
        let tag = ownership_tag(infra);
        let tagged = facts.accounts.get(self.account()).is_some_and(|a| a.tags.get(&tag.key) == Some(&tag.value));
        let Self::DeleteStorage { require_tag, .. } = self else { return Err("ownership tag") };
        if *require_tag == tag && tagged { Ok(()) } else { Err("ownership tag") }
    }
}

/// The tag that marks an account as this cluster's.
pub fn ownership_tag(infra: &str) -> KeyValue {
    KeyValue { key: format!("kubernetes.io_cluster.{infra}"), value: "owned".to_owned() }
}
