//! End to end with the operator binary as shipped (default features: the AWS SDK, no test
//! doubles; `scripts/test` builds it apart and names it in `SHIPPED_OPERATOR`) against the fake
//! API server over HTTP and moto behind a recording proxy: a fresh bucket created and
//! configured, Available, then a quiet minute (no cloud mutation, reads within the resync
//! budget, no API writes), then Removed empties and deletes it; a user's bucket survives
//! Removed and the Config's deletion; an S3 outage is reported, then one bucket is created when
//! S3 comes back; the live dry-run only reads.

use crate::cluster;
use crate::shipped;
use crate::stand;

use std::path::Path;
use std::time::Duration;

use cluster::{dynamic, object, set_management_state};
use fake_apiserver::FakeApiServer;
use kube::api::DeleteParams;
use serde_json::{Value, json};
use shipped::{Operator, Stand, available, command, condition, shipped, wait_for};

/// A fresh AWS cluster whose Config the user made with `s3` (pointing at the test's endpoint).
async fn stand(s3: Value) -> Stand {
    shipped::stand("aws-fresh.yaml", "e2e", Some(shipped::users_config(json!({ "s3": s3 })))).await
}

fn run(binary: &Path, stand: &Stand, resync: u64) -> Operator {
    shipped::run(binary, &stand.kubeconfig, resync, &[])
}

fn run_with(binary: &Path, stand: &Stand, resync: u64, env: &[(&str, &str)]) -> Operator {
    shipped::run(binary, &stand.kubeconfig, resync, env)
}

