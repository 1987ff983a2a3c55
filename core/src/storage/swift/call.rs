//! Swift's calls: every call the plan can make on a container.

use serde::Serialize;

use crate::api::openshift::KeyValue;
use crate::api::storage::Storage;
use crate::storage::call::{Change, CloudCall, Guard, Ownership};

/// A call to Swift.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "call")]
pub enum Call {
    /// Create the container with the cluster's metadata.
    #[serde(rename = "swiftCreateContainer")]
    CreateContainer {
        /// Container name.
        container: String,
        /// `X-Container-Meta-*` headers (suffix → value).
        metadata: Vec<KeyValue>,
    },
    /// Empty and delete the container, refused unless its `Openshiftclusterid` metadata
    /// names this cluster.
    #[serde(rename = "swiftDeleteContainer")]
    DeleteContainer {
        /// Container name.
        container: String,
        /// The infrastructure name it must carry.
        require_cluster_id: String,
    },
}

impl Call {
    /// The container the call acts on.
    pub fn container(&self) -> &str {
        match self {
            Self::CreateContainer { container, .. } | Self::DeleteContainer { container, .. } => container,
        }
    }
}

impl CloudCall for Call {
    fn name(&self) -> &'static str {
        match self {
            Self::CreateContainer { .. } => "SwiftCreateContainer",
            Self::DeleteContainer { .. } => "SwiftDeleteContainer",
        }
    }

    fn resource(&self) -> String {
        self.container().to_owned()
    }

    fn describe(&self) -> String {
        match self {
            Self::CreateContainer { container, .. } => format!("create Swift container {container}"),
            Self::DeleteContainer { container, .. } => format!("empty and delete Swift container {container}"),
        }
    }

    fn change(&self) -> Change {
        match self {
            Self::CreateContainer { .. } => Change::Create,
            Self::DeleteContainer { .. } => Change::Delete,
        }
    }

    fn event(&self) -> Option<(&'static str, &'static str)> {
        Some(match self {
            Self::CreateContainer { .. } => ("StorageCreated", "Created Swift container"),
            Self::DeleteContainer { .. } => ("StorageRemoved", "Emptied and deleted Swift container"),
        })
    }

    fn guard(&self) -> Guard<'_> {
        match self {
            Self::CreateContainer { container, .. } => Guard::Creates(container),
            Self::DeleteContainer { container, .. } => Guard::Deletes(container),
        }
    }

    fn what(&self) -> &'static str {
        "Swift container"
    }
}

impl Ownership for Call {
    type Facts = super::facts::Facts;

    fn recorded(storage: &Storage) -> Option<&str> {
        storage.swift.as_ref().map(|s| s.container.as_str())
    }

    fn marked(&self, facts: &Self::Facts, infra: &str) -> Result<(), &'static str> {
        let marked = facts
            .containers
            .get(self.container())
            .is_some_and(|c| c.metadata.get("Openshiftclusterid").map(String::as_str) == Some(infra));
        let Self::DeleteContainer { require_cluster_id, .. } = self else { return Err("Openshiftclusterid metadata") };
        if require_cluster_id == infra && marked { Ok(()) } else { Err("Openshiftclusterid metadata") }
    }
}
