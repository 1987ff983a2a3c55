//! GCS's calls: every call the plan can make on a bucket.

use serde::Serialize;

use crate::api::openshift::KeyValue;
use crate::api::storage::Storage;
use crate::storage::call::{Change, CloudCall, Guard, Ownership};

/// A call to GCS.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "call")]
pub enum Call {
    /// Create the bucket with labels (and a default KMS key when one is configured).
    #[serde(rename = "gcsCreateBucket")]
    CreateBucket {
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
    /// Bind GCP resource tags (`<parentID>/<key>/<value>`) to the bucket.
    #[serde(rename = "gcsBindTags")]
    BindTags {
        /// Bucket name.
        bucket: String,
        /// Tag values to bind.
        tags: Vec<String>,
    },
    /// Empty and delete the bucket, refused unless it carries `require_label`.
    #[serde(rename = "gcsDeleteBucket")]
    DeleteBucket {
        /// Bucket name.
        bucket: String,
        /// The ownership label the bucket must carry.
        require_label: KeyValue,
    },
}

impl Call {
    /// The bucket the call acts on.
    pub fn bucket(&self) -> &str {
        match self {
            Self::CreateBucket { bucket, .. } | Self::BindTags { bucket, .. } | Self::DeleteBucket { bucket, .. } => {
                bucket
            }
        }
    }
}

impl CloudCall for Call {
    fn name(&self) -> &'static str {
        match self {
            Self::CreateBucket { .. } => "GcsCreateBucket",
            Self::BindTags { .. } => "GcsBindTags",
            Self::DeleteBucket { .. } => "GcsDeleteBucket",
        }
    }

    fn resource(&self) -> String {
        self.bucket().to_owned()
    }

    fn describe(&self) -> String {
        match self {
            Self::CreateBucket { bucket, location, .. } => format!("create GCS bucket {bucket} in {location}"),
            Self::BindTags { bucket, tags } => format!("bind {} tags to GCS bucket {bucket}", tags.len()),
            Self::DeleteBucket { bucket, .. } => format!("empty and delete GCS bucket {bucket}"),
        }
    }

    fn change(&self) -> Change {
        match self {
            Self::CreateBucket { .. } => Change::Create,
            Self::BindTags { .. } => Change::Update,
            Self::DeleteBucket { .. } => Change::Delete,
        }
    }

    fn event(&self) -> Option<(&'static str, &'static str)> {
        match self {
            Self::CreateBucket { .. } => Some(("StorageCreated", "Created GCS bucket")),
            Self::DeleteBucket { .. } => Some(("StorageRemoved", "Emptied and deleted GCS bucket")),
            Self::BindTags { .. } => None,
        }
    }

    fn guard(&self) -> Guard<'_> {
        match self {
            Self::CreateBucket { bucket, .. } => Guard::Creates(bucket),
            Self::DeleteBucket { bucket, .. } => Guard::Deletes(bucket),
            Self::BindTags { .. } => Guard::Configures,
        }
    }

    fn what(&self) -> &'static str {
        "GCS bucket"
    }
}

impl Ownership for Call {
    type Facts = super::facts::Facts;

    fn recorded(storage: &Storage) -> Option<&str> {
        storage.gcs.as_ref().map(|g| g.bucket.as_str())
    }

    fn marked(&self, facts: &Self::Facts, infra: &str) -> Result<(), &'static str> {
        let label = ownership_label(infra);
        let labelled = facts.get(self.bucket()).is_some_and(|b| b.labels.get(&label.key) == Some(&label.value));
        let Self::DeleteBucket { require_label, .. } = self else { return Err("ownership label") };
        if *require_label == label && labelled { Ok(()) } else { Err("ownership label") }
    }
}

/// The label that marks a bucket as this cluster's.
pub fn ownership_label(infra: &str) -> KeyValue {
    KeyValue { key: format!("kubernetes-io-cluster-{infra}"), value: "owned".to_owned() }
}
