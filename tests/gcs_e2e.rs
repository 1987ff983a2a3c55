//! End to end on GCP with the operator binary as shipped against the fake API server and
//! gcp-storage-emulator behind a recording proxy (`STORAGE_EMULATOR_HOST`, Google's convention
//! for emulators): a fresh cluster bootstraps its Config, its bucket is created with the
//! cluster's label, the registry becomes Available, a quiet minute makes no mutating call and
//! reads within the resync budget, and Removed empties and deletes the bucket; a user's bucket
//! survives Removed; every call goes through the cluster proxy when one is set.

use crate::cluster;
use crate::shipped;
use crate::stand;

use std::time::Duration;

use cluster::{object, set_management_state};
use fake_apiserver::FakeApiServer;
use serde_json::{Value, json};
use shipped::{Stand, available, shipped, wait_for};

/// A fresh GCP cluster; `config`, when given, is the Config the user made before the operator.
async fn stand(config: Option<Value>) -> Stand {
    shipped::stand("gcp-fresh.yaml", "gcp", config).await
}

fn bucket_of(fake: &FakeApiServer) -> String {
    object(fake, "Config", "cluster")
        .and_then(|c| c["spec"]["storage"]["gcs"]["bucket"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

async fn bucket(endpoint: &str, name: &str) -> Option<Value> {
    let (status, body) = stand::http("GET", &format!("{endpoint}/storage/v1/b/{name}"), "").await;
    (status == 200).then(|| serde_json::from_str(&body).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_gcp_cluster_gets_a_labelled_bucket_stays_quiet_and_removes_it() {
    let (Some(emulator), Some(binary)) = (stand::gcs_emulator(), shipped()) else { return };
    let proxy = stand::recorder(&emulator, None).await;
    let stand = stand(None).await;
    const RESYNC: u64 = 15;
    let operator = shipped::run(&binary, &stand.kubeconfig, RESYNC, &[("STORAGE_EMULATOR_HOST", &proxy.endpoint)]);
    wait_for("the registry to be available", &operator, Duration::from_secs(120), async || available(&stand.fake))
        .await;
    let name = bucket_of(&stand.fake);
    assert!(name.starts_with(&stand.infra), "the bucket is named after the cluster: {name}");
    let found = bucket(&emulator, &name).await.expect("the bucket exists");
    assert_eq!(found["labels"][format!("kubernetes-io-cluster-{}", stand.infra)], "owned", "{found:#}");
    let inserts = proxy.log().iter().filter(|l| l.method == "POST" && l.target.starts_with("/storage/v1/b?")).count();
    assert_eq!(inserts, 1, "one bucket created: {:?}", proxy.log());

    // A quiet minute: no mutating call, reads at most once per resync period, no API writes.
    let budget = 60 / RESYNC as usize + 1;
    let idle = shipped::quiet_minute(&stand.fake, &proxy, budget).await;
    println!("GCS requests: {} reads in 60 s idle (resync {RESYNC} s, budget {budget})", idle.len());

    // Images in the bucket, then Removed: emptied and deleted.
    for object_name in ["docker%2Fregistry%2Fv2%2Fblobs%2Fa", "docker%2Fregistry%2Fv2%2Frepositories%2Fb"] {
        let url = format!("{emulator}/upload/storage/v1/b/{name}/o?uploadType=media&name={object_name}");
        assert_eq!(stand::http("POST", &url, "layer").await.0, 200);
    }
    set_management_state(&stand.fake, "Removed").await;
    wait_for("the bucket to be deleted", &operator, Duration::from_secs(90), async || {
        bucket(&emulator, &name).await.is_none()
    })
    .await;
    // The fixture's credentials are in no log line and no status the operator wrote.
    shipped::assert_secrets_kept(&stand.fake, operator, &["fixture-gcp-private-key-0001", "fixture-gcp-key-id-0001"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_gcs_bucket_is_used_and_survives_removed() {
    let (Some(emulator), Some(binary)) = (stand::gcs_emulator(), shipped()) else { return };
    let proxy = stand::recorder(&emulator, None).await;
    let users = stand::unique("users-gcs");
    let (status, _) = stand::http(
        "POST",
        &format!("{emulator}/storage/v1/b?project=my-project"),
        &json!({"name": users}).to_string(),
    )
    .await;
    assert_eq!(status, 200);
    let url = format!("{emulator}/upload/storage/v1/b/{users}/o?uploadType=media&name=data");
    assert_eq!(stand::http("POST", &url, "the user's images").await.0, 200);
    let stand = stand(Some(shipped::users_config(json!({"gcs": {"bucket": users}})))).await;
    let operator = shipped::run(&binary, &stand.kubeconfig, 600, &[("STORAGE_EMULATOR_HOST", &proxy.endpoint)]);
    shipped::users_storage_is_adopted_then_removed(&stand.fake, &operator).await;
    drop(operator);
    let (status, _) = stand::http("GET", &format!("{emulator}/storage/v1/b/{users}/o/data"), "").await;
    assert_eq!(status, 200, "the user's data is still there");
    let mutations: Vec<String> = stand::mutations(&proxy.log());
    assert_eq!(mutations, Vec::<String>::new(), "nothing was written to the user's bucket");
}

/// The cluster proxy: with `HTTP_PROXY` set (and the API server in `NO_PROXY`), every GCS call
/// goes through the proxy; the storage host does not even resolve without it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gcs_calls_go_through_the_cluster_proxy() {
    let (Some(emulator), Some(binary)) = (stand::gcs_emulator(), shipped()) else { return };
    let proxy = stand::recorder(&emulator, None).await;
    let stand = stand(None).await;
    let env = [
        ("STORAGE_EMULATOR_HOST", "http://gcs.only-through-the-proxy.invalid"),
        ("HTTP_PROXY", proxy.endpoint.as_str()),
        ("NO_PROXY", "127.0.0.1,localhost"),
    ];
    let operator = shipped::run(&binary, &stand.kubeconfig, 600, &env);
    wait_for("the registry to be available", &operator, Duration::from_secs(120), async || available(&stand.fake))
        .await;
    let log = proxy.log();
    assert!(log.iter().any(|l| l.method == "POST"), "the bucket was created through the proxy: {log:?}");
    assert!(bucket(&emulator, &bucket_of(&stand.fake)).await.is_some());
    drop(operator);
}
