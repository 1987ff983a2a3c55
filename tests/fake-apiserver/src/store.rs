//! The fake's state and write semantics: objects with resourceVersions from one counter,
//! generations, field ownership, finalizers and deletionTimestamp, preconditions, the status
//! subresource, a watch history, and the other cluster controllers the operator relies on.

use std::collections::BTreeMap;

use image_registry_core::observed::ObjectKey;
use image_registry_world::server::{add_defaults, merge_patch};
use image_registry_world::settle::{serving_certificate, settle_object};
use serde_json::{Value, json};
use tokio::sync::broadcast;

use image_registry_world::fields::{self, Owner, Owners};

use crate::builtin;
use crate::resources::{self, Resource};
use crate::schema;

/// An error answered as a Kubernetes `Status`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub code: u16,
    /// `Status.reason` (`NotFound`, `AlreadyExists`, `Conflict`, `Invalid`, …).
    pub reason: &'static str,
    /// Human-readable message.
    pub message: String,
    /// `Status.details`, where the real server sends them (causes, retryAfterSeconds).
    pub details: Option<Value>,
}

impl ApiError {
    /// An error with `code`, `reason` and `message`.
    pub fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self { code, reason, message: message.into(), details: None }
    }

    /// A watch or list from a resourceVersion this server has not reached: what the API
    /// server's watch cache answers once it gave up waiting for it (k8s.io/apiserver
    /// `storage.NewTooLargeResourceVersionError`: 504 Timeout with a cause clients recognize).
    pub fn too_large(wanted: u64, current: u64) -> Self {
        Self {
            code: 504,
            reason: "Timeout",
            message: format!("Too large resource version: {wanted}, current: {current}"),
            details: Some(json!({
                "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
                "retryAfterSeconds": 1,
            })),
        }
    }

    /// A watch from a resourceVersion older than the compacted history: 410 Gone, reason
    /// `Expired`, as the real server's watch sends it (clients relist).
    pub fn expired(wanted: u64, oldest: u64) -> Self {
        Self::new(410, "Expired", format!("too old resource version: {wanted} ({oldest})"))
    }

    fn not_found(r: &Resource, name: &str) -> Self {
        Self::new(404, "NotFound", format!("{}.{} \"{name}\" not found", r.plural, r.group))
    }

    fn conflict(message: impl Into<String>) -> Self {
        Self::new(409, "Conflict", message)
    }

    fn invalid(message: impl Into<String>) -> Self {
        Self::new(422, "Invalid", message)
    }
}

/// Where an object lives.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    /// API group.
    pub group: &'static str,
    /// Plural.
    pub plural: &'static str,
    /// Namespace (`""` when cluster-scoped).
    pub namespace: String,
    /// Name.
    pub name: String,
}

/// A change, as a watch streams it.
#[derive(Clone, Debug)]
pub struct Event {
    /// The store revision it made.
    pub revision: u64,
    /// Which object.
    pub key: Key,
    /// `ADDED`, `MODIFIED` or `DELETED`.
    pub kind: &'static str,
    /// The object after the change (before it, for a deletion).
    pub object: Value,
}

struct Entry {
    object: Value,
    owners: Owners,
}

/// How a patch body is to be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PatchKind {
    /// `application/apply-patch+yaml`.
    Apply {
        /// `force=true`.
        force: bool,
    },
    /// `application/merge-patch+json` (and strategic merge, treated the same).
    Merge,
    /// `application/json-patch+json`.
    Json,
}

/// The OpenShift schemas of the cluster types the fixtures and the operator write, reduced to
/// what this fake checks: the Infrastructure's platform enums and the Image status's types.
fn openshift_schema(kind: &str) -> Option<Value> {
    const PLATFORMS: &[&str] = &[
        "",
        "AWS",
        "Azure",
        "BareMetal",
        "GCP",
        "Libvirt",
        "OpenStack",
        "None",
        "VSphere",
        "oVirt",
        "IBMCloud",
        "KubeVirt",
        "EquinixMetal",
        "PowerVS",
        "AlibabaCloud",
        "Nutanix",
        "External",
    ];
    match kind {
        "Infrastructure" => Some(json!({"properties": {"status": {"type": "object", "properties": {
            "platform": {"type": "string", "enum": PLATFORMS},
            "platformStatus": {"type": "object", "properties": {"type": {"type": "string", "enum": PLATFORMS}}}
        }}}})),
        "Image" => Some(json!({"properties": {"status": {"type": "object", "properties": {
            "internalRegistryHostname": {"type": "string"},
            "externalRegistryHostnames": {"type": "array", "items": {"type": "string"}}
        }}}})),
        _ => None,
    }
}

