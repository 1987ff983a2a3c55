//! What every backend's calls say about themselves: the contract between a backend's folder
//! and the rest of the core. A backend's `call.rs` defines its calls and implements
//! [`CloudCall`]; the plan (`action::CloudAction`), its events and the storage-safety checker
//! read calls only through it, so they name no backend.
//!
//! This file and the backends' `call.rs` are the core's lowest storage layer: they import
//! nothing but the API types and each other (`scripts/check-core-purity` holds them to it).

use crate::api::storage::Storage;

/// How a plan groups an action when counting and printing it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Change {
    /// Something new.
    Create,
    /// Something existing changes.
    Update,
    /// Something goes away.
    Delete,
}

/// What a call does to the storage the registry's data lives in, as the safety rules see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Guard<'a> {
    /// Creates the storage named so: allowed only once the Config holds that name.
    Creates(&'a str),
    /// Deletes the storage named so: allowed only for storage the Config recorded, the operator
    /// manages and the cloud shows as this cluster's, while the registry is being removed.
    Deletes(&'a str),
    /// Configures storage that exists (or something inside it): loses nothing.
    Configures,
}

/// One backend's calls, as the plan, its events and the safety rules see them.
pub trait CloudCall {
    /// The call, named as service then operation (`S3CreateBucket`): the first part of its id,
    /// independent of how [`CloudCall::describe`] words it.
    fn name(&self) -> &'static str;
    /// What the call acts on (a bucket, `account/container`, a container).
    fn resource(&self) -> String;
    /// One imperative line.
    fn describe(&self) -> String;
    /// Whether it creates, changes or removes something.
    fn change(&self) -> Change;
    /// The event a successful call is reported with (reason, text before the resource).
    fn event(&self) -> Option<(&'static str, &'static str)>;
    /// What it does to the registry's storage.
    fn guard(&self) -> Guard<'_>;
    /// What the storage is called in messages (`bucket`, `storage account`).
    fn what(&self) -> &'static str;
}

/// Whose storage a backend's call touches: what the Config records and what the cloud shows.
pub trait Ownership {
    /// What the backend's cloud said (`storage::<backend>::facts::Facts`).
    type Facts;
    /// The storage's name `storage` records for this backend.
    fn recorded(storage: &Storage) -> Option<&str>;
    /// For a deletion: `Ok` when the call requires this cluster's mark and the cloud shows it
    /// on the storage; else the mark's name.
    fn marked(&self, facts: &Self::Facts, infra: &str) -> Result<(), &'static str>;
}
