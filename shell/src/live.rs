//! The commands that talk to a cluster: `run` (the in-cluster operator, leader-elected) and
//! the live dry-run `plan --kubeconfig` (reads only, prints the plan).

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use image_registry_core::observed::{Observed, OperatorEnv};
use image_registry_core::plan::Plan;
use image_registry_core::reconcile;
use jiff::Timestamp;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::Api;
use kube::config::{KubeConfigOptions, Kubeconfig};
use tokio::sync::watch;
use tracing::{info, warn};

use crate::cloud::CloudApi;
use crate::controller::{self, Caches, LoopSettings};
use crate::events::Events;
use crate::lease::{Elector, Fence, LeaseSettings};
use crate::metrics::{self, Metrics};
use crate::observe::{self, Carried};
use crate::watches::History;

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
    kube::Client::try_from(with_user_agent(config)).map_err(|e| format!("cannot build a client: {e}"))
}

/// The user agent every request carries, so audit logs and API priority name the operator.
pub const USER_AGENT: &str = concat!("cluster-image-registry-operator/", env!("CARGO_PKG_VERSION"));

fn with_user_agent(mut config: kube::Config) -> kube::Config {
    config.headers.push((http::header::USER_AGENT, http::HeaderValue::from_static(USER_AGENT)));
    config
}

/// The operator's settings for a dry-run from outside the cluster: the environment where it
/// sets them, else what the running operator's Deployment gives its container (so a laptop's
/// dry-run plans with the images the cluster's operator uses, not with empty ones).
pub async fn operator_settings(client: &kube::Client, mut env: OperatorEnv) -> OperatorEnv {
    let api: Api<Deployment> = Api::namespaced(client.clone(), image_registry_core::names::NAMESPACE);
    let Ok(Some(deployment)) = api.get_opt(OPERATOR_DEPLOYMENT).await else { return env };
    let vars: Vec<_> = deployment
        .spec
        .and_then(|s| s.template.spec)
        .and_then(|s| s.containers.into_iter().next())
        .and_then(|c| c.env)
        .unwrap_or_default();
    let lookup = |name: &str| vars.iter().find(|v| v.name == name).and_then(|v| v.value.clone()).unwrap_or_default();
    for (field, name) in [
        (&mut env.release_version, "RELEASE_VERSION"),
        (&mut env.image, "IMAGE"),
        (&mut env.image_pruner, "IMAGE_PRUNER"),
        (&mut env.operator_image, "OPERATOR_IMAGE"),
    ] {
        if field.is_empty() {
            *field = lookup(name);
        }
    }
    env
}

/// The operator's own Deployment (manifests/07-operator.yaml).
pub const OPERATOR_DEPLOYMENT: &str = "cluster-image-registry-operator";

/// The live dry-run: observe read-only, decide, return the plan. Sends no write.
pub async fn dry_run(
    client: &kube::Client,
    cloud: &dyn CloudApi,
    operator: OperatorEnv,
    now: Option<Timestamp>,
) -> Result<Plan, String> {
    Ok(reconcile(&observe_once(client, cloud, operator, now).await?))
}

/// One read-only observation: every watched kind listed once, the direct reads, the clouds.
pub async fn observe_once(
    client: &kube::Client,
    cloud: &dyn CloudApi,
    operator: OperatorEnv,
    now: Option<Timestamp>,
) -> Result<Observed, String> {
    let objects = observe::list_once(client).await?;
    let carried = Carried { operator, ..Carried::default() };
    let mut observed = observe::snapshot(client, objects, cloud, &carried).await?;
    if let Some(now) = now {
        observed.now = now;
    }
    Ok(observed)
}

/// `snapshot`: the cluster as a fixture with every secret value replaced by a placeholder
/// (read-only), and the ids of the steps its plan would differ in from the cluster's (empty
/// when the plans agree).
pub async fn snapshot(
    client: &kube::Client,
    cloud: &dyn CloudApi,
    operator: OperatorEnv,
    now: Option<Timestamp>,
) -> Result<(String, Vec<String>), String> {
    let observed = observe_once(client, cloud, operator, now).await?;
    let (redacted, differ) = image_registry_core::snapshot::redact(&observed);
    let description = format!(
        "A snapshot of a cluster taken at {} by cluster-image-registry-operator snapshot: secret values are placeholders",
        redacted.now
    );
    Ok((image_registry_core::fixture::render(&description, &redacted)?, differ))
}