/// `Kind.group` as the API server names a type in messages (`Service` for the core group).
fn kind_group(r: &Resource) -> String {
    if r.group.is_empty() { r.kind.to_owned() } else { format!("{}.{}", r.kind, r.group) }
}

/// Manager name used for the modelled cluster controllers' writes.
pub const CONTROLLERS: &str = "fake-cluster-controllers";

/// The store.
pub struct Store {
    objects: BTreeMap<Key, Entry>,
    revision: u64,
    history: Vec<Event>,
    /// The oldest revision a watch may start from: what came before was compacted.
    compacted: u64,
    live: broadcast::Sender<Event>,
    /// Play the Deployment/DaemonSet controllers, the router and service-ca after each write.
    pub controllers: bool,
    uid: u64,
    /// The CRDs this project ships, for custom resources no stored CRD describes.
    crds: Vec<Value>,
    /// Foreground deletions the garbage collector has yet to finish.
    collecting: Vec<Key>,
}

/// The finalizer a foreground deletion holds an object with.
const FOREGROUND: &str = "foregroundDeletion";

impl Default for Store {
    fn default() -> Self {
        Self::new()
    }
}

fn text<'a>(v: &'a Value, pointer: &str) -> Option<&'a str> {
    v.pointer(pointer).and_then(Value::as_str)
}

fn now() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn has_finalizers(object: &Value) -> bool {
    object.pointer("/metadata/finalizers").and_then(Value::as_array).is_some_and(|f| !f.is_empty())
}

/// Everything but `metadata` and `status`: a change there bumps the generation. Compared as
/// the API server's `Semantic.DeepEqual` compares (apimachinery's fork of reflect.DeepEqual):
/// an empty map or list equals an absent one, as does `null`.
fn spec_part(object: &Value) -> Value {
    let mut copy = object.clone();
    if let Value::Object(map) = &mut copy {
        map.remove("metadata");
        map.remove("status");
        map.remove("apiVersion");
        map.remove("kind");
    }
    semantic(copy)
}

/// `value` with empty maps, empty lists and nulls left out of every object.
fn semantic(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k, semantic(v)))
                .filter(|(_, v)| match v {
                    Value::Null => false,
                    Value::Object(m) => !m.is_empty(),
                    Value::Array(a) => !a.is_empty(),
                    Value::Bool(_) | Value::Number(_) | Value::String(_) => true,
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(semantic).collect()),
        scalar => scalar,
    }
}

impl Store {
    /// An empty store with controllers on.
    pub fn new() -> Self {
        let (live, _) = broadcast::channel(4096);
        let crds = image_registry_core::api::crd::crds().map(|c| c.into_iter().map(|(_, crd)| crd).collect());
        Self {
            objects: BTreeMap::new(),
            revision: 1,
            history: Vec::new(),
            compacted: 0,
            live,
            controllers: true,
            uid: 0,
            crds: crds.unwrap_or_default(),
            collecting: Vec::new(),
        }
    }

    /// The structural schema of a custom resource: from a stored CRD, else from the CRDs this
    /// project ships (what a cluster has installed).
    fn custom_schema(&self, r: &Resource) -> Option<Value> {
        let name = format!("{}.{}", r.plural, r.group);
        let stored = self
            .objects
            .iter()
            .find(|(k, _)| k.plural == "customresourcedefinitions" && k.name == name)
            .map(|(_, e)| e.object.clone());
        let crd = stored.or_else(|| self.crds.iter().find(|c| text(c, "/metadata/name") == Some(&name)).cloned())?;
        crd.pointer("/spec/versions/0/schema/openAPIV3Schema").cloned()
    }

