//! The pass, in order: the registry's main controller, the image config, the CA configmaps,
//! node-ca and the pruner; then the Config's status (one write carrying every controller's
//! conditions) and the ClusterOperator, aggregated from the statuses this pass computed.

use crate::observed::Observed;
use crate::plan::Plan;
use crate::{pruner, registry};

/// Decides everything one pass does. Pure: same snapshot, same plan.
pub fn reconcile(observed: &Observed) -> Plan {
    let mut plan = Plan { memory: observed.memory.clone(), ..Plan::default() };
    let draft = registry::plan(observed, &mut plan);
    pruner::plan(observed, &mut plan);
    if let Some(draft) = &draft {
        registry::write_status(draft, &mut plan);
    }
    plan
}
