//! IBM COS removal: empty and delete the bucket, only in the instance the operator created
//! for this cluster. The instance and its key stay, as the reference keeps them.

use super::call::{Call, CosTarget, instance_name_for};
use super::effective;
use crate::action::{Action, CloudAction};
use crate::conditions::Wanted;
use crate::inputs::Inputs;
use crate::storage::completion::{Removal, decide_removal};

/// Removal of the applied bucket (the caller checked that storage is Managed).
pub fn remove(observed: &Inputs<'_>, applied: &crate::api::Storage) -> (Removal, Vec<Wanted>) {
    let applied = applied.ibmcos.clone().unwrap_or_default();
    if applied.bucket.is_empty() || applied.service_instance_crn.is_empty() {
        return (Removal::Done, Vec::new());
    }
    let facts = &observed.cloud.ibmcos;
    let Some(bucket) = facts.buckets.get(&applied.bucket) else {
        return (Removal::Blocked(format!("IBM COS bucket {} has not been observed", applied.bucket)), Vec::new());
    };
    let (cos, endpoints) = match effective(&applied, observed.platform_status()) {
        Ok(resolved) => resolved,
        Err(e) => return (Removal::Blocked(e), Vec::new()),
    };
    let name = instance_name_for(observed.infrastructure_name());
    let owned = match facts.instances.get(&applied.service_instance_crn) {
        Some(instance) if instance.name == name => Ok(()),
        _ => Err(format!("the name {name} on its service instance")),
    };
    let location = if applied.location.is_empty() { cos.location } else { applied.location.clone() };
    let target = CosTarget { bucket: applied.bucket.clone(), location, endpoint: endpoints.cos };
    let delete = Call::DeleteBucket { target, instance_crn: applied.service_instance_crn.clone(), instance_name: name };
    decide_removal(
        "IBM COS bucket",
        &applied.bucket,
        bucket.state,
        owned,
        ("IBM COS Bucket Deleted", "IBM COS bucket has been removed."),
        Action::Cloud(CloudAction::IbmCos(delete)),
    )
}
