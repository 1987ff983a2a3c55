//! A test double of Keystone (no Keystone runs here): one user in one project, issuing tokens
//! through identity v3 (`password`, `application_credential` and `token` methods, project
//! scope by name or ID) and v2.0 (`passwordCredentials`), with a catalog whose object store
//! points at `swift` (`<swift>/v1/AUTH_<project_id>`, public and internal, in `RegionOne`) or
//! offers none. Wrong credentials or scope answer 401 as Keystone does. Every request is
//! logged; tokens and passwords are compared, never logged.

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use serde_json::{Value, json};

/// The project the user works in.
pub const PROJECT_ID: &str = "0a1b2c3d4e5f";
/// Its name.
pub const PROJECT: &str = "openshift-registry";
/// The user.
pub const USER: &str = "registry-user";
/// The user's password.
pub const PASSWORD: &str = "stand-keystone-password-0001";
/// The user's domain.
pub const DOMAIN: &str = "Default";
/// An application credential of the user's, bound to the project.
pub const APP_ID: &str = "appcred-0001";
/// Its secret.
pub const APP_SECRET: &str = "stand-appcred-secret-0001";

/// What the double holds.
#[derive(Default)]
pub struct Model {
    /// The object store's base URL, or `None` for a catalog without one.
    pub swift: Option<String>,
    /// Tokens issued so far.
    pub issued: Vec<String>,
    /// `METHOD path`, in order.
    pub log: Vec<String>,
}

/// A running double.
pub struct Keystone {
    /// Its base URL (no version).
    pub endpoint: String,
    /// Its state.
    pub model: Arc<Mutex<Model>>,
}

impl Keystone {
    /// How many tokens it issued.
    pub fn tokens_issued(&self) -> usize {
        self.model.lock().unwrap().issued.len()
    }
}

fn answer(status: u16, body: Value, token: Option<&str>) -> http::Response<Full<Bytes>> {
    let mut response = http::Response::builder().status(status).header("content-type", "application/json");
    if let Some(token) = token {
        response = response.header("x-subject-token", token);
    }
    response.body(Full::new(Bytes::from(body.to_string()))).unwrap()
}

fn unauthorized() -> http::Response<Full<Bytes>> {
    let body = json!({"error": {"code": 401, "title": "Unauthorized",
        "message": "The request you have made requires authentication."}});
    answer(401, body, None)
}

fn domain_matches(domain: &Value) -> bool {
    domain.get("name").and_then(Value::as_str) == Some(DOMAIN)
        || domain.get("id").and_then(Value::as_str) == Some("default")
}

