//! A small typed client for the GCS JSON API: the bucket and object calls the operator makes,
//! on reqwest with the operator's rustls (aws-lc) and the process's `HTTP(S)_PROXY`/`NO_PROXY`
//! (the HTTP stack Google's official auth crate, which gives the tokens, already brings). Hand-written because the official `google-cloud-storage` crate manages buckets over
//! gRPC, which no emulator here speaks (gcp-storage-emulator serves the JSON API only), and the
//! community JSON crates bring a second HTTP and token stack. Only the fields the operator owns
//! are ever sent: an update never carries `null` for a field it does not set.

use crate::cloud::CloudError;
use std::collections::BTreeMap;

use http::{Method, StatusCode, header};
use image_registry_core::outcome::ErrorClass;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use super::errors::classify;
use crate::cloud::calls::CallCounter;

/// Google's endpoint for the JSON API.
pub const DEFAULT_ENDPOINT: &str = "https://storage.googleapis.com";

/// Unreserved characters stay; everything else in a path segment is escaped (`/` included:
/// an object name's slashes are part of one segment).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Where a token comes from: Google's auth crate, or none (an emulator).
#[derive(Clone)]
pub enum Auth {
    /// Bearer tokens from these credentials (cached and refreshed by the crate).
    Google(google_cloud_auth::credentials::AccessTokenCredentials),
    /// No `Authorization` header: only for an emulator named by the test stand.
    Anonymous,
}

/// A bucket as GCS describes it, reduced to what the operator reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bucket {
    /// Its labels.
    pub labels: BTreeMap<String, String>,
}

/// A GCS JSON API client.
#[derive(Clone)]
pub struct GcsClient {
    http: reqwest::Client,
    endpoint: String,
    auth: Auth,
    user_agent: String,
    calls: CallCounter,
}

impl GcsClient {
    /// A client for `endpoint` (no trailing slash) trusting `roots`.
    pub fn new(
        endpoint: &str,
        auth: Auth,
        roots: rustls::RootCertStore,
        version: &str,
        calls: CallCounter,
    ) -> Result<Self, String> {
        let http = crate::cloud::http::client(roots, "GCS")?;
        Ok(Self {
            http,
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            auth,
            user_agent: format!("cluster-image-registry-operator/{version}"),
            calls,
        })
    }

