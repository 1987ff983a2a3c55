//! One error for every cloud client: the answer's HTTP status (when one came), the service's
//! own code (`NoSuchBucket`, `StorageAccountAlreadyTaken`, `notFound`; empty when it gave
//! none), how the plan treats it, and the message the conditions carry (`<call>: <code>:
//! <text>`, never a credential).

use image_registry_core::outcome::ErrorClass;

/// A failed cloud call or read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloudError {
    /// The HTTP status, when an answer came.
    pub status: Option<u16>,
    /// The service's error code, when it gave one.
    pub code: String,
    /// How the plan treats it.
    pub class: ErrorClass,
    /// What went wrong, for conditions and logs.
    pub message: String,
}

impl CloudError {
    /// A failure that is not the service's answer (no credentials yet, a request that cannot be
    /// built): no status, no code.
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        Self { status: None, code: String::new(), class, message: message.into() }
    }
}

impl std::fmt::Display for CloudError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CloudError {}
