//! The shipped Swift client against a one-node OpenStack Swift (the proxy `scripts/test`
//! starts) and the project's Keystone double: the availability probe's three answers, every
//! credential kind and both identity versions, containers created with the cluster's metadata
//! and read once per resync, emptied page by page and deleted only when their metadata names
//! this cluster; Keystone behind TLS trusted through the cluster's CA bundle only.

use crate::stand;

use image_registry_core::storage::swift;
use std::time::Duration;

use image_registry_core::api::openshift::KeyValue;
use image_registry_core::observed::{BucketState, Observed};
use image_registry_core::outcome::ErrorClass;
use image_registry_core::storage::swift::facts::SwiftProbe;
use image_registry_core::storage::swift::read::Login;
use image_registry_operator::cloud::calls::{CallCounter, CallLabels};
use image_registry_operator::cloud::swift::SwiftCloud;
use serde_json::{Value, json};
use stand::keystone_double::{self as keystone, Keystone};

const INFRA: &str = "mycluster-s8w1f";

fn b64(s: &str) -> Value {
    serde_json::to_value(k8s_openapi::ByteString(s.as_bytes().to_vec())).unwrap()
}

/// An OpenStack cluster whose Config (when `container` is given) names that container, with
/// the installer's credentials secret holding `data` (`clouds.yaml`, `cacert`).
fn cluster(container: Option<&str>, data: Value, user: Option<Value>) -> Observed {
    let mut observed = Observed::new(jiff::Timestamp::UNIX_EPOCH, "seed".to_owned());
    let mut objects = vec![
        json!({"apiVersion": "config.openshift.io/v1", "kind": "Infrastructure", "metadata": {"name": "cluster"},
            "status": {"infrastructureName": INFRA, "platformStatus": {"type": "OpenStack", "openstack": {"cloudName": "openstack"}}}}),
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "installer-cloud-credentials", "namespace": "openshift-image-registry"},
            "data": data}),
    ];
    if let Some(container) = container {
        objects.push(json!({"apiVersion": "imageregistry.operator.openshift.io/v1", "kind": "Config", "metadata": {"name": "cluster"},
            "spec": {"managementState": "Managed", "replicas": 1, "storage": {"managementState": "Managed",
                "swift": {"container": container}}}}));
    }
    if let Some(user) = user {
        objects.push(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "image-registry-private-configuration-user",
            "namespace": "openshift-image-registry"}, "data": user}));
    }
    for object in objects {
        observed.objects.insert(object).unwrap();
    }
    observed.operator.release_version = "4.20.0".into();
    observed
}

/// Who the core says the probe logs in as (the cluster has no Config storage).
fn probe(observed: &Observed) -> Result<Login, String> {
    image_registry_core::reads(observed).swift.and_then(|s| s.probe).expect("the bootstrap probes")
}

/// Who the core says reads the Config's containers.
fn login(observed: &Observed) -> Result<Login, String> {
    image_registry_core::reads(observed).swift.expect("the Config names a container").login
}

fn clouds(keystone: &Keystone) -> Value {
    json!({"clouds.yaml": b64(&keystone::clouds_yaml(&format!("{}/v3", keystone.endpoint)))})
}

fn counted(calls: &CallCounter, call: &str) -> u64 {
    calls.family().get_or_create(&CallLabels { service: "swift".into(), call: call.into(), outcome: "ok".into() }).get()
}

async fn container(swift: &str, name: &str) -> (u16, String) {
    stand::http("GET", &format!("{swift}/v1/AUTH_{}/{name}?format=json", keystone::PROJECT_ID), "").await
}

const RESYNC: Duration = Duration::from_secs(600);

