//! The shipped Azure clients: the blob container calls against azurite, signed with the
//! account key by the project's Shared Key policy (the official blob crate signs only with
//! tokens), and refused with a wrong key; storage accounts through the ARM client against the
//! project's ARM and Entra ID double (behind TLS), with tokens from `azure_identity`: created
//! as a long-running operation with the cluster's tags and settings, keys listed, deleted,
//! throttling waited out, errors kept with ARM's code; the blob calls with an Entra token
//! (workload identity) against an azurite that takes only tokens.

use crate::stand;

use image_registry_core::outcome::ErrorClass;
use image_registry_operator::cloud::azure::arm::Arm;
use image_registry_operator::cloud::azure::blob::{BlobAuth, Containers};
use image_registry_operator::cloud::calls::CallCounter;

/// azurite's well-known development account and key (public, in every Azure emulator doc).
const ACCOUNT: &str = "devstoreaccount1";
const KEY: &str = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

fn containers(endpoint: &str, key: &str) -> Containers {
    containers_counted(endpoint, key, &CallCounter::default())
}

fn containers_counted(endpoint: &str, key: &str, calls: &CallCounter) -> Containers {
    let http = image_registry_operator::cloud::http::client(
        image_registry_operator::cloud::http::roots(None, "Azure").unwrap(),
        "Azure",
    )
    .unwrap();
    Containers::new(ACCOUNT, &format!("{endpoint}/{ACCOUNT}"), BlobAuth::Key(key.to_owned()), http, calls.clone())
}

#[tokio::test]
async fn containers_are_created_found_and_deleted_with_the_account_key() {
    let Some(endpoint) = stand::azurite() else { return };
    let calls = CallCounter::default();
    let blob = containers_counted(&endpoint, KEY, &calls);
    let name = stand::unique("registry").to_lowercase().replace('_', "-");
    let name: String = name.chars().take(63).collect();
    assert!(!blob.exists(&name).await.unwrap());
    blob.create(&name).await.unwrap();
    assert!(blob.exists(&name).await.unwrap());
    blob.create(&name).await.expect("creating an existing container is done");
    blob.delete(&name).await.unwrap();
    assert!(!blob.exists(&name).await.unwrap());
    blob.delete(&name).await.expect("deleting a deleted container is done");
    assert_eq!(assert_permitted(&calls), 3);
}

fn assert_permitted(calls: &CallCounter) -> usize {
    stand::assert_permitted(calls, image_registry_operator::cloud::azure::permissions::CALLS)
}

#[tokio::test]
async fn a_wrong_key_is_refused_and_named() {
    let Some(endpoint) = stand::azurite() else { return };
    let wrong = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWtleQ==";
    let err = containers(&endpoint, wrong).exists("registry").await.unwrap_err();
    assert_eq!((err.status, err.class), (Some(403), ErrorClass::Forbidden), "{err:?}");
    assert!(err.message.starts_with("GetContainerProperties: "), "{}", err.message);
    assert!(!err.message.contains(wrong));
}

