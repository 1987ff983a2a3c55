//! Cloud storage calls: where an S3 call goes, every call the plan can make, the service it
//! goes to, and the S3 view the S3 client matches on.

// A new call must be decided on wherever these enums are matched.
#![deny(clippy::wildcard_enum_match_arm)]

use serde::Serialize;

use crate::api::openshift::KeyValue;

/// Where an S3 call goes: the bucket, its region and (for S3-compatible services) the endpoint.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct S3Target {
    /// Bucket name.
    pub bucket: String,
    /// Region (also the signing region).
    pub region: String,
    /// Custom endpoint URL; empty for AWS's own.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub endpoint: String,
    /// Virtual-hosted-style addressing with a custom endpoint (else path style).
    pub virtual_hosted_style: bool,
}

/// A call to a cloud storage service.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "call", rename_all = "camelCase")]
pub enum CloudAction {
    /// Create an S3 bucket (no location constraint in `us-east-1`). `BucketAlreadyOwnedByYou`
    /// is success; `BucketAlreadyExists` (another account's) is an `AlreadyExists` failure.
    S3CreateBucket {
        /// The bucket.
        target: S3Target,
    },
    /// Turn on all four public-access-block settings.
    S3PutPublicAccessBlock {
        /// The bucket.
        target: S3Target,
    },
    /// Replace the bucket's tag set.
    S3PutBucketTagging {
        /// The bucket.
        target: S3Target,
        /// The complete tag set, in order.
        tags: Vec<KeyValue>,
    },
    /// Default encryption: `aws:kms` with the key when one is given, else `AES256`; bucket key on.
    S3PutBucketEncryption {
        /// The bucket.
        target: S3Target,
        /// The KMS key, when one is configured.
        #[serde(skip_serializing_if = "String::is_empty")]
        kms_key_id: String,
    },
    /// A lifecycle rule aborting incomplete multipart uploads after one day.
    S3PutLifecycleConfiguration {
        /// The bucket.
        target: S3Target,
    },
    /// Empty and delete a bucket. The shell re-reads the tags first and refuses unless
    /// `require_tag` is present: only a bucket this cluster created is ever deleted.
    S3DeleteBucket {
        /// The bucket.
        target: S3Target,
        /// The ownership tag the bucket must carry.
        require_tag: KeyValue,
    },
    /// Create a GCS bucket with labels (and a default KMS key when one is configured).
    GcsCreateBucket {
        /// Bucket name.
        bucket: String,
        /// Project.
        project: String,
        /// Location.
        location: String,
        /// Labels, in order.
        labels: Vec<KeyValue>,
        /// Default KMS key name, when configured.
        #[serde(skip_serializing_if = "String::is_empty")]
        kms_key: String,
    },
    /// Bind GCP resource tags (`<parentID>/<key>/<value>`) to a bucket.
    GcsBindTags {
        /// Bucket name.
        bucket: String,
        /// Tag values to bind.
        tags: Vec<String>,
    },
    /// Empty and delete a GCS bucket, refused unless it carries `require_label`.
    GcsDeleteBucket {
        /// Bucket name.
        bucket: String,
        /// The ownership label the bucket must carry.
        require_label: KeyValue,
    },
    /// Create an Azure storage account (StorageV2, Standard_LRS, HTTPS only, TLS 1.2, no public blobs).
    AzureCreateStorageAccount {
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
    AzureCreateContainer {
        /// Account name.
        account: String,
        /// Container name.
        container: String,
    },
    /// Refuse shared keys on the storage account (`allowSharedKeyAccess: false`): under workload
    /// identity the registry and the operator reach its blobs with tokens (spec 30 §6.7 step 5).
    AzureDisallowSharedKey {
        /// Account name.
        account: String,
        /// Resource group.
        resource_group: String,
    },
    /// Reach the storage account only privately (spec 30 §6.7 step 7): a private endpoint in
    /// the subnet, the `privatelink.blob` DNS zone with the account's A record, the zone group and
    /// the vnet link, then public network access disabled.
    AzurePrivateEndpoint {
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
    AzureDeleteStorage {
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
    /// Create a Swift container with the cluster's metadata.
    SwiftCreateContainer {
        /// Container name.
        container: String,
        /// `X-Container-Meta-*` headers (suffix → value).
        metadata: Vec<KeyValue>,
    },
    /// Empty and delete a Swift container, refused unless its `Openshiftclusterid` metadata
    /// names this cluster.
    SwiftDeleteContainer {
        /// Container name.
        container: String,
        /// The infrastructure name it must carry.
        require_cluster_id: String,
    },
}

/// The cloud service a call goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    /// AWS S3 (or an S3-compatible store).
    S3,
    /// Google Cloud Storage.
    Gcs,
    /// Azure (Resource Manager and Blob storage).
    Azure,
    /// OpenStack Swift.
    Swift,
}

impl Service {
    /// Its lowercase name, as metrics label it.
    pub fn name(self) -> &'static str {
        match self {
            Self::S3 => "s3",
            Self::Gcs => "gcs",
            Self::Azure => "azure",
            Self::Swift => "swift",
        }
    }
}

/// An S3 call, borrowed from its [`CloudAction`]: what the S3 client matches on, so that it
/// names only S3's calls and still misses none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum S3Call<'a> {
    /// [`CloudAction::S3CreateBucket`].
    CreateBucket {
        /// The bucket.
        target: &'a S3Target,
    },
    /// [`CloudAction::S3PutPublicAccessBlock`].
    PutPublicAccessBlock {
        /// The bucket.
        target: &'a S3Target,
    },
    /// [`CloudAction::S3PutBucketTagging`].
    PutBucketTagging {
        /// The bucket.
        target: &'a S3Target,
        /// The complete tag set.
        tags: &'a [KeyValue],
    },
    /// [`CloudAction::S3PutBucketEncryption`].
    PutBucketEncryption {
        /// The bucket.
        target: &'a S3Target,
        /// The KMS key, or empty for `AES256`.
        kms_key_id: &'a str,
    },
    /// [`CloudAction::S3PutLifecycleConfiguration`].
    PutLifecycleConfiguration {
        /// The bucket.
        target: &'a S3Target,
    },
    /// [`CloudAction::S3DeleteBucket`].
    DeleteBucket {
        /// The bucket.
        target: &'a S3Target,
        /// The ownership tag it must carry.
        require_tag: &'a KeyValue,
    },
}

