//! One watch per collection, filling a reflector cache and waking the loop on real changes.
//! A watch starts over with a fresh list whenever the server's history is not the one its
//! cache was built from: a resume refused as "Too large resource version" (the server has not
//! reached it: an etcd restore from an older backup), 410 Gone (the watcher relists itself),
//! an object listed or streamed at an older resourceVersion than the cache holds, or a sign
//! from elsewhere ([`History::moved_backwards`]: the lease vanished). One such sign relists
//! every watch once, so the next pass plans from the new truth and not from a stale cache.
//! An API server outage is logged once, not per watch and retry.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::api::{Api, DynamicObject};
use kube::runtime::reflector::store::Writer;
use kube::runtime::{WatchStreamExt, watcher};
use tokio::sync::{Notify, watch};
use tracing::{debug, info, warn};

/// Where the server's history stands, shared by every watch: a generation that moves on each
/// time the history is found to have moved backwards, so every watch relists once.
#[derive(Debug)]
pub struct History {
    generation: watch::Sender<u64>,
}

impl Default for History {
    fn default() -> Self {
        Self { generation: watch::channel(0).0 }
    }
}

impl History {
    /// The server's history moved backwards (found by `what`), as seen by a list or watch that
    /// began at `generation`: every watch relists, unless one already did since it began.
    pub fn moved_backwards(&self, generation: u64, what: &str) {
        let bumped = self.generation.send_if_modified(|current| {
            if *current != generation {
                return false;
            }
            *current += 1;
            true
        });
        if bumped {
            warn!(found_by = what, "the API server's history moved backwards; relisting every watch");
        }
    }

    /// The current generation.
    pub fn generation(&self) -> u64 {
        *self.generation.borrow()
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        self.generation.subscribe()
    }
}

/// What an event means for the cache and the loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Change {
    /// Nothing the loop needs to hear about.
    None,
    /// The cache holds something new: wake the loop.
    Changed,
    /// An object came back at an older resourceVersion than the cache held.
    Backwards,
}

/// Tracks which objects a watch has seen at which resourceVersion, so relists and unchanged
/// re-deliveries do not wake the loop (spec 10 §1.7: equal resourceVersions are ignored) and
/// a history that moved backwards is noticed.
#[derive(Default)]
struct Seen {
    versions: BTreeMap<(String, String), String>,
    relisting: Option<BTreeMap<(String, String), String>>,
}

/// Whether `new` is an older resourceVersion than `old` (both numeric, as etcd's revisions are;
/// opaque ones are never compared).
pub(crate) fn older(new: &str, old: &str) -> bool {
    matches!((new.parse::<u64>(), old.parse::<u64>()), (Ok(new), Ok(old)) if new < old)
}

impl Seen {
    fn key(o: &DynamicObject) -> (String, String) {
        (o.metadata.namespace.clone().unwrap_or_default(), o.metadata.name.clone().unwrap_or_default())
    }

    /// What the event changes.
    fn changed(&mut self, event: &watcher::Event<DynamicObject>) -> Change {
        match event {
            watcher::Event::Apply(o) => {
                let version = o.metadata.resource_version.clone().unwrap_or_default();
                match self.versions.insert(Self::key(o), version.clone()) {
                    Some(old) if older(&version, &old) => Change::Backwards,
                    Some(old) if old == version => Change::None,
                    _ => Change::Changed,
                }
            }
            watcher::Event::Delete(o) => {
                if self.versions.remove(&Self::key(o)).is_some() {
                    Change::Changed
                } else {
                    Change::None
                }
            }
            watcher::Event::Init => {
                self.relisting = Some(BTreeMap::new());
                Change::None
            }
            watcher::Event::InitApply(o) => {
                let version = o.metadata.resource_version.clone().unwrap_or_default();
                if let Some(relist) = &mut self.relisting {
                    relist.insert(Self::key(o), version);
                }
                Change::None
            }
            watcher::Event::InitDone => {
                let relist = self.relisting.take().unwrap_or_default();
                let backwards =
                    relist.iter().any(|(key, new)| self.versions.get(key).is_some_and(|old| older(new, old)));
                let changed = relist != self.versions;
                self.versions = relist;
                if backwards {
                    Change::Backwards
                } else if changed {
                    Change::Changed
                } else {
                    Change::None
                }
            }
        }
    }

    /// Forgets what was seen: the next list is compared with nothing (a relist every watch
    /// makes because another found the history moved must not find it again).
    fn forget(&mut self) {
        self.versions.clear();
        self.relisting = None;
    }
}

