//! IAM, the Resource Controller and the Resource Manager: a small typed client, written by
//! hand because IBM publishes no maintained Rust SDK for these APIs. Tokens come from the API
//! key and are reused until a minute before they expire; lists follow `next_url`; every call
//! is bounded (the shared HTTP stack) and counted.

use std::time::{Duration, Instant};

use image_registry_core::storage::ibmcos::Endpoints;
use image_registry_core::storage::ibmcos::facts::{Hmac, Instance, Key};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::cloud::CloudError;
use crate::cloud::calls::CallCounter;
use crate::cloud::http::{status_class, transport};

/// The service label of every call here in the call counter.
const SERVICE: &str = "ibmcloud";

/// How many pages of a list are followed at most (a bound on one read).
const PAGES: usize = 20;

/// One account's access: the API key, where the services are, and the current token.
pub struct Api {
    http: reqwest::Client,
    endpoints: Endpoints,
    api_key: String,
    token: tokio::sync::Mutex<Option<(String, Instant)>>,
}

#[derive(Deserialize)]
struct Token {
    access_token: String,
    #[serde(default)]
    expires_in: u64,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "T: serde::de::DeserializeOwned"))]
struct Page<T> {
    #[serde(default)]
    resources: Vec<T>,
    #[serde(default)]
    next_url: Option<String>,
}

#[derive(Deserialize)]
struct RcInstance {
    crn: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    resource_group_id: String,
}

#[derive(Deserialize)]
struct RcKey {
    crn: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    state: String,
    #[serde(default)]
    source_crn: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    credentials: Value,
}

#[derive(Deserialize)]
struct Group {
    id: String,
    #[serde(default)]
    name: String,
}

fn encode(crn: &str) -> String {
    utf8_percent_encode(crn, NON_ALPHANUMERIC).to_string()
}

impl Api {
    /// Access with `api_key` through `http`.
    pub fn new(http: reqwest::Client, endpoints: Endpoints, api_key: String) -> Self {
        Self { http, endpoints, api_key, token: tokio::sync::Mutex::new(None) }
    }

    /// `path` at the Resource Controller.
    fn controller(&self, path: &str) -> String {
        format!("{}{path}", self.endpoints.resource_controller.trim_end_matches('/'))
    }

    /// A bearer token: the last one while it has more than a minute left, else a new one.
    async fn token(&self, calls: &CallCounter) -> Result<String, CloudError> {
        let mut cached = self.token.lock().await;
        if let Some((token, until)) = cached.as_ref()
            && Instant::now() < *until
        {
            return Ok(token.clone());
        }
        let url = format!("{}/identity/token", self.endpoints.iam.trim_end_matches('/'));
        let form = [("grant_type", "urn:ibm:params:oauth:grant-type:apikey"), ("apikey", self.api_key.as_str())];
        let answer = self.http.post(&url).form(&form).header("Accept", "application/json").send().await;
        let token: Token = self.answer(calls, "IAMToken", answer).await?.ok_or_else(|| {
            CloudError::new(image_registry_core::ErrorClass::Forbidden, "IAM token: the API key was not found")
        })?;
        let lifetime = Duration::from_secs(token.expires_in.max(120) - 60);
        *cached = Some((token.access_token.clone(), Instant::now() + lifetime));
        Ok(token.access_token)
    }

    /// The JSON of a successful answer; `None` for 404. Counted as `call`.
    async fn answer<T: serde::de::DeserializeOwned>(
        &self,
        calls: &CallCounter,
        call: &str,
        answer: Result<reqwest::Response, reqwest::Error>,
    ) -> Result<Option<T>, CloudError> {
        let response = match answer {
            Ok(response) => response,
            Err(e) => {
                let (class, message) = transport(call, &e);
                calls.count(SERVICE, call, Err(class));
                return Err(CloudError::new(class, message));
            }
        };
        let status = response.status().as_u16();
        if status == 404 {
            calls.count(SERVICE, call, Ok(()));
            return Ok(None);
        }
        let body = response.text().await.unwrap_or_default();
        if !(200..300).contains(&status) {
            let class = status_class(status);
            calls.count(SERVICE, call, Err(class));
            // IBM's errors carry `message` (Resource Controller) or `errorMessage` (IAM).
            let detail: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
            let message = ["/message", "/errorMessage", "/errors/0/message"]
                .iter()
                .find_map(|p| detail.pointer(p).and_then(Value::as_str))
                .unwrap_or("no message");
            let mut error = CloudError::new(class, format!("{call}: HTTP {status}: {message}"));
            error.status = Some(status);
            return Err(error);
        }
        calls.count(SERVICE, call, Ok(()));
        serde_json::from_str(&body)
            .map(Some)
            .map_err(|e| CloudError::new(image_registry_core::ErrorClass::Other, format!("{call}: {e}")))
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        calls: &CallCounter,
        call: &str,
        url: &str,
    ) -> Result<Option<T>, CloudError> {
        let token = self.token(calls).await?;
        let answer = self.http.get(url).bearer_auth(token).header("Accept", "application/json").send().await;
        self.answer(calls, call, answer).await
    }