/// Whether the v3 identity is the user's (or a token this double issued).
fn v3_identity(model: &Model, identity: &Value) -> bool {
    let methods: Vec<&str> =
        identity["methods"].as_array().map(|m| m.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    match methods.as_slice() {
        ["password"] => {
            let user = &identity["password"]["user"];
            user["name"] == USER && user["password"] == PASSWORD && domain_matches(&user["domain"])
        }
        ["application_credential"] => {
            let credential = &identity["application_credential"];
            credential["id"] == APP_ID && credential["secret"] == APP_SECRET
        }
        ["token"] => identity["token"]["id"].as_str().is_some_and(|t| model.issued.iter().any(|i| i == t)),
        _ => false,
    }
}

/// Whether the v3 scope names the user's project (an application credential has its own).
fn v3_scope(auth: &Value) -> bool {
    let project = &auth["scope"]["project"];
    if auth["identity"]["methods"][0] == "application_credential" {
        return auth.get("scope").is_none();
    }
    project["id"] == PROJECT_ID || (project["name"] == PROJECT && domain_matches(&project["domain"]))
}

fn v3_catalog(model: &Model, keystone: &str) -> Value {
    let mut catalog = vec![json!({"type": "identity", "name": "keystone", "endpoints": [
        {"interface": "public", "region": "RegionOne", "region_id": "RegionOne", "url": format!("{keystone}/v3")}]})];
    if let Some(swift) = &model.swift {
        let url = format!("{swift}/v1/AUTH_{PROJECT_ID}");
        catalog.push(json!({"type": "object-store", "name": "swift", "endpoints": [
            {"interface": "internal", "region": "RegionOne", "region_id": "RegionOne", "url": format!("{url}-internal")},
            {"interface": "public", "region": "RegionOne", "region_id": "RegionOne", "url": url}]}));
    }
    Value::Array(catalog)
}

fn issue(model: &mut Model) -> String {
    let token = format!("stand-token-{:04}", model.issued.len() + 1);
    model.issued.push(token.clone());
    token
}

/// Answers one request (also called directly by the double's own test).
pub fn handle(
    model: &mut Model,
    keystone: &str,
    method: &str,
    path: &str,
    body: &Value,
) -> http::Response<Full<Bytes>> {
    model.log.push(format!("{method} {path}"));
    match (method, path.trim_end_matches('/')) {
        ("POST", "/v3/auth/tokens") => {
            let auth = &body["auth"];
            if !v3_identity(model, &auth["identity"]) || !v3_scope(auth) {
                return unauthorized();
            }
            let catalog = v3_catalog(model, keystone);
            let token = issue(model);
            let body = json!({"token": {"methods": auth["identity"]["methods"], "expires_at": "2099-01-01T00:00:00.000000Z",
                "project": {"id": PROJECT_ID, "name": PROJECT, "domain": {"id": "default", "name": DOMAIN}},
                "catalog": catalog}});
            answer(201, body, Some(&token))
        }
        ("POST", "/v2.0/tokens") => {
            let auth = &body["auth"];
            let credentials = &auth["passwordCredentials"];
            let tenant = auth["tenantName"] == PROJECT || auth["tenantId"] == PROJECT_ID;
            if credentials["username"] != USER || credentials["password"] != PASSWORD || !tenant {
                return unauthorized();
            }
            let mut catalog = Vec::new();
            if let Some(swift) = &model.swift {
                catalog.push(json!({"type": "object-store", "name": "swift", "endpoints": [
                    {"region": "RegionOne", "publicURL": format!("{swift}/v1/AUTH_{PROJECT_ID}"),
                     "internalURL": format!("{swift}/v1/AUTH_{PROJECT_ID}-internal")}]}));
            }
            let token = issue(model);
            answer(
                200,
                json!({"access": {"token": {"id": token, "expires": "2099-01-01T00:00:00Z"}, "serviceCatalog": catalog}}),
                None,
            )
        }
        _ => answer(404, json!({"error": {"code": 404, "title": "Not Found", "message": "not modelled"}}), None),
    }
}

/// Starts the double on 127.0.0.1 with a catalog pointing at `swift` (`None`: no object store).
pub async fn start(swift: Option<&str>) -> Keystone {
    start_on(0, swift).await
}

/// The same on `port` (0: any free one).
pub async fn start_on(port: u16, swift: Option<&str>) -> Keystone {
    let (listener, endpoint) = super::bind(port).await;
    let model = Arc::new(Mutex::new(Model { swift: swift.map(str::to_owned), ..Model::default() }));
    let (shared, keystone) = (model.clone(), endpoint.clone());
    super::serve(listener, move |r| {
        let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        handle(&mut shared.lock().unwrap(), &keystone, &r.method, &r.path, &body)
    });
    Keystone { endpoint, model }
}

/// The Swift stand that `scripts/test` started, or `None` (with a notice) when it did not
/// start emulators; when it asked for them, a missing Swift is a failure.
pub fn swift() -> Option<String> {
    super::emulator("SWIFT_ENDPOINT", "Swift")
}

/// `clouds.yaml` for the double's user at `auth_url`, as the installer writes it.
pub fn clouds_yaml(auth_url: &str) -> String {
    format!(
        "clouds:\n  openstack:\n    auth:\n      auth_url: {auth_url}\n      username: {USER}\n      password: {PASSWORD}\n      \
         project_name: {PROJECT}\n      user_domain_name: {DOMAIN}\n    region_name: RegionOne\n    identity_api_version: 3\n"
    )
}
