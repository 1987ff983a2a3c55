//! Command-line parsing and the offline commands (`plan`, `crds`).

use std::io::Write;
use std::path::PathBuf;

use image_registry_core::fixture;
use image_registry_core::outcome::{ErrorClass, OutcomeResult};
use image_registry_core::reconcile;
use image_registry_core::render::{self, Format};
use image_registry_core::sim::Fault;
use image_registry_core::sim::run::{self, Ending};
use jiff::Timestamp;

/// Usage text.
pub const USAGE: &str = "\
Usage: cluster-image-registry-operator <command> [options]

Commands:
  plan --observed FILE [--output text|yaml|json] [--now RFC3339]
        Print what the operator would do for the snapshot in FILE (a fixture).
        --now replaces the snapshot's clock (\"what would it do ten minutes from now?\").
        Exit code: 0 no changes, 2 changes pending, 1 error.
  simulate --observed FILE [--max-passes N] [--faults SPEC] [--write-final FILE]
        Run the operator loop offline against a model of the cluster until a pass plans
        nothing. Prints every pass's plan, then one summary line.
        --faults: comma-separated CLASS[:TEXT][*N]: fail N (default 1) actions whose id
        contains TEXT with CLASS (conflict, alreadyExists, notFound, forbidden, throttled,
        invalid, unavailable, timeout, other), e.g. `conflict:Deployment*2,unavailable`.
        --write-final: save the final state as a fixture.
        Exit code: 0 converged, 3 not converged within --max-passes (default 10),
        1 error (bad input, or stuck on an error it cannot get past).
  crds [--dir DIR]
        Print the CustomResourceDefinitions generated from the API types, or write
        them into DIR (the committed copies live in manifests/).
  help  Print this text.
";

/// A parsed command line.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// Offline plan of a fixture.
    Plan {
        /// The fixture file.
        observed: PathBuf,
        /// Output format.
        output: Format,
        /// Clock override.
        now: Option<Timestamp>,
    },
    /// Offline operator loop.
    Simulate {
        /// The fixture file.
        observed: PathBuf,
        /// Pass budget.
        max_passes: usize,
        /// Injected failures.
        faults: Vec<Fault>,
        /// Where to save the final state.
        write_final: Option<PathBuf>,
    },
    /// Print or write the CRDs.
    Crds {
        /// Where to write; stdout when absent.
        dir: Option<PathBuf>,
    },
    /// Print usage.
    Help,
}

/// Parses arguments (without the program name).
pub fn parse(args: &[String]) -> Result<Command, String> {
    let Some((command, rest)) = args.split_first() else { return Ok(Command::Help) };
    let mut flags = Flags::new(rest)?;
    let parsed = match command.as_str() {
        "plan" => {
            let observed = flags.take("--observed").ok_or("plan needs --observed FILE")?;
            let output = match flags.take("--output") {
                Some(o) => o.parse().map_err(|e| format!("--output: {e}"))?,
                None => Format::Text,
            };
            let now = match flags.take("--now") {
                Some(n) => Some(n.parse().map_err(|e| format!("--now {n:?} is not an RFC 3339 time: {e}"))?),
                None => None,
            };
            Command::Plan { observed: observed.into(), output, now }
        }
        "simulate" => {
            let observed = flags.take("--observed").ok_or("simulate needs --observed FILE")?;
            let max_passes = match flags.take("--max-passes") {
                Some(n) => n.parse().map_err(|_| format!("--max-passes {n:?} is not a whole number"))?,
                None => 10,
            };
            let faults = match flags.take("--faults") {
                Some(spec) => parse_faults(&spec)?,
                None => Vec::new(),
            };
            Command::Simulate {
                observed: observed.into(),
                max_passes,
                faults,
                write_final: flags.take("--write-final").map(PathBuf::from),
            }
        }
        "crds" => Command::Crds { dir: flags.take("--dir").map(PathBuf::from) },
        "help" | "--help" | "-h" => Command::Help,
        other => return Err(format!("unknown command {other:?}")),
    };
    flags.finish()?;
    Ok(parsed)
}

/// Parses `CLASS[:TEXT][*N]` items separated by commas.
pub fn parse_faults(spec: &str) -> Result<Vec<Fault>, String> {
    spec.split(',')
        .filter(|item| !item.trim().is_empty())
        .map(|item| {
            let item = item.trim();
            let (rest, count) = match item.split_once('*') {
                Some((rest, n)) => {
                    (rest, n.parse::<u32>().map_err(|_| format!("--faults {item:?}: {n:?} is not a count"))?)
                }
                None => (item, 1),
            };
            let (class, matching) = rest.split_once(':').unwrap_or((rest, ""));
            let class: ErrorClass = serde_json::from_value(serde_json::Value::String(class.to_owned()))
                .map_err(|_| format!("--faults {item:?}: unknown error class {class:?}"))?;
            Ok(Fault { matching: matching.to_owned(), class, remaining: count })
        })
        .collect()
}

