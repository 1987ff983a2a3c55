//! S3 through the official AWS SDK: the shell's half of the S3 backend. The core says which
//! buckets to read, with which credentials file and trust (`storage::s3::read::Reads`); this
//! reads them and carries out the plan's S3 calls.
//!
//! Quiet towards the cloud: a bucket's facts are read at most once per resync period while
//! the Config, the credentials and the trust stay the same, and again right after the
//! operator's own call on that bucket. A failed read is not kept (the next pass asks again,
//! with the loop's backoff). A changed credentials secret or CA bundle builds new clients on
//! the next pass, without a restart.

// The bucket half of IBM COS (`cloud::ibmcos`) goes through these too.
pub(crate) mod client;
pub(crate) mod delete;
mod errors;
pub(crate) mod execute;
pub(crate) mod observe;
pub mod permissions;

use futures::future::BoxFuture;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_s3::config::SharedHttpClient;
use image_registry_core::observed::BucketState;
use image_registry_core::outcome::ErrorClass;
use image_registry_core::storage::s3::call::{Call, S3Target};
use image_registry_core::storage::s3::facts::S3Bucket;
use image_registry_core::storage::s3::read::{BucketRead, Credentials, Reads, Trust};

use super::CloudError;
use super::calls::CallCounter;
use super::seen::Seen;
use crate::locks::lock;

/// The S3 half of the operator's clouds.
pub struct S3Cloud {
    resync: Duration,
    calls: CallCounter,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    session: Option<Arc<Session>>,
    /// Bucket → the read that produced the facts, the session it used, and the facts.
    seen: Seen<(BucketRead, u64, S3Bucket)>,
}

/// Credentials and trust as of the last observation, with the clients built from them.
struct Session {
    id: u64,
    credentials: Credentials,
    trust: Trust,
    /// The operator's release version, for the user agent.
    version: String,
    http: SharedHttpClient,
    clients: Mutex<HashMap<S3Target, aws_sdk_s3::Client>>,
}

impl S3Cloud {
    /// A client that reuses a bucket's facts for `resync` and counts calls in `calls`.
    pub fn new(resync: Duration, calls: CallCounter) -> Self {
        Self { resync, calls, state: Mutex::new(State::default()) }
    }

    /// What S3 says about every bucket the core asks about; `version` is the operator's, for
    /// the user agent.
    pub async fn observe(&self, access: &Reads, version: &str) -> BTreeMap<String, S3Bucket> {
        let session = match self.session(access, version) {
            Ok(session) => session,
            Err(message) => {
                // Nothing can be read: every bucket is unknown, and the reason names the secret
                // or ConfigMap (never a value).
                return access
                    .buckets
                    .iter()
                    .map(|b| {
                        let facts =
                            S3Bucket { state: BucketState::Unknown, message: message.clone(), ..S3Bucket::default() };
                        (b.target.bucket.clone(), facts)
                    })
                    .collect();
            }
        };
        let mut facts = BTreeMap::new();
        for read in &access.buckets {
            let bucket = &read.target.bucket;
            if let Some(fresh) = self.cached(read, session.id) {
                facts.insert(bucket.clone(), fresh);
                continue;
            }
            let seen = match session.client(&read.target) {
                Ok(client) => observe::bucket(&client, read, &self.calls).await,
                Err(message) => S3Bucket { state: BucketState::Unknown, message, ..S3Bucket::default() },
            };
            let mut state = lock(&self.state);
            let reusable = seen.state != BucketState::Unknown;
            state.seen.record(bucket, (read.clone(), session.id, seen.clone()), reusable);
            facts.insert(bucket.clone(), seen);
        }
        facts
    }

    fn cached(&self, read: &BucketRead, session: u64) -> Option<S3Bucket> {
        let state = lock(&self.state);
        let (seen_read, seen_session, facts) = state.seen.fresh(&read.target.bucket, self.resync)?;
        (seen_read == *read && seen_session == session).then_some(facts)
    }

    /// The session for this pass's credentials and trust: the last one when they are unchanged.
    fn session(&self, access: &Reads, version: &str) -> Result<Arc<Session>, String> {
        let credentials = access.credentials.clone()?;
        let trust = access.trust.clone()?;
        let mut state = lock(&self.state);
        if let Some(session) = &state.session
            && session.credentials == credentials
            && session.trust == trust
            && session.version == version
        {
            return Ok(session.clone());
        }
        let http = client::http_client(&trust)?;
        let id = state.session.as_ref().map_or(1, |s| s.id + 1);
        let session = Arc::new(Session {
            id,
            credentials,
            trust,
            version: version.to_owned(),
            http,
            clients: Mutex::new(HashMap::new()),
        });
        state.session = Some(session.clone());
        Ok(session)
    }

    /// Carries out one S3 call with the last observation's session.
    pub async fn execute(&self, s3: &Call) -> Result<(), CloudError> {
        let session = lock(&self.state).session.clone().ok_or_else(|| {
            CloudError::new(ErrorClass::Unavailable, "no S3 credentials have been read yet; the next pass reads them")
        })?;
        // Whatever happens, the next pass reads this bucket again.
        lock(&self.state).seen.forget(&s3.target().bucket);
        let client = session.client(s3.target()).map_err(|m| CloudError::new(ErrorClass::Invalid, m))?;
        let calls = &self.calls;
        match s3 {
            Call::CreateBucket { target } => execute::create(&client, target, calls).await,
            Call::PutPublicAccessBlock { target } => execute::block_public_access(&client, target, calls).await,
            Call::PutBucketTagging { target, tags } => execute::tag(&client, target, tags, calls).await,
            Call::PutBucketEncryption { target, kms_key_id } => {
                execute::encrypt(&client, target, kms_key_id, calls).await
            }
            Call::PutLifecycleConfiguration { target } => {
                execute::expire_incomplete_uploads(&client, target, calls).await
            }
            Call::DeleteBucket { target, require_tag } => delete::delete(&client, target, require_tag, calls).await,
        }
    }
}

impl Session {
    fn client(&self, target: &S3Target) -> Result<aws_sdk_s3::Client, String> {
        let mut clients = lock(&self.clients);
        if let Some(client) = clients.get(target) {
            return Ok(client.clone());
        }
        let client = client::client(target, &self.credentials, self.http.clone(), &self.version)?;
        clients.insert(target.clone(), client.clone());
        Ok(client)
    }
}

/// The shell's client for this backend (`cloud::Backend`).
pub type Client = S3Cloud;

impl super::Backend for S3Cloud {
    type Reads = Reads;
    type Facts = BTreeMap<String, S3Bucket>;
    type Call = Call;

    fn from_env(resync: Duration, calls: CallCounter) -> Result<Self, String> {
        Ok(Self::new(resync, calls))
    }

    fn read<'a>(&'a self, reads: &'a Reads, version: &'a str) -> BoxFuture<'a, BTreeMap<String, S3Bucket>> {
        Box::pin(self.observe(reads, version))
    }

    fn execute<'a>(&'a self, call: &'a Call) -> BoxFuture<'a, Result<(), CloudError>> {
        Box::pin(self.execute(call))
    }
}