    /// `GET /storage/v1/b/{bucket}`; `None` when it does not exist.
    pub async fn get_bucket(&self, bucket: &str) -> Result<Option<Bucket>, CloudError> {
        let path = format!("/storage/v1/b/{}?fields=labels", segment(bucket));
        match self.send("buckets.get", Method::GET, &path, None).await {
            Ok(body) => Ok(Some(Bucket { labels: labels_of(&body) })),
            Err(e) if e.status == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `POST /storage/v1/b?project=`: a bucket with labels and, when given, a default KMS key.
    /// Returns the bucket as created (its labels: an emulator may drop them).
    pub async fn insert_bucket(
        &self,
        project: &str,
        bucket: &str,
        location: &str,
        labels: &BTreeMap<String, String>,
        kms_key: &str,
    ) -> Result<Bucket, CloudError> {
        let mut body = serde_json::Map::new();
        body.insert("name".to_owned(), json!(bucket));
        body.insert("location".to_owned(), json!(location));
        body.insert("labels".to_owned(), json!(labels));
        if !kms_key.is_empty() {
            body.insert("encryption".to_owned(), json!({ "defaultKmsKeyName": kms_key }));
        }
        let body = Value::Object(body);
        let path = format!("/storage/v1/b?project={}", segment(project));
        self.send("buckets.insert", Method::POST, &path, Some(body))
            .await
            .map(|created| Bucket { labels: labels_of(&created) })
    }

    /// `PATCH /storage/v1/b/{bucket}` with only `labels`: GCS merges the keys given into the
    /// bucket's labels, so labels the operator does not own stay.
    pub async fn patch_labels(&self, bucket: &str, labels: &BTreeMap<String, String>) -> Result<(), CloudError> {
        let path = format!("/storage/v1/b/{}?fields=labels", segment(bucket));
        self.send("buckets.patch", Method::PATCH, &path, Some(json!({ "labels": labels }))).await.map(drop)
    }

    /// One page of object names (`GET /storage/v1/b/{bucket}/o`), every version included, and
    /// the token of the next page.
    pub async fn list_objects(
        &self,
        bucket: &str,
        page: Option<&str>,
    ) -> Result<(Vec<(String, String)>, Option<String>), CloudError> {
        let mut path = format!(
            "/storage/v1/b/{}/o?versions=true&maxResults=1000&fields=items(name,generation),nextPageToken",
            segment(bucket)
        );
        if let Some(token) = page {
            path.push_str(&format!("&pageToken={}", segment(token)));
        }
        let body = self.send("objects.list", Method::GET, &path, None).await?;
        let items = body.get("items").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        let names = items
            .iter()
            .filter_map(|item| {
                let name = item.get("name")?.as_str()?.to_owned();
                let generation = item.get("generation").and_then(Value::as_str).unwrap_or_default().to_owned();
                Some((name, generation))
            })
            .collect();
        let next = body.get("nextPageToken").and_then(Value::as_str).filter(|t| !t.is_empty()).map(str::to_owned);
        Ok((names, next))
    }

    /// `DELETE /storage/v1/b/{bucket}/o/{object}` (that generation, when given); gone is done.
    pub async fn delete_object(&self, bucket: &str, object: &str, generation: &str) -> Result<(), CloudError> {
        let mut path = format!("/storage/v1/b/{}/o/{}", segment(bucket), segment(object));
        if !generation.is_empty() {
            path.push_str(&format!("?generation={}", segment(generation)));
        }
        match self.send("objects.delete", Method::DELETE, &path, None).await {
            Err(e) if e.status == Some(404) => Ok(()),
            other => other.map(drop),
        }
    }

    /// `DELETE /storage/v1/b/{bucket}`; gone is done, not empty is a conflict.
    pub async fn delete_bucket(&self, bucket: &str) -> Result<(), CloudError> {
        let path = format!("/storage/v1/b/{}", segment(bucket));
        match self.send("buckets.delete", Method::DELETE, &path, None).await {
            Err(e) if e.status == Some(404) => Ok(()),
            other => other.map(drop),
        }
    }

    /// Sends one call, counts it, and reads its JSON answer (empty for 204).
    async fn send(&self, call: &str, method: Method, path: &str, body: Option<Value>) -> Result<Value, CloudError> {
        self.send_to(call, method, &format!("{}{path}", self.endpoint), body).await
    }

    /// Sends one call to `url` (another Google API, with the same token), counts it, and reads
    /// its JSON answer.
    pub async fn send_to(
        &self,
        call: &str,
        method: Method,
        url: &str,
        body: Option<Value>,
    ) -> Result<Value, CloudError> {
        let result = self.exchange(call, method, url, body).await;
        self.calls.count("gcs", call, result.as_ref().map(drop).map_err(|e| e.class));
        result
    }

    async fn exchange(&self, call: &str, method: Method, url: &str, body: Option<Value>) -> Result<Value, CloudError> {
        let failed =
            |class: ErrorClass, message: String| CloudError { status: None, code: String::new(), class, message };
        let mut request = self
            .http
            .request(method, url)
            .header(header::USER_AGENT, &self.user_agent)
            .header(header::ACCEPT, "application/json");
        if let Auth::Google(credentials) = &self.auth {
            let token = credentials
                .access_token()
                .await
                .map_err(|e| failed(ErrorClass::Forbidden, format!("{call}: cannot get an access token: {e}")))?;
            request = request.header(header::AUTHORIZATION, format!("Bearer {}", token.token));
        }
        if let Some(value) = &body {
            request = request.header(header::CONTENT_TYPE, "application/json").body(value.to_string());
        }
        let transport = |e: reqwest::Error| {
            let (class, message) = crate::cloud::http::transport(call, &e);
            failed(class, message)
        };
        let response = request.send().await.map_err(transport)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(transport)?;
        let value: Value =
            if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
        if status.is_success() {
            return Ok(value);
        }
        Err(error(call, status, &value))
    }
}

/// A GCS error answer (`{"error": {"code", "message", "errors": [{"reason"}]}}`), understood.
pub(super) fn error(call: &str, status: StatusCode, body: &Value) -> CloudError {
    let detail = body.get("error");
    let message = detail.and_then(|e| e.get("message")).and_then(Value::as_str).unwrap_or_default();
    let reason =
        detail.and_then(|e| e.pointer("/errors/0/reason")).and_then(Value::as_str).unwrap_or_default().to_owned();
    let code = status.as_u16();
    let text = match (reason.as_str(), message) {
        ("", "") => format!("{call}: HTTP {code}"),
        ("", message) => format!("{call}: HTTP {code}: {message}"),
        (reason, "") => format!("{call}: {reason}"),
        (reason, message) => format!("{call}: {reason}: {message}"),
    };
    CloudError { status: Some(code), class: classify(code, &reason), code: reason, message: text }
}

fn labels_of(bucket: &Value) -> BTreeMap<String, String> {
    let Some(Value::Object(labels)) = bucket.get("labels") else { return BTreeMap::new() };
    labels.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect()
}

/// `text` as one URL path segment or query value.
pub fn segment(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_names_are_one_path_segment() {
        assert_eq!(segment("docker/registry/v2/a b"), "docker%2Fregistry%2Fv2%2Fa%20b");
        assert_eq!(segment("bucket-1.x_y~z"), "bucket-1.x_y~z");
    }

    #[test]
    fn error_answers_name_the_call_and_the_reason() {
        let body = json!({"error": {"code": 403, "message": "no access", "errors": [{"reason": "forbidden"}]}});
        let e = error("buckets.get", StatusCode::FORBIDDEN, &body);
        assert_eq!((e.status, e.code.as_str(), e.class), (Some(403), "forbidden", ErrorClass::Forbidden));
        assert_eq!(e.message, "buckets.get: forbidden: no access");
        let bare = error("buckets.delete", StatusCode::CONFLICT, &Value::Null);
        assert_eq!((bare.message.as_str(), bare.class), ("buckets.delete: HTTP 409", ErrorClass::Conflict));
    }
}
