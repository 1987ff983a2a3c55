//! The seam to cloud storage: what the clouds say about the buckets the Config names, and the
//! calls the plan makes. Real clients (S3, GCS, Azure, Swift) plug in here; until they land, the
//! operator says plainly that it has none.

use futures::future::BoxFuture;
use image_registry_core::action::CloudAction;
use image_registry_core::observed::{BucketState, CloudFacts, ObjectStore};
use image_registry_core::outcome::ErrorClass;
use image_registry_core::storage::name_all;

/// A failed cloud call: its class and the service's message.
pub type CloudError = (ErrorClass, String);

/// One implementation per way of reaching the clouds.
pub trait CloudApi: Send + Sync {
    /// What the clouds say about every bucket, account and container the Config names.
    fn observe<'a>(&'a self, objects: &'a ObjectStore) -> BoxFuture<'a, CloudFacts>;
    /// Carries out one call.
    fn execute<'a>(&'a self, call: &'a CloudAction) -> BoxFuture<'a, Result<(), CloudError>>;
}

/// No cloud clients in this build: every named bucket is `unknown` with a message saying so,
/// and every call fails, so the Config's storage conditions tell the user why.
pub struct NoCloud;

const NO_CLIENT: &str = "this build of the operator has no cloud storage client yet";

impl CloudApi for NoCloud {
    fn observe<'a>(&'a self, objects: &'a ObjectStore) -> BoxFuture<'a, CloudFacts> {
        Box::pin(async move {
            let mut facts = CloudFacts::default();
            name_all(objects, &mut facts);
            let unknown = |state: &mut BucketState, message: &mut String| {
                *state = BucketState::Unknown;
                *message = NO_CLIENT.to_owned();
            };
            facts.s3.values_mut().for_each(|b| unknown(&mut b.state, &mut b.message));
            facts.gcs.values_mut().for_each(|b| unknown(&mut b.state, &mut b.message));
            facts.azure.values_mut().for_each(|b| unknown(&mut b.state, &mut b.message));
            facts.swift_containers.values_mut().for_each(|b| unknown(&mut b.state, &mut b.message));
            facts
        })
    }

    fn execute<'a>(&'a self, _: &'a CloudAction) -> BoxFuture<'a, Result<(), CloudError>> {
        Box::pin(async { Err((ErrorClass::Unavailable, NO_CLIENT.to_owned())) })
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
fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(feature = "fake-cloud")]
impl CloudApi for FakeCloud {
    fn observe<'a>(&'a self, objects: &'a ObjectStore) -> BoxFuture<'a, CloudFacts> {
        Box::pin(async move {
            let mut facts = lock(&self.facts);
            name_all(objects, &mut facts);
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
