//! IBM COS's calls: the service instance and resource key (Resource Controller) and the
//! bucket (COS's S3 API with the key's HMAC pair).

use serde::Serialize;

use crate::api::storage::Storage;
use crate::storage::call::{Change, CloudCall, Guard, Ownership};

/// Where a bucket call goes.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CosTarget {
    /// Bucket name.
    pub bucket: String,
    /// COS location (`us-south`); the bucket is created with `LocationConstraint=<location>-smart`.
    pub location: String,
    /// The COS endpoint, with its scheme.
    pub endpoint: String,
}

/// A call to IBM Cloud.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "call")]
pub enum Call {
    /// Create the COS service instance (plan standard, target `bluemix-global`) in a group.
    #[serde(rename = "ibmcosCreateServiceInstance", rename_all = "camelCase")]
    CreateServiceInstance {
        /// `<infrastructureName>-image-registry`.
        name: String,
        /// The resource group's ID.
        resource_group_id: String,
        /// Its tags (`kubernetes.io_cluster_<infrastructureName>:owned`).
        tags: Vec<String>,
    },
    /// Create a Writer resource key with HMAC credentials for the instance.
    #[serde(rename = "ibmcosCreateResourceKey", rename_all = "camelCase")]
    CreateResourceKey {
        /// `<infrastructureName>-image-registry`.
        name: String,
        /// The instance's CRN.
        instance_crn: String,
    },
    /// Create the bucket.
    #[serde(rename = "ibmcosCreateBucket")]
    CreateBucket {
        /// The bucket.
        target: CosTarget,
    },
    /// Empty and delete the bucket, only in this cluster's instance.
    #[serde(rename = "ibmcosDeleteBucket", rename_all = "camelCase")]
    DeleteBucket {
        /// The bucket.
        target: CosTarget,
        /// The instance it is in, which the operator created for this cluster.
        instance_crn: String,
        /// That instance's name (`<infrastructureName>-image-registry`): the cluster's mark.
        instance_name: String,
    },
}

impl CloudCall for Call {
    fn name(&self) -> &'static str {
        match self {
            Self::CreateServiceInstance { .. } => "IBMCOSCreateServiceInstance",
            Self::CreateResourceKey { .. } => "IBMCOSCreateResourceKey",
            Self::CreateBucket { .. } => "IBMCOSCreateBucket",
            Self::DeleteBucket { .. } => "IBMCOSDeleteBucket",
        }
    }

    fn resource(&self) -> String {
        match self {
            Self::CreateServiceInstance { name, .. } => name.clone(),
            Self::CreateResourceKey { name, instance_crn } => format!("{instance_crn}/{name}"),
            Self::CreateBucket { target } | Self::DeleteBucket { target, .. } => target.bucket.clone(),
        }
    }

    fn describe(&self) -> String {
        match self {
            Self::CreateServiceInstance { name, .. } => format!("create IBM COS service instance {name}"),
            Self::CreateResourceKey { name, .. } => format!("create HMAC resource key {name} of the IBM COS instance"),
            Self::CreateBucket { target } => format!("create IBM COS bucket {} in {}", target.bucket, target.location),
            Self::DeleteBucket { target, .. } => format!("empty and delete IBM COS bucket {}", target.bucket),
        }
    }

    fn change(&self) -> Change {
        match self {
            Self::CreateServiceInstance { .. } | Self::CreateResourceKey { .. } | Self::CreateBucket { .. } => {
                Change::Create
            }
            Self::DeleteBucket { .. } => Change::Delete,
        }
    }

    fn event(&self) -> Option<(&'static str, &'static str)> {
        match self {
            Self::CreateServiceInstance { .. } => Some(("StorageCreated", "Created IBM COS service instance")),
            Self::CreateResourceKey { .. } => Some(("StorageCreated", "Created IBM COS resource key")),
            Self::CreateBucket { .. } => Some(("StorageCreated", "Created IBM COS bucket")),
            Self::DeleteBucket { .. } => Some(("StorageRemoved", "Emptied and deleted IBM COS bucket")),
        }
    }

    fn guard(&self) -> Guard<'_> {
        match self {
            // The instance and its key hold no data and are never deleted.
            Self::CreateServiceInstance { .. } | Self::CreateResourceKey { .. } => Guard::Configures,
            Self::CreateBucket { target } => Guard::Creates(&target.bucket),
            Self::DeleteBucket { target, .. } => Guard::Deletes(&target.bucket),
        }
    }

    fn what(&self) -> &'static str {
        "bucket"
    }
}

impl Ownership for Call {
    type Facts = super::facts::Facts;

    fn recorded(storage: &Storage) -> Option<&str> {
        storage.ibmcos.as_ref().map(|s| s.bucket.as_str())
    }

    /// COS buckets carry no tags (bucket tagging is IBM's Vault mode only): the mark is the
    /// instance the bucket is in, named for this cluster as only the operator names it.
    fn marked(&self, facts: &Self::Facts, infra: &str) -> Result<(), &'static str> {
        let Self::DeleteBucket { instance_crn, instance_name, .. } = self else { return Err("cluster's instance") };
        let name = instance_name_for(infra);
        let in_it = facts.instances.get(instance_crn).is_some_and(|i| i.name == name);
        if *instance_name == name && in_it { Ok(()) } else { Err("cluster's instance") }
    }
}

/// The name of the instance and key the operator creates for a cluster.
pub fn instance_name_for(infra: &str) -> String {
    format!("{infra}-image-registry")
}

/// The tag the operator's instance carries.
pub fn ownership_tag(infra: &str) -> String {
    format!("kubernetes.io_cluster_{infra}:owned")
}
