//! PVC removal: delete the claim only when the operator created it and it still exists.

use k8s_openapi::api::core::v1::PersistentVolumeClaim;

use super::claim_key;
use crate::action::{Action, KubeAction, Preconditions};
use crate::api::storage::Pvc;
use crate::conditions::Wanted;
use crate::inputs::Inputs;
use crate::names::NAMESPACE;
use crate::storage::completion::Removal;

/// Removal of the claim `applied` records (the caller checked the operator manages it).
pub fn remove(observed: &Inputs<'_>, applied: Option<Pvc>) -> (Removal, Vec<Wanted>) {
    let claim = applied.map(|p: Pvc| p.claim).unwrap_or_default();
    if claim.is_empty() {
        return (Removal::Done, Vec::new());
    }
    match observed.objects.get::<PersistentVolumeClaim>(NAMESPACE, &claim) {
        // Already being deleted (the claim waits for its pods): wait, do not delete again.
        Ok(Some(existing)) if existing.metadata.deletion_timestamp.is_some() => {
            (Removal::Pending(Vec::new()), Vec::new())
        }
        Ok(Some(existing)) => (
            Removal::Pending(vec![(
                Action::Kube(KubeAction::Delete {
                    key: claim_key(&claim),
                    preconditions: Preconditions {
                        uid: existing.metadata.uid.clone(),
                        resource_version: existing.metadata.resource_version.clone(),
                    },
                }),
                format!("the operator manages the claim {claim}, and the registry is being removed"),
            )]),
            Vec::new(),
        ),
        Ok(None) => (Removal::Done, Vec::new()),
        Err(e) => (Removal::Blocked(e.to_string()), Vec::new()),
    }
}
