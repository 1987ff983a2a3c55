//! Azure provisioning: name and create the storage account and its blob container (spec 30 §6).

use super::{Credentials, Environment, credentials, environment, private, tags};
use crate::action::{Action, CloudAction};
use crate::api::storage::Azure;
use crate::api::{ConditionStatus, Config, Storage};
use crate::inputs::Inputs;
use crate::observed::BucketState;
use crate::storage::azure::facts::AzureAccount;
use crate::storage::completion::Completion;
use crate::storage::naming;
use crate::storage::provision::{self, Provision, Step};

/// Completes Azure storage for a Managed pass.
pub fn complete(config: &Config, observed: &Inputs<'_>, applied: &Storage, out: &mut Completion) {
    provision::run(&Account, config, observed, applied, out);
}

/// The registry's storage account and blob container in the shared flow.
struct Account;

/// `spec.storage.azure` with what resolving it found: credentials and the cloud's endpoints.
#[derive(Clone)]
struct Resolved {
    azure: Azure,
    credentials: Credentials,
    environment: Environment,
}

impl Account {
    /// Workload identity: the registry reaches the blobs with tokens, so an account the
    /// operator manages refuses shared keys (spec 30 §6.7 step 5). Once, from the observed
    /// setting (the reference sends it every sync, and to a user's account too: difference 56).
    fn refuse_shared_keys(r: &Resolved, facts: &AzureAccount, out: &mut Completion) {
        if !r.credentials.federated_token_file.is_empty()
            && !r.environment.stack_hub
            && facts.state == BucketState::Exists
            && out.spec.management_state == "Managed"
            && facts.allow_shared_key_access != Some(false)
        {
            let disallow = CloudAction::Azure(super::call::Call::DisallowSharedKey {
                account: r.azure.account_name.clone(),
                resource_group: r.credentials.resource_group.clone(),
            });
            let why = format!(
                "the registry uses workload identity but storage account {} still allows shared keys",
                r.azure.account_name
            );
            out.actions.push((Action::Cloud(disallow), why));
        }
    }
}

impl Provision for Account {
    type Spec = Resolved;
    type Facts = AzureAccount;
    const WHAT: &'static str = "Azure storage account";
    const VANISHED: &'static str = "ContainerNotFound";

    fn resolve(&self, _config: &Config, observed: &Inputs<'_>, out: &mut Completion) -> Option<Resolved> {
        let mut azure = out.spec.azure.clone().unwrap_or_default();
        let credentials = match credentials(observed) {
            Ok(c) => c,
            Err(e) => {
                out.condition(ConditionStatus::Unknown, "ConfigError", format!("Unable to get configuration: {e}"));
                out.error = Some(e);
                return None;
            }
        };
        if !credentials.account_key.is_empty() {
            // The user's own account and key: nothing to create, only to check it is named.
            let unnamed = match (azure.account_name.is_empty(), azure.container.is_empty()) {
                (true, _) => Some("Storage account key is provided, but account name is not specified"),
                (false, true) => Some("Storage account is provided, but container is not specified"),
                (false, false) => None,
            };
            if let Some(message) = unnamed {
                out.condition(ConditionStatus::False, "StorageNotConfigured", message);
            } else {
                out.claim_management("Unmanaged");
                out.status = Some(Storage { azure: Some(azure), ..Storage::default() });
                out.condition(ConditionStatus::True, "UserManaged", "Storage is managed by the user");
            }
            return None;
        }
        if azure.cloud_name.is_empty() && azure.account_name.is_empty() {
            azure.cloud_name = observed
                .platform_status()
                .and_then(|p| p.azure.as_ref())
                .map(|a| a.cloud_name.clone())
                .unwrap_or_default();
        }
        let environment = match environment(&azure.cloud_name, observed) {
            Ok(env) => env,
            Err(e) => {
                let message = format!("Unable to get cloud environment: {e}");
                out.condition(ConditionStatus::Unknown, "ConfigError", message);
                out.error = Some(e);
                return None;
            }
        };
        if environment.stack_hub {
            // Stack Hub's AD FS takes client secrets only, and it has no private endpoints
            // (spec 30 §6.7 steps 5 and 7); both are the user's to fix, so they are permanent.
            let refused = if credentials.client_secret.is_empty() {
                Some("client secret is required for Azure Stack Hub authentication")
            } else if private::internal(&azure) {
                Some("private endpoints (networkAccess Internal) are not available on Azure Stack Hub")
            } else {
                None
            };
            if let Some(refused) = refused {
                let message = format!("Unable to process storage account: {refused}");
                out.condition(ConditionStatus::Unknown, "AzureError", message.clone());
                out.permanent = Some(("StorageNotSupported".to_owned(), message));
                return None;
            }
        }
        Some(Resolved { azure, credentials, environment })
    }

