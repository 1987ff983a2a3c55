//! The fake API server as the end-to-end tests read and change it: objects by kind and name,
//! a dynamic API for any kind, and the user's edit of the Config's management state (made as
//! the field manager `someone-else`, which the tests leave out of the operator's writes).
#![allow(dead_code)]

use fake_apiserver::FakeApiServer;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::{Value, json};

/// The operator's namespace.
pub const NS: &str = "openshift-image-registry";

/// The field manager of the tests' own edits.
pub const USER: &str = "someone-else";

/// The stored object of `kind` named `name` (any namespace).
pub fn object(fake: &FakeApiServer, kind: &str, name: &str) -> Option<Value> {
    fake.with_store(|s| s.dump()).into_iter().find(|o| o["kind"] == kind && o["metadata"]["name"] == name)
}

/// An API for any kind of group version `v1`.
pub fn dynamic(
    fake: &FakeApiServer,
    group: &str,
    kind: &str,
    plural: &str,
    namespace: Option<&str>,
) -> Api<DynamicObject> {
    let client = kube::Client::new(fake.clone(), NS);
    let ar = ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, "v1", kind), plural);
    match namespace {
        Some(ns) => Api::namespaced_with(client, ns, &ar),
        None => Api::all_with(client, &ar),
    }
}

/// The user sets `spec.managementState` of the Config.
pub async fn set_management_state(fake: &FakeApiServer, state: &str) {
    let configs = dynamic(fake, "imageregistry.operator.openshift.io", "Config", "configs", None);
    let patch = json!({"spec": {"managementState": state}});
    configs
        .patch(
            "cluster",
            &PatchParams { field_manager: Some(USER.into()), ..PatchParams::default() },
            &Patch::Merge(&patch),
        )
        .await
        .unwrap();
}
