//! Storage per backend: `fixtures/storage/<backend>/<case>.yaml` (issue 4).

use image_registry_core::action::{Action, KubeAction};
use image_registry_core::storage::{azure, gcs, s3, swift};
use image_registry_core::{Plan, reconcile};
use image_registry_tests::fixture;

fn plan(name: &str) -> Plan {
    reconcile(&fixture(&format!("storage/{name}")))
}

fn cloud_calls(plan: &Plan) -> Vec<String> {
    plan.steps
        .iter()
        .filter_map(|s| match &s.action {
            Action::Cloud(call) => Some(serde_json::to_value(call).unwrap()["call"].as_str().unwrap().to_owned()),
            Action::Kube(_) => None,
        })
        .collect()
}

/// The Config status a plan writes.
fn config_status(plan: &Plan) -> serde_json::Value {
    plan.steps
        .iter()
        .find_map(|s| match &s.action {
            Action::Kube(KubeAction::ApplyStatus { key, object, .. }) if key.kind == "Config" => {
                Some(object.expose().clone())
            }
            _ => None,
        })
        .unwrap()
}

#[test]
fn converged_backends_plan_nothing() {
    for backend in ["s3", "gcs", "azure", "swift", "ibmcos", "pvc", "emptydir"] {
        let plan = plan(&format!("{backend}/converged"));
        assert_eq!(
            plan.exit_code(),
            0,
            "{backend}: {:?}",
            plan.steps.iter().map(|s| s.action.describe()).collect::<Vec<_>>()
        );
    }
}

#[test]
fn fresh_backends_plan_the_spec_cloud_calls_in_order() {
    let expected: &[(&str, &[&str])] = &[
        (
            "s3",
            &[
                "s3CreateBucket",
                "s3PutPublicAccessBlock",
                "s3PutBucketTagging",
                "s3PutBucketEncryption",
                "s3PutLifecycleConfiguration",
            ],
        ),
        ("gcs", &["gcsCreateBucket"]),
        ("azure", &["azureCreateStorageAccount", "azureCreateContainer"]),
        ("swift", &["swiftCreateContainer"]),
        // The instance first; its CRN is recorded before its key and the bucket follow.
        ("ibmcos", &["ibmcosCreateServiceInstance"]),
        ("pvc", &[]),
        ("emptydir", &[]),
    ];
    for (backend, calls) in expected {
        let plan = plan(&format!("{backend}/fresh"));
        assert_eq!(plan.exit_code(), 2, "{backend}: {:?}", plan.errors);
        assert_eq!(cloud_calls(&plan), *calls, "{backend}");
        // Storage first, then the objects that use it.
        let first_object = plan
            .steps
            .iter()
            .position(|s| matches!(&s.action, Action::Kube(KubeAction::Apply { key, .. }) if key.kind == "Deployment"));
        let last_cloud = plan.steps.iter().rposition(|s| matches!(s.action, Action::Cloud(_)));
        if let (Some(object), Some(cloud)) = (first_object, last_cloud) {
            assert!(cloud < object, "{backend}: storage calls come before the Deployment");
        }
    }
}

#[test]
fn half_done_bucket_gets_only_the_missing_steps() {
    assert_eq!(cloud_calls(&plan("s3/half-done")), ["s3PutBucketTagging", "s3PutLifecycleConfiguration"]);
}

#[test]
fn user_provided_bucket_is_adopted_untouched() {
    let plan = plan("s3/user-provided");
    assert!(cloud_calls(&plan).is_empty(), "no tagging, encryption or deletion");
    let patch = plan.steps.iter().find_map(|s| match &s.action {
        Action::Kube(KubeAction::Patch { patch, .. }) => Some(patch.expose().clone()),
        _ => None,
    });
    assert_eq!(patch.unwrap()["spec"]["storage"]["managementState"], "Unmanaged");
}

#[test]
fn another_accounts_bucket_is_reported_not_retried() {
    let plan = plan("s3/owned-by-another-account");
    assert!(cloud_calls(&plan).is_empty());
    let status = config_status(&plan);
    let conditions = status["status"]["conditions"].as_array().unwrap();
    let exists = conditions.iter().find(|c| c["type"] == "StorageExists").unwrap();
    assert_eq!(exists["reason"], "Unable to Access Bucket");
    let degraded = conditions.iter().find(|c| c["type"] == "Degraded").unwrap();
    assert_eq!(
        (degraded["status"].as_str(), degraded["reason"].as_str()),
        (Some("True"), Some("StorageNotAccessible"))
    );
}

