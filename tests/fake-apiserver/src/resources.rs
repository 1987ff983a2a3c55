//! The resource types the fake serves: every kind the operator's core knows, plus the few the
//! shell alone touches (Leases for leader election, Events), and CRDs (to check their defaults).

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
const NO_STATUS_SUBRESOURCE: &[&str] =
    &["ConfigMap", "Secret", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "NetworkPolicy", "Lease", "Event"];

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
