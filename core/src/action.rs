//! The closed vocabulary of effects: Kubernetes writes and cloud storage calls. Plain data,
//! each with a one-line `describe()`. Secret values never leave an action in serialised form.

// A new action or storage kind must be decided on wherever these enums are matched.
#![deny(clippy::wildcard_enum_match_arm)]

use serde::{Serialize, Serializer};
use serde_json::Value;

use crate::api::openshift::KeyValue;
use crate::observed::ObjectKey;

/// What `<redacted>` secrets are printed as.
pub const REDACTED: &str = "<redacted>";

/// An object or patch body, with the JSON pointers of the values that are secret.
///
/// Serialising a payload (plan output, snapshots, logs) redacts those values and every value
/// under `data`/`stringData` of a Secret. Only the shell's executor calls [`Payload::expose`].
#[derive(Clone, Debug, PartialEq)]
pub struct Payload {
    value: Value,
    secrets: Vec<String>,
}

impl Payload {
    /// A payload without secret values (besides a Secret's data, which is always redacted).
    pub fn new(value: Value) -> Self {
        Self { value, secrets: Vec::new() }
    }

    /// Marks the value at a JSON pointer (`/spec/httpSecret`) as secret.
    #[must_use]
    pub fn with_secret(mut self, pointer: &str) -> Self {
        self.secrets.push(pointer.to_owned());
        self
    }

    /// The real content, secrets included: for the executor only.
    pub fn expose(&self) -> &Value {
        &self.value
    }

    /// The content with every secret value replaced by `<redacted>`.
    pub fn redacted(&self) -> Value {
        let mut copy = self.value.clone();
        for pointer in &self.secrets {
            if let Some(slot) = copy.pointer_mut(pointer) {
                *slot = Value::String(REDACTED.to_owned());
            }
        }
        if copy.get("kind").and_then(Value::as_str) == Some("Secret") {
            for field in ["data", "stringData"] {
                if let Some(Value::Object(entries)) = copy.get_mut(field) {
                    entries.values_mut().for_each(|v| *v = Value::String(REDACTED.to_owned()));
                }
            }
        }
        copy
    }
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.redacted().serialize(s)
    }
}

/// One changed field of an update, for people reading the plan. Serialises redacted when secret.
#[derive(Clone, Debug, PartialEq)]
pub struct FieldChange {
    /// Dotted path.
    pub path: String,
    /// The observed value (absent when the field is new).
    pub before: Option<Value>,
    /// The desired value (absent when the field goes away).
    pub after: Option<Value>,
    /// Whether the values are secret (then they print as `<redacted>`).
    pub secret: bool,
}

impl Serialize for FieldChange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Printed<'a> {
            path: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            before: Option<Value>,
            #[serde(skip_serializing_if = "Option::is_none")]
            after: Option<Value>,
        }
        let hide = |v: &Option<Value>| match (v, self.secret) {
            (Some(_), true) => Some(Value::String(REDACTED.to_owned())),
            (v, _) => v.clone(),
        };
        Printed { path: &self.path, before: hide(&self.before), after: hide(&self.after) }.serialize(s)
    }
}

/// Preconditions a delete carries, so it never removes a replacement object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preconditions {
    /// The UID the object must still have.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// The resourceVersion the object must still have.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
}

/// A write to the Kubernetes API.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "verb", rename_all = "camelCase")]
pub enum KubeAction {
    /// Create an object that must not exist yet (AlreadyExists means someone else won the race).
    Create {
        /// The object.
        key: ObjectKey,
        /// The full object.
        object: Payload,
    },
    /// Server-side apply of the fields the operator owns, under its one field manager.
    Apply {
        /// The object.
        key: ObjectKey,
        /// Whether the object does not exist yet (the apply creates it).
        new: bool,
        /// The desired object (only owned fields).
        object: Payload,
        /// What differs from the observed object (items taken back: `after` absent).
        changes: Vec<FieldChange>,
        /// A guarded JSON patch sent first: it removes the items others added to the keyed
        /// lists the operator defines (`objects::takeback`). Empty almost always.
        #[serde(skip)]
        take_back: Vec<Value>,
    },
    /// Server-side apply of `status` through the status subresource.
    ApplyStatus {
        /// The object.
        key: ObjectKey,
        /// `{apiVersion, kind, metadata: {name}, status}`.
        object: Payload,
        /// What differs from the observed status.
        changes: Vec<FieldChange>,
        /// A guarded JSON patch of the status sent first, emptying the objects this apply
        /// sends as `{}` (`objects::takeback::emptied`). Empty almost always.
        #[serde(skip)]
        take_back: Vec<Value>,
    },
    /// JSON merge patch of fields the operator fills in (finalizers, generated spec values),
    /// rejected if the object changed since it was read.
    Patch {
        /// The object.
        key: ObjectKey,
        /// The merge patch (`{"metadata": {"finalizers": [...]}, "spec": {...}}`).
        patch: Payload,
        /// The resourceVersion the patch is computed against.
        resource_version: String,
        /// What the patch changes.
        changes: Vec<FieldChange>,
    },
    /// Add a finalizer with a guarded JSON patch.
    AddFinalizer {
        /// The object.
        key: ObjectKey,
        /// Finalizer name.
        finalizer: String,
        /// The resourceVersion the patch is guarded by.
        resource_version: String,
    },
    /// Remove a finalizer with a guarded JSON patch (`test` then `remove`).
    RemoveFinalizer {
        /// The object.
        key: ObjectKey,
        /// Finalizer name.
        finalizer: String,
        /// The resourceVersion the patch is guarded by.
        resource_version: String,
    },
    /// Delete an object (foreground, no grace period), guarded by preconditions.
    Delete {
        /// The object.
        key: ObjectKey,
        /// What the object must still be.
        preconditions: Preconditions,
    },
}

