//! Prometheus metrics and the small HTTP server for `/metrics`, `/healthz` and `/readyz`: the
//! loop's own (passes, actions by kind and outcome, pass duration, leadership) and the
//! reference's families that dashboards and alerts use (spec 40 §7.1: the pruner's install
//! status, the storage type).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use image_registry_core::action::{Action, KubeAction};
use image_registry_core::api::{Config, StorageKind};
use image_registry_core::names::{CLUSTER, NAMESPACE};
use image_registry_core::observed::Observed;
use image_registry_core::outcome::OutcomeResult;
use image_registry_core::plan::Plan;
use k8s_openapi::api::batch::v1::CronJob;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;

use crate::cloud::calls::CallCounter;
use crate::execute::Executed;

/// Labels of an executed action: its kind and how it ended (bounded sets).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ActionLabels {
    /// `create`, `apply`, `apply_status`, `patch`, `add_finalizer`, `remove_finalizer`,
    /// `delete` or `cloud`.
    pub kind: String,
    /// `succeeded`, `skipped` or the error class.
    pub outcome: String,
}

/// The `storage` label of `image_registry_storage_type`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StorageLabels {
    /// `EmptyDir`, `S3`, `Swift`, `GCS`, `IBMCOS`, `PVC` or `Azure`.
    pub storage: String,
}

/// The operator's metrics, and whether it is ready.
pub struct Metrics {
    registry: Registry,
    passes: Counter,
    actions: Family<ActionLabels, Counter>,
    duration: Histogram,
    leader: Gauge,
    pruner_install_status: Gauge,
    storage_type: Family<StorageLabels, Gauge>,
    cloud_calls: CallCounter,
    ready: AtomicBool,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn kind_of(action: &Action) -> &'static str {
    match action {
        Action::Cloud(_) => "cloud",
        Action::Kube(k) => match k {
            KubeAction::Create { .. } => "create",
            KubeAction::Apply { .. } => "apply",
            KubeAction::ApplyStatus { .. } => "apply_status",
            KubeAction::Patch { .. } => "patch",
            KubeAction::AddFinalizer { .. } => "add_finalizer",
            KubeAction::RemoveFinalizer { .. } => "remove_finalizer",
            KubeAction::Delete { .. } => "delete",
        },
    }
}

