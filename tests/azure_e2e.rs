//! End to end on Azure with the operator binary as shipped against the fake API server, the
//! project's ARM and Entra ID double (behind TLS, its CA given as the cluster's CA bundle) and azurite
//! behind recording proxies (`AZURE_EMULATOR_ENDPOINTS`, for test stands only): a fresh cluster
//! gets its storage account created with the cluster's tag and its container, becomes
//! Available, stays quiet for a minute (no mutating call, no ListKeys: the key is cached), and
//! Removed deletes the container and then the account; a user's own account (UPI key) is used
//! and survives Removed untouched, without one Resource Manager call; a changed cluster CA
//! bundle ends the run cleanly, to be restarted with it. A fresh US Government cluster records
//! its cloud, and the registry looks for its account under that cloud's storage suffix.

use crate::cluster;
use crate::shipped;
use crate::stand;

use std::time::Duration;

use cluster::{dynamic, object, set_management_state};
use fake_apiserver::FakeApiServer;
use image_registry_operator::cloud::azure::blob::{BlobAuth, Containers};
use image_registry_operator::cloud::calls::CallCounter;
use kube::api::{Patch, PatchParams};
use serde_json::{Value, json};
use shipped::{Stand, available, shipped, wait_for};
use stand::arm_double::{CLIENT_ID, CLIENT_SECRET, KEY, SUBSCRIPTION, TENANT};

/// The ARM double behind TLS and its CA written to a file, given to the operator as the
/// cluster's CA bundle (`--cluster-ca-bundle`, beside the system roots).
struct Arm {
    double: stand::arm_double::Arm,
    front: stand::Recorder,
    ca_file: std::path::PathBuf,
}

async fn arm() -> Arm {
    let (double, base) = stand::arm_double::start().await;
    let (ca, tls) = stand::tls_for_localhost();
    let front = stand::recorder(&double.endpoint, Some(tls)).await;
    *base.lock().unwrap() = front.endpoint.clone();
    let ca_file = std::env::temp_dir().join(format!("{}.pem", stand::unique("arm-ca")));
    std::fs::write(&ca_file, ca).unwrap();
    Arm { double, front, ca_file }
}

/// A fresh Azure cluster whose minted credentials are the double's app's.
async fn stand(config: Option<Value>, user_key: bool) -> Stand {
    stand_of("azure-fresh.yaml", config, user_key).await
}

/// As [`stand`], from the fresh cluster of `fixture` (another Azure cloud).
async fn stand_of(fixture: &str, config: Option<Value>, user_key: bool) -> Stand {
    let stand = shipped::stand(fixture, "azure", config).await;
    let secrets = dynamic(&stand.fake, "", "Secret", "secrets", Some("openshift-image-registry"));
    let b64 = |s: &str| k8s_openapi::ByteString(s.as_bytes().to_vec());
    let patch = json!({"data": {"azure_subscription_id": b64(SUBSCRIPTION), "azure_client_id": b64(CLIENT_ID),
        "azure_client_secret": b64(CLIENT_SECRET), "azure_tenant_id": b64(TENANT), "azure_resourcegroup": b64("cluster-rg")}});
    secrets.patch("installer-cloud-credentials", &PatchParams::default(), &Patch::Merge(&patch)).await.unwrap();
    if user_key {
        let secret = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "image-registry-private-configuration-user",
            "namespace": "openshift-image-registry"}, "data": {"REGISTRY_STORAGE_AZURE_ACCOUNTKEY": b64(KEY)}});
        secrets.create(&Default::default(), &serde_json::from_value(secret).unwrap()).await.unwrap();
    }
    stand
}

fn env(arm: &Arm, blob: &str) -> Vec<(&'static str, String)> {
    let endpoints = json!({"resourceManager": arm.front.endpoint, "authority": arm.front.endpoint, "blob": blob});
    vec![("AZURE_EMULATOR_ENDPOINTS", endpoints.to_string())]
}

/// The operator against the stand, trusting the double's CA as the cluster's bundle.
fn run(binary: &std::path::Path, stand: &Stand, arm: &Arm, blob: &str, resync: u64) -> shipped::Operator {
    let env = env(arm, blob);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let bundle = arm.ca_file.display().to_string();
    shipped::run_with(binary, &stand.kubeconfig, resync, &env, &["--cluster-ca-bundle", &bundle])
}

