//! The pass, in order: the registry's main controller, then the pruner.

use crate::observed::Observed;
use crate::plan::Plan;
use crate::{pruner, registry};

/// Decides everything one pass does. Pure: same snapshot, same plan.
pub fn reconcile(observed: &Observed) -> Plan {
    let mut plan = Plan::default();
    registry::plan(observed, &mut plan);
    pruner::plan(observed, &mut plan);
    plan
}
