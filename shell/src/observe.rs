//! Observe: everything one pass needs, gathered into an [`Observed`] snapshot. Watched kinds
//! come from the reflector caches (or one list each, for a dry-run); the Config, the namespace
//! and the global pull secret are read directly, as the reference does (spec 10 §1.7, §1.8);
//! cloud facts come through the [`CloudApi`] seam. Then the clock and a fresh seed.

use image_registry_core::api::Kind;
use image_registry_core::names::{CLUSTER, GLOBAL_PULL_SECRET, NAMESPACE};
use image_registry_core::observed::{Memory, ObjectStore, Observed, OperatorEnv};
use image_registry_core::outcome::Outcome;
use kube::api::{ApiResource, DynamicObject, ListParams};
use serde_json::Value;

use crate::cloud::CloudApi;
use crate::kinds;

/// One watched collection: a kind, in a namespace or cluster-wide.
#[derive(Clone, Copy, Debug)]
pub struct Source {
    /// The kind.
    pub kind: &'static Kind,
    /// Its namespace; `None` for cluster-scoped kinds.
    pub namespace: Option<&'static str>,
}

/// What is watched beside the registry's own objects (`objects::OWNED`, watched in their
/// namespaces as declared there): the inputs, the routes, and the other controllers' objects.
const WATCHED: &[(&str, &str, Option<&str>)] = &[
    ("imageregistry.operator.openshift.io", "Config", None),
    ("imageregistry.operator.openshift.io", "ImagePruner", None),
    ("config.openshift.io", "Infrastructure", None),
    ("config.openshift.io", "Proxy", None),
    ("config.openshift.io", "Image", None),
    ("config.openshift.io", "APIServer", None),
    ("config.openshift.io", "ClusterOperator", None),
    ("apps", "DaemonSet", Some(NAMESPACE)),
    ("", "ConfigMap", Some(NAMESPACE)),
    ("", "PersistentVolumeClaim", Some(NAMESPACE)),
    ("route.openshift.io", "Route", Some(NAMESPACE)),
    ("batch", "CronJob", Some(NAMESPACE)),
    ("batch", "Job", Some(NAMESPACE)),
    ("", "ConfigMap", Some("openshift-config")),
    ("", "ConfigMap", Some("openshift-config-managed")),
];

