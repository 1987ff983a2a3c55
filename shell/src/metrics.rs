//! Prometheus metrics (passes, actions by kind and outcome, pass duration, leadership) and the
//! small HTTP server for `/metrics`, `/healthz` and `/readyz`.

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
use image_registry_core::outcome::OutcomeResult;
use image_registry_core::plan::Plan;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;

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

/// The operator's metrics, and whether it is ready.
pub struct Metrics {
    registry: Registry,
    passes: Counter,
    actions: Family<ActionLabels, Counter>,
    duration: Histogram,
    leader: Gauge,
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
        let mut registry = Registry::with_prefix("image_registry_operator");
        let passes = Counter::default();
        let actions = Family::<ActionLabels, Counter>::default();
        let duration = Histogram::new(exponential_buckets(0.005, 2.0, 14));
        let leader = Gauge::default();
        registry.register("reconcile_passes", "Reconcile passes run", passes.clone());
        registry.register("actions", "Executed actions by kind and outcome", actions.clone());
        registry.register("pass_duration_seconds", "Time one pass takes: observe, decide, execute", duration.clone());
        registry.register("leader", "Whether this instance holds the leader lease (1) or not (0)", leader.clone());
        Self { registry, passes, actions, duration, leader, ready: AtomicBool::new(false) }
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

/// Serves `/metrics`, `/healthz` and `/readyz` on `listener` until the task is dropped.
pub async fn serve(metrics: Arc<Metrics>, listener: TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request: Request<hyper::body::Incoming>| {
                let metrics = metrics.clone();
                async move { Ok::<_, Infallible>(metrics.answer(request.uri().path())) }
            });
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

/// Binds the metrics address.
pub async fn bind(address: SocketAddr) -> Result<TcpListener, String> {
    TcpListener::bind(address).await.map_err(|e| format!("cannot listen on {address}: {e}"))
}
