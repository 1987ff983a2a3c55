//! Field ownership, as server-side apply tracks it: the leaf fields of an object as paths in
//! the `fieldsV1` notation (`f:spec`, `k:{"port":5000,"protocol":"TCP"}`, `v:"finalizer"`),
//! which manager owns which, and how an apply merges, conflicts and releases fields. Shared by
//! the world model and the fake API server: one apply model.
//!
//! Lists and maps merge as `structure` says for the kind (keyed maps, sets, atomic lists and
//! maps). An applied `{}` where the same manager owned fields inside before is stored as
//! `null` (kubernetes/kubernetes#135841), as a real API server does.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use image_registry_core::structure::{ListType, is_atomic_map, list_type};

/// A field path: `["f:spec", "f:template", …, "k:{\"name\":\"x\"}", "f:image"]`.
pub type Path = Vec<String>;

/// Who owns fields: a manager, by apply or by update, of the object or of its status.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Owner {
    /// The field manager.
    pub manager: String,
    /// Server-side apply (else an update or patch).
    pub apply: bool,
    /// Through the status subresource.
    pub status: bool,
}

/// Owned paths per owner.
pub type Owners = BTreeMap<Owner, BTreeSet<Path>>;

/// Metadata fields a writer can own.
const OWNABLE_METADATA: &[&str] = &["labels", "annotations", "finalizers", "ownerReferences"];

/// The `k:{…}` element naming a keyed item (keys in sorted order, as the server prints them).
fn item_element(keys: &[&str], item: &Value) -> String {
    let mut map = Map::new();
    for key in keys {
        map.insert((*key).to_owned(), item.get(*key).cloned().unwrap_or(Value::Null));
    }
    format!("k:{}", Value::Object(map))
}

/// Whether `item` is the keyed item `element` names.
fn is_item(element: &Value, item: &Value) -> bool {
    element.as_object().is_some_and(|keys| keys.iter().all(|(k, v)| item.get(k).unwrap_or(&Value::Null) == v))
}

struct Walk<'a> {
    kind: &'a str,
    names: Vec<&'a str>,
    path: Path,
}

impl<'a> Walk<'a> {
    fn leaves(&mut self, value: &'a Value, out: &mut BTreeSet<Path>) {
        match value {
            Value::Object(map) if !map.is_empty() && !is_atomic_map(self.kind, &self.names) => {
                for (key, child) in map {
                    self.path.push(format!("f:{key}"));
                    self.names.push(key);
                    self.leaves(child, out);
                    self.names.pop();
                    self.path.pop();
                }
            }
            Value::Array(items) if !items.is_empty() => match list_type(self.kind, &self.names) {
                ListType::Map(keys) => {
                    for item in items {
                        self.path.push(item_element(keys, item));
                        out.insert(self.path.clone());
                        self.leaves(item, out);
                        self.path.pop();
                    }
                }
                ListType::Set => {
                    for item in items {
                        self.path.push(format!("v:{item}"));
                        out.insert(self.path.clone());
                        self.path.pop();
                    }
                }
                ListType::Atomic => {
                    out.insert(self.path.clone());
                }
            },
            _ if !self.path.is_empty() => {
                out.insert(self.path.clone());
            }
            _ => {}
        }
    }
}

/// The fields a write of `object` (of `kind`) sets: the status alone for the status
/// subresource, else everything but the status and the server's own metadata.
pub fn fields_of(kind: &str, object: &Value, status: bool) -> BTreeSet<Path> {
    let mut out = BTreeSet::new();
    let Value::Object(map) = object else { return out };
    for (key, value) in map {
        let wanted = match key.as_str() {
            "status" => status,
            "apiVersion" | "kind" => false,
            _ => !status,
        };
        if !wanted {
            continue;
        }
        if key == "metadata" {
            for field in OWNABLE_METADATA {
                if let Some(v) = value.get(*field) {
                    let mut walk = Walk {
                        kind,
                        names: vec!["metadata", field],
                        path: vec!["f:metadata".to_owned(), format!("f:{field}")],
                    };
                    walk.leaves(v, &mut out);
                }
            }
        } else {
            let mut walk = Walk { kind, names: vec![key.as_str()], path: vec![format!("f:{key}")] };
            walk.leaves(value, &mut out);
        }
    }
    out
}

/// The value at a path, if present.
pub fn value_at<'a>(object: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut current = object;
    for element in path {
        current = step(current, element)?;
    }
    Some(current)
}

