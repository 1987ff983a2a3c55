//! The shipped GCS client against gcp-storage-emulator (the JSON API): buckets observed
//! absent, created with the operator's labels, labelled without touching others' labels,
//! emptied and deleted only when they carry this cluster's label, reads reused within the
//! resync period; keyfiles the operator cannot use are named errors, never guesses.

use crate::stand;

use image_registry_core::storage::gcs;
use std::time::Duration;

use image_registry_core::api::openshift::KeyValue;
use image_registry_core::observed::{BucketState, Observed};
use image_registry_core::outcome::ErrorClass;
use image_registry_operator::cloud::calls::{CallCounter, CallLabels};
use image_registry_operator::cloud::gcs::{Endpoint, GcsCloud};
use serde_json::{Value, json};

const INFRA: &str = "mycluster-g4k9q";

fn b64(s: &str) -> Value {
    serde_json::to_value(k8s_openapi::ByteString(s.as_bytes().to_vec())).unwrap()
}

/// A GCP cluster whose Config names `bucket`, with installer credentials `keyfile`.
fn cluster(bucket: &str, keyfile: &str) -> Observed {
    let mut observed = Observed::new(jiff::Timestamp::UNIX_EPOCH, "seed".to_owned());
    let objects = [
        json!({"apiVersion": "imageregistry.operator.openshift.io/v1", "kind": "Config", "metadata": {"name": "cluster"},
            "spec": {"managementState": "Managed", "replicas": 1, "storage": {"managementState": "Managed",
                "gcs": {"bucket": bucket, "region": "us-east1", "projectID": "stand-project"}}}}),
        json!({"apiVersion": "config.openshift.io/v1", "kind": "Infrastructure", "metadata": {"name": "cluster"},
            "status": {"infrastructureName": INFRA, "platformStatus": {"type": "GCP",
                "gcp": {"region": "us-east1", "projectID": "stand-project"}}}}),
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "installer-cloud-credentials", "namespace": "openshift-image-registry"},
            "data": {"service_account.json": b64(keyfile)}}),
    ];
    for object in objects {
        observed.objects.insert(object).unwrap();
    }
    observed.operator.release_version = "4.20.0".into();
    observed
}

/// What the core asks of GCS for `observed`, for exactly `buckets`.
fn asked(observed: &Observed, buckets: &[String]) -> image_registry_core::storage::gcs::read::Reads {
    let mut reads = image_registry_core::reads(observed).gcs.expect("the Config names a bucket");
    reads.buckets = buckets.to_vec();
    reads
}

const KEYFILE: &str = r#"{"type": "service_account", "project_id": "stand-project", "client_email": "registry@stand-project.iam.gserviceaccount.com"}"#;

fn owned() -> KeyValue {
    KeyValue { key: format!("kubernetes-io-cluster-{INFRA}"), value: "owned".into() }
}

fn create(bucket: &str) -> gcs::call::Call {
    gcs::call::Call::CreateBucket {
        bucket: bucket.into(),
        project: "stand-project".into(),
        location: "us-east1".into(),
        labels: vec![owned()],
        kms_key: String::new(),
    }
}

fn counted(calls: &CallCounter, call: &str) -> u64 {
    calls.family().get_or_create(&CallLabels { service: "gcs".into(), call: call.into(), outcome: "ok".into() }).get()
}

fn assert_permitted(calls: &CallCounter) -> usize {
    stand::assert_permitted(calls, image_registry_operator::cloud::gcs::permissions::CALLS)
}

async fn upload(endpoint: &str, bucket: &str, name: &str) {
    let url = format!("{endpoint}/upload/storage/v1/b/{bucket}/o?uploadType=media&name={}", name.replace('/', "%2F"));
    assert_eq!(stand::http("POST", &url, "layer").await.0, 200, "upload {name}");
}

#[tokio::test]
async fn a_bucket_is_observed_absent_created_with_its_labels_and_then_read_once_per_resync() {
    let Some(endpoint) = stand::gcs_emulator() else { return };
    let calls = CallCounter::default();
    let gcs = GcsCloud::new(Endpoint::Emulator(endpoint), Duration::from_secs(600), calls.clone());
    let bucket = stand::unique("gcs-create");
    let observed = cluster(&bucket, KEYFILE);
    let facts = gcs.observe(&asked(&observed, std::slice::from_ref(&bucket)), "4.20.0").await;
    assert_eq!(facts[&bucket].state, BucketState::Missing);

    gcs.execute(&create(&bucket)).await.unwrap();
    let facts = gcs.observe(&asked(&observed, std::slice::from_ref(&bucket)), "4.20.0").await;
    assert_eq!(facts[&bucket].state, BucketState::Exists, "{:?}", facts[&bucket]);
    assert_eq!(facts[&bucket].labels.get(&owned().key), Some(&"owned".to_owned()));
    let reads = counted(&calls, "buckets.get");
    for _ in 0..3 {
        gcs.observe(&asked(&observed, std::slice::from_ref(&bucket)), "4.20.0").await;
    }
    assert_eq!(counted(&calls, "buckets.get"), reads, "reads within the resync period are reused");
}

