//! GCS removal: delete the bucket only when it carries this cluster's ownership label.

use super::ownership_label;
use crate::action::{Action, CloudAction};
use crate::conditions::Wanted;
use crate::inputs::Inputs;
use crate::storage::completion::{Removal, decide_removal};

/// Removal of the applied GCS bucket (the caller checked that storage is Managed).
pub fn remove(observed: &Inputs<'_>, applied: &crate::api::Storage) -> (Removal, Vec<Wanted>) {
    let applied = &applied.gcs.clone().unwrap_or_default();
    if applied.bucket.is_empty() {
        return (Removal::Done, Vec::new());
    }
    let Some(facts) = observed.cloud.gcs.get(&applied.bucket) else {
        return (Removal::Blocked(format!("GCS bucket {} has not been observed", applied.bucket)), Vec::new());
    };
    let label = ownership_label(observed.infrastructure_name());
    let labelled = facts.labels.get(&label.key) == Some(&label.value);
    let owned = if labelled { Ok(()) } else { Err(format!("the label {}={}", label.key, label.value)) };
    let delete = Action::Cloud(CloudAction::Gcs(super::call::Call::DeleteBucket {
        bucket: applied.bucket.clone(),
        require_label: label,
    }));
    decide_removal(
        "GCS bucket",
        &applied.bucket,
        facts.state,
        owned,
        ("GCS Bucket Deleted", "The GCS bucket has been removed."),
        delete,
    )
}
