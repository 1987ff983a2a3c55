//! End to end on IBM Cloud and on Power VS with the operator binary as shipped against the
//! fake API server, the IBM Cloud double (IAM, Resource Controller and Manager, named in the
//! Infrastructure's `serviceEndpoints` as a cluster names private endpoints) and moto as COS
//! behind a recording proxy: a fresh cluster gets a service instance (provisioning, then
//! active), an HMAC key and a bucket, each made once; the registry becomes Available; a quiet
//! minute makes no mutating call and reads within the resync budget; Removed empties and
//! deletes the bucket and keeps the instance and its key.

use crate::cluster;
use crate::shipped;
use crate::stand;

use std::time::Duration;

use cluster::{dynamic, object, set_management_state};
use kube::api::{Patch, PatchParams};
use serde_json::json;
use shipped::{available, condition, shipped, wait_for};
use stand::ibm_double::{self as ibm, API_KEY};

/// A fresh cluster of `fixture` whose platform block (`platform`: `ibmcloud` or `powervs`)
/// names the double and the COS proxy, run to Available, quiet, then Removed.
async fn fresh_cluster_flow(fixture: &str, platform: &str, location: &str) {
    let (Some(moto), Some(binary)) = (stand::moto(), shipped()) else { return };
    let double = ibm::start(2).await;
    let proxy = stand::recorder(&moto, None).await;
    let stand = shipped::stand(fixture, platform, None).await;
    let endpoints = json!([{"name": "IAM", "url": double.endpoint}, {"name": "ResourceController", "url": double.endpoint},
        {"name": "ResourceManager", "url": double.endpoint}, {"name": "COS", "url": proxy.endpoint}]);
    let infrastructures = dynamic(&stand.fake, "config.openshift.io", "Infrastructure", "infrastructures", None);
    let patch = json!({"status": {"platformStatus": {platform: {"serviceEndpoints": endpoints}}}});
    infrastructures.patch_status("cluster", &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();

    const RESYNC: u64 = 15;
    let operator = shipped::run(&binary, &stand.kubeconfig, RESYNC, &[]);
    wait_for("the registry to be available", &operator, Duration::from_secs(120), async || available(&stand.fake))
        .await;
    let config = object(&stand.fake, "Config", "cluster").unwrap();
    let cos = config["spec"]["storage"]["ibmcos"].clone();
    let bucket = cos["bucket"].as_str().unwrap().to_owned();
    assert!(bucket.starts_with(&format!("{}-image-registry-{location}-", stand.infra)), "{cos:#}");
    assert_eq!(cos["location"], location);
    assert_eq!(config["spec"]["storage"]["managementState"], "Managed");
    let storage = condition(&stand.fake, "Config", "StorageExists").unwrap();
    assert_eq!(storage["status"], "True", "{storage:#}");
    {
        let model = double.model.lock().unwrap();
        let instance_crn = cos["serviceInstanceCRN"].as_str().unwrap();
        let instance = &model.instances[instance_crn];
        assert_eq!(instance.name, format!("{}-image-registry", stand.infra));
        assert_eq!(instance.tags, [format!("kubernetes.io_cluster_{}:owned", stand.infra)]);
        assert_eq!(model.instances.len(), 1, "one instance made");
        assert_eq!(model.keys.len(), 1, "one key made");
        assert_eq!(model.keys[cos["resourceKeyCRN"].as_str().unwrap()].source, instance_crn);
    }
    let s3 = stand::s3(&moto, "us-east-1");
    let located = s3.get_bucket_location().bucket(&bucket).send().await.unwrap();
    assert_eq!(located.location_constraint().map(|c| c.as_str().to_owned()), Some(format!("{location}-smart")));
    let created = proxy
        .log()
        .iter()
        .filter(|l| l.method == "PUT" && l.target.trim_end_matches('/') == format!("/{bucket}"))
        .count();
    assert_eq!(created, 1, "one bucket created: {:?}", proxy.log());

    // A quiet minute: nothing written anywhere; COS and the Resource Controller read at most
    // once per resync period (an instance and a key each time).
    let budget = 60 / RESYNC as usize + 1;
    let before = double.model.lock().unwrap().log.clone();
    let idle = shipped::quiet_minute(&stand.fake, &proxy, budget).await;
    let after = double.model.lock().unwrap().log.clone();
    let resource_calls: Vec<&String> = after[before.len()..].iter().collect();
    assert!(
        resource_calls.iter().all(|l| l.starts_with("GET ")),
        "IBM Cloud written to at the fixpoint: {resource_calls:?}"
    );
    assert!(
        resource_calls.len() <= 2 * budget + 1,
        "{} IBM Cloud reads in a quiet minute: {resource_calls:?}",
        resource_calls.len()
    );
    println!(
        "{platform}: {} COS and {} IBM Cloud requests in 60 s idle (resync {RESYNC} s)",
        idle.len(),
        resource_calls.len()
    );

    // Images in the bucket, then Removed: the bucket is emptied and deleted, the instance and
    // its key stay.
    s3.put_object()
        .bucket(&bucket)
        .key("docker/registry/v2/blobs/a")
        .body(b"layer".to_vec().into())
        .send()
        .await
        .unwrap();
    set_management_state(&stand.fake, "Removed").await;
    wait_for("the bucket to be deleted", &operator, Duration::from_secs(90), async || {
        s3.head_bucket().bucket(&bucket).send().await.is_err()
    })
    .await;
    {
        let model = double.model.lock().unwrap();
        assert_eq!((model.instances.len(), model.keys.len()), (1, 1), "the instance and its key stay");
    }
    let hmac = double.model.lock().unwrap().keys.values().next().and_then(|k| k.hmac.clone()).unwrap();
    shipped::assert_secrets_kept(&stand.fake, operator, &[API_KEY, &hmac.1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_ibm_cloud_cluster_gets_an_instance_a_key_and_a_bucket_stays_quiet_and_removes_the_bucket() {
    fresh_cluster_flow("ibmcloud-fresh.yaml", "ibmcloud", "us-south").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_power_vs_cluster_gets_its_cos_region_from_the_power_vs_region() {
    // `dal` is served by COS in us-south.
    fresh_cluster_flow("powervs-fresh.yaml", "powervs", "us-south").await;
}
