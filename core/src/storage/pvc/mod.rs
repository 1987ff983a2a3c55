//! PVC storage: the claim the operator creates (and then manages) or the user's claim, checked
//! for access modes (spec 30 §3).
//!
//! Every backend has the same shape: this file reads its inputs and wires the registry pod,
//! `provision.rs` completes the storage for a Managed pass, `removal.rs` removes what the
//! operator owns.

mod provision;
mod removal;

use k8s_openapi::api::core::v1::PersistentVolumeClaim;

use crate::names::{NAMESPACE, OWNERSHIP_ANNOTATION};
use crate::observed::ObjectKey;

pub(crate) use provision::complete;
pub(crate) use removal::remove;

pub(crate) fn claim_key(claim: &str) -> ObjectKey {
    ObjectKey::of::<PersistentVolumeClaim>(NAMESPACE, claim)
}

pub(crate) fn owned(claim: &PersistentVolumeClaim) -> bool {
    claim.metadata.annotations.as_ref().is_some_and(|a| a.contains_key(OWNERSHIP_ANNOTATION))
}
