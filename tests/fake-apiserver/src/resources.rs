//! The resource types the fake serves: every kind the operator's core knows, plus the few the
//! shell alone touches (Leases for leader election, Events), CRDs (to check their defaults), the
//! namespaced RBAC kinds the authorizer reads, and the release manifests' other kinds.

use image_registry_core::api::{KINDS, Kind};

/// One served resource type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resource {
    /// API group (`""` for core).
    pub group: &'static str,
    /// Version.
    pub version: &'static str,
    /// Kind.
    pub kind: &'static str,
    /// Plural (the path segment).
    pub plural: &'static str,
    /// Namespaced or cluster-scoped.
    pub namespaced: bool,
    /// Whether `status` is a subresource (main-resource writes leave it alone).
    pub status_subresource: bool,
}

impl Resource {
    /// `group/version`, or `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.to_owned() } else { format!("{}/{}", self.group, self.version) }
    }
}

/// Kinds whose `status` is not a subresource: they have no status, or it is written with the object.
const NO_STATUS_SUBRESOURCE: &[&str] = &[
    "ConfigMap",
    "Secret",
    "ServiceAccount",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
    "NetworkPolicy",
    "Lease",
    "Event",
    "ServiceMonitor",
    "PrometheusRule",
];

const EXTRA: &[Kind] = &[
    Kind { group: "coordination.k8s.io", version: "v1", kind: "Lease", plural: "leases", namespaced: true },
    Kind { group: "", version: "v1", kind: "Event", plural: "events", namespaced: true },
    // What kube-runtime's event recorder writes (create, then merge patches for a series).
    Kind { group: "events.k8s.io", version: "v1", kind: "Event", plural: "events", namespaced: true },
    Kind {
        group: "apiextensions.k8s.io",
        version: "v1",
        kind: "CustomResourceDefinition",
        plural: "customresourcedefinitions",
        namespaced: false,
    },
    // What the authorizer reads besides the core's ClusterRoles and ClusterRoleBindings.
    Kind { group: "rbac.authorization.k8s.io", version: "v1", kind: "Role", plural: "roles", namespaced: true },
    Kind {
        group: "rbac.authorization.k8s.io",
        version: "v1",
        kind: "RoleBinding",
        plural: "rolebindings",
        namespaced: true,
    },
    // The rest of what manifests/ holds, so a test can load the release's manifests whole.
    Kind {
        group: "monitoring.coreos.com",
        version: "v1",
        kind: "ServiceMonitor",
        plural: "servicemonitors",
        namespaced: true,
    },
    Kind {
        group: "monitoring.coreos.com",
        version: "v1",
        kind: "PrometheusRule",
        plural: "prometheusrules",
        namespaced: true,
    },
    Kind {
        group: "cloudcredential.openshift.io",
        version: "v1",
        kind: "CredentialsRequest",
        plural: "credentialsrequests",
        namespaced: true,
    },
];

fn from_kind(k: &Kind) -> Resource {
    Resource {
        group: k.group,
        version: k.version,
        kind: k.kind,
        plural: k.plural,
        namespaced: k.namespaced,
        status_subresource: !NO_STATUS_SUBRESOURCE.contains(&k.kind),
    }
}

/// Every served resource, core kinds first.
pub fn all() -> impl Iterator<Item = Resource> {
    KINDS.iter().chain(EXTRA).map(from_kind)
}

/// The resource at `group/version/plural`.
pub fn by_plural(group: &str, version: &str, plural: &str) -> Option<Resource> {
    all().find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// The resource of `apiVersion` and `kind`.
pub fn by_kind(api_version: &str, kind: &str) -> Option<Resource> {
    let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
    all().find(|r| r.group == group && r.version == version && r.kind == kind)
}

/// Served groups with their versions, in a stable order.
pub fn groups() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for r in all().filter(|r| !r.group.is_empty()) {
        match out.iter_mut().find(|(g, _)| *g == r.group) {
            Some((_, versions)) if !versions.contains(&r.version) => versions.push(r.version),
            Some(_) => {}
            None => out.push((r.group, vec![r.version])),
        }
    }
    out
}
