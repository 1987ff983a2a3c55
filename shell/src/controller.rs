//! The operator loop: watches fill caches and wake one coalesced queue; each pass observes,
//! reconciles, executes and carries the outcomes and memory into the next. After writes the
//! loop waits until its caches show them, so the next pass never plans from stale state.
//! Failures back off exponentially up to half a minute, and never past the plan's requeue; a
//! quiet plan waits for events or its requeue. An API server outage is logged once, not per
//! watch and retry.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use image_registry_core::observed::{ObjectKey, ObjectStore};
use image_registry_core::outcome::OutcomeResult;
use image_registry_core::reconcile;
use kube::api::{ApiResource, DynamicObject};
use kube::runtime::reflector::store::Writer;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{WatchStreamExt, watcher};
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;
use tracing::{debug, info, warn};

use crate::cloud::CloudApi;
use crate::events::Events;
use crate::execute::{self, Written};
use crate::kinds;
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

/// Tracks which objects a watch has seen at which resourceVersion, so relists and unchanged
/// re-deliveries do not wake the loop (spec 10 §1.7: equal resourceVersions are ignored).
#[derive(Default)]
struct Seen {
    versions: BTreeMap<(String, String), String>,
    relisting: Option<BTreeMap<(String, String), String>>,
}

impl Seen {
    fn key(o: &DynamicObject) -> (String, String) {
        (o.metadata.namespace.clone().unwrap_or_default(), o.metadata.name.clone().unwrap_or_default())
    }

    /// Whether the event changes what the cache holds.
    fn changed(&mut self, event: &watcher::Event<DynamicObject>) -> bool {
        match event {
            watcher::Event::Apply(o) => {
                let version = o.metadata.resource_version.clone().unwrap_or_default();
                self.versions.insert(Self::key(o), version.clone()).as_ref() != Some(&version)
            }
            watcher::Event::Delete(o) => self.versions.remove(&Self::key(o)).is_some(),
            watcher::Event::Init => {
                self.relisting = Some(BTreeMap::new());
                false
            }
            watcher::Event::InitApply(o) => {
                let version = o.metadata.resource_version.clone().unwrap_or_default();
                if let Some(relist) = &mut self.relisting {
                    relist.insert(Self::key(o), version);
                }
                false
            }
            watcher::Event::InitDone => {
                let relist = self.relisting.take().unwrap_or_default();
                let changed = relist != self.versions;
                self.versions = relist;
                changed
            }
        }
    }
}

/// One outage of the API server as every watch sees it, told once: a warning when the first
/// watch fails (the next retry may well fix it), an error once it has lasted past `escalate_after`
/// (the lease's renew deadline: by then it is no blip), a line when every watch is back. The
/// retries in between are debug lines; before, each watch said each retry (305 lines a minute).
struct Outage {
    escalate_after: Duration,
    state: std::sync::Mutex<OutageState>,
}

#[derive(Default)]
struct OutageState {
    /// The failing watches by collection and namespace: a kind is watched in several.
    failing: std::collections::BTreeSet<Watch>,
    since: Option<Instant>,
    escalated: bool,
    failures: u64,
}

/// One watched collection: its plural and namespace (`None`: cluster-wide).
type Watch = (&'static str, Option<&'static str>);

impl Outage {
    fn lock(&self) -> std::sync::MutexGuard<'_, OutageState> {
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn failed(&self, watch: Watch, error: &dyn std::fmt::Display) {
        let (resource, namespace) = watch;
        let mut state = self.lock();
        state.failures += 1;
        state.failing.insert(watch);
        let since = *state.since.get_or_insert_with(Instant::now);
        if state.failures == 1 {
            warn!(resource, ?namespace, %error, "watch failed; retrying (further failures of this outage are logged at debug)");
        } else if !state.escalated && since.elapsed() > self.escalate_after {
            state.escalated = true;
            let failing: Vec<String> = state
                .failing
                .iter()
                .map(|(plural, ns)| format!("{plural}{}", ns.map(|n| format!(" in {n}")).unwrap_or_default()))
                .collect();
            tracing::error!(
                seconds = since.elapsed().as_secs(),
                watches = failing.len(),
                failing = ?failing,
                %error,
                "watches have been failing past the lease's renew deadline"
            );
        } else {
            debug!(resource, ?namespace, %error, "watch failed; retrying");
        }
    }

