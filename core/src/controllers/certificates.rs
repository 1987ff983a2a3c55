//! The registry's CA configmaps (spec 40 §4, spec 20 §5): `image-registry-certificates` (trust
//! anchors mounted in the registry pod) and `openshift-config-managed/image-registry-ca` (for
//! node-ca and other components).

// A new action or storage kind must be decided on wherever these enums are matched.
#![deny(clippy::wildcard_enum_match_arm)]

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::action::Action;
use crate::api::{ConditionStatus, ManagementState, StorageKind};
use crate::conditions::Wanted;
use crate::inputs::Inputs;
use crate::memo::Memo;
use crate::names::{NAMESPACE, REGISTRY_NAME};
use crate::objects::network::registry_port;
use crate::objects::{Desired, apply_action};
use crate::plan::Plan;
use crate::storage;

/// Condition type this controller sets on the Config.
pub const DEGRADED: &str = "ImageRegistryCertificatesControllerDegraded";

type Data = BTreeMap<String, String>;

fn configmap(observed: &Inputs<'_>, namespace: &str, name: &str) -> Result<Option<ConfigMap>, String> {
    observed.objects.get::<ConfigMap>(namespace, name).map_err(|e| e.to_string())
}

/// `<service>.<ns>.svc[:port]` and `.svc.cluster.local[:port]` with `:` written as `..`, each
/// mapped to the service CA, when both the CA and the Service exist.
fn own_hostnames(observed: &Inputs<'_>) -> Result<Data, String> {
    let ca = configmap(observed, NAMESPACE, "serviceca")?.and_then(|c| c.data?.get("service-ca.crt").cloned());
    let (Some(ca), Some(port)) = (ca, registry_port(observed)?) else { return Ok(Data::new()) };
    let suffix = if port == 443 { String::new() } else { format!(":{port}") };
    Ok([
        format!("{REGISTRY_NAME}.{NAMESPACE}.svc{suffix}"),
        format!("{REGISTRY_NAME}.{NAMESPACE}.svc.cluster.local{suffix}"),
    ]
    .into_iter()
    .map(|host| (host.replace(':', ".."), ca.clone()))
    .collect())
}

/// The storage backend's CA bundle (S3 and Swift only), with redirect on or off.
fn storage_bundle(observed: &Inputs<'_>) -> Result<Option<(String, bool)>, String> {
    let Some(config) = observed.config.as_ref().map_err(|e| e.to_string())? else { return Ok(None) };
    if config.spec.management_state() == ManagementState::Removed {
        return Ok(None);
    }
    let Ok(kind) = storage::select(&config.spec.storage) else { return Ok(None) };
    let redirect = !config.spec.disable_redirect;
    let bundle = match kind {
        StorageKind::S3 => {
            let name = config.spec.storage.s3.as_ref().map(|s| s.trusted_ca.name.as_str()).unwrap_or_default();
            storage::s3::read::trust(observed, name)?.bundle
        }
        StorageKind::Swift => storage::swift::ca_bundle(observed)?,
        // These backends bring no CA bundle of their own.
        StorageKind::EmptyDir | StorageKind::Pvc | StorageKind::Gcs | StorageKind::Azure | StorageKind::IbmCos => None,
    };
    Ok(bundle.map(|b| (b, redirect)))
}

fn ca_configmap(memo: Option<&Memo>, namespace: &str, name: &str, data: Data) -> Result<Desired, String> {
    Desired::remembered(
        memo,
        &ConfigMap {
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                namespace: Some(namespace.to_owned()),
                annotations: Some(BTreeMap::from([(
                    "openshift.io/owning-component".to_owned(),
                    "Image Registry".to_owned(),
                )])),
                ..ObjectMeta::default()
            },
            data: Some(data),
            binary_data: Some(BTreeMap::new()),
            ..ConfigMap::default()
        },
        vec![],
    )
}

/// Both configmaps' desired content.
pub fn desired(observed: &Inputs<'_>) -> Result<[Desired; 2], String> {
    let mut hostnames = own_hostnames(observed)?;
    let mut certificates = hostnames.clone();
    if let Some(image) = observed.image.as_ref().map_err(|e| e.to_string())? {
        let name = image.spec.additional_trusted_ca.name.clone();
        if !name.is_empty() {
            let extra = configmap(observed, "openshift-config", &name)?
                .ok_or_else(|| format!("configmap \"openshift-config/{name}\" (additionalTrustedCA) not found"))?;
            certificates.extend(extra.data.unwrap_or_default());
            certificates.extend(
                extra
                    .binary_data
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, v)| (k, String::from_utf8_lossy(&v.0).into_owned())),
            );
        }
    }
    if let Some((bundle, redirect)) = storage_bundle(observed)? {
        certificates.insert("storage-ca-bundle.pem".to_owned(), bundle.clone());
        if redirect {
            for key in hostnames.keys().cloned().collect::<Vec<_>>() {
                for data in [&mut certificates, &mut hostnames] {
                    if let Some(value) = data.get_mut(&key) {
                        value.push('\n');
                        value.push_str(&bundle);
                    }
                }
            }
        }
    }
    Ok([
        ca_configmap(observed.memo, NAMESPACE, "image-registry-certificates", certificates)?,
        ca_configmap(observed.memo, "openshift-config-managed", "image-registry-ca", hostnames)?,
    ])
}

/// Plans both configmaps; returns them (the registry pod depends on the first) and this
/// controller's Degraded condition.
pub fn plan(observed: &Inputs<'_>, plan: &mut Plan) -> (Vec<Desired>, Wanted) {
    match desired(observed) {
        Ok(objects) => {
            for desired in &objects {
                if let Some(action) = apply_action(desired, observed) {
                    let reason = if matches!(&action, crate::action::KubeAction::Apply { new: true, .. }) {
                        "the registry's trust anchors are published here"
                    } else {
                        "the registry's trust anchors changed"
                    };
                    plan.push(Action::Kube(action), reason);
                }
            }
            (objects.into(), Wanted::new(DEGRADED, ConditionStatus::False, "AsExpected", ""))
        }
        Err(e) => {
            let message = format!("image-registry-certificates: {e}");
            plan.error("certificates", message.clone());
            (Vec::new(), Wanted::new(DEGRADED, ConditionStatus::True, "Error", message))
        }
    }
}