    /// Every item of a paged list starting at `path` (relative to `base`).
    async fn list<T: serde::de::DeserializeOwned>(
        &self,
        calls: &CallCounter,
        call: &str,
        base: &str,
        path: String,
    ) -> Result<Vec<T>, CloudError> {
        let base = base.trim_end_matches('/');
        let mut items = Vec::new();
        let mut next = Some(path);
        for _ in 0..PAGES {
            let Some(path) = next.take() else { break };
            let url = if path.starts_with("http") { path } else { format!("{base}{path}") };
            let Some(page) = self.get::<Page<T>>(calls, call, &url).await? else { break };
            items.extend(page.resources);
            next = page.next_url.filter(|n| !n.is_empty());
        }
        Ok(items)
    }

    /// The ID of the resource group named so, if there is one.
    pub async fn group(&self, calls: &CallCounter, name: &str) -> Result<Option<String>, CloudError> {
        let path = format!("/v2/resource_groups?name={}", encode(name));
        let groups: Vec<Group> = self.list(calls, "ListResourceGroups", &self.endpoints.resource_manager, path).await?;
        Ok(groups.into_iter().find(|g| g.name == name).map(|g| g.id))
    }

    /// The instance with this CRN (`missing` when the Resource Controller does not know it).
    pub async fn instance(&self, calls: &CallCounter, crn: &str) -> Result<Instance, CloudError> {
        let found: Option<RcInstance> =
            self.get(calls, "GetResourceInstance", &self.controller(&format!("/v2/resource_instances/{}", encode(crn)))).await?;
        Ok(found.map_or_else(|| Instance { state: "missing".into(), ..Instance::default() }, |i| instance(&i)))
    }

    /// The COS instances of this name in the group, by CRN.
    pub async fn instances(
        &self,
        calls: &CallCounter,
        name: &str,
        group: &str,
    ) -> Result<Vec<(String, Instance)>, CloudError> {
        let path = format!(
            "/v2/resource_instances?name={}&resource_group_id={}&resource_plan_id={}&type=service_instance",
            encode(name),
            encode(group),
            image_registry_core::storage::ibmcos::PLAN
        );
        let found: Vec<RcInstance> =
            self.list(calls, "ListResourceInstances", &self.endpoints.resource_controller, path).await?;
        Ok(found.iter().filter(|i| i.name == name).map(|i| (i.crn.clone(), instance(i))).collect())
    }

    /// The key with this CRN, its HMAC pair included (`missing` when unknown).
    pub async fn key(&self, calls: &CallCounter, crn: &str) -> Result<Key, CloudError> {
        let found: Option<RcKey> =
            self.get(calls, "GetResourceKey", &self.controller(&format!("/v2/resource_keys/{}", encode(crn)))).await?;
        Ok(found.map_or_else(|| Key { state: "missing".into(), ..Key::default() }, |k| key(&k)))
    }

    /// The keys of this name on the instance, by CRN, each read whole (lists redact credentials).
    pub async fn keys(
        &self,
        calls: &CallCounter,
        name: &str,
        instance: &str,
    ) -> Result<Vec<(String, Key)>, CloudError> {
        let path = format!("/v2/resource_keys?name={}", encode(name));
        let found: Vec<RcKey> = self.list(calls, "ListResourceKeys", &self.endpoints.resource_controller, path).await?;
        let mut keys = Vec::new();
        for listed in found.iter().filter(|k| k.name == name && k.source_crn == instance) {
            keys.push((listed.crn.clone(), self.key(calls, &listed.crn).await?));
        }
        Ok(keys)
    }

    /// Creates the COS instance (plan standard, `bluemix-global`).
    pub async fn create_instance(
        &self,
        calls: &CallCounter,
        name: &str,
        group: &str,
        tags: &[String],
    ) -> Result<(), CloudError> {
        let body = json!({
            "name": name,
            "target": "bluemix-global",
            "resource_group": group,
            "resource_plan_id": image_registry_core::storage::ibmcos::PLAN,
            "tags": tags,
        });
        self.post(calls, "CreateResourceInstance", "/v2/resource_instances", &body).await
    }

    /// Creates a Writer key with HMAC credentials for the instance.
    pub async fn create_key(&self, calls: &CallCounter, name: &str, instance: &str) -> Result<(), CloudError> {
        let body = json!({
            "name": name,
            "source": instance,
            "role": image_registry_core::storage::ibmcos::WRITER,
            "parameters": {"HMAC": true},
        });
        self.post(calls, "CreateResourceKey", "/v2/resource_keys", &body).await
    }

    async fn post(&self, calls: &CallCounter, call: &str, path: &str, body: &Value) -> Result<(), CloudError> {
        let token = self.token(calls).await?;
        let answer = self.http.post(self.controller(path)).bearer_auth(token).json(body).send().await;
        match self.answer::<Value>(calls, call, answer).await? {
            Some(_) => Ok(()),
            None => Err(CloudError::new(image_registry_core::ErrorClass::NotFound, format!("{call}: HTTP 404"))),
        }
    }
}

fn instance(i: &RcInstance) -> Instance {
    Instance { name: i.name.clone(), state: i.state.clone(), resource_group_id: i.resource_group_id.clone() }
}

fn key(k: &RcKey) -> Key {
    let hmac = k.credentials.get("cos_hmac_keys").and_then(|h| {
        Some(Hmac {
            access_key_id: h.get("access_key_id")?.as_str()?.to_owned(),
            secret_access_key: h.get("secret_access_key")?.as_str()?.to_owned(),
        })
    });
    let role = k.credentials.get("iam_role_crn").and_then(Value::as_str).unwrap_or(&k.role).to_owned();
    Key { name: k.name.clone(), state: k.state.clone(), source_crn: k.source_crn.clone(), role, hmac }
}
