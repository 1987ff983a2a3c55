//! The operator loop: watches fill caches and wake one coalesced queue; each pass observes,
//! reconciles, executes and carries the outcomes and memory into the next. After writes the
//! loop waits until its caches show them, so the next pass never plans from stale state.
//! Failures back off exponentially up to half a minute, and never past the plan's requeue; a
//! quiet plan waits for events or its requeue. The watches themselves are in `watches`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use image_registry_core::observed::{ObjectKey, ObjectStore};
use image_registry_core::outcome::OutcomeResult;
use image_registry_core::reconcile::Reconciler;
use kube::api::{ApiResource, DynamicObject};
use kube::runtime::reflector::store::Writer;
use kube::runtime::reflector::{ObjectRef, Store};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use crate::watches::{self, History, Outage};

use crate::cloud::CloudApi;
use crate::events::Events;
use crate::execute::{self, Written};
use crate::kinds;
use crate::lease::Fence;
use crate::metrics::Metrics;
use crate::observe::{self, Carried, Source};

/// The reflector caches of every watched collection.
pub struct Caches {
    stores: Vec<(Source, ApiResource, Store<DynamicObject>)>,
    tasks: Vec<JoinHandle<()>>,
    /// Woken by every change a watch sees: one permit, so bursts coalesce into one pass.
    trigger: Arc<Notify>,
}

impl Drop for Caches {
    fn drop(&mut self) {
        self.tasks.iter().for_each(JoinHandle::abort);
    }
}

impl Caches {
    /// Starts one watch per collection; each change wakes the loop. Watch failures are told
    /// once per outage, as an error once they last past `escalate_after`. `history` is shared
    /// with whatever else can tell that the server's history moved backwards (the lease).
    pub fn start(client: &kube::Client, escalate_after: Duration, history: Arc<History>) -> Result<Self, String> {
        let outage = Arc::new(Outage::new(escalate_after));
        let trigger = Arc::new(Notify::new());
        let mut stores = Vec::new();
        let mut tasks = Vec::new();
        for source in observe::sources()? {
            let api = kinds::api_over(client, source.kind, source.namespace);
            let resource = kinds::resource(source.kind);
            let writer = Writer::<DynamicObject>::new(resource.clone());
            let reader = writer.as_reader();
            let shared = watches::Shared { wake: trigger.clone(), outage: outage.clone(), history: history.clone() };
            let collection = (source.kind.plural, source.namespace);
            tasks.push(tokio::spawn(watches::run(api, writer, collection, shared)));
            stores.push((source, resource, reader));
        }
        Ok(Self { stores, tasks, trigger })
    }

    /// Waits until every cache has listed once.
    pub async fn ready(&self) {
        for (_, _, store) in &self.stores {
            let _ = store.wait_until_ready().await;
        }
    }

    /// Every cached object.
    pub fn objects(&self) -> Result<ObjectStore, String> {
        let mut store = ObjectStore::default();
        for (_, resource, cache) in &self.stores {
            let values: Result<Vec<_>, String> = cache.state().iter().map(|o| observe::to_value(o, resource)).collect();
            observe::insert_all(&mut store, values?)?;
        }
        Ok(store)
    }

    /// The cached resourceVersion of `key` (`Some(None)`: not cached); `None` when no cache
    /// holds its kind.
    fn version(&self, key: &ObjectKey) -> Option<Option<String>> {
        let (_, resource, cache) = self.stores.iter().find(|(s, _, _)| {
            s.kind.group == key.group && s.kind.kind == key.kind && s.namespace.is_none_or(|ns| ns == key.namespace)
        })?;
        let mut reference = ObjectRef::<DynamicObject>::new_with(&key.name, resource.clone());
        if !key.namespace.is_empty() {
            reference = reference.within(&key.namespace);
        }
        Some(cache.get(&reference).and_then(|o| o.metadata.resource_version.clone()))
    }

    /// Whether the caches show `write` (or something newer).
    fn shows(&self, write: &Written) -> bool {
        let Some(cached) = self.version(&write.key) else { return true };
        match (&write.resource_version, cached) {
            (None, None) => true,
            (None, Some(_)) => false,
            // A deleted object may leave the cache before its last update is seen.
            (Some(_), None) => write.deleted,
            (Some(want), Some(have)) => match (want.parse::<u64>(), have.parse::<u64>()) {
                (Ok(want), Ok(have)) => have >= want,
                _ => *want == have,
            },
        }
    }

