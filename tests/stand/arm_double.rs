//! A test double of Azure Resource Manager and of Entra ID's token endpoint (no emulator exists
//! for either): client-credential tokens for one app; storage accounts under one subscription
//! (get, create as a long-running operation that is `InProgress` on its first poll and
//! `Succeeded` on the next, list keys, update public access and shared keys, delete), each
//! request needing a token it issued (JWT-shaped); 404 with ARM's error body, 409
//! `StorageAccountAlreadyTaken` for a name held elsewhere, and 429 with `Retry-After` while
//! `throttle` counts down; network resources (see [`Model::network`]). Serve it behind `stand::recorder` with TLS: the
//! Azure SDK sends bearer tokens over HTTPS only. Every request is logged; secrets never are.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use serde_json::{Value, json};

/// The tenant, app and secret the double accepts.
pub const TENANT: &str = "00000000-0000-0000-0000-0000000000aa";
/// The app (client) ID.
pub const CLIENT_ID: &str = "00000000-0000-0000-0000-0000000000bb";
/// The app's secret.
pub const CLIENT_SECRET: &str = "stand-arm-client-secret-0001";
/// The projected service-account token a workload identity presents as its client assertion.
pub const FEDERATED_TOKEN: &str = "stand-projected-service-account-token-0001";
/// The subscription.
pub const SUBSCRIPTION: &str = "00000000-0000-0000-0000-0000000000cc";
/// azurite's well-known key: the key every account of the double lists, so the blob calls the
/// operator makes with it work against azurite.
pub const KEY: &str = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// One storage account.
#[derive(Clone, Debug, Default)]
pub struct Account {
    /// Its resource group.
    pub group: String,
    /// Its tags.
    pub tags: BTreeMap<String, String>,
    /// The body it was created with.
    pub created_with: Value,
    /// `allowSharedKeyAccess` as last PATCHed.
    pub allow_shared_key_access: Option<bool>,
}

/// What the double holds.
#[derive(Default)]
pub struct Model {
    /// Accounts by name.
    pub accounts: BTreeMap<String, Account>,
    /// Names taken in another subscription.
    pub taken: BTreeSet<String>,
    /// Operations created (name → account) and how often each was polled.
    pub operations: BTreeMap<String, (String, Account, u32)>,
    /// Answer 429 to this many ARM requests.
    pub throttle: u32,
    /// List virtual networks this many a page, each page but the last with a `nextLink`
    /// (0: all on one page).
    pub vnets_per_page: usize,
    /// Network resources (virtual networks, private endpoints, DNS zones, records, zone groups,
    /// links) by their path below the subscription, as last PUT.
    pub network: BTreeMap<String, Value>,
    /// `Location` operations and how often each was polled (202 on the first poll, then 200).
    pub location_polls: BTreeMap<String, u32>,
    /// Accounts whose public network access was disabled.
    pub private_accounts: BTreeSet<String>,
    /// Tokens issued.
    pub tokens: Vec<String>,
    /// Tokens name this audience instead of the one their scope asks for (a token made for
    /// another service).
    pub audience: Option<String>,
    /// `METHOD path` (no query), in order.
    pub log: Vec<String>,
    /// The `api-version`s storage account requests named.
    pub storage_api_versions: BTreeSet<String>,
}

impl Model {
    /// The ARM requests (not token requests) that change something.
    pub fn mutations(&self) -> Vec<String> {
        self.log
            .iter()
            .filter(|l| !l.starts_with("GET ") && !l.contains("/oauth2/") && !l.ends_with("/listKeys"))
            .cloned()
            .collect()
    }

    /// How many `listKeys` calls were made.
    pub fn list_keys(&self) -> usize {
        self.log.iter().filter(|l| l.ends_with("/listKeys")).count()
    }
}

/// A running double.
pub struct Arm {
    /// Its plain-HTTP address (put `stand::recorder` with TLS in front of it).
    pub endpoint: String,
    /// Its state.
    pub model: Arc<Mutex<Model>>,
}