    /// What the API server does to every written object before storing it: defaulting, pruning
    /// and validation for custom resources (from their CRD) and the OpenShift types; the CRD
    /// defaults check; the built-in validations the operator can trip (`builtin`, duplicate
    /// port names).
    fn admit(&self, r: &Resource, object: &mut Value) -> Result<(), ApiError> {
        let name = text(object, "/metadata/name").unwrap_or_default().to_owned();
        let mut errors = Vec::new();
        if let Some(schema) = self.custom_schema(r) {
            schema::default(&schema, object);
            let metadata = object.get("metadata").cloned();
            schema::prune(&schema, object);
            if let (Value::Object(map), Some(metadata)) = (&mut *object, metadata) {
                map.insert("metadata".into(), metadata);
            }
            errors = schema::validate(&schema, object);
        } else if let Some(schema) = openshift_schema(r.kind) {
            errors = schema::validate(&schema, object);
        } else if r.kind == "CustomResourceDefinition" {
            errors = schema::crd_default_errors(object);
        }
        // Every kind's metadata, and the built-in kinds' label selectors and pod templates.
        errors.extend(builtin::validate(r.kind, object));
        if r.kind == "Service" {
            let ports = object.pointer("/spec/ports").and_then(Value::as_array).cloned().unwrap_or_default();
            let mut seen = Vec::new();
            for (index, port) in ports.iter().enumerate() {
                let Some(port_name) = port.get("name").and_then(Value::as_str) else { continue };
                if seen.contains(&port_name) {
                    let field = format!("spec.ports[{index}].name");
                    errors.push(schema::FieldError {
                        message: format!("{field}: Duplicate value: {port_name:?}"),
                        field,
                    });
                }
                seen.push(port_name);
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(ApiError::invalid(schema::invalid_message(&kind_group(r), &name, &errors)))
        }
    }

    /// The current revision (a list's resourceVersion).
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Subscribes to live events; pair with [`Store::events_since`] under the same lock.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.live.subscribe()
    }

    /// Events after `revision` of one resource type, in order; an error where the real server's
    /// watch would refuse to start there: a revision it has not reached (after an etcd restore
    /// from backup, say) or one compacted away.
    pub fn events_since(&self, r: &Resource, revision: u64) -> Result<Vec<Event>, ApiError> {
        if revision > self.revision {
            return Err(ApiError::too_large(revision, self.revision));
        }
        if revision < self.compacted {
            return Err(ApiError::expired(revision, self.compacted));
        }
        Ok(self
            .history
            .iter()
            .filter(|e| e.revision > revision && e.key.group == r.group && e.key.plural == r.plural)
            .cloned()
            .collect())
    }

    /// Compacts the history, as etcd does every few minutes: a watch may start at the current
    /// revision or later, and an older one is answered 410 Gone.
    pub fn compact(&mut self) {
        self.compacted = self.revision;
        self.history.clear();
    }

    fn key(r: &Resource, namespace: &str, name: &str) -> Key {
        Key {
            group: r.group,
            plural: r.plural,
            namespace: if r.namespaced { namespace.to_owned() } else { String::new() },
            name: name.to_owned(),
        }
    }

    /// The object as served: with apiVersion, kind and managedFields.
    fn render(r: &Resource, entry: &Entry) -> Value {
        let mut object = entry.object.clone();
        if let Value::Object(map) = &mut object {
            map.insert("apiVersion".into(), json!(r.api_version()));
            map.insert("kind".into(), json!(r.kind));
            if !entry.owners.is_empty()
                && let Some(Value::Object(meta)) = map.get_mut("metadata")
            {
                meta.insert("managedFields".into(), fields::managed_fields(&entry.owners, &r.api_version()));
            }
        }
        object
    }

    /// One object.
    pub fn get(&self, r: &Resource, namespace: &str, name: &str) -> Result<Value, ApiError> {
        let entry = self.objects.get(&Self::key(r, namespace, name)).ok_or_else(|| ApiError::not_found(r, name))?;
        Ok(Self::render(r, entry))
    }

