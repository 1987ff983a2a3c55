//! Bootstrap: when no Config exists, create the default `cluster` Config for the platform
//! (spec 10 §2), and the claim a PVC platform needs first.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{PersistentVolumeClaim, PersistentVolumeClaimSpec, VolumeResourceRequirements};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;

use crate::action::{Action, KubeAction, Payload};
use crate::api::config::ImageRegistrySpec;
use crate::api::{Config, StorageKind};
use crate::inputs::Inputs;
use crate::names::{CLUSTER, DEFAULT_CLAIM, FINALIZER, NAMESPACE, OWNERSHIP_ANNOTATION};
use crate::observed::ObjectKey;
use crate::plan::Plan;
use crate::platform::{PlatformStorage, platform_storage};
use crate::seed;
use crate::tls;

const CONTROLLER: &str = "registry";

/// Plans the creation of the default Config (and, on PVC platforms, its claim), or records why
/// it cannot be decided yet.
pub fn plan(observed: &Inputs<'_>, plan: &mut Plan) {
    match decide(observed) {
        Ok(steps) => {
            for (action, reason) in steps {
                plan.push(action, reason);
            }
        }
        Err(message) => plan.error(CONTROLLER, message),
    }
}

fn decide(observed: &Inputs<'_>) -> Result<Vec<(Action, String)>, String> {
    let infrastructure = observed
        .infrastructure
        .as_ref()
        .map_err(|e| format!("unable to get infrastructure resource: {e}"))?
        .as_ref()
        .ok_or_else(|| {
            "unable to get platform storage: infrastructures.config.openshift.io \"cluster\" not found".to_owned()
        })?;
    let status = infrastructure.status.clone().unwrap_or_default();
    let platform = status.platform_status.ok_or_else(|| {
        "unable to get platform storage: infrastructures.config.openshift.io \"cluster\" has no \
         status.platformStatus, so the platform type is unknown"
            .to_owned()
    })?;
    let PlatformStorage { mut storage, mut replicas } =
        platform_storage(&platform.type_, observed.cloud.swift.probe.as_ref())
            .map_err(|e| format!("unable to get platform storage: {e}"))?;
    // Storage names are written into the Config it creates, so the first Managed pass can
    // create the storage instead of spending a pass persisting its names first.
    // Without a cluster ID the names are left empty: the Managed pass then says which field
    // is missing instead of creating `-image-registry-…`.
    use crate::storage::naming;
    let (infra, seed) = (&status.infrastructure_name, observed.seed);
    if !infra.is_empty() {
        if let Some(s3) = storage.s3.as_mut() {
            let effective = crate::storage::s3::effective(s3, Some(&platform));
            s3.bucket = naming::deterministic(infra, &[&effective.region]);
        }
        if let Some(gcs) = storage.gcs.as_mut() {
            let effective = crate::storage::gcs::effective(gcs, Some(&platform));
            gcs.bucket = naming::random(infra, &[&effective.region], seed, "gcs-bucket");
        }
        if let Some(azure) = storage.azure.as_mut() {
            // The cloud, as the reference's first sync records it (spec 30 §6.7 step 3: when
            // neither it nor the account is named yet): it decides the registry's realm, the
            // authority host and Stack Hub's rules, and the names below would skip that step.
            azure.cloud_name = platform.azure.as_ref().map(|a| a.cloud_name.clone()).unwrap_or_default();
            azure.account_name = naming::azure_account(infra, seed, "azure-account");
            azure.container = naming::random(infra, &[], seed, "azure-container");
        }
        if let Some(swift) = storage.swift.as_mut() {
            swift.container = naming::random(infra, &[], seed, "swift-container");
        }
    }
    if status.infrastructure_topology == "SingleReplica" && replicas > 1 {
        replicas = 1;
    }
    let kinds = storage.kinds();
    let removed = kinds.is_empty();
    let is_pvc = kinds == [StorageKind::Pvc];

    let mut steps = Vec::new();
    if is_pvc {
        let key = ObjectKey::of::<PersistentVolumeClaim>(NAMESPACE, DEFAULT_CLAIM);
        if observed.objects.raw(&key).is_none() {
            let claim = bootstrap_claim(&platform.type_)?;
            steps.push((
                Action::Kube(KubeAction::Create { key, object: Payload::new(claim) }),
                format!("platform {} stores the registry on a claim, and none exists yet", platform.type_),
            ));
        }
    }

    // A profile that does not decode leaves observedConfig empty, as in the reference: the
    // config observer fills it in later.
    let observed_config = match &observed.api_server {
        Ok(api_server) => {
            let profile = api_server.as_ref().and_then(|a| a.spec.tls_security_profile.as_ref());
            Some(tls::observed_config(profile))
        }
        Err(_) => None,
    };

    let spec = ImageRegistrySpec {
        management_state: if removed { "Removed" } else { "Managed" }.to_owned(),
        log_level: "Normal".to_owned(),
        operator_log_level: "Normal".to_owned(),
        observed_config,
        http_secret: seed::http_secret(observed.seed),
        storage,
        replicas,
        rollout_strategy: if is_pvc { "Recreate" } else { "RollingUpdate" }.to_owned(),
        ..ImageRegistrySpec::default()
    };
    let mut config = Config::new(CLUSTER, spec);
    config.metadata.finalizers = Some(vec![FINALIZER.to_owned()]);
    let object = serde_json::to_value(&config).map_err(|e| format!("cannot encode the default Config: {e}"))?;

    let storage_text = match kinds.first() {
        None => "no default storage, so the registry starts Removed".to_owned(),
        Some(kind) => {
            format!("{} storage, {replicas} replica{}", kind.driver_name(), if replicas == 1 { "" } else { "s" })
        }
    };
    steps.push((
        Action::Kube(KubeAction::Create {
            key: ObjectKey::of::<Config>("", CLUSTER),
            object: Payload::new(object).with_secret("/spec/httpSecret"),
        }),
        format!(
            "no Config \"cluster\" exists: bootstrap the defaults for platform {} ({storage_text})",
            platform.type_
        ),
    ));
    Ok(steps)
}

/// The claim bootstrap creates on OpenStack without Swift and on oVirt (spec 10 §2.5).
fn bootstrap_claim(platform_type: &str) -> Result<Value, String> {
    let storage_class = if platform_type == "oVirt" { "ovirt-csi-sc" } else { "standard-csi" };
    let claim = PersistentVolumeClaim {
        metadata: ObjectMeta {
            name: Some(DEFAULT_CLAIM.to_owned()),
            namespace: Some(NAMESPACE.to_owned()),
            annotations: Some(BTreeMap::from([(OWNERSHIP_ANNOTATION.to_owned(), "true".to_owned())])),
            ..ObjectMeta::default()
        },
        spec: Some(PersistentVolumeClaimSpec {
            access_modes: Some(vec!["ReadWriteOnce".to_owned()]),
            resources: Some(VolumeResourceRequirements {
                requests: Some(BTreeMap::from([("storage".to_owned(), Quantity("100Gi".to_owned()))])),
                ..VolumeResourceRequirements::default()
            }),
            storage_class_name: Some(storage_class.to_owned()),
            ..PersistentVolumeClaimSpec::default()
        }),
        ..PersistentVolumeClaim::default()
    };
    serde_json::to_value(&claim).map_err(|e| format!("cannot encode the bootstrap claim: {e}"))
}
