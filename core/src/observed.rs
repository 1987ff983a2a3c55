//! The input snapshot: every Kubernetes object the decision needs (by kind, namespace and name),
//! cloud facts, the outcomes of the previous pass, the clock and a random seed.
//!
//! Objects are kept as raw JSON and decoded on use, so a malformed object becomes a clear error
//! naming its field instead of a failure to build the snapshot.

use std::collections::BTreeMap;
use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::api::{self, ApiObject, FieldError};
use crate::outcome::Outcome;

/// Identity of an object: API group, kind, namespace (`""` when cluster-scoped), name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ObjectKey {
    /// API group (`""` for core).
    pub group: String,
    /// Kind.
    pub kind: String,
    /// Namespace; empty for cluster-scoped objects.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Name.
    pub name: String,
}

impl ObjectKey {
    /// The key of a `K` named `name` in `namespace` (ignored for cluster-scoped kinds).
    pub fn of<K: ApiObject>(namespace: &str, name: &str) -> Self {
        Self {
            group: K::GROUP.to_owned(),
            kind: K::KIND.to_owned(),
            namespace: if K::NAMESPACED { namespace.to_owned() } else { String::new() },
            name: name.to_owned(),
        }
    }
}

/// An [`ObjectKey`]'s parts, borrowed: the store is searched with one of these, so a lookup
/// by kind and name allocates nothing.
trait KeyParts {
    fn parts(&self) -> (&str, &str, &str, &str);
}

impl KeyParts for ObjectKey {
    fn parts(&self) -> (&str, &str, &str, &str) {
        (&self.group, &self.kind, &self.namespace, &self.name)
    }
}

impl KeyParts for (&str, &str, &str, &str) {
    fn parts(&self) -> (&str, &str, &str, &str) {
        *self
    }
}

// The order of the derived `Ord` on `ObjectKey` (its fields in declaration order), so a
// borrowed lookup finds what an owned one does.
impl PartialEq for dyn KeyParts + '_ {
    fn eq(&self, other: &Self) -> bool {
        self.parts() == other.parts()
    }
}

impl Eq for dyn KeyParts + '_ {}

impl PartialOrd for dyn KeyParts + '_ {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for dyn KeyParts + '_ {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.parts().cmp(&other.parts())
    }
}

impl<'a> std::borrow::Borrow<dyn KeyParts + 'a> for ObjectKey {
    fn borrow(&self) -> &(dyn KeyParts + 'a) {
        self
    }
}

impl ObjectKey {
    /// The key an object's own `apiVersion`, `kind`, namespace and name give it. The namespace
    /// of a kind known to be cluster-scoped is ignored.
    pub fn identify(object: &Value) -> Result<Self, ObjectError> {
        let api_version = text(object, "/apiVersion").ok_or(ObjectError::Missing("apiVersion"))?;
        let kind = text(object, "/kind").ok_or(ObjectError::Missing("kind"))?;
        let name = text(object, "/metadata/name").ok_or(ObjectError::Missing("metadata.name"))?;
        let group = api_version.rsplit_once('/').map_or("", |(group, _)| group);
        let namespaced = api::is_namespaced(group, kind).unwrap_or(true);
        let namespace = if namespaced { text(object, "/metadata/namespace").unwrap_or_default() } else { "" };
        Ok(Self {
            group: group.to_owned(),
            kind: kind.to_owned(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
        })
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.kind)?;
        if !self.group.is_empty() {
            write!(f, ".{}", self.group)?;
        }
        f.write_str(" ")?;
        if !self.namespace.is_empty() {
            write!(f, "{}/", self.namespace)?;
        }
        f.write_str(&self.name)
    }
}

/// An object in the store that does not decode as its kind.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {source}")]
pub struct DecodeError {
    /// The object (boxed: errors stay small on the happy path).
    pub key: Box<ObjectKey>,
    /// The field and what is wrong with it.
    pub source: FieldError,
}

/// Why a raw object cannot enter the store.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ObjectError {
    /// A required identity field is missing or not a string.
    #[error("field {0}: required (a non-empty string)")]
    Missing(&'static str),
}

/// Raw objects by key. Sorted, so the order a server returns objects in never matters.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ObjectStore {
    objects: BTreeMap<ObjectKey, Value>,
}

fn text<'a>(value: &'a Value, pointer: &str) -> Option<&'a str> {
    value.pointer(pointer).and_then(Value::as_str).filter(|s| !s.is_empty())
}

impl ObjectStore {
    /// Adds (or replaces) an object, keyed by its `apiVersion`, `kind`, namespace and name.
    pub fn insert(&mut self, object: Value) -> Result<ObjectKey, ObjectError> {
        let key = ObjectKey::identify(&object)?;
        self.objects.insert(key.clone(), object);
        Ok(key)
    }

    /// Puts `object` at `key` whatever its content says (for tests that need arbitrary JSON
    /// in every field, identity included).
    pub fn insert_at(&mut self, key: ObjectKey, object: Value) {
        self.objects.insert(key, object);
    }

    /// Removes an object, returning it.
    pub fn remove(&mut self, key: &ObjectKey) -> Option<Value> {
        self.objects.remove(key)
    }

    /// The raw object at `key`.
    pub fn raw(&self, key: &ObjectKey) -> Option<&Value> {
        self.objects.get(key)
    }

