//! Azure Blob Storage (spec 30 §6): credentials, cloud environments, the registry's env,
//! completion from observed account facts, and removal of this cluster's account.

use std::collections::BTreeMap;

use super::credentials::{self, Source};
use super::envvar::{Setting, SettingValue};
use super::provision::{Completion, Removal, decide_removal};
use super::{Wiring, naming};
use crate::action::{Action, CloudAction};
use crate::api::openshift::KeyValue;
use crate::api::storage::Azure;
use crate::api::{ConditionStatus, Storage};
use crate::conditions::Wanted;
use crate::inputs::Inputs;
use crate::names::{NAMESPACE, USER_CREDENTIALS_SECRET};
use crate::observed::BucketState;

const ACCOUNT_KEY: &str = "REGISTRY_STORAGE_AZURE_ACCOUNTKEY";

/// How the registry and the operator authenticate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Credentials {
    /// The user's account key (UPI); when set nothing is created.
    pub account_key: String,
    /// Client ID (minted).
    pub client_id: String,
    /// Tenant ID (minted).
    pub tenant_id: String,
    /// Resource group for the account.
    pub resource_group: String,
    /// Region for the account.
    pub region: String,
    /// Projected token file for workload identity.
    pub federated_token_file: String,
}

/// Credentials from the user secret (an account key) or the minted ones.
pub fn credentials(observed: &Inputs<'_>) -> Result<Credentials, String> {
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
                client_id: get("azure_client_id")?,
                tenant_id: get("azure_tenant_id")?,
                resource_group,
                region: get("azure_region")?,
                federated_token_file: get("azure_federated_token_file")?,
            })
        }
    }
}

/// `(storage suffix, Active Directory endpoint)` of a cloud name (case-insensitive; empty is public).
pub fn environment(cloud: &str) -> Result<(&'static str, &'static str), String> {
    match cloud.to_uppercase().as_str() {
        "" | "AZUREPUBLICCLOUD" | "AZURECLOUD" => Ok(("core.windows.net", "https://login.microsoftonline.com/")),
        "AZUREUSGOVERNMENTCLOUD" | "AZUREUSGOVERNMENT" => {
            Ok(("core.usgovcloudapi.net", "https://login.microsoftonline.us/"))
        }
        "AZURECHINACLOUD" => Ok(("core.chinacloudapi.cn", "https://login.chinacloudapi.cn/")),
        "AZUREGERMANCLOUD" => Ok(("core.cloudapi.de", "https://login.microsoftonline.de/")),
        other => Err(format!("autorest/azure: There is no cloud environment matching the name \"{other}\"")),
    }
}

/// The registry's env for Azure (spec 30 §6.5 order).
pub fn wiring(spec: Option<&Azure>, observed: &Inputs<'_>) -> Result<Wiring, String> {
    let azure = spec.cloned().unwrap_or_default();
    let c = credentials(observed)?;
    let (suffix, authority) = environment(&azure.cloud_name)?;
    let str = |s: &str| SettingValue::Str(s.to_owned());
    let mut settings = Vec::new();
    let mut key = c.account_key.clone();
    if key.is_empty() && c.federated_token_file.is_empty() {
        key = observed.cloud.azure.get(&azure.account_name).map(|a| a.primary_key.clone()).unwrap_or_default();
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
        settings.push(Setting::new("AZURE_AUTHORITY_HOST", str(authority)));
    }
    settings.push(Setting::new("REGISTRY_STORAGE", str("azure")));
    settings.push(Setting::new("REGISTRY_STORAGE_AZURE_CONTAINER", str(&azure.container)));
    settings.push(Setting::new("REGISTRY_STORAGE_AZURE_ACCOUNTNAME", str(&azure.account_name)));
    if !azure.cloud_name.is_empty() {
        settings.push(Setting::new("REGISTRY_STORAGE_AZURE_REALM", str(suffix)));
    }
    Ok(Wiring { settings, ..Wiring::default() })
}

/// The tag that marks an account as this cluster's.
pub fn ownership_tag(infra: &str) -> KeyValue {
    KeyValue { key: format!("kubernetes.io_cluster.{infra}"), value: "owned".to_owned() }
}

fn push(out: &mut Completion, status: ConditionStatus, reason: &str, message: impl Into<String>) {
    out.condition(status, reason, message);
}