/// Whether a watch error says the server has not reached the resourceVersion the watch resumed
/// from (k8s.io/apimachinery `IsTooLargeResourceVersion`: the cause, or the message of servers
/// that send none). kube-rs' watcher would resume from it again and again; only a relist helps.
fn too_large(error: &watcher::Error) -> bool {
    let status = match error {
        watcher::Error::WatchError(status) => status.as_ref(),
        watcher::Error::WatchStartFailed(kube::Error::Api(status))
        | watcher::Error::InitialListFailed(kube::Error::Api(status))
        | watcher::Error::WatchFailed(kube::Error::Api(status)) => status.as_ref(),
        watcher::Error::WatchStartFailed(_)
        | watcher::Error::InitialListFailed(_)
        | watcher::Error::WatchFailed(_)
        | watcher::Error::NoResourceVersion => return false,
    };
    let cause = status.details.as_ref().is_some_and(|d| d.causes.iter().any(|c| c.reason == "ResourceVersionTooLarge"));
    cause || status.message.contains("Too large resource version")
}

/// One outage of the API server as every watch sees it, told once: a warning when the first
/// watch fails (the next retry may well fix it), an error once it has lasted past `escalate_after`
/// (the lease's renew deadline: by then it is no blip), a line when every watch is back. The
/// retries in between are debug lines; before, each watch said each retry (305 lines a minute).
pub struct Outage {
    escalate_after: Duration,
    state: std::sync::Mutex<OutageState>,
}

#[derive(Default)]
struct OutageState {
    /// The failing watches by collection and namespace: a kind is watched in several.
    failing: std::collections::BTreeSet<Collection>,
    since: Option<Instant>,
    escalated: bool,
    failures: u64,
}

/// One watched collection: its plural and namespace (`None`: cluster-wide).
pub type Collection = (&'static str, Option<&'static str>);