    /// Objects of a type, in one namespace or all (`None`), that `filter` accepts.
    pub fn list(&self, r: &Resource, namespace: Option<&str>, filter: &dyn Fn(&Value) -> bool) -> Vec<Value> {
        self.objects
            .iter()
            .filter(|(k, _)| k.group == r.group && k.plural == r.plural)
            .filter(|(k, _)| namespace.is_none_or(|ns| !r.namespaced || k.namespace == ns))
            .map(|(_, e)| Self::render(r, e))
            .filter(|o| filter(o))
            .collect()
    }

    fn emit(&mut self, key: Key, kind: &'static str, object: Value) {
        let event = Event { revision: self.revision, key, kind, object };
        self.history.push(event.clone());
        let _ = self.live.send(event);
    }

    /// Stores `after` at `key`, bumping the revision and the generation, and emits the event.
    /// A write that changes nothing is not a write: no revision, no event.
    fn commit(&mut self, r: &Resource, key: Key, mut after: Value, owners: Owners) -> Value {
        // Stored objects hold neither their type (the key says it) nor managedFields (owners do).
        if let Value::Object(map) = &mut after {
            map.remove("apiVersion");
            map.remove("kind");
            if let Some(Value::Object(meta)) = map.get_mut("metadata") {
                meta.remove("managedFields");
            }
        }
        let before = self.objects.get(&key).map(|e| e.object.clone());
        if let Some(before) = &before
            && *before == after
        {
            if let Some(entry) = self.objects.get_mut(&key) {
                entry.owners = owners;
            }
            return self.objects.get(&key).map_or(Value::Null, |e| Self::render(r, e));
        }
        if text(&after, "/metadata/deletionTimestamp").is_some() && !has_finalizers(&after) {
            self.revision += 1;
            self.objects.remove(&key);
            let gone = Self::render(r, &Entry { object: after, owners: Owners::new() });
            self.emit(key, "DELETED", gone.clone());
            return gone;
        }
        self.revision += 1;
        let generation = match &before {
            None => 1,
            Some(b) => {
                let g = b.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(1);
                if spec_part(b) == spec_part(&after) { g } else { g + 1 }
            }
        };
        if let Some(Value::Object(meta)) = after.get_mut("metadata") {
            meta.insert("resourceVersion".into(), json!(self.revision.to_string()));
            meta.insert("generation".into(), json!(generation));
            meta.remove("managedFields");
        }
        let entry = Entry { object: after, owners };
        let rendered = Self::render(r, &entry);
        self.objects.insert(key.clone(), entry);
        self.emit(key, if before.is_none() { "ADDED" } else { "MODIFIED" }, rendered.clone());
        rendered
    }

    fn stamp_new(&mut self, r: &Resource, namespace: &str, name: &str, object: &mut Value) {
        self.uid += 1;
        if !object.get("metadata").is_some_and(Value::is_object)
            && let Value::Object(map) = object
        {
            map.insert("metadata".into(), json!({}));
        }
        if let Some(Value::Object(meta)) = object.get_mut("metadata") {
            meta.insert("name".into(), json!(name));
            if r.namespaced {
                meta.insert("namespace".into(), json!(namespace));
            } else {
                meta.remove("namespace");
            }
            meta.insert("uid".into(), json!(format!("00000000-fake-{:012}", self.uid)));
            meta.insert("creationTimestamp".into(), json!(now()));
            meta.remove("resourceVersion");
            meta.remove("deletionTimestamp");
        }
        add_defaults(r.kind, object);
    }

    fn check_identity(r: &Resource, object: &Value) -> Result<(), ApiError> {
        let api_version = text(object, "/apiVersion").unwrap_or_default();
        let kind = text(object, "/kind").unwrap_or_default();
        if (!api_version.is_empty() && api_version != r.api_version()) || (!kind.is_empty() && kind != r.kind) {
            return Err(ApiError::new(
                400,
                "BadRequest",
                format!("the body is {api_version}/{kind}, the path is {}/{}", r.api_version(), r.kind),
            ));
        }
        Ok(())
    }

