//! The clouds in the world model: S3 buckets as facts that the operator's calls change, and
//! answers for every bucket the Config names, as the shell would observe them.

use super::{Failure, World, fail};
use image_registry_core::CloudReads;
use image_registry_core::action::CloudAction;
use image_registry_core::observed::{BucketState, CloudFacts};
use image_registry_core::outcome::ErrorClass;
use image_registry_core::storage::azure::facts::AzureAccount;
use image_registry_core::storage::gcs::facts::GcsBucket;
use image_registry_core::storage::s3::facts::S3Bucket;
use image_registry_core::storage::swift::facts::SwiftContainer;
use image_registry_core::storage::{azure, gcs, ibmcos, s3, swift};

impl World {
    /// Makes sure every bucket named in the Config's spec or status has an observed answer
    /// (unknown names do not exist).
    pub fn observe_cloud(&mut self) {
        let reads = image_registry_core::reads(&self.observed);
        name(&mut self.observed.cloud, &reads);
    }

    pub(crate) fn cloud(&mut self, call: &CloudAction) -> Result<(), Failure> {
        carry_out(&mut self.observed.cloud, call)
    }
}

/// Gives everything `reads` asks about an answer in `cloud`: what the modelled clouds hold, or
/// (a name they never heard of) missing.
pub fn name(cloud: &mut CloudFacts, reads: &CloudReads) {
    for read in reads.s3.iter().flat_map(|r| &r.buckets) {
        cloud.s3.entry(read.target.bucket.clone()).or_default();
    }
    for bucket in reads.gcs.iter().flat_map(|r| &r.buckets) {
        cloud.gcs.entry(bucket.clone()).or_default();
    }
    for (account, containers) in reads.azure.iter().flat_map(|r| &r.accounts) {
        let account = cloud.azure.accounts.entry(account.clone()).or_default();
        for container in containers {
            account.containers.entry(container.clone()).or_default();
        }
    }
    for container in reads.swift.iter().flat_map(|r| &r.containers) {
        cloud.swift.containers.entry(container.clone()).or_default();
    }
    if let Some(reads) = &reads.ibmcos {
        // The modelled account holds every instance and key it has; a CRN it never made is
        // missing, as the Resource Controller answers 404.
        use image_registry_core::storage::ibmcos::read::Lookup;
        if let Lookup::Crn(crn) = &reads.instance {
            cloud
                .ibmcos
                .instances
                .entry(crn.clone())
                .or_insert_with(|| ibmcos::facts::Instance { state: "missing".into(), ..Default::default() });
        }
        if let Some(Lookup::Crn(crn)) = &reads.key {
            cloud
                .ibmcos
                .keys
                .entry(crn.clone())
                .or_insert_with(|| ibmcos::facts::Key { state: "missing".into(), ..Default::default() });
        }
        for target in &reads.buckets {
            cloud.ibmcos.buckets.entry(target.bucket.clone()).or_default();
        }
    }
}

