//! The shipped S3 client against moto: every call the plan makes and every read, in
//! `us-east-1` (no location constraint) and another region, SSE-S3 and SSE-KMS, the ownership
//! check before a delete, a bucket full of versions, delete markers and unfinished uploads
//! emptied and deleted, names taken by another account, credentials that change without a
//! restart, reads reused within the resync period, and a private CA over HTTPS.

use crate::stand;

use image_registry_core::storage::call::CloudCall;
use image_registry_core::storage::s3;
use std::time::Duration;

use image_registry_core::api::openshift::KeyValue;
use image_registry_core::observed::{BucketState, Observed};
use image_registry_core::outcome::ErrorClass;
use image_registry_core::storage::s3::call::S3Target;
use image_registry_core::storage::s3::facts::S3Bucket;
use image_registry_operator::cloud::calls::{CallCounter, CallLabels};
use image_registry_operator::cloud::s3::S3Cloud;
use serde_json::{Value, json};

const INFRA: &str = "mycluster-x7k2p";

/// Base64, as Secret data holds it.
fn b64(s: &str) -> Value {
    serde_json::to_value(k8s_openapi::ByteString(s.as_bytes().to_vec())).unwrap()
}

/// A cluster whose Config names `bucket` at `endpoint` (management state `state`), with
/// static installer credentials signed as `access_key`.
fn cluster(endpoint: &str, bucket: &str, region: &str, state: &str, access_key: &str) -> Observed {
    let mut observed = Observed::new(jiff::Timestamp::UNIX_EPOCH, "seed".to_owned());
    let objects: Vec<Value> = vec![
        config(endpoint, bucket, region, state, ""),
        json!({"apiVersion": "config.openshift.io/v1", "kind": "Infrastructure", "metadata": {"name": "cluster"},
            "status": {"infrastructureName": INFRA, "platformStatus": {"type": "AWS", "aws": {"region": region}}}}),
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "installer-cloud-credentials", "namespace": "openshift-image-registry"},
            "data": {"aws_access_key_id": b64(access_key), "aws_secret_access_key": b64("stand-secret-value")}}),
    ];
    for object in objects {
        observed.objects.insert(object).unwrap();
    }
    observed.operator.release_version = "4.20.0".into();
    observed
}

/// A managed bucket's cluster whose installer credentials are the AWS config file `file`.
fn with_credentials_file(endpoint: &str, bucket: &str, file: &str) -> Observed {
    let mut observed = cluster(endpoint, bucket, "us-east-1", "Managed", "AKIAUNUSED0000000001");
    observed
        .objects
        .insert(json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "installer-cloud-credentials", "namespace": "openshift-image-registry"},
            "data": {"credentials": b64(file)}}))
        .unwrap();
    observed
}

fn config(endpoint: &str, bucket: &str, region: &str, state: &str, trusted_ca: &str) -> Value {
    json!({"apiVersion": "imageregistry.operator.openshift.io/v1", "kind": "Config", "metadata": {"name": "cluster"},
        "spec": {"managementState": "Managed", "replicas": 1, "storage": {"managementState": state,
            "s3": {"bucket": bucket, "region": region, "regionEndpoint": endpoint, "trustedCA": {"name": trusted_ca}}}}})
}

fn target(endpoint: &str, bucket: &str, region: &str) -> S3Target {
    S3Target {
        bucket: bucket.into(),
        region: region.into(),
        endpoint: endpoint.into(),
        virtual_hosted_style: false,
        dual_stack: false,
    }
}

fn cloud() -> (S3Cloud, CallCounter) {
    let calls = CallCounter::default();
    (S3Cloud::new(Duration::from_secs(600), calls.clone()), calls)
}

async fn observe(cloud: &S3Cloud, observed: &Observed, bucket: &str) -> S3Bucket {
    let reads = image_registry_core::reads(observed).s3.expect("the Config names a bucket");
    cloud.observe(&reads, &observed.operator.release_version).await.remove(bucket).unwrap()
}