/// Every watched collection: the registry's own objects' first, then [`WATCHED`], once each.
pub fn sources() -> Result<Vec<Source>, String> {
    let mut collections: Vec<(String, String, Option<&'static str>)> = Vec::new();
    for key in image_registry_core::OWNED.iter().map(|owned| (owned.key)()) {
        let namespace = match key.namespace.as_str() {
            "" => None,
            NAMESPACE => Some(NAMESPACE),
            other => return Err(format!("{key} is owned in namespace {other}, which the operator does not watch")),
        };
        collections.push((key.group, key.kind, namespace));
    }
    collections
        .extend(WATCHED.iter().map(|(group, kind, namespace)| ((*group).to_owned(), (*kind).to_owned(), *namespace)));
    let mut seen: Vec<(String, String, Option<&'static str>)> = Vec::new();
    for collection in collections {
        if !seen.contains(&collection) {
            seen.push(collection);
        }
    }
    seen.iter()
        .map(|(group, kind, namespace)| Ok(Source { kind: kinds::find(group, kind)?, namespace: *namespace }))
        .collect()
}

/// Objects read directly each pass: `(group, kind, namespace, name)`.
fn direct() -> [(&'static str, &'static str, &'static str, &'static str); 3] {
    [
        ("imageregistry.operator.openshift.io", "Config", "", CLUSTER),
        ("", "Namespace", "", NAMESPACE),
        ("", "Secret", GLOBAL_PULL_SECRET.0, GLOBAL_PULL_SECRET.1),
    ]
}

/// A fetched object as the core reads it: typed (`apiVersion`, `kind`), without managedFields.
pub fn to_value(object: &DynamicObject, resource: &ApiResource) -> Result<Value, String> {
    let mut value = serde_json::to_value(object).map_err(|e| e.to_string())?;
    if let Value::Object(map) = &mut value {
        map.insert("apiVersion".into(), Value::String(resource.api_version.clone()));
        map.insert("kind".into(), Value::String(resource.kind.clone()));
        if let Some(Value::Object(meta)) = map.get_mut("metadata") {
            meta.remove("managedFields");
        }
    }
    Ok(value)
}

/// Adds objects to a store, naming any that has no identity.
pub fn insert_all(store: &mut ObjectStore, objects: impl IntoIterator<Item = Value>) -> Result<(), String> {
    for object in objects {
        store.insert(object).map_err(|e| format!("an object the API server returned: {e}"))?;
    }
    Ok(())
}

/// One list of every watched collection (the dry-run's reads; [`read_direct`] adds the rest).
pub async fn list_once(client: &kube::Client) -> Result<ObjectStore, String> {
    let mut store = ObjectStore::default();
    for source in sources()? {
        let api = kinds::api_over(client, source.kind, source.namespace);
        let resource = kinds::resource(source.kind);
        let list = match api.list(&ListParams::default()).await {
            Ok(list) => list.items,
            // A kind this cluster does not serve (no routes on plain Kubernetes) is just empty.
            Err(kube::Error::Api(e)) if e.code == 404 => Vec::new(),
            Err(e) => return Err(format!("cannot list {}: {e}", source.kind.plural)),
        };
        let values: Result<Vec<Value>, String> = list.iter().map(|o| to_value(o, &resource)).collect();
        insert_all(&mut store, values?)?;
    }
    Ok(store)
}

/// Kinds listed afresh each pass rather than watched (the reference lists nodes for the zone
/// check; its RBAC grants nodes `list` only).
pub const LISTED: &[(&str, &str)] = &[("", "Node")];

/// The direct reads, over whatever the caches said about the same objects.
pub async fn read_direct(client: &kube::Client, store: &mut ObjectStore) -> Result<(), String> {
    for (group, kind) in LISTED {
        let kind = kinds::find(group, kind)?;
        let resource = kinds::resource(kind);
        let items = kinds::api_over(client, kind, None)
            .list(&ListParams::default())
            .await
            .map_err(|e| format!("cannot list {}: {e}", kind.plural))?
            .items;
        let values: Result<Vec<Value>, String> = items.iter().map(|o| to_value(o, &resource)).collect();
        insert_all(store, values?)?;
    }
    for (group, kind, namespace, name) in direct() {
        let key = image_registry_core::ObjectKey {
            group: group.into(),
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
        };
        let (api, resource) = kinds::api_for(client, &key)?;
        match api.get_opt(name).await {
            Ok(Some(object)) => {
                store.insert(to_value(&object, &resource)?).map_err(|e| e.to_string())?;
            }
            Ok(None) => {
                store.remove(&key);
            }
            Err(e) => return Err(format!("cannot read {key}: {e}")),
        }
    }
    Ok(())
}

/// What the operator process carries from one pass to the next.
#[derive(Clone, Debug, Default)]
pub struct Carried {
    /// The process's settings.
    pub operator: OperatorEnv,
    /// The previous plan's memory.
    pub memory: Memory,
    /// The previous pass's outcomes.
    pub outcomes: Vec<Outcome>,
}

/// Fresh entropy for generated values (the registry's HTTP secret); never printed.
pub fn seed() -> String {
    use std::io::Read;
    let mut bytes = [0u8; 32];
    let read = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(&mut bytes));
    if read.is_err() {
        // No /dev/urandom: the clock and the process id still differ between operators.
        let nanos = jiff::Timestamp::now().as_nanosecond();
        return format!("{nanos:x}-{:x}", std::process::id());
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Completes a snapshot: direct reads, cloud facts, the clock, a seed and what was carried.
pub async fn snapshot(
    client: &kube::Client,
    mut objects: ObjectStore,
    cloud: &dyn CloudApi,
    carried: &Carried,
) -> Result<Observed, String> {
    read_direct(client, &mut objects).await?;
    let mut observed = Observed::new(jiff::Timestamp::now(), seed());
    observed.objects = objects;
    observed.operator = carried.operator.clone();
    observed.memory = carried.memory.clone();
    observed.outcomes = carried.outcomes.clone();
    observed.cloud = cloud.observe(&image_registry_core::reads(&observed)).await;
    Ok(observed)
}
