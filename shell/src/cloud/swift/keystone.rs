//! Keystone, as much as the registry's storage needs: a token and the object store's endpoint
//! from the catalog (spec 30 §7.4). Identity v3 with a password, an application credential or
//! a token; v2.0 with a password or a token (chosen by the auth URL's version). Hand-written:
//! the maintained Rust OpenStack SDK (`openstack_sdk`) brings its own HTTP and config stack
//! for far more than these two calls, and cannot take the cluster's CA bundle and proxy the
//! way the other clients here do.
//!
//! A token never leaves this module but as a header value: no message carries it.

use crate::cloud::CloudError;
use http::{Method, header};
use image_registry_core::api::storage::Swift;
use image_registry_core::outcome::ErrorClass;
use image_registry_core::storage::swift::Credentials;
use serde_json::{Value, json};

use super::errors::answer_error;
use crate::cloud::calls::CallCounter;

/// An issued token and the catalog it came with.
#[derive(Clone)]
pub struct Token {
    /// `X-Subject-Token` (v3) or `access.token.id` (v2).
    pub id: String,
    /// The services offered.
    pub catalog: Vec<Service>,
}

/// One catalog entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Service {
    /// Its type (`object-store`, ...).
    pub kind: String,
    /// Its name (`swift`, ...).
    pub name: String,
    /// Its endpoints.
    pub endpoints: Vec<Endpoint>,
}

/// One endpoint of a service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// `public`, `internal` or `admin`.
    pub interface: String,
    /// Its region (empty when the catalog names none).
    pub region: String,
    /// Its URL.
    pub url: String,
}

/// Asks Keystone at `auth_url` (normalised, ending in its version) for a token with
/// `credentials`, scoped as `swift` (the effective config) says.
pub async fn authenticate(
    http: &reqwest::Client,
    calls: &CallCounter,
    auth_url: &str,
    credentials: &Credentials,
    swift: &Swift,
) -> Result<Token, CloudError> {
    let (url, v2) = token_url(auth_url);
    let body = if v2 { v2_request(credentials, swift)? } else { v3_request(credentials, swift) };
    let result = exchange(http, &url, body, v2).await;
    calls.count("swift", "IssueToken", result.as_ref().map(drop).map_err(|e| e.class));
    result
}

async fn exchange(http: &reqwest::Client, url: &str, body: Value, v2: bool) -> Result<Token, CloudError> {
    const CALL: &str = "Keystone token";
    let response = http
        .request(Method::POST, url)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT, "application/json")
        .body(body.to_string())
        .send()
        .await
        .map_err(|e| CloudError::transport(CALL, &e))?;
    let status = response.status();
    let subject = response.headers().get("x-subject-token").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let bytes = response.bytes().await.map_err(|e| CloudError::transport(CALL, &e))?;
    if !status.is_success() {
        return Err(answer_error(CALL, status.as_u16(), &bytes));
    }
    let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    let invalid = |what: &str| CloudError {
        code: String::new(),
        status: Some(status.as_u16()),
        class: ErrorClass::Invalid,
        message: format!("{CALL}: the answer has no {what}"),
    };
    if v2 {
        let id = value.pointer("/access/token/id").and_then(Value::as_str).ok_or_else(|| invalid("token"))?;
        Ok(Token { id: id.to_owned(), catalog: v2_catalog(&value) })
    } else {
        let id = subject.filter(|s| !s.is_empty()).ok_or_else(|| invalid("X-Subject-Token"))?;
        Ok(Token { id, catalog: v3_catalog(&value) })
    }
}

/// Where Keystone issues tokens for an auth URL that ends in its version, and whether that is
/// identity v2.0: `…/v3/auth/tokens`, or `…/v2.0/tokens` for a URL ending in `/v2` or `/v2.0`
/// (the registry's normalised `v<authVersion>` says `/v2`; Keystone's v2 API only answers at
/// `/v2.0`, which gophercloud finds by discovery).
pub fn token_url(auth_url: &str) -> (String, bool) {
    let base = auth_url.trim_end_matches('/');
    let path = url_path(base);
    let (prefix, last) = path.rsplit_once('/').unwrap_or(("", path));
    if last == "v2" || last == "v2.0" {
        let root = base.get(..base.len() - path.len()).unwrap_or(base);
        (format!("{root}{prefix}/v2.0/tokens"), true)
    } else {
        (format!("{base}/auth/tokens"), false)
    }
}

fn url_path(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.find('/').map_or("", |i| &rest[i..])
}

/// The user's or project's domain: by ID when given, else by name.
fn domain(swift: &Swift) -> Option<Value> {
    if !swift.domain_id.is_empty() {
        Some(json!({ "id": swift.domain_id }))
    } else if !swift.domain.is_empty() {
        Some(json!({ "name": swift.domain }))
    } else {
        None
    }
}