fn step<'a>(value: &'a Value, element: &str) -> Option<&'a Value> {
    if let Some(field) = element.strip_prefix("f:") {
        return value.get(field);
    }
    if let Some(wanted) = element.strip_prefix("v:") {
        let wanted: Value = serde_json::from_str(wanted).ok()?;
        return value.as_array()?.iter().find(|item| **item == wanted);
    }
    let keys = parse_item(element)?;
    value.as_array()?.iter().find(|item| is_item(&keys, item))
}

fn parse_item(element: &str) -> Option<Value> {
    serde_json::from_str(element.strip_prefix("k:")?).ok().filter(Value::is_object)
}

fn step_mut<'a>(value: &'a mut Value, element: &str) -> Option<&'a mut Value> {
    if let Some(field) = element.strip_prefix("f:") {
        return value.get_mut(field);
    }
    let keys = parse_item(element)?;
    value.as_array_mut()?.iter_mut().find(|item| is_item(&keys, item))
}

/// Removes the field or list item at `path`.
pub fn remove_at(object: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else { return };
    let mut current = object;
    for element in parents {
        match step_mut(current, element) {
            Some(next) => current = next,
            None => return,
        }
    }
    if let Some(field) = last.strip_prefix("f:") {
        if let Value::Object(map) = current {
            map.remove(field);
        }
    } else if let Some(wanted) = last.strip_prefix("v:") {
        if let (Ok(wanted), Value::Array(items)) = (serde_json::from_str::<Value>(wanted), current) {
            items.retain(|item| *item != wanted);
        }
    } else if let (Some(keys), Value::Array(items)) = (parse_item(last), current) {
        items.retain(|item| !is_item(&keys, item));
    }
}

/// Replaces the value at `path` (which must exist).
fn set_at(object: &mut Value, path: &[String], value: Value) {
    let mut current = object;
    for element in path {
        match step_mut(current, element) {
            Some(next) => current = next,
            None => return,
        }
    }
    *current = value;
}

/// Paths that a change from `before` to `after` set or removed.
pub fn changed(kind: &str, before: &Value, after: &Value, status: bool) -> (BTreeSet<Path>, BTreeSet<Path>) {
    let old = fields_of(kind, before, status);
    let new = fields_of(kind, after, status);
    let set = new.iter().filter(|p| value_at(before, p) != value_at(after, p)).cloned().collect();
    let removed = old.difference(&new).cloned().collect();
    (set, removed)
}

/// Records a non-apply write (update or patch) by `manager`: it takes the fields it changed.
pub fn record_update(kind: &str, owners: &mut Owners, owner: &Owner, before: &Value, after: &Value) {
    let (set, removed) = changed(kind, before, after, owner.status);
    for paths in owners.values_mut() {
        paths.retain(|p| !set.contains(p) && !removed.contains(p));
    }
    if !set.is_empty() {
        owners.entry(owner.clone()).or_default().extend(set);
    }
    owners.retain(|_, paths| !paths.is_empty());
}

/// A field another manager owns with a different value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The other manager.
    pub manager: String,
    /// The field, dotted.
    pub field: String,
}

