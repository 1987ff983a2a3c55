//! The IAM permissions behind every GCS JSON API call the operator makes, by the call: the
//! source of the committed CredentialsRequest (`manifests/01-registry-credentials-request-gcs.yaml`),
//! which a test keeps equal to what is derived here plus the registry's data path.

/// Every call [`super::client::GcsClient`] makes, with the permissions it needs. A test checks
/// that every call the client made against the emulator is in this table.
pub const CALLS: &[(&str, &[&str])] = &[
    ("buckets.get", &["storage.buckets.get"]),
    ("buckets.insert", &["storage.buckets.create"]),
    // Only when the created bucket lacks the operator's labels (emulators drop them).
    ("buckets.patch", &["storage.buckets.update"]),
    ("objects.list", &["storage.objects.list"]),
    ("objects.delete", &["storage.objects.delete"]),
    ("buckets.delete", &["storage.buckets.delete"]),
    // Resource tags (spec 30 §5.5), at the Resource Manager.
    ("effectiveTags.list", &["storage.buckets.listEffectiveTags", "resourcemanager.tagValues.list"]),
    (
        "tagBindings.create",
        &[
            "storage.buckets.createTagBinding",
            "resourcemanager.tagValueBindings.create",
            "resourcemanager.tagValues.get",
        ],
    ),
    ("operations.get", &[]),
];

/// What the registry itself does with its bucket (the distribution GCS driver's data path).
pub const REGISTRY: &[&str] = &[
    "storage.buckets.get",
    "storage.objects.create",
    "storage.objects.delete",
    "storage.objects.get",
    "storage.objects.list",
];