/// `--name value` / `--name=value` pairs, each allowed once.
struct Flags {
    pairs: Vec<(String, String)>,
}

impl Flags {
    fn new(args: &[String]) -> Result<Self, String> {
        let mut pairs = Vec::new();
        let mut iter = args.iter();
        while let Some(arg) = iter.next() {
            if !arg.starts_with("--") {
                return Err(format!("unexpected argument {arg:?}"));
            }
            let (name, value) = match arg.split_once('=') {
                Some((name, value)) => (name.to_owned(), value.to_owned()),
                None => {
                    let value = iter.next().ok_or_else(|| format!("{arg} needs a value"))?;
                    (arg.clone(), value.clone())
                }
            };
            if pairs.iter().any(|(n, _)| *n == name) {
                return Err(format!("{name} given twice"));
            }
            pairs.push((name, value));
        }
        Ok(Self { pairs })
    }

    fn take(&mut self, name: &str) -> Option<String> {
        let index = self.pairs.iter().position(|(n, _)| n == name)?;
        Some(self.pairs.remove(index).1)
    }

    fn finish(self) -> Result<(), String> {
        match self.pairs.first() {
            Some((name, _)) => Err(format!("unknown option {name}")),
            None => Ok(()),
        }
    }
}

/// Runs an offline command, writing to `out`/`err`; returns the exit code.
pub fn run(command: Command, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let result = match command {
        Command::Help => write!(out, "{USAGE}").map(|_| 0).map_err(|e| e.to_string()),
        Command::Crds { dir: Some(dir) } => crate::crds::write(&dir).map(|_| 0),
        Command::Crds { dir: None } => crate::crds::render().and_then(|files| {
            let mut text = String::new();
            for (_, yaml) in files {
                text.push_str("---\n");
                text.push_str(&yaml);
            }
            out.write_all(text.as_bytes()).map(|_| 0).map_err(|e| e.to_string())
        }),
        Command::Plan { observed, output, now } => plan(&observed, output, now, out),
        Command::Simulate { observed, max_passes, faults, write_final } => {
            simulate(&observed, max_passes, faults, write_final.as_deref(), out)
        }
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            let _ = writeln!(err, "error: {message}");
            1
        }
    }
}

fn load(path: &std::path::Path) -> Result<fixture::Fixture, String> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    fixture::parse(&name, &text).map_err(|e| e.to_string())
}

fn simulate(
    path: &std::path::Path,
    max_passes: usize,
    faults: Vec<Fault>,
    write_final: Option<&std::path::Path>,
    out: &mut dyn Write,
) -> Result<i32, String> {
    let fixture = load(path)?;
    let report = run::simulate(fixture.observed, max_passes, faults);
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
    if let Some(target) = write_final {
        let description = format!("{} (state after simulating {})", fixture.description, path.display());
        let yaml = fixture::render(&description, &report.world.observed)?;
        std::fs::write(target, yaml).map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    }
    Ok(match report.ending {
        Ending::Converged => 0,
        Ending::Exhausted => 3,
        Ending::Stuck(_) => 1,
    })
}

fn plan(path: &std::path::Path, output: Format, now: Option<Timestamp>, out: &mut dyn Write) -> Result<i32, String> {
    let mut fixture = load(path)?;
    if let Some(now) = now {
        fixture.observed.now = now;
    }
    let plan = reconcile(&fixture.observed);
    let rendered = render::render(&plan, output).map_err(|e| e.to_string())?;
    out.write_all(rendered.as_bytes()).map_err(|e| e.to_string())?;
    Ok(plan.exit_code())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn parses_plan() {
        let c = parse(&args("plan --observed f.yaml --output=json --now 2026-01-01T00:10:00Z")).unwrap();
        assert_eq!(
            c,
            Command::Plan {
                observed: "f.yaml".into(),
                output: Format::Json,
                now: Some("2026-01-01T00:10:00Z".parse().unwrap())
            }
        );
    }

    #[test]
    fn rejects_bad_arguments_with_a_clear_message() {
        assert_eq!(parse(&args("plan")).unwrap_err(), "plan needs --observed FILE");
        assert!(parse(&args("plan --observed f --output xml")).unwrap_err().contains("unknown output format"));
        assert!(parse(&args("plan --observed f --now soon")).unwrap_err().contains("--now"));
        assert_eq!(parse(&args("plan --observed f --bogus 1")).unwrap_err(), "unknown option --bogus");
        assert_eq!(parse(&args("plan --observed")).unwrap_err(), "--observed needs a value");
        assert_eq!(parse(&args("frobnicate")).unwrap_err(), "unknown command \"frobnicate\"");
        assert_eq!(parse(&[]).unwrap(), Command::Help);
    }
}
