//! Azure removal: delete the container and the account only when the account carries this cluster's ownership tag.

use super::{credentials, ownership_tag};
use crate::action::{Action, CloudAction};
use crate::conditions::Wanted;
use crate::inputs::Inputs;
use crate::storage::completion::{Removal, decide_removal};

/// Removal of the applied Azure storage (the caller checked that storage is Managed).
pub fn remove(observed: &Inputs<'_>, applied: &crate::api::Storage) -> (Removal, Vec<Wanted>) {
    let applied = &applied.azure.clone().unwrap_or_default();
    if applied.account_name.is_empty() {
        return (Removal::Done, Vec::new());
    }
    let Some(facts) = observed.cloud.azure.accounts.get(&applied.account_name) else {
        return (
            Removal::Blocked(format!("Azure storage account {} has not been observed", applied.account_name)),
            Vec::new(),
        );
    };
    let tag = ownership_tag(observed.infrastructure_name());
    let tagged = facts.tags.get(&tag.key) == Some(&tag.value);
    let owned = if tagged { Ok(()) } else { Err(format!("the tag {}={}", tag.key, tag.value)) };
    let delete = Action::Cloud(CloudAction::Azure(super::call::Call::DeleteStorage {
        account: applied.account_name.clone(),
        resource_group: credentials(observed).map(|c| c.resource_group).unwrap_or_default(),
        container: applied.container.clone(),
        require_tag: tag,
        private_endpoint: applied
            .network_access
            .as_ref()
            .and_then(|n| n.internal.as_ref())
            .map(|i| i.private_endpoint_name.clone())
            .unwrap_or_default(),
    }));
    let deleted = ("AccountDeleted", "Storage account has been deleted");
    decide_removal("storage account", &applied.account_name, facts.state, owned, deleted, delete)
}
