//! API types: the two custom resources the operator owns and the cluster objects it reads.

pub mod config;
pub mod crd;
pub mod duration;
pub mod openshift;
pub mod operator;
pub mod pruner;
pub mod storage;

pub use config::{Config, ImageRegistrySpec, ImageRegistryStatus};
pub use duration::GoDuration;
pub use operator::{ConditionStatus, GenerationStatus, LogLevel, ManagementState, OperatorCondition};
pub use pruner::{ImagePruner, ImagePrunerSpec, ImagePrunerStatus};
pub use storage::{Storage, StorageKind};

/// Where an object type lives in the API: enough to key it in the store and to address it.
pub trait ApiObject: serde::de::DeserializeOwned + serde::Serialize {
    /// API group (`""` for core).
    const GROUP: &'static str;
    /// API version inside the group.
    const VERSION: &'static str;
    /// Kind.
    const KIND: &'static str;
    /// Resource (plural) name.
    const PLURAL: &'static str;
    /// Whether objects of this kind live in a namespace.
    const NAMESPACED: bool;

    /// `group/version`, or just `version` for the core group.
    fn api_version() -> String {
        if Self::GROUP.is_empty() { Self::VERSION.to_owned() } else { format!("{}/{}", Self::GROUP, Self::VERSION) }
    }
}

/// A field that failed to decode: its dotted path and what was wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("field {path}: {message}")]
pub struct FieldError {
    /// Dotted path of the field (`status.platformStatus.type`), `.` for the whole object.
    pub path: String,
    /// What was wrong.
    pub message: String,
}

/// Decodes a JSON value into `T`, naming the offending field on failure.
pub fn decode<T: serde::de::DeserializeOwned>(value: &serde_json::Value) -> Result<T, FieldError> {
    // The fast path borrows the value; only a failure is decoded again to find its path.
    T::deserialize(value).or_else(|_| {
        serde_path_to_error::deserialize(value)
            .map_err(|err| FieldError { path: err.path().to_string(), message: err.inner().to_string() })
    })
}

/// Where one kind lives in the API, for the shell to address it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kind {
    /// API group (`""` for core).
    pub group: &'static str,
    /// API version inside the group.
    pub version: &'static str,
    /// Kind.
    pub kind: &'static str,
    /// Resource (plural) name.
    pub plural: &'static str,
    /// Whether objects of this kind live in a namespace.
    pub namespaced: bool,
}

impl Kind {
    /// `group/version`, or just `version` for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() { self.version.to_owned() } else { format!("{}/{}", self.group, self.version) }
    }

    /// The known kind `kind` of `group`.
    pub fn find(group: &str, kind: &str) -> Option<&'static Kind> {
        KINDS.iter().find(|k| k.group == group && k.kind == kind)
    }
}

macro_rules! api_object {
    ($($ty:ty => $group:literal, $version:literal, $kind:literal, $plural:literal, $namespaced:literal;)*) => {
        $(impl ApiObject for $ty {
            const GROUP: &'static str = $group;
            const VERSION: &'static str = $version;
            const KIND: &'static str = $kind;
            const PLURAL: &'static str = $plural;
            const NAMESPACED: bool = $namespaced;
        })*

        /// Whether a `(group, kind)` is one the core decodes, and if so whether `value` decodes.
        /// `None` for kinds the core never reads.
        pub fn check_known(group: &str, kind: &str, value: &serde_json::Value) -> Option<Result<(), FieldError>> {
            $(if group == $group && kind == $kind {
                return Some(decode::<$ty>(value).map(|_| ()));
            })*
            None
        }

        /// Every kind the core reads or writes, with where it lives in the API.
        pub const KINDS: &[Kind] = &[$(Kind {
            group: $group,
            version: $version,
            kind: $kind,
            plural: $plural,
            namespaced: $namespaced,
        }),*];

        /// Whether objects of a known `(group, kind)` are namespaced.
        pub fn is_namespaced(group: &str, kind: &str) -> Option<bool> {
            $(if group == $group && kind == $kind {
                return Some($namespaced);
            })*
            None
        }
    };
}

use k8s_openapi::api::{apps, batch, core, networking, policy, rbac};

api_object! {
    Config => "imageregistry.operator.openshift.io", "v1", "Config", "configs", false;
    ImagePruner => "imageregistry.operator.openshift.io", "v1", "ImagePruner", "imagepruners", false;
    openshift::Infrastructure => "config.openshift.io", "v1", "Infrastructure", "infrastructures", false;
    openshift::Proxy => "config.openshift.io", "v1", "Proxy", "proxies", false;
    openshift::Image => "config.openshift.io", "v1", "Image", "images", false;
    openshift::ClusterOperator => "config.openshift.io", "v1", "ClusterOperator", "clusteroperators", false;
    openshift::ClusterVersion => "config.openshift.io", "v1", "ClusterVersion", "clusterversions", false;
    openshift::ApiServer => "config.openshift.io", "v1", "APIServer", "apiservers", false;
    openshift::Route => "route.openshift.io", "v1", "Route", "routes", true;
    apps::v1::Deployment => "apps", "v1", "Deployment", "deployments", true;
    apps::v1::DaemonSet => "apps", "v1", "DaemonSet", "daemonsets", true;
    core::v1::Service => "", "v1", "Service", "services", true;
    core::v1::ServiceAccount => "", "v1", "ServiceAccount", "serviceaccounts", true;
    core::v1::Secret => "", "v1", "Secret", "secrets", true;
    core::v1::ConfigMap => "", "v1", "ConfigMap", "configmaps", true;
    core::v1::PersistentVolumeClaim => "", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", true;
    core::v1::Namespace => "", "v1", "Namespace", "namespaces", false;
    core::v1::Node => "", "v1", "Node", "nodes", false;
    rbac::v1::ClusterRole => "rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", false;
    rbac::v1::ClusterRoleBinding => "rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", false;
    policy::v1::PodDisruptionBudget => "policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", true;
    networking::v1::NetworkPolicy => "networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", true;
    batch::v1::CronJob => "batch", "v1", "CronJob", "cronjobs", true;
    batch::v1::Job => "batch", "v1", "Job", "jobs", true;
}
