//! The Swift object-store calls the operator makes (spec 30 §7.6, §7.7): list containers (the
//! probe), HEAD / PUT a container with metadata, list a container's objects a page at a time,
//! bulk-delete them (one DELETE per object where the cluster lacks the bulk middleware), and
//! DELETE the container. Plain HTTP on the shared stack: Swift's API is a handful of verbs on
//! paths, and no maintained Rust crate speaks it without its own HTTP and config stack.
//!
//! The client logs in lazily, keeps the token while Swift accepts it, and logs in again once
//! when Swift answers 401 (an expired or revoked token).

use crate::cloud::CloudError;
use std::collections::BTreeMap;
use std::sync::Mutex;

use bytes::Bytes;
use http::{HeaderMap, Method, StatusCode, header};
use image_registry_core::api::storage::Swift;
use image_registry_core::outcome::ErrorClass;
use image_registry_core::storage::swift::Credentials;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

use super::errors::answer_error;
use super::keystone;
use crate::cloud::calls::CallCounter;

/// Objects listed (and bulk-deleted) per page, as the reference does.
pub const PAGE: usize = 50;

const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// What logging in gives, or why not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Login {
    /// Keystone could not be asked, or refused.
    Failed(CloudError),
    /// Keystone answered, but its catalog offers no object store here.
    NoObjectStore(String),
}

/// Who the client logs in as, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// Keystone's URL, normalised (it ends in its version).
    pub auth_url: String,
    /// The credentials.
    pub credentials: Credentials,
    /// The effective Swift config (project, domain, region).
    pub swift: Swift,
}

#[derive(Clone)]
struct Session {
    token: String,
    storage: String,
}

/// A Swift client for one identity.
pub struct SwiftClient {
    http: reqwest::Client,
    calls: CallCounter,
    identity: Identity,
    user_agent: String,
    session: Mutex<Option<Session>>,
}

impl SwiftClient {
    /// A client that logs in as `identity` through `http`.
    pub fn new(http: reqwest::Client, identity: Identity, version: &str, calls: CallCounter) -> Self {
        Self {
            http,
            calls,
            identity,
            user_agent: format!("cluster-image-registry-operator/{version}"),
            session: Mutex::new(None),
        }
    }

    /// The token and storage URL: the current ones, or fresh from Keystone.
    async fn session(&self, fresh: bool) -> Result<Session, Login> {
        if !fresh && let Some(session) = crate::locks::lock(&self.session).clone() {
            return Ok(session);
        }
        let Identity { auth_url, credentials, swift } = &self.identity;
        let token = keystone::authenticate(&self.http, &self.calls, auth_url, credentials, swift)
            .await
            .map_err(Login::Failed)?;
        let storage = keystone::object_store(&token.catalog, &swift.region_name).map_err(Login::NoObjectStore)?;
        let session = Session { token: token.id, storage };
        *crate::locks::lock(&self.session) = Some(session.clone());
        Ok(session)
    }

    /// Logs in (when not logged in yet): whether Keystone answers and offers an object store.
    pub async fn login(&self) -> Result<(), Login> {
        self.session(false).await.map(drop)
    }

    /// `GET <account>?limit=1`: whether the account can be listed (the availability probe).
    pub async fn list_containers(&self) -> Result<(), CloudError> {
        self.send("ListContainers", Method::GET, "?format=json&limit=1", &[], None).await.map(drop)
    }