#[test]
fn removal_deletes_only_managed_storage() {
    assert_eq!(cloud_calls(&plan("s3/removal-managed")), ["s3DeleteBucket"]);
    assert!(cloud_calls(&plan("s3/removal-unmanaged")).is_empty());
}

#[test]
fn user_credentials_override_wins() {
    let plan = plan("s3/user-credentials");
    let secret =
        plan.steps.iter().find(|s| s.action.describe().contains("image-registry-private-configuration")).unwrap();
    let Action::Kube(KubeAction::Apply { object, changes, .. }) = &secret.action else { panic!() };
    assert_eq!(changes.iter().map(|c| c.path.as_str()).collect::<Vec<_>>().first(), Some(&"data.credentials"));
    let file = object.expose()["data"]["credentials"].as_str().unwrap();
    let decoded: k8s_openapi::ByteString = serde_json::from_value(serde_json::json!(file)).unwrap();
    assert!(String::from_utf8(decoded.0).unwrap().contains("aws_access_key_id = AKIAUSEROVERRIDE0001"));
    assert!(!serde_json::to_string(&secret).unwrap().contains("AKIAUSEROVERRIDE0001"), "printed plans stay redacted");
    assert!(plan.steps.iter().any(|s| s.action.describe().starts_with("apply Deployment")), "the registry rolls out");
}

#[test]
fn malformed_credentials_name_the_secret_and_key() {
    let plan = plan("s3/malformed-credentials");
    let message = &plan.errors[0].message;
    assert!(message.contains("image-registry-private-configuration-user"), "{message}");
    assert!(message.contains("REGISTRY_STORAGE_S3_SECRETKEY"), "{message}");
    assert!(!message.contains("AKIAUSEROVERRIDE0002"));
}

#[test]
fn a_vanished_managed_bucket_is_reported_not_recreated_until_status_is_cleared() {
    let plan = plan("s3/bucket-disappeared");
    assert!(cloud_calls(&plan).is_empty(), "{:?}", cloud_calls(&plan));
    let status = config_status(&plan);
    let conditions = status["status"]["conditions"].as_array().unwrap();
    let find = |t: &str| conditions.iter().find(|c| c["type"] == t).unwrap().clone();
    assert_eq!(find("StorageExists")["reason"], "S3 Bucket Missing");
    assert_eq!(find("Degraded")["reason"], "StorageMissing");
    // The user asks for a new bucket by clearing status.storage.
    let mut observed = fixture("storage/s3/bucket-disappeared");
    image_registry_tests::edit_config(&mut observed, |c| c.status.as_mut().unwrap().storage = Default::default());
    assert_eq!(cloud_calls(&reconcile(&observed)).first().map(String::as_str), Some("s3CreateBucket"));
}

/// Storage the operator created is `Managed` (spec 30 §4.8, §5.3, §6.7, §7.7): for every
/// backend and every way a Config can start: bootstrapped by the operator, made by a user with
/// empty names (no storage management state), made by a user with names of storage that does
/// not exist yet. Only then is it tagged, protected, and removed on Removed.
#[test]
fn storage_the_operator_created_is_managed_however_the_config_started() {
    use image_registry_core::action::CloudAction;
    use image_registry_core::api::Config;
    use image_registry_core::outcome::OutcomeResult;
    use image_registry_tests::edit_config;
    use image_registry_world::run::simulate;

    let creates = |call: &CloudAction| {
        matches!(
            call,
            CloudAction::S3(s3::call::Call::CreateBucket { .. })
                | CloudAction::Gcs(gcs::call::Call::CreateBucket { .. })
                | CloudAction::Azure(azure::call::Call::CreateStorageAccount { .. })
                | CloudAction::Azure(azure::call::Call::CreateContainer { .. })
                | CloudAction::Swift(swift::call::Call::CreateContainer { .. })
                | CloudAction::IbmCos(image_registry_core::storage::ibmcos::call::Call::CreateBucket { .. })
        )
    };
    for backend in ["s3", "gcs", "azure", "swift", "ibmcos"] {
        let base = fixture(&format!("storage/{backend}/fresh"));
        let mut empty_names = base.clone();
        edit_config(&mut empty_names, |c: &mut Config| {
            let storage = &mut c.spec.storage;
            storage.management_state.clear();
            if let Some(s3) = &mut storage.s3 {
                s3.bucket.clear();
            }
            if let Some(gcs) = &mut storage.gcs {
                gcs.bucket.clear();
            }
            if let Some(azure) = &mut storage.azure {
                azure.account_name.clear();
                azure.container.clear();
            }
            if let Some(swift) = &mut storage.swift {
                swift.container.clear();
            }
            if let Some(cos) = &mut storage.ibmcos {
                cos.bucket.clear();
            }
        });
        let mut bootstrapped = base.clone();
        bootstrapped.objects.remove(&image_registry_core::ObjectKey::of::<Config>("", "cluster"));
        for (how, observed) in
            [("user-made with names", base), ("user-made, empty names", empty_names), ("bootstrapped", bootstrapped)]
        {
            let report = simulate(observed, 12, vec![]);
            let created = report.passes.iter().any(|p| {
                p.plan.steps.iter().zip(&p.outcomes).any(|(s, o)| {
                    matches!(&s.action, Action::Cloud(call) if creates(call)) && o.result == OutcomeResult::Succeeded
                })
            });
            assert!(created, "{backend}, {how}: the operator created the storage");
            let config: Config = report.world.observed.objects.get("", "cluster").unwrap().unwrap();
            assert_eq!(config.spec.storage.management_state, "Managed", "{backend}, {how}");
        }
    }
}