fn owned() -> KeyValue {
    KeyValue { key: format!("kubernetes.io/cluster/{INFRA}"), value: "owned".into() }
}

/// Every S3 call counted is one the permissions table knows, so the CredentialsRequest derived
/// from it covers what the client really calls.
fn assert_permitted(calls: &CallCounter) {
    use image_registry_operator::cloud::s3::permissions;
    let mut registry = prometheus_client::registry::Registry::default();
    registry.register("calls", "", calls.family());
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
    let every = [
        s3::call::Call::CreateBucket { target: target("", "b", "") },
        s3::call::Call::PutPublicAccessBlock { target: target("", "b", "") },
        s3::call::Call::PutBucketTagging { target: target("", "b", ""), tags: vec![] },
        s3::call::Call::PutBucketEncryption { target: target("", "b", ""), kms_key_id: String::new() },
        s3::call::Call::PutLifecycleConfiguration { target: target("", "b", "") },
        s3::call::Call::DeleteBucket { target: target("", "b", ""), require_tag: owned() },
    ];
    let known: Vec<&str> = every
        .iter()
        .flat_map(|a| permissions::calls(a).iter())
        .chain(permissions::OBSERVE.iter())
        .map(|(call, _)| *call)
        .collect();
    for called in text.split("call=\"").skip(1).filter_map(|rest| rest.split('"').next()) {
        assert!(known.contains(&called), "{called} is called but has no IAM actions in permissions.rs");
    }
}

fn count(calls: &CallCounter, call: &str, outcome: &str) -> u64 {
    calls.family().get_or_create(&CallLabels { service: "s3".into(), call: call.into(), outcome: outcome.into() }).get()
}

#[tokio::test]
async fn creates_and_configures_a_bucket_in_us_east_1_and_in_another_region() {
    let Some(moto) = stand::moto() else { return };
    for region in ["us-east-1", "eu-west-1"] {
        let bucket = stand::unique("create");
        let observed = cluster(&moto, &bucket, region, "Managed", "AKIACREATE0000000001");
        let (cloud, calls) = cloud();
        let missing = observe(&cloud, &observed, &bucket).await;
        assert_eq!(missing.state, BucketState::Missing, "{missing:?}");
        assert_eq!(missing.code, "NotFound", "HEAD answers carry no body: the SDK names the status");
        let t = target(&moto, &bucket, region);
        cloud.execute(&s3::call::Call::CreateBucket { target: t.clone() }).await.unwrap();
        cloud.execute(&s3::call::Call::CreateBucket { target: t.clone() }).await.expect("creating again is success");
        let fresh = observe(&cloud, &observed, &bucket).await;
        assert_eq!(fresh.state, BucketState::Exists);
        assert!(!fresh.public_access_blocked && fresh.tags.is_empty() && !fresh.incomplete_upload_cleanup, "{fresh:?}");
        let tags = vec![owned(), KeyValue { key: "Name".into(), value: format!("{INFRA}-image-registry") }];
        for call in [
            s3::call::Call::PutPublicAccessBlock { target: t.clone() },
            s3::call::Call::PutBucketTagging { target: t.clone(), tags: tags.clone() },
            s3::call::Call::PutBucketEncryption { target: t.clone(), kms_key_id: String::new() },
            s3::call::Call::PutLifecycleConfiguration { target: t.clone() },
        ] {
            cloud.execute(&call).await.unwrap_or_else(|e| panic!("{}: {e:?}", call.name()));
        }
        let done = observe(&cloud, &observed, &bucket).await;
        assert_eq!(
            done,
            S3Bucket {
                state: BucketState::Exists,
                tags,
                public_access_blocked: true,
                encryption: "AES256".into(),
                incomplete_upload_cleanup: true,
                ..S3Bucket::default()
            }
        );
        let location = stand::s3(&moto, region).get_bucket_location().bucket(&bucket).send().await.unwrap();
        let constraint = location.location_constraint().map(|c| c.as_str().to_owned()).unwrap_or_default();
        let expected = if region == "us-east-1" { "" } else { region };
        assert_eq!(constraint, expected, "no location constraint in us-east-1, the region elsewhere");
        assert_permitted(&calls);
    }
}

