//! OpenStack Swift (spec 30 §7): credentials (user secret or `clouds.yaml`), the registry's
//! env, completion from observed container facts, and removal of this cluster's container.
//!
//! Every backend has the same shape: this file reads its inputs and wires the registry pod,
//! `provision.rs` completes the storage for a Managed pass, `removal.rs` removes what the
//! operator owns.

pub mod call;
pub mod facts;
pub(crate) mod provision;
pub mod read;
pub(crate) mod removal;

use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use serde_json::Value;

use super::Wiring;
use super::credentials::{self, Source};
use super::envvar::{Setting, SettingValue};
use crate::api::storage::Swift;
use crate::inputs::Inputs;
use crate::names::{INSTALLER_CREDENTIALS_SECRET, NAMESPACE, USER_CREDENTIALS_SECRET};

/// Keystone credentials and defaults. `Debug` shows which secrets are set, never their values.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// User name.
    pub username: String,
    /// Password.
    pub password: String,
    /// Token.
    pub token: String,
    /// Application credential ID.
    pub application_credential_id: String,
    /// Application credential name.
    pub application_credential_name: String,
    /// Application credential secret.
    pub application_credential_secret: String,
    /// Keystone URL.
    pub auth_url: String,
    /// Project name.
    pub tenant: String,
    /// Project ID.
    pub tenant_id: String,
    /// Domain name.
    pub domain: String,
    /// Domain ID.
    pub domain_id: String,
    /// Region.
    pub region: String,
    /// Identity API version.
    pub identity_api_version: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &!self.username.is_empty())
            .field("password", &!self.password.is_empty())
            .field("token", &!self.token.is_empty())
            .field("application_credential_id", &self.application_credential_id)
            .field("application_credential_name", &self.application_credential_name)
            .field("application_credential_secret", &!self.application_credential_secret.is_empty())
            .field("auth_url", &self.auth_url)
            .field("tenant", &self.tenant)
            .field("tenant_id", &self.tenant_id)
            .field("domain", &self.domain)
            .field("domain_id", &self.domain_id)
            .field("region", &self.region)
            .field("identity_api_version", &self.identity_api_version)
            .finish()
    }
}

pub(crate) fn text(value: &Value, pointer: &str) -> String {
    match value.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

/// Credentials from the user secret (any of three credential kinds) or from `clouds.yaml`.
pub(crate) fn credentials(observed: &Inputs<'_>) -> Result<Credentials, String> {
    match credentials::source(observed)? {
        Source::User(user) => {
            let get = |k: &str| user.get(&format!("REGISTRY_STORAGE_SWIFT_{k}")).map(Option::unwrap_or_default);
            let c = Credentials {
                username: get("USERNAME")?,
                password: get("PASSWORD")?,
                token: get("TOKENID")?,
                application_credential_id: get("APPLICATIONCREDENTIALID")?,
                application_credential_name: get("APPLICATIONCREDENTIALNAME")?,
                application_credential_secret: get("APPLICATIONCREDENTIALSECRET")?,
                ..Credentials::default()
            };
            let password = !c.username.is_empty() && !c.password.is_empty();
            let application = !c.application_credential_id.is_empty()
                && !c.application_credential_name.is_empty()
                && !c.application_credential_secret.is_empty();
            if password || application || !c.token.is_empty() {
                Ok(c)
            } else {
                Err(format!(
                    "secret \"{NAMESPACE}/{USER_CREDENTIALS_SECRET}\" does not contain required keys 'REGISTRY_STORAGE_SWIFT_USERNAME' and \
                     'REGISTRY_STORAGE_SWIFT_PASSWORD'; or 'REGISTRY_STORAGE_SWIFT_APPLICATIONCREDENTIALID', \
                     'REGISTRY_STORAGE_SWIFT_APPLICATIONCREDENTIALNAME' and 'REGISTRY_STORAGE_SWIFT_APPLICATIONCREDENTIALSECRET'; \
                     or 'REGISTRY_STORAGE_SWIFT_TOKENID'"
                ))
            }
        }
        Source::Installer(minted) => {
            let yaml = minted.require("clouds.yaml")?;
            let options = serde_saphyr::options! { strict_booleans: true };
            let parsed: Value = serde_saphyr::from_str_with_options(&yaml, options).map_err(|_| {
                format!("secret \"{NAMESPACE}/{INSTALLER_CREDENTIALS_SECRET}\" key \"clouds.yaml\" is not valid YAML")
            })?;
            let name = observed
                .platform_status()
                .cloned()
                .and_then(|p| p.openstack)
                .map(|o| o.cloud_name)
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| "openstack".to_owned());
            let cloud = parsed
                .get("clouds")
                .and_then(|c| c.get(&name))
                .ok_or_else(|| format!("clouds.yaml does not contain required cloud \"{name}\""))?;
            let auth = |k: &str| text(cloud, &format!("/auth/{k}"));
            let or = |a: String, b: String| if a.is_empty() { b } else { a };
            Ok(Credentials {
                username: auth("username"),
                password: auth("password"),
                token: auth("token"),
                application_credential_id: auth("application_credential_id"),
                application_credential_name: auth("application_credential_name"),
                application_credential_secret: auth("application_credential_secret"),
                auth_url: auth("auth_url"),
                tenant: auth("project_name"),
                tenant_id: auth("project_id"),
                domain: or(auth("domain_name"), auth("user_domain_name")),
                domain_id: or(auth("domain_id"), auth("user_domain_id")),
                region: text(cloud, "/region_name"),
                identity_api_version: text(cloud, "/identity_api_version"),
            })
        }
    }
}

