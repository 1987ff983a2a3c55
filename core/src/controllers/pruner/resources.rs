//! The pruner's RBAC, ServiceAccount, `serviceca` ConfigMap and NetworkPolicy (spec 40 §2.5).

use std::sync::OnceLock;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{ConfigMap, ServiceAccount};
use k8s_openapi::api::networking::v1::{
    NetworkPolicy, NetworkPolicyEgressRule, NetworkPolicyPeer, NetworkPolicyPort, NetworkPolicySpec,
};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use crate::names::NAMESPACE;
use crate::objects::Desired;
use crate::objects::rbac::rule;

fn labels(key: &str, value: &str) -> Option<BTreeMap<String, String>> {
    Some(BTreeMap::from([(key.to_owned(), value.to_owned())]))
}

fn namespaced(name: &str) -> ObjectMeta {
    ObjectMeta { name: Some(name.to_owned()), namespace: Some(NAMESPACE.to_owned()), ..ObjectMeta::default() }
}

/// `system:image-pruner`.
pub fn cluster_role() -> Result<Desired, String> {
    static BUILT: OnceLock<Result<Desired, String>> = OnceLock::new();
    Desired::constant(&BUILT, build_cluster_role)
}

fn build_cluster_role() -> Result<Desired, String> {
    Desired::new(
        &ClusterRole {
            metadata: ObjectMeta { name: Some("system:image-pruner".to_owned()), ..ObjectMeta::default() },
            rules: Some(vec![
                rule("", &["pods", "replicationcontrollers"], &["get", "list"]),
                rule("", &["limitranges"], &["list"]),
                rule("build.openshift.io", &["buildconfigs", "builds"], &["get", "list"]),
                rule("apps.openshift.io", &["deploymentconfigs"], &["get", "list"]),
                rule("batch", &["jobs", "cronjobs"], &["get", "list"]),
                rule("apps", &["daemonsets", "deployments", "replicasets", "statefulsets"], &["get", "list"]),
                rule("image.openshift.io", &["images"], &["delete"]),
                rule("image.openshift.io", &["images", "imagestreams"], &["get", "list", "watch"]),
                rule("image.openshift.io", &["imagestreams/status"], &["update"]),
            ]),
            ..ClusterRole::default()
        },
        vec![],
    )
}

/// `openshift-image-registry-pruner`: binds the role to the `pruner` ServiceAccount.
pub fn cluster_role_binding() -> Result<Desired, String> {
    static BUILT: OnceLock<Result<Desired, String>> = OnceLock::new();
    Desired::constant(&BUILT, build_cluster_role_binding)
}

fn build_cluster_role_binding() -> Result<Desired, String> {
    Desired::new(
        &ClusterRoleBinding {
            metadata: ObjectMeta { name: Some("openshift-image-registry-pruner".to_owned()), ..ObjectMeta::default() },
            role_ref: RoleRef {
                api_group: "rbac.authorization.k8s.io".to_owned(),
                kind: "ClusterRole".to_owned(),
                name: "system:image-pruner".to_owned(),
            },
            subjects: Some(vec![Subject {
                kind: "ServiceAccount".to_owned(),
                name: "pruner".to_owned(),
                namespace: Some(NAMESPACE.to_owned()),
                ..Subject::default()
            }]),
        },
        vec![],
    )
}

/// ServiceAccount `pruner`.
pub fn service_account() -> Result<Desired, String> {
    static BUILT: OnceLock<Result<Desired, String>> = OnceLock::new();
    Desired::constant(&BUILT, build_service_account)
}

fn build_service_account() -> Result<Desired, String> {
    Desired::new(&ServiceAccount { metadata: namespaced("pruner"), ..ServiceAccount::default() }, vec![])
}

/// ConfigMap `serviceca`: the operator owns only its annotation; the service-ca operator fills
/// `service-ca.crt` into its data.
pub fn service_ca() -> Result<Desired, String> {
    static BUILT: OnceLock<Result<Desired, String>> = OnceLock::new();
    Desired::constant(&BUILT, build_service_ca)
}

fn build_service_ca() -> Result<Desired, String> {
    Desired::new(
        &ConfigMap {
            metadata: ObjectMeta {
                annotations: labels("service.beta.openshift.io/inject-cabundle", "true"),
                ..namespaced("serviceca")
            },
            ..ConfigMap::default()
        },
        vec![],
    )
}

fn port(protocol: &str, number: i32) -> NetworkPolicyPort {
    NetworkPolicyPort {
        port: Some(IntOrString::Int(number)),
        protocol: Some(protocol.to_owned()),
        ..NetworkPolicyPort::default()
    }
}

fn selector(key: &str, value: &str) -> Option<LabelSelector> {
    Some(LabelSelector { match_labels: labels(key, value), ..LabelSelector::default() })
}

/// NetworkPolicy `image-pruner-networkpolicy`: egress allowed (the later rules document it).
pub fn network_policy() -> Result<Desired, String> {
    static BUILT: OnceLock<Result<Desired, String>> = OnceLock::new();
    Desired::constant(&BUILT, build_network_policy)
}

fn build_network_policy() -> Result<Desired, String> {
    let to = |namespace: Option<&str>, pods: Option<(&str, &str)>| NetworkPolicyPeer {
        namespace_selector: namespace.and_then(|n| selector("kubernetes.io/metadata.name", n)),
        pod_selector: pods.and_then(|(k, v)| selector(k, v)),
        ..NetworkPolicyPeer::default()
    };
    Desired::new(
        &NetworkPolicy {
            metadata: namespaced("image-pruner-networkpolicy"),
            spec: Some(NetworkPolicySpec {
                pod_selector: selector("app", "image-pruner"),
                policy_types: Some(vec!["Egress".to_owned()]),
                egress: Some(vec![
                    NetworkPolicyEgressRule::default(),
                    NetworkPolicyEgressRule {
                        to: Some(vec![to(Some("openshift-kube-apiserver"), Some(("app", "openshift-kube-apiserver")))]),
                        ports: Some(vec![port("TCP", 6443)]),
                    },
                    NetworkPolicyEgressRule {
                        to: Some(vec![to(Some("openshift-dns"), None)]),
                        ports: Some(vec![port("TCP", 5353), port("UDP", 5353)]),
                    },
                    NetworkPolicyEgressRule {
                        to: Some(vec![to(None, Some(("docker-registry", "default")))]),
                        ports: Some(vec![port("TCP", 5000)]),
                    },
                ]),
                ..NetworkPolicySpec::default()
            }),
        },
        vec![],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_rule_allows_only_delete() {
        let role = cluster_role().unwrap().object;
        let images =
            role["rules"].as_array().unwrap().iter().find(|r| r["resources"] == serde_json::json!(["images"])).unwrap();
        assert_eq!(images["verbs"], serde_json::json!(["delete"]));
    }
}
