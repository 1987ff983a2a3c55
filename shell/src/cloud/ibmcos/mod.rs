//! IBM Cloud Object Storage: the shell's half of the IBM COS backend. The core says what to
//! read (`storage::ibmcos::read::Reads`): the instance and key by CRN or by name, the
//! buckets; this reads them through IAM and the Resource Controller ([`api`]) and the bucket
//! through COS's S3 API with the key's HMAC pair (the AWS SDK, as `cloud::s3` builds it), and
//! carries out the plan's calls.
//!
//! Quiet towards the cloud: one read's facts are reused for the resync period while the reads,
//! the API key and the trust stay the same, and read again right after the operator's own
//! call; an instance still provisioning, or a failed read, is read again on the next pass.

pub mod api;
pub mod permissions;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_sdk_s3::config::SharedHttpClient;
use futures::future::BoxFuture;
use image_registry_core::outcome::ErrorClass;
use image_registry_core::storage::ibmcos::call::{Call, CosTarget};
use image_registry_core::storage::ibmcos::facts::{CosBucket, Facts, Hmac};
use image_registry_core::storage::ibmcos::read::{Lookup, Reads};
use image_registry_core::storage::s3::call::S3Target;
use image_registry_core::storage::s3::read::{BucketRead, Credentials, Trust};

use super::CloudError;
use super::calls::CallCounter;
use super::seen::Seen;
use crate::locks::lock;
use api::Api;

/// The IBM COS half of the operator's clouds.
pub struct IbmCosCloud {
    resync: Duration,
    calls: CallCounter,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    session: Option<Arc<Session>>,
    /// The last reads (as printed: the API key redacted), the session they used, their facts.
    seen: Seen<(String, u64, Facts)>,
}

/// The API key, endpoints and trust of the last read, with the clients made from them.
struct Session {
    id: u64,
    fingerprint: (Credentials, Trust, String),
    api: Api,
    s3_http: SharedHttpClient,
    version: String,
    /// The HMAC pair of the key the last read found, for the bucket calls.
    hmac: Mutex<Option<Hmac>>,
}

/// The one name the facts are kept under.
const SEEN: &str = "ibmcos";

impl IbmCosCloud {
    /// A client that reuses facts for `resync` and counts calls in `calls`.
    pub fn new(resync: Duration, calls: CallCounter) -> Self {
        Self { resync, calls, state: Mutex::new(State::default()) }
    }

    /// What IBM Cloud says about what the core asks.
    pub async fn observe(&self, reads: &Reads, version: &str) -> Facts {
        let session = match self.session(reads, version) {
            Ok(session) => session,
            Err(error) => return Facts { error, ..Facts::default() },
        };
        let printed = format!("{reads:?}");
        if let Some((seen, id, facts)) = lock(&self.state).seen.fresh(SEEN, self.resync)
            && seen == printed
            && id == session.id
        {
            return facts;
        }
        let facts = match read(&session, reads, &self.calls).await {
            Ok(facts) => facts,
            Err(e) => return Facts { error: e.message, ..Facts::default() },
        };
        let settled = facts.instances.values().all(|i| i.state != "provisioning");
        lock(&self.state).seen.record(SEEN, (printed, session.id, facts.clone()), settled);
        facts
    }

    fn session(&self, reads: &Reads, version: &str) -> Result<Arc<Session>, String> {
        let key = reads.api_key.clone()?;
        let trust = reads.trust.clone()?;
        let fingerprint = (key.clone(), trust.clone(), format!("{:?}{version}", reads.endpoints));
        let mut state = lock(&self.state);
        if let Some(session) = &state.session
            && session.fingerprint == fingerprint
        {
            return Ok(session.clone());
        }
        let roots = super::http::roots(trust.bundle.as_deref(), "IBM Cloud")?;
        let http = super::http::client(roots, "IBM Cloud")?;
        let s3_http = super::s3::client::http_client(&trust)?;
        let id = state.session.as_ref().map_or(1, |s| s.id + 1);
        let session = Arc::new(Session {
            id,
            fingerprint,
            api: Api::new(http, reads.endpoints.clone(), key.0),
            s3_http,
            version: version.to_owned(),
            hmac: Mutex::new(None),
        });
        state.session = Some(session.clone());
        Ok(session)
    }

