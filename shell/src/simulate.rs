//! `simulate`: the operator loop offline against the world model (`image-registry-world`),
//! printing every pass and a summary line. Built only with the `fake-cloud` feature, so the
//! shipped binary links no world model.

use std::io::Write;

use image_registry_core::fixture;
use image_registry_core::outcome::OutcomeResult;
use image_registry_core::render;
use image_registry_world::run::{self, Ending};

use crate::cli::SimulateArgs;

/// Runs `simulate`; exit 0 converged, 3 not converged within the budget (a hot loop), 1 stuck
/// (on an error the core reports, or an action that still fails in the last pass).
pub fn run(args: &SimulateArgs, out: &mut dyn Write) -> Result<i32, String> {
    let fixture = crate::files::fixture(&args.observed)?;
    let faults = args.faults.clone().unwrap_or_default().0;
    let report = run::simulate(fixture.observed, args.max_passes, faults.clone());
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
    // A fault that never matched an action was most likely mistyped: say so, naming what ids
    // look like, rather than let it silently never fire.
    for (asked, left) in faults.iter().zip(&report.world.faults) {
        if left.remaining == asked.remaining {
            let example = report.passes.iter().flat_map(|p| &p.plan.steps).map(|s| s.id.as_str()).next().unwrap_or("");
            text.push_str(&format!(
                "warning: the fault {:?}:{:?} never matched an action id (ids look like {example:?})\n",
                asked.class, asked.matching
            ));
        }
    }
    text.push_str(&report.summary());
    text.push('\n');
    // Out of passes while the last one's actions still failed: stuck on that error (exit 1), not
    // a hot loop (exit 3).
    let failing = report.passes.last().and_then(|pass| {
        pass.plan.steps.iter().zip(&pass.outcomes).find_map(|(step, outcome)| match &outcome.result {
            OutcomeResult::Failed { class, message } => {
                Some(format!("{} fails ({class:?}): {message}", step.action.describe()))
            }
            OutcomeResult::Succeeded | OutcomeResult::Skipped => None,
        })
    });
    let stuck_on_failure = matches!(report.ending, Ending::Exhausted) && failing.is_some();
    if let (true, Some(failing)) = (stuck_on_failure, &failing) {
        text.push_str(&format!("stuck on an error: {failing}\n"));
    }
    out.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    if let Some(target) = &args.write_final {
        let description = format!("{} (state after simulating {})", fixture.description, args.observed.display());
        // With managedFields: a simulation continued from this file knows who owns what.
        let yaml = fixture::render(&description, &report.world.snapshot())?;
        std::fs::write(target, yaml).map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    }
    Ok(match report.ending {
        Ending::Converged => 0,
        Ending::Exhausted if stuck_on_failure => 1,
        Ending::Exhausted => 3,
        Ending::Stuck(_) => 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::{Faults, parse_faults};

    fn simulate(faults: &str, max_passes: usize) -> (i32, String) {
        let args = SimulateArgs {
            observed: std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/aws-fresh.yaml"),
            max_passes,
            faults: if faults.is_empty() { None } else { parse_faults(faults).ok() },
            write_final: None,
        };
        let mut out = Vec::new();
        let code = run(&args, &mut out).unwrap_or(-1);
        (code, String::from_utf8_lossy(&out).into_owned())
    }

    #[test]
    fn exit_codes_say_converged_stuck_on_an_error_or_a_hot_loop() {
        assert_eq!(simulate("", 20).0, 0);
        // A fault that never stops: stuck on that error (1), as the README says, not a hot loop.
        let (code, text) = simulate("forbidden:Deployment*1000", 8);
        assert_eq!(code, 1, "{text}");
        assert!(
            text.contains(
                "stuck on an error: create Deployment.apps openshift-image-registry/image-registry fails (Forbidden)"
            ),
            "{text}"
        );
        // A transient fault is recovered from.
        assert_eq!(simulate("conflict:Deployment*2", 20).0, 0);
    }

    #[test]
    fn a_fault_that_never_matched_is_named() {
        let (code, text) = simulate("conflict:Deploymnet*2", 20);
        assert_eq!(code, 0);
        assert!(text.contains("warning: the fault Conflict:\"Deploymnet\" never matched an action id"), "{text}");
        assert!(!simulate("conflict:Deployment*2", 20).1.contains("never matched"));
        assert!(matches!(parse_faults("conflict*2"), Ok(Faults(_))));
    }
}
