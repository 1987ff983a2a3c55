//! Rules a real kube-apiserver enforces that the operator once got wrong because this fake did
//! not (measured on kube-apiserver 1.33, see ../shared/design/TEST-STAND.md): CRD defaults
//! checked against their own schema, structural defaulting and validation of custom resources,
//! Service ports keyed by port and protocol with unique names, atomic selectors, and an applied
//! `{}` stored as `null` over fields the same manager owned (kubernetes/kubernetes#135841).
//! Written from the Kubernetes documentation, not from what the operator sends.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use fake_apiserver::FakeApiServer;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::{ApiResource, GroupVersionKind};
use serde_json::{Value, json};

fn api(fake: &FakeApiServer, group: &str, kind: &str, plural: &str, namespace: Option<&str>) -> Api<DynamicObject> {
    let client = kube::Client::new(fake.clone(), "default");
    let ar = ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, "v1", kind), plural);
    match namespace {
        Some(ns) => Api::namespaced_with(client, ns, &ar),
        None => Api::all_with(client, &ar),
    }
}

fn invalid(e: kube::Error) -> String {
    match e {
        kube::Error::Api(s) if s.code == 422 && s.reason == "Invalid" => s.message,
        other => panic!("not a 422: {other}"),
    }
}

fn configs(fake: &FakeApiServer) -> Api<DynamicObject> {
    api(fake, "imageregistry.operator.openshift.io", "Config", "configs", None)
}

#[tokio::test]
async fn a_crd_whose_defaults_fail_their_own_schema_is_rejected_with_the_servers_messages() {
    let fake = FakeApiServer::default();
    let crds = api(&fake, "apiextensions.k8s.io", "CustomResourceDefinition", "customresourcedefinitions", None);
    let mut crd = image_registry_core::api::crd::config_crd().unwrap();
    let spec = "/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties";
    crd.pointer_mut(&format!("{spec}/managementState")).unwrap()["default"] = json!("");
    crd.pointer_mut(&format!("{spec}/storage/properties/oss/properties/encryption/properties/kms/properties/keyID"))
        .unwrap()["default"] = json!("");
    let object: DynamicObject = serde_json::from_value(crd).unwrap();
    let message = invalid(crds.create(&PostParams::default(), &object).await.unwrap_err());
    assert!(message.starts_with(
        "CustomResourceDefinition.apiextensions.k8s.io \"configs.imageregistry.operator.openshift.io\" is invalid: ["
    ));
    for cause in [
        r#"spec.validation.openAPIV3Schema.properties[spec].properties[managementState].default: Invalid value: "":  in body should match '^(Managed|Unmanaged|Force|Removed)$'"#,
        r#"spec.validation.openAPIV3Schema.properties[spec].properties[storage].properties[oss].properties[encryption].properties[kms].properties[keyID].default: Invalid value: "":  in body should be at least 1 chars long"#,
    ] {
        assert!(message.contains(cause), "{message}");
    }
    // The CRDs this project ships are accepted, through create and server-side apply.
    for (_, crd) in image_registry_core::api::crd::crds().unwrap() {
        let object: DynamicObject = serde_json::from_value(crd).unwrap();
        let name = object.metadata.name.clone().unwrap();
        crds.patch(&name, &PatchParams::apply("installer"), &Patch::Apply(&object)).await.unwrap();
    }
}

#[tokio::test]
async fn a_minimal_config_and_pruner_gain_exactly_the_apis_defaults() {
    let fake = FakeApiServer::default();
    let body = json!({"apiVersion": "imageregistry.operator.openshift.io/v1", "kind": "Config",
        "metadata": {"name": "cluster"}, "spec": {"replicas": 1}});
    let created = configs(&fake).create(&PostParams::default(), &serde_json::from_value(body).unwrap()).await.unwrap();
    assert_eq!(created.data["spec"], json!({"logLevel": "Normal", "operatorLogLevel": "Normal", "replicas": 1}));
    let pruners = api(&fake, "imageregistry.operator.openshift.io", "ImagePruner", "imagepruners", None);
    let body = json!({"apiVersion": "imageregistry.operator.openshift.io/v1", "kind": "ImagePruner",
        "metadata": {"name": "cluster"}, "spec": {}});
    let created = pruners.create(&PostParams::default(), &serde_json::from_value(body).unwrap()).await.unwrap();
    assert_eq!(created.data["spec"], json!({"logLevel": "Normal"}));
    // Defaults apply only where the parent exists; unknown fields are pruned.
    let patch = json!({"spec": {"storage": {"azure": {}}, "unknownField": 1}});
    let patched = configs(&fake)
        .patch(
            "cluster",
            &PatchParams { field_manager: Some("user".into()), ..Default::default() },
            &Patch::Merge(&patch),
        )
        .await
        .unwrap();
    assert_eq!(patched.data["spec"]["storage"], json!({"azure": {"networkAccess": {"type": "External"}}}));
    assert!(patched.data["spec"].get("unknownField").is_none());
    // And a value against the schema is a 422 naming the field and the rule.
    let bad = json!({"spec": {"managementState": "Sometimes"}});
    let message = invalid(
        configs(&fake)
            .patch(
                "cluster",
                &PatchParams { field_manager: Some("user".into()), ..Default::default() },
                &Patch::Merge(&bad),
            )
            .await
            .unwrap_err(),
    );
    assert!(message.contains(r#"spec.managementState: Invalid value: "Sometimes": spec.managementState in body should match '^(Managed|Unmanaged|Force|Removed)$'"#), "{message}");
}

#[tokio::test]
async fn every_default_in_the_shipped_crds_validates_against_its_own_schema() {
    for (file, crd) in image_registry_core::api::crd::crds().unwrap() {
        assert_eq!(fake_apiserver::schema::crd_default_errors(&crd), Vec::new(), "{file}");
    }
}

fn service(ports: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "image-registry", "namespace": "ns"},
        "spec": {"selector": {"docker-registry": "default"}, "ports": ports}})
}

