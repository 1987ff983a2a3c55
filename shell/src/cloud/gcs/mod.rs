//! GCS through the JSON API ([`client`]): the shell's half of the GCS backend. Reads the
//! buckets the Config names with the registry's own keyfile (a service account key, or an
//! external account for workload identity federation) and carries out the plan's GCS calls.
//!
//! Quiet towards the cloud: a bucket's facts are reused for one resync period while the
//! keyfile is unchanged, dropped right after the operator's own call on that bucket, never
//! kept when the read failed. A bucket's effective resource tags are listed with it only when
//! the cluster asks for tags ([`tags`]).

pub mod client;
mod errors;
pub mod permissions;
mod tags;

use futures::future::BoxFuture;
use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use image_registry_core::observed::BucketState;
use image_registry_core::outcome::ErrorClass;
use image_registry_core::storage::call::CloudCall;
use image_registry_core::storage::gcs::call::Call;
use image_registry_core::storage::gcs::facts::GcsBucket;
use image_registry_core::storage::gcs::read::Reads;

use self::client::{Auth, GcsClient};
use super::CloudError;
use super::calls::CallCounter;
use super::seen::Seen;
use crate::locks::lock;

/// The scope the registry's storage calls need.
const SCOPE: &str = "https://www.googleapis.com/auth/devstorage.full_control";

/// The GCS half of the operator's clouds.
pub struct GcsCloud {
    endpoint: Endpoint,
    /// The Resource Manager endpoint a test stand names instead of Google's regional ones.
    tags_endpoint: Option<String>,
    resync: Duration,
    calls: CallCounter,
    state: Mutex<State>,
}

/// Where the JSON API is: Google, or an emulator the test stand names (no token is sent to it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// `https://storage.googleapis.com`, with tokens.
    Google,
    /// An emulator at this base URL, without tokens.
    Emulator(String),
}

#[derive(Default)]
struct State {
    /// The keyfile the client was built from, and the client.
    session: Option<(String, GcsClient)>,
    /// Bucket → the keyfile and whether tags were read, when, and the facts.
    seen: Seen<(String, bool, GcsBucket)>,
    /// Each bucket's location as last observed: where its tags are bound.
    locations: HashMap<String, String>,
}

impl GcsCloud {
    /// A GCS client for `endpoint` that reuses a bucket's facts for `resync`.
    pub fn new(endpoint: Endpoint, resync: Duration, calls: CallCounter) -> Self {
        Self { endpoint, tags_endpoint: None, resync, calls, state: Mutex::new(State::default()) }
    }

    /// The same, with the Resource Manager at `url` (a test double) instead of Google's.
    pub fn with_tags_endpoint(mut self, url: &str) -> Self {
        self.tags_endpoint = Some(url.to_owned());
        self
    }

    /// What GCS says about each bucket the core asks about; `version` is the operator's, for
    /// the user agent.
    pub async fn observe(&self, reads: &Reads, version: &str) -> BTreeMap<String, GcsBucket> {
        let buckets = &reads.buckets;
        let unknown = |message: &str| GcsBucket {
            state: BucketState::Unknown,
            message: message.to_owned(),
            ..GcsBucket::default()
        };
        let (key, client) = match reads.keyfile.clone().and_then(|key| self.client(&key.0, version).map(|c| (key.0, c)))
        {
            Ok(found) => found,
            Err(message) => return buckets.iter().map(|b| (b.clone(), unknown(&message))).collect(),
        };
        let (wants_tags, location) = (reads.tags, reads.location.clone());
        let mut facts = BTreeMap::new();
        for bucket in buckets {
            lock(&self.state).locations.insert(bucket.clone(), location.clone());
            if let Some(fresh) = self.cached(bucket, &key, wants_tags) {
                facts.insert(bucket.clone(), fresh);
                continue;
            }
            let seen = match client.get_bucket(bucket).await {
                Ok(Some(found)) if wants_tags => {
                    let base = tags::endpoint(&location, self.tags_endpoint.as_deref());
                    match tags::effective(&client, &base, bucket).await {
                        Ok(tags) => {
                            GcsBucket { state: BucketState::Exists, labels: found.labels, tags, ..GcsBucket::default() }
                        }
                        Err(e) => unknown(&e.message),
                    }
                }
                Ok(Some(found)) => {
                    GcsBucket { state: BucketState::Exists, labels: found.labels, ..GcsBucket::default() }
                }
                Ok(None) => GcsBucket { state: BucketState::Missing, ..GcsBucket::default() },
                Err(e) if e.class == ErrorClass::Forbidden => {
                    GcsBucket { state: BucketState::Forbidden, message: e.message, ..GcsBucket::default() }
                }
                Err(e) => unknown(&e.message),
            };
            let reusable = seen.state != BucketState::Unknown;
            lock(&self.state).seen.record(bucket, (key.clone(), wants_tags, seen.clone()), reusable);
            facts.insert(bucket.clone(), seen);
        }
        facts
    }

    /// The facts read within the resync period with the same keyfile, tags read when `tags`.
    fn cached(&self, bucket: &str, key: &str, tags: bool) -> Option<GcsBucket> {
        let state = lock(&self.state);
        let (seen_key, with_tags, facts) = state.seen.fresh(bucket, self.resync)?;
        (seen_key == key && with_tags == tags).then_some(facts)
    }

    /// The client for this keyfile: the last one while the keyfile is unchanged.
    fn client(&self, key: &str, version: &str) -> Result<GcsClient, String> {
        let mut state = lock(&self.state);
        if let Some((seen, client)) = &state.session
            && seen == key
        {
            return Ok(client.clone());
        }
        let (url, auth) = match &self.endpoint {
            Endpoint::Google => (client::DEFAULT_ENDPOINT.to_owned(), Auth::Google(credentials(key)?)),
            Endpoint::Emulator(url) => (url.clone(), Auth::Anonymous),
        };
        let client = GcsClient::new(&url, auth, super::http::roots(None, "GCS")?, version, self.calls.clone())?;
        state.session = Some((key.to_owned(), client.clone()));
        state.seen = Seen::default();
        Ok(client)
    }