/// An access token shaped as Entra ID's: a JWT naming the tenant's issuer, the audience and a
/// one-hour lifetime (what azurite's `--oauth basic` checks; it does not check signatures), its
/// signature part the double's serial number.
fn access_token(audience: &str, serial: usize) -> String {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let header = json!({"typ": "JWT", "alg": "RS256"});
    let claims = json!({"aud": audience, "iss": format!("https://sts.windows.net/{TENANT}/"), "tid": TENANT,
        "appid": CLIENT_ID, "iat": now, "nbf": now, "exp": now + 3600});
    let part = |v: &Value| azure_core::base64::encode_url_safe(v.to_string());
    format!("{}.{}.arm-double-token-{serial:04}", part(&header), part(&claims))
}

fn answer(status: u16, body: Value, headers: &[(&str, String)]) -> http::Response<Full<Bytes>> {
    let mut response = http::Response::builder().status(status).header("content-type", "application/json");
    for (name, value) in headers {
        response = response.header(*name, value);
    }
    let body = if body.is_null() { Bytes::new() } else { Bytes::from(body.to_string()) };
    response.body(Full::new(body)).unwrap()
}

fn error(status: u16, code: &str, message: &str) -> http::Response<Full<Bytes>> {
    answer(status, json!({"error": {"code": code, "message": message}}), &[])
}

fn account_json(name: &str, account: &Account, private: bool) -> Value {
    json!({"name": name, "type": "Microsoft.Storage/storageAccounts", "location": account.created_with["location"],
        "tags": account.tags, "kind": account.created_with["kind"],
        "properties": {"provisioningState": "Succeeded", "publicNetworkAccess": if private { "Disabled" } else { "Enabled" },
            "allowSharedKeyAccess": account.allow_shared_key_access}})
}

