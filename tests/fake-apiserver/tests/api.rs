//! The fake API server against kube's typed `Api` (in-process, as a tower Service) and against
//! kubectl (over HTTP): the semantics the operator relies on.

// Tests fail by panicking, helpers included.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]

use std::time::Duration;

use fake_apiserver::{FakeApiServer, Fault, serve};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions, WatchEvent, WatchParams};
use serde_json::json;

fn client(fake: &FakeApiServer) -> kube::Client {
    kube::Client::new(fake.clone(), "ns")
}

fn configmap(name: &str, data: serde_json::Value) -> ConfigMap {
    serde_json::from_value(
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": "ns"}, "data": data}),
    )
    .unwrap()
}

fn status_code(e: kube::Error) -> u16 {
    match e {
        kube::Error::Api(s) => s.code,
        other => panic!("not an API error: {other}"),
    }
}

#[tokio::test]
async fn create_get_list_and_already_exists() {
    let fake = FakeApiServer::default();
    let api: Api<ConfigMap> = Api::namespaced(client(&fake), "ns");
    let created = api.create(&PostParams::default(), &configmap("a", json!({"k": "v"}))).await.unwrap();
    assert!(created.metadata.uid.is_some());
    assert_eq!(api.get("a").await.unwrap().data.unwrap()["k"], "v");
    assert_eq!(api.list(&Default::default()).await.unwrap().items.len(), 1);
    let again = api.create(&PostParams::default(), &configmap("a", json!({}))).await.unwrap_err();
    assert!(matches!(&again, kube::Error::Api(s) if s.reason == "AlreadyExists" && s.code == 409));
    assert_eq!(status_code(api.get("missing").await.unwrap_err()), 404);
}

#[tokio::test]
async fn apply_that_changes_nothing_keeps_the_resource_version_and_fields_are_owned() {
    let fake = FakeApiServer::default();
    let api: Api<ConfigMap> = Api::namespaced(client(&fake), "ns");
    let op = PatchParams::apply("op");
    let body =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v", "gone": "x"}});
    let first = api.patch("a", &op, &Patch::Apply(&body)).await.unwrap();
    let again = api.patch("a", &op, &Patch::Apply(&body)).await.unwrap();
    assert_eq!(first.metadata.resource_version, again.metadata.resource_version);
    // Another manager edits an owned field: a later apply conflicts unless forced.
    api.patch(
        "a",
        &PatchParams { field_manager: Some("editor".into()), ..Default::default() },
        &Patch::Merge(json!({"data": {"k": "edited", "extra": "e"}})),
    )
    .await
    .unwrap();
    assert_eq!(status_code(api.patch("a", &op, &Patch::Apply(&body)).await.unwrap_err()), 409);
    let smaller = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v"}});
    let forced = api.patch("a", &op.clone().force(), &Patch::Apply(&smaller)).await.unwrap();
    // `gone` was released by the applier; `extra` belongs to the editor and stays.
    assert_eq!(forced.data.unwrap(), [("extra".to_owned(), "e".to_owned()), ("k".to_owned(), "v".to_owned())].into());
    let managers: Vec<String> = forced.metadata.managed_fields.unwrap().into_iter().filter_map(|m| m.manager).collect();
    assert_eq!(managers, ["editor", "op"]);
}

