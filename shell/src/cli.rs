//! Command-line parsing and dispatch: the offline commands (`plan --observed`, `simulate`,
//! `crds`) and the live ones (`plan --kubeconfig`, `run`).

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use image_registry_core::fixture;
use image_registry_core::outcome::{ErrorClass, OutcomeResult};
use image_registry_core::reconcile;
use image_registry_core::render::{self, Format};
use image_registry_core::sim::Fault;
use image_registry_core::sim::run::{self, Ending};
use jiff::Timestamp;

use crate::cloud::{CloudApi, NoCloud};
use crate::controller::LoopSettings;
use crate::lease::LeaseSettings;
use crate::live::{self, Ended, RunSettings, Target};

/// Usage text.
pub const USAGE: &str = "\
Usage: cluster-image-registry-operator <command> [options]

Commands:
  plan (--observed FILE | --kubeconfig FILE | --in-cluster) [--output text|yaml|json] [--now RFC3339]
        Print what the operator would do for the snapshot in FILE (a fixture), or for a live
        cluster (read-only: a dry-run that sends no write).
        --now replaces the snapshot's clock (\"what would it do ten minutes from now?\").
        Exit code: 0 no changes, 2 changes pending, 1 error.
  run [--kubeconfig FILE | --in-cluster] [--metrics-address ADDR] [--identity NAME]
      [--lease-duration S] [--renew-deadline S] [--retry-period S] [--resync S]
      [--tls-cert FILE --tls-key FILE [--tls-min-version VersionTLS12|VersionTLS13]]
      [--log-format text|json] [--cloud none|fake]
        The operator: waits for the lease openshift-master-controllers, then watches and
        reconciles until SIGTERM/SIGINT (exit 0, lease released) or the lease is lost (exit 1).
        Defaults: no kubeconfig flag infers the configuration; metrics on 0.0.0.0:60000
        (/metrics, /healthz, /readyz; `none` turns it off; HTTPS with --tls-cert/--tls-key,
        re-read when the files change); identity $POD_NAME or the host
        name; lease 137 s, renew deadline 107 s, retry 26 s; resync 600 s.
        Settings from the environment: RELEASE_VERSION, IMAGE, IMAGE_PRUNER, OPERATOR_IMAGE.
        --cloud fake (test stand only; needs the `fake-cloud` build feature) uses the modelled
        clouds of `simulate` instead of real ones.
  simulate --observed FILE [--max-passes N] [--faults SPEC] [--write-final FILE]
        Run the operator loop offline against a model of the cluster until a pass plans
        nothing. Prints every pass's plan, then one summary line.
        --faults: comma-separated CLASS[:TEXT][*N]: fail N (default 1) actions whose id
        contains TEXT with CLASS (conflict, alreadyExists, notFound, forbidden, throttled,
        invalid, unavailable, timeout, other), e.g. `conflict:Deployment*2,unavailable`.
        --write-final: save the final state as a fixture.
        Exit code: 0 converged, 3 not converged within --max-passes (default 10),
        1 error (bad input, or stuck on an error it cannot get past).
  node-ca-sync [--source DIR] [--destination DIR] [--interval S]
        What the node-ca DaemonSet runs: mirror the registry CAs (default /tmp/serviceca) into
        the node's trust directory (default /etc/docker/certs.d) now and every 60 s, until
        SIGTERM/SIGINT.
  crds [--dir DIR]
        Print the CustomResourceDefinitions generated from the API types, or write
        them into DIR (the committed copies live in manifests/).
  help  Print this text.
";

/// A parsed command line.
#[derive(Debug, PartialEq, Eq)]
pub enum Command {
    /// Plan of a fixture, or a live dry-run.
    Plan {
        /// The fixture file, or the cluster.
        source: Source,
        /// Which clouds a live dry-run asks.
        cloud: CloudChoice,
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
    /// The operator.
    Run(Box<RunArgs>),
    /// The node-ca DaemonSet's sync loop.
    NodeCaSync {
        /// The mounted CA ConfigMap.
        source: PathBuf,
        /// The node's trust directory.
        destination: PathBuf,
        /// Time between syncs.
        interval: Duration,
    },
    /// Print usage.
    Help,
}

/// The arguments of `run`.
#[derive(Debug, PartialEq, Eq)]
pub struct RunArgs {
    /// The cluster.
    pub target: Target,
    /// Which clouds.
    pub cloud: CloudChoice,
    /// Metrics and health endpoints.
    pub metrics_address: Option<SocketAddr>,
    /// Their TLS certificate.
    pub tls: Option<crate::tls::TlsFiles>,
    /// Leader election.
    pub lease: LeaseSettings,
    /// Loop timing.
    pub looping: LoopSettings,
    /// JSON log lines.
    pub json_logs: bool,
}

/// What a plan is made from.
#[derive(Debug, PartialEq, Eq)]
pub enum Source {
    /// A fixture file.
    Fixture(PathBuf),
    /// A live cluster, read-only.
    Live(Target),
}

/// Which clouds the live commands talk to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CloudChoice {
    /// No cloud client (until the real clients land): storage reports that plainly.
    None,
    /// The world model's clouds, for the test stand (`fake-cloud` feature).
    Fake,
}