    /// Waits (at most `limit`) until the caches show every write.
    pub async fn catch_up(&self, written: &[Written], limit: Duration) {
        let start = Instant::now();
        while !written.iter().all(|w| self.shows(w)) {
            if start.elapsed() > limit {
                debug!("caches did not show every write in time");
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Timing of the loop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoopSettings {
    /// A pass at least this often, even without events (the reference's informer resync).
    pub resync: Duration,
    /// First retry delay after a failed pass; doubles up to `max_backoff`.
    pub min_backoff: Duration,
    /// Longest retry delay: what a cause fixed outside anything the operator watches (RBAC, an
    /// admission policy, a cloud permission) waits at most to be picked up. Short enough for
    /// that, long enough that a failing pass costs the API server a few requests a minute.
    pub max_backoff: Duration,
}

impl Default for LoopSettings {
    fn default() -> Self {
        Self {
            resync: Duration::from_secs(600),
            min_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// What the loop runs with besides the clients: where events go, the caches it reads, the
/// metrics it keeps and the lease's fence on its writes.
pub struct Looping<'a> {
    /// Events about the Config.
    pub events: &'a Events,
    /// The watches' caches.
    pub caches: &'a Caches,
    /// The operator's metrics.
    pub metrics: &'a Metrics,
    /// No write once the lease may be another's.
    pub fence: &'a Fence,
}

/// Runs passes until `stop` turns true.
pub async fn run_loop(
    client: &kube::Client,
    cloud: &dyn CloudApi,
    looping: &Looping<'_>,
    settings: &LoopSettings,
    mut carried: Carried,
    mut stop: watch::Receiver<bool>,
) {
    let caches = looping.caches;
    // One reconciler for the life of the loop: at a fixpoint it encodes nothing twice.
    let reconciler = Reconciler::new();
    let mut backoff = settings.min_backoff;
    loop {
        if *stop.borrow() {
            return;
        }
        let started = Instant::now();
        let span = tracing::info_span!("pass");
        let _entered = span.enter();
        let result = pass(client, cloud, &reconciler, looping, &mut carried).await.ok();
        let wait;
        (wait, backoff) = next_wait(result.as_ref(), backoff, settings);
        debug!(elapsed_ms = started.elapsed().as_millis(), next_in_ms = wait.as_millis(), "pass done");
        drop(_entered);
        if wait.is_zero() {
            continue;
        }
        tokio::select! {
            () = caches.trigger.notified() => {}
            () = tokio::time::sleep(wait) => {}
            _ = stop.changed() => {}
        }
    }
}

struct PassResult {
    failed: bool,
    changed: bool,
    requeue: Option<Duration>,
}

/// How long to wait after a pass (`None`: it could not even observe), and the backoff the next
/// failure will wait. A pass that changed something is followed at once; a quiet one waits for
/// events, its requeue or the resync; a failing one backs off exponentially up to
/// `max_backoff`, but never past its requeue (a Degraded condition due after its inertia).
fn next_wait(result: Option<&PassResult>, backoff: Duration, settings: &LoopSettings) -> (Duration, Duration) {
    let doubled = (backoff * 2).min(settings.max_backoff);
    match result {
        Some(PassResult { failed: false, changed, requeue }) => {
            let wait =
                if *changed { Duration::ZERO } else { requeue.map_or(settings.resync, |r| r.min(settings.resync)) };
            (wait, settings.min_backoff)
        }
        Some(PassResult { failed: true, requeue, .. }) => (requeue.map_or(backoff, |r| r.min(backoff)), doubled),
        None => (backoff, doubled),
    }
}

async fn pass(
    client: &kube::Client,
    cloud: &dyn CloudApi,
    reconciler: &Reconciler,
    looping: &Looping<'_>,
    carried: &mut Carried,
) -> Result<PassResult, String> {
    let Looping { events, caches, metrics, fence } = *looping;
    let started = Instant::now();
    let objects = caches.objects()?;
    let observed = match observe::snapshot(client, objects, cloud, carried).await {
        Ok(observed) => observed,
        Err(e) => {
            warn!(error = %e, "cannot observe");
            return Err(e);
        }
    };
    metrics.observe(&observed);
    let plan = reconciler.reconcile(&observed);
    // The storage-safety rules (core/src/safety.rs), checked once more before anything runs: a
    // plan that would delete storage it must not is refused whole, and says why.
    if let Err(violations) = image_registry_core::safety::check(&observed, &plan) {
        for violation in &violations {
            tracing::error!(%violation, "refusing to execute a plan that breaks a storage-safety rule");
        }
        return Ok(PassResult { failed: true, changed: false, requeue: None });
    }
    for error in &plan.errors {
        warn!(controller = %error.controller, message = %error.message, "pass error");
    }
    if plan.has_changes() {
        info!(actions = plan.steps.len(), "executing plan");
    }
    let executed = execute::execute(client, cloud, &plan, fence).await;
    metrics.record(&plan, &executed, started.elapsed().as_secs_f64());
    if executed.fenced {
        // The lease is being re-checked; this pass's memory and outcomes are not carried (the
        // steps it did not run were not refused), so the next pass plans them again.
        warn!("the lease was not renewed within its deadline; stopped before the next write");
        return Ok(PassResult { failed: true, changed: false, requeue: None });
    }
    let config = observed.objects.raw(&image_registry_core::ObjectKey::of::<image_registry_core::api::Config>(
        "",
        image_registry_core::names::CLUSTER,
    ));
    if fence.open() {
        events.publish(&image_registry_core::events::of_pass(config, &plan, &executed.outcomes)).await;
    }
    let failed =
        !plan.errors.is_empty() || executed.outcomes.iter().any(|o| matches!(o.result, OutcomeResult::Failed { .. }));
    caches.catch_up(&executed.written, Duration::from_secs(5)).await;
    carried.memory = plan.memory.clone();
    carried.outcomes = executed.outcomes;
    Ok(PassResult { failed, changed: plan.has_changes(), requeue: plan.requeue_after_seconds.map(Duration::from_secs) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failing(requeue: Option<u64>) -> PassResult {
        PassResult { failed: true, changed: true, requeue: requeue.map(Duration::from_secs) }
    }

    /// A write the server refuses: the core asks for a pass when Degraded is due (300 s after
    /// the first refusal, plus one); the passes in between back off to 30 s and no further.
    #[test]
    fn a_refused_write_degrades_at_the_inertia_and_a_fixed_cause_is_retried_within_30_s() {
        let settings = LoopSettings::default();
        let (mut now, mut backoff) = (Duration::ZERO, settings.min_backoff);
        let mut passes = vec![now];
        while now < Duration::from_secs(300) {
            let left = Duration::from_secs(301).saturating_sub(now);
            let wait;
            (wait, backoff) = next_wait(Some(&failing(Some(left.as_secs()))), backoff, &settings);
            assert!(wait <= Duration::from_secs(30), "waited {wait:?}");
            now += wait;
            passes.push(now);
        }
        let degraded_at = *passes.last().unwrap_or(&now);
        assert!(degraded_at >= Duration::from_secs(300) && degraded_at <= Duration::from_secs(302), "{degraded_at:?}");
        // No hot loop: after the first minute, at most two passes a minute.
        let later = passes.iter().filter(|p| **p > Duration::from_secs(60) && **p <= Duration::from_secs(240)).count();
        assert!(later <= 7, "{later} passes between 1 and 4 minutes: {passes:?}");
        // Once the cause is fixed (a pass succeeds), the next failure starts from the minimum again.
        let quiet = PassResult { failed: false, changed: false, requeue: None };
        assert_eq!(next_wait(Some(&quiet), backoff, &settings), (settings.resync, settings.min_backoff));
    }

    #[test]
    fn a_pass_that_cannot_observe_backs_off_and_a_changing_pass_goes_on_at_once() {
        let settings = LoopSettings::default();
        assert_eq!(
            next_wait(None, Duration::from_secs(20), &settings),
            (Duration::from_secs(20), Duration::from_secs(30))
        );
        let changed = PassResult { failed: false, changed: true, requeue: Some(Duration::from_secs(5)) };
        assert_eq!(next_wait(Some(&changed), Duration::from_secs(8), &settings).0, Duration::ZERO);
        let requeue = PassResult { failed: false, changed: false, requeue: Some(Duration::from_secs(5)) };
        assert_eq!(next_wait(Some(&requeue), settings.min_backoff, &settings).0, Duration::from_secs(5));
    }
}
