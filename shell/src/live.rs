//! The commands that talk to a cluster: `run` (the in-cluster operator, leader-elected) and
//! the live dry-run `plan --kubeconfig` (reads only, prints the plan).

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use image_registry_core::plan::Plan;
use image_registry_core::reconcile;
use jiff::Timestamp;
use kube::config::{KubeConfigOptions, Kubeconfig};
use tokio::sync::watch;
use tracing::{info, warn};

use crate::cloud::CloudApi;
use crate::controller::{self, Caches, LoopSettings};
use crate::lease::{Elector, LeaseSettings};
use crate::metrics::{self, Metrics};
use crate::observe::{self, Carried};

/// Where the cluster is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A kubeconfig file.
    Kubeconfig(PathBuf),
    /// The pod's service account.
    InCluster,
    /// `KUBECONFIG`, `~/.kube/config` or in-cluster, whichever is there.
    Infer,
}

/// A client for the target.
pub async fn connect(target: &Target) -> Result<kube::Client, String> {
    let config = match target {
        Target::Kubeconfig(path) => {
            let kubeconfig =
                Kubeconfig::read_from(path).map_err(|e| format!("cannot read kubeconfig {}: {e}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .map_err(|e| format!("kubeconfig {}: {e}", path.display()))?
        }
        Target::InCluster => kube::Config::incluster().map_err(|e| format!("in-cluster configuration: {e}"))?,
        Target::Infer => kube::Config::infer().await.map_err(|e| format!("no cluster configuration found: {e}"))?,
    };
    kube::Client::try_from(config).map_err(|e| format!("cannot build a client: {e}"))
}

/// The live dry-run: observe read-only, decide, return the plan. Sends no write.
pub async fn dry_run(client: &kube::Client, cloud: &dyn CloudApi, now: Option<Timestamp>) -> Result<Plan, String> {
    let objects = observe::list_once(client).await?;
    let carried = Carried { operator: observe::operator_env(), ..Carried::default() };
    let mut observed = observe::snapshot(client, objects, cloud, &carried).await?;
    if let Some(now) = now {
        observed.now = now;
    }
    Ok(reconcile(&observed))
}

/// Settings of `run`.
#[derive(Clone, Debug)]
pub struct RunSettings {
    /// Where to serve `/metrics`, `/healthz` and `/readyz` (`None`: not at all).
    pub metrics_address: Option<SocketAddr>,
    /// Leader election.
    pub lease: LeaseSettings,
    /// Loop timing.
    pub looping: LoopSettings,
    /// The operator's settings (images, release version).
    pub operator: image_registry_core::observed::OperatorEnv,
}

/// Why `run` ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended {
    /// Asked to stop; the lease was released.
    Shutdown,
    /// Another instance took the lease, or renewing failed past the deadline.
    LostLease,
}

/// The operator: wait for the lease, watch, run passes until `shutdown` resolves or the lease
/// is lost. `metrics` may be shared with the caller (tests read it).
pub async fn run(
    client: kube::Client,
    cloud: Arc<dyn CloudApi>,
    settings: RunSettings,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()>,
) -> Result<Ended, String> {
    let server = match settings.metrics_address {
        Some(address) => Some(tokio::spawn(metrics::serve(metrics.clone(), metrics::bind(address).await?))),
        None => None,
    };
    let _server = AbortOnDrop(server);
    tokio::pin!(shutdown);
    let elector = Elector::new(client.clone(), settings.lease.clone());
    let retry = settings.lease.retry_period;
    info!(identity = %settings.lease.identity, lease = %settings.lease.name, "waiting for the lease");
    loop {
        match elector.try_acquire_or_renew().await {
            Ok(true) => break,
            Ok(false) => {}
            Err(e) => warn!(error = %e, "cannot reach the lease"),
        }
        tokio::select! {
            () = tokio::time::sleep(retry) => {}
            () = &mut shutdown => return Ok(Ended::Shutdown),
        }
    }
    info!("leading");
    metrics.set_leader(true);
    let caches = Caches::start(&client)?;
    tokio::select! {
        () = caches.ready() => {}
        () = &mut shutdown => {
            metrics.set_leader(false);
            release(&elector).await;
            return Ok(Ended::Shutdown);
        }
    }
    metrics.set_ready(true);
    let (stop_tx, stop_rx) = watch::channel(false);
    let carried = Carried { operator: settings.operator.clone(), ..Carried::default() };
    let passes = controller::run_loop(&client, cloud.as_ref(), &caches, &metrics, &settings.looping, carried, stop_rx);
    tokio::pin!(passes);
    let mut last_renewal = Instant::now();
    let ended = loop {
        tokio::select! {
            () = &mut passes => break Ended::Shutdown,
            () = &mut shutdown => break Ended::Shutdown,
            () = tokio::time::sleep(retry) => {
                match elector.try_acquire_or_renew().await {
                    Ok(true) => last_renewal = Instant::now(),
                    Ok(false) => break Ended::LostLease,
                    Err(e) if last_renewal.elapsed() > settings.lease.renew_deadline => {
                        warn!(error = %e, "cannot renew the lease");
                        break Ended::LostLease;
                    }
                    Err(e) => warn!(error = %e, "lease renewal failed; retrying"),
                }
            }
        }
    };
    // Let the pass in flight finish: never stop between a write and the next observation of it.
    let _ = stop_tx.send(true);
    let _ = tokio::time::timeout(Duration::from_secs(30), &mut passes).await;
    metrics.set_ready(false);
    metrics.set_leader(false);
    if ended == Ended::Shutdown {
        release(&elector).await;
    }
    info!(?ended, "stopped");
    Ok(ended)
}

async fn release(elector: &Elector) {
    if let Err(e) = elector.release().await {
        warn!(error = %e, "cannot release the lease");
    }
}

struct AbortOnDrop(Option<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(task) = &self.0 {
            task.abort();
        }
    }
}

/// Resolves on SIGTERM or SIGINT.
pub async fn signals() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