fn seconds(flags: &mut Flags, name: &str, default: u64) -> Result<Duration, String> {
    match flags.take(name) {
        Some(v) => v
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(Duration::from_secs_f64)
            .ok_or_else(|| format!("{name} {v:?} is not a positive number of seconds")),
        None => Ok(Duration::from_secs(default)),
    }
}

fn target(flags: &mut Flags) -> Result<Option<Target>, String> {
    let kubeconfig = flags.take("--kubeconfig");
    let in_cluster = flags.take("--in-cluster");
    match (kubeconfig, in_cluster.as_deref()) {
        (Some(_), Some(_)) => Err("--kubeconfig and --in-cluster exclude each other".into()),
        (Some(path), None) => Ok(Some(Target::Kubeconfig(path.into()))),
        (None, Some("true")) => Ok(Some(Target::InCluster)),
        (None, Some(other)) => Err(format!("--in-cluster takes no value (got {other:?})")),
        (None, None) => Ok(None),
    }
}

fn cloud_choice(flags: &mut Flags) -> Result<CloudChoice, String> {
    match flags.take("--cloud").as_deref() {
        None | Some("none") => Ok(CloudChoice::None),
        Some("fake") if cfg!(feature = "fake-cloud") => Ok(CloudChoice::Fake),
        Some("fake") => Err("--cloud fake needs a build with the `fake-cloud` feature (test stand only)".into()),
        Some(other) => Err(format!("--cloud {other:?}: expected none or fake")),
    }
}

