//! The IAM actions behind every S3 call the operator makes, by the call: the source of the
//! committed CredentialsRequest (`manifests/01-registry-credentials-request.yaml`), which a test
//! keeps equal to what is derived here plus the registry's own data path (spec 30 §1.9).

use image_registry_core::storage::s3::call::Call;

/// What observing a bucket may call: `HeadBucket`, then for a managed bucket the four reads.
pub const OBSERVE: &[(&str, &[&str])] = &[
    ("HeadBucket", &["s3:ListBucket"]),
    ("GetBucketTagging", &["s3:GetBucketTagging"]),
    ("GetPublicAccessBlock", &["s3:GetBucketPublicAccessBlock"]),
    ("GetBucketEncryption", &["s3:GetEncryptionConfiguration"]),
    ("GetBucketLifecycleConfiguration", &["s3:GetLifecycleConfiguration"]),
];

/// What the registry itself does with its bucket (the distribution S3 driver's data path).
pub const REGISTRY: &[&str] = &[
    "s3:GetObject",
    "s3:PutObject",
    "s3:DeleteObject",
    "s3:ListBucket",
    "s3:GetBucketLocation",
    "s3:ListBucketMultipartUploads",
    "s3:ListMultipartUploadParts",
    "s3:AbortMultipartUpload",
];

/// The calls an S3 action makes, with the IAM actions each needs.
pub fn calls(call: &Call) -> &'static [(&'static str, &'static [&'static str])] {
    match call {
        Call::CreateBucket { .. } => &[("CreateBucket", &["s3:CreateBucket"])],
        Call::PutPublicAccessBlock { .. } => &[("PutPublicAccessBlock", &["s3:PutBucketPublicAccessBlock"])],
        Call::PutBucketTagging { .. } => &[("PutBucketTagging", &["s3:PutBucketTagging"])],
        Call::PutBucketEncryption { .. } => &[("PutBucketEncryption", &["s3:PutEncryptionConfiguration"])],
        Call::PutLifecycleConfiguration { .. } => &[
            ("GetBucketLifecycleConfiguration", &["s3:GetLifecycleConfiguration"]),
            ("PutBucketLifecycleConfiguration", &["s3:PutLifecycleConfiguration"]),
        ],
        Call::DeleteBucket { .. } => &[
            ("GetBucketTagging", &["s3:GetBucketTagging"]),
            ("ListObjectVersions", &["s3:ListBucketVersions"]),
            ("DeleteObjects", &["s3:DeleteObject", "s3:DeleteObjectVersion"]),
            ("ListMultipartUploads", &["s3:ListBucketMultipartUploads"]),
            ("AbortMultipartUpload", &["s3:AbortMultipartUpload"]),
            ("DeleteBucket", &["s3:DeleteBucket"]),
        ],
    }
}
