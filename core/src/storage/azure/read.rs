//! Azure's reads: the storage accounts and containers the Config names, the resource group
//! whose virtual networks a private endpoint must be discovered in, and the credentials and
//! cloud endpoints to read them with (spec 30 §6).

use std::collections::BTreeMap;

use super::{Credentials, Environment, credentials, environment, private};
use crate::inputs::Inputs;

/// What the shell reads of Azure this pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reads {
    /// Account → the containers named in it (spec first when valid, then status).
    pub accounts: BTreeMap<String, Vec<String>>,
    /// The resource group whose vnets to list, when a private endpoint must discover its vnet
    /// or subnet.
    pub vnets: Option<String>,
    /// The credentials, or why there are none (naming the secret and key; never a value).
    pub credentials: Result<Credentials, String>,
    /// The cloud's endpoints, or why they cannot be had (a test stand names its own).
    pub environment: Result<Environment, String>,
}

/// What the shell reads of Azure; `None` when there is nothing to read.
pub(crate) fn reads(observed: &Inputs<'_>) -> Option<Reads> {
    use crate::validation::storage as rules;
    let config = observed.config.as_ref().ok()?.as_ref()?;
    let spec = config.spec.storage.azure.clone().filter(|a| rules::azure_account(&a.account_name).is_ok());
    let status = config.status.as_ref().and_then(|s| s.storage.azure.clone());
    let mut accounts: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (azure, from_spec) in [(spec, true), (status, false)] {
        let Some(azure) = azure.filter(|a| !a.account_name.is_empty()) else { continue };
        let containers = accounts.entry(azure.account_name).or_default();
        let valid = !from_spec || rules::azure_container(&azure.container).is_ok();
        if !azure.container.is_empty() && valid && !containers.contains(&azure.container) {
            containers.push(azure.container);
        }
    }
    let credentials = credentials(observed);
    let spec = config.spec.storage.azure.as_ref();
    let vnets = match (spec, &credentials) {
        (Some(spec), Ok(c)) => private::vnets_wanted(spec, c),
        _ => None,
    };
    if accounts.is_empty() && vnets.is_none() {
        return None;
    }
    let cloud = match spec.map(|s| s.cloud_name.as_str()).filter(|c| !c.is_empty()) {
        Some(cloud) => cloud.to_owned(),
        None => {
            observed.platform_status().and_then(|p| p.azure.as_ref()).map(|a| a.cloud_name.clone()).unwrap_or_default()
        }
    };
    Some(Reads { accounts, vnets, credentials, environment: environment(&cloud, observed) })
}
