//! Azure Resource Manager, as much as the registry's storage needs: storage accounts (get,
//! create with the cluster's tags and the settings of spec 30 §6.7, list keys, delete).
//! Hand-written on `azure_core`'s pipeline (bearer tokens for the cloud's ARM audience, retries
//! with `Retry-After`, the shared reqwest/rustls transport) because no current official Rust
//! crate manages storage accounts; no generated SDK. Long-running operations are followed through
//! `Azure-AsyncOperation`, else `Location`, within a bound: a create still running after it is a
//! transient error, and the next pass sees the account. The follower is hand-written because
//! `azure_core`'s poller serves the generated clients' typed operations, and no generated client
//! covers these calls.

use crate::cloud::CloudError;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use azure_core::credentials::TokenCredential;
use azure_core::http::policies::auth::BearerTokenAuthorizationPolicy;
use azure_core::http::{
    ClientOptions, Context, ExponentialRetryOptions, Method, Pipeline, PipelineSendOptions, Request, RetryOptions,
    Transport, Url,
};
use image_registry_core::outcome::ErrorClass;
use serde_json::{Value, json};

use super::errors::{classify, from_core};
use crate::cloud::calls::CallCounter;

/// The storage resource provider's API version.
pub const STORAGE_API: &str = "2023-05-01";
/// The storage API of Azure Stack Hub's profile (spec 30 §6.7 step 5).
pub const STACK_HUB_STORAGE_API: &str = "2019-06-01";

/// How long a create may run before the pass moves on.
const OPERATION_BOUND: Duration = Duration::from_secs(120);

/// A storage account, reduced to what the operator reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Account {
    /// Its tags.
    pub tags: BTreeMap<String, String>,
    /// `properties.publicNetworkAccess` (`Enabled`, `Disabled`, or empty).
    pub public_network_access: String,
    /// `properties.provisioningState`.
    pub provisioning_state: String,
    /// `properties.allowSharedKeyAccess` (absent: allowed).
    pub allow_shared_key_access: Option<bool>,
}

/// An ARM client for one subscription.
#[derive(Clone)]
pub struct Arm {
    pipeline: Pipeline,
    endpoint: String,
    subscription: String,
    calls: CallCounter,
    /// Azure Stack Hub: its storage API version and `Storage` accounts.
    stack_hub: bool,
}

impl std::fmt::Debug for Arm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Arm").field("endpoint", &self.endpoint).finish_non_exhaustive()
    }
}

impl Arm {
    /// A client for `subscription` at `endpoint` (e.g. `https://management.azure.com`), with tokens
    /// for `audience` from `credential`, over `http`.
    pub fn new(
        endpoint: &str,
        audience: &str,
        subscription: &str,
        credential: Arc<dyn TokenCredential>,
        http: reqwest::Client,
        calls: CallCounter,
    ) -> Self {
        let scope = format!("{}/.default", audience.trim_end_matches('/'));
        let retry = ExponentialRetryOptions {
            initial_delay: azure_core::time::Duration::seconds(1),
            max_retries: 2,
            max_total_elapsed: azure_core::time::Duration::seconds(60),
            max_delay: azure_core::time::Duration::seconds(10),
        };
        let options = ClientOptions {
            transport: Some(Transport::new(Arc::new(http))),
            retry: RetryOptions::exponential(retry),
            ..ClientOptions::default()
        };
        let auth = BearerTokenAuthorizationPolicy::new(credential, vec![scope]);
        let pipeline = Pipeline::new(
            Some("cluster-image-registry-operator"),
            option_env!("CARGO_PKG_VERSION"),
            options,
            Vec::new(),
            vec![Arc::new(auth)],
            None,
        );
        Self {
            pipeline,
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            subscription: subscription.to_owned(),
            calls,
            stack_hub: false,
        }
    }

    /// The same client speaking Azure Stack Hub's storage API profile.
    pub fn on_stack_hub(mut self) -> Self {
        self.stack_hub = true;
        self
    }

