//! OpenStack Swift: the shell's half of the Swift backend. Logs in to Keystone with the
//! registry's credentials (the user's secret or `clouds.yaml`), trusting the cluster's CA
//! bundle (spec 30 §7.3), answers the availability probe that decides OpenStack's bootstrap
//! (§7.1), reads the containers the Config names, and carries out the plan's Swift calls.
//!
//! Quiet towards the cloud: the probe runs only while the bootstrap needs it (no Config, or
//! one without storage) and its answer is reused for one resync period; a container's facts
//! likewise, dropped right after the operator's own call on it; a failed read or probe is
//! never reused. One Keystone login serves every call while the identity and the CA bundle
//! are unchanged and Swift accepts the token.

pub mod client;
mod errors;
pub mod keystone;

use futures::future::BoxFuture;
use image_registry_core::storage::swift::facts::Facts;
use image_registry_core::storage::swift::read::Reads;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use image_registry_core::observed::BucketState;
use image_registry_core::outcome::ErrorClass;
use image_registry_core::storage::call::CloudCall;
use image_registry_core::storage::swift::call::Call;
use image_registry_core::storage::swift::facts::{SwiftContainer, SwiftProbe};
use image_registry_core::storage::swift::read::Login as Access;

use self::client::{Identity, Login, SwiftClient};
use super::CloudError;
use super::calls::CallCounter;
use super::seen::Seen;
use crate::locks::lock;

/// The Swift half of the operator's clouds.
pub struct SwiftCloud {
    resync: Duration,
    calls: CallCounter,
    state: Mutex<State>,
}

/// Who logs in, and what they trust.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Key {
    identity: Identity,
    bundle: Option<String>,
}

#[derive(Default)]
struct State {
    session: Option<(Key, Arc<SwiftClient>)>,
    /// Container → the facts.
    seen: Seen<SwiftContainer>,
    /// The last probe that reached an answer, and when.
    probe: Option<(Instant, SwiftProbe)>,
}

impl SwiftCloud {
    /// A Swift client that reuses answers for `resync`, counting its calls in `calls`.
    pub fn new(resync: Duration, calls: CallCounter) -> Self {
        Self { resync, calls, state: Mutex::new(State::default()) }
    }

    /// Whether the registry can use Swift (spec 30 §7.1), with the credentials alone (no
    /// Config yet): no object store in the catalog, or an account that cannot be listed, says
    /// no; a login that fails (Keystone down, credentials refused, bad CA bundle) is a failure
    /// the bootstrap waits on, never a guess.
    pub async fn probe(&self, access: &Result<Access, String>, version: &str) -> SwiftProbe {
        let client = match self.client(access, version) {
            Ok(client) => client,
            Err(message) => return SwiftProbe::Failed { message },
        };
        if let Some((at, answer)) = &lock(&self.state).probe
            && at.elapsed() < self.resync
        {
            return answer.clone();
        }
        let answer = match client.login().await {
            Err(Login::Failed(e)) => return SwiftProbe::Failed { message: e.message },
            Err(Login::NoObjectStore(reason)) => SwiftProbe::NotUsable { reason },
            Ok(()) => match client.list_containers().await {
                Ok(()) => SwiftProbe::Usable,
                Err(e) => SwiftProbe::NotUsable { reason: e.message },
            },
        };
        lock(&self.state).probe = Some((Instant::now(), answer.clone()));
        answer
    }

    /// What Swift says about each of `containers` (the names the core asks about), read as
    /// `access` says; `version` is the operator's, for the user agent.
    pub async fn observe(
        &self,
        access: &Result<Access, String>,
        containers: &[String],
        version: &str,
    ) -> BTreeMap<String, SwiftContainer> {
        if containers.is_empty() {
            return BTreeMap::new();
        }
        let unknown =
            |message: String| SwiftContainer { state: BucketState::Unknown, message, ..SwiftContainer::default() };
        let client = match self.client(access, version) {
            Ok(client) => client,
            Err(message) => return containers.iter().map(|c| (c.clone(), unknown(message.clone()))).collect(),
        };
        let mut facts = BTreeMap::new();
        for container in containers {
            if let Some(fresh) = lock(&self.state).seen.fresh(container, self.resync) {
                facts.insert(container.clone(), fresh);
                continue;
            }
            let seen = match client.head_container(container).await {
                Ok(Some(metadata)) => {
                    SwiftContainer { state: BucketState::Exists, metadata, ..SwiftContainer::default() }
                }
                Ok(None) => SwiftContainer { state: BucketState::Missing, ..SwiftContainer::default() },
                Err(e) if e.class == ErrorClass::Forbidden => {
                    SwiftContainer { state: BucketState::Forbidden, message: e.message, ..SwiftContainer::default() }
                }
                Err(e) => unknown(e.message),
            };
            lock(&self.state).seen.record(container, seen.clone(), seen.state != BucketState::Unknown);
            facts.insert(container.clone(), seen);
        }
        facts
    }