#[tokio::test]
async fn status_subresource_and_generation() {
    let fake = FakeApiServer::default();
    fake.with_store(|s| s.controllers = false);
    let api: Api<Deployment> = Api::namespaced(client(&fake), "ns");
    let body = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}},
        "status": {"replicas": 9}});
    let created = api.patch("d", &PatchParams::apply("op"), &Patch::Apply(&body)).await.unwrap();
    assert!(created.status.is_none(), "a main-resource write does not set status");
    assert_eq!(created.metadata.generation, Some(1));
    let status =
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}, "status": {"replicas": 1}});
    let with_status = api.patch_status("d", &PatchParams::apply("op"), &Patch::Apply(&status)).await.unwrap();
    assert_eq!(with_status.status.unwrap().replicas, Some(1));
    assert_eq!(with_status.metadata.generation, Some(1), "status writes leave the generation alone");
    let mut scaled = body.clone();
    scaled["spec"]["replicas"] = json!(2);
    let scaled = api.patch("d", &PatchParams::apply("op"), &Patch::Apply(&scaled)).await.unwrap();
    assert_eq!(scaled.metadata.generation, Some(2));
    assert_eq!(scaled.status.unwrap().replicas, Some(1), "the status survives a spec apply");
    // As the server's Semantic.DeepEqual: an empty map or list is no change from an absent one.
    let mut emptied = body.clone();
    emptied["spec"]["replicas"] = json!(2);
    emptied["spec"]["template"]["spec"]["nodeSelector"] = json!({});
    emptied["spec"]["template"]["spec"]["tolerations"] = json!([]);
    let emptied = api.patch("d", &PatchParams::apply("op"), &Patch::Apply(&emptied)).await.unwrap();
    assert_eq!(emptied.metadata.generation, Some(2), "empty nodeSelector and tolerations bump nothing");
}

#[tokio::test]
async fn finalizers_deletion_timestamp_and_preconditions() {
    let fake = FakeApiServer::default();
    let api: Api<ConfigMap> = Api::namespaced(client(&fake), "ns");
    let mut cm = configmap("f", json!({}));
    cm.metadata.finalizers = Some(vec!["example.com/keep".into()]);
    let created = api.create(&PostParams::default(), &cm).await.unwrap();
    let wrong = DeleteParams {
        preconditions: Some(Preconditions { uid: Some("someone-else".into()), resource_version: None }),
        ..Default::default()
    };
    assert_eq!(status_code(api.delete("f", &wrong).await.unwrap_err()), 409);
    api.delete("f", &DeleteParams::default()).await.unwrap();
    let pending = api.get("f").await.unwrap();
    assert!(pending.metadata.deletion_timestamp.is_some(), "kept until the last finalizer goes");
    // A stale guarded JSON patch fails its test; a current one removes the finalizer and the object.
    let stale = json_patch::Patch(
        serde_json::from_value(json!([
            {"op": "test", "path": "/metadata/resourceVersion", "value": created.metadata.resource_version},
            {"op": "remove", "path": "/metadata/finalizers/0"}
        ]))
        .unwrap(),
    );
    assert_eq!(status_code(api.patch("f", &PatchParams::default(), &Patch::Json::<()>(stale)).await.unwrap_err()), 422);
    let current = json_patch::Patch(
        serde_json::from_value(json!([
            {"op": "test", "path": "/metadata/resourceVersion", "value": pending.metadata.resource_version},
            {"op": "remove", "path": "/metadata/finalizers/0"}
        ]))
        .unwrap(),
    );
    api.patch("f", &PatchParams::default(), &Patch::Json::<()>(current)).await.unwrap();
    assert_eq!(status_code(api.get("f").await.unwrap_err()), 404);
}

#[tokio::test]
async fn replace_with_a_stale_resource_version_is_a_conflict() {
    let fake = FakeApiServer::default();
    let api: Api<ConfigMap> = Api::namespaced(client(&fake), "ns");
    let created = api.create(&PostParams::default(), &configmap("c", json!({"a": "1"}))).await.unwrap();
    let mut first = created.clone();
    first.data = Some([("a".to_owned(), "2".to_owned())].into());
    api.replace("c", &PostParams::default(), &first).await.unwrap();
    assert_eq!(status_code(api.replace("c", &PostParams::default(), &created).await.unwrap_err()), 409);
    let merge_stale = json!({"metadata": {"resourceVersion": created.metadata.resource_version}, "data": {"a": "3"}});
    assert_eq!(
        status_code(api.patch("c", &PatchParams::default(), &Patch::Merge(&merge_stale)).await.unwrap_err()),
        409
    );
}