/// Completes Azure storage for a Managed pass.
pub fn complete(observed: &Inputs<'_>, applied: &Storage, out: &mut Completion) {
    let mut azure = out.spec.azure.clone().unwrap_or_default();
    let c = match credentials(observed) {
        Ok(c) => c,
        Err(e) => {
            push(out, ConditionStatus::Unknown, "ConfigError", format!("Unable to get configuration: {e}"));
            out.error = Some(e);
            return;
        }
    };
    if !c.account_key.is_empty() {
        match (azure.account_name.is_empty(), azure.container.is_empty()) {
            (true, _) => push(
                out,
                ConditionStatus::False,
                "StorageNotConfigured",
                "Storage account key is provided, but account name is not specified",
            ),
            (false, true) => push(
                out,
                ConditionStatus::False,
                "StorageNotConfigured",
                "Storage account is provided, but container is not specified",
            ),
            (false, false) => {
                if out.spec.management_state.is_empty() {
                    out.spec.management_state = "Unmanaged".to_owned();
                }
                out.status = Some(Storage { azure: Some(azure), ..Storage::default() });
                push(out, ConditionStatus::True, "UserManaged", "Storage is managed by the user");
            }
        }
        return;
    }
    if azure.network_access.as_ref().is_some_and(|n| n.type_ == "Internal") {
        let message = "private endpoints (networkAccess.type Internal) are not supported yet".to_owned();
        push(out, ConditionStatus::Unknown, "AzureError", message.clone());
        out.permanent = Some(("StorageNotSupported".to_owned(), message));
        return;
    }
    let infra = observed.infrastructure_name().to_owned();
    if azure.cloud_name.is_empty() && azure.account_name.is_empty() {
        azure.cloud_name =
            observed.platform_status().cloned().and_then(|p| p.azure).map(|a| a.cloud_name).unwrap_or_default();
    }
    if let Err(e) = environment(&azure.cloud_name) {
        push(out, ConditionStatus::Unknown, "ConfigError", format!("Unable to get cloud environment: {e}"));
        out.error = Some(e);
        return;
    }
    if azure.account_name.is_empty() || azure.container.is_empty() {
        let cluster_id = match observed.cluster_id() {
            Ok(id) => id,
            Err(e) => {
                push(out, ConditionStatus::Unknown, "ConfigError", e.to_string());
                out.error = Some(e.to_string());
                return;
            }
        };
        if azure.account_name.is_empty() {
            azure.account_name = naming::azure_account(cluster_id, observed.seed, "azure-account");
        }
        if azure.container.is_empty() {
            azure.container = naming::random(cluster_id, &[], observed.seed, "azure-container");
        }
        out.spec.azure = Some(azure);
        out.generated_name();
        return;
    }
    let Some(facts) = observed.cloud.azure.get(&azure.account_name) else {
        out.error = Some(format!("Azure storage account {} has not been observed", azure.account_name));
        return;
    };
    let recorded =
        applied.azure.as_ref().is_some_and(|a| a.account_name == azure.account_name && a.container == azure.container);
    let container = facts.containers.get(&azure.container).copied().unwrap_or_default();
    let mut created = false;
    match facts.state {
        BucketState::Exists if container == BucketState::Exists => {}
        BucketState::Missing | BucketState::Exists if recorded => {
            let message = format!(
                "The Azure storage account {} or its container {} that held the registry's data no longer exists. It is not \
                 recreated empty: restore it, or clear status.storage to have a new one created",
                azure.account_name, azure.container
            );
            push(out, ConditionStatus::False, "ContainerNotFound", message.clone());
            out.permanent = Some(("StorageMissing".to_owned(), message));
            return;
        }
        BucketState::Missing => {
            let mut tags = vec![ownership_tag(&infra)];
            let user =
                observed.platform_status().cloned().and_then(|p| p.azure).map(|a| a.resource_tags).unwrap_or_default();
            for tag in user {
                tags.retain(|t| t.key != tag.key);
                tags.push(tag);
            }
            let account = CloudAction::AzureCreateStorageAccount {
                account: azure.account_name.clone(),
                resource_group: c.resource_group.clone(),
                location: c.region.clone(),
                tags,
            };
            out.actions.push((
                Action::Cloud(account),
                format!("the registry's storage account {} does not exist", azure.account_name),
            ));
            created = true;
        }
        BucketState::Exists => created = true,
        BucketState::Forbidden | BucketState::Unknown => {
            push(
                out,
                ConditionStatus::Unknown,
                "AzureError",
                format!("Unable to process storage account: {}", facts.message),
            );
            out.error = Some(facts.message.clone());
            return;
        }
    }
    if created {
        let make = CloudAction::AzureCreateContainer {
            account: azure.account_name.clone(),
            container: azure.container.clone(),
        };
        out.actions
            .push((Action::Cloud(make), format!("the registry's blob container {} does not exist", azure.container)));
    }
    if out.spec.management_state.is_empty() {
        out.spec.management_state = if created { "Managed" } else { "Unmanaged" }.to_owned();
    }
    if !created {
        push(out, ConditionStatus::True, "ContainerExists", "Storage container exists");
        out.status = Some(Storage { azure: Some(azure.clone()), ..Storage::default() });
    }
    out.spec.azure = Some(azure);
}

/// Removal of the applied Azure storage (the caller checked that storage is Managed).
pub fn remove(observed: &Inputs<'_>, applied: &Azure) -> (Removal, Vec<Wanted>) {
    if applied.account_name.is_empty() {
        return (Removal::Done, Vec::new());
    }
    let Some(facts) = observed.cloud.azure.get(&applied.account_name) else {
        return (
            Removal::Blocked(format!("Azure storage account {} has not been observed", applied.account_name)),
            Vec::new(),
        );
    };
    let tag = ownership_tag(observed.infrastructure_name());
    let tagged = facts.tags.get(&tag.key) == Some(&tag.value);
    let owned = if tagged { Ok(()) } else { Err(format!("the tag {}={}", tag.key, tag.value)) };
    let delete = Action::Cloud(CloudAction::AzureDeleteStorage {
        account: applied.account_name.clone(),
        resource_group: credentials(observed).map(|c| c.resource_group).unwrap_or_default(),
        container: applied.container.clone(),
        require_tag: tag,
    });
    let deleted = ("AccountDeleted", "Storage account has been deleted");
    decide_removal("storage account", &applied.account_name, facts.state, owned, deleted, delete)
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
        assert_eq!(environment("AzureUSGovernmentCloud").unwrap().0, "core.usgovcloudapi.net");
        assert_eq!(environment("").unwrap().0, "core.windows.net");
        assert_eq!(environment("azurechinacloud").unwrap().0, "core.chinacloudapi.cn");
        assert_eq!(
            environment("invalid").unwrap_err(),
            "autorest/azure: There is no cloud environment matching the name \"INVALID\""
        );
    }
}