#[tokio::test]
async fn sse_kms_and_the_users_lifecycle_rules_are_kept() {
    let Some(moto) = stand::moto() else { return };
    let bucket = stand::unique("kms");
    let observed = cluster(&moto, &bucket, "us-east-1", "Managed", "AKIAKMS0000000000001");
    let (cloud, _) = cloud();
    let t = target(&moto, &bucket, "us-east-1");
    // As in the operator, a pass observes (and so reads the credentials) before it executes.
    assert_eq!(observe(&cloud, &observed, &bucket).await.state, BucketState::Missing);
    cloud.execute(&s3::call::Call::CreateBucket { target: t.clone() }).await.unwrap();
    let own = stand::s3(&moto, "us-east-1");
    let rule = aws_sdk_s3::types::LifecycleRule::builder()
        .id("users-own-rule")
        .status(aws_sdk_s3::types::ExpirationStatus::Enabled)
        .filter(aws_sdk_s3::types::LifecycleRuleFilter::builder().prefix("tmp/").build())
        .expiration(aws_sdk_s3::types::LifecycleExpiration::builder().days(7).build())
        .build()
        .unwrap();
    let configuration = aws_sdk_s3::types::BucketLifecycleConfiguration::builder().rules(rule).build().unwrap();
    own.put_bucket_lifecycle_configuration()
        .bucket(&bucket)
        .lifecycle_configuration(configuration)
        .send()
        .await
        .unwrap();
    let key = "arn:aws:kms:us-east-1:123456789012:key/0b5a0b0e-1f0a-4b4b-9a9a-000000000001";
    cloud.execute(&s3::call::Call::PutBucketEncryption { target: t.clone(), kms_key_id: key.into() }).await.unwrap();
    cloud.execute(&s3::call::Call::PutLifecycleConfiguration { target: t.clone() }).await.unwrap();
    let facts = observe(&cloud, &observed, &bucket).await;
    assert_eq!((facts.encryption.as_str(), facts.kms_key_id.as_str()), ("aws:kms", key));
    assert!(facts.incomplete_upload_cleanup);
    let rules = own.get_bucket_lifecycle_configuration().bucket(&bucket).send().await.unwrap();
    let ids: Vec<&str> = rules.rules().iter().filter_map(|r| r.id()).collect();
    assert_eq!(ids, ["users-own-rule", "cleanup-incomplete-multipart-registry-uploads"]);
}

#[tokio::test]
async fn a_bucket_full_of_versions_markers_and_uploads_is_emptied_then_deleted() {
    let Some(moto) = stand::moto() else { return };
    let bucket = stand::unique("full");
    let (cloud, calls) = cloud();
    let observed = cluster(&moto, &bucket, "us-east-1", "Managed", "AKIAFULL000000000001");
    let t = target(&moto, &bucket, "us-east-1");
    assert_eq!(observe(&cloud, &observed, &bucket).await.state, BucketState::Missing);
    cloud.execute(&s3::call::Call::CreateBucket { target: t.clone() }).await.unwrap();
    cloud.execute(&s3::call::Call::PutBucketTagging { target: t.clone(), tags: vec![owned()] }).await.unwrap();
    let own = stand::s3(&moto, "us-east-1");
    let enabled = aws_sdk_s3::types::VersioningConfiguration::builder()
        .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
        .build();
    own.put_bucket_versioning().bucket(&bucket).versioning_configuration(enabled).send().await.unwrap();
    // 1,010 objects, a second version of 10 of them and a delete marker on 5: more than one
    // DeleteObjects batch.
    for chunk in (0..1010).collect::<Vec<_>>().chunks(50) {
        let mut puts = tokio::task::JoinSet::new();
        for i in chunk {
            let request = own.put_object().bucket(&bucket).key(format!("blobs/{i}")).body(b"x".to_vec().into());
            puts.spawn(request.send());
        }
        while let Some(put) = puts.join_next().await {
            put.unwrap().unwrap();
        }
    }
    for i in 0..10 {
        own.put_object().bucket(&bucket).key(format!("blobs/{i}")).body(b"y".to_vec().into()).send().await.unwrap();
    }
    for i in 0..5 {
        own.delete_object().bucket(&bucket).key(format!("blobs/{i}")).send().await.unwrap();
    }
    own.create_multipart_upload().bucket(&bucket).key("uploads/unfinished").send().await.unwrap();
    cloud.execute(&s3::call::Call::DeleteBucket { target: t.clone(), require_tag: owned() }).await.unwrap();
    assert_eq!(observe(&cloud, &observed, &bucket).await.state, BucketState::Missing);
    assert!(count(&calls, "DeleteObjects", "ok") >= 2, "batches of at most 1,000");
    assert_permitted(&calls);
    cloud
        .execute(&s3::call::Call::DeleteBucket { target: t, require_tag: owned() })
        .await
        .expect("a bucket already gone is success");
}