    /// Every raw object, in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&ObjectKey, &Value)> {
        self.objects.iter()
    }

    /// Number of objects.
    pub fn len(&self) -> usize {
        self.objects.len()
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    /// The `K` named `name` in `namespace`, decoded; `Ok(None)` when absent.
    pub fn get<K: ApiObject>(&self, namespace: &str, name: &str) -> Result<Option<K>, DecodeError> {
        let namespace = if K::NAMESPACED { namespace } else { "" };
        let parts = (K::GROUP, K::KIND, namespace, name);
        match self.objects.get(&parts as &dyn KeyParts) {
            None => Ok(None),
            Some(value) => api::decode(value)
                .map(Some)
                .map_err(|source| DecodeError { key: Box::new(ObjectKey::of::<K>(namespace, name)), source }),
        }
    }

    /// The raw `K` named `name` in `namespace` (ignored for cluster-scoped kinds).
    pub fn raw_of<K: ApiObject>(&self, namespace: &str, name: &str) -> Option<&Value> {
        let namespace = if K::NAMESPACED { namespace } else { "" };
        self.objects.get(&(K::GROUP, K::KIND, namespace, name) as &dyn KeyParts)
    }

    /// Every `K` in `namespace` (all of them for cluster-scoped kinds), in name order.
    pub fn list<K: ApiObject>(&self, namespace: &str) -> Result<Vec<K>, DecodeError> {
        self.raw_list::<K>(namespace)
            .map(|(key, value)| api::decode(value).map_err(|source| DecodeError { key: Box::new(key.clone()), source }))
            .collect()
    }

    /// Every raw `K` in `namespace` (all of them for cluster-scoped kinds), in name order: a
    /// range of the sorted store, so thousands of other objects cost nothing.
    pub fn raw_list<K: ApiObject>(&self, namespace: &str) -> impl Iterator<Item = (&ObjectKey, &Value)> {
        let namespace = if K::NAMESPACED { namespace } else { "" };
        let start = ObjectKey::of::<K>(namespace, "");
        self.objects
            .range(start..)
            .take_while(move |(key, _)| key.group == K::GROUP && key.kind == K::KIND && key.namespace == namespace)
    }
}

/// The operator process's own settings (environment variables in the cluster).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OperatorEnv {
    /// `RELEASE_VERSION`: the release the operator belongs to.
    #[serde(default)]
    pub release_version: String,
    /// `IMAGE`: the registry image.
    #[serde(default)]
    pub image: String,
    /// `IMAGE_PRUNER`: the pruner CronJob image.
    #[serde(default)]
    pub image_pruner: String,
    /// `OPERATOR_IMAGE`: the operator image (node-ca DaemonSet).
    #[serde(default)]
    pub operator_image: String,
}

/// What the clouds said, gathered by the shell before the pass: one field per backend, each
/// backend's facts type in its folder (`storage::<backend>::facts`), made from the list of
/// backends (`cloud_backends!`).
macro_rules! cloud_facts {
    ($($(#[$doc:meta])* $variant:ident => $module:ident;)*) => {
        /// What the clouds said, by backend.
        #[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        pub struct CloudFacts {
            $(
                $(#[$doc])*
                #[serde(default, skip_serializing_if = "crate::storage::facts::is_empty")]
                pub $module: crate::storage::$module::facts::Facts,
            )*
        }
    };
}
crate::cloud_backends!(cloud_facts);

pub use crate::storage::facts::BucketState;

/// What the operator remembers between passes that no object records: when a controller's
/// current failure streak began (for Degraded inertia). The plan returns the next value.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Memory {
    /// Controller name → start of its current failure streak.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub failing_since: BTreeMap<String, Timestamp>,
}

/// Everything one reconcile pass may look at. Nothing is fetched later.
#[derive(Clone, Debug, PartialEq)]
pub struct Observed {
    /// Kubernetes objects.
    pub objects: ObjectStore,
    /// Cloud facts.
    pub cloud: CloudFacts,
    /// Outcomes of the previous pass's actions.
    pub outcomes: Vec<Outcome>,
    /// The time of this pass.
    pub now: Timestamp,
    /// Entropy for anything generated (the registry's HTTP secret); never printed.
    pub seed: String,
    /// The operator process's settings.
    pub operator: OperatorEnv,
    /// What the previous pass asked to remember.
    pub memory: Memory,
}

impl Observed {
    /// An empty snapshot at `now` with `seed`.
    pub fn new(now: Timestamp, seed: impl Into<String>) -> Self {
        Self {
            objects: ObjectStore::default(),
            cloud: CloudFacts::default(),
            outcomes: Vec::new(),
            now,
            seed: seed.into(),
            operator: OperatorEnv::default(),
            memory: Memory::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
    use serde_json::json;

    use super::*;

    /// The borrowed lookup must order keys exactly as the owned keys are sorted, or it misses
    /// objects that are there: names that are prefixes of one another, empty parts, neighbours.
    #[test]
    fn a_lookup_by_parts_finds_what_a_lookup_by_key_finds() {
        let mut store = ObjectStore::default();
        let names = ["a", "ab", "a-b", "b", "registry", "registry-ca", ""];
        for namespace in ["", "n", "n2"] {
            for name in names.iter().filter(|n| !n.is_empty()) {
                store
                    .insert(json!({"apiVersion": "v1", "kind": "ConfigMap",
                        "metadata": {"name": name, "namespace": namespace}}))
                    .unwrap();
            }
        }
        store.insert(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}})).unwrap();
        for namespace in ["", "n", "n2", "n3"] {
            for name in names {
                let key = ObjectKey::of::<ConfigMap>(namespace, name);
                assert_eq!(store.raw_of::<ConfigMap>(namespace, name), store.raw(&key), "{key}");
                assert_eq!(store.get::<ConfigMap>(namespace, name).unwrap().is_some(), store.raw(&key).is_some());
            }
        }
        // Cluster-scoped: the namespace asked for is ignored.
        assert!(store.raw_of::<Namespace>("anything", "n").is_some());
    }
}