    /// Creates an object (POST).
    pub fn create(
        &mut self,
        r: &Resource,
        namespace: &str,
        mut object: Value,
        manager: &str,
    ) -> Result<Value, ApiError> {
        Self::check_identity(r, &object)?;
        let name = text(&object, "/metadata/name").unwrap_or_default().to_owned();
        if name.is_empty() {
            return Err(ApiError::invalid("metadata.name: Required value: name is required"));
        }
        let key = Self::key(r, namespace, &name);
        if self.objects.contains_key(&key) {
            return Err(ApiError::new(
                409,
                "AlreadyExists",
                format!("{}.{} \"{name}\" already exists", r.plural, r.group),
            ));
        }
        self.stamp_new(r, namespace, &name, &mut object);
        self.admit(r, &mut object)?;
        let mut owners = Owners::new();
        fields::record_update(r.kind, &mut owners, &update_owner(manager, false), &Value::Null, &object);
        let created = self.commit(r, key, object, owners);
        self.settle();
        Ok(created)
    }

    /// Replaces an object (PUT) or its status; `metadata.resourceVersion` must be current.
    pub fn update(
        &mut self,
        r: &Resource,
        namespace: &str,
        name: &str,
        object: Value,
        manager: &str,
        status: bool,
    ) -> Result<Value, ApiError> {
        Self::check_identity(r, &object)?;
        let key = Self::key(r, namespace, name);
        let entry = self.objects.get(&key).ok_or_else(|| ApiError::not_found(r, name))?;
        let current = entry.object.clone();
        let wanted = text(&object, "/metadata/resourceVersion").unwrap_or_default();
        if wanted.is_empty() {
            return Err(ApiError::invalid("metadata.resourceVersion: Invalid value: must be specified for an update"));
        }
        if Some(wanted) != text(&current, "/metadata/resourceVersion") {
            return Err(stale(r, name));
        }
        let after = Self::scoped(r, &current, object, status);
        self.write(r, key, current, after, &update_owner(manager, status))
    }

    /// Patches an object or its status.
    #[allow(clippy::too_many_arguments)]
    pub fn patch(
        &mut self,
        r: &Resource,
        namespace: &str,
        name: &str,
        kind: PatchKind,
        body: &Value,
        manager: &str,
        status: bool,
    ) -> Result<Value, ApiError> {
        let key = Self::key(r, namespace, name);
        let current = self.objects.get(&key).map(|e| e.object.clone());
        match kind {
            PatchKind::Apply { force } => {
                Self::check_identity(r, body)?;
                if manager.is_empty() {
                    return Err(ApiError::invalid("fieldManager: Required value: is required for apply patch"));
                }
                let owner = Owner { manager: manager.to_owned(), apply: true, status };
                let mut owners = self.objects.get(&key).map(|e| e.owners.clone()).unwrap_or_default();
                let mut applied =
                    fields::apply(r.kind, &mut owners, &owner, current.as_ref(), body, force).map_err(|c| {
                        let list: Vec<String> =
                            c.iter().map(|c| format!("conflict with \"{}\": .{}", c.manager, c.field)).collect();
                        ApiError::conflict(format!("Apply failed with {} conflicts: {}", c.len(), list.join(", ")))
                    })?;
                let result = match current {
                    None => {
                        if status {
                            return Err(ApiError::not_found(r, name));
                        }
                        self.stamp_new(r, namespace, name, &mut applied);
                        self.admit(r, &mut applied)?;
                        let created = self.commit(r, key, applied, owners);
                        self.settle();
                        created
                    }
                    Some(current) => {
                        let mut applied = Self::scoped(r, &current, applied, status);
                        add_defaults(r.kind, &mut applied);
                        self.admit(r, &mut applied)?;
                        let changed = applied != current;
                        let written = self.commit(r, key, applied, owners);
                        if changed {
                            self.settle();
                        }
                        written
                    }
                };
                Ok(result)
            }
            PatchKind::Merge | PatchKind::Json => {
                let current = current.ok_or_else(|| ApiError::not_found(r, name))?;
                let mut patched = Self::render(r, &Entry { object: current.clone(), owners: Owners::new() });
                if kind == PatchKind::Merge {
                    if let Some(wanted) = text(body, "/metadata/resourceVersion")
                        && Some(wanted) != text(&current, "/metadata/resourceVersion")
                    {
                        return Err(stale(r, name));
                    }
                    merge_patch(&mut patched, body);
                } else {
                    let ops: json_patch::Patch = serde_json::from_value(body.clone())
                        .map_err(|e| ApiError::new(400, "BadRequest", format!("not a JSON patch: {e}")))?;
                    json_patch::patch(&mut patched, &ops).map_err(|e| ApiError::invalid(e.to_string()))?;
                }
                let after = Self::scoped(r, &current, patched, status);
                self.write(r, key, current, after, &update_owner(manager, status))
            }
        }
    }

