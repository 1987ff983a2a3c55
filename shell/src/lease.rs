//! Leader election on a `coordination.k8s.io/v1` Lease: acquire when free or expired, renew
//! while holding, release on shutdown. Every write is guarded by the resourceVersion read, so
//! two candidates never both win. The [`Fence`] keeps a leader that stopped renewing (paused,
//! partitioned) from writing once another may hold the lease; a lease that vanished or went
//! back in time tells the watches the server's history moved.

use std::sync::Arc;
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use kube::api::{Api, PostParams};
use tokio::sync::Notify;
use tracing::warn;

use crate::watches::{History, older};

/// Lease name and timing (spec 40 §8.1: 137 s lease, 107 s renew deadline, 26 s retry).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseSettings {
    /// Lease name.
    pub name: String,
    /// Namespace.
    pub namespace: String,
    /// This candidate's identity (the pod name).
    pub identity: String,
    /// How long a lease holds without renewal.
    pub lease_duration: Duration,
    /// How long the leader keeps trying to renew before it gives up leading.
    pub renew_deadline: Duration,
    /// Time between attempts.
    pub retry_period: Duration,
}

impl LeaseSettings {
    /// The reference's settings for `identity`.
    pub fn reference(identity: String) -> Self {
        Self {
            name: "openshift-master-controllers".into(),
            namespace: image_registry_core::names::NAMESPACE.into(),
            identity,
            lease_duration: Duration::from_secs(137),
            renew_deadline: Duration::from_secs(107),
            retry_period: Duration::from_secs(26),
        }
    }
}

/// One candidate.
pub struct Elector {
    api: Api<Lease>,
    settings: LeaseSettings,
    /// The lease as this candidate last wrote it while holding it: a renewal is one update
    /// guarded by its resourceVersion, not a read and an update.
    held: std::sync::Mutex<Option<Lease>>,
    /// Told when the lease this candidate held is gone or older than it wrote it.
    history: Option<Arc<History>>,
}

fn micro_now() -> MicroTime {
    MicroTime(jiff::Timestamp::now())
}

impl Elector {
    /// A candidate for the lease in `settings`.
    pub fn new(client: kube::Client, settings: LeaseSettings) -> Self {
        Self {
            api: Api::namespaced(client, &settings.namespace),
            settings,
            held: std::sync::Mutex::new(None),
            history: None,
        }
    }

    /// Tells `history` when the lease shows the server's history moved backwards.
    #[must_use]
    pub fn telling(mut self, history: Arc<History>) -> Self {
        self.history = Some(history);
        self
    }

    fn moved_backwards(&self, generation: u64, what: &str) {
        if let Some(history) = &self.history {
            history.moved_backwards(generation, what);
        }
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Option<Lease>> {
        crate::locks::lock(&self.held)
    }

    /// Remembers what a write returned, when it still names this candidate.
    fn hold(&self, written: Lease) -> bool {
        let mine =
            written.spec.as_ref().and_then(|s| s.holder_identity.as_deref()) == Some(self.settings.identity.as_str());
        *self.held() = mine.then_some(written);
        mine
    }

    /// The settings.
    pub fn settings(&self) -> &LeaseSettings {
        &self.settings
    }

    /// Takes or renews the lease; `Ok(true)` while this candidate holds it.
    pub async fn try_acquire_or_renew(&self) -> Result<bool, kube::Error> {
        let me = &self.settings.identity;
        let duration = i32::try_from(self.settings.lease_duration.as_secs()).unwrap_or(i32::MAX);
        // Renewal: one update carrying the resourceVersion this candidate wrote last. A
        // conflict means someone else wrote the lease since: forget it and read it again.
        let renewal = self.held().clone();
        let generation = self.history.as_ref().map_or(0, |h| h.generation());
        let mut wrote_last = None;
        if let Some(mut lease) = renewal {
            if let Some(spec) = lease.spec.as_mut() {
                spec.renew_time = Some(micro_now());
            }
            match self.api.replace(&self.settings.name, &PostParams::default(), &lease).await {
                Ok(written) => return Ok(self.hold(written)),
                Err(kube::Error::Api(s)) if s.code == 409 || s.code == 404 => {
                    *self.held() = None;
                    wrote_last = Some(lease.metadata.resource_version.clone().unwrap_or_default());
                }
                Err(e) => return Err(e),
            }
        }
        let current = self.api.get_opt(&self.settings.name).await?;
        // Nobody deletes a held lease, and its resourceVersion only grows: a lease gone or older
        // than this candidate wrote it is a server whose state was restored from a backup.
        if let Some(wrote) = &wrote_last {
            let now = current.as_ref().and_then(|l| l.metadata.resource_version.as_deref()).unwrap_or_default();
            if current.is_none() || older(now, wrote) {
                warn!(lease = %self.settings.name, "the lease this instance held is gone or older than it wrote it");
                self.moved_backwards(generation, "the lease");
            }
        }
        let Some(mut lease) = current else {
            let lease = Lease {
                metadata: ObjectMeta { name: Some(self.settings.name.clone()), ..ObjectMeta::default() },
                spec: Some(LeaseSpec {
                    holder_identity: Some(me.clone()),
                    lease_duration_seconds: Some(duration),
                    acquire_time: Some(micro_now()),
                    renew_time: Some(micro_now()),
                    lease_transitions: Some(0),
                    ..LeaseSpec::default()
                }),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(written) => Ok(self.hold(written)),
                Err(kube::Error::Api(s)) if s.code == 409 => Ok(false),
                Err(e) => Err(e),
            };
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        let holder = spec.holder_identity.clone().unwrap_or_default();
        let held_by_me = holder == *me;
        if !held_by_me && !holder.is_empty() {
            let renewed = spec.renew_time.as_ref().map(|t| t.0).unwrap_or_default();
            let lasts = jiff::SignedDuration::from_secs(i64::from(spec.lease_duration_seconds.unwrap_or(duration)));
            let expires = renewed.saturating_add(lasts).unwrap_or(renewed);
            if jiff::Timestamp::now() < expires {
                return Ok(false);
            }
        }
        if !held_by_me {
            spec.acquire_time = Some(micro_now());
            spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0) + 1);
        }
        spec.holder_identity = Some(me.clone());
        spec.lease_duration_seconds = Some(duration);
        spec.renew_time = Some(micro_now());
        // A conflict is an error, not a loss: the leader retries until its renew deadline,
        // and a candidate re-reads who holds the lease on its next attempt.
        self.api.replace(&self.settings.name, &PostParams::default(), &lease).await.map(|written| self.hold(written))
    }