impl KubeAction {
    /// The object the action targets.
    pub fn key(&self) -> &ObjectKey {
        match self {
            Self::Create { key, .. }
            | Self::Apply { key, .. }
            | Self::ApplyStatus { key, .. }
            | Self::Patch { key, .. }
            | Self::AddFinalizer { key, .. }
            | Self::RemoveFinalizer { key, .. }
            | Self::Delete { key, .. } => key,
        }
    }

    fn verb(&self) -> &'static str {
        match self {
            Self::Create { .. } => "create",
            Self::Apply { .. } => "apply",
            Self::ApplyStatus { .. } => "apply status of",
            Self::Patch { .. } => "patch",
            Self::AddFinalizer { .. } => "add finalizer to",
            Self::RemoveFinalizer { .. } => "remove finalizer from",
            Self::Delete { .. } => "delete",
        }
    }

    fn describe(&self) -> String {
        let key = self.key();
        match self {
            Self::AddFinalizer { finalizer, .. } | Self::RemoveFinalizer { finalizer, .. } => {
                format!("{} {key}: {finalizer}", self.verb())
            }
            Self::Apply { new: true, .. } => format!("create {key}"),
            Self::Apply { changes, .. } | Self::ApplyStatus { changes, .. } | Self::Patch { changes, .. } => {
                let n = changes.len();
                let fields = if n == 1 { "field" } else { "fields" };
                format!("{} {key} ({n} {fields})", self.verb())
            }
            Self::Create { .. } | Self::Delete { .. } => format!("{} {key}", self.verb()),
        }
    }
}

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
            | Self::AzureCreateStorageAccount { .. }
            | Self::AzureCreateContainer { .. }
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
            Self::AzureCreateStorageAccount { account, .. } => account.clone(),
            Self::AzureCreateContainer { account, container } | Self::AzureDeleteStorage { account, container, .. } => {
                format!("{account}/{container}")
            }
            Self::SwiftCreateContainer { container, .. } | Self::SwiftDeleteContainer { container, .. } => {
                container.clone()
            }
        }
    }

    /// Whether the call creates the storage (as opposed to configuring or deleting it).
    fn creates(&self) -> bool {
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
            | Self::AzureDeleteStorage { .. }
            | Self::SwiftDeleteContainer { .. } => false,
        }
    }

    fn describe(&self) -> String {
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
            Self::AzureDeleteStorage { account, container, .. } => {
                format!("delete blob container {container} and Azure storage account {account}")
            }
            Self::SwiftCreateContainer { container, .. } => format!("create Swift container {container}"),
            Self::SwiftDeleteContainer { container, .. } => format!("empty and delete Swift container {container}"),
        }
    }

    fn is_destructive(&self) -> bool {
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
            | Self::SwiftCreateContainer { .. } => false,
        }
    }
}

/// One effect the shell carries out.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "target", rename_all = "camelCase")]
pub enum Action {
    /// A Kubernetes API write.
    Kube(KubeAction),
    /// A cloud storage call.
    Cloud(CloudAction),
}

/// How a plan groups an action when counting and printing it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Change {
    /// Something new.
    Create,
    /// Something existing changes.
    Update,
    /// Something goes away.
    Delete,
}

impl Action {
    /// One imperative line: `create Config.imageregistry.operator.openshift.io cluster`.
    pub fn describe(&self) -> String {
        match self {
            Self::Kube(k) => k.describe(),
            Self::Cloud(c) => c.describe(),
        }
    }

    /// Whether the action removes something (an object, a finalizer, stored data).
    pub fn is_destructive(&self) -> bool {
        match self {
            Self::Kube(k) => matches!(k, KubeAction::Delete { .. } | KubeAction::RemoveFinalizer { .. }),
            Self::Cloud(c) => c.is_destructive(),
        }
    }

    /// Whether the action is a create, an update or a delete.
    pub fn change(&self) -> Change {
        match self {
            Self::Kube(KubeAction::Create { .. } | KubeAction::Apply { new: true, .. }) => Change::Create,
            Self::Kube(KubeAction::Delete { .. }) => Change::Delete,
            Self::Kube(
                KubeAction::Apply { new: false, .. }
                | KubeAction::ApplyStatus { .. }
                | KubeAction::Patch { .. }
                | KubeAction::AddFinalizer { .. }
                | KubeAction::RemoveFinalizer { .. },
            ) => Change::Update,
            Self::Cloud(c) if c.creates() => Change::Create,
            Self::Cloud(c) if c.is_destructive() => Change::Delete,
            Self::Cloud(_) => Change::Update,
        }
    }

    /// A stable identifier, used to correlate outcomes with actions.
    pub fn id(&self) -> String {
        match self {
            Self::Kube(k) => format!("kube/{}/{}", k.verb().replace(' ', "-"), k.key()),
            // From the data, never from the wording: rewording `describe` keeps outcomes matched.
            Self::Cloud(c) => format!("cloud/{}/{}", c.call(), c.resource()),
        }
    }
}