/// Server-side apply of `applied` by `manager` onto `current` (absent: a create). Returns the
/// new object, or the conflicts when `force` is off.
pub fn apply(
    kind: &str,
    owners: &mut Owners,
    owner: &Owner,
    current: Option<&Value>,
    applied: &Value,
    force: bool,
) -> Result<Value, Vec<Conflict>> {
    let status = owner.status;
    let wanted = fields_of(kind, applied, status);
    let base = current.cloned().unwrap_or_else(|| Value::Object(Map::new()));
    let mut conflicts = Vec::new();
    for (other, paths) in owners.iter().filter(|(o, _)| o.manager != owner.manager) {
        for path in paths.intersection(&wanted) {
            let is_item = path.last().is_some_and(|e| e.starts_with("k:"));
            if !is_item && value_at(&base, path) != value_at(applied, path) {
                conflicts.push(Conflict { manager: other.manager.clone(), field: dotted(path) });
            }
        }
    }
    if !conflicts.is_empty() && !force {
        return Err(conflicts);
    }
    for (_, paths) in owners.iter_mut().filter(|(o, _)| *o != owner) {
        paths.retain(|p| !wanted.contains(p) || p.last().is_some_and(|e| e.starts_with("k:")));
    }
    let previous = owners.remove(owner).unwrap_or_default();
    let mut result = base;
    let released: Vec<&Path> = previous
        .difference(&wanted)
        .filter(|p| !owners.values().any(|paths| paths.iter().any(|o| o.starts_with(p))))
        .collect();
    // Remove the outermost released paths only: taking a keyed item's key field first would
    // leave an item no key can find.
    for path in released.iter().filter(|p| !released.iter().any(|q| q.len() < p.len() && p.starts_with(q))) {
        remove_at(&mut result, path);
    }
    // An applied `{}` over fields this manager owned inside it becomes `null` (#135841).
    let emptied: BTreeSet<Path> = released
        .iter()
        .flat_map(|p| (1..p.len()).filter_map(|n| p.get(..n).map(<[String]>::to_vec)))
        .filter(|prefix| value_at(applied, prefix).is_some_and(|v| v.as_object().is_some_and(Map::is_empty)))
        .collect();
    let mut part = applied.clone();
    if let Value::Object(map) = &mut part {
        if status {
            map.retain(|k, _| k == "status");
        } else {
            map.remove("status");
        }
    }
    merge(kind, &mut result, &part, &mut Vec::new());
    for path in &emptied {
        set_at(&mut result, path, Value::Null);
    }
    if !wanted.is_empty() {
        owners.insert(owner.clone(), wanted);
    }
    owners.retain(|_, paths| !paths.is_empty());
    Ok(result)
}

/// Merges an applied configuration into an existing object, by the kind's structure.
pub fn merge<'a>(kind: &str, existing: &mut Value, applied: &'a Value, names: &mut Vec<&'a str>) {
    match (existing, applied) {
        (Value::Object(have), Value::Object(want)) if !is_atomic_map(kind, names) => {
            for (key, value) in want {
                names.push(key);
                match have.get_mut(key) {
                    Some(slot) => merge(kind, slot, value, names),
                    None => {
                        have.insert(key.clone(), value.clone());
                    }
                }
                names.pop();
            }
        }
        (Value::Array(have), Value::Array(want)) => match list_type(kind, names) {
            ListType::Map(keys) => {
                for item in want {
                    let element = item_element(keys, item);
                    let id = parse_item(&element).unwrap_or(Value::Null);
                    match have.iter_mut().find(|h| is_item(&id, h)) {
                        Some(slot) => merge(kind, slot, item, names),
                        None => have.push(item.clone()),
                    }
                }
            }
            ListType::Set => {
                for item in want {
                    if !have.contains(item) {
                        have.push(item.clone());
                    }
                }
            }
            ListType::Atomic => *have = want.clone(),
        },
        (slot, value) => *slot = value.clone(),
    }
}

/// `spec.containers[name=registry].image`, for messages.
pub fn dotted(path: &[String]) -> String {
    let mut out = String::new();
    for element in path {
        if let Some(field) = element.strip_prefix("f:") {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(field);
        } else if let Some(Value::Object(keys)) = parse_item(element) {
            let ids: Vec<String> = keys
                .iter()
                .map(|(key, id)| format!("{key}={}", id.as_str().map_or_else(|| id.to_string(), str::to_owned)))
                .collect();
            out.push_str(&format!("[{}]", ids.join(",")));
        } else if let Some(value) = element.strip_prefix("v:") {
            out.push_str(&format!("[{value}]"));
        }
    }
    out
}

/// `metadata.managedFields` as the API server renders it.
pub fn managed_fields(owners: &Owners, api_version: &str) -> Value {
    let entries: Vec<Value> = owners
        .iter()
        .map(|(owner, paths)| {
            let mut tree = Map::new();
            for path in paths {
                insert_path(&mut tree, path);
            }
            let mut entry = serde_json::json!({
                "manager": owner.manager,
                "operation": if owner.apply { "Apply" } else { "Update" },
                "apiVersion": api_version,
                "fieldsType": "FieldsV1",
                "fieldsV1": Value::Object(tree),
            });
            if owner.status
                && let Value::Object(map) = &mut entry
            {
                map.insert("subresource".into(), Value::String("status".into()));
            }
            entry
        })
        .collect();
    Value::Array(entries)
}