    /// Carries out one GCS call of the plan.
    /// The client is the one the last observation built: a pass observes before it acts.
    pub async fn execute(&self, call: &Call) -> Result<(), CloudError> {
        let client = match &lock(&self.state).session {
            Some((_, client)) => client.clone(),
            None => {
                return Err(CloudError::new(ErrorClass::Unavailable, "GCS: no credentials observed yet".to_owned()));
            }
        };
        let result = match call {
            Call::CreateBucket { bucket, project, location, labels, kms_key } => {
                let labels: BTreeMap<String, String> =
                    labels.iter().map(|l| (l.key.clone(), l.value.clone())).collect();
                match client.insert_bucket(project, bucket, location, &labels, kms_key).await {
                    // GCS keeps the labels given at creation; an emulator that drops them gets
                    // them set again (a patch that touches no other label).
                    Ok(created) if labels.iter().all(|(k, v)| created.labels.get(k) == Some(v)) => Ok(()),
                    Ok(_) => client.patch_labels(bucket, &labels).await,
                    Err(e) => Err(e),
                }
            }
            Call::DeleteBucket { bucket, require_label } => {
                delete(&client, bucket, &require_label.key, &require_label.value).await
            }
            Call::BindTags { bucket, tags: wanted } => {
                let location = lock(&self.state).locations.get(bucket).cloned().unwrap_or_default();
                let base = tags::endpoint(&location, self.tags_endpoint.as_deref());
                let mut failed = None;
                // Each binding is tried; the first failure is reported (the next pass lists the
                // tags again and binds only what is still missing).
                for tag in wanted {
                    if let Err(e) = tags::bind(&client, &base, bucket, tag).await {
                        failed.get_or_insert(e);
                    }
                }
                failed.map_or(Ok(()), Err)
            }
        };
        // The operator's own call changed the bucket: read it again on the next pass.
        lock(&self.state).seen.forget(&call.resource());
        result
    }
}

/// Empties the bucket (every object version, page by page, listing again until none is left,
/// so an interrupted delete resumes) and deletes it, after checking again that it carries the
/// ownership label: only a bucket this cluster created is ever emptied.
async fn delete(client: &GcsClient, bucket: &str, label: &str, value: &str) -> Result<(), CloudError> {
    let Some(found) = client.get_bucket(bucket).await? else { return Ok(()) };
    if found.labels.get(label).map(String::as_str) != Some(value) {
        return Err(CloudError::new(
            ErrorClass::Forbidden,
            format!("GCS bucket {bucket} does not carry the label {label}={value}: not deleting it"),
        ));
    }
    loop {
        let mut page = None;
        let mut deleted = 0;
        loop {
            let (objects, next) = client.list_objects(bucket, page.as_deref()).await?;
            for (name, generation) in &objects {
                client.delete_object(bucket, name, generation).await?;
            }
            deleted += objects.len();
            match next {
                Some(token) => page = Some(token),
                None => break,
            }
        }
        if deleted == 0 {
            break;
        }
    }
    client.delete_bucket(bucket).await
}

/// Access-token credentials from the keyfile: a service account key, or an external account
/// (workload identity federation: a projected token exchanged at Google's STS).
fn credentials(key: &str) -> Result<google_cloud_auth::credentials::AccessTokenCredentials, String> {
    use google_cloud_auth::credentials::{external_account, service_account};
    let json: serde_json::Value =
        // serde_json's message names the position, never the text.
        serde_json::from_str(key).map_err(|e| format!("the GCS keyfile is not valid JSON (line {}, column {})", e.line(), e.column()))?;
    let kind = json.get("type").and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
    let built = match kind.as_str() {
        "service_account" => service_account::Builder::new(json)
            .with_access_specifier(service_account::AccessSpecifier::from_scopes([SCOPE]))
            .build_access_token_credentials(),
        "external_account" => {
            external_account::Builder::new(json).with_scopes([SCOPE]).build_access_token_credentials()
        }
        other => {
            return Err(format!(
                "the GCS keyfile's type {other:?} is not supported (service_account, external_account)"
            ));
        }
    };
    // The builder's error names the field, never the key.
    built.map_err(|e| format!("the GCS keyfile ({kind}): {e}"))
}

/// The shell's client for this backend (`cloud::Backend`).
pub type Client = GcsCloud;

impl super::Backend for GcsCloud {
    type Reads = Reads;
    type Facts = BTreeMap<String, GcsBucket>;
    type Call = Call;

    fn from_env(resync: Duration, calls: CallCounter) -> Result<Self, String> {
        // Google's client libraries' convention: an emulator named by STORAGE_EMULATOR_HOST is
        // called without tokens (the test stand's gcp-storage-emulator).
        let endpoint = match std::env::var("STORAGE_EMULATOR_HOST") {
            Ok(host) if !host.is_empty() => Endpoint::Emulator(host),
            _ => Endpoint::Google,
        };
        Ok(Self::new(endpoint, resync, calls))
    }

    fn read<'a>(&'a self, reads: &'a Reads, version: &'a str) -> BoxFuture<'a, BTreeMap<String, GcsBucket>> {
        Box::pin(self.observe(reads, version))
    }

    fn execute<'a>(&'a self, call: &'a Call) -> BoxFuture<'a, Result<(), CloudError>> {
        Box::pin(self.execute(call))
    }
}
