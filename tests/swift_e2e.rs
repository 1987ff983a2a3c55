//! End to end on OpenStack with the operator binary as shipped against the fake API server, the
//! Keystone double and a one-node Swift behind a recording proxy: the availability probe
//! decides the bootstrap (Swift usable → a container created with the cluster's metadata, the
//! registry Available, a quiet minute, Removed empties and deletes it; no object store in the
//! catalog → a PVC; Keystone unreachable → the bootstrap waits with a named error, and goes on
//! with Swift once Keystone answers).

use crate::cluster;
use crate::shipped;
use crate::stand;

use std::time::Duration;

use cluster::{dynamic, object, set_management_state};
use fake_apiserver::FakeApiServer;
use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};
use shipped::{Stand, available, shipped, wait_for};
use stand::keystone_double::{self as keystone, PROJECT_ID};

/// A fresh OpenStack cluster whose `clouds.yaml` logs in at `auth_url`.
async fn stand(auth_url: &str) -> Stand {
    let stand = shipped::stand("openstack-swift-fresh.yaml", "openstack", None).await;
    let secrets = dynamic(&stand.fake, "", "Secret", "secrets", Some("openshift-image-registry"));
    let yaml = k8s_openapi::ByteString(keystone::clouds_yaml(auth_url).into_bytes());
    let patch = json!({"data": {"clouds.yaml": yaml}});
    secrets.patch("installer-cloud-credentials", &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
    stand
}

fn storage_of(fake: &FakeApiServer) -> Value {
    object(fake, "Config", "cluster").map(|c| c["spec"]["storage"].clone()).unwrap_or_default()
}

async fn head(swift: &str, container: &str) -> Option<String> {
    let url = format!("{swift}/v1/AUTH_{PROJECT_ID}/{container}?format=json");
    let (status, body) = stand::http("GET", &url, "").await;
    (status == 200).then_some(body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_openstack_cluster_with_swift_gets_a_marked_container_stays_quiet_and_removes_it() {
    let (Some(swift), Some(binary)) = (keystone::swift(), shipped()) else { return };
    let proxy = stand::recorder(&swift, None).await;
    let keystone = keystone::start(Some(&proxy.endpoint)).await;
    let stand = stand(&format!("{}/v3", keystone.endpoint)).await;
    const RESYNC: u64 = 15;
    let operator = shipped::run(&binary, &stand.kubeconfig, RESYNC, &[]);
    wait_for("the registry to be available", &operator, Duration::from_secs(120), async || available(&stand.fake))
        .await;
    let name = storage_of(&stand.fake)["swift"]["container"].as_str().unwrap_or_default().to_owned();
    assert!(name.starts_with(&stand.infra), "the container is named after the cluster: {name}");
    let puts: Vec<_> = proxy.log().into_iter().filter(|l| l.method == "PUT").collect();
    assert_eq!(puts.len(), 1, "one container created: {puts:?}");
    let metadata = container_headers(&swift, &name).await;
    assert_eq!(metadata.get("x-container-meta-openshiftclusterid"), Some(&stand.infra), "{metadata:?}");
    assert_eq!(metadata.get("x-container-meta-name"), Some(&name));

    // A quiet minute: no mutating call, reads at most once per resync period, no API writes,
    // and no new Keystone login.
    let tokens = keystone.tokens_issued();
    let budget = 60 / RESYNC as usize + 1;
    let idle = shipped::quiet_minute(&stand.fake, &proxy, budget).await;
    println!("Swift requests: {} reads in 60 s idle (resync {RESYNC} s, budget {budget})", idle.len());
    assert_eq!(keystone.tokens_issued(), tokens, "the token is reused while Swift accepts it");

    // Images in the container, then Removed: emptied and deleted.
    for object_name in ["docker/registry/v2/blobs/a", "docker/registry/v2/repositories/b"] {
        let url = format!("{swift}/v1/AUTH_{PROJECT_ID}/{name}/{object_name}");
        assert_eq!(stand::http("PUT", &url, "layer").await.0, 201);
    }
    set_management_state(&stand.fake, "Removed").await;
    wait_for("the container to be deleted", &operator, Duration::from_secs(90), async || {
        head(&swift, &name).await.is_none()
    })
    .await;
    shipped::assert_secrets_kept(&stand.fake, operator, &[keystone::PASSWORD, "stand-token-"]);
}

/// The container's headers, lowercased (the stand's own check, outside the operator).
async fn container_headers(swift: &str, container: &str) -> std::collections::BTreeMap<String, String> {
    use http_body_util::{BodyExt, Full};
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let client: Client<_, Full<bytes::Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let request = http::Request::head(format!("{swift}/v1/AUTH_{PROJECT_ID}/{container}"))
        .body(Full::new(bytes::Bytes::new()))
        .unwrap();
    let answer = client.request(request).await.unwrap();
    let headers =
        answer.headers().iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_owned())).collect();
    let _ = answer.into_body().collect().await;
    headers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_swift_in_the_catalog_openstack_bootstraps_a_pvc() {
    let (Some(_), Some(binary)) = (keystone::swift(), shipped()) else { return };
    let keystone = keystone::start(None).await;
    let stand = stand(&format!("{}/v3", keystone.endpoint)).await;
    let operator = shipped::run(&binary, &stand.kubeconfig, 600, &[]);
    wait_for("the Config to be bootstrapped", &operator, Duration::from_secs(60), async || {
        object(&stand.fake, "Config", "cluster").is_some()
    })
    .await;
    let config = object(&stand.fake, "Config", "cluster").unwrap();
    assert_eq!(config["spec"]["storage"]["pvc"]["claim"], "image-registry-storage", "{:#}", config["spec"]);
    assert_eq!(config["spec"]["replicas"], 1);
    assert!(object(&stand.fake, "PersistentVolumeClaim", "image-registry-storage").is_some(), "the claim is made");
    drop(operator);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_keystone_down_the_bootstrap_waits_with_a_named_error_then_goes_on() {
    let (Some(swift), Some(binary)) = (keystone::swift(), shipped()) else { return };
    let port = stand::free_port();
    let stand = stand(&format!("http://127.0.0.1:{port}/v3")).await;
    let operator = shipped::run(&binary, &stand.kubeconfig, 600, &[]);
    wait_for("the probe's error in the log", &operator, Duration::from_secs(60), async || {
        let log = std::fs::read_to_string(&operator.log).unwrap_or_default();
        log.contains("unable to check for Swift availability: Keystone token: cannot connect")
    })
    .await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(object(&stand.fake, "Config", "cluster").is_none(), "no Config is guessed while Keystone is down");

    // Keystone answers again: the next attempt probes, and the bootstrap chooses Swift.
    let _keystone = keystone::start_on(port, Some(&swift)).await;
    wait_for("the Config to be bootstrapped with Swift", &operator, Duration::from_secs(120), async || {
        storage_of(&stand.fake)["swift"].is_object()
    })
    .await;
    drop(operator);
}
