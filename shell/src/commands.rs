//! Carries out a parsed command line: the offline plan, `simulate` (with the `fake-cloud`
//! feature), the CRDs, completions, and the live commands. Returns the process's exit code.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use image_registry_core::reconcile;
use image_registry_core::render::{self, Format};
use jiff::Timestamp;

use crate::cli::{CloudChoice, Command, LogFormat, PlanArgs, SnapshotArgs};
use crate::cloud::calls::CallCounter;
use crate::cloud::{CloudApi, Clouds};
use crate::live::{self, Ended, RunSettings, Target};

/// Runs a command, writing to `out`/`err`; returns the exit code.
pub fn run(command: Command, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let result = match command {
        Command::Crds { dir: Some(dir) } => crate::crds::write(&dir).map(|_| 0),
        Command::Crds { dir: None } => crate::crds::render().and_then(|files| {
            let mut text = String::new();
            for (_, yaml) in files {
                text.push_str("---\n");
                text.push_str(&yaml);
            }
            out.write_all(text.as_bytes()).map(|_| 0).map_err(|e| e.to_string())
        }),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            let mut cli = crate::cli::Cli::command();
            clap_complete::generate(shell, &mut cli, "cluster-image-registry-operator", out);
            Ok(0)
        }
        Command::Plan(args) => plan_command(&args, out),
        Command::Snapshot(args) => snapshot_command(&args, out, err),
        Command::NodeCaSync(args) => {
            crate::telemetry::init(false);
            runtime().map(|rt| {
                rt.block_on(crate::nodeca::run(&args.source, &args.destination, args.interval, live::signals()));
                0
            })
        }
        Command::Run(args) => {
            crate::telemetry::init(args.log_format == LogFormat::Json);
            let settings = RunSettings {
                metrics_address: args.metrics_address.0,
                tls: args.tls(),
                lease: args.lease(),
                looping: args.looping(),
                operator: args.env.operator_env(),
            };
            operate(&args.cluster.target().unwrap_or(Target::Infer), args.cloud, &args.cluster_ca_bundle, settings)
        }
        #[cfg(feature = "fake-cloud")]
        Command::Simulate(args) => crate::simulate::run(&args, out),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            let _ = writeln!(err, "error: {message}");
            1
        }
    }
}

fn plan_command(args: &PlanArgs, out: &mut dyn Write) -> Result<i32, String> {
    match (&args.observed, args.cluster.target()) {
        (Some(path), _) => plan(path, args.output, args.now, out),
        (None, Some(target)) => live_plan(&target, args.cloud, args.env.operator_env(), args.output, args.now, out),
        // clap requires one of them; say so rather than guess.
        (None, None) => Err("plan needs --observed FILE, --kubeconfig FILE or --in-cluster".to_owned()),
    }
}

fn snapshot_command(args: &SnapshotArgs, out: &mut dyn Write, err: &mut dyn Write) -> Result<i32, String> {
    let target = args.cluster.target().unwrap_or(Target::Infer);
    let cloud = cloud_for(args.cloud, Duration::ZERO, CallCounter::default())?;
    let (text, differ) = runtime()?.block_on(async {
        let client = live::connect(&target).await?;
        let operator = live::operator_settings(&client, args.env.operator_env()).await;
        live::snapshot(&client, cloud.as_ref(), operator, args.now).await
    })?;
    if !differ.is_empty() {
        // The file is still useful; say where it would plan otherwise than the cluster.
        let _ = writeln!(
            err,
            "warning: the snapshot plans these steps differently from the cluster: {}",
            differ.join(", ")
        );
    }
    out.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    Ok(0)
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(|e| format!("cannot start: {e}"))
}

fn cloud_for(choice: CloudChoice, resync: Duration, calls: CallCounter) -> Result<Arc<dyn CloudApi>, String> {
    match choice {
        CloudChoice::Sdk => Ok(Arc::new(Clouds::new(resync, calls)?)),
        #[cfg(feature = "fake-cloud")]
        CloudChoice::Fake => Ok(Arc::new(crate::cloud::FakeCloud::new(Default::default()))),
        #[cfg(not(feature = "fake-cloud"))]
        CloudChoice::Fake => Err("--cloud fake needs a build with the `fake-cloud` feature (test stand only)".into()),
    }
}

fn live_plan(
    target: &Target,
    cloud: CloudChoice,
    operator: image_registry_core::observed::OperatorEnv,
    output: Format,
    now: Option<Timestamp>,
    out: &mut dyn Write,
) -> Result<i32, String> {
    // One pass: nothing is reused, so no resync period applies.
    let cloud = cloud_for(cloud, Duration::ZERO, CallCounter::default())?;
    let plan = runtime()?.block_on(async {
        let client = live::connect(target).await?;
        let operator = live::operator_settings(&client, operator).await;
        live::dry_run(&client, cloud.as_ref(), operator, now).await
    })?;
    let rendered = render::render(&plan, output).map_err(|e| e.to_string())?;
    out.write_all(rendered.as_bytes()).map_err(|e| e.to_string())?;
    Ok(plan.exit_code())
}

fn operate(target: &Target, cloud: CloudChoice, bundle: &Path, settings: RunSettings) -> Result<i32, String> {
    trust_cluster_bundle(bundle);
    let metrics = Arc::new(crate::metrics::Metrics::new());
    let cloud = cloud_for(cloud, settings.looping.resync, metrics.cloud_calls())?;
    let bundle = bundle.to_owned();
    let ended = runtime()?.block_on(async {
        let client = live::connect(target).await?;
        // A changed bundle ends the run like SIGTERM (the lease released); the pod's restart
        // reads it again, as the reference's restart on a changed file does.
        let shutdown = async {
            tokio::select! {
                () = live::signals() => {}
                () = crate::cloud::trust::changed(bundle.clone(), crate::cloud::trust::POLL) => {
                    tracing::info!(file = %bundle.display(), "the cluster CA bundle changed: ending, to be restarted with it");
                }
            }
        };
        live::run(client, cloud, settings, metrics, shutdown).await
    })?;
    Ok(match ended {
        Ended::Shutdown => 0,
        Ended::LostLease => 1,
    })
}

/// Adds the cluster's CA bundle at `path` to the roots every cloud client trusts; a bundle that
/// cannot be used is logged (naming the file) and the system roots alone are trusted, so a bad
/// injection leaves the operator running where the clouds' public CAs suffice.
fn trust_cluster_bundle(path: &Path) {
    match crate::cloud::trust::ClusterTrust::read(path) {
        Ok(trust) if trust.is_empty() => {
            tracing::info!(file = %path.display(), "no cluster CA bundle: the system roots are trusted")
        }
        Ok(trust) => {
            tracing::info!(file = %path.display(), certificates = trust.len(), "the cluster CA bundle is trusted beside the system roots");
            trust.install();
        }
        Err(e) => tracing::warn!("{e}: the system roots alone are trusted"),
    }
}

fn plan(path: &Path, output: Format, now: Option<Timestamp>, out: &mut dyn Write) -> Result<i32, String> {
    let mut fixture = crate::files::fixture(path)?;
    if let Some(now) = now {
        fixture.observed.now = now;
    }
    let plan = reconcile(&fixture.observed);
    let rendered = render::render(&plan, output).map_err(|e| e.to_string())?;
    out.write_all(rendered.as_bytes()).map_err(|e| e.to_string())?;
    Ok(plan.exit_code())
}