#[tokio::test]
async fn the_probe_says_usable_not_usable_or_fails_and_never_guesses() {
    let Some(swift) = keystone::swift() else { return };
    let with_swift = keystone::start(Some(&swift)).await;
    let calls = CallCounter::default();
    let cloud = SwiftCloud::new(RESYNC, calls.clone());
    let observed = cluster(None, clouds(&with_swift), None);
    assert_eq!(cloud.probe(&probe(&observed), "4.20.0").await, SwiftProbe::Usable);
    assert_eq!(cloud.probe(&probe(&observed), "4.20.0").await, SwiftProbe::Usable);
    assert_eq!((counted(&calls, "IssueToken"), counted(&calls, "ListContainers")), (1, 1), "probed once per resync");

    let without = keystone::start(None).await;
    let cloud = SwiftCloud::new(RESYNC, CallCounter::default());
    match cloud.probe(&probe(&cluster(None, clouds(&without), None)), "4.20.0").await {
        SwiftProbe::NotUsable { reason } => {
            assert!(reason.starts_with("container endpoint not found in the OpenStack catalog"), "{reason}")
        }
        other => panic!("no object store in the catalog: {other:?}"),
    }

    let down = format!("http://127.0.0.1:{}", stand::free_port());
    let data = json!({"clouds.yaml": b64(&keystone::clouds_yaml(&format!("{down}/v3")))});
    let cloud = SwiftCloud::new(RESYNC, CallCounter::default());
    let failed = |probe: SwiftProbe| match probe {
        SwiftProbe::Failed { message } => message,
        other => panic!("a probe that cannot log in fails: {other:?}"),
    };
    let message = failed(cloud.probe(&probe(&cluster(None, data, None)), "4.20.0").await);
    assert!(message.starts_with("Keystone token: cannot connect") && message.contains("refused"), "{message}");
    assert_eq!(
        failed(cloud.probe(&probe(&cluster(None, json!({}), None)), "4.20.0").await),
        "secret \"openshift-image-registry/installer-cloud-credentials\" does not contain required key \"clouds.yaml\""
    );

    let wrong =
        keystone::clouds_yaml(&format!("{}/v3", with_swift.endpoint)).replace(keystone::PASSWORD, "not-the-password");
    let cloud = SwiftCloud::new(RESYNC, CallCounter::default());
    let message =
        failed(cloud.probe(&probe(&cluster(None, json!({"clouds.yaml": b64(&wrong)}), None)), "4.20.0").await);
    assert_eq!(message, "Keystone token: HTTP 401: The request you have made requires authentication.");
    assert!(!message.contains("not-the-password"));
}

#[tokio::test]
async fn containers_are_created_marked_read_once_per_resync_and_only_marked_ones_are_emptied() {
    let Some(swift) = keystone::swift() else { return };
    let keystone = keystone::start(Some(&swift)).await;
    let calls = CallCounter::default();
    let cloud = SwiftCloud::new(RESYNC, calls.clone());
    let name = stand::unique("registry");
    let observed = cluster(Some(&name), clouds(&keystone), None);
    let facts = cloud.observe(&login(&observed), std::slice::from_ref(&name), "4.20.0").await;
    assert_eq!(facts[&name].state, BucketState::Missing);

    let metadata = vec![
        KeyValue { key: "Openshiftclusterid".into(), value: INFRA.into() },
        KeyValue { key: "Name".into(), value: name.clone() },
    ];
    cloud.execute(&swift::call::Call::CreateContainer { container: name.clone(), metadata }).await.unwrap();
    let facts = cloud.observe(&login(&observed), std::slice::from_ref(&name), "4.20.0").await;
    assert_eq!(facts[&name].state, BucketState::Exists);
    assert_eq!(facts[&name].metadata.get("Openshiftclusterid").map(String::as_str), Some(INFRA));
    assert_eq!(facts[&name].metadata.get("Name"), Some(&name));
    let heads = counted(&calls, "HeadContainer");
    cloud.observe(&login(&observed), std::slice::from_ref(&name), "4.20.0").await;
    assert_eq!(counted(&calls, "HeadContainer"), heads, "read once per resync");
    assert_eq!(counted(&calls, "IssueToken"), 1, "one login serves every call");

    // 120 objects: three pages of 50 for the bulk delete.
    for i in 0..120 {
        let url = format!("{swift}/v1/AUTH_{}/{name}/docker/registry/v2/blobs/{i:03}", keystone::PROJECT_ID);
        assert_eq!(stand::http("PUT", &url, "layer").await.0, 201);
    }
    let delete = swift::call::Call::DeleteContainer { container: name.clone(), require_cluster_id: INFRA.into() };
    cloud.execute(&delete).await.unwrap();
    assert_eq!(container(&swift, &name).await.0, 404, "emptied and deleted");
    assert_eq!(counted(&calls, "BulkDelete"), 3);
    cloud.execute(&delete).await.expect("deleting a deleted container is done");

    // A container that does not name this cluster is never emptied.
    let users = stand::unique("users");
    let base = format!("{swift}/v1/AUTH_{}/{users}", keystone::PROJECT_ID);
    assert_eq!(stand::http("PUT", &base, "").await.0, 201);
    assert_eq!(stand::http("PUT", &format!("{base}/data"), "the user's images").await.0, 201);
    let refused = swift::call::Call::DeleteContainer { container: users.clone(), require_cluster_id: INFRA.into() };
    let image_registry_operator::cloud::CloudError { class, message, .. } = cloud.execute(&refused).await.unwrap_err();
    assert_eq!(class, ErrorClass::Forbidden);
    assert!(message.contains("does not carry the metadata Openshiftclusterid"), "{message}");
    let (status, listing) = container(&swift, &users).await;
    assert_eq!(status, 200);
    assert!(listing.contains("\"data\""), "the user's object is still there: {listing}");
}