fn bucket_of(fake: &FakeApiServer) -> String {
    object(fake, "Config", "cluster").unwrap()["spec"]["storage"]["s3"]["bucket"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn exists(s3: &aws_sdk_s3::Client, bucket: &str) -> bool {
    s3.head_bucket().bucket(bucket).send().await.is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_bucket_is_created_configured_left_alone_then_removed() {
    let (Some(moto), Some(binary)) = (stand::moto(), shipped()) else { return };
    let proxy = stand::recorder(&moto, None).await;
    let stand = stand(json!({"region": "us-east-1", "regionEndpoint": proxy.endpoint})).await;
    const RESYNC: u64 = 15;
    let operator = run(&binary, &stand, RESYNC);
    wait_for("the registry to be available", &operator, Duration::from_secs(120), async || available(&stand.fake))
        .await;
    let bucket = bucket_of(&stand.fake);
    assert_eq!(bucket, format!("{}-image-registry-us-east-1", stand.infra));
    let s3 = stand::s3(&moto, "us-east-1");
    let ours: Vec<String> = s3
        .list_buckets()
        .send()
        .await
        .unwrap()
        .buckets()
        .iter()
        .filter_map(|b| b.name().filter(|n| n.starts_with(&stand.infra)).map(str::to_owned))
        .collect();
    assert_eq!(ours, std::slice::from_ref(&bucket), "exactly one bucket");
    let tags = s3.get_bucket_tagging().bucket(&bucket).send().await.unwrap();
    let tags: Vec<(String, String)> =
        tags.tag_set().iter().map(|t| (t.key().to_owned(), t.value().to_owned())).collect();
    assert!(tags.contains(&(format!("kubernetes.io/cluster/{}", stand.infra), "owned".into())), "{tags:?}");
    assert!(tags.contains(&("Name".into(), format!("{}-image-registry", stand.infra))), "{tags:?}");
    let block = s3.get_public_access_block().bucket(&bucket).send().await.unwrap();
    assert_eq!(block.public_access_block_configuration().and_then(|c| c.restrict_public_buckets()), Some(true));
    let encryption = s3.get_bucket_encryption().bucket(&bucket).send().await.unwrap();
    let rule = encryption.server_side_encryption_configuration().unwrap().rules().first().unwrap().clone();
    assert_eq!(rule.apply_server_side_encryption_by_default().unwrap().sse_algorithm().as_str(), "AES256");
    let lifecycle = s3.get_bucket_lifecycle_configuration().bucket(&bucket).send().await.unwrap();
    assert_eq!(lifecycle.rules().first().and_then(|r| r.id()), Some("cleanup-incomplete-multipart-registry-uploads"));
    for type_ in [
        "StorageExists",
        "StoragePublicAccessBlocked",
        "StorageTagged",
        "StorageEncrypted",
        "StorageIncompleteUploadCleanupEnabled",
    ] {
        let c = condition(&stand.fake, "Config", type_).unwrap_or_else(|| panic!("{type_} is reported"));
        assert_eq!(c["status"], "True", "{c}");
    }
    let until_available = proxy.log();
    // A quiet minute: no cloud mutation, reads at most once per resync period, no API writes.
    let budget = 5 * (60 / RESYNC as usize + 1);
    let idle = shipped::quiet_minute(&stand.fake, &proxy, budget).await;
    println!(
        "S3 requests: {} until Available ({} mutating); {} reads in 60 s idle (resync {RESYNC} s, budget {budget})",
        until_available.len(),
        until_available.iter().filter(|l| l.mutates()).count(),
        idle.len()
    );
    // Something in the bucket, then Removed: emptied and deleted.
    s3.put_object()
        .bucket(&bucket)
        .key("docker/registry/v2/blobs/x")
        .body(b"layer".to_vec().into())
        .send()
        .await
        .unwrap();
    set_management_state(&stand.fake, "Removed").await;
    wait_for("the bucket to be deleted", &operator, Duration::from_secs(90), async || !exists(&s3, &bucket).await)
        .await;
    // The fixture's credentials are in no log line and no status the operator wrote.
    shipped::assert_secrets_kept(
        &stand.fake,
        operator,
        &["fixture-aws-secret-access-key-0001", "AKIAFIXTUREKEYID0001"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_bucket_survives_removed_and_the_configs_deletion() {
    let (Some(moto), Some(binary)) = (stand::moto(), shipped()) else { return };
    let proxy = stand::recorder(&moto, None).await;
    let s3 = stand::s3(&moto, "us-east-1");
    let bucket = stand::unique("users-bucket");
    s3.create_bucket().bucket(&bucket).send().await.unwrap();
    s3.put_object().bucket(&bucket).key("data").body(b"the user's images".to_vec().into()).send().await.unwrap();
    let stand = stand(json!({"bucket": bucket, "region": "us-east-1", "regionEndpoint": proxy.endpoint})).await;
    let operator = run(&binary, &stand, 600);
    shipped::users_storage_is_adopted_then_removed(&stand.fake, &operator).await;
    let configs = dynamic(&stand.fake, "imageregistry.operator.openshift.io", "Config", "configs", None);
    let uid = object(&stand.fake, "Config", "cluster").unwrap()["metadata"]["uid"].clone();
    configs.delete("cluster", &DeleteParams::default()).await.unwrap();
    // The finalizer goes once the removal is done; the operator then bootstraps a new Config.
    wait_for("the Config to be deleted", &operator, Duration::from_secs(60), async || {
        object(&stand.fake, "Config", "cluster").is_none_or(|c| c["metadata"]["uid"] != uid)
    })
    .await;
    s3.head_object().bucket(&bucket).key("data").send().await.expect("the user's data is still there");
    let mutations: Vec<String> = stand::mutations(&proxy.log());
    assert_eq!(mutations, Vec::<String>::new(), "nothing was written to the user's bucket");
    drop(operator);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_s3_outage_is_reported_then_one_bucket_is_created_when_s3_is_back() {
    let (Some(_), Some(binary)) = (stand::moto(), shipped()) else { return };
    let port = stand::free_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let stand = stand(json!({"region": "us-east-1", "regionEndpoint": endpoint})).await;
    let operator = run(&binary, &stand, 600);
    wait_for("the outage in the Config's conditions", &operator, Duration::from_secs(60), async || {
        condition(&stand.fake, "Config", "StorageExists").is_some_and(|c| {
            c["status"] == "Unknown" && c["message"].as_str().unwrap_or_default().contains("HeadBucket")
        })
    })
    .await;
    let progressing = condition(&stand.fake, "ClusterOperator", "Available").unwrap();
    assert_ne!(progressing["status"], "True", "not Available without its storage: {progressing}");
    let moto = stand::OwnMoto::start(port, &[]).await;
    wait_for("the registry to be available", &operator, Duration::from_secs(120), async || available(&stand.fake))
        .await;
    let buckets = stand::s3(&endpoint, "us-east-1").list_buckets().send().await.unwrap();
    assert_eq!(buckets.buckets().len(), 1, "{buckets:?}");
    drop(operator);
    drop(moto);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_dry_run_reads_s3_and_changes_nothing() {
    let (Some(moto), Some(binary)) = (stand::moto(), shipped()) else { return };
    let proxy = stand::recorder(&moto, None).await;
    let stand =
        stand(json!({"region": "us-east-1", "regionEndpoint": proxy.endpoint, "bucket": stand::unique("dry-run")}))
            .await;
    let kubeconfig = stand.kubeconfig.clone();
    let setup = stand.fake.requests().len();
    let output = tokio::task::spawn_blocking(move || {
        command(&binary).args(["plan", "--kubeconfig"]).arg(&kubeconfig).output().unwrap()
    })
    .await
    .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(2), "changes pending: {text}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(text.contains("create S3 bucket"), "{text}");
    let log = proxy.log();
    assert!(log.iter().any(|l| l.method == "HEAD"), "the dry-run observed S3: {log:?}");
    assert!(log.iter().all(|l| !l.mutates()), "{log:?}");
    let writes: Vec<String> =
        stand.fake.requests()[setup..].iter().filter(|e| e.write).map(|e| format!("{} {}", e.verb, e.path)).collect();
    assert_eq!(writes, Vec::<String>::new(), "the dry-run wrote to the API server");
}

/// The cluster proxy: with `HTTP_PROXY` set (and the API server in `NO_PROXY`), every S3 call
/// goes through the proxy; the endpoint's host does not even resolve without it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cloud_calls_go_through_the_cluster_proxy() {
    let (Some(moto), Some(binary)) = (stand::moto(), shipped()) else { return };
    let proxy = stand::recorder(&moto, None).await;
    let stand =
        stand(json!({"region": "us-east-1", "regionEndpoint": "http://s3.only-through-the-proxy.invalid"})).await;
    let env = [("HTTP_PROXY", proxy.endpoint.as_str()), ("NO_PROXY", "127.0.0.1,localhost")];
    let operator = run_with(&binary, &stand, 600, &env);
    wait_for("the registry to be available", &operator, Duration::from_secs(120), async || available(&stand.fake))
        .await;
    let log = proxy.log();
    assert!(log.iter().any(|l| l.method == "PUT"), "the bucket was created through the proxy: {log:?}");
    assert!(exists(&stand::s3(&moto, "us-east-1"), &bucket_of(&stand.fake)).await);
    drop(operator);
}