/// Workload identity's blob path: the container calls carry an Entra token for the storage
/// audience instead of a key, against an azurite of the test's own that accepts tokens only
/// over HTTPS (`--oauth basic` checks the issuer, the audience and the lifetime); a token made
/// for another service is refused and classified.
#[tokio::test]
async fn containers_are_managed_with_an_entra_token() {
    if stand::azurite().is_none() {
        return;
    }
    let (arm, endpoint, arm_http) = arm_stand().await;
    let dir = std::env::temp_dir().join(stand::unique("azurite-tls"));
    let (ca, cert, key) = stand::tls_files_for_localhost(&dir);
    let port = stand::free_port();
    let oauth = ["--cert", cert.as_str(), "--key", key.as_str(), "--oauth", "basic"];
    let _azurite = stand::OwnAzurite::start_with(port, &format!("{ACCOUNT}:{KEY}"), &oauth).await;
    let roots = image_registry_operator::cloud::http::roots(Some(&ca), "Azure").unwrap();
    let http = image_registry_operator::cloud::http::client(roots, "Azure").unwrap();
    let blobs = |calls: &CallCounter| {
        let credential = image_registry_operator::cloud::azure::identity::credential(
            &app_credentials(stand::arm_double::CLIENT_SECRET),
            &endpoint,
            arm_http.clone(),
        )
        .unwrap();
        let blob_endpoint = format!("https://127.0.0.1:{port}/{ACCOUNT}");
        Containers::new(ACCOUNT, &blob_endpoint, BlobAuth::Token(credential), http.clone(), calls.clone())
    };

    let calls = CallCounter::default();
    let blob = blobs(&calls);
    assert!(!blob.exists("registry").await.unwrap());
    blob.create("registry").await.unwrap();
    assert!(blob.exists("registry").await.unwrap());
    blob.delete("registry").await.unwrap();
    assert!(!blob.exists("registry").await.unwrap());
    assert_eq!(assert_permitted(&calls), 3);
    assert_eq!(arm.model.lock().unwrap().tokens.len(), 1, "one token, reused for every call");

    arm.model.lock().unwrap().audience = Some("https://management.azure.com".into());
    let err = blobs(&CallCounter::default()).create("registry").await.unwrap_err();
    assert_eq!((err.status, err.class), (Some(403), ErrorClass::Forbidden), "{err:?}");
    // The service's own words are kept, without the request ID that differs on every try.
    assert!(err.message.starts_with("CreateContainer: AuthenticationFailed: Server failed"), "{}", err.message);
    assert!(!err.message.contains("RequestId") && !err.message.contains('\n'), "{}", err.message);
    assert!(!err.message.contains("arm-double-token-"), "{}", err.message);
    let _ = std::fs::remove_dir_all(dir);
}

/// The ARM double behind TLS (the SDK sends tokens over HTTPS only), a client trusting its CA,
/// and credentials for its app.
async fn arm_stand() -> (stand::arm_double::Arm, String, reqwest::Client) {
    let (arm, base) = stand::arm_double::start().await;
    let (ca, tls) = stand::tls_for_localhost();
    let front = stand::recorder(&arm.endpoint, Some(tls)).await;
    *base.lock().unwrap() = front.endpoint.clone();
    let roots = image_registry_operator::cloud::http::roots(Some(&ca), "Azure").unwrap();
    let http = image_registry_operator::cloud::http::client(roots, "Azure").unwrap();
    (arm, front.endpoint, http)
}

fn app_credentials(secret: &str) -> image_registry_core::storage::azure::Credentials {
    image_registry_core::storage::azure::Credentials {
        subscription_id: stand::arm_double::SUBSCRIPTION.into(),
        tenant_id: stand::arm_double::TENANT.into(),
        client_id: stand::arm_double::CLIENT_ID.into(),
        client_secret: secret.into(),
        resource_group: "cluster-rg".into(),
        region: "eastus".into(),
        ..Default::default()
    }
}

fn arm_client(endpoint: &str, http: &reqwest::Client, secret: &str, calls: &CallCounter) -> Arm {
    arm_client_as(endpoint, http, &app_credentials(secret), calls)
}

fn arm_client_as(
    endpoint: &str,
    http: &reqwest::Client,
    credentials: &image_registry_core::storage::azure::Credentials,
    calls: &CallCounter,
) -> Arm {
    let credential =
        image_registry_operator::cloud::azure::identity::credential(credentials, endpoint, http.clone()).unwrap();
    Arm::new(
        endpoint,
        "https://management.azure.com/",
        stand::arm_double::SUBSCRIPTION,
        credential,
        http.clone(),
        calls.clone(),
    )
}

