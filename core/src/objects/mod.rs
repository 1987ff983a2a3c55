//! The registry's objects as the operator wants them, in apply order (spec 20 §1.1).
//!
//! Each desired object carries only the fields the operator owns, plus the checksum annotation
//! (a digest of everything else), so a change to what the operator wants is always visible as a
//! change of an owned field.

pub mod deployment;
pub mod network;
pub mod pod;
pub mod rbac;
pub mod routes;
pub mod secrets;
pub mod takeback;

use std::sync::{Arc, OnceLock};

use serde_json::{Map, Value};

use crate::action::{KubeAction, Payload};
use crate::api::{ApiObject, Config};
use crate::checksum::checksum;

use crate::diff::differences;
use crate::inputs::Inputs;
use crate::memo::Memo;
use crate::names::CHECKSUM_ANNOTATION;
use crate::observed::ObjectKey;
use crate::storage::Wiring;

/// An object the operator applies.
#[derive(Clone, Debug, PartialEq)]
pub struct Desired {
    /// Its identity.
    pub key: ObjectKey,
    /// Its owned fields, checksum annotation included. Shared: the objects that depend on
    /// nothing are built once per process and only compared in each pass.
    pub object: Arc<Value>,
    /// JSON pointers of secret values inside it.
    pub secrets: Vec<String>,
}

impl Desired {
    /// [`Desired::new`], or what `memo` remembers of an equal object encoded before.
    pub fn remembered<K>(memo: Option<&Memo>, object: &K, secrets: Vec<String>) -> Result<Self, String>
    where
        K: ApiObject + Clone + PartialEq + Send + 'static,
    {
        match memo {
            Some(memo) => memo.encode(object, secrets, Self::new, |a: &Self, b: &Self| a.key == b.key),
            None => Self::new(object, secrets),
        }
    }

    /// Encodes `object` and adds the checksum annotation over the rest of it.
    pub fn new<K: ApiObject>(object: &K, secrets: Vec<String>) -> Result<Self, String> {
        let mut value = serde_json::to_value(object).map_err(|e| format!("cannot encode {}: {e}", K::KIND))?;
        // Server-side apply needs the type on the wire; not every Rust type carries it.
        if let Value::Object(map) = &mut value {
            map.insert("apiVersion".to_owned(), Value::String(K::api_version()));
            map.insert("kind".to_owned(), Value::String(K::KIND.to_owned()));
        }
        let namespace = value.pointer("/metadata/namespace").and_then(Value::as_str).unwrap_or_default().to_owned();
        let name = value.pointer("/metadata/name").and_then(Value::as_str).unwrap_or_default().to_owned();
        let digest = checksum(&value);
        if let Some(Value::Object(metadata)) = value.get_mut("metadata") {
            let annotations = metadata.entry("annotations").or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(annotations) = annotations {
                annotations.insert(CHECKSUM_ANNOTATION.to_owned(), Value::String(digest));
            }
        }
        Ok(Self { key: ObjectKey::of::<K>(&namespace, &name), object: Arc::new(value), secrets })
    }

    /// The object `build` makes, built on first use and shared after: for the objects that
    /// depend on no input (RBAC, service accounts, network policies, the Service), so a pass
    /// only compares them. Pure: `build` takes nothing and always returns the same.
    pub fn constant(
        cell: &'static OnceLock<Result<Desired, String>>,
        build: fn() -> Result<Desired, String>,
    ) -> Result<Desired, String> {
        cell.get_or_init(build).clone()
    }
}

/// Everything building the objects needs besides the Config.
pub struct Context<'a> {
    /// The Config being reconciled.
    pub config: &'a Config,
    /// The snapshot.
    pub observed: &'a Inputs<'a>,
    /// The storage backend's contribution to the pod.
    pub wiring: &'a Wiring,
    /// Objects other controllers plan in this pass that the pod depends on (the CA
    /// configmaps): their new content counts for the rollout digest.
    pub also_planned: &'a [Desired],
}

