//! The clouds in the world model: S3 buckets as facts that the operator's calls change, and
//! answers for every bucket the Config names, as the shell would observe them.

use super::{Failure, World, fail};
use crate::action::CloudAction;
use crate::api::Config;
use crate::names::CLUSTER;
use crate::observed::{BucketState, S3Bucket};
use crate::outcome::ErrorClass;

impl World {
    /// Makes sure every bucket named in the Config's spec or status has an observed answer
    /// (unknown names do not exist).
    pub fn observe_cloud(&mut self) {
        let Ok(Some(config)) = self.observed.objects.get::<Config>("", CLUSTER) else { return };
        let mut names = Vec::new();
        names.extend(config.spec.storage.s3.map(|s| s.bucket));
        names.extend(config.status.and_then(|s| s.storage.s3).map(|s| s.bucket));
        for name in names.into_iter().filter(|n| !n.is_empty()) {
            self.observed.cloud.s3.entry(name).or_default();
        }
    }

    pub(super) fn cloud(&mut self, call: &CloudAction) -> Result<(), Failure> {
        let bucket = |t: &crate::action::S3Target| t.bucket.clone();
        match call {
            CloudAction::S3CreateBucket { target } => {
                let entry = self.observed.cloud.s3.entry(bucket(target)).or_default();
                match entry.state {
                    BucketState::Exists => {} // BucketAlreadyOwnedByYou: success
                    BucketState::Forbidden => {
                        return fail(
                            ErrorClass::AlreadyExists,
                            "BucketAlreadyExists: the requested bucket name is not available",
                        );
                    }
                    BucketState::Missing | BucketState::Unknown => {
                        *entry = S3Bucket { state: BucketState::Exists, ..S3Bucket::default() };
                    }
                }
            }
            CloudAction::S3PutPublicAccessBlock { target } => {
                self.bucket_mut(&bucket(target))?.public_access_blocked = true
            }
            CloudAction::S3PutBucketTagging { target, tags } => self.bucket_mut(&bucket(target))?.tags = tags.clone(),
            CloudAction::S3PutBucketEncryption { target, kms_key_id } => {
                let facts = self.bucket_mut(&bucket(target))?;
                facts.encryption = if kms_key_id.is_empty() { "AES256" } else { "aws:kms" }.to_owned();
                facts.kms_key_id = kms_key_id.clone();
            }
            CloudAction::S3PutLifecycleConfiguration { target } => {
                self.bucket_mut(&bucket(target))?.incomplete_upload_cleanup = true;
            }
            CloudAction::S3DeleteBucket { target, require_tag } => {
                let facts = self.bucket_mut(&bucket(target))?;
                if !facts.tags.contains(require_tag) {
                    return fail(
                        ErrorClass::Forbidden,
                        format!("refusing to delete {}: tag {} missing", target.bucket, require_tag.key),
                    );
                }
                *facts = S3Bucket::default();
            }
        }
        Ok(())
    }

    fn bucket_mut(&mut self, name: &str) -> Result<&mut S3Bucket, Failure> {
        match self.observed.cloud.s3.get_mut(name) {
            Some(facts) if facts.state == BucketState::Exists => Ok(facts),
            _ => fail(ErrorClass::NotFound, format!("NoSuchBucket: {name}")),
        }
    }
}
