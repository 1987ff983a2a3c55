//! Azure Blob Storage (spec 30 §6): credentials, cloud environments, the registry's env,
//! completion from observed account facts, and removal of this cluster's account.
//!
//! Every backend has the same shape: this file reads its inputs and wires the registry pod,
//! `provision.rs` completes the storage for a Managed pass, `removal.rs` removes what the
//! operator owns.

pub mod call;
pub mod facts;
pub(crate) mod private;
pub(crate) mod provision;
pub mod read;
pub(crate) mod removal;

pub use call::ownership_tag;
use std::collections::BTreeMap;

use super::Wiring;
use super::credentials::{self, Source};
use super::envvar::{Setting, SettingValue};
use crate::api::openshift::KeyValue;
use crate::inputs::Inputs;
use crate::names::{NAMESPACE, USER_CREDENTIALS_SECRET};

pub(crate) const ACCOUNT_KEY: &str = "REGISTRY_STORAGE_AZURE_ACCOUNTKEY";

/// How the registry and the operator authenticate.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    /// The user's account key (UPI); when set nothing is created.
    pub account_key: String,
    /// Subscription of the account (minted).
    pub subscription_id: String,
    /// Client ID (minted).
    pub client_id: String,
    /// Client secret (minted; empty with workload identity).
    pub client_secret: String,
    /// Tenant ID (minted).
    pub tenant_id: String,
    /// Resource group for the account.
    pub resource_group: String,
    /// Region for the account.
    pub region: String,
    /// Projected token file for workload identity.
    pub federated_token_file: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the key or the secret: only whether they are set.
        f.debug_struct("Credentials")
            .field("account_key", &!self.account_key.is_empty())
            .field("subscription_id", &self.subscription_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &!self.client_secret.is_empty())
            .field("tenant_id", &self.tenant_id)
            .field("resource_group", &self.resource_group)
            .field("region", &self.region)
            .field("federated_token_file", &self.federated_token_file)
            .finish()
    }
}

/// Credentials from the user secret (an account key) or the minted ones.
pub(crate) fn credentials(observed: &Inputs<'_>) -> Result<Credentials, String> {
    match credentials::source(observed)? {
        Source::User(user) => {
            let key = user.require(ACCOUNT_KEY)?;
            if key.is_empty() {
                return Err(format!(
                    "the secret {NAMESPACE}/{USER_CREDENTIALS_SECRET} has an empty value for {ACCOUNT_KEY}; the secret should \
                     be removed so that the operator can use cluster-wide secrets or it should contain a valid storage account access key"
                ));
            }
            Ok(Credentials { account_key: key, ..Credentials::default() })
        }
        Source::Installer(minted) => {
            let get = |k: &str| minted.get(k).map(Option::unwrap_or_default);
            let mut resource_group = get("azure_resourcegroup")?;
            if resource_group.is_empty() {
                resource_group = observed
                    .platform_status()
                    .cloned()
                    .and_then(|p| p.azure)
                    .map(|a| a.resource_group_name)
                    .unwrap_or_default();
            }
            Ok(Credentials {
                account_key: String::new(),
                subscription_id: get("azure_subscription_id")?,
                client_id: get("azure_client_id")?,
                client_secret: get("azure_client_secret")?,
                tenant_id: get("azure_tenant_id")?,
                resource_group,
                region: get("azure_region")?,
                federated_token_file: get("azure_federated_token_file")?,
            })
        }
    }
}

/// An Azure cloud's endpoints (spec 30 §6.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Environment {
    /// The storage DNS suffix (`core.windows.net`): blobs are at `<account>.blob.<suffix>`.
    pub storage_suffix: String,
    /// Entra ID's (or Stack Hub's AD FS) authority host, with its trailing slash as the
    /// reference writes it.
    pub authority: String,
    /// The Resource Manager endpoint.
    pub resource_manager: String,
    /// The audience of Resource Manager tokens (the endpoint itself, but on Stack Hub).
    pub token_audience: String,
    /// Azure Stack Hub: its older storage API profile, `Storage` accounts, client secrets only,
    /// no private endpoints.
    pub stack_hub: bool,
}

