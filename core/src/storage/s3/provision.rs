//! S3 provisioning: name, create, then block public access, tag, encrypt and expire incomplete uploads of the bucket (spec 30 §4).

use super::{ownership_tag, target};
use crate::action::{Action, CloudAction};
use crate::api::openshift::KeyValue;
use crate::api::storage::S3;
use crate::api::{ConditionStatus, Config, Storage};
use crate::conditions::{self};
use crate::inputs::Inputs;
use crate::observed::BucketState;
use crate::outcome::{ErrorClass, OutcomeResult};
use crate::storage::completion::{Completion, STORAGE_EXISTS};
use crate::storage::naming;
use crate::storage::provision::{self, Provision, Step};
use crate::storage::s3::facts::S3Bucket;
use crate::storage::s3::{credentials_file, effective};

/// Tags the operator puts on a bucket it manages, in order.
pub fn desired_tags(observed: &Inputs<'_>, infra: &str) -> Vec<KeyValue> {
    let mut tags =
        vec![ownership_tag(infra), KeyValue { key: "Name".into(), value: format!("{infra}-image-registry") }];
    let user =
        observed.platform_status().and_then(|p| p.aws.as_ref()).map(|a| a.resource_tags.clone()).unwrap_or_default();
    for tag in user.into_iter().filter(valid_user_tag) {
        tags.retain(|t| t.key != tag.key);
        tags.push(tag);
    }
    tags
}

/// The reference's tag controller's rules for the cluster's resource tags (spec 40 §6.1): AWS's
/// tag syntax, and never a key of the operator's own (`Name`, any case) or under the
/// `kubernetes.io` or `openshift.io` domains (the ownership tag), which would replace the
/// operator's tag or be refused by AWS as a duplicate. Such tags are left off the bucket.
pub(crate) fn valid_user_tag(tag: &KeyValue) -> bool {
    // `[0-9A-Za-z_.:/=+-@]`: `+-@` is a range in the reference's class, kept as such.
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_.:/=".contains(c) || ('+'..='@').contains(&c);
    let reserved = |domain: &str| {
        tag.key.split_once('/').is_some_and(|(prefix, _)| prefix == domain || prefix.ends_with(&format!(".{domain}")))
    };
    (1..=128).contains(&tag.key.chars().count())
        && tag.key.chars().all(allowed)
        && tag.value.chars().count() <= 256
        && tag.value.chars().all(allowed)
        && !tag.key.eq_ignore_ascii_case("Name")
        && !reserved("kubernetes.io")
        && !reserved("openshift.io")
}

/// How the previous pass's attempt at `call` failed, if it did.
pub(crate) fn failed(observed: &Inputs<'_>, call: &CloudAction) -> Option<(ErrorClass, String)> {
    let id = Action::Cloud(call.clone()).id();
    observed.outcomes.iter().find(|o| o.action_id == id).and_then(|o| match &o.result {
        OutcomeResult::Failed { class, message } => Some((*class, message.clone())),
        OutcomeResult::Succeeded | OutcomeResult::Skipped => None,
    })
}

/// Completes S3 storage for a Managed pass.
pub fn complete(config: &Config, observed: &Inputs<'_>, applied: &Storage, out: &mut Completion) {
    provision::run(&Bucket, config, observed, applied, out);
}

/// The registry's S3 bucket in the shared flow.
struct Bucket;

impl Bucket {
    fn create_call(s3: &S3, observed: &Inputs<'_>) -> CloudAction {
        CloudAction::S3(super::call::Call::CreateBucket { target: target(s3, observed.platform_status()) })
    }
}

impl Provision for Bucket {
    type Spec = S3;
    type Facts = S3Bucket;
    const WHAT: &'static str = "S3 bucket";
    const VANISHED: &'static str = "S3 Bucket Missing";

    fn resolve(&self, _config: &Config, observed: &Inputs<'_>, out: &mut Completion) -> Option<S3> {
        let s3 = effective(&out.spec.s3.clone().unwrap_or_default(), observed.platform_status());
        if let Err(e) = credentials_file(observed) {
            out.unknown(e);
            return None;
        }
        Some(s3)
    }

    fn key(spec: &S3) -> &str {
        &spec.bucket
    }

    fn name(&self, spec: &mut S3, cluster_id: &str, _observed: &Inputs<'_>) {
        spec.bucket = naming::deterministic(cluster_id, &[&spec.region]);
    }

    fn facts(&self, spec: &S3, observed: &Inputs<'_>) -> Option<S3Bucket> {
        observed.cloud.s3.get(&spec.bucket).cloned()
    }

    fn step(&self, s3: &S3, facts: &S3Bucket, config: &Config, observed: &Inputs<'_>, out: &mut Completion) -> Step {
        let create = Self::create_call(s3, observed);
        match facts.state {
            BucketState::Exists => Step::Adopt,
            BucketState::Missing => Step::Missing,
            BucketState::Forbidden => {
                let previous = config.status.as_ref().map(|s| s.conditions.as_slice()).unwrap_or_default();
                let refused_before =
                    conditions::find(previous, STORAGE_EXISTS).is_some_and(|c| c.reason == "Unable to Access Bucket");
                let taken = failed(observed, &create).is_some_and(|(class, _)| class == ErrorClass::AlreadyExists);
                if !(refused_before || taken) {
                    return Step::Create;
                }
                let message = format!("The bucket {} exists, but is owned by another account", s3.bucket);
                out.set(STORAGE_EXISTS, ConditionStatus::False, "Unable to Access Bucket", message);
                out.permanent = Some((
                    "StorageNotAccessible".to_owned(),
                    format!("bucket {} exists but is owned by another account", s3.bucket),
                ));
                Step::Done
            }
            BucketState::Unknown => Step::Unreachable(facts.message.clone()),
        }
    }

