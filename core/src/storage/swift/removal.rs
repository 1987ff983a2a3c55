//! Swift removal: delete the container only when its metadata names this cluster.

use crate::action::{Action, CloudAction};
use crate::conditions::Wanted;
use crate::inputs::Inputs;
use crate::storage::completion::{Removal, decide_removal};

/// Removal of the applied Swift container (the caller checked that storage is Managed).
pub fn remove(observed: &Inputs<'_>, applied: &crate::api::Storage) -> (Removal, Vec<Wanted>) {
    let applied = &applied.swift.clone().unwrap_or_default();
    if applied.container.is_empty() {
        return (Removal::Done, Vec::new());
    }
    let Some(facts) = observed.cloud.swift.containers.get(&applied.container) else {
        return (Removal::Blocked(format!("Swift container {} has not been observed", applied.container)), Vec::new());
    };
    let infra = observed.infrastructure_name();
    let marked = facts.metadata.get("Openshiftclusterid").map(String::as_str) == Some(infra);
    let owned = if marked { Ok(()) } else { Err(format!("Openshiftclusterid metadata {infra}")) };
    let delete = Action::Cloud(CloudAction::Swift(super::call::Call::DeleteContainer {
        container: applied.container.clone(),
        require_cluster_id: infra.to_owned(),
    }));
    let deleted = ("Swift Container Deleted", "The swift container has been removed.");
    decide_removal("Swift container", &applied.container, facts.state, owned, deleted, delete)
}