/// Network resources: kept as PUT (a private endpoint gains the address its NIC got), listed
/// by collection (virtual networks), deleted; an endpoint's PUT is a long-running operation.
fn network(
    model: &mut Model,
    base: &str,
    method: &str,
    rest: &str,
    query: &str,
    body: &[u8],
) -> http::Response<Full<Bytes>> {
    let key = rest.to_owned();
    match method {
        "PUT" => {
            let mut resource: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let name = key.rsplit('/').next().unwrap_or_default().to_owned();
            resource["name"] = json!(name);
            resource["id"] = json!(format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/{key}"));
            if key.contains("/privateEndpoints/") && !key.contains("/privateDnsZoneGroups/") {
                resource["properties"]["customDnsConfigs"] =
                    json!([{"fqdn": "account.blob.core.windows.net", "ipAddresses": ["10.0.0.4"]}]);
            }
            let existed = model.network.insert(key, resource.clone()).is_some();
            answer(if existed { 200 } else { 201 }, resource, &[])
        }
        "GET" if key.ends_with("/virtualNetworks") => {
            let vnets: Vec<Value> = model
                .network
                .iter()
                .filter(|(k, _)| k.starts_with(&format!("{key}/")) && k[key.len() + 1..].split('/').count() == 1)
                .map(|(_, v)| v.clone())
                .collect();
            let per_page = if model.vnets_per_page == 0 { vnets.len().max(1) } else { model.vnets_per_page };
            let skip: usize =
                query.split('&').find_map(|p| p.strip_prefix("$skiptoken=")).and_then(|n| n.parse().ok()).unwrap_or(0);
            let page: Vec<Value> = vnets.iter().skip(skip).take(per_page).cloned().collect();
            if skip + per_page < vnets.len() {
                let next = format!(
                    "{base}/subscriptions/{SUBSCRIPTION}/resourceGroups/{key}?api-version=2023-09-01&$skiptoken={}",
                    skip + per_page
                );
                return answer(200, json!({"value": page, "nextLink": next}), &[]);
            }
            answer(200, json!({"value": page}), &[])
        }
        "GET" => match model.network.get(&key) {
            Some(resource) => answer(200, resource.clone(), &[]),
            None => error(404, "ResourceNotFound", "not found"),
        },
        // An endpoint's delete is a long-running operation followed through `Location`.
        "DELETE" if key.contains("/privateEndpoints/") && !key.contains("/privateDnsZoneGroups/") => {
            if model.network.remove(&key).is_none() {
                return answer(204, Value::Null, &[]);
            }
            let operation = format!("loc-{}", model.log.len());
            model.location_polls.insert(operation.clone(), 0);
            answer(
                202,
                Value::Null,
                &[("location", format!("{base}/locations/{operation}")), ("retry-after", "1".into())],
            )
        }
        "DELETE" => {
            let existed = model.network.remove(&key).is_some();
            answer(if existed { 200 } else { 204 }, Value::Null, &[])
        }
        _ => error(405, "MethodNotAllowed", "not modelled"),
    }
}

/// Answers one request without a query (the double's own test calls it directly). `base` is
/// the URL the client reaches the double at (for operation and next-page URLs).
pub fn handle(
    model: &mut Model,
    base: &str,
    method: &str,
    path: &str,
    authorization: &str,
    body: &[u8],
) -> http::Response<Full<Bytes>> {
    handle_query(model, base, method, path, "", authorization, body)
}

/// Answers one request; `query` matters only to paged listings.
pub fn handle_query(
    model: &mut Model,
    base: &str,
    method: &str,
    path: &str,
    query: &str,
    authorization: &str,
    body: &[u8],
) -> http::Response<Full<Bytes>> {
    model.log.push(format!("{method} {path}"));
    if path == format!("/{TENANT}/oauth2/v2.0/token") {
        let form: BTreeMap<String, String> = url_decode(body);
        let field = |k: &str| form.get(k).map(String::as_str);
        let secret = field("client_secret") == Some(CLIENT_SECRET);
        // Workload identity: the projected token as a JWT-bearer client assertion.
        let assertion = field("client_assertion_type")
            == Some("urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
            && field("client_assertion") == Some(FEDERATED_TOKEN);
        let ok = field("client_id") == Some(CLIENT_ID)
            && field("grant_type") == Some("client_credentials")
            && (secret || assertion);
        if !ok {
            return answer(
                401,
                json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}),
                &[],
            );
        }
        let audience = match &model.audience {
            Some(audience) => audience.clone(),
            None => field("scope").unwrap_or_default().trim_end_matches("/.default").to_owned(),
        };
        let token = access_token(&audience, model.tokens.len() + 1);
        model.tokens.push(token.clone());
        return answer(
            200,
            json!({"token_type": "Bearer", "expires_in": 3600, "ext_expires_in": 3600, "access_token": token}),
            &[],
        );
    }
    let token = authorization.strip_prefix("Bearer ").unwrap_or_default();
    if !model.tokens.iter().any(|t| t == token) {
        return error(401, "InvalidAuthenticationToken", "The access token is invalid.");
    }
    if model.throttle > 0 {
        model.throttle -= 1;
        return answer(
            429,
            json!({"error": {"code": "TooManyRequests", "message": "slow down"}}),
            &[("retry-after", "1".into())],
        );
    }
    if let Some(operation) = path.strip_prefix("/locations/") {
        let Some(polls) = model.location_polls.get_mut(operation) else {
            return error(404, "NotFound", "no such operation");
        };
        *polls += 1;
        return answer(if *polls < 2 { 202 } else { 200 }, Value::Null, &[("retry-after", "1".into())]);
    }
    if let Some(operation) = path.strip_prefix("/operations/") {
        let Some((name, account, polls)) = model.operations.get_mut(operation) else {
            return error(404, "NotFound", "no such operation");
        };
        *polls += 1;
        if *polls < 2 {
            return answer(200, json!({"status": "InProgress"}), &[("retry-after", "1".into())]);
        }
        let (name, account) = (name.clone(), account.clone());
        model.accounts.insert(name, account);
        return answer(200, json!({"status": "Succeeded"}), &[]);
    }
    let prefix = format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/");
    let Some(rest) = path.strip_prefix(&prefix) else { return error(404, "NotFound", "not modelled") };
    if rest.contains("/providers/Microsoft.Network/") {
        return network(model, base, method, rest, query, body);
    }
    let parts: Vec<&str> = rest.split('/').collect();
    let (group, name, action) = match parts.as_slice() {
        [group, "providers", "Microsoft.Storage", "storageAccounts", name] => (*group, *name, ""),
        [group, "providers", "Microsoft.Storage", "storageAccounts", name, action] => (*group, *name, *action),
        _ => return error(404, "NotFound", "not modelled"),
    };
    let found = model.accounts.get(name).filter(|a| a.group == group).cloned();
    let missing = || {
        error(
            404,
            "ResourceNotFound",
            &format!(
                "The Resource 'Microsoft.Storage/storageAccounts/{name}' under resource group '{group}' was not found."
            ),
        )
    };
    match (method, action) {
        ("GET", "") => {
            let private = model.private_accounts.contains(name);
            found.map_or_else(missing, |a| answer(200, account_json(name, &a, private), &[]))
        }
        ("PUT", "") => {
            if model.taken.contains(name) {
                return error(
                    409,
                    "StorageAccountAlreadyTaken",
                    &format!("The storage account named {name} is already taken."),
                );
            }
            let created: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let tags = created["tags"]
                .as_object()
                .map(|t| t.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned())).collect())
                .unwrap_or_default();
            let account = Account { group: group.to_owned(), tags, created_with: created, ..Account::default() };
            let operation = format!("op-{}", model.log.len());
            model.operations.insert(operation.clone(), (name.to_owned(), account, 0));
            answer(
                202,
                Value::Null,
                &[("azure-asyncoperation", format!("{base}/operations/{operation}")), ("retry-after", "1".into())],
            )
        }
        ("POST", "listKeys") => found.map_or_else(missing, |_| {
            answer(
                200,
                json!({"keys": [{"keyName": "key1", "value": KEY, "permissions": "FULL"},
                {"keyName": "key2", "value": "c2Vjb25kLWtleQ==", "permissions": "FULL"}]}),
                &[],
            )
        }),
        ("PATCH", "") => found.map_or_else(missing, |a| {
            let patch: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            if patch.pointer("/properties/publicNetworkAccess") == Some(&json!("Disabled")) {
                model.private_accounts.insert(name.to_owned());
            }
            let mut a = a;
            if let Some(allow) = patch.pointer("/properties/allowSharedKeyAccess").and_then(Value::as_bool) {
                a.allow_shared_key_access = Some(allow);
                model.accounts.insert(name.to_owned(), a.clone());
            }
            let private = model.private_accounts.contains(name);
            answer(200, account_json(name, &a, private), &[])
        }),
        ("DELETE", "") => {
            let existed = found.is_some();
            model.accounts.remove(name);
            answer(if existed { 200 } else { 204 }, Value::Null, &[])
        }
        _ => error(405, "MethodNotAllowed", "not modelled"),
    }
}