/// The ConfigMap whose `endpoints` key describes an Azure Stack Hub cloud (the reference's
/// Azure Stack controller copies it to a file and reads that; the core reads it directly).
const STACK_ENDPOINTS: (&str, &str, &str) = ("openshift-config", "cloud-provider-config", "endpoints");

/// The environment of a cloud name (case-insensitive; empty is public); Azure Stack Hub's
/// comes from its endpoints document.
pub(crate) fn environment(cloud: &str, observed: &Inputs<'_>) -> Result<Environment, String> {
    let env = |storage_suffix: &str, authority: &str, resource_manager: &str| {
        Ok(Environment {
            storage_suffix: storage_suffix.to_owned(),
            authority: authority.to_owned(),
            resource_manager: resource_manager.to_owned(),
            token_audience: resource_manager.to_owned(),
            stack_hub: false,
        })
    };
    match cloud.to_uppercase().as_str() {
        "" | "AZUREPUBLICCLOUD" | "AZURECLOUD" => {
            env("core.windows.net", "https://login.microsoftonline.com/", "https://management.azure.com/")
        }
        "AZUREUSGOVERNMENTCLOUD" | "AZUREUSGOVERNMENT" => {
            env("core.usgovcloudapi.net", "https://login.microsoftonline.us/", "https://management.usgovcloudapi.net/")
        }
        "AZURECHINACLOUD" => {
            env("core.chinacloudapi.cn", "https://login.chinacloudapi.cn/", "https://management.chinacloudapi.cn/")
        }
        "AZUREGERMANCLOUD" => {
            env("core.cloudapi.de", "https://login.microsoftonline.de/", "https://management.microsoftazure.de/")
        }
        "AZURESTACKCLOUD" => stack_hub(observed),
        other => Err(format!("autorest/azure: There is no cloud environment matching the name \"{other}\"")),
    }
}

/// Azure Stack Hub's environment from `openshift-config/cloud-provider-config` key `endpoints`
/// (the JSON document of Go's autorest environments); the missing fields are named as the
/// reference names them.
fn stack_hub(observed: &Inputs<'_>) -> Result<Environment, String> {
    use k8s_openapi::api::core::v1::ConfigMap;
    let (namespace, name, key) = STACK_ENDPOINTS;
    let config = observed.objects.get::<ConfigMap>(namespace, name).map_err(|e| e.to_string())?;
    let Some(text) = config.and_then(|c| c.data?.get(key).cloned()).filter(|t| !t.trim().is_empty()) else {
        return Err(format!("Azure Stack Hub: the ConfigMap {namespace}/{name} has no {key}"));
    };
    let document: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| format!("Azure Stack Hub: {key} of the ConfigMap {namespace}/{name} is not JSON: {e}"))?;
    let field = |json: &str| document.get(json).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
    let environment = Environment {
        storage_suffix: field("storageEndpointSuffix"),
        authority: field("activeDirectoryEndpoint"),
        resource_manager: field("resourceManagerEndpoint"),
        token_audience: field("tokenAudience"),
        stack_hub: true,
    };
    let missing: Vec<String> = [
        ("ResourceManagerEndpoint", &environment.resource_manager),
        ("ActiveDirectoryEndpoint", &environment.authority),
        ("TokenAudience", &environment.token_audience),
        ("StorageEndpointSuffix", &environment.storage_suffix),
    ]
    .into_iter()
    .filter(|(_, value)| value.is_empty())
    .map(|(name, _)| format!("'Environment.{name}'"))
    .collect();
    if !missing.is_empty() {
        return Err(format!("client misconfigured, missing {} option(s)", missing.join(", ")));
    }
    Ok(environment)
}