/// `StorageExists` is re-checked every pass (spec 30 §4.7): "Creation Successful" on the pass
/// that sees the bucket it created, then the reference's steady reason.
#[test]
fn storage_exists_settles_on_the_references_reason() {
    use image_registry_world::run::simulate;
    for (backend, reason) in [
        ("s3", "S3 Bucket Exists"),
        ("gcs", "GCS Bucket Exists"),
        ("azure", "ContainerExists"),
        ("swift", "Swift container Exists"),
        ("ibmcos", "IBM COS Bucket Exists"),
    ] {
        let report = simulate(fixture(&format!("storage/{backend}/fresh")), 12, vec![]);
        let config: image_registry_core::api::Config =
            report.world.observed.objects.get("", "cluster").unwrap().unwrap();
        let conditions = config.status.unwrap_or_default().conditions;
        let exists = conditions.iter().find(|c| c.type_ == "StorageExists").unwrap();
        assert_eq!(exists.reason, reason, "{backend}: {exists:?}");
    }
}

/// A cluster ID the installer left empty names no storage: every backend that generates a
/// name reports the field instead of planning `-image-registry-…` (issue 11).
#[test]
fn an_empty_infrastructure_name_is_reported_not_used_in_a_name() {
    use image_registry_core::api::openshift::Infrastructure;
    use image_registry_core::observed::ObjectKey;
    for backend in ["s3", "gcs", "azure", "swift"] {
        let mut observed = fixture(&format!("storage/{backend}/converged"));
        let key = ObjectKey::of::<Infrastructure>("", "cluster");
        let mut infrastructure = observed.objects.raw(&key).unwrap().clone();
        infrastructure["status"]["infrastructureName"] = serde_json::json!("");
        observed.objects.insert(infrastructure).unwrap();
        image_registry_tests::edit_config(&mut observed, |config| {
            let storage = &mut config.spec.storage;
            if let Some(s3) = storage.s3.as_mut() {
                s3.bucket.clear();
            }
            if let Some(gcs) = storage.gcs.as_mut() {
                gcs.bucket.clear();
            }
            if let Some(azure) = storage.azure.as_mut() {
                azure.account_name.clear();
            }
            if let Some(swift) = storage.swift.as_mut() {
                swift.container.clear();
            }
        });
        let plan = reconcile(&observed);
        assert!(cloud_calls(&plan).is_empty(), "{backend}: {:?}", cloud_calls(&plan));
        let errors = format!("{:?}", plan.errors);
        assert!(errors.contains("status.infrastructureName"), "{backend}: {errors}");
        let status = config_status(&plan).to_string();
        assert!(status.contains("status.infrastructureName: empty"), "{backend}: {status}");
        let text = image_registry_core::render::text(&plan);
        assert!(!text.contains("\"-image-registry"), "{backend} names storage without a cluster ID:\n{text}");
    }
}