#[tokio::test]
async fn storage_accounts_are_created_tagged_keyed_and_deleted_through_arm() {
    let (arm, endpoint, http) = arm_stand().await;
    let calls = CallCounter::default();
    let client = arm_client(&endpoint, &http, stand::arm_double::CLIENT_SECRET, &calls);
    assert_eq!(client.get_account("cluster-rg", "registryacct").await.unwrap(), None);
    let tags = std::collections::BTreeMap::from([("kubernetes.io_cluster.c1".to_owned(), "owned".to_owned())]);
    client.create_account("cluster-rg", "registryacct", "eastus", &tags).await.unwrap();
    let found = client.get_account("cluster-rg", "registryacct").await.unwrap().expect("created");
    assert_eq!(found.tags, tags);
    let created = arm.model.lock().unwrap().accounts["registryacct"].created_with.clone();
    assert_eq!(created["kind"], "StorageV2");
    assert_eq!(created["sku"]["name"], "Standard_LRS");
    assert_eq!(created["properties"]["supportsHttpsTrafficOnly"], true);
    assert_eq!(created["properties"]["allowBlobPublicAccess"], false);
    assert_eq!(created["properties"]["minimumTlsVersion"], "TLS1_2");
    assert_eq!(
        client.primary_key("cluster-rg", "registryacct").await.unwrap().as_deref(),
        Some(stand::arm_double::KEY)
    );
    assert_eq!(found.allow_shared_key_access, None, "Azure's default: allowed");
    client.disallow_shared_key("cluster-rg", "registryacct").await.unwrap();
    let updated = client.get_account("cluster-rg", "registryacct").await.unwrap().expect("still there");
    assert_eq!(updated.allow_shared_key_access, Some(false));
    client.delete_account("cluster-rg", "registryacct").await.unwrap();
    assert_eq!(client.get_account("cluster-rg", "registryacct").await.unwrap(), None);
    client.delete_account("cluster-rg", "registryacct").await.expect("deleting a deleted account is done");
    assert_eq!(client.primary_key("cluster-rg", "registryacct").await.unwrap(), None);
    let log = arm.model.lock().unwrap().log.clone();
    assert_eq!(log.iter().filter(|l| l.contains("/oauth2/")).count(), 1, "one token serves every call: {log:?}");
    assert!(log.iter().any(|l| l.starts_with("GET /operations/")), "the create was followed: {log:?}");
    assert_eq!(assert_permitted(&calls), 6, "get, create, poll, list keys, update, delete: all permitted");
}

/// Azure Stack Hub's profile: its older storage API on every account call, and a `Storage`
/// account with the cluster's tags and none of the settings its API does not know.
#[tokio::test]
async fn stack_hub_accounts_use_its_api_profile() {
    let (arm, endpoint, http) = arm_stand().await;
    let client = arm_client(&endpoint, &http, stand::arm_double::CLIENT_SECRET, &CallCounter::default()).on_stack_hub();
    let tags = std::collections::BTreeMap::from([("kubernetes.io_cluster.c1".to_owned(), "owned".to_owned())]);
    client.create_account("cluster-rg", "stackacct", "local", &tags).await.unwrap();
    assert!(client.get_account("cluster-rg", "stackacct").await.unwrap().is_some());
    assert_eq!(client.primary_key("cluster-rg", "stackacct").await.unwrap().as_deref(), Some(stand::arm_double::KEY));
    client.delete_account("cluster-rg", "stackacct").await.unwrap();
    let model = arm.model.lock().unwrap();
    assert_eq!(model.storage_api_versions, std::collections::BTreeSet::from(["2019-06-01".to_owned()]));
    let created = &model.operations.values().next().unwrap().1.created_with;
    assert_eq!(created["kind"], "Storage");
    assert_eq!(created["sku"]["name"], "Standard_LRS");
    assert_eq!(created["tags"]["kubernetes.io_cluster.c1"], "owned");
    assert!(created.get("properties").is_none(), "{created}");
}