/// Owners from `metadata.managedFields` as the API server renders them: the inverse of
/// [`managed_fields`] (a leaf is an empty node; a keyed item or set member is owned itself and
/// may hold owned fields; `.` marks a node owned itself).
pub fn parse_managed_fields(entries: &Value) -> Owners {
    fn collect(tree: &Map<String, Value>, path: &mut Path, out: &mut BTreeSet<Path>) {
        for (element, child) in tree {
            if element == "." {
                continue;
            }
            path.push(element.clone());
            let children = child.as_object();
            let owned_itself = children.is_none_or(|c| c.is_empty() || c.contains_key("."))
                || element.starts_with("k:")
                || element.starts_with("v:");
            if owned_itself {
                out.insert(path.clone());
            }
            if let Some(children) = children {
                collect(children, path, out);
            }
            path.pop();
        }
    }
    let mut owners = Owners::new();
    for entry in entries.as_array().into_iter().flatten() {
        let text = |field: &str| entry.get(field).and_then(Value::as_str).unwrap_or_default();
        let owner = Owner {
            manager: text("manager").to_owned(),
            apply: text("operation") == "Apply",
            status: text("subresource") == "status",
        };
        let mut paths = BTreeSet::new();
        if let Some(tree) = entry.get("fieldsV1").and_then(Value::as_object) {
            collect(tree, &mut Vec::new(), &mut paths);
        }
        owners.entry(owner).or_default().extend(paths);
    }
    owners
}

