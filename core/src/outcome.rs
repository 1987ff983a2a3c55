//! What happened to each action of the previous pass, as data. The shell classifies errors;
//! the core decides what they mean.

use serde::{Deserialize, Serialize};

/// The result of executing one action.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Outcome {
    /// The [`crate::plan::Step::id`] of the action.
    pub action_id: String,
    /// Success or a classified error.
    pub result: OutcomeResult,
}

/// Success or a classified failure.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "camelCase", deny_unknown_fields)]
pub enum OutcomeResult {
    /// The action took effect.
    Succeeded,
    /// The action failed.
    Failed {
        /// What kind of failure.
        class: ErrorClass,
        /// The server's or SDK's message.
        message: String,
    },
    /// Not attempted: an earlier action it depends on failed.
    Skipped,
}

/// Error categories: a bounded set, so they can label metrics too.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ErrorClass {
    /// 409 on a stale resourceVersion or a failed precondition.
    Conflict,
    /// 409 on create: the object exists already.
    AlreadyExists,
    /// 404.
    NotFound,
    /// 401/403.
    Forbidden,
    /// 429 or a cloud throttling code.
    Throttled,
    /// 400/422: the request itself is wrong.
    Invalid,
    /// 500/503, connection refused, DNS.
    Unavailable,
    /// No answer in time.
    Timeout,
    /// Anything else.
    Other,
}

impl ErrorClass {
    /// Whether retrying the same request later may succeed.
    pub fn is_transient(self) -> bool {
        matches!(self, Self::Conflict | Self::Throttled | Self::Unavailable | Self::Timeout)
    }
}
