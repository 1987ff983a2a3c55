//! The provisioning flow every cloud backend shares: resolve its settings, name the storage
//! (persisted before anything is created), look at what the cloud said of that name, then
//! adopt what exists, create what is missing, or report storage the operator recorded that is
//! gone. A backend says only what differs: its settings, names, facts, conditions and calls.

use crate::api::{Config, Storage};
use crate::inputs::Inputs;
use crate::storage::completion::Completion;

/// What the flow does with the observed storage.
pub(crate) enum Step {
    /// It exists: adopt it (and configure it when managed).
    Adopt,
    /// It is missing: reported as vanished when `status.storage` records it, else created.
    Missing,
    /// Create it whatever `status.storage` records (a store that hides whether it exists).
    Create,
    /// It cannot be looked at: `StorageExists` is Unknown and the pass retried.
    Unreachable(String),
    /// The backend has said all there is to say.
    Done,
}

/// What one cloud backend tells the shared flow.
pub(crate) trait Provision {
    /// The backend's block of `spec.storage`, as resolved for this pass.
    type Spec: Clone;
    /// What the cloud said of the named storage.
    type Facts;
    /// The storage, in messages ("S3 bucket").
    const WHAT: &'static str;
    /// `StorageExists`'s reason when recorded storage is gone.
    const VANISHED: &'static str;

    /// The settings (effective values, credentials checked); `None` once `out` says why not.
    fn resolve(&self, config: &Config, observed: &Inputs<'_>, out: &mut Completion) -> Option<Self::Spec>;
    /// The name its facts are kept under (the account, for Azure).
    fn key(spec: &Self::Spec) -> &str;
    /// Whether every name the storage needs is set.
    fn named(spec: &Self::Spec) -> bool {
        !Self::key(spec).is_empty()
    }
    /// Fills in the names the user left empty.
    fn name(&self, spec: &mut Self::Spec, cluster_id: &str, observed: &Inputs<'_>);
    /// The storage as a message names it.
    fn display(spec: &Self::Spec) -> String {
        Self::key(spec).to_owned()
    }
    /// What the cloud said of it, or `None` when it was not read.
    fn facts(&self, spec: &Self::Spec, observed: &Inputs<'_>) -> Option<Self::Facts>;
    /// What the facts mean for the flow (conditions of a backend-only case set in `out`).
    fn step(
        &self,
        spec: &Self::Spec,
        facts: &Self::Facts,
        config: &Config,
        observed: &Inputs<'_>,
        out: &mut Completion,
    ) -> Step;
    /// Whether `status.storage` records this very storage.
    fn recorded(spec: &Self::Spec, applied: &Storage) -> bool;
    /// Conditions (and, when managed, configuration calls) for storage that exists;
    /// `user_supplied` when the user named it and left its management empty. `false` stops
    /// the flow before the storage is recorded.
    fn adopt(
        &self,
        spec: &mut Self::Spec,
        facts: &Self::Facts,
        user_supplied: bool,
        config: &Config,
        observed: &Inputs<'_>,
        out: &mut Completion,
    ) -> bool;
    /// Conditions and calls that create the storage (management is claimed first).
    fn create(&self, spec: &mut Self::Spec, facts: &Self::Facts, observed: &Inputs<'_>, out: &mut Completion);
    /// `StorageExists` for storage that cannot be looked at.
    fn unreachable(&self, message: &str, out: &mut Completion);
    /// Puts the block back into a storage spec or status.
    fn place(spec: Self::Spec, storage: &mut Storage);
}

/// Runs the shared flow for `backend`.
pub(crate) fn run<P: Provision>(
    backend: &P,
    config: &Config,
    observed: &Inputs<'_>,
    applied: &Storage,
    out: &mut Completion,
) {
    let Some(mut spec) = backend.resolve(config, observed, out) else { return };
    if !P::named(&spec) {
        // Persist the name first; the storage is created once the name reads back. The
        // operator names it, so the operator creates and manages it (spec 30 §4.8).
        let Some(cluster_id) = out.cluster_id(observed) else { return };
        backend.name(&mut spec, cluster_id, observed);
        P::place(spec, &mut out.spec);
        out.generated_name();
        return;
    }
    let Some(facts) = backend.facts(&spec, observed) else {
        out.error = Some(format!("{} {} has not been observed", P::WHAT, P::key(&spec)));
        return;
    };
    let create = match backend.step(&spec, &facts, config, observed, out) {
        Step::Adopt => {
            let user_supplied = out.spec.management_state.is_empty();
            if user_supplied {
                out.spec.management_state = "Unmanaged".to_owned();
            }
            if backend.adopt(&mut spec, &facts, user_supplied, config, observed, out) {
                let mut status = Storage::default();
                P::place(spec.clone(), &mut status);
                out.status = Some(status);
                P::place(spec, &mut out.spec);
            }
            return;
        }
        Step::Missing if P::recorded(&spec, applied) => {
            out.vanished(P::WHAT, &P::display(&spec), P::VANISHED);
            return;
        }
        Step::Missing | Step::Create => true,
        Step::Unreachable(message) => {
            backend.unreachable(&message, out);
            out.error = Some(message);
            false
        }
        Step::Done => false,
    };
    if create {
        out.claim_management("Managed");
        backend.create(&mut spec, &facts, observed, out);
        P::place(spec, &mut out.spec);
    }
}
