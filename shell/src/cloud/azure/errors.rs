//! What an Azure error means for the plan: the HTTP status and the service's error code (kept:
//! the removal rules of spec 30 §6.8 turn on `ContainerNotFound`, `AccountNotFound`,
//! `AuthorizationPermissionMismatch`), its [`ErrorClass`], and a message naming the call. No key
//! or token is ever part of a message.

use crate::cloud::CloudError;
use image_registry_core::outcome::ErrorClass;

/// The class of an answer: throttling and conflicts by code first, then by status.
pub fn classify(status: u16, code: &str) -> ErrorClass {
    match code {
        "StorageAccountAlreadyTaken" | "ContainerAlreadyExists" | "StorageAccountAlreadyExists" => {
            ErrorClass::AlreadyExists
        }
        "ContainerNotFound" | "AccountNotFound" | "ResourceNotFound" | "ResourceGroupNotFound" => ErrorClass::NotFound,
        "AuthorizationPermissionMismatch" | "AuthorizationFailure" | "AuthorizationFailed" => ErrorClass::Forbidden,
        "TooManyRequests" | "ServerBusy" => ErrorClass::Throttled,
        _ => crate::cloud::http::status_class(status),
    }
}

/// An `azure_core` error from `call`, understood.
#[expect(
    clippy::wildcard_enum_match_arm,
    reason = "a foreign error enum that grows with its crate: a kind this code does not know is classed as the generic case"
)]
pub fn from_core(call: &str, e: &azure_core::Error) -> CloudError {
    use azure_core::error::ErrorKind;
    match e.kind() {
        ErrorKind::HttpResponse { status, error_code, raw_response } => {
            let status = u16::from(*status);
            let code = error_code.clone().unwrap_or_default();
            let said = raw_response.as_ref().and_then(|r| service_message(r.body().as_ref()));
            let message = match (code.is_empty(), said) {
                (true, _) => format!("{call}: HTTP {status}"),
                (false, None) => format!("{call}: {code}"),
                (false, Some(said)) => format!("{call}: {code}: {said}"),
            };
            CloudError { status: Some(status), class: classify(status, &code), code, message }
        }
        ErrorKind::Io | ErrorKind::Connection => CloudError {
            status: None,
            code: String::new(),
            class: ErrorClass::Unavailable,
            message: format!("{call}: cannot connect: {e}"),
        },
        ErrorKind::Credential => CloudError {
            status: None,
            code: String::new(),
            class: ErrorClass::Forbidden,
            message: format!("{call}: cannot get a token: {e}"),
        },
        _ => {
            CloudError { status: None, code: String::new(), class: ErrorClass::Other, message: format!("{call}: {e}") }
        }
    }
}

/// The first line of a Blob service error's `<Message>` (the lines after it are the request's
/// ID and time, which differ on every try and would make a condition flap). The service never
/// echoes a key or a token there.
fn service_message(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<Message>")? + "<Message>".len();
    let end = start + text.get(start..)?.find("</Message>")?;
    let line = text.get(start..end)?.lines().next()?.trim();
    let line = line.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'");
    let line = line.replace("&amp;", "&");
    (!line.is_empty()).then_some(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_services_message_is_kept_without_the_request_id() {
        let body = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthenticationFailed</Code>\
            <Message>Server failed to authenticate the request &amp; said so.\nRequestId:1f2e\nTime:2026-12-03T10:00:00Z</Message></Error>";
        assert_eq!(
            service_message(body.as_bytes()).as_deref(),
            Some("Server failed to authenticate the request & said so.")
        );
        assert_eq!(service_message(b"<Error><Code>X</Code></Error>"), None);
        assert_eq!(service_message(b"<Message></Message>"), None);
        assert_eq!(service_message(b"not xml <Message>unterminated"), None);
    }

    #[test]
    fn codes_win_over_statuses() {
        assert_eq!(classify(409, "StorageAccountAlreadyTaken"), ErrorClass::AlreadyExists);
        assert_eq!(classify(403, "AuthorizationPermissionMismatch"), ErrorClass::Forbidden);
        assert_eq!(classify(404, "ContainerNotFound"), ErrorClass::NotFound);
        assert!(classify(429, "").is_transient());
        assert_eq!(classify(503, "ServerBusy"), ErrorClass::Throttled);
    }
}