    /// The client for this identity and CA bundle: the last one while they are unchanged (a
    /// new one forgets every answer read with the old).
    fn client(&self, access: &Result<Access, String>, version: &str) -> Result<Arc<SwiftClient>, String> {
        let access = access.clone()?;
        let identity = Identity { auth_url: access.auth_url, credentials: access.credentials, swift: access.swift };
        let key = Key { identity, bundle: access.bundle };
        let mut state = lock(&self.state);
        if let Some((seen, client)) = &state.session
            && *seen == key
        {
            return Ok(client.clone());
        }
        let roots = super::http::roots(key.bundle.as_deref(), "Swift")?;
        let http = super::http::client(roots, "Swift")?;
        let client = Arc::new(SwiftClient::new(http, key.identity.clone(), version, self.calls.clone()));
        *state = State { session: Some((key, client.clone())), ..State::default() };
        Ok(client)
    }

    /// Carries out one Swift call of the plan, with the client the last observation built (a
    /// pass observes before it acts).
    pub async fn execute(&self, call: &Call) -> Result<(), CloudError> {
        let Some(client) = lock(&self.state).session.as_ref().map(|(_, c)| c.clone()) else {
            return Err(CloudError::new(ErrorClass::Unavailable, "Swift: no credentials observed yet".to_owned()));
        };
        let result = match call {
            Call::CreateContainer { container, metadata } => {
                let metadata: Vec<(String, String)> =
                    metadata.iter().map(|m| (m.key.clone(), m.value.clone())).collect();
                client.put_container(container, &metadata).await
            }
            Call::DeleteContainer { container, require_cluster_id } => {
                delete(&client, container, require_cluster_id).await
            }
        };
        // The operator's own call changed the container: read it again on the next pass.
        lock(&self.state).seen.forget(&call.resource());
        result
    }
}

/// How many times in a row a listing may show objects a successful delete removed (container
/// listings can lag behind deletes) before the removal gives up for this pass.
const STALE_LISTINGS: usize = 3;

/// Empties the container page by page (listing again from the start after each page, so an
/// interrupted removal resumes) and deletes it, after checking again that its
/// `Openshiftclusterid` metadata names this cluster: only a container this cluster created is
/// ever emptied.
async fn delete(client: &SwiftClient, container: &str, cluster_id: &str) -> Result<(), CloudError> {
    let Some(metadata) = client.head_container(container).await? else { return Ok(()) };
    if metadata.get("Openshiftclusterid").map(String::as_str) != Some(cluster_id) {
        return Err(CloudError::new(
            ErrorClass::Forbidden,
            format!(
                "Swift container {container} does not carry the metadata Openshiftclusterid={cluster_id}: not deleting it"
            ),
        ));
    }
    let (mut last, mut stale) = (Vec::new(), 0);
    loop {
        let page = client.list_objects(container).await?;
        if page.is_empty() {
            break;
        }
        if page == last {
            stale += 1;
            if stale >= STALE_LISTINGS {
                return Err(CloudError::new(
                    ErrorClass::Unavailable,
                    format!("Swift container {container} still lists deleted objects; the removal goes on next pass"),
                ));
            }
        }
        client.delete_objects(container, &page).await?;
        last = page;
    }
    client.delete_container(container).await
}

/// The shell's client for this backend (`cloud::Backend`).
pub type Client = SwiftCloud;

impl super::Backend for SwiftCloud {
    type Reads = Reads;
    type Facts = Facts;
    type Call = Call;

    fn from_env(resync: Duration, calls: CallCounter) -> Result<Self, String> {
        Ok(Self::new(resync, calls))
    }

    fn read<'a>(&'a self, reads: &'a Reads, version: &'a str) -> BoxFuture<'a, Facts> {
        Box::pin(async move {
            let probe = match &reads.probe {
                Some(login) => Some(self.probe(login, version).await),
                None => None,
            };
            Facts { probe, containers: self.observe(&reads.login, &reads.containers, version).await }
        })
    }

    fn execute<'a>(&'a self, call: &'a Call) -> BoxFuture<'a, Result<(), CloudError>> {
        Box::pin(self.execute(call))
    }
}