/// One object the registry controller owns: where it lives and how it is built. The one
/// declaration of the registry's objects: the apply order, removal's keys and the shell's
/// watches are all read from [`OWNED`].
pub struct Owned {
    /// Its key.
    pub key: fn() -> ObjectKey,
    /// Builds it (`None`: not wanted this pass) from the context and the objects built before it.
    build: fn(&Context<'_>, &[Desired]) -> Result<Option<Desired>, String>,
}

/// The registry's objects other than its routes (one per wanted route, built after these), in
/// apply order (spec 20 §1.1).
pub const OWNED: &[Owned] = {
    use crate::names::REGISTRY_SERVICE_ACCOUNT;
    use crate::names::{INSTALLATION_PULL_SECRETS, NAMESPACE, PRIVATE_CONFIGURATION_SECRET, REGISTRY_NAME};
    use k8s_openapi::api::rbac::v1 as rbac_api;
    use k8s_openapi::api::{apps::v1 as apps, core::v1 as core, networking::v1 as net, policy::v1 as policy};
    &[
        Owned {
            key: || ObjectKey::of::<rbac_api::ClusterRole>("", rbac::CLUSTER_ROLE),
            build: |_, _| rbac::registry_cluster_role().map(Some),
        },
        Owned {
            key: || ObjectKey::of::<rbac_api::ClusterRoleBinding>("", rbac::CLUSTER_ROLE_BINDING),
            build: |_, _| rbac::registry_cluster_role_binding().map(Some),
        },
        Owned {
            key: || ObjectKey::of::<core::ServiceAccount>(NAMESPACE, REGISTRY_SERVICE_ACCOUNT),
            build: |_, _| rbac::registry_service_account().map(Some),
        },
        Owned {
            key: || ObjectKey::of::<core::Secret>(NAMESPACE, INSTALLATION_PULL_SECRETS),
            build: |context, _| secrets::installation_pull_secrets(context.observed),
        },
        Owned {
            key: || ObjectKey::of::<core::Secret>(NAMESPACE, PRIVATE_CONFIGURATION_SECRET),
            build: |context, _| secrets::private_configuration(context.observed.memo, context.wiring).map(Some),
        },
        Owned {
            key: || ObjectKey::of::<core::Service>(NAMESPACE, REGISTRY_NAME),
            build: |_, _| network::service().map(Some),
        },
        Owned {
            key: || ObjectKey::of::<apps::Deployment>(NAMESPACE, REGISTRY_NAME),
            build: |context, built| {
                let planned: Vec<&Desired> = context.also_planned.iter().chain(built).collect();
                deployment::deployment(context, &planned).map(Some)
            },
        },
        Owned {
            key: || ObjectKey::of::<policy::PodDisruptionBudget>(NAMESPACE, REGISTRY_NAME),
            build: |context, _| network::pod_disruption_budget(context.observed.memo, context.config).map(Some),
        },
        Owned {
            key: || ObjectKey::of::<net::NetworkPolicy>(NAMESPACE, network::NETWORK_POLICY),
            build: |_, _| network::network_policy().map(Some),
        },
    ]
};

/// The registry's objects in apply order ([`OWNED`], then the routes). Generation stops at the
/// first object that cannot be built (as the reference's apply loop stops at the first failure):
/// the objects before it are returned with the error.
pub fn registry_objects(context: &Context<'_>) -> (Vec<Desired>, Option<String>) {
    let mut out: Vec<Desired> = Vec::new();
    for owned in OWNED {
        match (owned.build)(context, &out) {
            Ok(built) => out.extend(built),
            Err(e) => return (out, Some(e)),
        }
    }
    match routes::routes(context.config, context.observed) {
        Ok(routes) => out.extend(routes),
        Err(e) => return (out, Some(e)),
    }
    (out, None)
}

/// The registry's objects for `config` in a snapshot, as a pass builds them (without the
/// objects other controllers plan in the same pass): a presenter for tools and tests that look
/// at one object without planning. `Err` when the storage cannot be wired; otherwise the
/// objects up to the first that cannot be built, and that one's error.
pub fn desired(observed: &crate::Observed, config: &Config) -> Result<(Vec<Desired>, Option<String>), String> {
    let inputs = Inputs::decode(observed);
    let wiring = crate::storage::wiring(config, &inputs)?;
    Ok(registry_objects(&Context { config, observed: &inputs, wiring: &wiring, also_planned: &[] }))
}

/// A string leaf anywhere inside `value` equal to one of `needles`.
fn contains_any(value: &Value, needles: &[&str]) -> bool {
    match value {
        Value::String(s) => needles.contains(&s.as_str()),
        Value::Array(items) => items.iter().any(|v| contains_any(v, needles)),
        Value::Object(map) => map.values().any(|v| contains_any(v, needles)),
        _ => false,
    }
}

/// The server-side apply that brings the observed object to `desired`, or `None` when it
/// already holds every owned field.
pub fn apply_action(desired: &Desired, observed: &Inputs<'_>) -> Option<KubeAction> {
    apply_action_to(desired, observed.objects.raw(&desired.key))
}

/// [`apply_action`] against `current`, the object as observed (`None`: absent).
pub fn apply_action_to(desired: &Desired, current: Option<&Value>) -> Option<KubeAction> {
    let payload = || desired.secrets.iter().fold(Payload::new((*desired.object).clone()), |p, s| p.with_secret(s));
    let Some(current) = current else {
        return Some(KubeAction::Apply {
            key: desired.key.clone(),
            new: true,
            object: payload(),
            changes: Vec::new(),
            take_back: Vec::new(),
        });
    };
    let mut changes = differences(&desired.key.kind, &desired.object, current);
    let back = takeback::take_back(&desired.key.kind, &desired.object, current);
    if changes.is_empty() && back.ops.is_empty() {
        return None;
    }
    changes.extend(back.changes);
    let secret_values: Vec<&str> =
        desired.secrets.iter().filter_map(|p| desired.object.pointer(p)).filter_map(Value::as_str).collect();
    let is_secret_kind = desired.key.kind == "Secret";
    for change in &mut changes {
        let values = [&change.before, &change.after];
        change.secret = (is_secret_kind && (change.path.starts_with("data") || change.path.starts_with("stringData")))
            || change.path.contains("REGISTRY_HTTP_SECRET")
            || change.path.starts_with("spec.tls")
            || values.iter().any(|v| v.as_ref().is_some_and(|v| contains_any(v, &secret_values)));
    }
    Some(KubeAction::Apply { key: desired.key.clone(), new: false, object: payload(), changes, take_back: back.ops })
}