#[tokio::test]
async fn every_credential_kind_and_both_identity_versions_log_in() {
    let Some(swift) = keystone::swift() else { return };
    let keystone = keystone::start(Some(&swift)).await;
    let v3 = format!("{}/v3", keystone.endpoint);
    let user = |pairs: &[(&str, &str)]| {
        Value::Object(pairs.iter().map(|(k, v)| (format!("REGISTRY_STORAGE_SWIFT_{k}"), b64(v))).collect())
    };
    // A token issued earlier (the token method needs one Keystone knows).
    let token = "stand-token-issued-to-the-user".to_owned();
    keystone.model.lock().unwrap().issued.push(token.clone());
    let cases: Vec<(&str, Value)> = vec![
        ("password", user(&[("USERNAME", keystone::USER), ("PASSWORD", keystone::PASSWORD)])),
        (
            "application credential",
            user(&[
                ("APPLICATIONCREDENTIALID", keystone::APP_ID),
                ("APPLICATIONCREDENTIALNAME", "registry"),
                ("APPLICATIONCREDENTIALSECRET", keystone::APP_SECRET),
            ]),
        ),
        ("token", user(&[("TOKENID", &token)])),
    ];
    for (kind, secret) in cases {
        let name = stand::unique("kinds");
        let mut observed = cluster(Some(&name), clouds(&keystone), Some(secret));
        // The user's secret gives credentials only: the Config names Keystone and the project.
        let config = json!({"apiVersion": "imageregistry.operator.openshift.io/v1", "kind": "Config", "metadata": {"name": "cluster"},
            "spec": {"managementState": "Managed", "replicas": 1, "storage": {"swift": {"container": name,
                "authURL": v3, "tenant": keystone::PROJECT, "domain": keystone::DOMAIN, "regionName": "RegionOne"}}}});
        observed.objects.insert(config).unwrap();
        let cloud = SwiftCloud::new(RESYNC, CallCounter::default());
        let facts = cloud.observe(&login(&observed), std::slice::from_ref(&name), "4.20.0").await;
        assert_eq!(facts[&name].state, BucketState::Missing, "{kind}: {}", facts[&name].message);
    }
    // Identity v2.0, chosen by the auth URL's version, or by `identity_api_version: 2` on an
    // auth URL without one (normalised to `/v2`, where Keystone does not answer: its v2 API is
    // `/v2.0`, the only v2 path the double serves).
    for (auth_url, version) in [
        (format!("{}/v2.0", keystone.endpoint), "2"),
        (keystone.endpoint.clone(), "2"),
        (format!("{}/v2", keystone.endpoint), "2"),
        (keystone.endpoint.clone(), "2.0"),
    ] {
        let v2 = keystone::clouds_yaml(&auth_url)
            .replace("identity_api_version: 3", &format!("identity_api_version: {version}"));
        let name = stand::unique("v2");
        let cloud = SwiftCloud::new(RESYNC, CallCounter::default());
        let before = keystone.model.lock().unwrap().log.len();
        let facts = cloud
            .observe(
                &login(&cluster(Some(&name), json!({"clouds.yaml": b64(&v2)}), None)),
                std::slice::from_ref(&name),
                "4.20.0",
            )
            .await;
        assert_eq!(facts[&name].state, BucketState::Missing, "{auth_url} v{version}: {}", facts[&name].message);
        let log = keystone.model.lock().unwrap().log[before..].to_vec();
        assert_eq!(log.first().map(String::as_str), Some("POST /v2.0/tokens"), "{auth_url} v{version}: {log:?}");
    }
    // And v3 without a version in the URL logs in at /v3/auth/tokens.
    let name = stand::unique("v3");
    let cloud = SwiftCloud::new(RESYNC, CallCounter::default());
    let before = keystone.model.lock().unwrap().log.len();
    let yaml = keystone::clouds_yaml(&keystone.endpoint);
    let observed = cluster(Some(&name), json!({"clouds.yaml": b64(&yaml)}), None);
    let facts = cloud.observe(&login(&observed), std::slice::from_ref(&name), "4.20.0").await;
    assert_eq!(facts[&name].state, BucketState::Missing, "v3: {}", facts[&name].message);
    let log = keystone.model.lock().unwrap().log[before..].to_vec();
    assert_eq!(log.first().map(String::as_str), Some("POST /v3/auth/tokens"), "{log:?}");
}