#[tokio::test]
async fn only_a_bucket_with_this_clusters_label_is_emptied_and_deleted() {
    let Some(endpoint) = stand::gcs_emulator() else { return };
    let calls = CallCounter::default();
    let gcs = GcsCloud::new(Endpoint::Emulator(endpoint.clone()), Duration::from_secs(600), calls.clone());
    let mine = stand::unique("gcs-mine");
    let theirs = stand::unique("gcs-theirs");
    let observed = cluster(&mine, KEYFILE);
    gcs.observe(&asked(&observed, &[mine.clone(), theirs.clone()]), "4.20.0").await;
    gcs.execute(&create(&mine)).await.unwrap();
    let (status, _) = stand::http(
        "POST",
        &format!("{endpoint}/storage/v1/b?project=stand-project"),
        &json!({"name": theirs}).to_string(),
    )
    .await;
    assert_eq!(status, 200);
    for bucket in [&mine, &theirs] {
        for name in ["docker/registry/v2/blobs/sha256/aa/data", "docker/registry/v2/repositories/x/_layers/link", "top"]
        {
            upload(&endpoint, bucket, name).await;
        }
    }

    let refused = gcs.execute(&gcs::call::Call::DeleteBucket { bucket: theirs.clone(), require_label: owned() }).await;
    let image_registry_operator::cloud::CloudError { class, message, .. } = refused.unwrap_err();
    assert_eq!(class, ErrorClass::Forbidden);
    assert!(message.contains(&theirs) && message.contains("not deleting"), "{message}");
    let (status, listing) = stand::http("GET", &format!("{endpoint}/storage/v1/b/{theirs}/o"), "").await;
    assert_eq!(status, 200);
    assert_eq!(
        serde_json::from_str::<Value>(&listing).unwrap()["items"].as_array().unwrap().len(),
        3,
        "nothing of theirs is touched"
    );

    gcs.execute(&gcs::call::Call::DeleteBucket { bucket: mine.clone(), require_label: owned() }).await.unwrap();
    assert_eq!(stand::http("GET", &format!("{endpoint}/storage/v1/b/{mine}"), "").await.0, 404);
    let facts = gcs.observe(&asked(&observed, std::slice::from_ref(&mine)), "4.20.0").await;
    assert_eq!(facts[&mine].state, BucketState::Missing, "the operator's own call drops the cached read");
    // Deleting again is done, not an error: an interrupted removal resumes.
    gcs.execute(&gcs::call::Call::DeleteBucket { bucket: mine, require_label: owned() }).await.unwrap();
    assert_eq!(assert_permitted(&calls), 6, "every call of the client was made here");
}