#[tokio::test]
async fn watch_streams_events_after_a_resource_version() {
    let fake = FakeApiServer::default();
    let api: Api<ConfigMap> = Api::namespaced(client(&fake), "ns");
    let created = api.create(&PostParams::default(), &configmap("w", json!({}))).await.unwrap();
    let since = created.metadata.resource_version.unwrap();
    let stream = api.watch(&WatchParams::default().timeout(5), &since).await.unwrap();
    futures::pin_mut!(stream);
    api.patch("w", &PatchParams::default(), &Patch::Merge(json!({"data": {"x": "1"}}))).await.unwrap();
    api.delete("w", &DeleteParams::default()).await.unwrap();
    let mut kinds = Vec::new();
    while let Ok(Some(event)) = tokio::time::timeout(Duration::from_secs(5), stream.next()).await {
        match event.unwrap() {
            WatchEvent::Modified(_) => kinds.push("MODIFIED"),
            WatchEvent::Deleted(_) => kinds.push("DELETED"),
            WatchEvent::Added(_) => kinds.push("ADDED"),
            _ => {}
        }
        if kinds.len() == 2 {
            break;
        }
    }
    assert_eq!(kinds, ["MODIFIED", "DELETED"]);
}

/// The first event of a watch from `since`, within the watch cache's three-second wait.
async fn first_event(api: &Api<ConfigMap>, since: &str) -> WatchEvent<ConfigMap> {
    let stream = api.watch(&WatchParams::default().timeout(10), since).await.unwrap();
    futures::pin_mut!(stream);
    tokio::time::timeout(Duration::from_secs(6), stream.next()).await.unwrap().unwrap().unwrap()
}