/// Carries out one cloud call against the modelled clouds, as the real services answer it.
pub fn carry_out(cloud: &mut CloudFacts, call: &CloudAction) -> Result<(), Failure> {
    let bucket = |t: &image_registry_core::storage::s3::call::S3Target| t.bucket.clone();
    match call {
        CloudAction::S3(s3::call::Call::CreateBucket { target }) => {
            let entry = cloud.s3.entry(bucket(target)).or_default();
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
        CloudAction::S3(s3::call::Call::PutPublicAccessBlock { target }) => {
            bucket_mut(cloud, &bucket(target))?.public_access_blocked = true
        }
        CloudAction::S3(s3::call::Call::PutBucketTagging { target, tags }) => {
            bucket_mut(cloud, &bucket(target))?.tags = tags.clone()
        }
        CloudAction::S3(s3::call::Call::PutBucketEncryption { target, kms_key_id }) => {
            let facts = bucket_mut(cloud, &bucket(target))?;
            facts.encryption = if kms_key_id.is_empty() { "AES256" } else { "aws:kms" }.to_owned();
            facts.kms_key_id = kms_key_id.clone();
        }
        CloudAction::S3(s3::call::Call::PutLifecycleConfiguration { target }) => {
            bucket_mut(cloud, &bucket(target))?.incomplete_upload_cleanup = true;
        }
        CloudAction::S3(s3::call::Call::DeleteBucket { target, require_tag }) => {
            let facts = bucket_mut(cloud, &bucket(target))?;
            if !facts.tags.contains(require_tag) {
                return fail(
                    ErrorClass::Forbidden,
                    format!("refusing to delete {}: tag {} missing", target.bucket, require_tag.key),
                );
            }
            *facts = S3Bucket::default();
        }
        CloudAction::Gcs(gcs::call::Call::CreateBucket { bucket, labels, .. }) => {
            let entry = cloud.gcs.entry(bucket.clone()).or_default();
            if entry.state == BucketState::Forbidden {
                return fail(ErrorClass::AlreadyExists, "409: the requested bucket name is not available");
            }
            if entry.state != BucketState::Exists {
                *entry = GcsBucket {
                    state: BucketState::Exists,
                    labels: image_registry_core::storage::azure::tag_map(labels),
                    ..GcsBucket::default()
                };
            }
        }
        CloudAction::Gcs(gcs::call::Call::BindTags { bucket, tags }) => match cloud.gcs.get_mut(bucket) {
            Some(facts) if facts.state == BucketState::Exists => facts.tags.extend(tags.iter().cloned()),
            _ => return fail(ErrorClass::NotFound, format!("404: bucket {bucket}")),
        },
        CloudAction::Gcs(gcs::call::Call::DeleteBucket { bucket, require_label }) => match cloud.gcs.get_mut(bucket) {
            Some(facts) if facts.labels.get(&require_label.key) == Some(&require_label.value) => {
                *facts = GcsBucket::default()
            }
            _ => return fail(ErrorClass::Forbidden, format!("refusing to delete {bucket}")),
        },
        CloudAction::Azure(azure::call::Call::CreateStorageAccount { account, tags, .. }) => {
            let entry = cloud.azure.accounts.entry(account.clone()).or_default();
            if entry.state == BucketState::Forbidden {
                return fail(ErrorClass::AlreadyExists, "StorageAccountAlreadyTaken");
            }
            if entry.state != BucketState::Exists {
                let containers = entry.containers.keys().map(|c| (c.clone(), BucketState::Missing)).collect();
                *entry = AzureAccount {
                    state: BucketState::Exists,
                    tags: image_registry_core::storage::azure::tag_map(tags),
                    containers,
                    primary_key: format!("modelled-key-{account}"),
                    ..AzureAccount::default()
                };
            }
        }
        CloudAction::Azure(azure::call::Call::CreateContainer { account, container }) => {
            match cloud.azure.accounts.get_mut(account) {
                Some(facts) if facts.state == BucketState::Exists => {
                    facts.containers.insert(container.clone(), BucketState::Exists);
                }
                _ => return fail(ErrorClass::NotFound, format!("AccountNotFound: {account}")),
            }
        }
        CloudAction::Azure(azure::call::Call::PrivateEndpoint { account, .. }) => {
            match cloud.azure.accounts.get_mut(account) {
                Some(facts) if facts.state == BucketState::Exists => {
                    facts.public_network_access = "Disabled".to_owned()
                }
                _ => return fail(ErrorClass::NotFound, format!("ResourceNotFound: {account}")),
            }
        }
        CloudAction::Azure(azure::call::Call::DisallowSharedKey { account, .. }) => {
            match cloud.azure.accounts.get_mut(account) {
                Some(facts) if facts.state == BucketState::Exists => facts.allow_shared_key_access = Some(false),
                _ => return fail(ErrorClass::NotFound, format!("ResourceNotFound: {account}")),
            }
        }
        CloudAction::Azure(azure::call::Call::DeleteStorage { account, require_tag, .. }) => {
            match cloud.azure.accounts.get_mut(account) {
                Some(facts) if facts.tags.get(&require_tag.key) == Some(&require_tag.value) => {
                    *facts = AzureAccount::default()
                }
                _ => return fail(ErrorClass::Forbidden, format!("refusing to delete {account}")),
            }
        }
        CloudAction::Swift(swift::call::Call::CreateContainer { container, metadata }) => {
            let entry = cloud.swift.containers.entry(container.clone()).or_default();
            if entry.state != BucketState::Exists {
                *entry = SwiftContainer {
                    state: BucketState::Exists,
                    metadata: image_registry_core::storage::azure::tag_map(metadata),
                    ..SwiftContainer::default()
                };
            }
        }
        CloudAction::Swift(swift::call::Call::DeleteContainer { container, require_cluster_id }) => {
            match cloud.swift.containers.get_mut(container) {
                Some(facts) if facts.metadata.get("Openshiftclusterid") == Some(require_cluster_id) => {
                    *facts = SwiftContainer::default();
                }
                _ => return fail(ErrorClass::Forbidden, format!("refusing to delete {container}")),
            }
        }
        CloudAction::IbmCos(call) => return ibm(&mut cloud.ibmcos, call),
    }
    Ok(())
}

/// IBM Cloud as the world models it: an instance is active and a key has its HMAC pair as
/// soon as they are made (the test double, `tests/stand/ibm_double.rs`, models provisioning).
fn ibm(cloud: &mut ibmcos::facts::Facts, call: &ibmcos::call::Call) -> Result<(), Failure> {
    use ibmcos::call::Call;
    use ibmcos::facts::{Hmac, Instance, Key};
    match call {
        Call::CreateServiceInstance { name, resource_group_id, .. } => {
            let crn = format!("crn:v1:bluemix:public:cloud-object-storage:global:a/world:{name}::");
            let instance =
                Instance { name: name.clone(), state: "active".into(), resource_group_id: resource_group_id.clone() };
            cloud.instances.insert(crn, instance);
        }
        Call::CreateResourceKey { name, instance_crn } => {
            if cloud.instances.get(instance_crn).is_none_or(|i| i.state != "active") {
                return fail(ErrorClass::NotFound, format!("no active instance {instance_crn}"));
            }
            let guid = instance_crn.trim_end_matches("::").rsplit(':').next().unwrap_or_default();
            let crn = format!("crn:v1:bluemix:public:cloud-object-storage:global:a/world:{guid}:resource-key:{name}");
            let key = Key {
                name: name.clone(),
                state: "active".into(),
                source_crn: instance_crn.clone(),
                role: ibmcos::WRITER.into(),
                hmac: Some(Hmac {
                    access_key_id: format!("{name}-access"),
                    secret_access_key: format!("{name}-secret"),
                }),
            };
            cloud.keys.insert(crn, key);
        }
        Call::CreateBucket { target } => {
            let entry = cloud.buckets.entry(target.bucket.clone()).or_default();
            entry.state = BucketState::Exists;
        }
        Call::DeleteBucket { target, instance_crn, instance_name } => {
            // The shell reads the instance again and refuses (cloud/ibmcos): COS itself would not.
            if cloud.instances.get(instance_crn).is_none_or(|i| i.name != *instance_name) {
                return fail(ErrorClass::Forbidden, format!("refusing to delete {}", target.bucket));
            }
            cloud.buckets.remove(&target.bucket);
        }
    }
    Ok(())
}

fn bucket_mut<'a>(cloud: &'a mut CloudFacts, name: &str) -> Result<&'a mut S3Bucket, Failure> {
    match cloud.s3.get_mut(name) {
        Some(facts) if facts.state == BucketState::Exists => Ok(facts),
        _ => fail(ErrorClass::NotFound, format!("NoSuchBucket: {name}")),
    }
}
