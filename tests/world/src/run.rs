//! The offline operator loop: reconcile → execute → settle → advance the clock, until a plan
//! holds no action (the fixpoint) or the pass budget runs out.

use jiff::SignedDuration;

use super::{Fault, World};
use image_registry_core::action::Action;
use image_registry_core::observed::Observed;
use image_registry_core::outcome::{Outcome, OutcomeResult};
use image_registry_core::plan::Plan;
use image_registry_core::reconcile;

/// Time between two simulated passes.
pub const PASS_INTERVAL: SignedDuration = SignedDuration::from_secs(10);

/// One pass: its plan and what happened to each action.
#[derive(Clone, Debug)]
pub struct PassRecord {
    /// The snapshot the pass planned from.
    pub observed: Observed,
    /// The plan.
    pub plan: Plan,
    /// One outcome per action.
    pub outcomes: Vec<Outcome>,
}

/// How a simulation ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ending {
    /// A pass planned nothing and reported no error.
    Converged,
    /// A pass planned nothing but reported errors: nothing more will happen without a change.
    Stuck(Vec<String>),
    /// Still planning work after the last allowed pass (a hot loop, or too few passes).
    Exhausted,
}

/// The result of a simulation.
#[derive(Clone, Debug)]
pub struct Report {
    /// Every pass, the last (empty) one included when converged.
    pub passes: Vec<PassRecord>,
    /// How it ended.
    pub ending: Ending,
    /// Kubernetes writes that took effect.
    pub writes: usize,
    /// Cloud calls that took effect.
    pub cloud_mutations: usize,
    /// The world at the end.
    pub world: World,
}

impl Report {
    /// Passes that planned work (the final pass that finds nothing to do is not counted).
    pub fn working_passes(&self) -> usize {
        self.passes.iter().filter(|p| p.plan.has_changes()).count()
    }

    /// `converged in N passes: W writes, C cloud mutations`, or why not.
    pub fn summary(&self) -> String {
        let n = self.working_passes();
        let counts = format!("{} writes, {} cloud mutations", self.writes, self.cloud_mutations);
        match &self.ending {
            Ending::Converged => format!("converged in {n} passes: {counts}"),
            Ending::Stuck(errors) => format!("stuck after {n} passes: {counts}; errors: {}", errors.join("; ")),
            Ending::Exhausted => format!("not converged after {n} passes: {counts}"),
        }
    }
}

/// Runs the loop from `observed` for at most `max_passes` passes.
pub fn simulate(observed: Observed, max_passes: usize, faults: Vec<Fault>) -> Report {
    let mut world = World::new(observed);
    world.faults = faults;
    let mut passes = Vec::new();
    let (mut writes, mut cloud_mutations) = (0, 0);
    for _ in 0..max_passes {
        world.observe_cloud();
        let plan = reconcile(&world.observed);
        if !plan.has_changes() {
            let errors: Vec<String> = plan.errors.iter().map(|e| format!("{}: {}", e.controller, e.message)).collect();
            let ending = if errors.is_empty() { Ending::Converged } else { Ending::Stuck(errors) };
            passes.push(PassRecord { observed: world.observed.clone(), plan, outcomes: Vec::new() });
            return Report { passes, ending, writes, cloud_mutations, world };
        }
        let observed = world.observed.clone();
        world.observed.memory = plan.memory.clone();
        let outcomes = world.execute(&plan);
        for (step, outcome) in plan.steps.iter().zip(&outcomes) {
            if outcome.result == OutcomeResult::Succeeded {
                match step.action {
                    Action::Kube(_) => writes += 1,
                    Action::Cloud(_) => cloud_mutations += 1,
                }
            }
        }
        passes.push(PassRecord { observed, plan, outcomes });
        world.settle();
        world.advance(PASS_INTERVAL);
    }
    // A saved final state holds what the shell would observe next, cloud facts included.
    world.observe_cloud();
    Report { passes, ending: Ending::Exhausted, writes, cloud_mutations, world }
}