#[tokio::test]
async fn keyfiles_the_operator_cannot_use_are_named_and_nothing_is_called() {
    // Google's endpoint: the credentials are built, so a keyfile that cannot be used fails here,
    // before any request leaves the process.
    let calls = CallCounter::default();
    let gcs = GcsCloud::new(Endpoint::Google, Duration::from_secs(600), calls.clone());
    for (keyfile, expected) in
        [(r#"{"type": "authorized_user"}"#, "\"authorized_user\" is not supported"), ("{not json", "not valid JSON")]
    {
        let observed = cluster("gcs-unusable", keyfile);
        let facts = gcs.observe(&asked(&observed, &["gcs-unusable".to_owned()]), "4.20.0").await;
        let seen = &facts["gcs-unusable"];
        assert_eq!(seen.state, BucketState::Unknown);
        assert!(seen.message.contains(expected), "{}", seen.message);
        assert!(!seen.message.contains("not json"), "the keyfile's content never reaches a message: {}", seen.message);
    }
    assert_eq!(counted(&calls, "buckets.get"), 0);
}

/// The Resource Manager double's own rules: one tag per page, 409 on a second binding, an
/// operation done on its first poll, 429 when throttling.
#[test]
fn the_resource_manager_double_pages_conflicts_and_finishes_operations() {
    use stand::resource_manager_double::{Model, handle};
    let mut model = Model::default();
    let parent = "//storage.googleapis.com/projects/_/buckets/b";
    let bind = |model: &mut Model, value: &str| {
        handle(model, "POST", "/v3/tagBindings", &json!({"parent": parent, "tagValueNamespacedName": value})).status()
    };
    assert_eq!(bind(&mut model, "p/k/v1"), 200);
    assert_eq!(bind(&mut model, "p/k/v1"), 409);
    assert_eq!(bind(&mut model, "p/k/v2"), 200);
    assert_eq!(model.pending.len(), 2);
    let name = model.pending.iter().next().unwrap().clone();
    assert_eq!(handle(&mut model, "GET", &format!("/v3/{name}"), &Value::Null).status(), 200);
    assert_eq!(model.pending.len(), 1);
    let encoded = percent_encoding::utf8_percent_encode(parent, percent_encoding::NON_ALPHANUMERIC).to_string();
    let page = |model: &mut Model, token: &str| {
        let target = format!("/v3/effectiveTags?parent={encoded}{token}");
        let answer = handle(model, "GET", &target, &Value::Null);
        assert_eq!(answer.status(), 200);
    };
    page(&mut model, "");
    page(&mut model, "&pageToken=1");
    model.throttle = true;
    assert_eq!(bind(&mut model, "p/k/v3"), 429);
}

/// A cluster with resource tags: the bucket's effective tags are listed (every page) with it;
/// missing ones are bound through the long-running operation, a bound one is done (409), a
/// throttled create is a transient error; a cluster without tags never calls the Resource Manager.
#[tokio::test]
async fn resource_tags_are_listed_only_when_asked_and_missing_ones_are_bound() {
    let Some(endpoint) = stand::gcs_emulator() else { return };
    let double = stand::resource_manager_double::start().await;
    let calls = CallCounter::default();
    let gcs = GcsCloud::new(Endpoint::Emulator(endpoint.clone()), Duration::from_secs(600), calls.clone())
        .with_tags_endpoint(&double.endpoint);
    let bucket = stand::unique("gcs-tags");
    let parent = format!("//storage.googleapis.com/projects/_/buckets/{bucket}");

    // No tags asked for: the Resource Manager is never called.
    let plain = cluster(&bucket, KEYFILE);
    gcs.observe(&asked(&plain, std::slice::from_ref(&bucket)), "4.20.0").await;
    gcs.execute(&create(&bucket)).await.unwrap();
    gcs.observe(&asked(&plain, std::slice::from_ref(&bucket)), "4.20.0").await;
    assert_eq!(double.model.lock().unwrap().log, Vec::<String>::new());

    let mut tagged = cluster(&bucket, KEYFILE);
    tagged
        .objects
        .insert(
            json!({"apiVersion": "config.openshift.io/v1", "kind": "Infrastructure", "metadata": {"name": "cluster"},
            "status": {"infrastructureName": INFRA, "platformStatus": {"type": "GCP", "gcp": {"region": "us-east1",
                "projectID": "stand-project", "resourceTags": [
                    {"parentID": "org1", "key": "env", "value": "prod"},
                    {"parentID": "org1", "key": "team", "value": "registry"}]}}}}),
        )
        .unwrap();
    double.model.lock().unwrap().bindings.entry(parent.clone()).or_default().insert("org1/team/registry".into());
    // The cached read has no tags in it: asking for tags reads the bucket again.
    let facts = gcs.observe(&asked(&tagged, std::slice::from_ref(&bucket)), "4.20.0").await;
    assert_eq!(facts[&bucket].tags, vec!["org1/team/registry".to_owned()]);

    let bind = gcs::call::Call::BindTags {
        bucket: bucket.clone(),
        tags: vec!["org1/env/prod".into(), "org1/team/registry".into()],
    };
    gcs.execute(&bind).await.unwrap();
    {
        let model = double.model.lock().unwrap();
        assert!(model.pending.is_empty(), "every operation was followed to its end");
        assert_eq!(model.bindings[&parent].len(), 2);
    }
    let facts = gcs.observe(&asked(&tagged, std::slice::from_ref(&bucket)), "4.20.0").await;
    assert_eq!(facts[&bucket].tags, vec!["org1/env/prod".to_owned(), "org1/team/registry".to_owned()], "two pages");
    assert!(double.model.lock().unwrap().log.iter().any(|l| l.contains("pageToken=1")), "the second page was read");

    double.model.lock().unwrap().throttle = true;
    let throttled = gcs::call::Call::BindTags { bucket: bucket.clone(), tags: vec!["org1/env/staging".into()] };
    let image_registry_operator::cloud::CloudError { class, message, .. } = gcs.execute(&throttled).await.unwrap_err();
    assert!(class.is_transient(), "{class:?}: {message}");
    assert!(message.contains("tagBindings.create"), "{message}");
    assert!(assert_permitted(&calls) >= 6);
}