/// What a real kube-apiserver answers a watch it cannot start (k8s.io/apiserver's cacher): an
/// HTTP 200 stream whose one event is an ERROR carrying the Status. Clients (client-go's
/// reflector, kube-rs' watcher on 410) relist on these.
#[tokio::test]
async fn a_watch_from_a_revision_not_reached_or_compacted_away_is_an_error_event() {
    let fake = FakeApiServer::default();
    let api: Api<ConfigMap> = Api::namespaced(client(&fake), "ns");
    let first = api.create(&PostParams::default(), &configmap("a", json!({}))).await.unwrap();
    let first = first.metadata.resource_version.unwrap();
    let current = fake.with_store(|s| s.revision());
    let ahead = (current + 100).to_string();
    let started = std::time::Instant::now();
    let WatchEvent::Error(status) = first_event(&api, &ahead).await else { panic!("not an error event") };
    assert!(started.elapsed() >= Duration::from_secs(2), "the watch cache waits for the revision first");
    assert_eq!((status.code, status.reason.as_str()), (504, "Timeout"));
    assert_eq!(status.message, format!("Too large resource version: {ahead}, current: {current}"));
    let raw: serde_json::Value = serde_json::to_value(&status).unwrap();
    assert_eq!(raw["details"]["causes"][0]["reason"], "ResourceVersionTooLarge", "{raw}");
    // A revision reached within the wait is no error: the watch starts there.
    let waiting = {
        let api = api.clone();
        let next = (current + 1).to_string();
        tokio::spawn(async move { first_event(&api, &next).await })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    api.create(&PostParams::default(), &configmap("b", json!({}))).await.unwrap();
    api.create(&PostParams::default(), &configmap("c", json!({}))).await.unwrap();
    let WatchEvent::Added(added) = waiting.await.unwrap() else { panic!("not the next event") };
    assert_eq!(added.metadata.name.as_deref(), Some("c"));
    // Compaction: an older revision is 410 Gone; the current one still starts a watch.
    fake.with_store(fake_apiserver::Store::compact);
    let WatchEvent::Error(gone) = first_event(&api, &first).await else { panic!("not an error event") };
    assert_eq!((gone.code, gone.reason.as_str()), (410, "Expired"), "{gone:?}");
    assert!(gone.message.starts_with(&format!("too old resource version: {first} (")), "{}", gone.message);
    let now = fake.with_store(|s| s.revision()).to_string();
    let stream = api.watch(&WatchParams::default().timeout(10), &now).await.unwrap();
    futures::pin_mut!(stream);
    api.delete("a", &DeleteParams::default()).await.unwrap();
    let event = tokio::time::timeout(Duration::from_secs(5), stream.next()).await.unwrap().unwrap().unwrap();
    assert!(matches!(event, WatchEvent::Deleted(_)), "{event:?}");
    // A list asked to be at least as new as a revision not reached is refused the same way.
    let params = kube::api::ListParams::default().at(&ahead).matching(kube::api::VersionMatch::NotOlderThan);
    let refused = api.list(&params).await.unwrap_err();
    assert_eq!(status_code(refused), 504);
}

/// An etcd restore from an older backup, as the fake plays it: the state is replaced, every
/// watch ends, revisions start again below any a client holds.
#[tokio::test]
async fn a_reset_replaces_the_state_and_ends_every_watch() {
    let fake = FakeApiServer::default();
    let api: Api<ConfigMap> = Api::namespaced(client(&fake), "ns");
    for name in ["a", "b", "c"] {
        api.create(&PostParams::default(), &configmap(name, json!({}))).await.unwrap();
    }
    let held = api.list(&Default::default()).await.unwrap().metadata.resource_version.unwrap();
    let stream = api.watch(&WatchParams::default().timeout(30), &held).await.unwrap();
    futures::pin_mut!(stream);
    // The watch is running once it streams a change.
    api.create(&PostParams::default(), &configmap("d", json!({}))).await.unwrap();
    let added = tokio::time::timeout(Duration::from_secs(5), stream.next()).await.unwrap();
    assert!(matches!(added, Some(Ok(WatchEvent::Added(_)))), "{added:?}");
    let backup = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "old", "namespace": "ns"}});
    assert_eq!(fake.reset([backup]).unwrap(), 1);
    let ended = tokio::time::timeout(Duration::from_secs(5), stream.next()).await.unwrap();
    assert!(ended.is_none(), "the watch ends: {ended:?}");
    let names: Vec<String> =
        api.list(&Default::default()).await.unwrap().items.into_iter().filter_map(|c| c.metadata.name).collect();
    assert_eq!(names, ["old"]);
    let WatchEvent::Error(status) = first_event(&api, &held).await else { panic!("not an error event") };
    assert_eq!(status.code, 504, "{status:?}");
    // The same over the control endpoints, as a test against the binary uses them.
    let control = |path: &str, body: &str| {
        http::Request::post(format!("/_fake/{path}")).body(bytes::Bytes::from(body.to_owned())).unwrap()
    };
    let answer = fake.handle(control("reset", "[]")).await;
    assert_eq!(answer.status(), 200);
    assert!(api.list(&Default::default()).await.unwrap().items.is_empty());
    assert_eq!(fake.handle(control("reset", "not json")).await.status(), 400);
    assert_eq!(fake.handle(control("compact", "")).await.status(), 200);
}