    /// What a write through the main resource (or the status subresource) may change.
    fn scoped(r: &Resource, current: &Value, mut after: Value, status: bool) -> Value {
        let keep = |target: &mut Value, field: &str, from: &Value| {
            if let Value::Object(map) = target {
                match from.get(field) {
                    Some(v) => map.insert(field.to_owned(), v.clone()),
                    None => map.remove(field),
                };
            }
        };
        if status {
            let mut result = current.clone();
            keep(&mut result, "status", &after);
            return result;
        }
        if r.status_subresource {
            keep(&mut after, "status", current);
        }
        // The server's metadata is not the client's to change.
        for field in
            ["uid", "creationTimestamp", "deletionTimestamp", "generation", "name", "namespace", "resourceVersion"]
        {
            if let (Some(Value::Object(meta)), Some(old)) = (after.get_mut("metadata"), current.get("metadata")) {
                match old.get(field) {
                    Some(v) => meta.insert(field.to_owned(), v.clone()),
                    None => meta.remove(field),
                };
            }
        }
        if let Value::Object(map) = &mut after {
            map.remove("apiVersion");
            map.remove("kind");
        }
        after
    }

    fn write(
        &mut self,
        r: &Resource,
        key: Key,
        current: Value,
        mut after: Value,
        owner: &Owner,
    ) -> Result<Value, ApiError> {
        if text(&current, "/metadata/deletionTimestamp").is_some() {
            let before: Vec<Value> =
                current.pointer("/metadata/finalizers").and_then(Value::as_array).cloned().unwrap_or_default();
            let now: Vec<Value> =
                after.pointer("/metadata/finalizers").and_then(Value::as_array).cloned().unwrap_or_default();
            if now.iter().any(|f| !before.contains(f)) {
                return Err(ApiError::new(
                    403,
                    "Forbidden",
                    "no new finalizers can be added if the object is being deleted",
                ));
            }
        }
        add_defaults(r.kind, &mut after);
        self.admit(r, &mut after)?;
        let mut owners = self.objects.get(&key).map(|e| e.owners.clone()).unwrap_or_default();
        fields::record_update(r.kind, &mut owners, owner, &current, &after);
        let changed = after != current;
        let written = self.commit(r, key, after, owners);
        if changed {
            self.settle();
        }
        Ok(written)
    }