#[tokio::test]
async fn a_bucket_without_the_ownership_tag_is_never_deleted() {
    let Some(moto) = stand::moto() else { return };
    let bucket = stand::unique("users");
    let own = stand::s3(&moto, "us-east-1");
    own.create_bucket().bucket(&bucket).send().await.unwrap();
    own.put_object().bucket(&bucket).key("data").body(b"keep me".to_vec().into()).send().await.unwrap();
    let (cloud, calls) = cloud();
    let observed = cluster(&moto, &bucket, "us-east-1", "Managed", "AKIAUSERS00000000001");
    assert_eq!(observe(&cloud, &observed, &bucket).await.state, BucketState::Exists);
    let error = cloud
        .execute(&s3::call::Call::DeleteBucket { target: target(&moto, &bucket, "us-east-1"), require_tag: owned() })
        .await
        .unwrap_err();
    assert_eq!(error.class, ErrorClass::Invalid);
    assert!(error.message.contains(&owned().key), "{}", error.message);
    assert_eq!(count(&calls, "DeleteObjects", "ok") + count(&calls, "DeleteBucket", "ok"), 0);
    own.head_object().bucket(&bucket).key("data").send().await.expect("the user's data is untouched");
}

#[tokio::test]
async fn a_name_another_account_holds_is_already_exists() {
    let Some(moto) = stand::moto() else { return };
    let bucket = stand::unique("taken");
    // moto keeps accounts apart by this header; the bucket namespace is shared, as in AWS.
    stand::s3(&moto, "us-east-1")
        .create_bucket()
        .bucket(&bucket)
        .customize()
        .mutate_request(|r| {
            r.headers_mut().insert("x-moto-account-id", "222222222222");
        })
        .send()
        .await
        .unwrap();
    let (cloud, calls) = cloud();
    let observed = cluster(&moto, &bucket, "us-east-1", "", "AKIATAKEN00000000001");
    let _ = observe(&cloud, &observed, &bucket).await;
    let error =
        cloud.execute(&s3::call::Call::CreateBucket { target: target(&moto, &bucket, "us-east-1") }).await.unwrap_err();
    assert_eq!(error.class, ErrorClass::AlreadyExists, "{}", error.message);
    assert!(error.message.contains("BucketAlreadyExists"), "{}", error.message);
    assert_eq!(count(&calls, "CreateBucket", "alreadyExists"), 1);
}