/// Issue 25: the values the operator once copied from a Config into its Deployment unchecked
/// are refused as a real API server refuses them: 422 Invalid, naming the field.
#[tokio::test]
async fn a_pod_template_a_real_server_refuses_is_refused_with_422() {
    let fake = FakeApiServer::default();
    let api: Api<Deployment> = Api::namespaced(client(&fake), "ns");
    let deployment = |pod: serde_json::Value| -> Deployment {
        serde_json::from_value(json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "ns"},
            "spec": {"selector": {"matchLabels": {"app": "d"}}, "template": {
                "metadata": {"labels": {"app": "d"}},
                "spec": pod
            }}
        }))
        .unwrap()
    };
    let container = json!([{"name": "c", "image": "i"}]);
    for (pod, field, detail) in [
        (
            json!({"containers": container, "nodeSelector": {"bad key!/x/y": "v"}}),
            "spec.template.spec.nodeSelector",
            "Invalid value: \"bad key!/x/y\"",
        ),
        (
            json!({"containers": container, "tolerations": [{"key": "k", "operator": "Maybe"}]}),
            "spec.template.spec.tolerations[0].operator",
            "Unsupported value: \"Maybe\": supported values: \"Equal\", \"Exists\"",
        ),
    ] {
        let refused = api.create(&PostParams::default(), &deployment(pod)).await.unwrap_err();
        let kube::Error::Api(status) = refused else { panic!("not an API error") };
        assert_eq!((status.code, status.reason.as_str()), (422, "Invalid"), "{status:?}");
        assert!(status.message.starts_with("Deployment.apps \"d\" is invalid: "), "{}", status.message);
        assert!(status.message.contains(&format!("{field}: {detail}")), "{}", status.message);
    }
    let fine = json!({"containers": container, "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [{"key": "node-role.kubernetes.io/infra", "operator": "Exists", "effect": "NoSchedule"}]});
    api.create(&PostParams::default(), &deployment(fine)).await.unwrap();
    assert!(fake.with_store(|s| s.dump()).iter().any(|o| o["kind"] == "Deployment"));
}

#[tokio::test]
async fn faults_fire_as_configured_and_the_log_counts_writes() {
    let fake = FakeApiServer::default();
    let api: Api<ConfigMap> = Api::namespaced(client(&fake), "ns");
    for code in [409, 403, 404, 429, 500, 503] {
        fake.inject(Fault {
            verb: Some("create".into()),
            resource: Some("configmaps".into()),
            name: None,
            code,
            count: 1,
            delay_ms: 0,
        });
        assert_eq!(
            status_code(api.create(&PostParams::default(), &configmap("x", json!({}))).await.unwrap_err()),
            code
        );
    }
    fake.inject(Fault { verb: Some("get".into()), resource: None, name: None, code: 0, count: 1, delay_ms: 300 });
    let started = std::time::Instant::now();
    api.create(&PostParams::default(), &configmap("x", json!({}))).await.unwrap();
    api.get("x").await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(300), "the delay fault slows the answer");
    let log = fake.requests();
    assert_eq!(log.iter().filter(|e| e.write).count(), 7);
    assert_eq!(log.iter().filter(|e| !e.write).count(), 1);
    assert!(log.iter().all(|e| e.path.starts_with("/api/v1/namespaces/ns/configmaps")));
}

#[tokio::test]
async fn cluster_controllers_roll_out_the_registry() {
    let fake = FakeApiServer::default();
    let api: Api<Deployment> = Api::namespaced(client(&fake), "openshift-image-registry");
    let body = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "image-registry", "namespace": "openshift-image-registry"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}});
    api.patch("image-registry", &PatchParams::apply("op"), &Patch::Apply(&body)).await.unwrap();
    let status = api.get("image-registry").await.unwrap().status.unwrap();
    assert_eq!(status.available_replicas, Some(2));
}

