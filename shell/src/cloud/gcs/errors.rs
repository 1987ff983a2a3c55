//! What a GCS error means for the plan: its HTTP status and reason (kept, so conditions can
//! name them), its [`ErrorClass`], and a message naming the call. No token or key is ever part
//! of the message.

use image_registry_core::outcome::ErrorClass;

/// A failed GCS call, understood.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GcsError {
    /// The HTTP status, when an answer came.
    pub status: Option<u16>,
    /// GCS's reason (`notFound`, `forbidden`, `conflict`, `rateLimitExceeded`, ...), when given.
    pub reason: String,
    /// How the plan treats it.
    pub class: ErrorClass,
    /// `<call>: <reason>: <message>` or `<call>: <transport error>`.
    pub message: String,
}

/// The class of a GCS answer: by reason, then by status. A 409 on insert means the name is
/// taken (by this project or another); on delete, that the bucket is not empty.
pub fn classify(status: u16, reason: &str) -> ErrorClass {
    match reason {
        "rateLimitExceeded" | "userRateLimitExceeded" | "quotaExceeded" => ErrorClass::Throttled,
        "invalid" | "invalidArgument" | "required" | "badRequest" => ErrorClass::Invalid,
        _ => crate::cloud::http::status_class(status),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_win_over_statuses_and_throttling_is_transient() {
        assert_eq!(classify(403, "rateLimitExceeded"), ErrorClass::Throttled);
        assert!(classify(429, "").is_transient());
        assert_eq!(classify(409, "conflict"), ErrorClass::Conflict);
        assert_eq!(classify(403, "forbidden"), ErrorClass::Forbidden);
        assert_eq!(classify(503, ""), ErrorClass::Unavailable);
    }
}