    fn recorded(spec: &S3, applied: &Storage) -> bool {
        applied.s3.as_ref().is_some_and(|a| a.bucket == spec.bucket)
    }

    fn adopt(
        &self,
        s3: &mut S3,
        facts: &S3Bucket,
        user_supplied: bool,
        _config: &Config,
        observed: &Inputs<'_>,
        out: &mut Completion,
    ) -> bool {
        if user_supplied {
            out.set(
                STORAGE_EXISTS,
                ConditionStatus::True,
                "S3 Bucket Exists",
                "User supplied S3 bucket exists and is accessible",
            );
        } else {
            // Re-checked every pass, as the reference's StorageExists: the creation is
            // reported once, on the pass that observes the bucket it created.
            let create = Self::create_call(s3, observed);
            let id = Action::Cloud(create.clone()).id();
            let created = failed(observed, &create).is_none() && observed.outcomes.iter().any(|o| o.action_id == id);
            let (reason, message) = if created {
                ("Creation Successful", "S3 bucket was successfully created")
            } else {
                ("S3 Bucket Exists", "")
            };
            out.set(STORAGE_EXISTS, ConditionStatus::True, reason, message);
        }
        if out.spec.management_state == "Managed" {
            configure(observed, observed.infrastructure_name(), s3, facts, out);
        }
        true
    }

    fn create(&self, s3: &mut S3, facts: &S3Bucket, observed: &Inputs<'_>, out: &mut Completion) {
        let create = Self::create_call(s3, observed);
        let reason = match (facts.code.as_str(), facts.state) {
            ("", BucketState::Missing) => "NoSuchBucket",
            ("", _) => "Forbidden",
            (code, _) => code,
        };
        let message = match failed(observed, &create) {
            Some((_, message)) => message,
            None if facts.message.is_empty() => format!("The S3 bucket {} does not exist yet", s3.bucket),
            None => facts.message.clone(),
        };
        out.set(STORAGE_EXISTS, ConditionStatus::False, reason, message);
        out.actions.push((Action::Cloud(create), format!("the registry's S3 bucket {} does not exist", s3.bucket)));
        if out.spec.management_state == "Managed" {
            configure(observed, observed.infrastructure_name(), s3, &S3Bucket::default(), out);
        }
    }

    fn unreachable(&self, message: &str, out: &mut Completion) {
        out.set(STORAGE_EXISTS, ConditionStatus::Unknown, "Unknown Error Occurred", message);
    }

    fn place(spec: S3, storage: &mut Storage) {
        storage.s3 = Some(spec);
    }
}

/// The configuration steps of a managed bucket, each only when the facts say it is not done
/// (spec 30 §4.8 steps 6–9, in that order).
pub(crate) fn configure(observed: &Inputs<'_>, infra: &str, s3: &mut S3, facts: &S3Bucket, out: &mut Completion) {
    let t = target(s3, observed.platform_status());
    let step = |out: &mut Completion, done: bool, call: CloudAction, type_: &str, ok: (&str, String), why: &str| {
        if done {
            out.set(type_, ConditionStatus::True, ok.0, ok.1);
        } else {
            if let Some((class, message)) = failed(observed, &call) {
                out.set(type_, ConditionStatus::False, &format!("{class:?}"), message);
            }
            out.actions.push((Action::Cloud(call), why.to_owned()));
        }
    };
    step(
        out,
        facts.public_access_blocked,
        CloudAction::S3(super::call::Call::PutPublicAccessBlock { target: t.clone() }),
        "StoragePublicAccessBlocked",
        (
            "Public Access Block Successful",
            "Public access to the S3 bucket and its contents have been successfully blocked.".into(),
        ),
        "the operator's buckets block all public access",
    );
    let wanted = desired_tags(observed, infra);
    let tagged = wanted.iter().all(|w| facts.tags.contains(w));
    let mut tags = wanted.clone();
    tags.extend(facts.tags.iter().filter(|t| !wanted.iter().any(|w| w.key == t.key)).cloned());
    step(
        out,
        tagged,
        CloudAction::S3(super::call::Call::PutBucketTagging { target: t.clone(), tags }),
        "StorageTagged",
        ("Tagging Successful", "Tags were successfully applied to the S3 bucket".into()),
        "the bucket lacks the cluster's tags",
    );
    let algorithm = if s3.key_id.is_empty() { "AES256" } else { "aws:kms" };
    let encrypted = facts.encryption == algorithm && (s3.key_id.is_empty() || facts.kms_key_id == s3.key_id);
    step(
        out,
        encrypted,
        CloudAction::S3(super::call::Call::PutBucketEncryption { target: t.clone(), kms_key_id: s3.key_id.clone() }),
        "StorageEncrypted",
        ("Encryption Successful", format!("Default {algorithm} encryption was successfully enabled on the S3 bucket")),
        "the bucket's default encryption is not the one configured",
    );
    // Recorded once the bucket says so, as the reference records it after the call succeeded.
    if encrypted {
        s3.encrypt = true;
    }
    step(
        out,
        facts.incomplete_upload_cleanup,
        CloudAction::S3(super::call::Call::PutLifecycleConfiguration { target: t }),
        "StorageIncompleteUploadCleanupEnabled",
        (
            "Enable Cleanup Successful",
            "Default cleanup of incomplete multipart uploads after one (1) day was successfully enabled".into(),
        ),
        "incomplete multipart uploads must expire",
    );
}
