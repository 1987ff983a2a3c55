//! What a Keystone or Swift error means for the plan: the HTTP status (kept, so a 404 can be
//! told from the rest), its [`ErrorClass`], and a message naming the call. Neither a token nor
//! a password is ever part of a message: only the service's own error text is quoted.

use crate::cloud::CloudError;
use image_registry_core::outcome::ErrorClass;
use serde_json::Value;

impl CloudError {
    /// A call that got no answer.
    pub fn transport(call: &str, e: &reqwest::Error) -> Self {
        let (class, message) = crate::cloud::http::transport(call, e);
        Self { status: None, code: String::new(), class, message }
    }
}

/// The class of an answer's status. A 409 on a container's DELETE means it is not empty.
pub fn classify(status: u16) -> ErrorClass {
    match status {
        // Swift's "rate limited" answer.
        498 => ErrorClass::Throttled,
        _ => crate::cloud::http::status_class(status),
    }
}

/// An error answer: Keystone's JSON (`{"error": {"message"}}`) or Swift's short HTML page,
/// reduced to one line of text.
pub fn answer_error(call: &str, status: u16, body: &[u8]) -> CloudError {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let text = match json.pointer("/error/message").and_then(Value::as_str) {
        Some(message) => message.to_owned(),
        None => plain(&String::from_utf8_lossy(body)),
    };
    let message =
        if text.is_empty() { format!("{call}: HTTP {status}") } else { format!("{call}: HTTP {status}: {text}") };
    CloudError { status: Some(status), code: String::new(), class: classify(status), message }
}

/// Markup dropped, whitespace collapsed, at most 200 characters.
fn plain(body: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => {
                in_tag = true;
                out.push(' ');
            }
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let words: Vec<&str> = out.split_whitespace().collect();
    words.join(" ").chars().take(200).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_become_one_line_naming_the_call() {
        let html = b"<html><h1>Conflict</h1><p>There was a conflict when trying to complete your request.</p></html>";
        let e = answer_error("DeleteContainer", 409, html);
        assert_eq!(e.class, ErrorClass::Conflict);
        assert_eq!(
            e.message,
            "DeleteContainer: HTTP 409: Conflict There was a conflict when trying to complete your request."
        );
        let keystone = br#"{"error": {"code": 401, "title": "Unauthorized", "message": "The request you have made requires authentication."}}"#;
        let e = answer_error("Keystone token", 401, keystone);
        assert_eq!((e.class, e.status), (ErrorClass::Forbidden, Some(401)));
        assert_eq!(e.message, "Keystone token: HTTP 401: The request you have made requires authentication.");
        assert_eq!(answer_error("HeadContainer", 503, b"").message, "HeadContainer: HTTP 503");
    }
}
