//! Deleting a bucket the operator owns (spec 30 §4.9, made safe): the ownership tag is read
//! again right before, then every object version, delete marker and incomplete multipart
//! upload goes (paged, in batches of at most 1,000), then the bucket. Each step is idempotent,
//! so a delete interrupted anywhere resumes on the next pass; a bucket that is already gone is
//! success.

use aws_sdk_s3::Client;
use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use image_registry_core::api::openshift::KeyValue;
use image_registry_core::outcome::ErrorClass;
use image_registry_core::storage::s3::call::S3Target;

use super::errors::done;
use super::execute::failure;
use crate::cloud::CloudError;
use crate::cloud::calls::CallCounter;

/// The most keys one DeleteObjects call takes.
const BATCH: usize = 1000;

fn gone(code: &str) -> bool {
    code == "NoSuchBucket"
}

/// Empties and deletes the bucket, refusing unless it carries `require_tag`.
pub async fn delete(
    client: &Client,
    target: &S3Target,
    require_tag: &KeyValue,
    calls: &CallCounter,
) -> Result<(), CloudError> {
    let bucket = target.bucket.as_str();
    let tags = match done(calls, "GetBucketTagging", client.get_bucket_tagging().bucket(bucket).send().await) {
        Ok(out) => out.tag_set().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect::<Vec<_>>(),
        Err(e) if gone(&e.code) => return Ok(()),
        Err(e) if e.code == "NoSuchTagSet" => Vec::new(),
        Err(e) => return Err(failure(e)),
    };
    if !tags.iter().any(|(k, v)| *k == require_tag.key && *v == require_tag.value) {
        return Err(CloudError::new(
            ErrorClass::Invalid,
            format!(
                "refusing to delete S3 bucket {bucket}: it does not carry the tag {}={}, so this cluster did not create it",
                require_tag.key, require_tag.value
            ),
        ));
    }
    empty_and_delete(client, bucket, calls).await
}

/// Deletes every object version, delete marker and incomplete upload, then the bucket; a
/// bucket already gone is success. The caller has checked that it may.
pub(crate) async fn empty_and_delete(client: &Client, bucket: &str, calls: &CallCounter) -> Result<(), CloudError> {
    match remove_versions(client, bucket, calls).await {
        Err(e) if gone(&e.0) => return Ok(()),
        Err(e) => return Err(e.1),
        Ok(()) => {}
    }
    match abort_uploads(client, bucket, calls).await {
        Err(e) if gone(&e.0) => return Ok(()),
        Err(e) => return Err(e.1),
        Ok(()) => {}
    }
    match done(calls, "DeleteBucket", client.delete_bucket().bucket(bucket).send().await) {
        Ok(_) => Ok(()),
        Err(e) if gone(&e.code) => Ok(()),
        Err(e) => Err(failure(e)),
    }
}

/// An error with its AWS code, to tell "the bucket is gone" from the rest.
type Coded = (String, CloudError);

fn coded(e: CloudError) -> Coded {
    (e.code.clone(), failure(e))
}

/// Deletes every object version and delete marker, page by page.
async fn remove_versions(client: &Client, bucket: &str, calls: &CallCounter) -> Result<(), Coded> {
    loop {
        // Always list from the start: what was deleted is no longer listed, so an interrupted
        // run and a concurrent writer are both handled by listing again until nothing is left.
        let page = done(calls, "ListObjectVersions", client.list_object_versions().bucket(bucket).send().await)
            .map_err(coded)?;
        let mut keys: Vec<ObjectIdentifier> = Vec::new();
        for (key, version) in page
            .versions()
            .iter()
            .map(|v| (v.key(), v.version_id()))
            .chain(page.delete_markers().iter().map(|m| (m.key(), m.version_id())))
        {
            let Some(key) = key else { continue };
            let id = ObjectIdentifier::builder().key(key).set_version_id(version.map(str::to_owned)).build();
            keys.push(id.map_err(|e| {
                (String::new(), CloudError::new(ErrorClass::Invalid, format!("object identifier: {e}")))
            })?);
        }
        if keys.is_empty() {
            return Ok(());
        }
        for batch in keys.chunks(BATCH) {
            let delete =
                Delete::builder().set_objects(Some(batch.to_vec())).quiet(true).build().map_err(|e| {
                    (String::new(), CloudError::new(ErrorClass::Invalid, format!("delete request: {e}")))
                })?;
            let out = done(calls, "DeleteObjects", client.delete_objects().bucket(bucket).delete(delete).send().await)
                .map_err(coded)?;
            if let Some(first) = out.errors().first() {
                let code = first.code().unwrap_or_default().to_owned();
                let message = format!(
                    "DeleteObjects: {} of {} objects not deleted, first {}: {code}: {}",
                    out.errors().len(),
                    batch.len(),
                    first.key().unwrap_or_default(),
                    first.message().unwrap_or_default()
                );
                return Err((code.clone(), CloudError::new(super::errors::classify(&code, None), message)));
            }
        }
    }
}

/// Aborts every incomplete multipart upload, page by page.
async fn abort_uploads(client: &Client, bucket: &str, calls: &CallCounter) -> Result<(), Coded> {
    loop {
        let page = done(calls, "ListMultipartUploads", client.list_multipart_uploads().bucket(bucket).send().await)
            .map_err(coded)?;
        if page.uploads().is_empty() {
            return Ok(());
        }
        let mut aborted = 0;
        for upload in page.uploads() {
            let (Some(key), Some(id)) = (upload.key(), upload.upload_id()) else { continue };
            aborted += 1;
            let abort = client.abort_multipart_upload().bucket(bucket).key(key).upload_id(id).send().await;
            match done(calls, "AbortMultipartUpload", abort) {
                Ok(_) => {}
                Err(e) if e.code == "NoSuchUpload" => {}
                Err(e) => return Err(coded(e)),
            }
        }
        if aborted == 0 {
            return Ok(());
        }
    }
}