#[tokio::test]
async fn reads_are_reused_within_the_resync_period_and_redone_after_a_call_or_new_credentials() {
    let Some(moto) = stand::moto() else { return };
    let proxy = stand::recorder(&moto, None).await;
    let bucket = stand::unique("quiet");
    let (cloud, calls) = cloud();
    let first = cluster(&proxy.endpoint, &bucket, "us-east-1", "Managed", "AKIAFIRSTKEY00000001");
    assert_eq!(observe(&cloud, &first, &bucket).await.state, BucketState::Missing);
    assert_eq!(observe(&cloud, &first, &bucket).await.state, BucketState::Missing);
    assert_eq!(count(&calls, "HeadBucket", "notFound"), 1, "the second pass reuses the first's read");
    cloud
        .execute(&s3::call::Call::CreateBucket { target: target(&proxy.endpoint, &bucket, "us-east-1") })
        .await
        .unwrap();
    assert_eq!(observe(&cloud, &first, &bucket).await.state, BucketState::Exists);
    assert_eq!(observe(&cloud, &first, &bucket).await.state, BucketState::Exists);
    assert_eq!(count(&calls, "HeadBucket", "ok"), 1, "read again once after the operator's own call");
    // The secret changes: the next pass reads with the new key, no restart.
    let second = cluster(&proxy.endpoint, &bucket, "us-east-1", "Managed", "AKIASECONDKEY0000002");
    assert_eq!(observe(&cloud, &second, &bucket).await.state, BucketState::Exists);
    let keys: Vec<String> = proxy.log().iter().map(|l| l.access_key.clone()).collect();
    assert_eq!(keys.first().map(String::as_str), Some("AKIAFIRSTKEY00000001"));
    assert_eq!(keys.last().map(String::as_str), Some("AKIASECONDKEY0000002"), "{keys:?}");
}

#[tokio::test]
async fn missing_credentials_make_the_bucket_unknown_naming_the_secret_and_call_nothing() {
    let Some(moto) = stand::moto() else { return };
    let bucket = stand::unique("nocreds");
    let mut observed = cluster(&moto, &bucket, "us-east-1", "Managed", "AKIANOCREDS000000001");
    let key = image_registry_core::ObjectKey {
        group: String::new(),
        kind: "Secret".into(),
        namespace: "openshift-image-registry".into(),
        name: "installer-cloud-credentials".into(),
    };
    observed.objects.remove(&key);
    let (cloud, calls) = cloud();
    let facts = observe(&cloud, &observed, &bucket).await;
    assert_eq!(facts.state, BucketState::Unknown);
    assert!(facts.message.contains("installer-cloud-credentials"), "{}", facts.message);
    assert_eq!(count(&calls, "HeadBucket", "ok") + count(&calls, "HeadBucket", "notFound"), 0);
}

#[tokio::test]
async fn a_private_ca_from_trusted_ca_is_trusted_and_nothing_else_is() {
    let Some(moto) = stand::moto() else { return };
    let (ca, tls) = stand::tls_for_localhost();
    let proxy = stand::recorder(&moto, Some(tls)).await;
    let bucket = stand::unique("tls");
    let mut observed = cluster(&proxy.endpoint, &bucket, "us-east-1", "Managed", "AKIATLS0000000000001");
    // Without the CA: the system roots do not know it, and the read says why.
    let (cloud, _) = cloud();
    let untrusted = observe(&cloud, &observed, &bucket).await;
    assert_eq!(untrusted.state, BucketState::Unknown, "{untrusted:?}");
    observed.objects.insert(config(&proxy.endpoint, &bucket, "us-east-1", "Managed", "s3-ca")).unwrap();
    observed
        .objects
        .insert(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "s3-ca", "namespace": "openshift-config"},
            "data": {"ca-bundle.crt": ca}}))
        .unwrap();
    let trusted = observe(&cloud, &observed, &bucket).await;
    assert_eq!(trusted.state, BucketState::Missing, "{trusted:?}");
    assert!(proxy.log().iter().any(|l| l.method == "HEAD"), "the request went over TLS to moto");
}

