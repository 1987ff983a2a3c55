//! Swift's reads: whether to probe for Swift (OpenStack's bootstrap, spec 10 §2.5), the
//! containers the Config names, and who logs in to Keystone with which CA bundle (§7.3).

use super::{Credentials, ca_bundle, credentials, effective, normalize_auth_url};
use crate::api::storage::Swift;
use crate::inputs::Inputs;
use crate::storage::{SelectError, select};

/// What the shell reads of Swift this pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reads {
    /// Ask whether the registry can use Swift, logging in as this (no Config storage yet).
    pub probe: Option<Result<Login, String>>,
    /// The containers, by name (spec first when valid, then status).
    pub containers: Vec<String>,
    /// Who reads them; an error names the secret, key or field (never a value).
    pub login: Result<Login, String>,
}

/// Who logs in, where, and what they trust.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Login {
    /// Keystone's URL, normalised (it ends in its version).
    pub auth_url: String,
    /// The credentials (`Debug` shows no secret).
    pub credentials: Credentials,
    /// The effective Swift config (project, domain, region; no container).
    pub swift: Swift,
    /// The CA bundle to trust beside nothing else, when the cluster has one.
    pub bundle: Option<String>,
}

fn login(observed: &Inputs<'_>, spec: &Swift) -> Result<Login, String> {
    let credentials = credentials(observed)?;
    let mut swift = effective(spec, &credentials);
    swift.container.clear();
    let auth_url = normalize_auth_url(&swift.auth_url, &swift.auth_version)?;
    let bundle = ca_bundle(observed)?;
    Ok(Login { auth_url, credentials, swift, bundle })
}

/// Whether this pass decides OpenStack's storage from the Swift probe: on OpenStack, while
/// there is no Config (the bootstrap) or its storage is not configured.
fn needs_probe(observed: &Inputs<'_>) -> bool {
    let openstack = observed.platform_status().is_some_and(|p| p.type_ == "OpenStack");
    openstack
        && match &observed.config {
            Ok(None) => true,
            Ok(Some(config)) => select(&config.spec.storage) == Err(SelectError::NotConfigured),
            Err(_) => false,
        }
}

/// What the shell reads of Swift; `None` when there is nothing to read.
pub(crate) fn reads(observed: &Inputs<'_>) -> Option<Reads> {
    let probe = needs_probe(observed).then(|| login(observed, &Swift::default()));
    let config = observed.config.as_ref().ok().and_then(Option::as_ref);
    let spec = config.and_then(|c| c.spec.storage.swift.clone());
    let status = config.and_then(|c| c.status.as_ref()?.storage.swift.clone());
    let containers = crate::storage::read::named(
        spec.as_ref().map(|s| s.container.clone()),
        status.as_ref().map(|s| s.container.clone()),
        crate::validation::storage::swift_container,
    );
    if probe.is_none() && containers.is_empty() {
        return None;
    }
    let login = login(observed, &spec.or(status).unwrap_or_default());
    Some(Reads { probe, containers, login })
}