    /// Gives the lease up (if held), so the next candidate need not wait for it to expire.
    pub async fn release(&self) -> Result<(), kube::Error> {
        *self.held() = None;
        let Some(mut lease) = self.api.get_opt(&self.settings.name).await? else { return Ok(()) };
        let Some(spec) = lease.spec.as_mut() else { return Ok(()) };
        if spec.holder_identity.as_deref() != Some(self.settings.identity.as_str()) {
            return Ok(());
        }
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        self.api.replace(&self.settings.name, &PostParams::default(), &lease).await.map(|_| ())
    }
}

/// The lease's guard on writes. A leader may write only while its last successful renewal,
/// by this process's monotonic clock, is younger than the renew deadline: past it another
/// instance may hold the lease (it expires `lease_duration` after that renewal by the server's
/// record, later than the deadline). A write refused here asks the lease loop to re-check at
/// once rather than at its next retry.
#[derive(Debug)]
pub struct Fence {
    renewed: std::sync::Mutex<Option<Instant>>,
    deadline: Duration,
    recheck: Notify,
}

impl Fence {
    /// A fence closed until the first renewal.
    pub fn new(deadline: Duration) -> Self {
        Self { renewed: std::sync::Mutex::new(None), deadline, recheck: Notify::new() }
    }

    /// A renewal that began at `attempt` succeeded: the lease holds from then (the server's
    /// renewTime is no earlier than the request), not from when the answer came.
    pub fn renewed(&self, attempt: Instant) {
        let mut renewed = crate::locks::lock(&self.renewed);
        if renewed.is_none_or(|r| r < attempt) {
            *renewed = Some(attempt);
        }
    }

    /// Whether a write may go out now. When not, the lease loop is asked to re-check.
    pub fn open(&self) -> bool {
        let renewed = *crate::locks::lock(&self.renewed);
        let open = renewed.is_some_and(|r| r.elapsed() < self.deadline);
        if !open {
            self.recheck.notify_one();
        }
        open
    }

    /// Resolves when a write was refused since the last call.
    pub async fn recheck_wanted(&self) {
        self.recheck.notified().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fence_opens_on_a_renewal_and_closes_at_the_deadline_since_the_attempt_began() {
        let fence = Fence::new(Duration::from_secs(60));
        assert!(!fence.open(), "closed before the first renewal");
        fence.renewed(Instant::now());
        assert!(fence.open());
        // An older attempt that finishes late does not move the renewal back.
        if let Some(earlier) = Instant::now().checked_sub(Duration::from_secs(120)) {
            fence.renewed(earlier);
        }
        assert!(fence.open());
        let short = Fence::new(Duration::from_millis(1));
        short.renewed(Instant::now());
        std::thread::sleep(Duration::from_millis(5));
        assert!(!short.open(), "past the deadline since the attempt began");
    }
}