    /// Carries out one call with the last read's session.
    pub async fn execute(&self, call: &Call) -> Result<(), CloudError> {
        let session = lock(&self.state).session.clone().ok_or_else(|| {
            CloudError::new(ErrorClass::Unavailable, "IBM Cloud has not been read yet; the next pass reads it")
        })?;
        // Whatever happens, the next pass reads again.
        lock(&self.state).seen.forget(SEEN);
        let calls = &self.calls;
        match call {
            Call::CreateServiceInstance { name, resource_group_id, tags } => {
                session.api.create_instance(calls, name, resource_group_id, tags).await
            }
            Call::CreateResourceKey { name, instance_crn } => session.api.create_key(calls, name, instance_crn).await,
            Call::CreateBucket { target } => {
                let client = session.bucket_client(target)?;
                super::s3::execute::create(&client, &s3_target(target, true), calls).await
            }
            Call::DeleteBucket { target, instance_crn, instance_name } => {
                // The mark is read again right before, as every backend's delete does: only a
                // bucket of the instance named for this cluster goes.
                let instance = session.api.instance(calls, instance_crn).await?;
                if instance.name != *instance_name {
                    return Err(CloudError::new(
                        ErrorClass::Invalid,
                        format!(
                            "refusing to delete IBM COS bucket {}: its service instance is not {instance_name}, so this cluster did not create it",
                            target.bucket
                        ),
                    ));
                }
                let client = session.bucket_client(target)?;
                super::s3::delete::empty_and_delete(&client, &target.bucket, calls).await
            }
        }
    }
}

/// Where COS's S3 API is for a bucket: path style, no dual stack. A bucket is created with
/// `LocationConstraint=<location>-smart` (the reference's storage class); COS does not check
/// the region an HMAC signature names, so the same one signs.
fn s3_target(target: &CosTarget, creating: bool) -> S3Target {
    let region = if creating { format!("{}-smart", target.location) } else { target.location.clone() };
    S3Target {
        bucket: target.bucket.clone(),
        region,
        endpoint: target.endpoint.clone(),
        virtual_hosted_style: false,
        dual_stack: false,
    }
}

impl Session {
    fn bucket_client(&self, target: &CosTarget) -> Result<aws_sdk_s3::Client, CloudError> {
        let hmac = lock(&self.hmac).clone().ok_or_else(|| {
            CloudError::new(ErrorClass::Unavailable, "no HMAC key has been read yet; the next pass reads it")
        })?;
        let file = image_registry_core::storage::ibmcos::read::credentials_file(&hmac);
        super::s3::client::client(&s3_target(target, true), &file, self.s3_http.clone(), &self.version)
            .map_err(|m| CloudError::new(ErrorClass::Invalid, m))
    }
}

/// Reads the instance, the key and the buckets.
async fn read(session: &Session, reads: &Reads, calls: &CallCounter) -> Result<Facts, CloudError> {
    let api = &session.api;
    let mut facts = Facts::default();
    match &reads.instance {
        Lookup::Crn(crn) => {
            facts.instances.insert(crn.clone(), api.instance(calls, crn).await?);
        }
        Lookup::Named { name, within } => {
            if let Some(group) = api.group(calls, within).await? {
                facts.instances.extend(api.instances(calls, name, &group).await?);
                facts.groups.insert(within.clone(), group);
            }
        }
    }
    let mut hmac = None;
    match &reads.key {
        Some(Lookup::Crn(crn)) => {
            let key = api.key(calls, crn).await?;
            hmac.clone_from(&key.hmac);
            facts.keys.insert(crn.clone(), key);
        }
        Some(Lookup::Named { name, within }) => {
            let found = api.keys(calls, name, within).await?;
            hmac = found.iter().find(|(_, k)| k.state == "active").and_then(|(_, k)| k.hmac.clone());
            facts.keys.extend(found);
        }
        None => {}
    }
    if let Some(hmac) = hmac {
        *lock(&session.hmac) = Some(hmac);
        for target in &reads.buckets {
            let client = session.bucket_client(target)?;
            let read = BucketRead { target: s3_target(target, false), configuration: false };
            let seen = super::s3::observe::bucket(&client, &read, calls).await;
            facts.buckets.insert(target.bucket.clone(), CosBucket { state: seen.state, message: seen.message });
        }
    }
    Ok(facts)
}

/// The shell's client for this backend (`cloud::Backend`).
pub type Client = IbmCosCloud;

impl super::Backend for IbmCosCloud {
    type Reads = Reads;
    type Facts = Facts;
    type Call = Call;

    fn from_env(resync: Duration, calls: CallCounter) -> Result<Self, String> {
        Ok(Self::new(resync, calls))
    }

    fn read<'a>(&'a self, reads: &'a Reads, version: &'a str) -> BoxFuture<'a, Facts> {
        Box::pin(self.observe(reads, version))
    }

    fn execute<'a>(&'a self, call: &'a Call) -> BoxFuture<'a, Result<(), CloudError>> {
        Box::pin(self.execute(call))
    }
}
