//! ClusterRole `system:registry`, its binding, and the ServiceAccount `registry` (spec 20 §2.1–§2.3).

use std::sync::OnceLock;

use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::Desired;
use crate::names::{NAMESPACE, REGISTRY_SERVICE_ACCOUNT};

/// Name of the registry's ClusterRole.
pub const CLUSTER_ROLE: &str = "system:registry";
/// Name of its ClusterRoleBinding.
pub const CLUSTER_ROLE_BINDING: &str = "registry-registry-role";

/// A policy rule for one API group.
pub(crate) fn rule(group: &str, resources: &[&str], verbs: &[&str]) -> PolicyRule {
    PolicyRule {
        api_groups: Some(vec![group.to_owned()]),
        resources: Some(resources.iter().map(|r| (*r).to_owned()).collect()),
        verbs: verbs.iter().map(|v| (*v).to_owned()).collect(),
        ..PolicyRule::default()
    }
}

/// `system:registry`, rules and verbs in the reference's order.
pub fn registry_cluster_role() -> Result<Desired, String> {
    static BUILT: OnceLock<Result<Desired, String>> = OnceLock::new();
    Desired::constant(&BUILT, build_registry_cluster_role)
}

fn build_registry_cluster_role() -> Result<Desired, String> {
    let role = ClusterRole {
        metadata: ObjectMeta { name: Some(CLUSTER_ROLE.to_owned()), ..ObjectMeta::default() },
        rules: Some(vec![
            rule("", &["limitranges", "resourcequotas"], &["list"]),
            rule("image.openshift.io", &["imagestreamimages", "imagestreams/layers", "imagestreams/secrets"], &["get"]),
            rule("image.openshift.io", &["imagestreams"], &["get", "update"]),
            rule("image.openshift.io", &["imagestreamtags"], &["delete"]),
            rule("image.openshift.io", &["images"], &["get", "update", "create"]),
            rule("image.openshift.io", &["imagestreammappings"], &["create"]),
            rule("operator.openshift.io", &["imagecontentsourcepolicies"], &["list"]),
            rule("config.openshift.io", &["imagedigestmirrorsets", "imagetagmirrorsets"], &["list"]),
            rule("authorization.k8s.io", &["subjectaccessreviews"], &["create"]),
        ]),
        ..ClusterRole::default()
    };
    Desired::new(&role, vec![])
}

/// Binds `system:registry` to the registry's ServiceAccount.
pub fn registry_cluster_role_binding() -> Result<Desired, String> {
    static BUILT: OnceLock<Result<Desired, String>> = OnceLock::new();
    Desired::constant(&BUILT, build_registry_cluster_role_binding)
}

fn build_registry_cluster_role_binding() -> Result<Desired, String> {
    let binding = ClusterRoleBinding {
        metadata: ObjectMeta { name: Some(CLUSTER_ROLE_BINDING.to_owned()), ..ObjectMeta::default() },
        // The API server fills in the group when it is left empty; sending it keeps the applied
        // and stored objects equal.
        role_ref: RoleRef {
            api_group: "rbac.authorization.k8s.io".to_owned(),
            kind: "ClusterRole".to_owned(),
            name: CLUSTER_ROLE.to_owned(),
        },
        subjects: Some(vec![Subject {
            kind: "ServiceAccount".to_owned(),
            name: REGISTRY_SERVICE_ACCOUNT.to_owned(),
            namespace: Some(NAMESPACE.to_owned()),
            ..Subject::default()
        }]),
    };
    Desired::new(&binding, vec![])
}

/// The registry's ServiceAccount: name and namespace only.
pub fn registry_service_account() -> Result<Desired, String> {
    static BUILT: OnceLock<Result<Desired, String>> = OnceLock::new();
    Desired::constant(&BUILT, build_registry_service_account)
}

fn build_registry_service_account() -> Result<Desired, String> {
    let account = ServiceAccount {
        metadata: ObjectMeta {
            name: Some(REGISTRY_SERVICE_ACCOUNT.to_owned()),
            namespace: Some(NAMESPACE.to_owned()),
            ..ObjectMeta::default()
        },
        ..ServiceAccount::default()
    };
    Desired::new(&account, vec![])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn images_rule_has_get_update_create() {
        let role = registry_cluster_role().unwrap();
        let rules = role.object["rules"].as_array().unwrap();
        assert_eq!(rules.len(), 9);
        let images = rules.iter().find(|r| r["resources"] == serde_json::json!(["images"])).unwrap();
        assert_eq!(images["verbs"], serde_json::json!(["get", "update", "create"]));
        assert_eq!(images["apiGroups"], serde_json::json!(["image.openshift.io"]));
    }
}
