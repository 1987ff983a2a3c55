//! Azure: the shell's half of the Azure backend. Reads the storage accounts the Config names
//! through the Resource Manager ([`arm`], tokens from [`identity`]) and their containers through
//! the official blob client ([`blob`], Shared Key signing in [`sharedkey`]), and carries out the
//! plan's Azure calls. With the user's account key (UPI) no Resource Manager call is made.
//!
//! Quiet towards the cloud: an account's facts are reused for one resync period while the
//! credentials and endpoints are unchanged, dropped right after the operator's own call on it,
//! never kept when a read failed. The primary key is listed only when the registry needs it (no
//! user key, no workload identity) and kept for 20 minutes, as the reference does (ListKeys is
//! limited per subscription), counted in `image_registry_operator_azure_key_cache_requests_total`.

pub mod arm;
pub mod blob;
pub mod errors;
mod execute;
pub mod identity;
pub mod network;
pub mod permissions;
pub mod sharedkey;

use super::CloudError;
use futures::future::BoxFuture;
use image_registry_core::storage::azure::call::Call;
use image_registry_core::storage::azure::facts::Facts;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::locks::lock;

use azure_core::credentials::TokenCredential;
use image_registry_core::observed::BucketState;
use image_registry_core::outcome::ErrorClass;
use image_registry_core::storage::azure::Credentials;
use image_registry_core::storage::azure::facts::{AzureAccount, AzureVnet};
use image_registry_core::storage::azure::read::Reads;
use serde::Deserialize;

use self::arm::Arm;
use self::blob::{BlobAuth, Containers};
use super::calls::CallCounter;
use super::seen::Seen;

/// How long a listed key is reused (the reference's cache lifetime).
const KEY_LIFETIME: Duration = Duration::from_secs(20 * 60);

/// Where the Azure services are, when a test stand names them instead of a cloud's
/// (`AZURE_EMULATOR_ENDPOINTS`, JSON): never for a cluster.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Endpoints {
    /// The Resource Manager (HTTPS).
    pub resource_manager: String,
    /// Entra ID's authority host (HTTPS).
    pub authority: String,
    /// The blob service; accounts are the first path segment (azurite's layout).
    pub blob: String,
}

/// The endpoints a pass uses: the stand's, or the cloud's.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Resolved {
    resource_manager: String,
    audience: String,
    authority: String,
    /// `{account}` is replaced by the account name.
    blob: String,
    /// The private DNS zone of the blob service (`privatelink.blob.<storage suffix>`).
    private_zone: String,
    /// Azure Stack Hub's API profile.
    stack_hub: bool,
}

/// The Azure half of the operator's clouds.
pub struct AzureCloud {
    stand: Option<Endpoints>,
    resync: Duration,
    calls: CallCounter,
    state: Mutex<State>,
}

#[derive(Clone, PartialEq, Eq)]
struct Key {
    credentials: Credentials,
    endpoints: Resolved,
}

struct Session {
    key: Key,
    http: reqwest::Client,
    /// The Resource Manager client (not with the user's account key).
    arm: Option<Arm>,
    /// Tokens for the blob service (workload identity).
    token: Option<Arc<dyn TokenCredential>>,
}

#[derive(Default)]
struct State {
    session: Option<Arc<Session>>,
    /// Account → the facts.
    seen: Seen<AzureAccount>,
    /// `<resource group>/<account>` → the primary key (reused for [`KEY_LIFETIME`]).
    keys: Seen<String>,
    /// Resource group → its virtual networks.
    vnets: Seen<Vec<AzureVnet>>,
}

/// Where an account's key is kept in [`State::keys`].
fn key_slot(group: &str, account: &str) -> String {
    format!("{group}/{account}")
}

fn unknown(message: String) -> AzureAccount {
    AzureAccount { state: BucketState::Unknown, message, ..AzureAccount::default() }
}

impl AzureCloud {
    /// An Azure client reaching the cloud's own endpoints, or the stand's when given.
    pub fn new(stand: Option<Endpoints>, resync: Duration, calls: CallCounter) -> Self {
        Self { stand, resync, calls, state: Mutex::new(State::default()) }
    }

