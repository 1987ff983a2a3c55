//! Cloud storage calls in the plan: the plan's call type ([`CloudAction`], one variant per
//! backend, each backend's calls in its own folder), made from the list of backends (`storage::backends`). Everything else about a call it asks the backend's calls
//! through `storage::call::CloudCall`, so this file names no backend.

use serde::Serialize;

use crate::api::storage::Storage;
use crate::observed::CloudFacts;
use crate::storage::call::{Change, CloudCall, Guard, Ownership};

/// The plan's call type, from the list of backends (`storage::backends`).
macro_rules! cloud_action {
    ($($(#[$doc:meta])* $variant:ident => $module:ident;)*) => {
        /// A call to a cloud storage service: one variant per backend.
        #[derive(Clone, Debug, PartialEq, Eq, Serialize)]
        #[serde(untagged)]
        pub enum CloudAction {
            $($(#[$doc])* $variant(crate::storage::$module::call::Call),)*
        }

        impl CloudAction {
            /// The backend's call.
            fn inner(&self) -> &dyn CloudCall {
                match self {
                    $(Self::$variant(call) => call,)*
                }
            }

            /// For a deletion: `Ok` when it requires this cluster's mark and the cloud shows it.
            pub fn marked(&self, cloud: &CloudFacts, infra: &str) -> Result<(), &'static str> {
                match self {
                    $(Self::$variant(call) => call.marked(&cloud.$module, infra),)*
                }
            }

            /// The name of the storage `storage` records for this call's backend.
            pub fn recorded<'s>(&self, storage: &'s Storage) -> Option<&'s str> {
                match self {
                    $(Self::$variant(_) => <crate::storage::$module::call::Call as Ownership>::recorded(storage),)*
                }
            }
        }

    };
}

crate::cloud_backends!(cloud_action);

impl CloudAction {
    /// The call, named as service then operation (`S3CreateBucket`): the first part of its id.
    pub fn call(&self) -> &'static str {
        self.inner().name()
    }

    /// What the call acts on: the bucket, `account/container` or the Swift container.
    pub fn resource(&self) -> String {
        self.inner().resource()
    }

    /// Whether it creates, changes or removes something.
    pub fn change(&self) -> Change {
        self.inner().change()
    }

    /// The event a successful call is reported with (reason, text before the resource).
    pub fn event(&self) -> Option<(&'static str, &'static str)> {
        self.inner().event()
    }

    /// What it does to the registry's storage.
    pub fn guard(&self) -> Guard<'_> {
        self.inner().guard()
    }

    /// What the storage is called in messages.
    pub fn what(&self) -> &'static str {
        self.inner().what()
    }

    pub(super) fn describe(&self) -> String {
        self.inner().describe()
    }

    pub(super) fn is_destructive(&self) -> bool {
        self.change() == Change::Delete
    }
}
