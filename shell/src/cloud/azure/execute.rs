//! Carrying out the plan's Azure calls, with the session the last observation built: account
//! creation, the container, the private endpoint, and removal (which checks the cluster's tag
//! again first).

use image_registry_core::outcome::ErrorClass;
use image_registry_core::storage::azure::call::Call;
use image_registry_core::storage::call::CloudCall;

use super::{AzureCloud, Session, network, no_arm};
use crate::cloud::CloudError;
use crate::locks::lock;

impl AzureCloud {
    /// Carries out one Azure call of the plan, with the session the last observation built.
    pub async fn execute(&self, call: &Call) -> Result<(), CloudError> {
        let Some(session) = lock(&self.state).session.clone() else {
            return Err(CloudError::new(ErrorClass::Unavailable, "Azure: no credentials observed yet".to_owned()));
        };
        let result = match call {
            Call::CreateStorageAccount { account, resource_group, location, tags } => {
                let arm = session.arm.as_ref().ok_or_else(|| no_arm("CreateStorageAccount"))?;
                let tags = tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect();
                arm.create_account(resource_group, account, location, &tags).await
            }
            Call::CreateContainer { account, container } => match self.blob_auth(&session, account).await {
                Ok(auth) => self.containers(&session, account, auth).create(container).await,
                Err(e) => Err(e),
            },
            Call::PrivateEndpoint {
                account,
                resource_group,
                location,
                tags,
                endpoint,
                network_resource_group,
                vnet,
                subnet,
            } => {
                let arm = session.arm.as_ref().ok_or_else(|| no_arm("PutPrivateEndpoint"))?;
                let tags = tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect();
                let private = network::Private {
                    account,
                    group: resource_group,
                    location,
                    tags: &tags,
                    endpoint,
                    network_group: network_resource_group,
                    vnet,
                    subnet,
                    zone: &session.key.endpoints.private_zone,
                };
                arm.make_private(&private).await
            }
            Call::DisallowSharedKey { account, resource_group } => {
                let arm = session.arm.as_ref().ok_or_else(|| no_arm("UpdateStorageAccount"))?;
                arm.disallow_shared_key(resource_group, account).await
            }
            Call::DeleteStorage { account, resource_group, container, require_tag, private_endpoint } => {
                let tag = (require_tag.key.as_str(), require_tag.value.as_str());
                self.delete(&session, account, resource_group, container, tag, private_endpoint).await
            }
        };
        // The operator's own call changed the account: read it again on the next pass.
        let resource = call.resource();
        lock(&self.state).seen.forget(resource.split('/').next().unwrap_or_default());
        result
    }

    /// Deletes the container, then the account, after checking again that the account carries
    /// this cluster's tag (spec 30 §6.8): only an account this cluster created is ever deleted.
    /// A container the credentials may not delete does not stop the account's deletion, which
    /// removes it too.
    async fn delete(
        &self,
        session: &Session,
        account: &str,
        group: &str,
        container: &str,
        (tag, value): (&str, &str),
        private_endpoint: &str,
    ) -> Result<(), CloudError> {
        let arm = session.arm.as_ref().ok_or_else(|| no_arm("DeleteStorageAccount"))?;
        let Some(found) = arm.get_account(group, account).await? else { return Ok(()) };
        if found.tags.get(tag).map(String::as_str) != Some(value) {
            return Err(CloudError::new(
                ErrorClass::Forbidden,
                format!("Azure storage account {account} does not carry the tag {tag}={value}: not deleting it"),
            ));
        }
        if !private_endpoint.is_empty() {
            let zone = &session.key.endpoints.private_zone;
            arm.remove_private(group, account, private_endpoint, zone).await?;
        }
        if !container.is_empty() {
            let auth = self.blob_auth(session, account).await?;
            match self.containers(session, account, auth).delete(container).await {
                Ok(()) => {}
                Err(e) if e.code == "AuthorizationPermissionMismatch" || e.code == "AuthorizationFailure" => {
                    tracing::warn!(account, error = %e.message, "cannot delete the container; deleting the account");
                }
                Err(e) => return Err(e),
            }
        }
        arm.delete_account(group, account).await?;
        lock(&self.state).keys.forget(&super::key_slot(group, account));
        Ok(())
    }
}
