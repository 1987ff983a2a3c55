//! Carrying out the plan's S3 calls (spec 30 §4.8): create (no location constraint in
//! `us-east-1`; `BucketAlreadyOwnedByYou` is success), block public access, tag, encrypt, and
//! the lifecycle rule, which is added beside the bucket's other rules instead of replacing them.

use aws_sdk_s3::Client;
use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, BucketLocationConstraint, CreateBucketConfiguration,
    ExpirationStatus, LifecycleRule, LifecycleRuleFilter, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule, Tag, Tagging,
};
use image_registry_core::api::openshift::KeyValue;
use image_registry_core::outcome::ErrorClass;
use image_registry_core::storage::s3::call::S3Target;

use super::errors::done;
use super::observe::CLEANUP_RULE_ID;
use crate::cloud::CloudError;
use crate::cloud::calls::CallCounter;

/// An S3 error as the plan's outcome.
pub fn failure(e: CloudError) -> CloudError {
    e
}

fn invalid(what: &str, e: impl std::fmt::Display) -> CloudError {
    CloudError::new(ErrorClass::Invalid, format!("{what}: {e}"))
}

/// CreateBucket.
pub async fn create(client: &Client, target: &S3Target, calls: &CallCounter) -> Result<(), CloudError> {
    let mut request = client.create_bucket().bucket(&target.bucket);
    if !target.region.is_empty() && target.region != "us-east-1" {
        request = request.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(target.region.as_str()))
                .build(),
        );
    }
    match done(calls, "CreateBucket", request.send().await) {
        Ok(_) => Ok(()),
        Err(e) if e.code == "BucketAlreadyOwnedByYou" => Ok(()),
        Err(e) => Err(failure(e)),
    }
}

/// PutPublicAccessBlock with all four settings on.
pub async fn block_public_access(client: &Client, target: &S3Target, calls: &CallCounter) -> Result<(), CloudError> {
    let block = PublicAccessBlockConfiguration::builder()
        .block_public_acls(true)
        .block_public_policy(true)
        .ignore_public_acls(true)
        .restrict_public_buckets(true)
        .build();
    let request = client.put_public_access_block().bucket(&target.bucket).public_access_block_configuration(block);
    done(calls, "PutPublicAccessBlock", request.send().await).map(|_| ()).map_err(failure)
}

/// PutBucketTagging with the complete tag set.
pub async fn tag(client: &Client, target: &S3Target, tags: &[KeyValue], calls: &CallCounter) -> Result<(), CloudError> {
    let tags: Result<Vec<Tag>, _> = tags.iter().map(|t| Tag::builder().key(&t.key).value(&t.value).build()).collect();
    let tagging = Tagging::builder().set_tag_set(Some(tags.map_err(|e| invalid("tag set", e))?)).build();
    let request =
        client.put_bucket_tagging().bucket(&target.bucket).tagging(tagging.map_err(|e| invalid("tag set", e))?);
    done(calls, "PutBucketTagging", request.send().await).map(|_| ()).map_err(failure)
}

/// PutBucketEncryption: `aws:kms` with the key when one is given, else `AES256`; bucket key on.
pub async fn encrypt(
    client: &Client,
    target: &S3Target,
    kms_key_id: &str,
    calls: &CallCounter,
) -> Result<(), CloudError> {
    let mut default = ServerSideEncryptionByDefault::builder();
    default = if kms_key_id.is_empty() {
        default.sse_algorithm(ServerSideEncryption::Aes256)
    } else {
        default.sse_algorithm(ServerSideEncryption::AwsKms).kms_master_key_id(kms_key_id)
    };
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(default.build().map_err(|e| invalid("encryption", e))?)
        .bucket_key_enabled(true)
        .build();
    let configuration =
        ServerSideEncryptionConfiguration::builder().rules(rule).build().map_err(|e| invalid("encryption", e))?;
    let request =
        client.put_bucket_encryption().bucket(&target.bucket).server_side_encryption_configuration(configuration);
    done(calls, "PutBucketEncryption", request.send().await).map(|_| ()).map_err(failure)
}

/// PutBucketLifecycleConfiguration: the bucket's other rules, then the operator's.
pub async fn expire_incomplete_uploads(
    client: &Client,
    target: &S3Target,
    calls: &CallCounter,
) -> Result<(), CloudError> {
    let current = client.get_bucket_lifecycle_configuration().bucket(&target.bucket).send().await;
    let mut rules: Vec<LifecycleRule> = match done(calls, "GetBucketLifecycleConfiguration", current) {
        Ok(out) => out.rules().iter().filter(|r| r.id() != Some(CLEANUP_RULE_ID)).cloned().collect(),
        Err(e) if e.code == "NoSuchLifecycleConfiguration" => Vec::new(),
        Err(e) => return Err(failure(e)),
    };
    let ours = LifecycleRule::builder()
        .id(CLEANUP_RULE_ID)
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .abort_incomplete_multipart_upload(AbortIncompleteMultipartUpload::builder().days_after_initiation(1).build())
        .build()
        .map_err(|e| invalid("lifecycle rule", e))?;
    rules.push(ours);
    let configuration = BucketLifecycleConfiguration::builder()
        .set_rules(Some(rules))
        .build()
        .map_err(|e| invalid("lifecycle configuration", e))?;
    let request =
        client.put_bucket_lifecycle_configuration().bucket(&target.bucket).lifecycle_configuration(configuration);
    done(calls, "PutBucketLifecycleConfiguration", request.send().await).map(|_| ()).map_err(failure)
}