    fn storage_api(&self) -> &'static str {
        if self.stack_hub { STACK_HUB_STORAGE_API } else { STORAGE_API }
    }

    /// The Resource Manager's base URL.
    pub(super) fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The subscription.
    pub(super) fn subscription(&self) -> &str {
        &self.subscription
    }

    fn account_path(&self, group: &str, account: &str) -> String {
        format!(
            "/subscriptions/{}/resourceGroups/{group}/providers/Microsoft.Storage/storageAccounts/{account}",
            self.subscription
        )
    }

    /// `GET` the account; `None` when it does not exist.
    pub async fn get_account(&self, group: &str, account: &str) -> Result<Option<Account>, CloudError> {
        let url = format!("{}{}?api-version={}", self.endpoint, self.account_path(group, account), self.storage_api());
        match self.send("GetStorageAccount", Method::Get, &url, None).await {
            Ok((_, body)) => Ok(Some(account_of(&body))),
            Err(e) if e.status == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `PUT` the account (StorageV2, Standard_LRS, HTTPS only, no public blob access, TLS 1.2;
    /// on Stack Hub a `Storage` account with its tags only) with `tags` in `location`, and
    /// follows the operation to its end.
    pub async fn create_account(
        &self,
        group: &str,
        account: &str,
        location: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<(), CloudError> {
        const CALL: &str = "CreateStorageAccount";
        let url = format!("{}{}?api-version={}", self.endpoint, self.account_path(group, account), self.storage_api());
        // Stack Hub's profile knows only general-purpose v1 accounts and none of the settings.
        let body = if self.stack_hub {
            json!({ "location": location, "kind": "Storage", "sku": { "name": "Standard_LRS" }, "tags": tags })
        } else {
            json!({
            "location": location,
            "kind": "StorageV2",
            "sku": { "name": "Standard_LRS" },
            "tags": tags,
            "properties": {
                "supportsHttpsTrafficOnly": true,
                "allowBlobPublicAccess": false,
                "minimumTlsVersion": "TLS1_2",
            },
            })
        };
        let (headers, _) = self.send(CALL, Method::Put, &url, Some(body)).await?;
        self.follow(CALL, &headers).await
    }

    /// `PATCH` the account's `properties` (only those given), following the operation.
    pub async fn update_account(&self, group: &str, account: &str, properties: Value) -> Result<(), CloudError> {
        const CALL: &str = "UpdateStorageAccount";
        let url = format!("{}{}?api-version={}", self.endpoint, self.account_path(group, account), self.storage_api());
        let (headers, _) = self.send(CALL, Method::Patch, &url, Some(json!({ "properties": properties }))).await?;
        self.follow(CALL, &headers).await
    }

    /// Refuses shared keys on the account (`allowSharedKeyAccess: false`).
    pub async fn disallow_shared_key(&self, group: &str, account: &str) -> Result<(), CloudError> {
        self.update_account(group, account, json!({ "allowSharedKeyAccess": false })).await
    }

    /// The account's first key (`POST listKeys`); `None` when the account does not exist.
    pub async fn primary_key(&self, group: &str, account: &str) -> Result<Option<String>, CloudError> {
        let url = format!(
            "{}{}/listKeys?api-version={}&$expand=kerb",
            self.endpoint,
            self.account_path(group, account),
            self.storage_api()
        );
        match self.send("ListKeys", Method::Post, &url, None).await {
            Ok((_, body)) => {
                let key = body.pointer("/keys/0/value").and_then(Value::as_str).unwrap_or_default();
                if key.is_empty() {
                    return Err(CloudError {
                        status: None,
                        code: String::new(),
                        class: ErrorClass::Other,
                        message: format!("ListKeys: the storage account {account} has no keys"),
                    });
                }
                Ok(Some(key.to_owned()))
            }
            Err(e) if e.status == Some(404) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `DELETE` the account; one already gone is done.
    pub async fn delete_account(&self, group: &str, account: &str) -> Result<(), CloudError> {
        let url = format!("{}{}?api-version={}", self.endpoint, self.account_path(group, account), self.storage_api());
        match self.send("DeleteStorageAccount", Method::Delete, &url, None).await {
            Err(e) if e.status == Some(404) => Ok(()),
            other => other.map(drop),
        }
    }

    /// Follows a long-running operation from its first answer's headers: polls
    /// `Azure-AsyncOperation` until its status is final, else `Location` until it stops
    /// answering 202; waits as `Retry-After` says (at least 1 s, at most 10 s) within the bound.
    pub(super) async fn follow(&self, call: &str, headers: &BTreeMap<String, String>) -> Result<(), CloudError> {
        let (url, by_status) = match (headers.get("azure-asyncoperation"), headers.get("location")) {
            (Some(url), _) => (url.clone(), true),
            (None, Some(url)) => (url.clone(), false),
            (None, None) => return Ok(()),
        };
        let started = Instant::now();
        let mut wait = retry_after(headers);
        loop {
            tokio::time::sleep(wait).await;
            let (status, answer_headers, body) =
                self.exchange(Method::Get, &url, None).await.map_err(|e| from_core(call, &e))?;
            self.calls.count("azure", "PollOperation", if status < 400 { Ok(()) } else { Err(classify(status, "")) });
            if status >= 400 {
                return Err(error_of(call, status, &body));
            }
            let done = if by_status {
                match body.get("status").and_then(Value::as_str).unwrap_or_default() {
                    "Succeeded" => true,
                    "Failed" | "Canceled" => return Err(operation_failed(call, &body)),
                    _ => false,
                }
            } else {
                status != 202
            };
            if done {
                return Ok(());
            }
            if started.elapsed() > OPERATION_BOUND {
                return Err(CloudError {
                    status: None,
                    code: String::new(),
                    class: ErrorClass::Timeout,
                    message: format!(
                        "{call}: still running after {}s; the next pass looks again",
                        OPERATION_BOUND.as_secs()
                    ),
                });
            }
            wait = retry_after(&answer_headers);
        }
    }

    /// Sends one call, counts it, and reads its JSON answer and headers (lowercased names).
    pub(super) async fn send(
        &self,
        call: &str,
        method: Method,
        url: &str,
        body: Option<Value>,
    ) -> Result<(BTreeMap<String, String>, Value), CloudError> {
        let result = match self.exchange(method, url, body).await {
            Ok((status, headers, body)) if status < 400 => Ok((headers, body)),
            Ok((status, _, body)) => Err(error_of(call, status, &body)),
            Err(e) => Err(from_core(call, &e)),
        };
        self.calls.count("azure", call, result.as_ref().map(drop).map_err(|e| e.class));
        result
    }

    async fn exchange(
        &self,
        method: Method,
        url: &str,
        body: Option<Value>,
    ) -> azure_core::Result<(u16, BTreeMap<String, String>, Value)> {
        let url = Url::parse(url).map_err(|e| {
            azure_core::Error::with_message(azure_core::error::ErrorKind::DataConversion, format!("bad URL: {e}"))
        })?;
        let mut request = Request::new(url, method);
        request.insert_header("accept", "application/json");
        if let Some(body) = body {
            request.insert_header("content-type", "application/json");
            request.set_body(body.to_string());
        }
        let options = PipelineSendOptions { skip_checks: true, ..PipelineSendOptions::default() };
        let response = self.pipeline.send(&Context::new(), &mut request, Some(options)).await?;
        let status = u16::from(response.status());
        let headers =
            response.headers().iter().map(|(n, v)| (n.as_str().to_ascii_lowercase(), v.as_str().to_owned())).collect();
        let bytes = response.into_body();
        let value = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes).unwrap_or(Value::Null) };
        Ok((status, headers, value))
    }
}

fn account_of(body: &Value) -> Account {
    let text = |pointer: &str| body.pointer(pointer).and_then(Value::as_str).unwrap_or_default().to_owned();
    let tags = body
        .get("tags")
        .and_then(Value::as_object)
        .map(|tags| tags.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
        .unwrap_or_default();
    Account {
        tags,
        public_network_access: text("/properties/publicNetworkAccess"),
        provisioning_state: text("/properties/provisioningState"),
        allow_shared_key_access: body.pointer("/properties/allowSharedKeyAccess").and_then(Value::as_bool),
    }
}

/// ARM's error body (`{"error": {"code", "message"}}`), understood.
fn error_of(call: &str, status: u16, body: &Value) -> CloudError {
    let code = body.pointer("/error/code").and_then(Value::as_str).unwrap_or_default().to_owned();
    let text = body.pointer("/error/message").and_then(Value::as_str).unwrap_or_default();
    let message = match (code.as_str(), text) {
        ("", "") => format!("{call}: HTTP {status}"),
        ("", text) => format!("{call}: HTTP {status}: {text}"),
        (code, "") => format!("{call}: {code}"),
        (code, text) => format!("{call}: {code}: {text}"),
    };
    CloudError { status: Some(status), class: classify(status, &code), code, message }
}

fn operation_failed(call: &str, body: &Value) -> CloudError {
    let mut error = error_of(call, 200, body);
    error.status = None;
    if error.code.is_empty() {
        error.class = ErrorClass::Other;
        error.message =
            format!("{call}: the operation ended {}", body.get("status").and_then(Value::as_str).unwrap_or("badly"));
    }
    error
}

fn retry_after(headers: &BTreeMap<String, String>) -> Duration {
    let seconds = headers.get("retry-after").and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(1);
    Duration::from_secs(seconds.clamp(1, 10))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arm_errors_keep_the_code_and_name_the_call() {
        let body = json!({"error": {"code": "StorageAccountAlreadyTaken", "message": "The storage account named x is already taken."}});
        let e = error_of("CreateStorageAccount", 409, &body);
        assert_eq!((e.class, e.code.as_str()), (ErrorClass::AlreadyExists, "StorageAccountAlreadyTaken"));
        assert_eq!(
            e.message,
            "CreateStorageAccount: StorageAccountAlreadyTaken: The storage account named x is already taken."
        );
        assert_eq!(error_of("GetStorageAccount", 503, &Value::Null).class, ErrorClass::Unavailable);
    }

    #[test]
    fn retry_after_is_bounded() {
        let with = |v: &str| BTreeMap::from([("retry-after".to_owned(), v.to_owned())]);
        assert_eq!(retry_after(&with("0")), Duration::from_secs(1));
        assert_eq!(retry_after(&with("3")), Duration::from_secs(3));
        assert_eq!(retry_after(&with("600")), Duration::from_secs(10));
        assert_eq!(retry_after(&BTreeMap::new()), Duration::from_secs(1));
    }
}
