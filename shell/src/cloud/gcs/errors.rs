//! What a GCS error means for the plan: its HTTP status and reason (kept, so conditions can
//! name them), its [`ErrorClass`], and a message naming the call. No token or key is ever part
//! of the message.

use image_registry_core::outcome::ErrorClass;

/// The class of a GCS answer: by reason, then by status. A 409 on insert means the name is
/// taken (by this project or another); on delete, that the bucket is not empty.
pub fn classify(status: u16, code: &str) -> ErrorClass {
    match code {
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
