//! The command line, declared with clap: the offline commands (`plan --observed`, `simulate`
//! with the `fake-cloud` feature, `crds`, `completions`) and the live ones (`plan --kubeconfig`,
//! `run`, `node-ca-sync`). Usage errors exit 1, as the plan's exit codes reserve 2 for "changes
//! pending"; `commands.rs` carries the parsed command out.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};
use image_registry_core::observed::OperatorEnv;
use image_registry_core::render::Format;
use jiff::Timestamp;

use crate::controller::LoopSettings;
use crate::lease::LeaseSettings;
use crate::live::Target;
use crate::tls::{MinVersion, TlsFiles};

/// The operator binary's command line.
#[derive(Debug, Parser)]
#[command(
    name = "cluster-image-registry-operator",
    version,
    arg_required_else_help = true,
    about = "The OpenShift image registry operator: a pure decision core, an imperative shell.",
    after_help = "Exit codes: 0 done (or, for plan, no changes), 2 changes pending (plan), \
                  3 not converged (simulate), 1 error (including a bad command line)."
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// A parsed command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print what the operator would do for a fixture, or for a live cluster (read-only: a
    /// dry-run that sends no write). Exit 0 no changes, 2 changes pending, 1 error.
    Plan(PlanArgs),
    /// Write the cluster as a fixture (every object the operator reads, read-only), secret
    /// values replaced by placeholders that keep the plan: `plan --observed` on it plans what
    /// `plan --kubeconfig` plans. For bug reports and upgrade previews.
    Snapshot(SnapshotArgs),
    /// Run the operator loop offline against the world model until a pass plans nothing.
    /// Exit 0 converged, 3 not converged within --max-passes, 1 error or stuck.
    #[cfg(feature = "fake-cloud")]
    Simulate(SimulateArgs),
    /// The operator: waits for the lease, then watches and reconciles until SIGTERM/SIGINT
    /// (exit 0, lease released) or the lease is lost (exit 1).
    Run(Box<RunArgs>),
    /// What the node-ca DaemonSet runs: mirror the registry CAs into the node's trust
    /// directory now and every interval, until SIGTERM/SIGINT.
    NodeCaSync(NodeCaSyncArgs),
    /// Print the CustomResourceDefinitions generated from the API types, or write them into
    /// DIR (the committed copies live in manifests/).
    Crds {
        /// Write one file per CRD here instead of printing them.
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
    /// Print a completion script for a shell (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// The cluster a live command talks to.
#[derive(Debug, Args)]
#[group(multiple = false)]
pub struct ClusterArgs {
    /// A kubeconfig file.
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// The pod's service account.
    #[arg(long)]
    pub in_cluster: bool,
}

impl ClusterArgs {
    /// The target, when one was named.
    pub fn target(&self) -> Option<Target> {
        match (&self.kubeconfig, self.in_cluster) {
            (Some(path), _) => Some(Target::Kubeconfig(path.clone())),
            (None, true) => Some(Target::InCluster),
            (None, false) => None,
        }
    }
}

/// The operator's settings from its environment (flags override them).
#[derive(Debug, Args)]
pub struct EnvArgs {
    /// The release the operator belongs to.
    #[arg(long, env = "RELEASE_VERSION", default_value = "", hide_default_value = true)]
    pub release_version: String,
    /// The registry image.
    #[arg(long, env = "IMAGE", default_value = "", hide_default_value = true)]
    pub image: String,
    /// The pruner CronJob's image.
    #[arg(long, env = "IMAGE_PRUNER", default_value = "", hide_default_value = true)]
    pub image_pruner: String,
    /// The operator's image (the node-ca DaemonSet runs it).
    #[arg(long, env = "OPERATOR_IMAGE", default_value = "", hide_default_value = true)]
    pub operator_image: String,
}

impl EnvArgs {
    /// As the core takes them.
    pub fn operator_env(&self) -> OperatorEnv {
        OperatorEnv {
            release_version: self.release_version.clone(),
            image: self.image.clone(),
            image_pruner: self.image_pruner.clone(),
            operator_image: self.operator_image.clone(),
        }
    }
}

/// Which clouds the live commands talk to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum CloudChoice {
    /// The operator's cloud clients (S3, GCS, Azure, Swift).
    #[default]
    Sdk,
    /// The world model's clouds, for the test stand (needs the `fake-cloud` build feature).
    Fake,
}

