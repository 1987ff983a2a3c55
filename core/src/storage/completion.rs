//! What completing or removing storage decides, shared by every backend: the spec and status
//! to persist, the cloud actions, the conditions, and the removal verdict. No backend is
//! imported here, so no dependency cycle runs through it.

use crate::action::Action;
use crate::api::{ConditionStatus, Storage};
use crate::conditions::Wanted;
use crate::inputs::Inputs;
/// The storage condition type.
pub const STORAGE_EXISTS: &str = "StorageExists";

/// What completing the storage decided.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Completion {
    /// `spec.storage` as it should be (generated names and management state filled in).
    pub spec: Storage,
    /// `status.storage` as it should be, when it changes.
    pub status: Option<Storage>,
    /// Storage conditions to set.
    pub conditions: Vec<Wanted>,
    /// Kubernetes or cloud actions that create or fix the storage.
    pub actions: Vec<(Action, String)>,
    /// A driver error: the objects are not applied and the pass is retried.
    pub error: Option<String>,
    /// A storage state that needs a person (reason, message): reported as Degraded, not retried.
    pub permanent: Option<(String, String)>,
}

impl Completion {
    pub(crate) fn new(spec: &Storage) -> Self {
        Self { spec: spec.clone(), ..Self::default() }
    }

    /// The operator generated the storage's name (persisted before anything is created): what
    /// it names it creates, so an empty management state becomes `Managed` in the same write,
    /// never the `Unmanaged` of the legacy fallback.
    /// The cluster ID a generated name starts with. Without one nothing is named: the error
    /// names the field, in `StorageExists` and as the pass's error.
    pub(crate) fn cluster_id<'a>(&mut self, observed: &'a Inputs<'_>) -> Option<&'a str> {
        match observed.cluster_id() {
            Ok(id) => Some(id),
            Err(e) => {
                self.unknown(e.to_string());
                None
            }
        }
    }

    /// The storage cannot be checked (its credentials or its name cannot be had):
    /// `StorageExists` is `Unknown` with the message, which is also the pass's error.
    pub(crate) fn unknown(&mut self, message: String) {
        self.set(STORAGE_EXISTS, ConditionStatus::Unknown, "Unknown Error Occurred", message.clone());
        self.error = Some(message);
    }

    pub(crate) fn generated_name(&mut self) {
        if self.spec.management_state.is_empty() {
            self.spec.management_state = "Managed".to_owned();
        }
    }

    /// Sets `StorageExists`.
    pub(crate) fn condition(&mut self, status: ConditionStatus, reason: &str, message: impl Into<String>) {
        self.conditions.push(Wanted::new(STORAGE_EXISTS, status, reason, message));
    }

    /// Sets another storage condition (`StorageTagged`, `StorageEncrypted`, …).
    pub(crate) fn set(&mut self, type_: &str, status: ConditionStatus, reason: &str, message: impl Into<String>) {
        self.conditions.push(Wanted::new(type_, status, reason, message));
    }

    /// Storage the operator recorded in `status.storage` is gone: reported, not recreated
    /// empty (docs/storage.md decision a).
    pub(crate) fn vanished(&mut self, what: &str, name: &str, reason: &str) {
        let message = format!(
            "The {what} {name} that held the registry's data no longer exists. It is not recreated empty: \
             restore it, or clear status.storage to have a new one created"
        );
        self.condition(ConditionStatus::False, reason, message.clone());
        self.permanent = Some(("StorageMissing".to_owned(), message));
    }

    pub(crate) fn fail(&mut self, reason: &str, message: String) {
        self.condition(ConditionStatus::False, reason, message.clone());
        self.error = Some(message);
    }

    /// Sets the management state when the user left it empty.
    pub(crate) fn claim_management(&mut self, candidate: &str) {
        if self.spec.management_state.is_empty() {
            self.spec.management_state = candidate.to_owned();
        }
    }
}

/// How far removing the storage has got.
#[derive(Clone, Debug, PartialEq)]
pub enum Removal {
    /// Nothing (left) to remove.
    Done,
    /// The storage stays: the operator cannot prove it created it. Counts as done.
    Kept(String),
    /// These actions remove it; look again after they ran.
    Pending(Vec<(Action, String)>),
    /// Cannot decide yet (facts missing); retried.
    Blocked(String),
}

/// The removal decision every cloud backend shares: gone → done; present but not marked as
/// this cluster's (`owner_mark` names the missing mark) → kept and reported; else delete.
pub(crate) fn decide_removal(
    what: &str,
    name: &str,
    state: crate::observed::BucketState,
    owned: Result<(), String>,
    deleted: (&str, &str),
    delete: Action,
) -> (Removal, Vec<Wanted>) {
    match (state, owned) {
        (crate::observed::BucketState::Missing, _) => {
            (Removal::Done, vec![Wanted::new(STORAGE_EXISTS, ConditionStatus::False, deleted.0, deleted.1)])
        }
        (_, Err(mark)) => {
            let message =
                format!("The {what} {name} is kept: it does not carry {mark}, so this cluster did not create it");
            let reason = format!("{} Kept", deleted.0.trim_end_matches(" Deleted"));
            (Removal::Kept(message.clone()), vec![Wanted::new(STORAGE_EXISTS, ConditionStatus::True, &reason, message)])
        }
        (_, Ok(())) => {
            let reason = format!("the operator created and manages {what} {name}, and the registry is being removed");
            (Removal::Pending(vec![(delete, reason)]), Vec::new())
        }
    }
}