/// Normalises a Keystone URL: scheme added and lowercased, host checked and lowercased,
/// default port dropped, `.`/`..` and duplicate slashes resolved; a bare path gets
/// `v<authVersion>`; any other path must start with `/v1`, `/v2` or `/v3`.
pub(crate) fn normalize_auth_url(url: &str, auth_version: &str) -> Result<String, String> {
    let with_scheme = if url.contains("://") { url.to_owned() } else { format!("http://{url}") };
    let (scheme, rest) = with_scheme.split_once("://").ok_or_else(|| format!("invalid auth URL {url:?}"))?;
    let scheme = scheme.to_lowercase();
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let authority = authority.to_lowercase();
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') && !p.contains(']') => {
            (h.to_owned(), Some(p.to_owned()))
        }
        _ => (authority.clone(), None),
    };
    let dns = !host.is_empty()
        && host.split('.').all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    let ipv6 = host.starts_with('[') && host.ends_with(']');
    if !(dns || ipv6) {
        return Err(format!("invalid auth URL {url:?}: {host:?} is not a host name or address"));
    }
    let port = port.filter(|p| !((scheme == "http" && p == "80") || (scheme == "https" && p == "443")));
    if port.as_ref().is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return Err(format!("invalid auth URL {url:?}: bad port"));
    }
    let mut segments: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            s => segments.push(s),
        }
    }
    let trailing = path.ends_with('/') && !segments.is_empty();
    let mut path = if segments.is_empty() { String::new() } else { format!("/{}", segments.join("/")) };
    if trailing {
        path.push('/');
    }
    if path.is_empty() {
        path = format!("/v{auth_version}");
    } else if !["/v1", "/v2", "/v3"].iter().any(|v| path.starts_with(v)) {
        return Err(format!("Incorrect Auth URL: {path}"));
    }
    let port = port.map(|p| format!(":{p}")).unwrap_or_default();
    Ok(format!("{scheme}://{host}{port}{path}"))
}

/// The CA bundle Keystone and Swift are trusted with (spec 30 §7.3): `cacert` of the minted
/// credentials (read even when the user's secret gives the credentials), else
/// `ca-bundle.pem` of `openshift-config/cloud-provider-config`; empty values count as absent.
pub(crate) fn ca_bundle(observed: &Inputs<'_>) -> Result<Option<String>, String> {
    let secret = observed.objects.get::<Secret>(NAMESPACE, INSTALLER_CREDENTIALS_SECRET).map_err(|e| e.to_string())?;
    let cacert = secret
        .and_then(|s| s.data?.get("cacert").map(|b| String::from_utf8_lossy(&b.0).into_owned()))
        .filter(|v| !v.is_empty());
    if cacert.is_some() {
        return Ok(cacert);
    }
    let config =
        observed.objects.get::<ConfigMap>("openshift-config", "cloud-provider-config").map_err(|e| e.to_string())?;
    Ok(config.and_then(|c| c.data?.get("ca-bundle.pem").cloned()).filter(|v| !v.is_empty()))
}