/// The registry's env for Azure (spec 30 §6.5 order).
pub(crate) fn wiring(storage: &crate::api::Storage, observed: &Inputs<'_>) -> Result<Wiring, String> {
    let spec = storage.azure.as_ref();
    let azure = spec.cloned().unwrap_or_default();
    let c = credentials(observed)?;
    let Environment { storage_suffix: suffix, authority, .. } = environment(&azure.cloud_name, observed)?;
    let str = |s: &str| SettingValue::Str(s.to_owned());
    let mut settings = Vec::new();
    let mut key = c.account_key.clone();
    if key.is_empty() && c.federated_token_file.is_empty() {
        key = observed.cloud.azure.accounts.get(&azure.account_name).map(|a| a.primary_key.clone()).unwrap_or_default();
        if key.is_empty() {
            return Err(format!("failed to get keys for the storage account {}", azure.account_name));
        }
    }
    if !key.is_empty() {
        settings.push(Setting::secret(ACCOUNT_KEY, str(&key)));
    }
    if !c.federated_token_file.is_empty() {
        settings.push(Setting::new("AZURE_CLIENT_ID", str(&c.client_id)));
        settings.push(Setting::new("AZURE_TENANT_ID", str(&c.tenant_id)));
        settings.push(Setting::new("AZURE_FEDERATED_TOKEN_FILE", str(&c.federated_token_file)));
        settings.push(Setting::new("AZURE_AUTHORITY_HOST", str(&authority)));
    }
    settings.push(Setting::new("REGISTRY_STORAGE", str("azure")));
    settings.push(Setting::new("REGISTRY_STORAGE_AZURE_CONTAINER", str(&azure.container)));
    settings.push(Setting::new("REGISTRY_STORAGE_AZURE_ACCOUNTNAME", str(&azure.account_name)));
    if !azure.cloud_name.is_empty() {
        settings.push(Setting::new("REGISTRY_STORAGE_AZURE_REALM", str(&suffix)));
    }
    Ok(Wiring { settings, ..Wiring::default() })
}

/// The tags the operator's Azure resources carry: this cluster's ownership tag, then the
/// cluster's resource tags (the user's win on a clash).
pub(crate) fn tags(observed: &Inputs<'_>) -> Vec<KeyValue> {
    let mut tags = vec![ownership_tag(observed.infrastructure_name())];
    let user =
        observed.platform_status().and_then(|p| p.azure.as_ref()).map(|a| a.resource_tags.clone()).unwrap_or_default();
    for tag in user {
        tags.retain(|t| t.key != tag.key);
        tags.push(tag);
    }
    tags
}

/// Tags as a map (for the world model).
pub fn tag_map(tags: &[KeyValue]) -> BTreeMap<String, String> {
    tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloud_environments() {
        let observed = crate::observed::Observed::new(jiff::Timestamp::UNIX_EPOCH, "seed");
        let inputs = Inputs::decode(&observed);
        let env = |name: &str| environment(name, &inputs);
        assert_eq!(env("AzureUSGovernmentCloud").unwrap().storage_suffix, "core.usgovcloudapi.net");
        assert_eq!(env("").unwrap().storage_suffix, "core.windows.net");
        assert_eq!(env("azurechinacloud").unwrap().storage_suffix, "core.chinacloudapi.cn");
        assert_eq!(env("AzureGermanCloud").unwrap().resource_manager, "https://management.microsoftazure.de/");
        assert_eq!(env("").unwrap().token_audience, "https://management.azure.com/");
        assert_eq!(
            env("invalid").unwrap_err(),
            "autorest/azure: There is no cloud environment matching the name \"INVALID\""
        );
        assert_eq!(
            env("AzureStackCloud").unwrap_err(),
            "Azure Stack Hub: the ConfigMap openshift-config/cloud-provider-config has no endpoints"
        );
    }
}