    /// What Azure says about each account the core asks about (and the containers named in it).
    pub async fn observe(&self, reads: &Reads) -> BTreeMap<String, AzureAccount> {
        if reads.accounts.is_empty() {
            return BTreeMap::new();
        }
        let session = match self.session(reads) {
            Ok(session) => session,
            Err(message) => return reads.accounts.keys().map(|a| (a.clone(), unknown(message.clone()))).collect(),
        };
        let mut facts = BTreeMap::new();
        for (account, containers) in &reads.accounts {
            if let Some(fresh) = lock(&self.state).seen.fresh(account, self.resync) {
                facts.insert(account.clone(), fresh);
                continue;
            }
            let seen = self.read(&session, account, containers).await.unwrap_or_else(|e| unknown(e.message));
            lock(&self.state).seen.record(account, seen.clone(), seen.state != BucketState::Unknown);
            facts.insert(account.clone(), seen);
        }
        facts
    }

    /// The virtual networks of the resource group a private endpoint must discover its vnet or
    /// subnet in (the core says which), read once per resync; empty when none is wanted.
    pub async fn observe_vnets(&self, reads: &Reads) -> BTreeMap<String, Vec<AzureVnet>> {
        let Some(group) = reads.vnets.clone() else { return BTreeMap::new() };
        if let Some(vnets) = lock(&self.state).vnets.fresh(&group, self.resync) {
            return BTreeMap::from([(group, vnets)]);
        }
        let Ok(session) = self.session(reads) else { return BTreeMap::new() };
        let Some(arm) = &session.arm else { return BTreeMap::new() };
        match arm.list_vnets(&group).await {
            Ok(vnets) => {
                lock(&self.state).vnets.record(&group, vnets.clone(), true);
                BTreeMap::from([(group, vnets)])
            }
            // Not observed: the core says so in the storage condition and the pass is retried.
            Err(e) => {
                tracing::warn!(group, error = %e.message, "cannot list the virtual networks");
                BTreeMap::new()
            }
        }
    }

    /// One account: its existence and tags (Resource Manager), its key when the registry
    /// needs it, and its containers.
    async fn read(&self, session: &Session, account: &str, containers: &[String]) -> Result<AzureAccount, CloudError> {
        let c = &session.key.credentials;
        let mut facts = AzureAccount { state: BucketState::Exists, ..AzureAccount::default() };
        if let Some(arm) = &session.arm {
            match arm.get_account(&c.resource_group, account).await {
                Ok(Some(found)) => {
                    facts.tags = found.tags;
                    facts.public_network_access = found.public_network_access;
                    facts.allow_shared_key_access = found.allow_shared_key_access;
                }
                Ok(None) => return Ok(AzureAccount { state: BucketState::Missing, ..AzureAccount::default() }),
                Err(e) if e.class == ErrorClass::Forbidden => {
                    return Ok(AzureAccount {
                        state: BucketState::Forbidden,
                        message: e.message,
                        ..AzureAccount::default()
                    });
                }
                Err(e) => return Err(e),
            }
        }
        let auth = self.blob_auth(session, account).await?;
        if let BlobAuth::Key(key) = &auth
            && c.account_key.is_empty()
        {
            facts.primary_key = key.clone();
        }
        let blobs = self.containers(session, account, auth);
        for container in containers {
            let state = match blobs.exists(container).await {
                Ok(true) => BucketState::Exists,
                Ok(false) => BucketState::Missing,
                Err(e) if e.class == ErrorClass::Forbidden => BucketState::Forbidden,
                Err(e) => return Err(e),
            };
            facts.containers.insert(container.clone(), state);
        }
        Ok(facts)
    }

    /// How blob calls on `account` are signed: the user's key, a token (workload identity), or
    /// the primary key (cached for 20 minutes).
    async fn blob_auth(&self, session: &Session, account: &str) -> Result<BlobAuth, CloudError> {
        let c = &session.key.credentials;
        if !c.account_key.is_empty() {
            return Ok(BlobAuth::Key(c.account_key.clone()));
        }
        if let Some(token) = &session.token {
            return Ok(BlobAuth::Token(token.clone()));
        }
        let slot = key_slot(&c.resource_group, account);
        if let Some(key) = lock(&self.state).keys.fresh(&slot, KEY_LIFETIME) {
            self.calls.key_cache(true);
            return Ok(BlobAuth::Key(key));
        }
        self.calls.key_cache(false);
        let arm = session.arm.as_ref().ok_or_else(|| no_arm("ListKeys"))?;
        let key = arm.primary_key(&c.resource_group, account).await.map_err(|mut e| {
            e.message = format!("failed to get keys for the storage account {account}: {}", e.message);
            e
        })?;
        let key = key.ok_or_else(|| CloudError {
            status: Some(404),
            code: "ResourceNotFound".into(),
            class: ErrorClass::NotFound,
            message: format!("failed to get keys for the storage account {account}: it does not exist"),
        })?;
        lock(&self.state).keys.record(&slot, key.clone(), true);
        Ok(BlobAuth::Key(key))
    }

