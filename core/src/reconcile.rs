//! The pass, in order: the registry's main controller, then the pruner.

use crate::api::Config;
use crate::bootstrap;
use crate::names::CLUSTER;
use crate::observed::Observed;
use crate::plan::Plan;
use crate::pruner;

/// Decides everything one pass does. Pure: same snapshot, same plan.
pub fn reconcile(observed: &Observed) -> Plan {
    let mut plan = Plan::default();
    registry(observed, &mut plan);
    pruner::plan(observed, &mut plan);
    plan
}

fn registry(observed: &Observed, plan: &mut Plan) {
    match observed.objects.get::<Config>("", CLUSTER) {
        Err(e) => plan.error("registry", format!("unable to read the registry configuration: {e}")),
        Ok(None) => bootstrap::plan(observed, plan),
        // Managed, Unmanaged and Removed passes over an existing Config come with the registry
        // objects; until then an existing Config is left as it is.
        Ok(Some(_)) => {}
    }
}
