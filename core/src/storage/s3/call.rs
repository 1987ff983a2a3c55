//! S3's calls: where one goes ([`S3Target`]) and every call the plan can make on a bucket.

use serde::Serialize;

use crate::api::openshift::KeyValue;
use crate::api::storage::Storage;
use crate::storage::call::{Change, CloudCall, Guard, Ownership};

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
    /// AWS's dual-stack endpoint (without a custom endpoint), as the registry uses it. An
    /// address detail, left out of the plan's text.
    #[serde(skip)]
    pub dual_stack: bool,
}

/// A call to S3.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "call")]
pub enum Call {
    /// Create the bucket (no location constraint in `us-east-1`). `BucketAlreadyOwnedByYou`
    /// is success; `BucketAlreadyExists` (another account's) is an `AlreadyExists` failure.
    #[serde(rename = "s3CreateBucket")]
    CreateBucket {
        /// The bucket.
        target: S3Target,
    },
    /// Turn on all four public-access-block settings.
    #[serde(rename = "s3PutPublicAccessBlock")]
    PutPublicAccessBlock {
        /// The bucket.
        target: S3Target,
    },
    /// Replace the bucket's tag set.
    #[serde(rename = "s3PutBucketTagging")]
    PutBucketTagging {
        /// The bucket.
        target: S3Target,
        /// The complete tag set, in order.
        tags: Vec<KeyValue>,
    },
    /// Default encryption: `aws:kms` with the key when one is given, else `AES256`; bucket key on.
    #[serde(rename = "s3PutBucketEncryption")]
    PutBucketEncryption {
        /// The bucket.
        target: S3Target,
        /// The KMS key, when one is configured.
        #[serde(skip_serializing_if = "String::is_empty")]
        kms_key_id: String,
    },
    /// A lifecycle rule aborting incomplete multipart uploads after one day.
    #[serde(rename = "s3PutLifecycleConfiguration")]
    PutLifecycleConfiguration {
        /// The bucket.
        target: S3Target,
    },
    /// Empty and delete the bucket. The shell re-reads the tags first and refuses unless
    /// `require_tag` is present: only a bucket this cluster created is ever deleted.
    #[serde(rename = "s3DeleteBucket")]
    DeleteBucket {
        /// The bucket.
        target: S3Target,
        /// The ownership tag the bucket must carry.
        require_tag: KeyValue,
    },
}

impl Call {
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

impl CloudCall for Call {
    fn name(&self) -> &'static str {
        match self {
            Self::CreateBucket { .. } => "S3CreateBucket",
            Self::PutPublicAccessBlock { .. } => "S3PutPublicAccessBlock",
            Self::PutBucketTagging { .. } => "S3PutBucketTagging",
            Self::PutBucketEncryption { .. } => "S3PutBucketEncryption",
            Self::PutLifecycleConfiguration { .. } => "S3PutLifecycleConfiguration",
            Self::DeleteBucket { .. } => "S3DeleteBucket",
        }
    }

    fn resource(&self) -> String {
        self.target().bucket.clone()
    }

    fn describe(&self) -> String {
        match self {
            Self::CreateBucket { target } => format!("create S3 bucket {} in {}", target.bucket, target.region),
            Self::PutPublicAccessBlock { target } => format!("block public access to S3 bucket {}", target.bucket),
            Self::PutBucketTagging { target, tags } => format!("tag S3 bucket {} ({} tags)", target.bucket, tags.len()),
            Self::PutBucketEncryption { target, kms_key_id } => {
                let algorithm = if kms_key_id.is_empty() { "AES256" } else { "aws:kms" };
                format!("enable {algorithm} default encryption on S3 bucket {}", target.bucket)
            }
            Self::PutLifecycleConfiguration { target } => {
                format!("expire incomplete multipart uploads in S3 bucket {}", target.bucket)
            }
            Self::DeleteBucket { target, .. } => format!("empty and delete S3 bucket {}", target.bucket),
        }
    }

    fn change(&self) -> Change {
        match self {
            Self::CreateBucket { .. } => Change::Create,
            Self::DeleteBucket { .. } => Change::Delete,
            Self::PutPublicAccessBlock { .. }
            | Self::PutBucketTagging { .. }
            | Self::PutBucketEncryption { .. }
            | Self::PutLifecycleConfiguration { .. } => Change::Update,
        }
    }

    fn event(&self) -> Option<(&'static str, &'static str)> {
        match self {
            Self::CreateBucket { .. } => Some(("StorageCreated", "Created S3 bucket")),
            Self::DeleteBucket { .. } => Some(("StorageRemoved", "Emptied and deleted S3 bucket")),
            Self::PutPublicAccessBlock { .. }
            | Self::PutBucketTagging { .. }
            | Self::PutBucketEncryption { .. }
            | Self::PutLifecycleConfiguration { .. } => None,
        }
    }

    fn guard(&self) -> Guard<'_> {
        match self {
            Self::CreateBucket { target } => Guard::Creates(&target.bucket),
            Self::DeleteBucket { target, .. } => Guard::Deletes(&target.bucket),
            Self::PutPublicAccessBlock { .. }
            | Self::PutBucketTagging { .. }
            | Self::PutBucketEncryption { .. }
            | Self::PutLifecycleConfiguration { .. } => Guard::Configures,
        }
    }

    fn what(&self) -> &'static str {
        "bucket"
    }
}

impl Ownership for Call {
    type Facts = super::facts::Facts;

    fn recorded(storage: &Storage) -> Option<&str> {
        storage.s3.as_ref().map(|s| s.bucket.as_str())
    }

    fn marked(&self, facts: &Self::Facts, infra: &str) -> Result<(), &'static str> {
        let tag = ownership_tag(infra);
        let tagged = facts.get(&self.target().bucket).is_some_and(|b| b.tags.contains(&tag));
        let Self::DeleteBucket { require_tag, .. } = self else { return Err("ownership tag") };
        if *require_tag == tag && tagged { Ok(()) } else { Err("ownership tag") }
    }
}

/// The tag that marks a bucket as created by this cluster's operator.
pub fn ownership_tag(infra: &str) -> KeyValue {
    KeyValue { key: format!("kubernetes.io/cluster/{infra}"), value: "owned".to_owned() }
}