fn insert_path(tree: &mut Map<String, Value>, path: &[String]) {
    let Some((first, rest)) = path.split_first() else {
        tree.insert(".".into(), Value::Object(Map::new()));
        return;
    };
    let child = tree.entry(first.clone()).or_insert_with(|| Value::Object(Map::new()));
    if let Value::Object(child) = child {
        if rest.is_empty() {
            return;
        }
        insert_path(child, rest);
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn owner(manager: &str, apply: bool) -> Owner {
        Owner { manager: manager.into(), apply, status: false }
    }

    #[test]
    fn apply_releases_what_the_manager_stopped_applying_and_keeps_others_fields() {
        let mut owners = Owners::new();
        let pod = |env: Value| json!({"spec": {"containers": [{"name": "c", "env": env}]}});
        let first = pod(json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]));
        let object = apply("Pod", &mut owners, &owner("op", true), None, &first, false).unwrap();
        let mut edited = object.clone();
        edited["spec"]["containers"][0]["env"].as_array_mut().unwrap().push(json!({"name": "USER", "value": "u"}));
        record_update("Pod", &mut owners, &owner("kubectl-edit", false), &object, &edited);
        let second = pod(json!([{"name": "A", "value": "1"}]));
        let after = apply("Pod", &mut owners, &owner("op", true), Some(&edited), &second, false).unwrap();
        assert_eq!(after, pod(json!([{"name": "A", "value": "1"}, {"name": "USER", "value": "u"}])));
    }

    #[test]
    fn apply_conflicts_with_a_changed_field_unless_forced() {
        let mut owners = Owners::new();
        let applied = json!({"spec": {"replicas": 2}});
        let object = apply("Test", &mut owners, &owner("op", true), None, &applied, false).unwrap();
        let edited = json!({"spec": {"replicas": 5}});
        record_update("Test", &mut owners, &owner("kubectl-edit", false), &object, &edited);
        let err = apply("Test", &mut owners, &owner("op", true), Some(&edited), &applied, false).unwrap_err();
        assert_eq!(err, vec![Conflict { manager: "kubectl-edit".into(), field: "spec.replicas".into() }]);
        let back = apply("Test", &mut owners, &owner("op", true), Some(&edited), &applied, true).unwrap();
        assert_eq!(back, applied);
        assert_eq!(owners.keys().map(|o| o.manager.as_str()).collect::<Vec<_>>(), vec!["op"]);
    }

    #[test]
    fn paths_navigate_keyed_items_and_render_as_fields_v1() {
        let object = json!({"spec": {"containers": [{"name": "r", "image": "i"}]}});
        let fields = fields_of("Pod", &object, false);
        let image: Path = vec!["f:spec".into(), "f:containers".into(), r#"k:{"name":"r"}"#.into(), "f:image".into()];
        assert!(fields.contains(&image));
        assert_eq!(value_at(&object, &image), Some(&json!("i")));
        assert_eq!(dotted(&image), "spec.containers[name=r].image");
        let mut owners = Owners::new();
        owners.insert(owner("op", true), fields);
        let rendered = managed_fields(&owners, "v1");
        assert!(rendered[0]["fieldsV1"]["f:spec"]["f:containers"][r#"k:{"name":"r"}"#]["f:image"].is_object());
        let mut copy = object.clone();
        remove_at(&mut copy, &image[..3]);
        assert_eq!(copy, json!({"spec": {"containers": []}}));
    }

    fn service(ports: Value, selector: Value) -> Value {
        json!({"spec": {"ports": ports, "selector": selector}})
    }

    /// Kubernetes documents Service ports as a map keyed by `port` and `protocol`: a port whose
    /// number another manager changed is another item, and the applier's item comes back beside it.
    #[test]
    fn service_ports_are_keyed_by_port_and_protocol() {
        let mut owners = Owners::new();
        let mine = service(json!([{"name": "5000-tcp", "port": 5000, "protocol": "TCP"}]), json!({"a": "b"}));
        let object = apply("Service", &mut owners, &owner("op", true), None, &mine, false).unwrap();
        let port: Path = vec!["f:spec".into(), "f:ports".into(), r#"k:{"port":5000,"protocol":"TCP"}"#.into()];
        assert!(owners.values().any(|paths| paths.contains(&port)));
        let edited = service(json!([{"name": "5000-tcp", "port": 5001, "protocol": "TCP"}]), json!({"a": "b"}));
        record_update("Service", &mut owners, &owner("kubectl-edit", false), &object, &edited);
        let after = apply("Service", &mut owners, &owner("op", true), Some(&edited), &mine, true).unwrap();
        assert_eq!(
            after["spec"]["ports"],
            json!([{"name": "5000-tcp", "port": 5001, "protocol": "TCP"}, {"name": "5000-tcp", "port": 5000, "protocol": "TCP"}])
        );
    }

    /// `Service.spec.selector` is `+mapType=atomic`: a foreign edit takes the whole map, and a
    /// forced apply puts the applier's whole map back.
    #[test]
    fn atomic_maps_have_one_owner_and_are_replaced_whole() {
        let mut owners = Owners::new();
        let mine = service(json!([]), json!({"app": "registry"}));
        let object = apply("Service", &mut owners, &owner("op", true), None, &mine, false).unwrap();
        let edited = service(json!([]), json!({"app": "registry", "extra": "x"}));
        record_update("Service", &mut owners, &owner("kubectl-edit", false), &object, &edited);
        let selector: Path = vec!["f:spec".into(), "f:selector".into()];
        assert_eq!(
            owners.iter().find(|(_, p)| p.contains(&selector)).map(|(o, _)| o.manager.as_str()),
            Some("kubectl-edit")
        );
        let err = apply("Service", &mut owners, &owner("op", true), Some(&edited), &mine, false).unwrap_err();
        assert_eq!(err[0].field, "spec.selector");
        let after = apply("Service", &mut owners, &owner("op", true), Some(&edited), &mine, true).unwrap();
        assert_eq!(after["spec"]["selector"], json!({"app": "registry"}));
    }

    /// kubernetes/kubernetes#135841: applying `{}` for a field whose inner fields the same
    /// manager owned before stores `null`.
    #[test]
    fn an_applied_empty_object_over_owned_fields_becomes_null() {
        let mut owners = Owners::new();
        let status = Owner { manager: "op".into(), apply: true, status: true };
        let first = json!({"status": {"storage": {"s3": {"bucket": "b"}}, "ready": true}});
        let object = apply("Config", &mut owners, &status, Some(&json!({"spec": {}})), &first, false).unwrap();
        let second = json!({"status": {"storage": {}, "ready": true}});
        let after = apply("Config", &mut owners, &status, Some(&object), &second, false).unwrap();
        assert_eq!(after["status"], json!({"storage": null, "ready": true}));
        // Not when nothing inside was owned before.
        let mut fresh = Owners::new();
        let after = apply("Config", &mut fresh, &status, Some(&json!({"spec": {}})), &second, false).unwrap();
        assert_eq!(after["status"]["storage"], json!({}));
    }

    #[test]
    fn finalizers_are_a_set() {
        let mut owners = Owners::new();
        let object = json!({"metadata": {"finalizers": ["a"]}});
        record_update("Secret", &mut owners, &owner("other", false), &Value::Null, &object);
        let mine = json!({"metadata": {"finalizers": ["b"]}});
        let after = apply("Secret", &mut owners, &owner("op", true), Some(&object), &mine, false).unwrap();
        assert_eq!(after["metadata"]["finalizers"], json!(["a", "b"]));
    }
}