/// The AWS code the S3 client observed is the condition's reason, as in the reference
/// (`NotFound` from a HEAD, `Forbidden`, ...); without one the reason is `NoSuchBucket`.
#[test]
fn the_observed_aws_code_is_the_storage_exists_reason() {
    let reason = |code: &str| {
        let mut observed = fixture("storage/s3/fresh");
        for bucket in observed.cloud.s3.values_mut() {
            bucket.code = code.to_owned();
            bucket.message = format!("HeadBucket: {code}");
        }
        let status = config_status(&reconcile(&observed));
        let conditions = status["status"]["conditions"].as_array().unwrap().clone();
        let exists = conditions.into_iter().find(|c| c["type"] == "StorageExists").unwrap();
        (exists["reason"].as_str().unwrap().to_owned(), exists["message"].as_str().unwrap().to_owned())
    };
    assert_eq!(reason("NotFound"), ("NotFound".to_owned(), "HeadBucket: NotFound".to_owned()));
    assert_eq!(reason("").0, "NoSuchBucket");
}

/// Private endpoints plan offline: discovery persists the names first, then one call makes the
/// account private; an account already private plans nothing; a vnet that cannot be discovered
/// is named in the condition, and the user's `networkAccess` is never rewritten.
#[test]
fn azure_private_endpoints_are_planned_after_their_names_are_persisted() {
    let discovery = plan("azure/private-endpoint-discovery");
    assert!(cloud_calls(&discovery).is_empty(), "{:?}", cloud_calls(&discovery));
    let text = image_registry_core::render::text(&discovery);
    assert!(text.contains("spec.storage.azure.networkAccess.internal"), "{text}");
    assert!(text.contains("mycluster-x7k2p-vnet") && text.contains("mycluster-x7k2p-worker-subnet"), "{text}");
    assert_eq!(cloud_calls(&plan("azure/private-endpoint")), ["azurePrivateEndpoint"]);

    let mut private = image_registry_tests::fixture("storage/azure/private-endpoint");
    for account in private.cloud.azure.accounts.values_mut() {
        account.public_network_access = "Disabled".into();
    }
    assert!(cloud_calls(&reconcile(&private)).is_empty(), "an account already private plans nothing");

    let mut untagged = image_registry_tests::fixture("storage/azure/private-endpoint-discovery");
    for vnets in untagged.cloud.azure.vnets.values_mut() {
        vnets.iter_mut().for_each(|v| v.tags.clear());
    }
    let refused = reconcile(&untagged);
    assert!(cloud_calls(&refused).is_empty());
    let status = config_status(&refused).to_string();
    assert!(status.contains("Unable to process private endpoint: failed to discover vnet name"), "{status}");
    assert!(!status.contains("External"), "networkAccess is never rewritten: {status}");
}

/// Workload identity: the registry reaches the blobs with tokens, so the account the operator
/// manages is told to refuse shared keys, once (an account that already refuses them plans
/// nothing), and a user's account is never reconfigured.
#[test]
fn azure_workload_identity_refuses_shared_keys_on_the_operators_account_only() {
    assert_eq!(cloud_calls(&plan("azure/workload-identity")), ["azureDisallowSharedKey"]);

    let mut refused = image_registry_tests::fixture("storage/azure/workload-identity");
    for account in refused.cloud.azure.accounts.values_mut() {
        account.allow_shared_key_access = Some(false);
    }
    assert!(cloud_calls(&reconcile(&refused)).is_empty(), "an account that refuses shared keys plans nothing");

    let mut users = image_registry_tests::fixture("storage/azure/workload-identity");
    image_registry_tests::edit_config(&mut users, |config| config.spec.storage.management_state = "Unmanaged".into());
    assert!(cloud_calls(&reconcile(&users)).is_empty(), "a user's account is not reconfigured");

    let with_secret = image_registry_tests::fixture("storage/azure/converged");
    assert!(cloud_calls(&reconcile(&with_secret)).is_empty(), "a client secret keeps shared keys");
}