    fn containers(&self, session: &Session, account: &str, auth: BlobAuth) -> Containers {
        let endpoint = session.key.endpoints.blob.replace("{account}", account);
        Containers::new(account, &endpoint, auth, session.http.clone(), self.calls.clone())
    }

    /// The session for the credentials and endpoints the reads give: the last one while
    /// they are unchanged (a new one forgets every answer and key read with the old).
    fn session(&self, reads: &Reads) -> Result<Arc<Session>, String> {
        let credentials = reads.credentials.clone()?;
        let endpoints = match &self.stand {
            Some(stand) => Resolved {
                resource_manager: stand.resource_manager.clone(),
                audience: "https://management.azure.com/".to_owned(),
                authority: stand.authority.clone(),
                blob: format!("{}/{{account}}", stand.blob.trim_end_matches('/')),
                private_zone: "privatelink.blob.core.windows.net".to_owned(),
                stack_hub: false,
            },
            None => {
                let env = reads.environment.clone()?;
                Resolved {
                    blob: format!("https://{{account}}.blob.{}", env.storage_suffix),
                    private_zone: format!("privatelink.blob.{}", env.storage_suffix),
                    resource_manager: env.resource_manager,
                    audience: env.token_audience,
                    authority: env.authority,
                    stack_hub: env.stack_hub,
                }
            }
        };
        let key = Key { credentials, endpoints };
        let mut state = lock(&self.state);
        if let Some(session) = &state.session
            && session.key == key
        {
            return Ok(session.clone());
        }
        let http = super::http::client(super::http::roots(None, "Azure")?, "Azure")?;
        let c = &key.credentials;
        let (arm, token) = if c.account_key.is_empty() {
            let credential = identity::credential(c, &key.endpoints.authority, http.clone())?;
            let arm = Arm::new(
                &key.endpoints.resource_manager,
                &key.endpoints.audience,
                &c.subscription_id,
                credential.clone(),
                http.clone(),
                self.calls.clone(),
            );
            let arm = if key.endpoints.stack_hub { arm.on_stack_hub() } else { arm };
            let token = (!c.federated_token_file.is_empty()).then_some(credential);
            (Some(arm), token)
        } else {
            (None, None)
        };
        let session = Arc::new(Session { key, http, arm, token });
        *state = State { session: Some(session.clone()), ..State::default() };
        Ok(session)
    }
}

fn no_arm(call: &str) -> CloudError {
    CloudError {
        status: None,
        code: String::new(),
        class: ErrorClass::Invalid,
        message: format!("{call}: the user's account key gives no Resource Manager access"),
    }
}

/// The shell's client for this backend (`cloud::Backend`).
pub type Client = AzureCloud;

impl super::Backend for AzureCloud {
    type Reads = Reads;
    type Facts = Facts;
    type Call = Call;

    fn from_env(resync: Duration, calls: CallCounter) -> Result<Self, String> {
        // A test stand's Azure endpoints (ARM double, azurite), never a cluster's.
        let stand = match std::env::var("AZURE_EMULATOR_ENDPOINTS") {
            Ok(json) if !json.is_empty() => Some(
                serde_json::from_str::<Endpoints>(&json)
                    .map_err(|e| format!("AZURE_EMULATOR_ENDPOINTS is not valid: {e}"))?,
            ),
            _ => None,
        };
        Ok(Self::new(stand, resync, calls))
    }

    fn read<'a>(&'a self, reads: &'a Reads, _version: &'a str) -> BoxFuture<'a, Facts> {
        Box::pin(async move { Facts { accounts: self.observe(reads).await, vnets: self.observe_vnets(reads).await } })
    }

    fn execute<'a>(&'a self, call: &'a Call) -> BoxFuture<'a, Result<(), CloudError>> {
        Box::pin(self.execute(call))
    }
}