impl S3Call<'_> {
    /// The bucket the call acts on.
    pub fn target(&self) -> &S3Target {
        match self {
            Self::CreateBucket { target }
            | Self::PutPublicAccessBlock { target }
            | Self::PutBucketTagging { target, .. }
            | Self::PutBucketEncryption { target, .. }
            | Self::PutLifecycleConfiguration { target }
            | Self::DeleteBucket { target, .. } => target,
        }
    }
}

impl CloudAction {
    /// The call as an S3 call, when it is one.
    pub fn as_s3(&self) -> Option<S3Call<'_>> {
        Some(match self {
            Self::S3CreateBucket { target } => S3Call::CreateBucket { target },
            Self::S3PutPublicAccessBlock { target } => S3Call::PutPublicAccessBlock { target },
            Self::S3PutBucketTagging { target, tags } => S3Call::PutBucketTagging { target, tags },
            Self::S3PutBucketEncryption { target, kms_key_id } => S3Call::PutBucketEncryption { target, kms_key_id },
            Self::S3PutLifecycleConfiguration { target } => S3Call::PutLifecycleConfiguration { target },
            Self::S3DeleteBucket { target, require_tag } => S3Call::DeleteBucket { target, require_tag },
            Self::GcsCreateBucket { .. }
            | Self::GcsBindTags { .. }
            | Self::GcsDeleteBucket { .. }
            | Self::AzurePrivateEndpoint { .. }
            | Self::AzureCreateStorageAccount { .. }
            | Self::AzureCreateContainer { .. }
            | Self::AzureDisallowSharedKey { .. }
            | Self::AzureDeleteStorage { .. }
            | Self::SwiftCreateContainer { .. }
            | Self::SwiftDeleteContainer { .. } => return None,
        })
    }

    /// The service the call goes to.
    pub fn service(&self) -> Service {
        match self {
            Self::S3CreateBucket { .. }
            | Self::S3PutPublicAccessBlock { .. }
            | Self::S3PutBucketTagging { .. }
            | Self::S3PutBucketEncryption { .. }
            | Self::S3PutLifecycleConfiguration { .. }
            | Self::S3DeleteBucket { .. } => Service::S3,
            Self::GcsCreateBucket { .. } | Self::GcsBindTags { .. } | Self::GcsDeleteBucket { .. } => Service::Gcs,
            Self::AzureCreateStorageAccount { .. }
            | Self::AzureCreateContainer { .. }
            | Self::AzureDisallowSharedKey { .. }
            | Self::AzurePrivateEndpoint { .. }
            | Self::AzureDeleteStorage { .. } => Service::Azure,
            Self::SwiftCreateContainer { .. } | Self::SwiftDeleteContainer { .. } => Service::Swift,
        }
    }

    /// The call, named as the variant (service, then operation): the first part of its id,
    /// independent of how `describe` words it.
    pub fn call(&self) -> &'static str {
        match self {
            Self::S3CreateBucket { .. } => "S3CreateBucket",
            Self::S3PutPublicAccessBlock { .. } => "S3PutPublicAccessBlock",
            Self::S3PutBucketTagging { .. } => "S3PutBucketTagging",
            Self::S3PutBucketEncryption { .. } => "S3PutBucketEncryption",
            Self::S3PutLifecycleConfiguration { .. } => "S3PutLifecycleConfiguration",
            Self::S3DeleteBucket { .. } => "S3DeleteBucket",
            Self::GcsCreateBucket { .. } => "GcsCreateBucket",
            Self::GcsBindTags { .. } => "GcsBindTags",
            Self::GcsDeleteBucket { .. } => "GcsDeleteBucket",
            Self::AzureCreateStorageAccount { .. } => "AzureCreateStorageAccount",
            Self::AzureCreateContainer { .. } => "AzureCreateContainer",
            Self::AzurePrivateEndpoint { .. } => "AzurePrivateEndpoint",
            Self::AzureDisallowSharedKey { .. } => "AzureDisallowSharedKey",
            Self::AzureDeleteStorage { .. } => "AzureDeleteStorage",
            Self::SwiftCreateContainer { .. } => "SwiftCreateContainer",
            Self::SwiftDeleteContainer { .. } => "SwiftDeleteContainer",
        }
    }

    /// What the call acts on: the bucket, `account/container` or the Swift container.
    pub fn resource(&self) -> String {
        match self {
            Self::S3CreateBucket { target }
            | Self::S3PutPublicAccessBlock { target }
            | Self::S3PutBucketTagging { target, .. }
            | Self::S3PutBucketEncryption { target, .. }
            | Self::S3PutLifecycleConfiguration { target }
            | Self::S3DeleteBucket { target, .. } => target.bucket.clone(),
            Self::GcsCreateBucket { bucket, .. }
            | Self::GcsBindTags { bucket, .. }
            | Self::GcsDeleteBucket { bucket, .. } => bucket.clone(),
            Self::AzureCreateStorageAccount { account, .. }
            | Self::AzurePrivateEndpoint { account, .. }
            | Self::AzureDisallowSharedKey { account, .. } => account.clone(),
            Self::AzureCreateContainer { account, container } | Self::AzureDeleteStorage { account, container, .. } => {
                format!("{account}/{container}")
            }
            Self::SwiftCreateContainer { container, .. } | Self::SwiftDeleteContainer { container, .. } => {
                container.clone()
            }
        }
    }

    /// Whether the call creates the storage (as opposed to configuring or deleting it).
    pub(super) fn creates(&self) -> bool {
        match self {
            Self::S3CreateBucket { .. }
            | Self::GcsCreateBucket { .. }
            | Self::AzureCreateStorageAccount { .. }
            | Self::AzureCreateContainer { .. }
            | Self::SwiftCreateContainer { .. } => true,
            Self::S3PutPublicAccessBlock { .. }
            | Self::S3PutBucketTagging { .. }
            | Self::S3PutBucketEncryption { .. }
            | Self::S3PutLifecycleConfiguration { .. }
            | Self::S3DeleteBucket { .. }
            | Self::GcsBindTags { .. }
            | Self::GcsDeleteBucket { .. }
            | Self::AzurePrivateEndpoint { .. }
            | Self::AzureDisallowSharedKey { .. }
            | Self::AzureDeleteStorage { .. }
            | Self::SwiftDeleteContainer { .. } => false,
        }
    }

    pub(super) fn describe(&self) -> String {
        match self {
            Self::S3CreateBucket { target } => format!("create S3 bucket {} in {}", target.bucket, target.region),
            Self::S3PutPublicAccessBlock { target } => format!("block public access to S3 bucket {}", target.bucket),
            Self::S3PutBucketTagging { target, tags } => {
                format!("tag S3 bucket {} ({} tags)", target.bucket, tags.len())
            }
            Self::S3PutBucketEncryption { target, kms_key_id } => {
                let algorithm = if kms_key_id.is_empty() { "AES256" } else { "aws:kms" };
                format!("enable {algorithm} default encryption on S3 bucket {}", target.bucket)
            }
            Self::S3PutLifecycleConfiguration { target } => {
                format!("expire incomplete multipart uploads in S3 bucket {}", target.bucket)
            }
            Self::S3DeleteBucket { target, .. } => format!("empty and delete S3 bucket {}", target.bucket),
            Self::GcsCreateBucket { bucket, location, .. } => format!("create GCS bucket {bucket} in {location}"),
            Self::GcsBindTags { bucket, tags } => format!("bind {} tags to GCS bucket {bucket}", tags.len()),
            Self::GcsDeleteBucket { bucket, .. } => format!("empty and delete GCS bucket {bucket}"),
            Self::AzureCreateStorageAccount { account, location, .. } => {
                format!("create Azure storage account {account} in {location}")
            }
            Self::AzureCreateContainer { account, container } => {
                format!("create blob container {container} in Azure storage account {account}")
            }
            Self::AzurePrivateEndpoint { account, endpoint, vnet, subnet, .. } => format!(
                "reach Azure storage account {account} only through private endpoint {endpoint} in {vnet}/{subnet}"
            ),
            Self::AzureDisallowSharedKey { account, .. } => {
                format!("refuse shared keys on Azure storage account {account} (workload identity uses tokens)")
            }
            Self::AzureDeleteStorage { account, container, private_endpoint, .. } if !private_endpoint.is_empty() => {
                format!(
                    "delete private endpoint {private_endpoint}, blob container {container} and Azure storage account {account}"
                )
            }
            Self::AzureDeleteStorage { account, container, .. } => {
                format!("delete blob container {container} and Azure storage account {account}")
            }
            Self::SwiftCreateContainer { container, .. } => format!("create Swift container {container}"),
            Self::SwiftDeleteContainer { container, .. } => format!("empty and delete Swift container {container}"),
        }
    }

    pub(super) fn is_destructive(&self) -> bool {
        match self {
            Self::S3DeleteBucket { .. }
            | Self::GcsDeleteBucket { .. }
            | Self::AzureDeleteStorage { .. }
            | Self::SwiftDeleteContainer { .. } => true,
            Self::S3CreateBucket { .. }
            | Self::S3PutPublicAccessBlock { .. }
            | Self::S3PutBucketTagging { .. }
            | Self::S3PutBucketEncryption { .. }
            | Self::S3PutLifecycleConfiguration { .. }
            | Self::GcsCreateBucket { .. }
            | Self::GcsBindTags { .. }
            | Self::AzureCreateStorageAccount { .. }
            | Self::AzureCreateContainer { .. }
            | Self::AzurePrivateEndpoint { .. }
            | Self::AzureDisallowSharedKey { .. }
            | Self::SwiftCreateContainer { .. } => false,
        }
    }
}