/// Azure Stack Hub: its endpoints come from `openshift-config/cloud-provider-config` key
/// `endpoints`; missing ones are named; it needs a client secret and has no private endpoints,
/// each a clear Degraded answer with nothing created.
#[test]
fn azure_stack_hub_takes_its_endpoints_from_the_cloud_provider_config() {
    let stack = |endpoints: Option<&str>| {
        let mut observed = image_registry_tests::fixture("storage/azure/converged");
        image_registry_tests::edit_config(&mut observed, |config| {
            if let Some(azure) = config.spec.storage.azure.as_mut() {
                azure.cloud_name = "AzureStackCloud".into();
            }
        });
        if let Some(endpoints) = endpoints {
            let config = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "cloud-provider-config", "namespace": "openshift-config"},
                "data": {"endpoints": endpoints}});
            observed.objects.insert(config).unwrap();
        }
        observed
    };
    let endpoints = r#"{"name": "AzureStackCloud", "resourceManagerEndpoint": "https://management.local.azurestack.external/",
        "activeDirectoryEndpoint": "https://login.microsoftonline.com/", "storageEndpointSuffix": "local.azurestack.external",
        "tokenAudience": "https://management.azurestackci.onmicrosoft.com/0a1b2c3d"}"#;

    let observed = stack(Some(endpoints));
    // The endpoints the shell's client is handed, read from that ConfigMap.
    let env = image_registry_core::reads(&observed).azure.unwrap().environment.unwrap();
    assert!(env.stack_hub);
    assert_eq!(env.storage_suffix, "local.azurestack.external");
    assert_eq!(env.token_audience, "https://management.azurestackci.onmicrosoft.com/0a1b2c3d");
    let plan = reconcile(&observed);
    assert!(cloud_calls(&plan).is_empty(), "the account exists: {:?}", cloud_calls(&plan));
    let status = config_status(&plan).to_string();
    assert!(status.contains("ContainerExists"), "{status}");
    let text = image_registry_core::render::text(&plan);
    assert!(text.contains("REGISTRY_STORAGE_AZURE_REALM") && text.contains("local.azurestack.external"), "{text}");

    let partial = stack(Some(r#"{"resourceManagerEndpoint": "https://management.local.azurestack.external/"}"#));
    let status = config_status(&reconcile(&partial)).to_string();
    assert!(
        status.contains(
            "client misconfigured, missing 'Environment.ActiveDirectoryEndpoint', 'Environment.TokenAudience', \
             'Environment.StorageEndpointSuffix' option(s)"
        ),
        "{status}"
    );
    let status = config_status(&reconcile(&stack(None))).to_string();
    assert!(status.contains("cloud-provider-config has no endpoints"), "{status}");

    let mut federated = stack(Some(endpoints));
    let minted = "installer-cloud-credentials";
    let mut secret = federated
        .objects
        .get::<k8s_openapi::api::core::v1::Secret>("openshift-image-registry", minted)
        .unwrap()
        .unwrap();
    let data = secret.data.get_or_insert_default();
    data.remove("azure_client_secret");
    let token = k8s_openapi::ByteString(b"/var/run/secrets/openshift/serviceaccount/token".to_vec());
    data.insert("azure_federated_token_file".into(), token);
    federated.objects.insert(serde_json::to_value(&secret).unwrap()).unwrap();
    let plan = reconcile(&federated);
    assert!(cloud_calls(&plan).is_empty());
    let status = config_status(&plan).to_string();
    assert!(status.contains("client secret is required for Azure Stack Hub authentication"), "{status}");
    assert!(status.contains("StorageNotSupported"), "{status}");
}

/// Azure's cloud is recorded as the reference records it (spec 30 §6.7 step 3): a fresh cluster
/// on US Government, China or Stack Hub bootstraps a Config naming its cloud, and the registry
/// it converges to looks for its account under that cloud's storage suffix (not
/// `core.windows.net`). Before the fix the bootstrap named the account first, so the cloud was
/// never recorded and the realm never set.
#[test]
fn a_non_public_azure_cloud_is_recorded_and_gives_the_registry_its_realm() {
    use image_registry_world::run::{Ending, simulate};
    for (fixture_name, cloud, realm) in [
        ("azure-usgov-fresh", "AzureUSGovernmentCloud", "core.usgovcloudapi.net"),
        ("azure-china-fresh", "AzureChinaCloud", "core.chinacloudapi.cn"),
        ("azure-stackhub-fresh", "AzureStackCloud", "local.azurestack.external"),
        ("azure-fresh", "AzurePublicCloud", "core.windows.net"),
    ] {
        let bootstrap = reconcile(&fixture(fixture_name));
        let text = image_registry_core::render::text(&bootstrap);
        assert!(text.contains(&format!("spec.storage.azure.cloudName = \"{cloud}\"")), "{fixture_name}: {text}");
        let report = simulate(fixture(fixture_name), 20, vec![]);
        assert!(matches!(report.ending, Ending::Converged), "{fixture_name}: {:?}", report.ending);
        let objects = &report.world.observed.objects;
        let config = objects.get::<image_registry_core::api::Config>("", "cluster").unwrap().unwrap();
        let recorded = config.spec.storage.azure.as_ref().map(|a| a.cloud_name.clone());
        assert_eq!(recorded.as_deref(), Some(cloud), "{fixture_name}");
        let deployment = objects
            .get::<k8s_openapi::api::apps::v1::Deployment>("openshift-image-registry", "image-registry")
            .unwrap()
            .unwrap();
        let env = serde_json::to_value(&deployment.spec.unwrap().template.spec.unwrap().containers[0].env).unwrap();
        let realm_env = env.as_array().unwrap().iter().find(|e| e["name"] == "REGISTRY_STORAGE_AZURE_REALM").cloned();
        assert_eq!(realm_env.map(|e| e["value"].clone()), Some(serde_json::json!(realm)), "{fixture_name}");
    }
}

/// The S3 calls a plan makes, as JSON.
fn s3_calls(plan: &Plan) -> Vec<serde_json::Value> {
    plan.steps
        .iter()
        .filter_map(|s| match &s.action {
            Action::Cloud(call) => Some(serde_json::to_value(call).unwrap()),
            Action::Kube(_) => None,
        })
        .collect()
}

/// The fresh S3 cluster with its Infrastructure's AWS status changed by `edit`.
fn s3_fresh_with(edit: impl FnOnce(&mut serde_json::Value)) -> image_registry_core::Observed {
    let mut observed = fixture("storage/s3/fresh");
    let key = image_registry_core::ObjectKey::of::<image_registry_core::api::openshift::Infrastructure>("", "cluster");
    let mut infrastructure = observed.objects.raw(&key).unwrap().clone();
    edit(&mut infrastructure["status"]["platformStatus"]["aws"]);
    observed.objects.insert(infrastructure).unwrap();
    observed
}

/// `encrypt: true` is recorded once the bucket says it is encrypted, not in the pass that asks
/// for it (the reference records it after the call succeeded).
#[test]
fn s3_encrypt_is_recorded_only_once_the_bucket_is_encrypted() {
    let asking = plan("s3/fresh");
    assert!(cloud_calls(&asking).contains(&"s3PutBucketEncryption".to_owned()), "{:?}", cloud_calls(&asking));
    let text = image_registry_core::render::text(&asking);
    assert!(!text.contains("spec.storage.s3.encrypt"), "recorded before the call: {text}");
    let converged = image_registry_world::run::simulate(fixture("storage/s3/fresh"), 20, vec![]);
    let config =
        converged.world.observed.objects.get::<image_registry_core::api::Config>("", "cluster").unwrap().unwrap();
    assert!(config.spec.storage.s3.unwrap().encrypt, "recorded once encrypted");
}

/// The cluster's resource tags are kept to the reference's tag controller's rules: a key of the
/// operator's own (`Name`, any case; the `kubernetes.io` and `openshift.io` domains) or one AWS
/// refuses never replaces or joins the operator's tags.
#[test]
fn s3_user_tags_never_replace_the_operators_own() {
    let observed = s3_fresh_with(|aws| {
        aws["resourceTags"] = serde_json::json!([
            {"key": "name", "value": "mine"},
            {"key": "kubernetes.io/cluster/mycluster-x7k2p", "value": "shared"},
            {"key": "sub.openshift.io/team", "value": "x"},
            {"key": "bad key!", "value": "v"},
            {"key": "team", "value": "images"},
        ]);
    });
    let calls = s3_calls(&reconcile(&observed));
    let tagging = calls.iter().find(|c| c["call"] == "s3PutBucketTagging").expect("tagging planned");
    let tags: Vec<(String, String)> = tagging["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["key"].as_str().unwrap().to_owned(), t["value"].as_str().unwrap().to_owned()))
        .collect();
    let expected = [
        ("kubernetes.io/cluster/mycluster-x7k2p", "owned"),
        ("Name", "mycluster-x7k2p-image-registry"),
        ("team", "images"),
    ];
    assert_eq!(tags, expected.map(|(k, v)| (k.to_owned(), v.to_owned())));
}

/// A Config that names only its region still sends the operator's own S3 calls to the
/// cluster's `s3` service endpoint (spec 30 §4.2), as the registry's settings do.
#[test]
fn s3_calls_go_to_the_clusters_endpoint_when_the_config_names_only_its_region() {
    let mut observed = s3_fresh_with(|aws| {
        aws["serviceEndpoints"] = serde_json::json!([{"name": "s3", "url": "https://s3.internal.example.com"}]);
    });
    image_registry_tests::edit_config(&mut observed, |c| {
        let s3 = c.spec.storage.s3.as_mut().unwrap();
        s3.region = "us-east-1".into();
        s3.region_endpoint.clear();
    });
    let calls = s3_calls(&reconcile(&observed));
    assert!(!calls.is_empty());
    for call in &calls {
        assert_eq!(call["target"]["endpoint"], "https://s3.internal.example.com", "{call}");
        assert_eq!(call["target"]["virtualHostedStyle"], true, "{call}");
    }
}

/// IBM COS (spec 30 §8, §9.7): the registry's env against COS; the management state as the
/// reference sets it; a provisioning instance waits; an instance that is gone is found or made
/// again, unless the bucket the registry used was in it; a key that is not valid is named.
#[test]
fn ibm_cos_follows_the_references_decisions_and_never_recreates_lost_data_silently() {
    use image_registry_core::api::Config;
    use image_registry_core::observed::BucketState;
    use image_registry_core::storage::ibmcos::facts::{CosBucket, Instance};
    use image_registry_tests::edit_config;

    // The registry's S3 driver against COS, with the key's HMAC pair (spec 30 §9.7).
    let fresh = fixture("storage/ibmcos/converged");
    let (objects, error) =
        image_registry_core::desired(&fresh, &fresh.objects.get::<Config>("", "cluster").unwrap().unwrap()).unwrap();
    assert_eq!(error, None);
    let deployment = objects.iter().find(|d| d.key.kind == "Deployment").unwrap();
    let env = deployment.object["spec"]["template"]["spec"]["containers"][0]["env"].as_array().unwrap();
    let value = |name: &str| env.iter().find(|e| e["name"] == name).map(|e| e["value"].clone());
    assert_eq!(value("REGISTRY_STORAGE"), Some("s3".into()));
    assert_eq!(value("REGISTRY_STORAGE_S3_REGION"), Some("us-south".into()));
    assert_eq!(
        value("REGISTRY_STORAGE_S3_REGIONENDPOINT"),
        Some("s3.us-south.cloud-object-storage.appdomain.cloud".into())
    );
    assert_eq!(value("REGISTRY_STORAGE_S3_ENCRYPT"), Some("false".into()));
    assert_eq!(value("REGISTRY_STORAGE_S3_FORCEPATHSTYLE"), Some("true".into()));
    assert_eq!(value("REGISTRY_STORAGE_S3_USEDUALSTACK"), Some("false".into()));
    let secret = objects
        .iter()
        .find(|d| d.key.kind == "Secret" && d.key.name == "image-registry-private-configuration")
        .unwrap();
    assert!(secret.object["data"]["credentials"].is_string(), "the HMAC pair as the credentials file");

    let converged = fixture("storage/ibmcos/converged");
    let instance_crn = converged.cloud.ibmcos.instances.keys().next().unwrap().clone();
    let status_of = |observed: &image_registry_core::Observed| config_status(&reconcile(observed)).to_string();

    // A user's bucket in an active instance is adopted Unmanaged; one that does not exist is
    // created and Managed.
    for (exists, state) in [(true, "Unmanaged"), (false, "Managed")] {
        let mut users = converged.clone();
        edit_config(&mut users, |c| {
            c.spec.storage.management_state.clear();
            if let Some(cos) = c.spec.storage.ibmcos.as_mut() {
                cos.bucket = "users-bucket".into();
            }
            c.status = None;
        });
        let bucket = CosBucket {
            state: if exists { BucketState::Exists } else { BucketState::Missing },
            ..CosBucket::default()
        };
        users.cloud.ibmcos.buckets.insert("users-bucket".into(), bucket);
        let plan = reconcile(&users);
        let patch = plan.steps.iter().find_map(|s| match &s.action {
            Action::Kube(KubeAction::Patch { key, patch, .. }) if key.kind == "Config" => Some(patch.expose().clone()),
            _ => None,
        });
        let written = patch.map(|p| p["spec"]["storage"]["managementState"].clone()).unwrap_or_default();
        assert_eq!(written, state, "bucket exists: {exists}");
        assert_eq!(cloud_calls(&plan), if exists { vec![] } else { vec!["ibmcosCreateBucket".to_owned()] });
    }

    // Provisioning: a named wait, retried.
    let mut provisioning = converged.clone();
    provisioning.cloud.ibmcos.instances.insert(
        instance_crn.clone(),
        Instance { state: "provisioning".into(), ..converged.cloud.ibmcos.instances[&instance_crn].clone() },
    );
    let plan = reconcile(&provisioning);
    assert!(
        plan.errors.iter().any(|e| e.message.contains("waiting for IBM COS service instance to finish provisioning")),
        "{:?}",
        plan.errors
    );
    assert!(status_of(&provisioning).contains("IBM COS Instance Provisioning"));

    // Gone while the bucket the registry used was in it: reported, nothing made.
    let mut gone = converged.clone();
    gone.cloud
        .ibmcos
        .instances
        .insert(instance_crn.clone(), Instance { state: "removed".into(), ..Instance::default() });
    let plan = reconcile(&gone);
    assert!(cloud_calls(&plan).is_empty(), "{:?}", cloud_calls(&plan));
    let status = status_of(&gone);
    assert!(status.contains("IBM COS Instance Gone") && status.contains("StorageMissing"), "{status}");

    // Gone before any bucket was recorded: forgotten, then found or made again (Managed).
    let mut early = gone.clone();
    edit_config(&mut early, |c| {
        if let Some(cos) = c.status.as_mut().and_then(|s| s.storage.ibmcos.as_mut()) {
            cos.bucket.clear();
        }
    });
    let report = image_registry_world::run::simulate(early, 12, vec![]);
    assert_eq!(report.ending, image_registry_world::run::Ending::Converged, "{}", report.summary());
    let config: Config = report.world.observed.objects.get("", "cluster").unwrap().unwrap();
    let cos = config.spec.storage.ibmcos.unwrap();
    assert_eq!(config.spec.storage.management_state, "Managed");
    assert_eq!(cos.service_instance_crn, instance_crn, "the world makes the same name's instance again");
    assert!(report.passes.iter().any(|p| cloud_calls(&p.plan).contains(&"ibmcosCreateServiceInstance".to_owned())));

    // A key of another instance is named with the field, never used.
    let mut foreign = converged.clone();
    for key in foreign.cloud.ibmcos.keys.values_mut() {
        key.source_crn = "crn:v1:bluemix:public:cloud-object-storage:global:a/other:x::".into();
    }
    let status = status_of(&foreign);
    assert!(
        status.contains("IBM COS Resource Key Invalid") && status.contains("spec.storage.ibmcos.resourceKeyCRN"),
        "{status}"
    );

    // A platform without a resource group names the field.
    let mut groupless = fixture("ibmcloud-fresh");
    let key = image_registry_core::ObjectKey::of::<image_registry_core::api::openshift::Infrastructure>("", "cluster");
    let mut infra = groupless.objects.raw(&key).unwrap().clone();
    infra["status"]["platformStatus"]["ibmcloud"]["resourceGroupName"] = "".into();
    groupless.objects.insert(infra).unwrap();
    let report = image_registry_world::run::simulate(groupless, 4, vec![]);
    let errors: Vec<String> =
        report.passes.iter().flat_map(|p| p.plan.errors.iter().map(|e| e.message.clone())).collect();
    assert!(
        errors.iter().any(|e| e.contains("status.platformStatus.ibmcloud.resourceGroupName is empty")),
        "{errors:?}"
    );
    assert!(report.passes.iter().all(|p| cloud_calls(&p.plan).is_empty()), "nothing is created without a group");

    // An unknown Power VS region is named.
    let mut mars = fixture("powervs-fresh");
    let mut infra = mars
        .objects
        .raw(&image_registry_core::ObjectKey::of::<image_registry_core::api::openshift::Infrastructure>("", "cluster"))
        .unwrap()
        .clone();
    infra["status"]["platformStatus"]["powervs"]["region"] = "mars".into();
    mars.objects.insert(infra).unwrap();
    let report = image_registry_world::run::simulate(mars, 4, vec![]);
    let errors: Vec<String> =
        report.passes.iter().flat_map(|p| p.plan.errors.iter().map(|e| e.message.clone())).collect();
    let status = report
        .world
        .observed
        .objects
        .raw(&image_registry_core::ObjectKey::of::<Config>("", "cluster"))
        .map(|c| c["status"].to_string());
    let said = format!("{errors:?} {}", status.unwrap_or_default());
    assert!(said.contains("COS region corresponding to a PowerVS region mars not found"), "{said}");
}