/// `plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// A fixture: the cluster's objects plus a Scenario document.
    #[arg(long, value_name = "FILE", required_unless_present_any = ["kubeconfig", "in_cluster"], conflicts_with_all = ["kubeconfig", "in_cluster"])]
    pub observed: Option<PathBuf>,
    /// A live cluster instead of a fixture.
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Which clouds a live dry-run asks.
    #[arg(long, value_enum, default_value_t)]
    pub cloud: CloudChoice,
    /// Output format: text, yaml or json.
    #[arg(long, default_value = "text", value_parser = parse_format)]
    pub output: Format,
    /// Replace the snapshot's clock ("what would it do ten minutes from now?").
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub now: Option<Timestamp>,
    /// The operator's settings.
    #[command(flatten)]
    pub env: EnvArgs,
}

/// `snapshot`.
#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// The cluster (neither flag infers it: KUBECONFIG, ~/.kube/config, in-cluster).
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Which clouds to ask about the storage.
    #[arg(long, value_enum, default_value_t)]
    pub cloud: CloudChoice,
    /// Record this time as the snapshot's clock instead of now.
    #[arg(long, value_name = "RFC3339", value_parser = parse_time)]
    pub now: Option<Timestamp>,
    /// The operator's settings.
    #[command(flatten)]
    pub env: EnvArgs,
}

/// `simulate`.
#[cfg(feature = "fake-cloud")]
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The fixture to start from.
    #[arg(long, value_name = "FILE")]
    pub observed: PathBuf,
    /// Pass budget (at least 1).
    #[arg(long, default_value_t = 10, value_parser = parse_passes)]
    pub max_passes: usize,
    /// Comma-separated CLASS[:TEXT][*N]: fail N (default 1) actions whose id contains TEXT
    /// with CLASS (conflict, alreadyExists, notFound, forbidden, throttled, invalid,
    /// unavailable, timeout, other), e.g. `conflict:Deployment*2,unavailable`.
    #[arg(long, value_name = "SPEC", value_parser = parse_faults)]
    pub faults: Option<Faults>,
    /// Save the final state as a fixture.
    #[arg(long, value_name = "FILE")]
    pub write_final: Option<PathBuf>,
}

/// The faults `simulate` injects (one flag value, many faults).
#[cfg(feature = "fake-cloud")]
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Faults(pub Vec<image_registry_world::Fault>);

/// `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The cluster; neither flag infers it (KUBECONFIG, ~/.kube/config, in-cluster).
    #[command(flatten)]
    pub cluster: ClusterArgs,
    /// Which clouds.
    #[arg(long, value_enum, default_value_t)]
    pub cloud: CloudChoice,
    /// /metrics, /healthz and /readyz (`none` turns them off).
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:60000", value_parser = parse_address)]
    pub metrics_address: Address,
    /// Serve metrics over HTTPS with this certificate (re-read when it changes).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's key.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Minimum TLS version: VersionTLS12 or VersionTLS13.
    #[arg(long, value_name = "VERSION", requires = "tls_cert")]
    pub tls_min_version: Option<MinVersion>,
    /// Leader-election identity (default: $POD_NAME, else the host name).
    #[arg(long)]
    pub identity: Option<String>,
    /// Lease duration, seconds.
    #[arg(long, value_name = "S", default_value = "137", value_parser = parse_seconds, allow_negative_numbers = true)]
    pub lease_duration: Duration,
    /// Renew deadline, seconds.
    #[arg(long, value_name = "S", default_value = "107", value_parser = parse_seconds, allow_negative_numbers = true)]
    pub renew_deadline: Duration,
    /// Retry period, seconds.
    #[arg(long, value_name = "S", default_value = "26", value_parser = parse_seconds, allow_negative_numbers = true)]
    pub retry_period: Duration,
    /// A pass at least this often, seconds.
    #[arg(long, value_name = "S", default_value = "600", value_parser = parse_seconds, allow_negative_numbers = true)]
    pub resync: Duration,
    /// Log line format: text or json.
    #[arg(long, value_enum, default_value_t)]
    pub log_format: LogFormat,
    /// The cluster's CA bundle (ConfigMap trusted-ca), trusted beside the system roots by every
    /// cloud client; the run ends, to be restarted, when it changes. A missing file is none.
    #[arg(long, value_name = "FILE", default_value = crate::cloud::trust::CLUSTER_BUNDLE)]
    pub cluster_ca_bundle: PathBuf,
    /// The operator's settings.
    #[command(flatten)]
    pub env: EnvArgs,
}

impl RunArgs {
    /// Leader-election settings.
    pub fn lease(&self) -> LeaseSettings {
        let identity = self.identity.clone().unwrap_or_else(default_identity);
        LeaseSettings {
            lease_duration: self.lease_duration,
            renew_deadline: self.renew_deadline,
            retry_period: self.retry_period,
            ..LeaseSettings::reference(identity)
        }
    }