    /// Deletes an object: with finalizers it only gets a deletionTimestamp. A foreground
    /// deletion adds the `foregroundDeletion` finalizer, which the garbage collector removes
    /// (after deleting the object's dependents) on a later request: until then the object is
    /// there, being deleted, as on a real cluster.
    pub fn delete(
        &mut self,
        r: &Resource,
        namespace: &str,
        name: &str,
        uid: Option<&str>,
        resource_version: Option<&str>,
        foreground: bool,
    ) -> Result<Value, ApiError> {
        let key = Self::key(r, namespace, name);
        let current = self.objects.get(&key).map(|e| e.object.clone()).ok_or_else(|| ApiError::not_found(r, name))?;
        if uid.is_some_and(|u| Some(u) != text(&current, "/metadata/uid")) {
            return Err(ApiError::conflict(format!(
                "Precondition failed: UID in precondition: {}, UID in object meta: {}",
                uid.unwrap_or_default(),
                text(&current, "/metadata/uid").unwrap_or_default()
            )));
        }
        if resource_version.is_some_and(|v| Some(v) != text(&current, "/metadata/resourceVersion")) {
            return Err(ApiError::conflict(format!(
                "Precondition failed: ResourceVersion in precondition: {}, ResourceVersion in object meta: {}",
                resource_version.unwrap_or_default(),
                text(&current, "/metadata/resourceVersion").unwrap_or_default()
            )));
        }
        if foreground && text(&current, "/metadata/deletionTimestamp").is_none() {
            let mut after = current;
            if let Some(Value::Object(meta)) = after.get_mut("metadata") {
                let finalizers = meta.entry("finalizers").or_insert_with(|| json!([]));
                if let Value::Array(list) = finalizers
                    && !list.contains(&json!(FOREGROUND))
                {
                    list.push(json!(FOREGROUND));
                }
                meta.insert("deletionTimestamp".into(), json!(now()));
                meta.insert("deletionGracePeriodSeconds".into(), json!(0));
            }
            let owners = self.objects.get(&key).map(|e| e.owners.clone()).unwrap_or_default();
            let marked = self.commit(r, key.clone(), after, owners);
            self.collecting.push(key);
            return Ok(marked);
        }
        if has_finalizers(&current) {
            if text(&current, "/metadata/deletionTimestamp").is_some() {
                return Ok(self.get(r, namespace, name).unwrap_or(Value::Null));
            }
            let mut after = current;
            if let Some(Value::Object(meta)) = after.get_mut("metadata") {
                meta.insert("deletionTimestamp".into(), json!(now()));
                meta.insert("deletionGracePeriodSeconds".into(), json!(0));
            }
            let owners = self.objects.get(&key).map(|e| e.owners.clone()).unwrap_or_default();
            return Ok(self.commit(r, key, after, owners));
        }
        let entry = self.objects.remove(&key).ok_or_else(|| ApiError::not_found(r, name))?;
        self.revision += 1;
        let gone = Self::render(r, &entry);
        self.emit(key, "DELETED", gone.clone());
        self.settle();
        Ok(gone)
    }

    /// The garbage collector's turn: for each foreground deletion marked before, delete the
    /// object's dependents (by ownerReference uid), then drop its `foregroundDeletion`
    /// finalizer (the object goes once it has no finalizer left).
    pub fn collect_garbage(&mut self) {
        for key in std::mem::take(&mut self.collecting) {
            let Some(r) = resources::all().find(|r| r.group == key.group && r.plural == key.plural) else { continue };
            let Some(entry) = self.objects.get(&key) else { continue };
            let uid = text(&entry.object, "/metadata/uid").unwrap_or_default().to_owned();
            let dependents: Vec<(Resource, Key)> = self
                .objects
                .iter()
                .filter(|(_, e)| {
                    e.object.pointer("/metadata/ownerReferences").and_then(Value::as_array).is_some_and(|refs| {
                        refs.iter().any(|o| o.get("uid").and_then(Value::as_str) == Some(uid.as_str()))
                    })
                })
                .filter_map(|(k, _)| {
                    let r = resources::all().find(|r| r.group == k.group && r.plural == k.plural)?;
                    Some((r, k.clone()))
                })
                .collect();
            for (dr, dk) in dependents {
                let _ = self.delete(&dr, &dk.namespace, &dk.name, None, None, false);
            }
            let Some(entry) = self.objects.get(&key) else { continue };
            let mut after = entry.object.clone();
            if let Some(Value::Array(list)) = after.pointer_mut("/metadata/finalizers") {
                list.retain(|f| f != &json!(FOREGROUND));
            }
            let owners = entry.owners.clone();
            self.commit(&r, key, after, owners);
        }
    }