fn azure_of(fake: &FakeApiServer) -> Value {
    object(fake, "Config", "cluster").map(|c| c["spec"]["storage"]["azure"].clone()).unwrap_or_default()
}

fn containers(blob: &str, account: &str) -> Containers {
    let http = image_registry_operator::cloud::http::client(
        image_registry_operator::cloud::http::roots(None, "test").unwrap(),
        "test",
    )
    .unwrap();
    Containers::new(account, &format!("{blob}/{account}"), BlobAuth::Key(KEY.into()), http, CallCounter::default())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_azure_cluster_gets_a_tagged_account_and_container_stays_quiet_and_removes_them() {
    let (Some(_), Some(binary)) = (stand::azurite(), shipped()) else { return };
    let arm = arm().await;
    // The operator names the account itself; azurite learns it once the Config has it.
    let port = stand::free_port();
    let azurite_endpoint = format!("http://127.0.0.1:{port}");
    let blob = stand::recorder(&azurite_endpoint, None).await;
    let stand = stand(None, false).await;
    const RESYNC: u64 = 15;
    let operator = run(&binary, &stand, &arm, &blob.endpoint, RESYNC);
    wait_for("the Config to name the account", &operator, Duration::from_secs(60), async || {
        azure_of(&stand.fake)["accountName"].as_str().is_some_and(|a| !a.is_empty())
    })
    .await;
    let account = azure_of(&stand.fake)["accountName"].as_str().unwrap().to_owned();
    let _azurite = stand::OwnAzurite::start(port, &format!("{account}:{KEY}")).await;
    wait_for("the registry to be available", &operator, Duration::from_secs(180), async || available(&stand.fake))
        .await;
    let container = azure_of(&stand.fake)["container"].as_str().unwrap().to_owned();
    {
        let model = arm.double.model.lock().unwrap();
        let created = &model.accounts[&account];
        assert_eq!(created.group, "cluster-rg");
        assert_eq!(
            created.tags.get(&format!("kubernetes.io_cluster.{}", stand.infra)).map(String::as_str),
            Some("owned")
        );
        assert_eq!(created.created_with["location"], "eastus");
        assert_eq!(model.mutations().iter().filter(|m| m.starts_with("PUT ")).count(), 1, "{:?}", model.log);
    }
    assert!(containers(&azurite_endpoint, &account).exists(&container).await.unwrap(), "the container exists");

    // A quiet minute: no mutating ARM or blob call (ListKeys is a POST: the key is cached),
    // reads at most once per resync period, no API writes.
    let budget = 60 / RESYNC as usize + 1;
    let keys = arm.double.model.lock().unwrap().list_keys();
    let idle = shipped::quiet_minute(&stand.fake, &arm.front, budget).await;
    println!("ARM requests: {} reads in 60 s idle (resync {RESYNC} s, budget {budget})", idle.len());
    assert_eq!(arm.double.model.lock().unwrap().list_keys(), keys, "no ListKeys at the fixpoint");
    let blob_calls = blob.log().len();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(stand::mutations(&blob.log()[blob_calls..]).is_empty());

    set_management_state(&stand.fake, "Removed").await;
    wait_for("the account to be deleted", &operator, Duration::from_secs(90), async || {
        !arm.double.model.lock().unwrap().accounts.contains_key(&account)
    })
    .await;
    let deletes: Vec<String> = stand::mutations(&blob.log()).into_iter().filter(|m| m.starts_with("DELETE")).collect();
    assert_eq!(deletes.len(), 1, "the container was deleted first: {deletes:?}");
    shipped::assert_secrets_kept(&stand.fake, operator, &[CLIENT_SECRET, KEY, "arm-double-token-"]);
}

/// Azure US Government (issue 24): the bootstrapped Config names the cloud, the registry's
/// realm is the cloud's storage suffix, and the account is made through the Resource Manager as
/// on the public cloud (the stand stands in for the cloud's endpoints).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_us_government_cluster_records_its_cloud_and_gives_the_registry_its_realm() {
    let (Some(_), Some(binary)) = (stand::azurite(), shipped()) else { return };
    let arm = arm().await;
    let port = stand::free_port();
    let blob = stand::recorder(&format!("http://127.0.0.1:{port}"), None).await;
    let stand = stand_of("azure-usgov-fresh.yaml", None, false).await;
    let operator = run(&binary, &stand, &arm, &blob.endpoint, 600);
    wait_for("the Config to name the account", &operator, Duration::from_secs(60), async || {
        azure_of(&stand.fake)["accountName"].as_str().is_some_and(|a| !a.is_empty())
    })
    .await;
    assert_eq!(azure_of(&stand.fake)["cloudName"], "AzureUSGovernmentCloud");
    let account = azure_of(&stand.fake)["accountName"].as_str().unwrap().to_owned();
    let _azurite = stand::OwnAzurite::start(port, &format!("{account}:{KEY}")).await;
    wait_for("the registry to be available", &operator, Duration::from_secs(180), async || available(&stand.fake))
        .await;
    assert!(arm.double.model.lock().unwrap().accounts.contains_key(&account), "the account was made through ARM");
    let deployment = object(&stand.fake, "Deployment", "image-registry").unwrap();
    let env = deployment["spec"]["template"]["spec"]["containers"][0]["env"].as_array().unwrap().clone();
    let realm = env.iter().find(|e| e["name"] == "REGISTRY_STORAGE_AZURE_REALM").map(|e| e["value"].clone());
    assert_eq!(realm, Some(json!("core.usgovcloudapi.net")), "{env:#?}");
    shipped::assert_secrets_kept(&stand.fake, operator, &[CLIENT_SECRET, KEY]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_network_access_makes_the_account_private_and_removed_takes_the_endpoint_first() {
    let (Some(_), Some(binary)) = (stand::azurite(), shipped()) else { return };
    let arm = arm().await;
    let port = stand::free_port();
    let azurite_endpoint = format!("http://127.0.0.1:{port}");
    let blob = stand::recorder(&azurite_endpoint, None).await;
    let config = json!({"apiVersion": "imageregistry.operator.openshift.io/v1", "kind": "Config", "metadata": {"name": "cluster"},
        "spec": {"managementState": "Managed", "replicas": 1, "storage": {"azure": {"networkAccess": {"type": "Internal"}}}}});
    let stand = stand(Some(config), false).await;
    // The installer's vnet, tagged as this cluster's, and another cluster's.
    {
        let mut model = arm.double.model.lock().unwrap();
        let tag = format!("kubernetes.io_cluster.{}", stand.infra);
        stand::arm_double::add_vnet(
            &mut model,
            "cluster-rg",
            "someone-elses-vnet",
            &[("kubernetes.io_cluster.other", "owned")],
            &["x"],
        );
        stand::arm_double::add_vnet(
            &mut model,
            "cluster-rg",
            "cluster-vnet",
            &[(&tag, "owned")],
            &["worker-subnet", "master-subnet"],
        );
    }
    let operator = run(&binary, &stand, &arm, &blob.endpoint, 600);
    wait_for("the Config to name the account", &operator, Duration::from_secs(60), async || {
        azure_of(&stand.fake)["accountName"].as_str().is_some_and(|a| !a.is_empty())
    })
    .await;
    let account = azure_of(&stand.fake)["accountName"].as_str().unwrap().to_owned();
    let _azurite = stand::OwnAzurite::start(port, &format!("{account}:{KEY}")).await;
    wait_for("public network access to be disabled", &operator, Duration::from_secs(180), async || {
        arm.double.model.lock().unwrap().private_accounts.contains(&account)
    })
    .await;
    let internal = azure_of(&stand.fake)["networkAccess"].clone();
    assert_eq!(internal["type"], "Internal", "the user's value is kept: {internal:#}");
    assert_eq!(internal["internal"]["vnetName"], "cluster-vnet", "{internal:#}");
    assert_eq!(internal["internal"]["subnetName"], "worker-subnet");
    assert_eq!(internal["internal"]["networkResourceGroupName"], "cluster-rg");
    let endpoint = internal["internal"]["privateEndpointName"].as_str().unwrap().to_owned();
    {
        let model = arm.double.model.lock().unwrap();
        let made = |suffix: &str| model.network.keys().any(|k| k.ends_with(suffix));
        let created = &model.network[&format!("cluster-rg/providers/Microsoft.Network/privateEndpoints/{endpoint}")];
        assert!(
            created["properties"]["subnet"]["id"]
                .as_str()
                .unwrap()
                .ends_with("/virtualNetworks/cluster-vnet/subnets/worker-subnet"),
            "{created:#}"
        );
        assert_eq!(created["properties"]["privateLinkServiceConnections"][0]["properties"]["groupIds"][0], "blob");
        assert!(made("privateDnsZones/privatelink.blob.core.windows.net"), "the DNS zone");
        assert!(made(&format!("privateDnsZones/privatelink.blob.core.windows.net/A/{account}")), "the A record");
        assert!(made("privateDnsZoneGroups/privatelink-blob-core-windows-net"), "the zone group");
        assert!(made(&format!("virtualNetworkLinks/{account}")), "the vnet link");
        let record = &model.network[&format!(
            "cluster-rg/providers/Microsoft.Network/privateDnsZones/privatelink.blob.core.windows.net/A/{account}"
        )];
        assert_eq!(record["properties"]["aRecords"][0]["ipv4Address"], "10.0.0.4");
    }
    wait_for("the registry to be available", &operator, Duration::from_secs(120), async || available(&stand.fake))
        .await;

    set_management_state(&stand.fake, "Removed").await;
    wait_for("the account to be deleted", &operator, Duration::from_secs(90), async || {
        !arm.double.model.lock().unwrap().accounts.contains_key(&account)
    })
    .await;
    let model = arm.double.model.lock().unwrap();
    let deletes: Vec<&String> = model.log.iter().filter(|l| l.starts_with("DELETE ")).collect();
    let at = |what: &str| {
        deletes.iter().position(|l| l.ends_with(what)).unwrap_or_else(|| panic!("{what} deleted: {deletes:?}"))
    };
    let (zone_group, link, record) = (
        at("privateDnsZoneGroups/privatelink-blob-core-windows-net"),
        at(&format!("virtualNetworkLinks/{account}")),
        at(&format!("/A/{account}")),
    );
    let (private_endpoint, storage) =
        (at(&format!("privateEndpoints/{endpoint}")), at(&format!("storageAccounts/{account}")));
    assert!(zone_group < private_endpoint && link < private_endpoint && record < private_endpoint, "{deletes:?}");
    assert!(private_endpoint < storage, "the endpoint goes before the account: {deletes:?}");
    assert!(
        !model.network.keys().any(|k| k.contains("privateEndpoints/") || k.contains("virtualNetworkLinks/")),
        "{:?}",
        model.network.keys()
    );
    drop(model);
    assert_eq!(
        stand::mutations(&blob.log()).into_iter().filter(|m| m.starts_with("DELETE")).count(),
        1,
        "the container was deleted"
    );
    drop(operator);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_users_account_key_is_used_and_the_account_survives_removed() {
    let (Some(azurite), Some(binary)) = (stand::azurite(), shipped()) else { return };
    let arm = arm().await;
    let blob = stand::recorder(&azurite, None).await;
    let users: String = stand::unique("users").to_lowercase().chars().take(40).collect();
    containers(&azurite, "devstoreaccount1").create(&users).await.unwrap();
    let config = shipped::users_config(json!({"azure": {"accountName": "devstoreaccount1", "container": users}}));
    let stand = stand(Some(config), true).await;
    let mut operator = run(&binary, &stand, &arm, &blob.endpoint, 600);
    shipped::users_storage_is_adopted_then_removed(&stand.fake, &operator).await;
    // A changed cluster CA bundle ends the run (as SIGTERM does), to be restarted with it.
    let mut bundle = std::fs::read_to_string(&arm.ca_file).unwrap();
    bundle.push_str(&stand::tls_for_localhost().0);
    std::fs::write(&arm.ca_file, bundle).unwrap();
    let ended = operator.ended_within(Duration::from_secs(20)).await;
    assert_eq!(ended.map(|s| s.code()), Some(Some(0)), "the run ended cleanly on the changed bundle");
    let log = std::fs::read_to_string(&operator.log).unwrap();
    assert!(log.contains("the cluster CA bundle changed"), "{log}");
    drop(operator);
    assert!(
        containers(&azurite, "devstoreaccount1").exists(&users).await.unwrap(),
        "the user's container is still there"
    );
    assert_eq!(stand::mutations(&blob.log()), Vec::<String>::new(), "nothing was written to the user's account");
    assert_eq!(
        arm.double.model.lock().unwrap().log,
        Vec::<String>::new(),
        "no Resource Manager call with the user's key"
    );
}