    /// Loop timing.
    pub fn looping(&self) -> LoopSettings {
        LoopSettings { resync: self.resync, ..LoopSettings::default() }
    }

    /// The metrics endpoint's certificate, when serving HTTPS.
    pub fn tls(&self) -> Option<TlsFiles> {
        let (cert, key) = (self.tls_cert.clone()?, self.tls_key.clone()?);
        Some(TlsFiles { cert, key, min_version: self.tls_min_version.unwrap_or(MinVersion::Tls12) })
    }
}

/// Log line format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// A listening address, or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Address(pub Option<SocketAddr>);

/// `node-ca-sync`.
#[derive(Debug, Args)]
pub struct NodeCaSyncArgs {
    /// The mounted CA ConfigMap.
    #[arg(long, value_name = "DIR", default_value = "/tmp/serviceca")]
    pub source: PathBuf,
    /// The node's trust directory.
    #[arg(long, value_name = "DIR", default_value = "/etc/docker/certs.d")]
    pub destination: PathBuf,
    /// Seconds between syncs.
    #[arg(long, value_name = "S", default_value = "60", value_parser = parse_seconds, allow_negative_numbers = true)]
    pub interval: Duration,
}

/// Parses arguments (without the program name). `Err` carries clap's error, which knows
/// whether it is help (exit 0) or a usage error (exit 1).
pub fn parse<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let program = std::iter::once(std::ffi::OsString::from("cluster-image-registry-operator"));
    Cli::try_parse_from(program.chain(args.into_iter().map(Into::into)))
}

/// The exit code and text for a command line clap refused or answered itself (help, version).
#[expect(
    clippy::wildcard_enum_match_arm,
    reason = "a foreign error enum that grows with its crate: a kind this code does not know is classed as the generic case"
)]
pub fn refused(error: &clap::Error) -> (i32, String) {
    use clap::error::ErrorKind;
    let code = match error.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => 0,
        _ => 1,
    };
    (code, error.render().to_string())
}

fn parse_format(text: &str) -> Result<Format, String> {
    text.parse()
}

fn parse_time(text: &str) -> Result<Timestamp, String> {
    text.parse().map_err(|e| format!("not an RFC 3339 time: {e}"))
}

fn parse_seconds(text: &str) -> Result<Duration, String> {
    text.parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| "not a positive number of seconds".to_owned())
}

fn parse_address(text: &str) -> Result<Address, String> {
    match text {
        "none" => Ok(Address(None)),
        other => other.parse().map(|a| Address(Some(a))).map_err(|_| "not HOST:PORT (or none)".to_owned()),
    }
}

/// `--max-passes`: a whole number, at least 1.
#[cfg(feature = "fake-cloud")]
fn parse_passes(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(0) => Err("at least one pass is needed".to_owned()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("{text:?} is not a number of passes")),
    }
}

/// Parses `CLASS[:TEXT][*N]` items separated by commas; at least one, each firing at least once.
#[cfg(feature = "fake-cloud")]
pub fn parse_faults(spec: &str) -> Result<Faults, String> {
    use image_registry_core::outcome::ErrorClass;
    if spec.split(',').all(|item| item.trim().is_empty()) {
        return Err(format!("{spec:?} names no fault: CLASS[:TEXT][*N], comma-separated"));
    }
    spec.split(',')
        .filter(|item| !item.trim().is_empty())
        .map(|item| {
            let item = item.trim();
            let (rest, count) = match item.split_once('*') {
                Some((rest, n)) => match n.parse::<u32>() {
                    Ok(0) => return Err(format!("{item:?}: a fault fires at least once (*N with N ≥ 1)")),
                    Ok(count) => (rest, count),
                    Err(_) => return Err(format!("{item:?}: {n:?} is not a count")),
                },
                None => (item, 1),
            };
            let (class, matching) = rest.split_once(':').unwrap_or((rest, ""));
            let class: ErrorClass = serde_json::from_value(serde_json::Value::String(class.to_owned()))
                .map_err(|_| format!("{item:?}: unknown error class {class:?}"))?;
            Ok(image_registry_world::Fault { matching: matching.to_owned(), class, remaining: count })
        })
        .collect::<Result<_, String>>()
        .map(Faults)
}