    fn succeeded(&self, watch: Watch) {
        let mut state = self.lock();
        if state.failing.remove(&watch) && state.failing.is_empty() {
            let seconds = state.since.map_or(0, |s| s.elapsed().as_secs());
            info!(seconds, failures = state.failures, "every watch is back");
            *state = OutageState::default();
        }
    }
}

impl Caches {
    /// Starts one watch per collection; each change wakes the loop. Watch failures are told
    /// once per outage, as an error once they last past `escalate_after`.
    pub fn start(client: &kube::Client, escalate_after: Duration) -> Result<Self, String> {
        let outage = Arc::new(Outage { escalate_after, state: std::sync::Mutex::default() });
        let trigger = Arc::new(Notify::new());
        let mut stores = Vec::new();
        let mut tasks = Vec::new();
        for source in observe::sources()? {
            let api = kinds::api_over(client, source.kind, source.namespace);
            let resource = kinds::resource(source.kind);
            let writer = Writer::<DynamicObject>::new(resource.clone());
            let reader = writer.as_reader();
            let wake = trigger.clone();
            let outage = outage.clone();
            let plural = source.kind.plural;
            let watch: Watch = (plural, source.namespace);
            let stream = reflector::reflector(writer, watcher(api, watcher::Config::default()).default_backoff());
            tasks.push(tokio::spawn(async move {
                let mut seen = Seen::default();
                futures::pin_mut!(stream);
                while let Some(event) = stream.next().await {
                    match event {
                        Ok(event) => {
                            outage.succeeded(watch);
                            if seen.changed(&event) {
                                debug!(resource = plural, "change seen");
                                wake.notify_one();
                            }
                        }
                        Err(e) => outage.failed(watch, &e),
                    }
                }
            }));
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

/// Runs passes until `stop` turns true.
#[allow(clippy::too_many_arguments)]
pub async fn run_loop(
    client: &kube::Client,
    cloud: &dyn CloudApi,
    events: &Events,
    caches: &Caches,
    metrics: &Metrics,
    settings: &LoopSettings,
    mut carried: Carried,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = settings.min_backoff;
    loop {
        if *stop.borrow() {
            return;
        }
        let started = Instant::now();
        let span = tracing::info_span!("pass");
        let _entered = span.enter();
        let result = pass(client, cloud, events, caches, metrics, &mut carried).await.ok();
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
    events: &Events,
    caches: &Caches,
    metrics: &Metrics,
    carried: &mut Carried,
) -> Result<PassResult, String> {
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
    let plan = reconcile(&observed);
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
    let executed = execute::execute(client, cloud, &plan).await;
    metrics.record(&plan, &executed, started.elapsed().as_secs_f64());
    let config = observed.objects.raw(&image_registry_core::ObjectKey::of::<image_registry_core::api::Config>(
        "",
        image_registry_core::names::CLUSTER,
    ));
    events.publish(&image_registry_core::events::of_pass(config, &plan, &executed.outcomes)).await;
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
    fn an_outage_is_told_once_escalated_once_and_its_end_once() {
        let outage = Outage { escalate_after: Duration::ZERO, state: std::sync::Mutex::default() };
        let configs = ("configs", None);
        let (here, there) =
            (("configmaps", Some("openshift-image-registry")), ("configmaps", Some("openshift-config")));
        outage.failed(configs, &"connection refused");
        outage.failed(there, &"forbidden");
        assert_eq!(outage.lock().failing.len(), 2);
        assert!(outage.lock().escalated, "past the deadline (zero here), escalated on the next failure");
        outage.failed(configs, &"connection refused");
        outage.succeeded(configs);
        // The same kind watched elsewhere succeeding does not end the outage of this one.
        outage.succeeded(here);
        assert_eq!(outage.lock().failures, 3, "still out: configmaps in openshift-config");
        outage.succeeded(there);
        let state = outage.lock();
        assert_eq!((state.failures, state.since, state.escalated), (0, None, false));
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
