//! The finalizer decision, as a pure function of (has finalizer × is deleting × management
//! state): what kind of pass the registry gets (spec 10 §3.3, §5).

use crate::api::ManagementState;

/// What a pass does with the registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifecycle {
    /// Being deleted and the operator's finalizer is already gone: nothing is left to do.
    Released,
    /// Being deleted with the finalizer: remove owned objects and managed storage, then the
    /// finalizer. Overrides every management state, `Unmanaged` included.
    Finalize,
    /// `Managed`: the finalizer first (if missing), then create and update everything.
    Manage {
        /// Whether the finalizer must be added.
        add_finalizer: bool,
    },
    /// `Removed`: remove owned objects and managed storage; the finalizer is kept as it is.
    Remove,
    /// `Unmanaged`: touch nothing, report status.
    Unmanaged,
    /// `Force`, empty or unknown: touch nothing, report status as if managed.
    Inert,
}

/// The decision table.
pub fn decide(has_finalizer: bool, deleting: bool, state: &ManagementState) -> Lifecycle {
    match (deleting, has_finalizer, state) {
        (true, false, _) => Lifecycle::Released,
        (true, true, _) => Lifecycle::Finalize,
        (false, _, ManagementState::Managed) => Lifecycle::Manage { add_finalizer: !has_finalizer },
        (false, _, ManagementState::Removed) => Lifecycle::Remove,
        (false, _, ManagementState::Unmanaged) => Lifecycle::Unmanaged,
        (false, _, ManagementState::Other(_)) => Lifecycle::Inert,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Lifecycle::*;
    use ManagementState::{Managed, Removed, Unmanaged as U};

    #[test]
    fn decision_table() {
        let force = ManagementState::Other("Force".into());
        let empty = ManagementState::Other(String::new());
        let table = [
            // has finalizer, deleting, state => lifecycle
            (false, false, Managed, Manage { add_finalizer: true }),
            (true, false, Managed, Manage { add_finalizer: false }),
            (false, false, Removed, Remove),
            (true, false, Removed, Remove),
            (false, false, U, Unmanaged),
            (true, false, U, Unmanaged),
            (false, false, force.clone(), Inert),
            (true, false, empty.clone(), Inert),
            (true, true, Managed, Finalize),
            (true, true, Removed, Finalize),
            (true, true, U, Finalize),
            (true, true, force.clone(), Finalize),
            (false, true, Managed, Released),
            (false, true, Removed, Released),
            (false, true, U, Released),
            (false, true, force, Released),
        ];
        for (has_finalizer, deleting, state, want) in table {
            assert_eq!(decide(has_finalizer, deleting, &state), want, "{has_finalizer} {deleting} {state:?}");
        }
    }
}