impl Metrics {
    /// Registers every metric.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let passes = Counter::default();
        let actions = Family::<ActionLabels, Counter>::default();
        let duration = Histogram::new(exponential_buckets(0.005, 2.0, 14));
        let leader = Gauge::default();
        let pruner_install_status = Gauge::default();
        let storage_type = Family::<StorageLabels, Gauge>::default();
        let cloud_calls = CallCounter::default();
        registry.register("image_registry_operator_reconcile_passes", "Reconcile passes run", passes.clone());
        registry.register("image_registry_operator_actions", "Executed actions by kind and outcome", actions.clone());
        registry.register(
            "image_registry_operator_pass_duration_seconds",
            "Time one pass takes: observe, decide, execute",
            duration.clone(),
        );
        registry.register(
            "image_registry_operator_leader",
            "Whether this instance holds the leader lease (1) or not (0)",
            leader.clone(),
        );
        registry.register(
            "image_registry_operator_image_pruner_install_status",
            "The image pruner CronJob: 0 = not installed, 1 = suspended, 2 = enabled",
            pruner_install_status.clone(),
        );
        registry.register(
            "image_registry_storage_type",
            "1 for each storage backend the registry has been configured with since the operator started",
            storage_type.clone(),
        );
        registry.register(
            "image_registry_operator_cloud_calls",
            "Calls to cloud storage APIs by service, call and outcome",
            cloud_calls.family(),
        );
        registry.register(
            "image_registry_operator_azure_key_cache_requests",
            "Requests to the Azure storage account key cache by result (hit or miss)",
            cloud_calls.key_cache_family(),
        );
        Self {
            registry,
            passes,
            actions,
            duration,
            leader,
            pruner_install_status,
            storage_type,
            cloud_calls,
            ready: AtomicBool::new(false),
        }
    }

    /// The counter the cloud clients count their calls in.
    pub fn cloud_calls(&self) -> CallCounter {
        self.cloud_calls.clone()
    }

    /// Records one pass.
    pub fn record(&self, plan: &Plan, executed: &Executed, seconds: f64) {
        self.passes.inc();
        self.duration.observe(seconds);
        for (step, outcome) in plan.steps.iter().zip(&executed.outcomes) {
            let outcome = match &outcome.result {
                OutcomeResult::Succeeded => "succeeded".to_owned(),
                OutcomeResult::Skipped => "skipped".to_owned(),
                OutcomeResult::Failed { class, .. } => {
                    serde_json::to_value(class).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
                }
            };
            self.actions.get_or_create(&ActionLabels { kind: kind_of(&step.action).to_owned(), outcome }).inc();
        }
    }

    /// Updates the cluster-derived gauges from a pass's snapshot.
    pub fn observe(&self, observed: &Observed) {
        let cronjob = observed.objects.get::<CronJob>(NAMESPACE, "image-pruner").ok().flatten();
        let status = match cronjob.and_then(|c| c.spec).map(|s| s.suspend.unwrap_or(false)) {
            None => 0,
            Some(true) => 1,
            Some(false) => 2,
        };
        self.pruner_install_status.set(status);
        if let Ok(Some(config)) = observed.objects.get::<Config>("", CLUSTER)
            && let [kind] = config.spec.storage.kinds().as_slice()
        {
            let storage = match kind {
                StorageKind::EmptyDir => "EmptyDir",
                StorageKind::S3 => "S3",
                StorageKind::Swift => "Swift",
                StorageKind::Gcs => "GCS",
                StorageKind::IbmCos => "IBMCOS",
                StorageKind::Pvc => "PVC",
                StorageKind::Azure => "Azure",
            };
            // Never reset to 0, as in the reference.
            self.storage_type.get_or_create(&StorageLabels { storage: storage.to_owned() }).set(1);
        }
    }

    /// Sets the leadership gauge.
    pub fn set_leader(&self, leading: bool) {
        self.leader.set(i64::from(leading));
    }

    /// Marks the operator ready (caches synced) or not.
    pub fn set_ready(&self, ready: bool) {
        self.ready.store(ready, Ordering::Relaxed);
    }

    /// The value of one sample (`name` with no labels), as `/metrics` shows it.
    pub fn sample(&self, name: &str) -> Option<f64> {
        self.encode()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
    }

    /// Prometheus text format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }

    fn answer(&self, path: &str) -> Response<Full<Bytes>> {
        let (code, body) = match path {
            "/metrics" => (StatusCode::OK, self.encode()),
            "/healthz" => (StatusCode::OK, "ok\n".to_owned()),
            "/readyz" if self.ready.load(Ordering::Relaxed) => (StatusCode::OK, "ok\n".to_owned()),
            "/readyz" => (StatusCode::SERVICE_UNAVAILABLE, "caches not synced\n".to_owned()),
            _ => (StatusCode::NOT_FOUND, "not found\n".to_owned()),
        };
        let mut response = Response::new(Full::new(Bytes::from(body)));
        *response.status_mut() = code;
        response
    }
}

/// Serves `/metrics`, `/healthz` and `/readyz` on `listener` (over TLS when `tls` is given)
/// until the task is dropped.
pub async fn serve(metrics: Arc<Metrics>, listener: TcpListener, tls: Option<Arc<crate::tls::Reloading>>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let metrics = metrics.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                let metrics = metrics.clone();
                async move { Ok::<_, Infallible>(metrics.answer(request.uri().path())) }
            });
            match tls {
                Some(tls) => {
                    if let Ok(stream) = tls.acceptor().accept(stream).await {
                        let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                    }
                }
                None => {
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                }
            }
        });
    }
}

/// Binds the metrics address.
pub async fn bind(address: SocketAddr) -> Result<TcpListener, String> {
    TcpListener::bind(address).await.map_err(|e| format!("cannot listen on {address}: {e}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn pruner_and_storage_gauges_follow_the_snapshot() {
        let text =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/aws-converged.yaml")).unwrap();
        let mut observed = image_registry_core::fixture::parse("aws-converged", &text).unwrap().observed;
        let metrics = Metrics::new();
        assert_eq!(metrics.sample("image_registry_operator_image_pruner_install_status"), Some(0.0));
        metrics.observe(&observed);
        assert_eq!(metrics.sample("image_registry_operator_image_pruner_install_status"), Some(2.0));
        assert!(metrics.encode().contains("image_registry_storage_type{storage=\"S3\"} 1"));
        let key = image_registry_core::ObjectKey::of::<CronJob>(NAMESPACE, "image-pruner");
        let mut cronjob = observed.objects.raw(&key).unwrap().clone();
        cronjob["spec"]["suspend"] = serde_json::json!(true);
        observed.objects.insert_at(key.clone(), cronjob);
        metrics.observe(&observed);
        assert_eq!(metrics.sample("image_registry_operator_image_pruner_install_status"), Some(1.0));
        observed.objects.remove(&key);
        metrics.observe(&observed);
        assert_eq!(metrics.sample("image_registry_operator_image_pruner_install_status"), Some(0.0));
    }
}
