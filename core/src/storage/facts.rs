//! What every backend's facts share: whether a named resource is there. With the backends'
//! `facts.rs`, the lowest storage layer (it names only the API types).

use serde::{Deserialize, Serialize};

/// What `HeadBucket` (or the backend's equivalent) answered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum BucketState {
    /// It exists and the operator's credentials can use it.
    Exists,
    /// It does not exist.
    #[default]
    Missing,
    /// It exists but the credentials may not use it (often: another account's bucket).
    Forbidden,
    /// The question could not be answered (network, throttling, …); see `message`.
    Unknown,
}

/// Facts that may hold secret values a cloud handed out (an account key, an HMAC pair): a
/// snapshot replaces each with the placeholder `hide` gives. Every backend's `Facts` implements
/// it, so the snapshot names no backend.
pub trait Secrets {
    /// Replaces every secret value with `hide(value)`.
    fn hide_secrets(&mut self, _hide: &mut dyn FnMut(&str) -> String) {}
}

/// Whether a backend's facts hold nothing (left out of a snapshot's text).
pub fn is_empty<T: Default + PartialEq>(facts: &T) -> bool {
    *facts == T::default()
}
