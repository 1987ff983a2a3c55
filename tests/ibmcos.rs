//! IBM COS's client: the IBM Cloud double's own test (tokens, groups, instances that provision
//! then become active, keys with and without HMAC, paging, 401/404/409/429), and the shipped
//! client against the double and moto: an instance, a key and a bucket found by name or CRN,
//! created, read once per resync, and the bucket emptied and deleted.

use crate::stand;

use std::time::Duration;

use image_registry_core::observed::{BucketState, Observed};
use image_registry_core::storage::ibmcos::call::{Call, CosTarget};
use image_registry_core::storage::ibmcos::facts::Facts;
use image_registry_operator::cloud::calls::CallCounter;
use image_registry_operator::cloud::ibmcos::IbmCosCloud;
use serde_json::{Value, json};
use stand::ibm_double::{self as ibm, API_KEY, GROUP, GROUP_ID};

const INFRA: &str = "mycluster-x7k2p";

fn b64(s: &str) -> Value {
    serde_json::to_value(k8s_openapi::ByteString(s.as_bytes().to_vec())).unwrap()
}

/// The status and JSON body of one of the double's answers (ready at once).
fn body(response: http::Response<http_body_util::Full<bytes::Bytes>>) -> (u16, Value) {
    let status = response.status().as_u16();
    let mut full = std::pin::pin!(response.into_body());
    let waker = std::task::Waker::noop();
    let mut context = std::task::Context::from_waker(waker);
    let mut bytes = Vec::new();
    while let std::task::Poll::Ready(Some(Ok(frame))) = hyper::body::Body::poll_frame(full.as_mut(), &mut context) {
        if let Ok(data) = frame.into_data() {
            bytes.extend_from_slice(&data);
        }
    }
    (status, serde_json::from_slice(&bytes).unwrap_or(Value::Null))
}

#[test]
fn the_ibm_double_answers_as_ibm_cloud_does() {
    let mut model = ibm::Model { provisioning_reads: 2, page_size: 1, ..ibm::Model::default() };
    let call = |model: &mut ibm::Model, method: &str, path: &str, query: &str, token: Option<&str>, payload: &str| {
        let authorization = token.map(|t| format!("Bearer {t}"));
        body(ibm::handle(model, method, path, query, authorization.as_deref(), payload.as_bytes()))
    };
    // Tokens only for the API key.
    let (status, answer) = call(
        &mut model,
        "POST",
        "/identity/token",
        "",
        None,
        "grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey&apikey=wrong",
    );
    assert_eq!((status, answer["errorCode"].as_str()), (400, Some("BXNIM0415E")));
    let form = format!("grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey&apikey={API_KEY}");
    let (status, answer) = call(&mut model, "POST", "/identity/token", "", None, &form);
    assert_eq!(status, 200);
    let token = answer["access_token"].as_str().unwrap().to_owned();
    let t = Some(token.as_str());
    assert_eq!(call(&mut model, "GET", "/v2/resource_groups", "", None, "").0, 401, "no token, no answer");
    let (_, groups) = call(&mut model, "GET", "/v2/resource_groups", &format!("name={GROUP}"), t, "");
    assert_eq!(groups["resources"][0]["id"], GROUP_ID);
    // An instance provisions for two reads, then is active.
    let create = json!({"name": "i", "target": "bluemix-global", "resource_group": GROUP_ID,
        "resource_plan_id": "744bfc56-d12c-4866-88d5-dac9139e0e5d"});
    let (status, made) = call(&mut model, "POST", "/v2/resource_instances", "", t, &create.to_string());
    assert_eq!((status, made["state"].as_str()), (202, Some("provisioning")));
    let crn = made["crn"].as_str().unwrap().to_owned();
    let path = format!(
        "/v2/resource_instances/{}",
        percent_encoding::utf8_percent_encode(&crn, percent_encoding::NON_ALPHANUMERIC)
    );
    assert_eq!(call(&mut model, "GET", &path, "", t, "").1["state"], "provisioning");
    assert_eq!(call(&mut model, "GET", &path, "", t, "").1["state"], "active");
    assert_eq!(call(&mut model, "GET", "/v2/resource_instances/crn%3Anope", "", t, "").0, 404);
    // Keys: the HMAC pair only when asked for, and only in a key read whole.
    let key = |hmac: bool| {
        json!({"name": "k", "source": crn, "role": "crn:v1:bluemix:public:iam::::serviceRole:Writer",
        "parameters": {"HMAC": hmac}})
        .to_string()
    };
    let (status, with) = call(&mut model, "POST", "/v2/resource_keys", "", t, &key(true));
    assert_eq!(status, 201);
    assert!(with["credentials"]["cos_hmac_keys"]["access_key_id"].is_string());
    let (_, without) = call(&mut model, "POST", "/v2/resource_keys", "", t, &key(false));
    assert!(without["credentials"].get("cos_hmac_keys").is_none());
    // Lists are paged; a list redacts the credentials.
    let (_, first) = call(&mut model, "GET", "/v2/resource_keys", "name=k", t, "");
    assert_eq!(first["resources"].as_array().unwrap().len(), 1);
    assert_eq!(first["resources"][0]["credentials"]["cos_hmac_keys"], "REDACTED");
    let next = first["next_url"].as_str().unwrap().to_owned();
    let (next_path, next_query) = next.split_once('?').unwrap();
    let (_, second) = call(&mut model, "GET", next_path, next_query, t, "");
    assert_eq!(second["resources"].as_array().unwrap().len(), 1);
    assert!(second["next_url"].is_null());
    // Injected faults; a key for an instance that is not active is a conflict.
    model.faults.push(ibm::Fault { matching: "GET /v2/resource_groups".into(), status: 429, remaining: 1 });
    assert_eq!(call(&mut model, "GET", "/v2/resource_groups", "", t, "").0, 429);
    assert_eq!(call(&mut model, "GET", "/v2/resource_groups", "", t, "").0, 200);
    let gone = json!({"name": "k", "source": "crn:none", "parameters": {"HMAC": true}}).to_string();
    assert_eq!(call(&mut model, "POST", "/v2/resource_keys", "", t, &gone).0, 409);
    assert!(model.log.iter().all(|l| !l.contains(API_KEY) && !l.contains(&token)), "secrets never logged");
}

