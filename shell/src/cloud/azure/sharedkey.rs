//! Shared Key authorization for the Blob service, as a pipeline policy for the official
//! `azure_storage_blob` client: its 1.x release signs only with Entra tokens (or a SAS in the
//! URL), while the registry's own account key (the user's, or the primary key of an account the
//! operator made) is what a cluster without workload identity has. The signature follows
//! "Authorize with Shared Key" (version 2015-02-21 and later): the verb, the standard headers,
//! the `x-ms-*` headers sorted, then `/<account><path>` and the sorted query parameters.

use std::sync::Arc;

use async_trait::async_trait;
use azure_core::credentials::Secret;
use azure_core::http::policies::{Policy, PolicyResult};
use azure_core::http::{Context, Request};

/// Signs every try of a request with the account's key.
pub struct SharedKeyPolicy {
    account: String,
    key: Secret,
}

impl std::fmt::Debug for SharedKeyPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key.
        f.debug_struct("SharedKeyPolicy").field("account", &self.account).finish_non_exhaustive()
    }
}

impl SharedKeyPolicy {
    /// A policy signing as `account` with `key` (base64, as Azure gives it).
    pub fn new(account: &str, key: &str) -> Self {
        Self { account: account.to_owned(), key: Secret::new(key.to_owned()) }
    }
}

#[async_trait]
impl Policy for SharedKeyPolicy {
    async fn send(&self, ctx: &Context, request: &mut Request, next: &[Arc<dyn Policy>]) -> PolicyResult {
        let date = httpdate(std::time::SystemTime::now());
        request.insert_header("x-ms-date", date);
        let text = string_to_sign(&self.account, request);
        let signature = azure_core::hmac::hmac_sha256(&text, &self.key)?;
        request.insert_header("authorization", format!("SharedKey {}:{signature}", self.account));
        match next.split_first() {
            Some((policy, rest)) => policy.send(ctx, request, rest).await,
            None => Err(azure_core::Error::with_message(
                azure_core::error::ErrorKind::Other,
                "the Shared Key policy must not be the pipeline's last",
            )),
        }
    }
}

/// The canonical text a request is signed over.
pub fn string_to_sign(account: &str, request: &Request) -> String {
    let header = |name: &str| {
        request
            .headers()
            .iter()
            .find(|(n, _)| n.as_str().eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str().to_owned())
            .unwrap_or_default()
    };
    // An empty body is signed as an empty Content-Length, not "0".
    let length = match request.body().len() {
        Some(0) | None => String::new(),
        Some(n) => n.to_string(),
    };
    let mut ms: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_ascii_lowercase(), v.as_str().trim().to_owned()))
        .filter(|(n, _)| n.starts_with("x-ms-"))
        .collect();
    ms.sort();
    let mut text = format!(
        "{}\n{}\n{}\n{length}\n{}\n{}\n\n{}\n{}\n{}\n{}\n{}\n",
        request.method().as_ref().to_ascii_uppercase(),
        header("content-encoding"),
        header("content-language"),
        header("content-md5"),
        header("content-type"),
        header("if-modified-since"),
        header("if-match"),
        header("if-none-match"),
        header("if-unmodified-since"),
        header("range"),
    );
    for (name, value) in &ms {
        text.push_str(&format!("{name}:{value}\n"));
    }
    text.push_str(&format!("/{account}{}", request.url().path()));
    let mut query: Vec<(String, String)> =
        request.url().query_pairs().map(|(k, v)| (k.to_ascii_lowercase(), v.into_owned())).collect();
    query.sort();
    let mut names: Vec<&str> = query.iter().map(|(k, _)| k.as_str()).collect();
    names.dedup();
    for name in names {
        let values: Vec<&str> = query.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect();
        text.push_str(&format!("\n{name}:{}", values.join(",")));
    }
    text
}

/// An HTTP date (RFC 7231 IMF-fixdate), as `x-ms-date` wants it.
fn httpdate(now: std::time::SystemTime) -> String {
    let at = jiff::Timestamp::try_from(now).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    at.strftime("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use azure_core::http::{Method, Url};

    #[test]
    fn the_text_to_sign_has_the_documented_shape() {
        let url =
            Url::parse("http://127.0.0.1:10000/devstoreaccount1/registry?restype=container&comp=metadata").unwrap();
        let mut request = Request::new(url, Method::Put);
        request.insert_header("x-ms-version", "2025-11-05");
        request.insert_header("x-ms-date", "Thu, 03 Dec 2026 09:00:00 GMT");
        let text = string_to_sign("devstoreaccount1", &request);
        assert_eq!(
            text,
            "PUT\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Thu, 03 Dec 2026 09:00:00 GMT\nx-ms-version:2025-11-05\n\
             /devstoreaccount1/devstoreaccount1/registry\ncomp:metadata\nrestype:container"
        );
    }

    #[test]
    fn the_key_never_shows() {
        let policy = SharedKeyPolicy::new("acct", "c2VjcmV0LWtleQ==");
        assert!(!format!("{policy:?}").contains("c2VjcmV0"));
    }

    #[test]
    fn dates_are_imf_fixdate() {
        let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_796_288_400);
        assert_eq!(httpdate(at), "Thu, 03 Dec 2026 09:00:00 GMT");
    }
}
