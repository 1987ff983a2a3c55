//! A test double of IBM Cloud's IAM, Resource Controller and Resource Manager (none runs
//! here): one account with one API key and one resource group; API-key tokens; COS service
//! instances that are `provisioning` for a few reads after they are created, then `active`;
//! resource keys with an HMAC pair when asked for one (`parameters.HMAC`); lists paged with
//! `next_url`; injected faults (404, 409, 429, …) on the next requests that match. Every
//! request is logged as `METHOD path`; API keys and tokens are compared, never logged.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use percent_encoding::percent_decode_str;
use serde_json::{Value, json};

/// The account's API key: the one the IBM Cloud and Power VS fixtures hold.
pub const API_KEY: &str = "fixture-ibmcloud-api-key-0001";
/// The account.
pub const ACCOUNT: &str = "a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5";
/// The resource group's name, as the Infrastructure names it.
pub const GROUP: &str = "Default";
/// Its ID.
pub const GROUP_ID: &str = "5e1f2a0b7c3d4e5f8a9b0c1d2e3f4a5b";

/// A service instance the double holds.
#[derive(Clone, Debug)]
pub struct Instance {
    /// Its name.
    pub name: String,
    /// Its resource group's ID.
    pub group: String,
    /// Its plan.
    pub plan: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// Reads left before a `provisioning` instance is `active`.
    pub provisioning_reads: u32,
    /// `active`, `provisioning` or `removed`.
    pub state: String,
}

/// A resource key the double holds.
#[derive(Clone, Debug)]
pub struct Key {
    /// Its name.
    pub name: String,
    /// The instance's CRN.
    pub source: String,
    /// The role's CRN.
    pub role: String,
    /// Its HMAC pair, when it was made with one.
    pub hmac: Option<(String, String)>,
}

/// A fault to answer instead of the real thing.
#[derive(Clone, Debug)]
pub struct Fault {
    /// `METHOD path` must contain this.
    pub matching: String,
    /// The status to answer.
    pub status: u16,
    /// How many more requests it answers.
    pub remaining: u32,
}

/// What the double holds.
#[derive(Default)]
pub struct Model {
    /// Instances by CRN.
    pub instances: BTreeMap<String, Instance>,
    /// Keys by CRN.
    pub keys: BTreeMap<String, Key>,
    /// How many reads a new instance stays `provisioning`.
    pub provisioning_reads: u32,
    /// Items per list page.
    pub page_size: usize,
    /// Faults to answer, first match first.
    pub faults: Vec<Fault>,
    /// Tokens issued so far.
    pub issued: Vec<String>,
    /// `METHOD path`, in order.
    pub log: Vec<String>,
    /// The last number given to a token, an instance or a key.
    pub serial: u32,
}

/// A running double.
pub struct IbmCloud {
    /// Its base URL: IAM, the Resource Controller and the Resource Manager all answer here.
    pub endpoint: String,
    /// Its state.
    pub model: Arc<Mutex<Model>>,
}

impl IbmCloud {
    /// Requests whose `METHOD path` starts with `prefix`.
    pub fn requests(&self, prefix: &str) -> usize {
        self.model.lock().unwrap().log.iter().filter(|l| l.starts_with(prefix)).count()
    }

    /// The next `times` requests containing `matching` answer `status`.
    pub fn fail(&self, matching: &str, status: u16, times: u32) {
        let fault = Fault { matching: matching.to_owned(), status, remaining: times };
        self.model.lock().unwrap().faults.push(fault);
    }
}

fn answer(status: u16, body: Value) -> http::Response<Full<Bytes>> {
    http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .unwrap()
}

fn error(status: u16, message: &str) -> http::Response<Full<Bytes>> {
    answer(status, json!({"message": message, "status_code": status}))
}

fn query(raw: &str) -> BTreeMap<String, String> {
    raw.split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_owned(), percent_decode_str(&v.replace('+', " ")).decode_utf8_lossy().into_owned()))
        .collect()
}

fn instance_json(crn: &str, i: &Instance) -> Value {
    json!({"id": crn, "guid": crn.split(':').nth(7).unwrap_or_default(), "crn": crn, "name": i.name,
        "state": i.state, "resource_group_id": i.group, "resource_plan_id": i.plan, "type": "service_instance"})
}

