//! The seam to cloud storage: what the clouds say about the buckets the Config names, and the
//! calls the plan makes. [`Clouds`] is the shipped operator's: S3 through the AWS SDK
//! ([`s3`]), GCS through its JSON API ([`gcs`]), Swift through Keystone and its object-store
//! API ([`swift`]), Azure through the Resource Manager and the blob service ([`azure`]).

pub mod azure;
pub mod calls;
pub mod gcs;
pub mod http;
pub mod s3;
pub mod seen;
pub mod swift;
pub mod trust;

use std::time::Duration;

#[cfg(feature = "fake-cloud")]
use crate::locks::lock;
use futures::future::BoxFuture;
use image_registry_core::CloudReads;
use image_registry_core::action::CloudAction;
use image_registry_core::observed::CloudFacts;
use image_registry_core::outcome::ErrorClass;

use self::calls::CallCounter;

/// A failed cloud call: its class and the service's message.
pub type CloudError = (ErrorClass, String);

/// One implementation per way of reaching the clouds.
pub trait CloudApi: Send + Sync {
    /// What the clouds say about what the core asks (`image_registry_core::reads`), read with
    /// the credentials and trust the reads carry.
    fn observe<'a>(&'a self, reads: &'a CloudReads) -> BoxFuture<'a, CloudFacts>;
    /// Carries out one call.
    fn execute<'a>(&'a self, call: &'a CloudAction) -> BoxFuture<'a, Result<(), CloudError>>;
}

/// The shipped operator's clouds.
pub struct Clouds {
    s3: s3::S3Cloud,
    gcs: gcs::GcsCloud,
    swift: swift::SwiftCloud,
    azure: azure::AzureCloud,
}

impl Clouds {
    /// Clouds whose observations are reused for `resync` while nothing they depend on changes,
    /// counting every call in `calls`.
    pub fn new(resync: Duration, calls: CallCounter) -> Result<Self, String> {
        // Google's client libraries' convention: an emulator named by STORAGE_EMULATOR_HOST is
        // called without tokens (the test stand's gcp-storage-emulator).
        let endpoint = match std::env::var("STORAGE_EMULATOR_HOST") {
            Ok(host) if !host.is_empty() => gcs::Endpoint::Emulator(host),
            _ => gcs::Endpoint::Google,
        };
        // A test stand's Azure endpoints (ARM double, azurite), never a cluster's.
        let stand = match std::env::var("AZURE_EMULATOR_ENDPOINTS") {
            Ok(json) if !json.is_empty() => Some(
                serde_json::from_str::<azure::Endpoints>(&json)
                    .map_err(|e| format!("AZURE_EMULATOR_ENDPOINTS is not valid: {e}"))?,
            ),
            _ => None,
        };
        Ok(Self {
            s3: s3::S3Cloud::new(resync, calls.clone()),
            gcs: gcs::GcsCloud::new(endpoint, resync, calls.clone()),
            swift: swift::SwiftCloud::new(resync, calls.clone()),
            azure: azure::AzureCloud::new(stand, resync, calls),
        })
    }
}

impl CloudApi for Clouds {
    fn observe<'a>(&'a self, reads: &'a CloudReads) -> BoxFuture<'a, CloudFacts> {
        Box::pin(async move {
            let mut facts = CloudFacts::default();
            let version = reads.version.as_str();
            if let Some(s3) = &reads.s3 {
                facts.s3 = self.s3.observe(s3, version).await;
            }
            if let Some(gcs) = &reads.gcs {
                facts.gcs = self.gcs.observe(gcs, version).await;
            }
            if let Some(swift) = &reads.swift {
                if let Some(login) = &swift.probe {
                    facts.swift.probe = Some(self.swift.probe(login, version).await);
                }
                facts.swift.containers = self.swift.observe(&swift.login, &swift.containers, version).await;
            }
            if let Some(azure) = &reads.azure {
                facts.azure.accounts = self.azure.observe(azure).await;
                facts.azure.vnets = self.azure.observe_vnets(azure).await;
            }
            facts
        })
    }

    fn execute<'a>(&'a self, call: &'a CloudAction) -> BoxFuture<'a, Result<(), CloudError>> {
        Box::pin(async move {
            match call {
                CloudAction::S3(call) => self.s3.execute(call).await,
                CloudAction::Gcs(call) => self.gcs.execute(call).await,
                CloudAction::Swift(call) => self.swift.execute(call).await,
                CloudAction::Azure(call) => self.azure.execute(call).await,
            }
        })
    }
}

/// The world model's clouds (the ones `simulate` uses) as the operator's clouds: a test double
/// for the test stand, compiled only with the `fake-cloud` feature.
#[cfg(feature = "fake-cloud")]
pub struct FakeCloud {
    facts: std::sync::Mutex<CloudFacts>,
    calls: std::sync::Mutex<Vec<CloudAction>>,
}

#[cfg(feature = "fake-cloud")]
impl FakeCloud {
    /// Clouds that start as `facts` say.
    pub fn new(facts: CloudFacts) -> Self {
        Self { facts: std::sync::Mutex::new(facts), calls: std::sync::Mutex::new(Vec::new()) }
    }

    /// Every call that succeeded, in order.
    pub fn calls(&self) -> Vec<CloudAction> {
        lock(&self.calls).clone()
    }

    /// The clouds now.
    pub fn facts(&self) -> CloudFacts {
        lock(&self.facts).clone()
    }
}

#[cfg(feature = "fake-cloud")]
impl CloudApi for FakeCloud {
    fn observe<'a>(&'a self, reads: &'a CloudReads) -> BoxFuture<'a, CloudFacts> {
        Box::pin(async move {
            let mut facts = lock(&self.facts);
            image_registry_world::cloud::name(&mut facts, reads);
            facts.clone()
        })
    }

    fn execute<'a>(&'a self, call: &'a CloudAction) -> BoxFuture<'a, Result<(), CloudError>> {
        Box::pin(async move {
            image_registry_world::cloud::carry_out(&mut lock(&self.facts), call)?;
            lock(&self.calls).push(call.clone());
            Ok(())
        })
    }
}