#[tokio::test]
async fn service_ports_are_keyed_by_port_and_protocol_and_names_must_be_unique() {
    let fake = FakeApiServer::default();
    let services = api(&fake, "", "Service", "services", Some("ns"));
    let mine = service(json!([{"name": "5000-tcp", "port": 5000, "protocol": "TCP", "targetPort": 5000}]));
    services.patch("image-registry", &PatchParams::apply("op").force(), &Patch::Apply(&mine)).await.unwrap();
    // A user renumbers the port (an update by another manager).
    let edit = json!({"spec": {"ports": [{"name": "5000-tcp", "port": 5001, "protocol": "TCP", "targetPort": 5000}]}});
    services
        .patch(
            "image-registry",
            &PatchParams { field_manager: Some("kubectl-edit".into()), ..Default::default() },
            &Patch::Merge(&edit),
        )
        .await
        .unwrap();
    // Applying the original port adds a second item with the same name: the server says no.
    let message = invalid(
        services.patch("image-registry", &PatchParams::apply("op").force(), &Patch::Apply(&mine)).await.unwrap_err(),
    );
    assert_eq!(message, r#"Service "image-registry" is invalid: spec.ports[1].name: Duplicate value: "5000-tcp""#);
}

#[tokio::test]
async fn a_foreign_edit_takes_a_whole_atomic_selector_and_a_forced_apply_gives_it_back() {
    let fake = FakeApiServer::default();
    let services = api(&fake, "", "Service", "services", Some("ns"));
    let mine = service(json!([{"name": "5000-tcp", "port": 5000, "protocol": "TCP"}]));
    services.patch("image-registry", &PatchParams::apply("op").force(), &Patch::Apply(&mine)).await.unwrap();
    let edit = json!({"spec": {"selector": {"docker-registry": "default", "extra": "x"}}});
    services
        .patch(
            "image-registry",
            &PatchParams { field_manager: Some("user".into()), ..Default::default() },
            &Patch::Merge(&edit),
        )
        .await
        .unwrap();
    let conflict = services.patch("image-registry", &PatchParams::apply("op"), &Patch::Apply(&mine)).await.unwrap_err();
    assert!(
        matches!(&conflict, kube::Error::Api(s) if s.code == 409 && s.message.contains(".spec.selector")),
        "{conflict}"
    );
    let back = services.patch("image-registry", &PatchParams::apply("op").force(), &Patch::Apply(&mine)).await.unwrap();
    assert_eq!(back.data["spec"]["selector"], json!({"docker-registry": "default"}));
}

#[tokio::test]
async fn an_applied_empty_object_over_owned_fields_is_stored_as_null_and_rejected() {
    let fake = FakeApiServer::default();
    let body = json!({"apiVersion": "imageregistry.operator.openshift.io/v1", "kind": "Config",
        "metadata": {"name": "cluster"}, "spec": {"replicas": 1}});
    configs(&fake).create(&PostParams::default(), &serde_json::from_value(body).unwrap()).await.unwrap();
    let status = |storage: Value| {
        json!({"apiVersion": "imageregistry.operator.openshift.io/v1", "kind": "Config", "metadata": {"name": "cluster"},
            "status": {"storage": storage, "storageManaged": true}})
    };
    let op = PatchParams::apply("op").force();
    configs(&fake).patch_status("cluster", &op, &Patch::Apply(&status(json!({"s3": {"bucket": "b"}})))).await.unwrap();
    let message =
        invalid(configs(&fake).patch_status("cluster", &op, &Patch::Apply(&status(json!({})))).await.unwrap_err());
    assert_eq!(
        message,
        r#"Config.imageregistry.operator.openshift.io "cluster" is invalid: status.storage: Invalid value: "null": storage in body must be of type object: "null""#
    );
    // The Image config's status, the same way.
    let images = api(&fake, "config.openshift.io", "Image", "images", None);
    let image = |status: Value| json!({"apiVersion": "config.openshift.io/v1", "kind": "Image", "metadata": {"name": "cluster"}, "status": status});
    images.create(&PostParams::default(), &serde_json::from_value(image(json!({}))).unwrap()).await.unwrap();
    images
        .patch_status("cluster", &op, &Patch::Apply(&image(json!({"internalRegistryHostname": "h:5000"}))))
        .await
        .unwrap();
    let message = invalid(images.patch_status("cluster", &op, &Patch::Apply(&image(json!({})))).await.unwrap_err());
    assert_eq!(
        message,
        r#"Image.config.openshift.io "cluster" is invalid: status: Invalid value: "null": status in body must be of type object: "null""#
    );
    // Emptied first by an update (what the operator does), the same `{}` stays `{}`.
    let clear = json!([{"op": "test", "path": "/status/storage/s3", "value": {"bucket": "b"}}, {"op": "remove", "path": "/status/storage/s3"}]);
    let params = PatchParams { field_manager: Some("op".into()), ..Default::default() };
    configs(&fake)
        .patch_status("cluster", &params, &Patch::<()>::Json(serde_json::from_value(clear).unwrap()))
        .await
        .unwrap();
    let after = configs(&fake).patch_status("cluster", &op, &Patch::Apply(&status(json!({})))).await.unwrap();
    assert_eq!(after.data["status"]["storage"], json!({}));
}

#[tokio::test]
async fn openshift_schemas_reject_an_unknown_platform() {
    let fake = FakeApiServer::default();
    let infrastructures = api(&fake, "config.openshift.io", "Infrastructure", "infrastructures", None);
    let body = json!({"apiVersion": "config.openshift.io/v1", "kind": "Infrastructure", "metadata": {"name": "cluster"},
        "status": {"platformStatus": {"type": "FuturePlatform"}}});
    let message = invalid(
        infrastructures.create(&PostParams::default(), &serde_json::from_value(body).unwrap()).await.unwrap_err(),
    );
    assert!(message.contains(r#"status.platformStatus.type: Invalid value: "FuturePlatform""#), "{message}");
}

/// Foreground deletion (documented under "Cascading deletion"): the object stays, with a
/// deletionTimestamp and the `foregroundDeletion` finalizer, until the garbage collector has
/// deleted its dependents; then it goes.
#[tokio::test]
async fn foreground_deletion_holds_the_object_until_the_garbage_collector_has_acted() {
    use kube::api::{DeleteParams, PropagationPolicy};
    let fake = FakeApiServer::default();
    let deployments = api(&fake, "apps", "Deployment", "deployments", Some("ns"));
    let configmaps = api(&fake, "", "ConfigMap", "configmaps", Some("ns"));
    let owner = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "ns"},
        "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}});
    let created = deployments.create(&PostParams::default(), &serde_json::from_value(owner).unwrap()).await.unwrap();
    let uid = created.metadata.uid.clone().unwrap();
    let dependent = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "dep", "namespace": "ns",
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "Deployment", "name": "d", "uid": uid}]}});
    configmaps.create(&PostParams::default(), &serde_json::from_value(dependent).unwrap()).await.unwrap();
    let params = DeleteParams { propagation_policy: Some(PropagationPolicy::Foreground), ..DeleteParams::default() };
    let answer = deployments.delete("d", &params).await.unwrap();
    let held = answer.left().expect("the object is returned, still there");
    assert!(held.metadata.deletion_timestamp.is_some());
    assert_eq!(held.metadata.finalizers, Some(vec!["foregroundDeletion".to_owned()]));
    // The next request finds the collector done: dependent and object gone.
    assert!(configmaps.get_opt("dep").await.unwrap().is_none());
    assert!(deployments.get_opt("d").await.unwrap().is_none());
    // A background (default) deletion is immediate.
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "plain", "namespace": "ns"}});
    configmaps.create(&PostParams::default(), &serde_json::from_value(cm).unwrap()).await.unwrap();
    assert!(configmaps.delete("plain", &DeleteParams::default()).await.unwrap().is_left());
    assert!(configmaps.get_opt("plain").await.unwrap().is_none());
}

/// A protobuf client (client-go's default for built-in kinds) gets a 415, and the request is
/// in the log first, so a test sees it was sent.
#[tokio::test]
async fn protobuf_is_refused_after_the_request_is_logged() {
    let fake = FakeApiServer::default();
    let request = http::Request::builder()
        .method("GET")
        .uri("/api/v1/namespaces/ns/configmaps")
        .header("accept", "application/vnd.kubernetes.protobuf")
        .header("user-agent", "client-go/v1.35")
        .body(bytes::Bytes::new())
        .unwrap();
    let response = fake.handle(request).await;
    assert_eq!(response.status().as_u16(), 415);
    let log = fake.requests();
    assert_eq!(log.len(), 1);
    assert_eq!((log[0].code, log[0].user_agent.as_str(), log[0].verb.as_str()), (415, "client-go/v1.35", "list"));
}
