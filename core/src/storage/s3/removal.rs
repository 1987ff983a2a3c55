//! S3 removal: empty and delete the bucket only when it carries this cluster's ownership tag.

use super::{ownership_tag, target};
use crate::action::{Action, CloudAction};
use crate::conditions::Wanted;
use crate::inputs::Inputs;
use crate::storage::completion::{Removal, decide_removal};
use crate::storage::s3::effective;

/// Removal of the applied S3 bucket (the caller checked that storage is Managed).
pub fn remove(observed: &Inputs<'_>, applied: &crate::api::Storage) -> (Removal, Vec<Wanted>) {
    let applied = &applied.s3.clone().unwrap_or_default();
    if applied.bucket.is_empty() {
        return (Removal::Done, Vec::new());
    }
    let Some(facts) = observed.cloud.s3.get(&applied.bucket) else {
        return (Removal::Blocked(format!("S3 bucket {} has not been observed", applied.bucket)), Vec::new());
    };
    let tag = ownership_tag(observed.infrastructure_name());
    let owned = if facts.tags.contains(&tag) { Ok(()) } else { Err(format!("the tag {}={}", tag.key, tag.value)) };
    let target = target(&effective(applied, observed.platform_status()), observed.platform_status());
    let delete = Action::Cloud(CloudAction::S3(super::call::Call::DeleteBucket { target, require_tag: tag }));
    decide_removal(
        "S3 bucket",
        &applied.bucket,
        facts.state,
        owned,
        ("S3 Bucket Deleted", "The S3 bucket has been removed."),
        delete,
    )
}
