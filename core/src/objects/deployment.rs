//! Deployment `image-registry`: strategy, annotations and the dependency digest that rolls the
//! registry when a mounted secret or configmap changes (spec 20 §3.1, §3.2, §3.11).

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy, RollingUpdateDeployment};
use k8s_openapi::api::core::v1::{ConfigMap, PodTemplateSpec, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;

use super::network::registry_selector;
use super::pod::{self, CERTIFICATES_CONFIGMAP, TLS_SECRET, TRUSTED_CA_CONFIGMAP};
use super::{Context, Desired};
use crate::api::{ApiObject, Config};
use crate::checksum::{checksum, dependency_checksum};
use crate::inputs::Inputs;
use crate::names::{DEPENDENCIES_CHECKSUM_ANNOTATION, INSTALLATION_PULL_SECRETS, NAMESPACE, REGISTRY_NAME};
use crate::observed::ObjectKey;

/// Rollout strategy (spec 20 §3.2). Zero replicas get `maxUnavailable: 0` instead of the
/// reference's invalid `-1`.
pub fn strategy(config: &Config) -> DeploymentStrategy {
    if config.spec.rollout_strategy == "Recreate" {
        return DeploymentStrategy { type_: Some("Recreate".to_owned()), rolling_update: None };
    }
    let replicas = config.spec.replicas;
    let (unavailable, surge) = if replicas == 2 {
        (IntOrString::Int(1), IntOrString::Int(1))
    } else {
        (IntOrString::Int((replicas - 1).max(0)), IntOrString::String("25%".to_owned()))
    };
    DeploymentStrategy {
        type_: Some("RollingUpdate".to_owned()),
        rolling_update: Some(RollingUpdateDeployment { max_unavailable: Some(unavailable), max_surge: Some(surge) }),
    }
}

/// The digest of everything the pod mounts or references (spec 20 §3.11). Objects planned in
/// this same pass count with their desired content, so the rollout happens in the same pass.
pub fn dependencies_checksum(
    configmaps: &BTreeSet<String>,
    secrets: &BTreeSet<String>,
    planned: &[&Desired],
    observed: &Inputs<'_>,
) -> String {
    let mut entries = Vec::new();
    let mut add = |kind: &str, key: ObjectKey| {
        let planned = planned.iter().find(|d| d.key == key).map(|d| d.object.as_ref());
        if let Some(object) = planned.or_else(|| observed.objects.raw(&key)) {
            entries.push(Value::String(format!(
                "{}:{}:{}",
                kind.to_lowercase(),
                key.name,
                dependency_checksum(kind, object)
            )));
        }
    };
    for name in configmaps {
        add(ConfigMap::KIND, ObjectKey::of::<ConfigMap>(NAMESPACE, name));
    }
    for name in secrets {
        add(Secret::KIND, ObjectKey::of::<Secret>(NAMESPACE, name));
    }
    checksum(&Value::Array(entries))
}

/// Names of the configmaps and secrets the pod depends on.
fn dependencies(spec: &k8s_openapi::api::core::v1::PodSpec) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut configmaps = BTreeSet::from([CERTIFICATES_CONFIGMAP.to_owned(), TRUSTED_CA_CONFIGMAP.to_owned()]);
    let mut secrets = BTreeSet::from([TLS_SECRET.to_owned(), INSTALLATION_PULL_SECRETS.to_owned()]);
    for volume in spec.volumes.iter().flatten() {
        if let Some(cm) = &volume.config_map {
            configmaps.insert(cm.name.clone());
        }
        if let Some(name) = volume.secret.as_ref().and_then(|s| s.secret_name.clone()) {
            secrets.insert(name);
        }
    }
    for env in spec.containers.iter().flat_map(|c| c.env.iter().flatten()) {
        let source = env.value_from.as_ref();
        if let Some(cm) = source.and_then(|s| s.config_map_key_ref.as_ref()) {
            configmaps.insert(cm.name.clone());
        }
        if let Some(secret) = source.and_then(|s| s.secret_key_ref.as_ref()) {
            secrets.insert(secret.name.clone());
        }
    }
    (configmaps, secrets)
}

/// The registry Deployment. `planned` are the objects built before it in this pass.
pub fn deployment(context: &Context<'_>, planned: &[&Desired]) -> Result<Desired, String> {
    let config = context.config;
    let overrides = pod::overrides(config)?;
    let (spec, secret_index) = pod::pod_spec(context, &overrides)?;
    let (configmaps, secrets) = dependencies(&spec);
    let mut template_annotations = BTreeMap::from([
        ("target.workload.openshift.io/management".to_owned(), r#"{"effect": "PreferredDuringScheduling"}"#.to_owned()),
        (
            DEPENDENCIES_CHECKSUM_ANNOTATION.to_owned(),
            dependencies_checksum(&configmaps, &secrets, planned, context.observed),
        ),
        ("openshift.io/required-scc".to_owned(), "restricted-v2".to_owned()),
    ]);
    template_annotations.extend(overrides.annotations.clone());
    let mut annotations = BTreeMap::from([(
        "release.openshift.io/version".to_owned(),
        context.observed.operator.release_version.clone(),
    )]);
    annotations.extend(overrides.annotations);
    let deployment = Deployment {
        metadata: ObjectMeta {
            name: Some(REGISTRY_NAME.to_owned()),
            namespace: Some(NAMESPACE.to_owned()),
            labels: Some(pod::pod_labels()),
            annotations: Some(annotations),
            ..ObjectMeta::default()
        },
        spec: Some(DeploymentSpec {
            replicas: Some(config.spec.replicas),
            selector: registry_selector(),
            progress_deadline_seconds: Some(120),
            strategy: Some(strategy(config)),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(pod::pod_labels()),
                    annotations: Some(template_annotations),
                    ..ObjectMeta::default()
                }),
                spec: Some(spec),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    };
    let secrets = vec![format!("/spec/template/spec/containers/0/env/{secret_index}/value")];
    Desired::remembered(context.observed.memo, &deployment, secrets)
}