/// The v3 project scope: by ID, else by name in the domain; none without a project.
fn v3_scope(swift: &Swift) -> Option<Value> {
    if !swift.tenant_id.is_empty() {
        return Some(json!({ "project": { "id": swift.tenant_id } }));
    }
    if swift.tenant.is_empty() {
        return None;
    }
    let mut project = json!({ "name": swift.tenant });
    if let (Some(domain), Some(object)) = (domain(swift), project.as_object_mut()) {
        object.insert("domain".to_owned(), domain);
    }
    Some(json!({ "project": project }))
}

/// The v3 request: an application credential (its own scope) when one is given, else a token,
/// else a password.
pub fn v3_request(c: &Credentials, swift: &Swift) -> Value {
    let identity = if !c.application_credential_secret.is_empty()
        && (!c.application_credential_id.is_empty() || !c.application_credential_name.is_empty())
    {
        let credential = if c.application_credential_id.is_empty() {
            let mut user = json!({ "name": c.username });
            if let (Some(domain), Some(object)) = (domain(swift), user.as_object_mut()) {
                object.insert("domain".to_owned(), domain);
            }
            json!({ "name": c.application_credential_name, "secret": c.application_credential_secret, "user": user })
        } else {
            json!({ "id": c.application_credential_id, "secret": c.application_credential_secret })
        };
        // An application credential is bound to its project: no scope may be asked for.
        return json!({ "auth": { "identity": { "methods": ["application_credential"], "application_credential": credential } } });
    } else if !c.token.is_empty() {
        json!({ "methods": ["token"], "token": { "id": c.token } })
    } else {
        let mut user = json!({ "name": c.username, "password": c.password });
        if let (Some(domain), Some(object)) = (domain(swift), user.as_object_mut()) {
            object.insert("domain".to_owned(), domain);
        }
        json!({ "methods": ["password"], "password": { "user": user } })
    };
    match v3_scope(swift) {
        Some(scope) => json!({ "auth": { "identity": identity, "scope": scope } }),
        None => json!({ "auth": { "identity": identity } }),
    }
}

/// The v2.0 request: a token, else a password, with the tenant.
pub fn v2_request(c: &Credentials, swift: &Swift) -> Result<Value, CloudError> {
    let mut auth = if !c.token.is_empty() {
        json!({ "token": { "id": c.token } })
    } else if !c.username.is_empty() {
        json!({ "passwordCredentials": { "username": c.username, "password": c.password } })
    } else {
        return Err(CloudError {
            code: String::new(),
            status: None,
            class: ErrorClass::Invalid,
            message: "Keystone v2.0 takes a password or a token; application credentials need identity v3".to_owned(),
        });
    };
    if let Some(object) = auth.as_object_mut() {
        if !swift.tenant_id.is_empty() {
            object.insert("tenantId".to_owned(), json!(swift.tenant_id));
        } else if !swift.tenant.is_empty() {
            object.insert("tenantName".to_owned(), json!(swift.tenant));
        }
    }
    Ok(json!({ "auth": auth }))
}

fn text(value: &Value, key: &str) -> String {
    value.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
}

/// The catalog at `pointer`, each endpoint read by `endpoint` (v3 and v2.0 name its fields
/// differently).
fn catalog(body: &Value, pointer: &str, endpoint: impl Fn(&Value) -> Endpoint) -> Vec<Service> {
    fn list(v: Option<&Value>) -> &[Value] {
        v.and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default()
    }
    list(body.pointer(pointer))
        .iter()
        .map(|entry| Service {
            kind: text(entry, "type"),
            name: text(entry, "name"),
            endpoints: list(entry.get("endpoints")).iter().map(&endpoint).collect(),
        })
        .collect()
}

fn v3_catalog(body: &Value) -> Vec<Service> {
    catalog(body, "/token/catalog", |e| Endpoint {
        interface: text(e, "interface"),
        region: [text(e, "region_id"), text(e, "region")].into_iter().find(|r| !r.is_empty()).unwrap_or_default(),
        url: text(e, "url"),
    })
}

/// v2.0 lists one entry per region with its public URL.
fn v2_catalog(body: &Value) -> Vec<Service> {
    catalog(body, "/access/serviceCatalog", |e| Endpoint {
        interface: "public".to_owned(),
        region: text(e, "region"),
        url: text(e, "publicURL"),
    })
}