    /// `HEAD <container>`: its `X-Container-Meta-*` metadata (canonical suffix → value), or
    /// `None` when it does not exist.
    pub async fn head_container(&self, container: &str) -> Result<Option<BTreeMap<String, String>>, CloudError> {
        match self.send("HeadContainer", Method::HEAD, &path(container), &[], None).await {
            Ok((headers, _)) => Ok(Some(metadata(&headers))),
            Err(e) if e.status == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `PUT <container>` with `X-Container-Meta-<key>: <value>` for each of `metadata`.
    pub async fn put_container(&self, container: &str, metadata: &[(String, String)]) -> Result<(), CloudError> {
        let headers: Vec<(String, String)> =
            metadata.iter().map(|(k, v)| (format!("X-Container-Meta-{k}"), v.clone())).collect();
        self.send("PutContainer", Method::PUT, &path(container), &headers, None).await.map(drop)
    }

    /// The first page of the container's object names; empty when the container is gone.
    pub async fn list_objects(&self, container: &str) -> Result<Vec<String>, CloudError> {
        let target = format!("{}?format=json&limit={PAGE}", path(container));
        match self.send("ListObjects", Method::GET, &target, &[], None).await {
            Ok((_, body)) => {
                let listed: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let items = listed.as_array().map(Vec::as_slice).unwrap_or_default();
                Ok(items.iter().filter_map(|o| o.get("name")?.as_str().map(str::to_owned)).collect())
            }
            Err(e) if e.status == Some(404) => Ok(Vec::new()),
            Err(e) => Err(e),
        }
    }

    /// Deletes `objects` of `container`: one bulk-delete request, or (where the cluster has no
    /// bulk middleware, so no report comes back) one DELETE each. Objects already gone count
    /// as deleted; any other failure names each object, as the reference does.
    pub async fn delete_objects(&self, container: &str, objects: &[String]) -> Result<(), CloudError> {
        let lines: Vec<String> = objects.iter().map(|o| format!("/{}/{}", segment(container), segment(o))).collect();
        let headers = [("Content-Type".to_owned(), "text/plain".to_owned())];
        let bulk = self.send("BulkDelete", Method::POST, "?bulk-delete", &headers, Some(lines.join("\n"))).await;
        let report = match bulk {
            Ok((_, body)) => serde_json::from_slice::<Value>(&body).ok().filter(|r| r.get("Response Status").is_some()),
            Err(e) if matches!(e.status, Some(404 | 405 | 501)) => None,
            Err(e) => return Err(e),
        };
        let mut failures = Vec::new();
        match report {
            Some(report) => {
                let errors = report.get("Errors").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
                for error in errors {
                    let name = error.get(0).and_then(Value::as_str).unwrap_or_default();
                    let name = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
                    let name = name
                        .split_once('/')
                        .map_or(name.as_ref(), |(_, rest)| rest.split_once('/').map_or(rest, |(_, o)| o));
                    let why = error.get(1).and_then(Value::as_str).unwrap_or_default();
                    failures.push(format!("cannot delete object {name}: {why}"));
                }
                let status = report.get("Response Status").and_then(Value::as_str).unwrap_or_default();
                if failures.is_empty() && !status.starts_with('2') {
                    failures.push(format!("bulk delete answered {status}"));
                }
            }
            None => {
                for object in objects {
                    let target = format!("{}/{}", path(container), segment(object));
                    match self.send("DeleteObject", Method::DELETE, &target, &[], None).await {
                        Ok(_) => {}
                        Err(e) if e.status == Some(404) => {}
                        Err(e) => failures.push(format!("cannot delete object {object}: {}", e.message)),
                    }
                }
            }
        }
        let summary = match failures.as_slice() {
            [] => return Ok(()),
            [one] => one.clone(),
            many => format!("[{}]", many.join(", ")),
        };
        Err(CloudError {
            code: String::new(),
            status: None,
            class: ErrorClass::Other,
            message: format!("errors occurred during bulk deleting of container {container} objects: {summary}"),
        })
    }

    /// `DELETE <container>`; gone is done, not empty is a conflict.
    pub async fn delete_container(&self, container: &str) -> Result<(), CloudError> {
        match self.send("DeleteContainer", Method::DELETE, &path(container), &[], None).await {
            Err(e) if e.status == Some(404) => Ok(()),
            other => other.map(drop),
        }
    }

    /// Sends one call to `<storage URL><target>`, counts it, and logs in again once on 401.
    async fn send(
        &self,
        call: &str,
        method: Method,
        target: &str,
        headers: &[(String, String)],
        body: Option<String>,
    ) -> Result<(HeaderMap, Bytes), CloudError> {
        let login = |e: Login| match e {
            Login::Failed(e) => e,
            Login::NoObjectStore(message) => {
                CloudError { status: None, code: String::new(), class: ErrorClass::NotFound, message }
            }
        };
        let mut session = self.session(false).await.map_err(login)?;
        let mut retried = false;
        loop {
            let result = self.exchange(call, &session, method.clone(), target, headers, body.clone()).await;
            self.calls.count("swift", call, result.as_ref().map(drop).map_err(|e| e.class));
            match result {
                Err(e) if e.status == Some(401) && !retried => {
                    retried = true;
                    session = self.session(true).await.map_err(login)?;
                }
                other => return other,
            }
        }
    }

    async fn exchange(
        &self,
        call: &str,
        session: &Session,
        method: Method,
        target: &str,
        headers: &[(String, String)],
        body: Option<String>,
    ) -> Result<(HeaderMap, Bytes), CloudError> {
        let mut request = self
            .http
            .request(method, format!("{}{target}", session.storage))
            .header("X-Auth-Token", &session.token)
            .header(header::USER_AGENT, &self.user_agent)
            .header(header::ACCEPT, "application/json");
        for (name, value) in headers {
            request = request.header(name, value);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.map_err(|e| CloudError::transport(call, &e))?;
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.map_err(|e| CloudError::transport(call, &e))?;
        if status.is_success() || status == StatusCode::NOT_MODIFIED {
            return Ok((headers, bytes));
        }
        Err(answer_error(call, status.as_u16(), &bytes))
    }
}

/// `/<container>`, escaped.
fn path(container: &str) -> String {
    format!("/{}", segment(container))
}

fn segment(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

/// `X-Container-Meta-*` headers as `Openshiftclusterid` → value: each hyphen-separated word
/// capitalised (HTTP/2 and proxies lowercase header names; Go's canonical form is kept).
fn metadata(headers: &HeaderMap) -> BTreeMap<String, String> {
    headers
        .iter()
        .filter_map(|(name, value)| {
            let suffix = name.as_str().strip_prefix("x-container-meta-")?;
            Some((canonical(suffix), value.to_str().ok()?.to_owned()))
        })
        .collect()
}

fn canonical(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + &chars.as_str().to_ascii_lowercase())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_keys_take_gos_canonical_form() {
        let mut headers = HeaderMap::new();
        headers.insert("x-container-meta-openshiftclusterid", "c1".parse().unwrap());
        headers.insert("x-container-meta-some-thing", "v".parse().unwrap());
        headers.insert("x-container-object-count", "3".parse().unwrap());
        let found = metadata(&headers);
        assert_eq!(found.get("Openshiftclusterid").map(String::as_str), Some("c1"));
        assert_eq!(found.get("Some-Thing").map(String::as_str), Some("v"));
        assert_eq!(found.len(), 2);
    }

    #[test]
    fn names_are_escaped_as_one_segment() {
        assert_eq!(path("c 1"), "/c%201");
        assert_eq!(segment("docker/registry/v2/a"), "docker%2Fregistry%2Fv2%2Fa");
    }
}
