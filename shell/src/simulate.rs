//! `simulate`: the operator loop offline against the world model (`image-registry-world`),
//! printing every pass and a summary line. Built only with the `fake-cloud` feature, so the
//! shipped binary links no world model.

use std::io::Write;

use image_registry_core::fixture;
use image_registry_core::outcome::OutcomeResult;
use image_registry_core::render;
use image_registry_world::run::{self, Ending};

use crate::cli::SimulateArgs;

/// Runs `simulate`; exit 0 converged, 3 not converged within the budget, 1 stuck.
pub fn run(args: &SimulateArgs, out: &mut dyn Write) -> Result<i32, String> {
    let fixture = crate::commands::load(&args.observed)?;
    let faults = args.faults.clone().unwrap_or_default().0;
    let report = run::simulate(fixture.observed, args.max_passes, faults);
    let mut text = String::new();
    for (index, pass) in report.passes.iter().enumerate() {
        text.push_str(&format!("=== pass {} ===\n", index + 1));
        text.push_str(&render::text(&pass.plan));
        for (step, outcome) in pass.plan.steps.iter().zip(&pass.outcomes) {
            if let OutcomeResult::Failed { class, message } = &outcome.result {
                text.push_str(&format!("  ! {} failed ({class:?}): {message}\n", step.action.describe()));
            }
        }
        text.push('\n');
    }
    text.push_str(&report.summary());
    text.push('\n');
    out.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    if let Some(target) = &args.write_final {
        let description = format!("{} (state after simulating {})", fixture.description, args.observed.display());
        // With managedFields: a simulation continued from this file knows who owns what.
        let yaml = fixture::render(&description, &report.world.snapshot())?;
        std::fs::write(target, yaml).map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    }
    Ok(match report.ending {
        Ending::Converged => 0,
        Ending::Exhausted => 3,
        Ending::Stuck(_) => 1,
    })
}