/// The object store's public endpoint in `region` (any region when empty): the service named
/// `swift` of type `container` first, as the reference asks, then any of type `object-store`.
pub fn object_store(catalog: &[Service], region: &str) -> Result<String, String> {
    let find = |wanted: &dyn Fn(&Service) -> bool| {
        catalog
            .iter()
            .filter(|s| wanted(s))
            .flat_map(|s| &s.endpoints)
            .find(|e| e.interface == "public" && (region.is_empty() || e.region == region) && !e.url.is_empty())
    };
    find(&|s| s.name == "swift" && s.kind == "container")
        .or_else(|| find(&|s| s.kind == "object-store"))
        .map(|e| e.url.trim_end_matches('/').to_owned())
        .ok_or_else(|| {
            let in_region = if region.is_empty() { String::new() } else { format!(" in region {region}") };
            format!("container endpoint not found in the OpenStack catalog: no public object-store endpoint{in_region}")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials { username: "u".into(), password: "p".into(), ..Credentials::default() }
    }

    #[test]
    fn tokens_are_issued_where_keystone_answers_for_each_version() {
        assert_eq!(token_url("https://k:5000/v3"), ("https://k:5000/v3/auth/tokens".to_owned(), false));
        assert_eq!(token_url("https://k:5000/v2"), ("https://k:5000/v2.0/tokens".to_owned(), true));
        assert_eq!(token_url("https://k:5000/v2.0/"), ("https://k:5000/v2.0/tokens".to_owned(), true));
        assert_eq!(token_url("https://k/identity/v2"), ("https://k/identity/v2.0/tokens".to_owned(), true));
        assert_eq!(token_url("https://k/identity/v3"), ("https://k/identity/v3/auth/tokens".to_owned(), false));
    }

    #[test]
    fn v3_password_is_scoped_to_the_project_in_the_users_domain() {
        let swift = Swift { tenant: "registry".into(), domain: "Default".into(), ..Swift::default() };
        let body = v3_request(&creds(), &swift);
        assert_eq!(body.pointer("/auth/identity/methods/0"), Some(&json!("password")));
        assert_eq!(body.pointer("/auth/identity/password/user/domain/name"), Some(&json!("Default")));
        assert_eq!(body.pointer("/auth/scope/project/name"), Some(&json!("registry")));
        assert_eq!(body.pointer("/auth/scope/project/domain/name"), Some(&json!("Default")));
        let by_id = Swift { tenant_id: "p1".into(), domain_id: "d1".into(), ..swift };
        let body = v3_request(&creds(), &by_id);
        assert_eq!(body.pointer("/auth/scope/project"), Some(&json!({"id": "p1"})));
        assert_eq!(body.pointer("/auth/identity/password/user/domain"), Some(&json!({"id": "d1"})));
    }

    #[test]
    fn application_credentials_and_tokens() {
        let app = Credentials {
            application_credential_id: "ac".into(),
            application_credential_secret: "s".into(),
            ..Credentials::default()
        };
        let swift = Swift { tenant: "registry".into(), ..Swift::default() };
        let body = v3_request(&app, &swift);
        assert_eq!(body.pointer("/auth/identity/application_credential"), Some(&json!({"id": "ac", "secret": "s"})));
        assert_eq!(body.pointer("/auth/scope"), None, "an application credential carries its own scope");
        let token = Credentials { token: "t".into(), ..Credentials::default() };
        assert_eq!(v3_request(&token, &swift).pointer("/auth/identity/token/id"), Some(&json!("t")));
        assert_eq!(v2_request(&token, &swift).unwrap().pointer("/auth/tenantName"), Some(&json!("registry")));
        assert!(v2_request(&app, &swift).unwrap_err().message.contains("identity v3"));
    }

    #[test]
    fn the_object_store_is_chosen_by_type_region_and_interface() {
        let service = |kind: &str, name: &str, region: &str, url: &str| Service {
            kind: kind.into(),
            name: name.into(),
            endpoints: vec![
                Endpoint { interface: "internal".into(), region: region.into(), url: format!("{url}/internal") },
                Endpoint { interface: "public".into(), region: region.into(), url: url.into() },
            ],
        };
        let catalog = vec![
            service("identity", "keystone", "RegionOne", "http://k"),
            service("object-store", "swift", "RegionTwo", "http://two/v1/AUTH_p"),
            service("object-store", "swift", "RegionOne", "http://one/v1/AUTH_p/"),
        ];
        assert_eq!(object_store(&catalog, "RegionOne").as_deref(), Ok("http://one/v1/AUTH_p"));
        assert_eq!(object_store(&catalog, "").as_deref(), Ok("http://two/v1/AUTH_p"));
        let err = object_store(&catalog, "RegionThree").unwrap_err();
        assert!(err.starts_with("container endpoint not found in the OpenStack catalog"), "{err}");
        let mut preferred = catalog.clone();
        preferred.push(service("container", "swift", "RegionOne", "http://container"));
        assert_eq!(object_store(&preferred, "RegionOne").as_deref(), Ok("http://container"));
    }
}