fn key_json(crn: &str, k: &Key, credentials: bool) -> Value {
    let mut creds = json!({"iam_role_crn": k.role, "resource_instance_id": k.source});
    if let Some((id, secret)) = &k.hmac {
        creds["cos_hmac_keys"] =
            if credentials { json!({"access_key_id": id, "secret_access_key": secret}) } else { json!("REDACTED") };
    }
    json!({"id": crn, "crn": crn, "name": k.name, "state": "active", "source_crn": k.source, "role": k.role,
        "credentials": creds})
}

/// One page of `items` from `start`, with `next_url` when more follow.
fn page(items: Vec<Value>, start: usize, size: usize, path: &str, raw_query: &str) -> Value {
    let size = if size == 0 { 100 } else { size };
    let rows: Vec<Value> = items.iter().skip(start).take(size).cloned().collect();
    let next = (start + size < items.len()).then(|| {
        let kept: Vec<&str> = raw_query.split('&').filter(|p| !p.starts_with("start=") && !p.is_empty()).collect();
        format!("{path}?{}&start={}", kept.join("&"), start + size)
    });
    json!({"rows_count": rows.len(), "next_url": next, "resources": rows})
}

/// Answers one request (also called directly by the double's own test).
pub fn handle(
    model: &mut Model,
    method: &str,
    path: &str,
    raw_query: &str,
    authorization: Option<&str>,
    body: &[u8],
) -> http::Response<Full<Bytes>> {
    let line = format!("{method} {path}");
    model.log.push(line.clone());
    if let Some(fault) = model.faults.iter_mut().find(|f| f.remaining > 0 && line.contains(&f.matching)) {
        fault.remaining -= 1;
        return error(fault.status, "injected fault");
    }
    if (method, path) == ("POST", "/identity/token") {
        let form = query(&String::from_utf8_lossy(body));
        if form.get("grant_type").map(String::as_str) != Some("urn:ibm:params:oauth:grant-type:apikey") {
            return answer(400, json!({"errorCode": "BXNIM0109E", "errorMessage": "Property missing or empty."}));
        }
        if form.get("apikey").map(String::as_str) != Some(API_KEY) {
            return answer(
                400,
                json!({"errorCode": "BXNIM0415E", "errorMessage": "Provided API key could not be found."}),
            );
        }
        model.serial += 1;
        let token = format!("stand-iam-token-{}", model.serial);
        model.issued.push(token.clone());
        return answer(200, json!({"access_token": token, "token_type": "Bearer", "expires_in": 3600}));
    }
    let bearer = authorization.and_then(|a| a.strip_prefix("Bearer "));
    if !bearer.is_some_and(|t| model.issued.iter().any(|i| i == t)) {
        return error(401, "The IAM token is missing or not valid");
    }
    let q = query(raw_query);
    let start: usize = q.get("start").and_then(|s| s.parse().ok()).unwrap_or(0);
    let decoded = percent_decode_str(path).decode_utf8_lossy().into_owned();
    match (method, decoded.as_str()) {
        ("GET", "/v2/resource_groups") => {
            let groups = vec![json!({"id": GROUP_ID, "name": GROUP, "account_id": ACCOUNT})];
            let groups = groups.into_iter().filter(|g| q.get("name").is_none_or(|n| g["name"] == *n)).collect();
            answer(200, page(groups, start, model.page_size, path, raw_query))
        }
        ("GET", "/v2/resource_instances") => {
            let items = model
                .instances
                .iter()
                .filter(|(_, i)| i.state != "removed")
                .filter(|(_, i)| q.get("name").is_none_or(|n| i.name == *n))
                .filter(|(_, i)| q.get("resource_group_id").is_none_or(|g| i.group == *g))
                .filter(|(_, i)| q.get("resource_plan_id").is_none_or(|p| i.plan == *p))
                .map(|(crn, i)| instance_json(crn, i))
                .collect();
            answer(200, page(items, start, model.page_size, path, raw_query))
        }
        ("POST", "/v2/resource_instances") => {
            let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let (Some(name), Some(group), Some(plan)) =
                (body["name"].as_str(), body["resource_group"].as_str(), body["resource_plan_id"].as_str())
            else {
                return error(400, "name, resource_group and resource_plan_id are required");
            };
            if body["target"] != "bluemix-global" {
                return error(400, "target must be bluemix-global for cloud-object-storage");
            }
            model.serial += 1;
            let crn = format!(
                "crn:v1:bluemix:public:cloud-object-storage:global:a/{ACCOUNT}:{:08x}-0000-4000-8000-000000000000::",
                model.serial
            );
            let tags = body["tags"]
                .as_array()
                .map(|t| t.iter().filter_map(|v| v.as_str().map(str::to_owned)).collect())
                .unwrap_or_default();
            let instance = Instance {
                name: name.to_owned(),
                group: group.to_owned(),
                plan: plan.to_owned(),
                tags,
                provisioning_reads: model.provisioning_reads,
                state: if model.provisioning_reads > 0 { "provisioning" } else { "active" }.to_owned(),
            };
            let reply = instance_json(&crn, &instance);
            model.instances.insert(crn, instance);
            answer(202, reply)
        }
        ("GET", "/v2/resource_keys") => {
            let items = model
                .keys
                .iter()
                .filter(|(_, k)| q.get("name").is_none_or(|n| k.name == *n))
                .map(|(crn, k)| key_json(crn, k, false))
                .collect();
            answer(200, page(items, start, model.page_size, path, raw_query))
        }
        ("POST", "/v2/resource_keys") => {
            let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let (Some(name), Some(source)) = (body["name"].as_str(), body["source"].as_str()) else {
                return error(400, "name and source are required");
            };
            if model.instances.get(source).is_none_or(|i| i.state != "active") {
                return error(409, "the instance is not active");
            }
            model.serial += 1;
            let guid = source.split(':').nth(7).unwrap_or_default();
            let crn = format!(
                "crn:v1:bluemix:public:cloud-object-storage:global:a/{ACCOUNT}:{guid}:resource-key:{:08x}",
                model.serial
            );
            let hmac = (body["parameters"]["HMAC"] == true)
                .then(|| (format!("STANDHMAC{:08}", model.serial), format!("stand-hmac-secret-{:08}", model.serial)));
            let key = Key {
                name: name.to_owned(),
                source: source.to_owned(),
                role: body["role"].as_str().unwrap_or("crn:v1:bluemix:public:iam::::serviceRole:Writer").to_owned(),
                hmac,
            };
            let reply = key_json(&crn, &key, true);
            model.keys.insert(crn, key);
            answer(201, reply)
        }
        ("GET", other) if other.starts_with("/v2/resource_instances/") => {
            let crn = other.trim_start_matches("/v2/resource_instances/");
            match model.instances.get_mut(crn) {
                Some(instance) => {
                    if instance.state == "provisioning" {
                        instance.provisioning_reads = instance.provisioning_reads.saturating_sub(1);
                        if instance.provisioning_reads == 0 {
                            instance.state = "active".into();
                        }
                    }
                    answer(200, instance_json(crn, instance))
                }
                None => error(404, "Instance not found"),
            }
        }
        ("GET", other) if other.starts_with("/v2/resource_keys/") => {
            let crn = other.trim_start_matches("/v2/resource_keys/");
            match model.keys.get(crn) {
                Some(key) => answer(200, key_json(crn, key, true)),
                None => error(404, "Resource key not found"),
            }
        }
        _ => error(404, "not modelled"),
    }
}

/// Starts the double on 127.0.0.1; new instances are `provisioning` for `provisioning_reads`
/// reads.
pub async fn start(provisioning_reads: u32) -> IbmCloud {
    let (listener, endpoint) = super::bind(0).await;
    let model = Arc::new(Mutex::new(Model { provisioning_reads, ..Model::default() }));
    let shared = model.clone();
    super::serve(listener, move |r| {
        let authorization = Some(r.authorization.as_str()).filter(|a| !a.is_empty());
        handle(&mut shared.lock().unwrap(), &r.method, &r.path, &r.query, authorization, &r.body)
    });
    IbmCloud { endpoint, model }
}
