//! What an S3 error means for the plan: its AWS code (kept, so conditions can name it as the
//! reference does), its [`ErrorClass`] (by code first, then HTTP status, then transport), and a
//! message that names the call. No request or credential detail is ever part of the message.

use crate::cloud::CloudError;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use image_registry_core::outcome::ErrorClass;

use crate::cloud::calls::CallCounter;

/// Understands an SDK error from `call`.
#[expect(
    clippy::wildcard_enum_match_arm,
    reason = "a foreign error enum that grows with its crate: a kind this code does not know is classed as the generic case"
)]
pub fn understand<E>(call: &str, error: &SdkError<E, HttpResponse>) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let status = error.raw_response().map(|r| r.status().as_u16());
    let code = error.code().map(str::to_owned).unwrap_or_else(|| match status {
        Some(404) => "NotFound".to_owned(),
        Some(403) => "Forbidden".to_owned(),
        Some(301) => "PermanentRedirect".to_owned(),
        _ => String::new(),
    });
    let class = match error {
        SdkError::TimeoutError(_) => ErrorClass::Timeout,
        SdkError::DispatchFailure(failure) if failure.is_timeout() => ErrorClass::Timeout,
        SdkError::DispatchFailure(_) => ErrorClass::Unavailable,
        SdkError::ConstructionFailure(_) => ErrorClass::Invalid,
        _ => classify(&code, status),
    };
    let mut message = match (code.as_str(), error.message()) {
        ("", _) => format!("{call}: {}", chain(error)),
        (code, Some(text)) if !text.is_empty() => format!("{call}: {code}: {text}"),
        (code, _) => format!("{call}: {code}"),
    };
    // A bucket in another region answers 301 with no body; S3 names its region in a header.
    let region = error.raw_response().and_then(|r| r.headers().get("x-amz-bucket-region"));
    if status == Some(301)
        && let Some(region) = region
    {
        message.push_str(&format!(" (the bucket is in region {region}: set spec.storage.s3.region)"));
    }
    CloudError { code, status, class, message }
}

/// Finishes an S3 call: counts it (service `s3`, the call, its outcome) and understands its
/// error. Every call the client makes goes through here.
pub fn done<T, E>(
    calls: &CallCounter,
    call: &str,
    result: Result<T, SdkError<E, HttpResponse>>,
) -> Result<T, CloudError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let result = result.map_err(|e| understand(call, &e));
    calls.count("s3", call, result.as_ref().map(|_| ()).map_err(|e| e.class));
    result
}

/// An error and its sources, each once (`dispatch failure: io error: ... connection refused`).
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// The class of an AWS answer: by code, then by status.
pub fn classify(code: &str, status: Option<u16>) -> ErrorClass {
    match code {
        "BucketAlreadyExists" | "BucketAlreadyOwnedByYou" => ErrorClass::AlreadyExists,
        "NoSuchBucket"
        | "NotFound"
        | "NoSuchKey"
        | "NoSuchTagSet"
        | "NoSuchLifecycleConfiguration"
        | "NoSuchPublicAccessBlockConfiguration"
        | "ServerSideEncryptionConfigurationNotFoundError" => ErrorClass::NotFound,
        "AccessDenied"
        | "Forbidden"
        | "InvalidAccessKeyId"
        | "SignatureDoesNotMatch"
        | "ExpiredToken"
        | "InvalidToken"
        | "TokenRefreshRequired"
        | "AccountProblem"
        | "AllAccessDisabled" => ErrorClass::Forbidden,
        "SlowDown"
        | "Throttling"
        | "ThrottlingException"
        | "RequestLimitExceeded"
        | "TooManyRequests"
        | "RequestThrottled" => ErrorClass::Throttled,
        "InternalError" | "ServiceUnavailable" => ErrorClass::Unavailable,
        "RequestTimeout" | "RequestTimeTooSkewed" => ErrorClass::Timeout,
        "BucketNotEmpty" | "OperationAborted" => ErrorClass::Conflict,
        "InvalidBucketName"
        | "InvalidArgument"
        | "InvalidRequest"
        | "MalformedXML"
        | "InvalidLocationConstraint"
        | "IllegalLocationConstraintException"
        | "KMS.NotFoundException"
        | "InvalidTag" => ErrorClass::Invalid,
        _ => match status {
            Some(401 | 403) => ErrorClass::Forbidden,
            Some(404) => ErrorClass::NotFound,
            Some(409) => ErrorClass::Conflict,
            Some(429) => ErrorClass::Throttled,
            Some(408) => ErrorClass::Timeout,
            Some(400 | 422) => ErrorClass::Invalid,
            Some(500..=599) => ErrorClass::Unavailable,
            _ => ErrorClass::Other,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_win_over_statuses_and_throttling_is_transient() {
        assert_eq!(classify("SlowDown", Some(503)), ErrorClass::Throttled);
        assert!(classify("SlowDown", Some(503)).is_transient());
        assert_eq!(classify("InvalidAccessKeyId", Some(403)), ErrorClass::Forbidden);
        assert_eq!(classify("BucketAlreadyExists", Some(409)), ErrorClass::AlreadyExists);
        assert_eq!(classify("BucketNotEmpty", Some(409)), ErrorClass::Conflict);
        assert_eq!(classify("", Some(502)), ErrorClass::Unavailable);
        assert!(classify("", Some(502)).is_transient());
        assert_eq!(classify("Whatever", Some(429)), ErrorClass::Throttled);
        assert_eq!(classify("", None), ErrorClass::Other);
    }
}