#[tokio::test]
async fn keystone_over_tls_is_trusted_through_the_clusters_ca_bundle_only() {
    let Some(swift) = keystone::swift() else { return };
    let keystone = keystone::start(Some(&swift)).await;
    let (ca, tls) = stand::tls_for_localhost();
    let front = stand::recorder(&keystone.endpoint, Some(tls)).await;
    let yaml = keystone::clouds_yaml(&format!("{}/v3", front.endpoint));
    let cloud = SwiftCloud::new(RESYNC, CallCounter::default());
    let untrusted = cloud.probe(&probe(&cluster(None, json!({"clouds.yaml": b64(&yaml)}), None)), "4.20.0").await;
    let SwiftProbe::Failed { message } = &untrusted else {
        panic!("an untrusted Keystone is a failure: {untrusted:?}")
    };
    assert!(message.starts_with("Keystone token: cannot connect") && message.contains("UnknownIssuer"), "{message}");
    let trusted = cluster(None, json!({"clouds.yaml": b64(&yaml), "cacert": b64(&ca)}), None);
    assert_eq!(cloud.probe(&probe(&trusted), "4.20.0").await, SwiftProbe::Usable);
}

/// The double's own test: each method issues a token with the catalog; wrong secrets, wrong
/// scope and unknown tokens answer 401; v2.0 works; a catalog can lack the object store.
#[tokio::test]
async fn the_keystone_double_answers_as_keystone_does() {
    use http_body_util::BodyExt;
    use keystone::{APP_ID, APP_SECRET, DOMAIN, Model, PASSWORD, PROJECT, PROJECT_ID, USER, handle};
    let mut model = Model { swift: Some("http://swift".into()), ..Model::default() };
    let post = |model: &mut Model, path: &str, body: Value| {
        let response = handle(model, "http://k", "POST", path, &body);
        let status = response.status().as_u16();
        let token = response.headers().get("x-subject-token").map(|t| t.to_str().unwrap().to_owned());
        (status, token)
    };
    let password = |pw: &str| {
        json!({"auth": {"identity": {"methods": ["password"], "password": {"user":
            {"name": USER, "password": pw, "domain": {"name": DOMAIN}}}},
            "scope": {"project": {"name": PROJECT, "domain": {"name": DOMAIN}}}}})
    };
    let (status, token) = post(&mut model, "/v3/auth/tokens", password(PASSWORD));
    assert_eq!(status, 201);
    let token = token.unwrap();
    assert_eq!(post(&mut model, "/v3/auth/tokens", password("wrong")).0, 401);
    let scoped_elsewhere =
        json!({"auth": {"identity": password(PASSWORD)["auth"]["identity"], "scope": {"project": {"id": "other"}}}});
    assert_eq!(post(&mut model, "/v3/auth/tokens", scoped_elsewhere).0, 401);
    let by_token = json!({"auth": {"identity": {"methods": ["token"], "token": {"id": token}}, "scope": {"project": {"id": PROJECT_ID}}}});
    assert_eq!(post(&mut model, "/v3/auth/tokens", by_token).0, 201);
    let unknown = json!({"auth": {"identity": {"methods": ["token"], "token": {"id": "forged"}}, "scope": {"project": {"id": PROJECT_ID}}}});
    assert_eq!(post(&mut model, "/v3/auth/tokens", unknown).0, 401);
    let app = json!({"auth": {"identity": {"methods": ["application_credential"], "application_credential": {"id": APP_ID, "secret": APP_SECRET}}}});
    assert_eq!(post(&mut model, "/v3/auth/tokens", app).0, 201);
    let v2 = json!({"auth": {"passwordCredentials": {"username": USER, "password": PASSWORD}, "tenantName": PROJECT}});
    let response = handle(&mut model, "http://k", "POST", "/v2.0/tokens", &v2);
    assert_eq!(response.status(), 200);
    let body: Value = serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(
        body["access"]["serviceCatalog"][0]["endpoints"][0]["publicURL"],
        format!("http://swift/v1/AUTH_{PROJECT_ID}")
    );
    let response = handle(&mut model, "http://k", "POST", "/v3/auth/tokens", &password(PASSWORD));
    let body: Value = serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    let store = body["token"]["catalog"].as_array().unwrap().iter().find(|s| s["type"] == "object-store").unwrap();
    assert_eq!(store["endpoints"][1]["url"], format!("http://swift/v1/AUTH_{PROJECT_ID}"));
    model.swift = None;
    let response = handle(&mut model, "http://k", "POST", "/v3/auth/tokens", &password(PASSWORD));
    let body: Value = serde_json::from_slice(&response.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert!(body["token"]["catalog"].as_array().unwrap().iter().all(|s| s["type"] != "object-store"));
    assert!(model.log.iter().all(|l| !l.contains(PASSWORD)), "nothing secret is logged");
}