impl Outage {
    /// An outage tracker that escalates after `escalate_after`.
    pub fn new(escalate_after: Duration) -> Self {
        Self { escalate_after, state: std::sync::Mutex::default() }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OutageState> {
        crate::locks::lock(&self.state)
    }

    fn failed(&self, watch: Collection, error: &dyn std::fmt::Display) {
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

    fn succeeded(&self, watch: Collection) {
        let mut state = self.lock();
        if state.failing.remove(&watch) && state.failing.is_empty() {
            let seconds = state.since.map_or(0, |s| s.elapsed().as_secs());
            info!(seconds, failures = state.failures, "every watch is back");
            *state = OutageState::default();
        }
    }
}

/// What one watch shares with the others and the loop.
pub struct Shared {
    /// Wakes the loop.
    pub wake: Arc<Notify>,
    /// Tells an outage once.
    pub outage: Arc<Outage>,
    /// Where the server's history stands.
    pub history: Arc<History>,
}

/// Runs one watch for ever: list, watch, apply every event to `writer`, and start over with a
/// fresh list whenever the history the cache was built from is gone.
pub async fn run(api: Api<DynamicObject>, mut writer: Writer<DynamicObject>, collection: Collection, shared: Shared) {
    let Shared { wake, outage, history } = shared;
    let mut generation = history.subscribe();
    let mut seen = Seen::default();
    loop {
        let began = *generation.borrow_and_update();
        let stream = watcher(api.clone(), watcher::Config::default()).default_backoff();
        futures::pin_mut!(stream);
        let relist = loop {
            let event = tokio::select! {
                event = stream.next() => event,
                _ = generation.changed() => break Relist::Asked,
            };
            match event {
                Some(Ok(event)) => {
                    outage.succeeded(collection);
                    writer.apply_watcher_event(&event);
                    match seen.changed(&event) {
                        Change::None => {}
                        Change::Changed => {
                            debug!(resource = collection.0, "change seen");
                            wake.notify_one();
                        }
                        Change::Backwards => {
                            wake.notify_one();
                            history.moved_backwards(began, collection.0);
                        }
                    }
                }
                Some(Err(e)) if too_large(&e) => break Relist::TooLarge(e),
                Some(Err(e)) => outage.failed(collection, &e),
                None => break Relist::Ended,
            }
        };
        match relist {
            Relist::Asked => {
                debug!(resource = collection.0, "relisting: the server's history moved");
                seen.forget();
            }
            Relist::TooLarge(e) => {
                info!(resource = collection.0, error = %e, "the server has not reached the watch's resourceVersion; relisting");
            }
            Relist::Ended => debug!(resource = collection.0, "watch stream ended; relisting"),
        }
    }
}

/// Why a watch starts over.
enum Relist {
    /// Another watch or the lease found the history moved backwards.
    Asked,
    /// The server refused to resume from the watch's resourceVersion.
    TooLarge(watcher::Error),
    /// The watcher's stream ended (it never does by itself).
    Ended,
}

#[cfg(test)]
mod tests {
    use super::*;
    use kube::api::ObjectMeta;
    use kube::core::Status;

    fn object(name: &str, version: &str) -> DynamicObject {
        let mut o =
            DynamicObject::new(name, &kube::api::ApiResource::erase::<k8s_openapi::api::core::v1::ConfigMap>(&()));
        o.metadata =
            ObjectMeta { name: Some(name.into()), resource_version: Some(version.into()), ..ObjectMeta::default() };
        o
    }

    fn relist(seen: &mut Seen, objects: &[(&str, &str)]) -> Change {
        seen.changed(&watcher::Event::Init);
        for (name, version) in objects {
            seen.changed(&watcher::Event::InitApply(object(name, version)));
        }
        seen.changed(&watcher::Event::InitDone)
    }

    #[test]
    fn relists_that_change_nothing_are_quiet_and_older_versions_are_noticed() {
        let mut seen = Seen::default();
        assert_eq!(relist(&mut seen, &[("a", "10"), ("b", "12")]), Change::Changed);
        assert_eq!(relist(&mut seen, &[("a", "10"), ("b", "12")]), Change::None);
        assert_eq!(seen.changed(&watcher::Event::Apply(object("a", "10"))), Change::None);
        assert_eq!(seen.changed(&watcher::Event::Apply(object("a", "15"))), Change::Changed);
        // A deleted object, or one recreated later, is ordinary history.
        assert_eq!(relist(&mut seen, &[("a", "15"), ("c", "16")]), Change::Changed);
        // An object at an older revision than the cache held: the history moved backwards.
        assert_eq!(relist(&mut seen, &[("a", "3"), ("c", "16")]), Change::Backwards);
        assert_eq!(seen.changed(&watcher::Event::Apply(object("c", "4"))), Change::Backwards);
        // After forgetting (every watch relists), the same list is news, not a regression.
        seen.forget();
        assert_eq!(relist(&mut seen, &[("a", "3"), ("c", "4")]), Change::Changed);
        // Opaque versions are never compared.
        assert_eq!(relist(&mut seen, &[("a", "x"), ("c", "4")]), Change::Changed);
        assert_eq!(relist(&mut seen, &[("a", "3"), ("c", "4")]), Change::Changed);
    }

    #[test]
    fn one_sign_of_a_moved_history_relists_every_watch_once() {
        let history = History::default();
        let watching = history.subscribe();
        history.moved_backwards(0, "configs");
        assert_eq!(history.generation(), 1);
        assert!(watching.has_changed().unwrap_or(false));
        // The other watches find the same when they relist: began before the bump, no second one.
        history.moved_backwards(0, "secrets");
        assert_eq!(history.generation(), 1);
        // A later sign, after everyone relisted, is a new move.
        history.moved_backwards(1, "lease");
        assert_eq!(history.generation(), 2);
    }

    fn status(code: u16, message: &str, cause: Option<&str>) -> Box<Status> {
        let mut status: Status = serde_json::from_value(serde_json::json!({
            "status": "Failure", "message": message, "reason": "Timeout", "code": code
        }))
        .unwrap();
        if let Some(reason) = cause {
            status.details = serde_json::from_value(serde_json::json!({"causes": [{"reason": reason}]})).unwrap();
        }
        Box::new(status)
    }

    #[test]
    fn too_large_resource_versions_are_recognized_by_cause_or_message() {
        let by_cause = watcher::Error::WatchError(status(504, "Timeout", Some("ResourceVersionTooLarge")));
        let by_message = watcher::Error::WatchError(status(504, "Too large resource version: 9, current: 3", None));
        let other = watcher::Error::WatchError(status(504, "the server was slow", None));
        assert!(too_large(&by_cause) && too_large(&by_message));
        assert!(!too_large(&other));
        assert!(!too_large(&watcher::Error::NoResourceVersion));
    }

    #[test]
    fn an_outage_is_told_once_escalated_once_and_its_end_once() {
        let outage = Outage::new(Duration::ZERO);
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
}