#[tokio::test]
async fn private_endpoints_are_made_and_removed_through_arm() {
    use image_registry_operator::cloud::azure::network::Private;
    let (arm, endpoint, http) = arm_stand().await;
    let calls = CallCounter::default();
    let client = arm_client(&endpoint, &http, stand::arm_double::CLIENT_SECRET, &calls);
    {
        let mut model = arm.model.lock().unwrap();
        stand::arm_double::add_vnet(
            &mut model,
            "net-rg",
            "vnet-a",
            &[("kubernetes.io_cluster.c1", "owned")],
            &["s1", "s2"],
        );
        stand::arm_double::add_vnet(&mut model, "net-rg", "vnet-b", &[], &[]);
        stand::arm_double::add_vnet(&mut model, "net-rg", "vnet-c", &[], &["s3"]);
        model.vnets_per_page = 2;
    }
    let vnets = client.list_vnets("net-rg").await.unwrap();
    assert_eq!(vnets.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(), ["vnet-a", "vnet-b", "vnet-c"]);
    let pages = arm.model.lock().unwrap().log.iter().filter(|l| l.ends_with("/virtualNetworks")).count();
    assert_eq!(pages, 2, "the second page was followed through nextLink");
    assert_eq!(vnets[0].subnets, ["s1", "s2"]);
    assert_eq!(vnets[0].tags.get("kubernetes.io_cluster.c1").map(String::as_str), Some("owned"));
    let tags = std::collections::BTreeMap::from([("kubernetes.io_cluster.c1".to_owned(), "owned".to_owned())]);
    client.create_account("cluster-rg", "privacct", "eastus", &tags).await.unwrap();
    let private = Private {
        account: "privacct",
        group: "cluster-rg",
        location: "eastus",
        tags: &tags,
        endpoint: "privacct-pe",
        network_group: "net-rg",
        vnet: "vnet-a",
        subnet: "s1",
        zone: "privatelink.blob.core.windows.net",
    };
    client.make_private(&private).await.unwrap();
    client.make_private(&private).await.expect("every step is idempotent");
    let account = client.get_account("cluster-rg", "privacct").await.unwrap().unwrap();
    assert_eq!(account.public_network_access, "Disabled");
    let made = arm.model.lock().unwrap().network.keys().filter(|k| !k.contains("virtualNetworks/")).count();
    assert_eq!(made, 5, "endpoint, zone, record, zone group, link");
    client.remove_private("cluster-rg", "privacct", "privacct-pe", "privatelink.blob.core.windows.net").await.unwrap();
    client.remove_private("cluster-rg", "privacct", "privacct-pe", "privatelink.blob.core.windows.net").await.unwrap();
    let left: Vec<String> =
        arm.model.lock().unwrap().network.keys().filter(|k| !k.contains("virtualNetworks/")).cloned().collect();
    assert_eq!(
        left,
        ["cluster-rg/providers/Microsoft.Network/privateDnsZones/privatelink.blob.core.windows.net"],
        "the shared zone stays"
    );
    assert!(assert_permitted(&calls) >= 12);
}

#[tokio::test]
async fn arm_throttling_waits_for_retry_after_and_errors_keep_their_code() {
    let (arm, endpoint, http) = arm_stand().await;
    let calls = CallCounter::default();
    let client = arm_client(&endpoint, &http, stand::arm_double::CLIENT_SECRET, &calls);
    assert_eq!(client.get_account("cluster-rg", "warmup").await.unwrap(), None);
    arm.model.lock().unwrap().throttle = 2;
    let started = std::time::Instant::now();
    assert_eq!(client.get_account("cluster-rg", "registryacct").await.unwrap(), None);
    assert!(started.elapsed() >= std::time::Duration::from_secs(2), "Retry-After was honoured");
    arm.model.lock().unwrap().taken.insert("takenacct".into());
    let err = client.create_account("cluster-rg", "takenacct", "eastus", &Default::default()).await.unwrap_err();
    assert_eq!((err.class, err.code.as_str()), (ErrorClass::AlreadyExists, "StorageAccountAlreadyTaken"));
    assert!(err.message.starts_with("CreateStorageAccount: StorageAccountAlreadyTaken"), "{}", err.message);

    let refused = arm_client(&endpoint, &http, "not-the-secret", &CallCounter::default());
    let err = refused.get_account("cluster-rg", "registryacct").await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Forbidden, "{err:?}");
    assert!(!err.message.contains("not-the-secret"), "{}", err.message);
}