fn default_identity() -> String {
    std::env::var("POD_NAME")
        .ok()
        .filter(|n| !n.is_empty())
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok().map(|h| h.trim().to_owned()))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| format!("cluster-image-registry-operator-{}", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(s: &str) -> Result<Command, String> {
        parse(s.split_whitespace()).map(|c| c.command).map_err(|e| e.to_string())
    }

    #[cfg(feature = "fake-cloud")]
    #[test]
    fn faults_that_could_never_fire_and_a_budget_of_no_pass_are_refused() {
        assert!(parse_faults("").unwrap_err().contains("names no fault"));
        assert!(parse_faults(",").unwrap_err().contains("names no fault"));
        assert!(parse_faults("conflict*0").unwrap_err().contains("at least once"));
        assert!(parse_faults("conflct").unwrap_err().contains("unknown error class"));
        assert_eq!(parse_faults("conflict:Deployment*2,unavailable").unwrap().0.len(), 2);
        assert_eq!(parse_passes("0").unwrap_err(), "at least one pass is needed");
        assert_eq!(parse_passes("4"), Ok(4));
        assert!(parsed("simulate --observed f --max-passes 0").is_err());
    }

    #[test]
    fn declaration_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn parses_plan() {
        let Ok(Command::Plan(plan)) = parsed("plan --observed f.yaml --output=json --now 2026-01-01T00:10:00Z") else {
            panic!("not a plan")
        };
        assert_eq!(plan.observed, Some("f.yaml".into()));
        assert_eq!(plan.cluster.target(), None);
        assert_eq!(plan.cloud, CloudChoice::Sdk);
        assert_eq!(plan.output, Format::Json);
        assert_eq!(plan.now, Some("2026-01-01T00:10:00Z".parse().unwrap()));
    }

    #[test]
    fn parses_snapshot() {
        let Ok(Command::Snapshot(snapshot)) = parsed("snapshot --kubeconfig k --now 2026-01-01T00:00:00Z") else {
            panic!("not snapshot")
        };
        assert_eq!(snapshot.cluster.target(), Some(Target::Kubeconfig("k".into())));
        assert_eq!(snapshot.cloud, CloudChoice::Sdk);
        assert!(parsed("snapshot --kubeconfig k --in-cluster").is_err());
    }

    #[test]
    fn parses_run_with_its_defaults() {
        let Ok(Command::Run(run)) = parsed("run --kubeconfig k --identity me --resync 30 --metrics-address none")
        else {
            panic!("not run")
        };
        assert_eq!(run.cluster.target(), Some(Target::Kubeconfig("k".into())));
        assert_eq!(run.metrics_address, Address(None));
        assert_eq!(run.lease().identity, "me");
        assert_eq!(run.lease().lease_duration, Duration::from_secs(137));
        assert_eq!(run.looping().resync, Duration::from_secs(30));
        assert_eq!(run.tls(), None);
        let Ok(Command::Run(run)) = parsed("run") else { panic!("not run") };
        assert_eq!(run.metrics_address, Address(Some(SocketAddr::from(([0, 0, 0, 0], 60000)))));
        assert_eq!(run.cluster.target(), None);
    }

    #[test]
    fn rejects_bad_arguments_naming_the_flag() {
        let refused = |s: &str| parsed(s).err().unwrap_or_else(|| panic!("{s} was accepted"));
        assert!(refused("plan").contains("--observed"));
        assert!(refused("plan --observed f --kubeconfig k").contains("cannot be used with"));
        assert!(refused("run --lease-duration -3").contains("--lease-duration"));
        assert!(refused("run --log-format xml").contains("--log-format"));
        assert!(refused("run --tls-cert c").contains("--tls-key"));
        assert!(refused("run --tls-cert c --tls-key k --tls-min-version VersionTLS10").contains("not offered"));
        assert!(refused("plan --observed f --output xml").contains("unknown output format"));
        assert!(refused("plan --observed f --now soon").contains("--now"));
        assert!(refused("plan --observed f --bogus 1").contains("--bogus"));
        assert!(refused("plan --observed").contains("--observed"));
        assert!(refused("plan --observed a --observed b").contains("cannot be used multiple times"));
        assert!(refused("frobnicate").contains("frobnicate"));
    }

    #[test]
    fn help_and_version_exit_0_and_usage_errors_exit_1() {
        for args in ["help", "--help", "plan --help", "--version", ""] {
            let error = parse(args.split_whitespace()).err().unwrap_or_else(|| panic!("{args:?} parsed"));
            assert_eq!(refused(&error).0, 0, "{args:?}");
        }
        let error = parse(["plan"]).err().unwrap();
        assert_eq!(refused(&error).0, 1);
    }

    #[test]
    fn environment_settings_fill_the_operator_env() {
        let Ok(Command::Run(run)) = parsed("run --image registry:1 --release-version 4.20.0") else { panic!() };
        let env = run.env.operator_env();
        assert_eq!((env.image.as_str(), env.release_version.as_str()), ("registry:1", "4.20.0"));
    }
}