/// A cluster on IBM Cloud whose IAM, Resource Controller and Manager are the double and whose
/// COS is moto, with the Config's `ibmcos` as given.
fn cluster(double: &str, moto: &str, ibmcos: Value, status: Value) -> Observed {
    let mut observed = Observed::new(jiff::Timestamp::UNIX_EPOCH, "seed".to_owned());
    let endpoints = json!([{"name": "IAM", "url": double}, {"name": "ResourceController", "url": double},
        {"name": "ResourceManager", "url": double}, {"name": "COS", "url": moto}]);
    let objects = [
        json!({"apiVersion": "imageregistry.operator.openshift.io/v1", "kind": "Config", "metadata": {"name": "cluster"},
            "spec": {"managementState": "Managed", "replicas": 1, "storage": {"managementState": "Managed", "ibmcos": ibmcos}},
            "status": {"storage": {"ibmcos": status}}}),
        json!({"apiVersion": "config.openshift.io/v1", "kind": "Infrastructure", "metadata": {"name": "cluster"},
            "status": {"infrastructureName": INFRA, "platformStatus": {"type": "IBMCloud",
                "ibmcloud": {"location": "us-south", "resourceGroupName": GROUP, "serviceEndpoints": endpoints}}}}),
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "installer-cloud-credentials", "namespace": "openshift-image-registry"},
            "data": {"ibmcloud_api_key": b64(API_KEY)}}),
    ];
    for object in objects {
        observed.objects.insert(object).unwrap();
    }
    observed.operator.release_version = "4.20.0".into();
    observed
}

/// Every call counted is one the permissions table knows, so the CredentialsRequests derived
/// from it cover what the client really calls.
fn assert_permitted(calls: &CallCounter) {
    use image_registry_operator::cloud::ibmcos::permissions::CALLS;
    let mut registry = prometheus_client::registry::Registry::default();
    registry.register("calls", "", calls.family());
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    let called: Vec<&str> = text.split("call=\"").skip(1).filter_map(|rest| rest.split('"').next()).collect();
    assert!(called.contains(&"CreateResourceKey") && called.contains(&"DeleteBucket"), "{called:?}");
    for call in called {
        assert!(
            CALLS.iter().any(|(known, _)| *known == call),
            "{call} is called but has no IAM roles in permissions.rs"
        );
    }
}

async fn observe(cloud: &IbmCosCloud, observed: &Observed) -> Facts {
    let reads = image_registry_core::reads(observed).ibmcos.expect("the Config has ibmcos storage");
    cloud.observe(&reads, "4.20.0").await
}