    fn key(r: &Resolved) -> &str {
        &r.azure.account_name
    }

    fn named(r: &Resolved) -> bool {
        !r.azure.account_name.is_empty() && !r.azure.container.is_empty()
    }

    fn name(&self, r: &mut Resolved, cluster_id: &str, observed: &Inputs<'_>) {
        if r.azure.account_name.is_empty() {
            r.azure.account_name = naming::azure_account(cluster_id, observed.seed, "azure-account");
        }
        if r.azure.container.is_empty() {
            r.azure.container = naming::random(cluster_id, &[], observed.seed, "azure-container");
        }
    }

    fn display(r: &Resolved) -> String {
        format!("{} or its container {}", r.azure.account_name, r.azure.container)
    }

    fn facts(&self, r: &Resolved, observed: &Inputs<'_>) -> Option<AzureAccount> {
        observed.cloud.azure.accounts.get(&r.azure.account_name).cloned()
    }

    fn step(&self, r: &Resolved, facts: &AzureAccount, _: &Config, _: &Inputs<'_>, _: &mut Completion) -> Step {
        let container = facts.containers.get(&r.azure.container).copied().unwrap_or_default();
        match facts.state {
            BucketState::Exists if container == BucketState::Exists => Step::Adopt,
            BucketState::Exists | BucketState::Missing => Step::Missing,
            BucketState::Forbidden | BucketState::Unknown => Step::Unreachable(facts.message.clone()),
        }
    }

    fn recorded(r: &Resolved, applied: &Storage) -> bool {
        applied
            .azure
            .as_ref()
            .is_some_and(|a| a.account_name == r.azure.account_name && a.container == r.azure.container)
    }

    fn adopt(
        &self,
        r: &mut Resolved,
        facts: &AzureAccount,
        _user_supplied: bool,
        _config: &Config,
        observed: &Inputs<'_>,
        out: &mut Completion,
    ) -> bool {
        Self::refuse_shared_keys(r, facts, out);
        if private::internal(&r.azure) {
            // The account and its container exist: make them private, once the endpoint's
            // names are persisted (a name is written before anything carries it).
            match private::complete(observed, &r.azure, &r.credentials) {
                Ok(block) => {
                    let persisted = r.azure.network_access.as_ref().and_then(|n| n.internal.as_ref()) == Some(&block);
                    if persisted && facts.public_network_access != "Disabled" {
                        let endpoint = CloudAction::Azure(super::call::Call::PrivateEndpoint {
                            account: r.azure.account_name.clone(),
                            resource_group: r.credentials.resource_group.clone(),
                            location: r.credentials.region.clone(),
                            tags: tags(observed),
                            endpoint: block.private_endpoint_name.clone(),
                            network_resource_group: block.network_resource_group_name.clone(),
                            vnet: block.vnet_name.clone(),
                            subnet: block.subnet_name.clone(),
                        });
                        let why = format!(
                            "networkAccess is Internal but storage account {} still allows public network access",
                            r.azure.account_name
                        );
                        out.actions.push((Action::Cloud(endpoint), why));
                    }
                    if let Some(access) = r.azure.network_access.as_mut() {
                        access.internal = Some(block);
                    }
                }
                Err(e) => {
                    let message = format!("Unable to process private endpoint: {e}");
                    out.condition(ConditionStatus::Unknown, "AzureError", message);
                    out.error = Some(e);
                    out.spec.azure = Some(r.azure.clone());
                    return false;
                }
            }
        }
        out.condition(ConditionStatus::True, "ContainerExists", "Storage container exists");
        true
    }

    fn create(&self, r: &mut Resolved, facts: &AzureAccount, observed: &Inputs<'_>, out: &mut Completion) {
        if facts.state == BucketState::Missing {
            let account = CloudAction::Azure(super::call::Call::CreateStorageAccount {
                account: r.azure.account_name.clone(),
                resource_group: r.credentials.resource_group.clone(),
                location: r.credentials.region.clone(),
                tags: tags(observed),
            });
            let why = format!("the registry's storage account {} does not exist", r.azure.account_name);
            out.actions.push((Action::Cloud(account), why));
        }
        let make = CloudAction::Azure(super::call::Call::CreateContainer {
            account: r.azure.account_name.clone(),
            container: r.azure.container.clone(),
        });
        let why = format!("the registry's blob container {} does not exist", r.azure.container);
        out.actions.push((Action::Cloud(make), why));
        Self::refuse_shared_keys(r, facts, out);
    }

    fn unreachable(&self, message: &str, out: &mut Completion) {
        out.condition(ConditionStatus::Unknown, "AzureError", format!("Unable to process storage account: {message}"));
    }

    fn place(r: Resolved, storage: &mut Storage) {
        storage.azure = Some(r.azure);
    }
}
