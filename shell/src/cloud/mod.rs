//! The seam to cloud storage: what the clouds say about the buckets the Config names, and the
//! calls the plan makes. [`Clouds`] is the shipped operator's: S3 through the AWS SDK
//! ([`s3`]), GCS through its JSON API ([`gcs`]), Swift through Keystone and its object-store
//! API ([`swift`]), Azure through the Resource Manager and the blob service ([`azure`]).

pub mod calls;
pub mod error;
pub mod http;
pub mod seen;
pub mod trust;

use std::time::Duration;

/// One folder per backend of the core's list (`cloud/<module>/`).
macro_rules! backend_modules {
    ($($(#[$doc:meta])* $variant:ident => $module:ident;)*) => {
        $($(#[$doc])* pub mod $module;)*
    };
}
image_registry_core::cloud_backends!(backend_modules);

#[cfg(feature = "fake-cloud")]
use crate::locks::lock;
use futures::future::BoxFuture;
use image_registry_core::CloudReads;
use image_registry_core::action::CloudAction;
use image_registry_core::observed::CloudFacts;

use self::calls::CallCounter;

pub use self::error::CloudError;

/// One implementation per way of reaching the clouds.
pub trait CloudApi: Send + Sync {
    /// What the clouds say about what the core asks (`image_registry_core::reads`), read with
    /// the credentials and trust the reads carry.
    fn observe<'a>(&'a self, reads: &'a CloudReads) -> BoxFuture<'a, CloudFacts>;
    /// Carries out one call.
    fn execute<'a>(&'a self, call: &'a CloudAction) -> BoxFuture<'a, Result<(), CloudError>>;
}

/// What every cloud's client does, whatever the cloud: read what the core asks and carry out
/// the core's calls. Each `cloud::<backend>` implements it on its `Client`; [`Clouds`] is made
/// from the core's list of backends, so the shell names each backend only in its own folder.
pub trait Backend: Send + Sync + Sized {
    /// What the core asks to read (`storage::<backend>::read::Reads`).
    type Reads: Sync;
    /// What the reads found (`storage::<backend>::facts::Facts`).
    type Facts;
    /// The backend's calls (`storage::<backend>::call::Call`).
    type Call: Sync;
    /// The client, reaching the endpoints a test stand names in the environment, else the
    /// cloud's; answers are reused for `resync`, every call is counted in `calls`.
    fn from_env(resync: Duration, calls: CallCounter) -> Result<Self, String>;
    /// Reads what the core asks; `version` is the operator's, for the user agent. A failed
    /// read is a fact too (`unknown`, with the reason), never an error of the pass.
    fn read<'a>(&'a self, reads: &'a Self::Reads, version: &'a str) -> BoxFuture<'a, Self::Facts>;
    /// Carries out one call, with the credentials the last read used.
    fn execute<'a>(&'a self, call: &'a Self::Call) -> BoxFuture<'a, Result<(), CloudError>>;
}

macro_rules! clouds {
    ($($(#[$doc:meta])* $variant:ident => $module:ident;)*) => {
        /// The shipped operator's clouds: one client per backend of the core's list.
        pub struct Clouds {
            $($module: $module::Client,)*
        }

        impl Clouds {
            /// Clouds whose observations are reused for `resync` while nothing they depend on
            /// changes, counting every call in `calls`.
            pub fn new(resync: Duration, calls: CallCounter) -> Result<Self, String> {
                Ok(Self { $($module: Backend::from_env(resync, calls.clone())?,)* })
            }
        }

        impl CloudApi for Clouds {
            fn observe<'a>(&'a self, reads: &'a CloudReads) -> BoxFuture<'a, CloudFacts> {
                Box::pin(async move {
                    let mut facts = CloudFacts::default();
                    $(
                        if let Some(asked) = &reads.$module {
                            facts.$module = self.$module.read(asked, &reads.version).await;
                        }
                    )*
                    facts
                })
            }

            fn execute<'a>(&'a self, call: &'a CloudAction) -> BoxFuture<'a, Result<(), CloudError>> {
                Box::pin(async move {
                    match call {
                        $(CloudAction::$variant(call) => self.$module.execute(call).await,)*
                    }
                })
            }
        }
    };
}
image_registry_core::cloud_backends!(clouds);

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
            image_registry_world::cloud::carry_out(&mut lock(&self.facts), call)
                .map_err(|(class, message)| CloudError::new(class, message))?;
            lock(&self.calls).push(call.clone());
            Ok(())
        })
    }
}
