//! Azure provisioning: name and create the storage account and its blob container (spec 30 §6).

use super::{credentials, environment, private, tags};
use crate::action::{Action, CloudAction};
use crate::api::{ConditionStatus, Storage};
use crate::inputs::Inputs;
use crate::observed::BucketState;
use crate::storage::completion::Completion;
use crate::storage::naming;

pub(crate) fn push(out: &mut Completion, status: ConditionStatus, reason: &str, message: impl Into<String>) {
    out.condition(status, reason, message);
}

/// Completes Azure storage for a Managed pass.
pub fn complete(_config: &crate::api::Config, observed: &Inputs<'_>, applied: &Storage, out: &mut Completion) {
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
    if azure.cloud_name.is_empty() && azure.account_name.is_empty() {
        azure.cloud_name =
            observed.platform_status().and_then(|p| p.azure.as_ref()).map(|a| a.cloud_name.clone()).unwrap_or_default();
    }
    let env = match environment(&azure.cloud_name, observed) {
        Ok(env) => env,
        Err(e) => {
            push(out, ConditionStatus::Unknown, "ConfigError", format!("Unable to get cloud environment: {e}"));
            out.error = Some(e);
            return;
        }
    };
    if env.stack_hub {
        // Stack Hub's AD FS takes client secrets only, and it has no private endpoints (spec 30
        // §6.7 steps 5 and 7); both are the user's to fix, so they are permanent.
        let refused = if c.client_secret.is_empty() {
            Some("client secret is required for Azure Stack Hub authentication")
        } else if private::internal(&azure) {
            Some("private endpoints (networkAccess Internal) are not available on Azure Stack Hub")
        } else {
            None
        };
        if let Some(refused) = refused {
            let message = format!("Unable to process storage account: {refused}");
            push(out, ConditionStatus::Unknown, "AzureError", message.clone());
            out.permanent = Some(("StorageNotSupported".to_owned(), message));
            return;
        }
    }
    if azure.account_name.is_empty() || azure.container.is_empty() {
        let Some(cluster_id) = out.cluster_id(observed) else { return };
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
    let Some(facts) = observed.cloud.azure.accounts.get(&azure.account_name) else {
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
            let tags = tags(observed);
            let account = CloudAction::Azure(super::call::Call::CreateStorageAccount {
                account: azure.account_name.clone(),
                resource_group: c.resource_group.clone(),
                location: c.region.clone(),
                tags,
            });
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
        let make = CloudAction::Azure(super::call::Call::CreateContainer {
            account: azure.account_name.clone(),
            container: azure.container.clone(),
        });
        out.actions
            .push((Action::Cloud(make), format!("the registry's blob container {} does not exist", azure.container)));
    }
    if out.spec.management_state.is_empty() {
        out.spec.management_state = if created { "Managed" } else { "Unmanaged" }.to_owned();
    }
    // Workload identity: the registry reaches the blobs with tokens, so an account the operator
    // manages refuses shared keys (spec 30 §6.7 step 5). Once, from the observed setting (the
    // reference sends it every sync, and to a user's account too: difference 56).
    if !c.federated_token_file.is_empty()
        && !env.stack_hub
        && facts.state == BucketState::Exists
        && out.spec.management_state == "Managed"
        && facts.allow_shared_key_access != Some(false)
    {
        let disallow = CloudAction::Azure(super::call::Call::DisallowSharedKey {
            account: azure.account_name.clone(),
            resource_group: c.resource_group.clone(),
        });
        out.actions.push((
            Action::Cloud(disallow),
            format!(
                "the registry uses workload identity but storage account {} still allows shared keys",
                azure.account_name
            ),
        ));
    }
    if !created && private::internal(&azure) {
        // The account and its container exist: make them private, once the endpoint's names
        // are persisted (a name is written before anything carries it).
        match private::complete(observed, &azure, &c) {
            Ok(block) => {
                let persisted = azure.network_access.as_ref().and_then(|n| n.internal.as_ref()) == Some(&block);
                if persisted && facts.public_network_access != "Disabled" {
                    let endpoint = CloudAction::Azure(super::call::Call::PrivateEndpoint {
                        account: azure.account_name.clone(),
                        resource_group: c.resource_group.clone(),
                        location: c.region.clone(),
                        tags: tags(observed),
                        endpoint: block.private_endpoint_name.clone(),
                        network_resource_group: block.network_resource_group_name.clone(),
                        vnet: block.vnet_name.clone(),
                        subnet: block.subnet_name.clone(),
                    });
                    out.actions.push((
                        Action::Cloud(endpoint),
                        format!(
                            "networkAccess is Internal but storage account {} still allows public network access",
                            azure.account_name
                        ),
                    ));
                }
                if let Some(access) = azure.network_access.as_mut() {
                    access.internal = Some(block);
                }
            }
            Err(e) => {
                push(out, ConditionStatus::Unknown, "AzureError", format!("Unable to process private endpoint: {e}"));
                out.error = Some(e);
                out.spec.azure = Some(azure);
                return;
            }
        }
    }
    if !created {
        push(out, ConditionStatus::True, "ContainerExists", "Storage container exists");
        out.status = Some(Storage { azure: Some(azure.clone()), ..Storage::default() });
    }
    out.spec.azure = Some(azure);
}