/// `spec.storage.swift` with credential defaults for the identity fields.
pub(crate) fn effective(spec: &Swift, c: &Credentials) -> Swift {
    let or = |own: &str, default: &str| if own.is_empty() { default.to_owned() } else { own.to_owned() };
    Swift {
        auth_url: or(&spec.auth_url, &c.auth_url),
        auth_version: or(&spec.auth_version, &or(&c.identity_api_version, "3")),
        container: spec.container.clone(),
        domain: or(&spec.domain, &c.domain),
        domain_id: or(&spec.domain_id, &c.domain_id),
        tenant: or(&spec.tenant, &c.tenant),
        tenant_id: or(&spec.tenant_id, &c.tenant_id),
        region_name: or(&spec.region_name, &c.region),
    }
}

/// The registry's env for Swift (spec 30 §7.5 order); credentials are secret settings.
pub(crate) fn wiring(storage: &crate::api::Storage, observed: &Inputs<'_>) -> Result<Wiring, String> {
    let spec = storage.swift.as_ref();
    let c = credentials(observed)?;
    let swift = effective(&spec.cloned().unwrap_or_default(), &c);
    let version: i64 = swift.auth_version.parse().map_err(|e| format!("unable to parse authVersion: {e}"))?;
    let str = |s: &str| SettingValue::Str(s.to_owned());
    let mut settings = vec![
        Setting::new("REGISTRY_STORAGE", str("swift")),
        Setting::new("REGISTRY_STORAGE_SWIFT_CONTAINER", str(&swift.container)),
        Setting::new("REGISTRY_STORAGE_SWIFT_AUTHURL", str(&normalize_auth_url(&swift.auth_url, &swift.auth_version)?)),
    ];
    for (name, value) in [
        ("USERNAME", &c.username),
        ("PASSWORD", &c.password),
        ("TOKENID", &c.token),
        ("APPLICATIONCREDENTIALID", &c.application_credential_id),
        ("APPLICATIONCREDENTIALNAME", &c.application_credential_name),
        ("APPLICATIONCREDENTIALSECRET", &c.application_credential_secret),
    ] {
        settings.push(Setting::secret(&format!("REGISTRY_STORAGE_SWIFT_{name}"), str(value)));
    }
    settings.push(Setting::new("REGISTRY_STORAGE_SWIFT_AUTHVERSION", SettingValue::Int(version)));
    for (name, value) in [
        ("DOMAIN", &swift.domain),
        ("DOMAINID", &swift.domain_id),
        ("TENANT", &swift.tenant),
        ("TENANTID", &swift.tenant_id),
        ("REGION", &swift.region_name),
    ] {
        if !value.is_empty() {
            settings.push(Setting::new(&format!("REGISTRY_STORAGE_SWIFT_{name}"), str(value)));
        }
    }
    Ok(Wiring { settings, ..Wiring::default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_urls() {
        let ok = |url: &str, version: &str, want: &str| {
            assert_eq!(normalize_auth_url(url, version).as_deref(), Ok(want), "{url}")
        };
        ok("http://v1v2v3.com:5000/v3", "3", "http://v1v2v3.com:5000/v3");
        ok("http://v1v2v3.com:5000/", "3", "http://v1v2v3.com:5000/v3");
        ok("http://v1v2v3.com:5000/./././", "3", "http://v1v2v3.com:5000/v3");
        ok("http://v1v2v3.com:5000/./././v3//", "3", "http://v1v2v3.com:5000/v3/");
        ok("http://v1v2v3.com:5000/v3/", "3", "http://v1v2v3.com:5000/v3/");
        ok("http://v1v2v3.com:5000", "2", "http://v1v2v3.com:5000/v2");
        ok("http://v1v2v3.com:5000/v2.0", "2", "http://v1v2v3.com:5000/v2.0");
        ok("HTTPS://Keystone.Example.com:443/v3", "3", "https://keystone.example.com/v3");
        ok("localhost:5000/v3", "3", "http://localhost:5000/v3");
        for bad in ["http://v1v2v3.com:5000/./././v/3//", "INVALID_URL", "http://v1v2v3.com:5000/abracadabra"] {
            assert!(normalize_auth_url(bad, "3").is_err(), "{bad}");
        }
    }
}