#[tokio::test]
async fn kubectl_reads_the_fake_over_http() {
    let fake = FakeApiServer::default();
    serve::load_fixture(
        &fake,
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/aws-fresh.yaml")),
    )
    .unwrap();
    let address = serve::spawn(fake.clone()).await.unwrap();
    let dir = std::env::temp_dir().join(format!("fake-apiserver-kubectl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kubeconfig = dir.join("kubeconfig");
    serve::write_kubeconfig(address, &kubeconfig).unwrap();
    let kubectl = |args: &[&str]| {
        let kubeconfig = kubeconfig.clone();
        let args: Vec<String> = args.iter().map(|s| (*s).to_owned()).collect();
        async move {
            tokio::task::spawn_blocking(move || {
                std::process::Command::new("kubectl")
                    .arg("--kubeconfig")
                    .arg(&kubeconfig)
                    .args(&args)
                    .env("KUBECACHEDIR", kubeconfig.with_file_name("cache"))
                    .output()
                    .expect("kubectl is on this machine (see TEST-STAND.md)")
            })
            .await
            .unwrap()
        }
    };
    let out = kubectl(&["get", "infrastructures.config.openshift.io", "cluster", "-o", "json"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let infra: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(infra["status"]["platformStatus"]["type"], "AWS");
    let out = kubectl(&["get", "secrets", "-n", "openshift-image-registry", "-o", "name"]).await;
    assert!(String::from_utf8_lossy(&out.stdout).contains("secret/installer-cloud-credentials"));
    let out = kubectl(&["annotate", "namespace", "openshift-image-registry", "example.com/by=kubectl"]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let annotated = fake.with_store(|s| s.dump()).into_iter().find(|o| o["kind"] == "Namespace").unwrap();
    assert_eq!(annotated["metadata"]["annotations"]["example.com/by"], "kubectl");
    let log = fake.requests();
    assert!(log.iter().any(|e| e.verb == "discovery"), "kubectl discovers the API first");
    assert_eq!(log.iter().filter(|e| e.write).count(), 1);
    std::fs::remove_dir_all(&dir).ok();
}

/// The fake is a test double that can say no: a service account's token is authorized by the
/// RBAC objects it holds, over HTTPS, and a denial reads as the real server's.
#[tokio::test]
async fn service_account_tokens_are_authorized_by_rbac_over_https() {
    let fake = FakeApiServer::default();
    let rbac = |kind: &str, rest: serde_json::Value| {
        let mut o = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": kind,
                           "metadata": {"name": "reader", "namespace": "ns"}});
        o.as_object_mut().unwrap().extend(rest.as_object().unwrap().clone());
        o
    };
    fake.with_store(|s| {
        s.load(vec![
            rbac(
                "Role",
                json!({"rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}]}),
            ),
            rbac(
                "RoleBinding",
                json!({"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
                       "subjects": [{"kind": "ServiceAccount", "name": "op", "namespace": "ns"}]}),
            ),
            serde_json::to_value(configmap("c", json!({"k": "v"}))).unwrap(),
        ])
        .unwrap()
    });
    let token = fake.issue_token("ns", "op");
    let (address, ca) = serve::spawn_tls(fake.clone()).await.unwrap();
    let dir = std::env::temp_dir().join(format!("fake-authz-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ca.crt"), &ca).unwrap();
    let connect = |token: &str| {
        let text = serve::kubeconfig_tls(address, &dir.join("ca.crt"), token);
        let kubeconfig = kube::config::Kubeconfig::from_yaml(&text).unwrap();
        async move {
            let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default()).await.unwrap();
            kube::Client::try_from(config).unwrap()
        }
    };
    let api: Api<ConfigMap> = Api::namespaced(connect(&token).await, "ns");
    assert_eq!(api.get("c").await.unwrap().data.unwrap()["k"], "v");
    assert_eq!(api.list(&Default::default()).await.unwrap().items.len(), 1);
    let denied = api.patch("c", &PatchParams::apply("op"), &Patch::Apply(configmap("c", json!({"k": "w"})))).await;
    match denied {
        Err(kube::Error::Api(status)) => {
            assert_eq!((status.code, status.reason.as_str()), (403, "Forbidden"));
            assert_eq!(
                status.message,
                "configmaps \"c\" is forbidden: User \"system:serviceaccount:ns:op\" cannot patch resource \
                 \"configmaps\" in API group \"\" in the namespace \"ns\""
            );
        }
        other => panic!("expected a 403, got {other:?}"),
    }
    let elsewhere: Api<ConfigMap> = Api::namespaced(connect(&token).await, "other");
    assert_eq!(status_code(elsewhere.list(&Default::default()).await.unwrap_err()), 403);
    let stranger: Api<ConfigMap> = Api::namespaced(connect("never-issued").await, "ns");
    assert_eq!(status_code(stranger.get("c").await.unwrap_err()), 401);
    // The log says who asked; the admin (no token) is still allowed everything.
    let log = fake.requests();
    assert!(log.iter().any(|e| e.code == 403 && e.user == "system:serviceaccount:ns:op" && e.verb == "apply"));
    let admin: Api<ConfigMap> = Api::namespaced(client(&fake), "ns");
    admin.delete("c", &DeleteParams::default()).await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}