/// Workload identity: no client secret, the projected token file presented as the client
/// assertion; a token file that cannot be read is a named error, not a guess.
#[tokio::test]
async fn workload_identity_exchanges_the_projected_token() {
    let (arm, endpoint, http) = arm_stand().await;
    let file = std::env::temp_dir().join(format!("{}.token", stand::unique("federated")));
    std::fs::write(&file, stand::arm_double::FEDERATED_TOKEN).unwrap();
    let federated = image_registry_core::storage::azure::Credentials {
        client_secret: String::new(),
        federated_token_file: file.display().to_string(),
        ..app_credentials("")
    };
    let client = arm_client_as(&endpoint, &http, &federated, &CallCounter::default());
    assert_eq!(client.get_account("cluster-rg", "registryacct").await.unwrap(), None);
    assert_eq!(arm.model.lock().unwrap().tokens.len(), 1, "a token was issued for the assertion");
    std::fs::write(&file, "a-token-the-issuer-never-made").unwrap();
    let refused = arm_client_as(&endpoint, &http, &federated, &CallCounter::default());
    let err = refused.get_account("cluster-rg", "registryacct").await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Forbidden, "{err:?}");
    let neither = image_registry_core::storage::azure::Credentials { federated_token_file: String::new(), ..federated };
    let err =
        image_registry_operator::cloud::azure::identity::credential(&neither, &endpoint, http.clone()).unwrap_err();
    assert!(err.contains("azure_client_secret") && err.contains("azure_federated_token_file"), "{err}");
}

#[tokio::test]
async fn the_arm_double_answers_as_arm_does() {
    use stand::arm_double::{CLIENT_ID, CLIENT_SECRET, Model, SUBSCRIPTION, TENANT, handle};
    let mut model = Model::default();
    let token_path = format!("/{TENANT}/oauth2/v2.0/token");
    let form = format!("client_id={CLIENT_ID}&client_secret={CLIENT_SECRET}&grant_type=client_credentials&scope=x");
    assert_eq!(handle(&mut model, "https://arm", "POST", &token_path, "", form.as_bytes()).status(), 200);
    let bad = format!("client_id={CLIENT_ID}&client_secret=wrong&grant_type=client_credentials");
    assert_eq!(handle(&mut model, "https://arm", "POST", &token_path, "", bad.as_bytes()).status(), 401);
    let auth = format!("Bearer {}", model.tokens[0]);
    let path =
        format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/a1");
    assert_eq!(handle(&mut model, "https://arm", "GET", &path, "Bearer forged", b"").status(), 401);
    assert_eq!(handle(&mut model, "https://arm", "GET", &path, &auth, b"").status(), 404);
    let created =
        handle(&mut model, "https://arm", "PUT", &path, &auth, br#"{"location": "eastus", "tags": {"t": "v"}}"#);
    assert_eq!(created.status(), 202);
    let operation =
        created.headers()["azure-asyncoperation"].to_str().unwrap().trim_start_matches("https://arm").to_owned();
    assert_eq!(
        handle(&mut model, "https://arm", "GET", &path, &auth, b"").status(),
        404,
        "not there before it succeeds"
    );
    assert_eq!(handle(&mut model, "https://arm", "GET", &operation, &auth, b"").status(), 200);
    assert!(!model.accounts.contains_key("a1"), "in progress on the first poll");
    handle(&mut model, "https://arm", "GET", &operation, &auth, b"");
    assert_eq!(model.accounts["a1"].tags["t"], "v");
    assert_eq!(handle(&mut model, "https://arm", "POST", &format!("{path}/listKeys"), &auth, b"").status(), 200);
    model.throttle = 1;
    let throttled = handle(&mut model, "https://arm", "GET", &path, &auth, b"");
    assert_eq!((throttled.status().as_u16(), throttled.headers()["retry-after"].to_str().unwrap()), (429, "1"));
    assert_eq!(handle(&mut model, "https://arm", "DELETE", &path, &auth, b"").status(), 200);
    assert_eq!(handle(&mut model, "https://arm", "DELETE", &path, &auth, b"").status(), 204);
    assert_eq!(model.list_keys(), 1);
    assert!(model.log.iter().all(|l| !l.contains(CLIENT_SECRET)));
}