/// Parses arguments (without the program name).
pub fn parse(args: &[String]) -> Result<Command, String> {
    let Some((command, rest)) = args.split_first() else { return Ok(Command::Help) };
    let mut flags = Flags::new(rest)?;
    let parsed = match command.as_str() {
        "plan" => {
            let observed = flags.take("--observed");
            let live = target(&mut flags)?;
            let source = match (observed, live) {
                (Some(file), None) => Source::Fixture(file.into()),
                (None, Some(target)) => Source::Live(target),
                (Some(_), Some(_)) => return Err("plan takes --observed FILE or a cluster, not both".into()),
                (None, None) => return Err("plan needs --observed FILE (or --kubeconfig FILE / --in-cluster)".into()),
            };
            let cloud = cloud_choice(&mut flags)?;
            let output = match flags.take("--output") {
                Some(o) => o.parse().map_err(|e| format!("--output: {e}"))?,
                None => Format::Text,
            };
            let now = match flags.take("--now") {
                Some(n) => Some(n.parse().map_err(|e| format!("--now {n:?} is not an RFC 3339 time: {e}"))?),
                None => None,
            };
            Command::Plan { source, cloud, output, now }
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
        "node-ca-sync" => Command::NodeCaSync {
            source: flags.take("--source").unwrap_or_else(|| "/tmp/serviceca".into()).into(),
            destination: flags.take("--destination").unwrap_or_else(|| "/etc/docker/certs.d".into()).into(),
            interval: seconds(&mut flags, "--interval", 60)?,
        },
        "run" => {
            let target = target(&mut flags)?.unwrap_or(Target::Infer);
            let cloud = cloud_choice(&mut flags)?;
            let metrics_address = match flags.take("--metrics-address").as_deref() {
                Some("none") => None,
                Some(a) => Some(a.parse().map_err(|_| format!("--metrics-address {a:?} is not HOST:PORT"))?),
                None => Some(SocketAddr::from(([0, 0, 0, 0], 60000))),
            };
            let tls = match (flags.take("--tls-cert"), flags.take("--tls-key")) {
                (Some(cert), Some(key)) => {
                    let min_version = match flags.take("--tls-min-version") {
                        Some(v) => v.parse().map_err(|e| format!("--tls-min-version: {e}"))?,
                        None => crate::tls::MinVersion::Tls12,
                    };
                    Some(crate::tls::TlsFiles { cert: cert.into(), key: key.into(), min_version })
                }
                (None, None) if flags.take("--tls-min-version").is_none() => None,
                _ => return Err("--tls-cert and --tls-key go together (and --tls-min-version with them)".into()),
            };
            let identity = flags.take("--identity").unwrap_or_else(default_identity);
            let mut lease = LeaseSettings::reference(identity);
            lease.lease_duration = seconds(&mut flags, "--lease-duration", 137)?;
            lease.renew_deadline = seconds(&mut flags, "--renew-deadline", 107)?;
            lease.retry_period = seconds(&mut flags, "--retry-period", 26)?;
            let looping = LoopSettings { resync: seconds(&mut flags, "--resync", 600)?, ..LoopSettings::default() };
            let json_logs = match flags.take("--log-format").as_deref() {
                None | Some("text") => false,
                Some("json") => true,
                Some(other) => return Err(format!("--log-format {other:?}: expected text or json")),
            };
            Command::Run(Box::new(RunArgs { target, cloud, metrics_address, tls, lease, looping, json_logs }))
        }
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

/// Flags that take no value.
const SWITCHES: &[&str] = &["--in-cluster"];

fn default_identity() -> String {
    std::env::var("POD_NAME")
        .ok()
        .filter(|n| !n.is_empty())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok().map(|h| h.trim().to_owned()))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| format!("cluster-image-registry-operator-{}", std::process::id()))
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
            if SWITCHES.contains(&arg.as_str()) {
                pairs.push((arg.clone(), "true".to_owned()));
                continue;
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
        Command::Plan { source: Source::Fixture(observed), output, now, .. } => plan(&observed, output, now, out),
        Command::Plan { source: Source::Live(target), cloud, output, now } => {
            live_plan(&target, cloud, output, now, out)
        }
        Command::NodeCaSync { source, destination, interval } => {
            crate::telemetry::init(false);
            runtime().map(|rt| {
                rt.block_on(crate::nodeca::run(&source, &destination, interval, live::signals()));
                0
            })
        }
        Command::Run(args) => {
            let RunArgs { target, cloud, metrics_address, tls, lease, looping, json_logs } = *args;
            crate::telemetry::init(json_logs);
            let operator = crate::observe::operator_env();
            operate(&target, cloud, RunSettings { metrics_address, tls, lease, looping, operator })
        }
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

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| format!("cannot start: {e}"))
}

fn cloud_for(choice: CloudChoice) -> Arc<dyn CloudApi> {
    match choice {
        #[cfg(feature = "fake-cloud")]
        CloudChoice::Fake => Arc::new(crate::cloud::FakeCloud::new(Default::default())),
        _ => Arc::new(NoCloud),
    }
}

fn live_plan(
    target: &Target,
    cloud: CloudChoice,
    output: Format,
    now: Option<Timestamp>,
    out: &mut dyn Write,
) -> Result<i32, String> {
    let plan = runtime()?.block_on(async {
        let client = live::connect(target).await?;
        let operator = live::operator_settings(&client, crate::observe::operator_env()).await;
        live::dry_run(&client, cloud_for(cloud).as_ref(), operator, now).await
    })?;
    let rendered = render::render(&plan, output).map_err(|e| e.to_string())?;
    out.write_all(rendered.as_bytes()).map_err(|e| e.to_string())?;
    Ok(plan.exit_code())
}

fn operate(target: &Target, cloud: CloudChoice, settings: RunSettings) -> Result<i32, String> {
    let ended = runtime()?.block_on(async {
        let client = live::connect(target).await?;
        let metrics = Arc::new(crate::metrics::Metrics::new());
        live::run(client, cloud_for(cloud), settings, metrics, live::signals()).await
    })?;
    Ok(match ended {
        Ended::Shutdown => 0,
        Ended::LostLease => 1,
    })
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
                source: Source::Fixture("f.yaml".into()),
                cloud: CloudChoice::None,
                output: Format::Json,
                now: Some("2026-01-01T00:10:00Z".parse().unwrap())
            }
        );
    }

    #[test]
    fn rejects_bad_arguments_with_a_clear_message() {
        assert_eq!(
            parse(&args("plan")).unwrap_err(),
            "plan needs --observed FILE (or --kubeconfig FILE / --in-cluster)"
        );
        assert!(parse(&args("plan --observed f --kubeconfig k")).unwrap_err().contains("not both"));
        assert!(parse(&args("run --lease-duration -3")).unwrap_err().contains("--lease-duration"));
        assert!(parse(&args("run --log-format xml")).unwrap_err().contains("--log-format"));
        assert!(parse(&args("run --tls-cert c")).unwrap_err().contains("go together"));
        assert!(
            parse(&args("run --tls-cert c --tls-key k --tls-min-version VersionTLS10"))
                .unwrap_err()
                .contains("not offered")
        );
        assert!(parse(&args("plan --observed f --output xml")).unwrap_err().contains("unknown output format"));
        assert!(parse(&args("plan --observed f --now soon")).unwrap_err().contains("--now"));
        assert_eq!(parse(&args("plan --observed f --bogus 1")).unwrap_err(), "unknown option --bogus");
        assert_eq!(parse(&args("plan --observed")).unwrap_err(), "--observed needs a value");
        assert_eq!(parse(&args("frobnicate")).unwrap_err(), "unknown command \"frobnicate\"");
        assert_eq!(parse(&[]).unwrap(), Command::Help);
    }
}