/// Settings of `run`.
#[derive(Clone, Debug)]
pub struct RunSettings {
    /// Where to serve `/metrics`, `/healthz` and `/readyz` (`None`: not at all).
    pub metrics_address: Option<SocketAddr>,
    /// Serve them over TLS with this certificate (`None`: plain HTTP).
    pub tls: Option<crate::tls::TlsFiles>,
    /// Leader election.
    pub lease: LeaseSettings,
    /// Loop timing.
    pub looping: LoopSettings,
    /// The operator's settings (images, release version).
    pub operator: OperatorEnv,
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
    let tls = match &settings.tls {
        Some(files) => Some(Arc::new(crate::tls::Reloading::new(files.clone())?)),
        None => None,
    };
    let server = match settings.metrics_address {
        Some(address) => Some(tokio::spawn(metrics::serve(metrics.clone(), metrics::bind(address).await?, tls))),
        None => None,
    };
    let _server = AbortOnDrop(server);
    tokio::pin!(shutdown);
    let history = Arc::new(History::default());
    let elector = Elector::new(client.clone(), settings.lease.clone()).telling(history.clone());
    let fence = Fence::new(settings.lease.renew_deadline);
    let retry = settings.lease.retry_period;
    info!(identity = %settings.lease.identity, lease = %settings.lease.name, "waiting for the lease");
    loop {
        // Every call races the shutdown: an unreachable API server must not hold SIGTERM.
        let began = Instant::now();
        let attempt = tokio::select! {
            attempt = elector.try_acquire_or_renew() => attempt,
            () = &mut shutdown => return Ok(Ended::Shutdown),
        };
        match attempt {
            Ok(true) => {
                fence.renewed(began);
                break;
            }
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
    let events = Events::new(client.clone(), &settings.lease.identity);
    events.leading(&settings.lease.identity).await;
    let caches = Caches::start(&client, settings.lease.renew_deadline, history)?;
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
    let looping = controller::Looping { events: &events, caches: &caches, metrics: &metrics, fence: &fence };
    let passes = controller::run_loop(&client, cloud.as_ref(), &looping, &settings.looping, carried, stop_rx);
    tokio::pin!(passes);
    let ended = loop {
        tokio::select! {
            () = &mut passes => break Ended::Shutdown,
            () = &mut shutdown => break Ended::Shutdown,
            () = tokio::time::sleep(retry) => {}
            // A write found the fence closed: re-check the lease now, not at the next retry.
            () = fence.recheck_wanted() => {}
        }
        let began = Instant::now();
        let attempt = tokio::select! {
            attempt = elector.try_acquire_or_renew() => attempt,
            () = &mut shutdown => break Ended::Shutdown,
        };
        match attempt {
            Ok(true) => fence.renewed(began),
            Ok(false) => break Ended::LostLease,
            // The fence closed at the deadline already; past it the lease may be another's.
            Err(e) if !fence.open() => {
                warn!(error = %e, "cannot renew the lease");
                break Ended::LostLease;
            }
            Err(e) => warn!(error = %e, "lease renewal failed; retrying"),
        }
    };
    if ended == Ended::Shutdown {
        // Still the leader: let the pass in flight finish rather than stop between its writes.
        let _ = stop_tx.send(true);
        if tokio::time::timeout(PASS_GRACE, &mut passes).await.is_err() {
            warn!(grace = ?PASS_GRACE, "the pass in flight did not finish in time; stopping anyway");
        }
    }
    // After losing the lease another instance may be writing: the pass is dropped at once, as a
    // crash would end it (the core persists generated names before creating anything).
    metrics.set_ready(false);
    metrics.set_leader(false);
    if ended == Ended::Shutdown {
        release(&elector).await;
    }
    info!(?ended, "stopped");
    Ok(ended)
}

/// How long a SIGTERM waits for the pass in flight, and then for the lease release: together
/// well under the pod's 30-second `terminationGracePeriodSeconds`, also when the API server is
/// gone and every call would hang until its own timeout.
pub const PASS_GRACE: Duration = Duration::from_secs(10);
/// See [`PASS_GRACE`].
pub const RELEASE_GRACE: Duration = Duration::from_secs(3);

/// Releases the lease, best-effort: a standby otherwise takes over after the lease duration.
async fn release(elector: &Elector) {
    match tokio::time::timeout(RELEASE_GRACE, elector.release()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => warn!(error = %e, "cannot release the lease"),
        Err(_) => warn!("releasing the lease timed out"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_name_the_operator_and_its_version() {
        let config = with_user_agent(kube::Config::new("https://127.0.0.1:6443".parse().unwrap()));
        let agent = config.headers.iter().find(|(name, _)| name == http::header::USER_AGENT).map(|(_, v)| v.clone());
        assert_eq!(
            agent.unwrap().to_str().unwrap(),
            format!("cluster-image-registry-operator/{}", env!("CARGO_PKG_VERSION"))
        );
    }
}
