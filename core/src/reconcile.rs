//! The pass, in order: the CA configmaps, the registry's main controller, the image config,
//! node-ca and the pruner; then the Config's status (one write carrying every controller's
//! conditions) and the ClusterOperator, aggregated from the statuses this pass computed.

use crate::conditions;
use crate::controllers::{certificates, clusteroperator, imageconfig, nodeca, pruner, registry};
use crate::inputs::Inputs;
use crate::memo::Memo;
use crate::observed::Observed;
use crate::plan::Plan;

/// Decides everything one pass does. Pure: same snapshot, same plan.
pub fn reconcile(observed: &Observed) -> Plan {
    pass(&Inputs::decode(observed))
}

/// Runs passes one after another, remembering what encoding objects cost between them: what
/// a process that reconciles again and again (the operator's loop) holds. Its plans are the
/// ones [`reconcile`] gives for the same snapshots; only faster at a fixpoint.
#[derive(Debug, Default)]
pub struct Reconciler {
    memo: Memo,
}

impl Reconciler {
    /// A reconciler that remembers nothing yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// [`reconcile`], with this reconciler's memory of encoded objects.
    pub fn reconcile(&self, observed: &Observed) -> Plan {
        pass(&Inputs::decode_remembering(observed, Some(&self.memo)))
    }
}

fn pass(observed: &Inputs<'_>) -> Plan {
    let mut plan = Plan { memory: observed.memory.clone(), ..Plan::default() };
    let (ca_configmaps, certificates) = certificates::plan(observed, &mut plan);
    let draft = registry::plan(observed, &ca_configmaps, &mut plan);
    let (hostname, image_config) = imageconfig::plan(observed, &mut plan);
    let node_ca = nodeca::plan(observed, &mut plan);
    let pruner = pruner::plan(observed, &hostname, &mut plan);
    if let Some(mut draft) = draft {
        let observation = crate::tls::observation(observed);
        for wanted in node_ca.into_iter().chain([image_config, certificates, observation]) {
            conditions::set(&mut draft.status.conditions, wanted, observed.now);
        }
        registry::write_status(&draft, &mut plan);
        clusteroperator::plan(observed, draft.config, &draft.status.conditions, pruner.as_ref(), &mut plan);
    } else if matches!(observed.config, Ok(None)) {
        clusteroperator::bootstrap(observed, &mut plan);
    }
    plan
}