fn url_decode(body: &[u8]) -> BTreeMap<String, String> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            let decode =
                |s: &str| percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned();
            Some((decode(k), decode(v)))
        })
        .collect()
}

/// A virtual network in `group` with `tags` and `subnets`, as the installer leaves it.
pub fn add_vnet(model: &mut Model, group: &str, name: &str, tags: &[(&str, &str)], subnets: &[&str]) {
    let key = format!("{group}/providers/Microsoft.Network/virtualNetworks/{name}");
    let tags: serde_json::Map<String, Value> = tags.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
    let subnets: Vec<Value> = subnets.iter().map(|s| json!({"name": s})).collect();
    model.network.insert(key, json!({"name": name, "tags": tags, "properties": {"subnets": subnets}}));
}

/// Starts the double on 127.0.0.1; `base` (set once the TLS front is known) is the URL clients
/// use for operation URLs.
pub async fn start() -> (Arm, Arc<Mutex<String>>) {
    let (listener, endpoint) = super::bind(0).await;
    let model = Arc::new(Mutex::new(Model::default()));
    let base = Arc::new(Mutex::new(endpoint.clone()));
    let (shared, shared_base) = (model.clone(), base.clone());
    super::serve(listener, move |r| {
        let api_version =
            r.query.split('&').find_map(|p| p.strip_prefix("api-version=")).unwrap_or_default().to_owned();
        let base = shared_base.lock().unwrap().clone();
        let mut model = shared.lock().unwrap();
        if r.path.contains("/Microsoft.Storage/storageAccounts/") {
            model.storage_api_versions.insert(api_version);
        }
        handle_query(&mut model, &base, &r.method, &r.path, &r.query, &r.authorization, &r.body)
    });
    (Arm { endpoint, model }, base)
}