    /// Puts objects in as they are (loading a fixture), stamping what the server would.
    pub fn load(&mut self, objects: impl IntoIterator<Item = Value>) -> Result<usize, String> {
        let mut count = 0;
        for mut object in objects {
            let api_version = text(&object, "/apiVersion").unwrap_or_default().to_owned();
            let kind = text(&object, "/kind").unwrap_or_default().to_owned();
            let r = resources::by_kind(&api_version, &kind)
                .ok_or_else(|| format!("{api_version}/{kind} is not a type the fake serves"))?;
            let name = text(&object, "/metadata/name").unwrap_or_default().to_owned();
            let namespace = text(&object, "/metadata/namespace").unwrap_or_default().to_owned();
            let finalizing = text(&object, "/metadata/deletionTimestamp").map(str::to_owned);
            self.stamp_new(&r, &namespace, &name, &mut object);
            if let (Some(ts), Some(Value::Object(meta))) = (finalizing, object.get_mut("metadata")) {
                meta.insert("deletionTimestamp".into(), json!(ts));
            }
            self.admit(&r, &mut object).map_err(|e| e.message)?;
            let mut owners = Owners::new();
            fields::record_update(r.kind, &mut owners, &update_owner("fixture", false), &Value::Null, &object);
            self.commit(&r, Self::key(&r, &namespace, &name), object, owners);
            count += 1;
        }
        Ok(count)
    }

    /// The other controllers of a cluster react to the last write: rollouts finish, routes are
    /// admitted, CA bundles injected, serving certificates minted. Bounded: each object settles
    /// in one step.
    pub fn settle(&mut self) {
        if !self.controllers {
            return;
        }
        let keys: Vec<Key> = self.objects.keys().cloned().collect();
        for key in keys {
            let Some(r) = resources::all().find(|r| r.group == key.group && r.plural == key.plural) else { continue };
            let Some(current) = self.objects.get(&key).map(|e| e.object.clone()) else { continue };
            let object_key = ObjectKey {
                group: r.group.to_owned(),
                kind: r.kind.to_owned(),
                namespace: key.namespace.clone(),
                name: key.name.clone(),
            };
            let rendered = Self::render(&r, &Entry { object: current.clone(), owners: Owners::new() });
            if let Some(mut after) = settle_object(&object_key, &rendered) {
                if let Value::Object(map) = &mut after {
                    map.remove("apiVersion");
                    map.remove("kind");
                    if let Some(Value::Object(meta)) = map.get_mut("metadata") {
                        meta.remove("managedFields");
                    }
                }
                let mut owners = self.objects.get(&key).map(|e| e.owners.clone()).unwrap_or_default();
                fields::record_update(
                    r.kind,
                    &mut owners,
                    &update_owner(CONTROLLERS, r.status_subresource),
                    &current,
                    &after,
                );
                self.commit(&r, key, after, owners);
            }
            if r.kind == "Service"
                && let Some(secret) = serving_certificate(&current)
            {
                self.mint(secret);
            }
        }
    }

    fn mint(&mut self, mut secret: Value) {
        let Some(r) = resources::by_kind("v1", "Secret") else { return };
        let name = text(&secret, "/metadata/name").unwrap_or_default().to_owned();
        let namespace = text(&secret, "/metadata/namespace").unwrap_or_default().to_owned();
        let key = Self::key(&r, &namespace, &name);
        if self.objects.contains_key(&key) {
            return;
        }
        self.stamp_new(&r, &namespace, &name, &mut secret);
        let mut owners = Owners::new();
        fields::record_update(r.kind, &mut owners, &update_owner(CONTROLLERS, false), &Value::Null, &secret);
        self.commit(&r, key, secret, owners);
    }

    /// Every object, for inspection in tests.
    pub fn dump(&self) -> Vec<Value> {
        self.objects
            .iter()
            .filter_map(|(k, e)| {
                let r = resources::all().find(|r| r.group == k.group && r.plural == k.plural)?;
                Some(Self::render(&r, e))
            })
            .collect()
    }
}

fn update_owner(manager: &str, status: bool) -> Owner {
    Owner { manager: manager.to_owned(), apply: false, status }
}

fn stale(r: &Resource, name: &str) -> ApiError {
    ApiError::conflict(format!(
        "Operation cannot be fulfilled on {}.{} \"{name}\": the object has been modified; please apply your changes to the latest version and try again",
        r.plural, r.group
    ))
}