/// The installer's `credentials` file as STS "manual mode" clusters have it: the SDK's own
/// provider exchanges the projected token for the role's credentials, and S3 is called with them.
#[tokio::test]
async fn a_web_identity_credentials_file_assumes_the_role_through_sts() {
    let Some(moto) = stand::moto() else { return };
    let proxy = stand::recorder(&moto, None).await;
    let bucket = stand::unique("sts");
    let token = std::env::temp_dir().join(stand::unique("token"));
    std::fs::write(&token, "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZWdpc3RyeSJ9.c2lnbmF0dXJl").unwrap();
    // `endpoint_url` sends STS to the stand; on a cluster the file names the role and the token.
    let file = format!(
        "[default]\nrole_arn = arn:aws:iam::123456789012:role/image-registry\nweb_identity_token_file = {}\nendpoint_url = {}\n",
        token.display(),
        proxy.endpoint
    );
    let observed = with_credentials_file(&proxy.endpoint, &bucket, &file);
    let (cloud, _) = cloud();
    let facts = observe(&cloud, &observed, &bucket).await;
    assert_eq!(facts.state, BucketState::Missing, "{facts:?}");
    let log = proxy.log();
    assert!(log.first().is_some_and(|l| l.method == "POST" && l.access_key.is_empty()), "STS first, unsigned: {log:?}");
    let head = log.iter().find(|l| l.method == "HEAD").unwrap();
    assert!(head.access_key.starts_with("ASIA"), "S3 called with the role's session credentials: {log:?}");
    let _ = std::fs::remove_file(token);
}

/// moto with authentication on (a process of its own, whose first two requests make an IAM user
/// and its key): an unknown key, a wrong secret and a user without permission each keep their
/// AWS code, which the Config's conditions carry.
#[tokio::test]
async fn authentication_failures_keep_their_aws_codes() {
    let Some(_) = stand::moto() else { return };
    let port = stand::free_port();
    let _moto = stand::OwnMoto::start(port, &[("INITIAL_NO_AUTH_ACTION_COUNT", "2")]).await;
    let endpoint = format!("http://127.0.0.1:{port}");
    let iam = "iam";
    stand::post_form(&endpoint, iam, "Action=CreateUser&UserName=registry&Version=2010-05-08").await;
    let key = stand::post_form(&endpoint, iam, "Action=CreateAccessKey&UserName=registry&Version=2010-05-08").await;
    let (id, secret) = (stand::xml_text(&key, "AccessKeyId"), stand::xml_text(&key, "SecretAccessKey"));
    assert!(!id.is_empty() && !secret.is_empty(), "{key}");
    let bucket = stand::unique("auth");
    let create = s3::call::Call::CreateBucket { target: target(&endpoint, &bucket, "us-east-1") };
    let with_file = |file: String| with_credentials_file(&endpoint, &bucket, &file);
    let keys =
        |id: &str, secret: &str| format!("[default]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n");
    let mut results = Vec::new();
    for observed in [
        with_file(keys("AKIANOSUCHKEY0000001", "whatever")),
        with_file(keys(&id, &format!("not-{secret}"))),
        with_file(keys(&id, &secret)),
    ] {
        let (cloud, _) = cloud();
        let facts = observe(&cloud, &observed, &bucket).await;
        results.push((facts, cloud.execute(&create).await.unwrap_err()));
    }
    let [(unknown_key, e1), (_, e2), (_, e3)] = &results[..] else { unreachable!() };
    assert_eq!(
        (unknown_key.state, unknown_key.code.as_str()),
        (BucketState::Forbidden, "Forbidden"),
        "{unknown_key:?}"
    );
    assert_eq!(e1.class, ErrorClass::Forbidden);
    assert!(e1.message.contains("InvalidAccessKeyId"), "{}", e1.message);
    assert!(e2.message.contains("SignatureDoesNotMatch"), "{}", e2.message);
    assert!(!e2.message.contains(&secret), "no secret in a message");
    assert_eq!(e3.class, ErrorClass::Forbidden);
    assert!(e3.message.contains("AccessDenied"), "{}", e3.message);
}
