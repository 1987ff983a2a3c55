//! Reading one bucket: does it exist (HeadBucket, whose failure keeps the AWS code), and for a
//! bucket the operator manages, its tags, public-access block, default encryption and
//! lifecycle rule. A "not configured" answer is a fact (no tags, no block, ...), any other
//! failure makes the whole observation `unknown`, naming the call: nothing is decided on
//! half-read facts.

use crate::cloud::CloudError;
use aws_sdk_s3::Client;
use image_registry_core::api::openshift::KeyValue;
use image_registry_core::observed::BucketState;
use image_registry_core::storage::s3::facts::S3Bucket;
use image_registry_core::storage::s3::read::BucketRead;

use super::errors::done;
use crate::cloud::calls::CallCounter;

/// The lifecycle rule the operator adds (spec 30 §4.8 step 9).
pub const CLEANUP_RULE_ID: &str = "cleanup-incomplete-multipart-registry-uploads";

/// What `read` says about its bucket now.
pub async fn bucket(client: &Client, read: &BucketRead, calls: &CallCounter) -> S3Bucket {
    let name = read.target.bucket.as_str();
    if let Err(e) = done(calls, "HeadBucket", client.head_bucket().bucket(name).send().await) {
        let state = match (e.code.as_str(), e.status) {
            ("NoSuchBucket" | "NotFound", _) | (_, Some(404)) => BucketState::Missing,
            ("Forbidden", _) | (_, Some(403)) => BucketState::Forbidden,
            _ => BucketState::Unknown,
        };
        return S3Bucket { state, message: e.message, code: e.code, ..S3Bucket::default() };
    }
    let mut facts = S3Bucket { state: BucketState::Exists, ..S3Bucket::default() };
    if read.configuration
        && let Err(e) = configuration(client, name, calls, &mut facts).await
    {
        return S3Bucket { state: BucketState::Unknown, message: e.message, code: e.code, ..S3Bucket::default() };
    }
    facts
}

async fn configuration(
    client: &Client,
    name: &str,
    calls: &CallCounter,
    facts: &mut S3Bucket,
) -> Result<(), CloudError> {
    let tagging = client.get_bucket_tagging().bucket(name).send().await;
    if let Some(out) = absent_is_none(calls, "GetBucketTagging", tagging, "NoSuchTagSet")? {
        facts.tags =
            out.tag_set().iter().map(|t| KeyValue { key: t.key().to_owned(), value: t.value().to_owned() }).collect();
    }
    let block = client.get_public_access_block().bucket(name).send().await;
    if let Some(out) = absent_is_none(calls, "GetPublicAccessBlock", block, "NoSuchPublicAccessBlockConfiguration")? {
        facts.public_access_blocked = out.public_access_block_configuration().is_some_and(|c| {
            c.block_public_acls() == Some(true)
                && c.block_public_policy() == Some(true)
                && c.ignore_public_acls() == Some(true)
                && c.restrict_public_buckets() == Some(true)
        });
    }
    let encryption = client.get_bucket_encryption().bucket(name).send().await;
    let absent = "ServerSideEncryptionConfigurationNotFoundError";
    if let Some(out) = absent_is_none(calls, "GetBucketEncryption", encryption, absent)? {
        let default = out
            .server_side_encryption_configuration()
            .and_then(|c| c.rules().first())
            .and_then(|r| r.apply_server_side_encryption_by_default());
        if let Some(default) = default {
            facts.encryption = default.sse_algorithm().as_str().to_owned();
            facts.kms_key_id = default.kms_master_key_id().unwrap_or_default().to_owned();
        }
    }
    let lifecycle = client.get_bucket_lifecycle_configuration().bucket(name).send().await;
    if let Some(out) =
        absent_is_none(calls, "GetBucketLifecycleConfiguration", lifecycle, "NoSuchLifecycleConfiguration")?
    {
        facts.incomplete_upload_cleanup = out.rules().iter().any(|r| {
            r.id() == Some(CLEANUP_RULE_ID)
                && r.status().as_str() == "Enabled"
                && r.abort_incomplete_multipart_upload().and_then(|a| a.days_after_initiation()) == Some(1)
        });
    }
    Ok(())
}

/// A call's answer; the code that means "not configured" is `None`, other failures are errors.
fn absent_is_none<T, E>(
    calls: &CallCounter,
    call: &str,
    result: Result<T, aws_sdk_s3::error::SdkError<E, aws_sdk_s3::config::http::HttpResponse>>,
    absent: &str,
) -> Result<Option<T>, CloudError>
where
    E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    match done(calls, call, result) {
        Ok(out) => Ok(Some(out)),
        Err(e) if e.code == absent => Ok(None),
        Err(e) => Err(e),
    }
}