#[tokio::test]
async fn instance_key_and_bucket_are_found_created_read_once_per_resync_and_the_bucket_deleted() {
    let Some(moto) = stand::moto() else { return };
    let double = ibm::start(1).await;
    let s3 = stand::s3(&moto, "us-east-1");
    let calls = CallCounter::default();
    let cloud = IbmCosCloud::new(Duration::from_secs(600), calls.clone());
    let name = format!("{INFRA}-image-registry");

    // Nothing yet: the group is found, no instance of the name.
    let fresh = cluster(&double.endpoint, &moto, json!({}), json!({}));
    let facts = observe(&cloud, &fresh).await;
    assert_eq!(facts.error, "");
    assert_eq!(facts.groups.get(GROUP).map(String::as_str), Some(GROUP_ID));
    assert!(facts.instances.is_empty());
    let create = Call::CreateServiceInstance {
        name: name.clone(),
        resource_group_id: GROUP_ID.into(),
        tags: vec![format!("kubernetes.io_cluster_{INFRA}:owned")],
    };
    cloud.execute(&create).await.unwrap();
    let facts = observe(&cloud, &fresh).await;
    let (crn, instance) = facts.instances.iter().next().map(|(c, i)| (c.clone(), i.clone())).expect("found by name");
    assert_eq!((instance.name.as_str(), instance.state.as_str()), (name.as_str(), "provisioning"));
    assert_eq!(double.model.lock().unwrap().instances[&crn].tags, [format!("kubernetes.io_cluster_{INFRA}:owned")]);

    // Recorded: read by CRN; provisioning is read again on the next pass, then active.
    let recorded = cluster(&double.endpoint, &moto, json!({"serviceInstanceCRN": crn}), json!({}));
    let facts = observe(&cloud, &recorded).await;
    assert_eq!(facts.instances[&crn].state, "active");
    assert!(facts.keys.is_empty(), "no key of the name yet");
    cloud.execute(&Call::CreateResourceKey { name: name.clone(), instance_crn: crn.clone() }).await.unwrap();
    let facts = observe(&cloud, &recorded).await;
    let (key_crn, key) = facts.keys.iter().next().map(|(c, k)| (c.clone(), k.clone())).expect("found by name");
    assert_eq!(key.source_crn, crn);
    assert_eq!(key.role, "crn:v1:bluemix:public:iam::::serviceRole:Writer");
    assert!(key.hmac.is_some(), "read whole: the HMAC pair is there");

    // The bucket, read with the key's HMAC pair: missing, created in `<location>-smart`, there.
    let bucket = stand::unique("ibmcos");
    let ready = |bucket: &str| {
        cluster(
            &double.endpoint,
            &moto,
            json!({"serviceInstanceCRN": crn, "resourceKeyCRN": key_crn, "bucket": bucket}),
            json!({}),
        )
    };
    let facts = observe(&cloud, &ready(&bucket)).await;
    assert_eq!(facts.buckets[&bucket].state, BucketState::Missing, "{:?}", facts.buckets[&bucket]);
    let target = CosTarget { bucket: bucket.clone(), location: "us-south".into(), endpoint: moto.clone() };
    cloud.execute(&Call::CreateBucket { target: target.clone() }).await.unwrap();
    let located = s3.get_bucket_location().bucket(&bucket).send().await.unwrap();
    assert_eq!(located.location_constraint().map(|c| c.as_str()), Some("us-south-smart"));
    let facts = observe(&cloud, &ready(&bucket)).await;
    assert_eq!(facts.buckets[&bucket].state, BucketState::Exists);

    // Quiet: the same reads within the resync period ask IBM Cloud nothing.
    let before = double.model.lock().unwrap().log.len();
    for _ in 0..3 {
        assert_eq!(observe(&cloud, &ready(&bucket)).await, facts);
    }
    assert_eq!(double.model.lock().unwrap().log.len(), before, "reads reused within the resync period");

    // Removal: emptied (objects and all) and deleted.
    s3.put_object().bucket(&bucket).key("docker/registry/v2/blob").body(b"data".to_vec().into()).send().await.unwrap();
    let foreign = Call::DeleteBucket {
        target: target.clone(),
        instance_crn: crn.clone(),
        instance_name: "another-cluster-image-registry".into(),
    };
    let refused = cloud.execute(&foreign).await.unwrap_err();
    assert!(refused.message.contains("refusing to delete"), "{refused:?}");
    assert!(s3.head_bucket().bucket(&bucket).send().await.is_ok(), "a bucket outside the named instance stays");
    let delete = Call::DeleteBucket { target, instance_crn: crn.clone(), instance_name: name.clone() };
    cloud.execute(&delete).await.unwrap();
    assert!(s3.head_bucket().bucket(&bucket).send().await.is_err(), "the bucket is gone");
    cloud.execute(&delete).await.unwrap();
    assert!(double.model.lock().unwrap().instances.contains_key(&crn), "the instance stays");
    assert_permitted(&calls);
}

#[tokio::test]
async fn a_wrong_api_key_and_a_throttled_resource_controller_are_facts_not_panics() {
    let Some(moto) = stand::moto() else { return };
    let double = ibm::start(0).await;
    let cloud = IbmCosCloud::new(Duration::from_secs(600), CallCounter::default());
    let mut wrong = cluster(&double.endpoint, &moto, json!({}), json!({}));
    wrong
        .objects
        .insert(json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "installer-cloud-credentials", "namespace": "openshift-image-registry"},
            "data": {"ibmcloud_api_key": b64("not-the-key")}}))
        .unwrap();
    let facts = observe(&cloud, &wrong).await;
    assert!(facts.error.contains("API key could not be found"), "{}", facts.error);
    assert!(!facts.error.contains("not-the-key"), "the key is never shown");

    let fresh = cluster(&double.endpoint, &moto, json!({}), json!({}));
    double.fail("GET /v2/resource_instances", 429, 1);
    let facts = observe(&cloud, &fresh).await;
    assert!(facts.error.contains("HTTP 429"), "{}", facts.error);
    let facts = observe(&cloud, &fresh).await;
    assert_eq!(facts.error, "", "a failed read is not kept: the next pass reads again");
    assert!(facts.groups.contains_key(GROUP));
    let error = cloud
        .execute(&Call::CreateResourceKey { name: "k".into(), instance_crn: "crn:none".into() })
        .await
        .unwrap_err();
    assert_eq!(error.class, image_registry_core::ErrorClass::Conflict, "{error:?}");
}
