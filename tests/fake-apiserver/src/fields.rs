//! Field ownership, as server-side apply tracks it: the leaf fields of an object as paths in
//! the `fieldsV1` notation (`f:spec`, `k:{"name":"registry"}`), which manager owns which, and
//! how an apply merges, conflicts and releases fields.
//!
//! Lists whose items all carry `name`, `mountPath` or `containerPort` merge by that key (the
//! operator's core uses the same rule, `diff::list_key`); other lists are atomic.

use std::collections::{BTreeMap, BTreeSet};

use image_registry_core::diff::list_key;
use image_registry_core::sim::server::apply_merge;
use serde_json::{Map, Value};

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

fn item_element(key: &str, item: &Value) -> String {
    let id = item.get(key).cloned().unwrap_or(Value::Null);
    let mut map = Map::new();
    map.insert(key.to_owned(), id);
    format!("k:{}", Value::Object(map))
}

fn leaves(value: &Value, path: &mut Path, out: &mut BTreeSet<Path>) {
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, child) in map {
                path.push(format!("f:{key}"));
                leaves(child, path, out);
                path.pop();
            }
        }
        Value::Array(items) if let Some(key) = list_key(items) => {
            for item in items {
                path.push(item_element(key, item));
                out.insert(path.clone());
                leaves(item, path, out);
                path.pop();
            }
        }
        _ if !path.is_empty() => {
            out.insert(path.clone());
        }
        _ => {}
    }
}

/// The fields a write of `object` sets: the status alone for the status subresource, else
/// everything but the status and the server's own metadata.
pub fn fields_of(object: &Value, status: bool) -> BTreeSet<Path> {
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
                    leaves(v, &mut vec!["f:metadata".to_owned(), format!("f:{field}")], &mut out);
                }
            }
        } else {
            leaves(value, &mut vec![format!("f:{key}")], &mut out);
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
    let (key, id) = parse_item(element)?;
    value.as_array()?.iter().find(|item| item.get(&key) == Some(&id))
}

fn parse_item(element: &str) -> Option<(String, Value)> {
    let Value::Object(map) = serde_json::from_str(element.strip_prefix("k:")?).ok()? else { return None };
    map.into_iter().next()
}

/// Removes the field or list item at `path`.
pub fn remove_at(object: &mut Value, path: &[String]) {
    let Some((last, parents)) = path.split_last() else { return };
    let mut current = object;
    for element in parents {
        let next = if let Some(field) = element.strip_prefix("f:") {
            current.get_mut(field)
        } else {
            let Some((key, id)) = parse_item(element) else { return };
            current.as_array_mut().and_then(|items| items.iter_mut().find(|item| item.get(&key) == Some(&id)))
        };
        match next {
            Some(next) => current = next,
            None => return,
        }
    }
    if let Some(field) = last.strip_prefix("f:") {
        if let Value::Object(map) = current {
            map.remove(field);
        }
    } else if let (Some((key, id)), Value::Array(items)) = (parse_item(last), current) {
        items.retain(|item| item.get(&key) != Some(&id));
    }
}

/// Paths that a change from `before` to `after` set or removed.
pub fn changed(before: &Value, after: &Value, status: bool) -> (BTreeSet<Path>, BTreeSet<Path>) {
    let old = fields_of(before, status);
    let new = fields_of(after, status);
    let set = new.iter().filter(|p| value_at(before, p) != value_at(after, p)).cloned().collect();
    let removed = old.difference(&new).cloned().collect();
    (set, removed)
}

/// Records a non-apply write (update or patch) by `manager`: it takes the fields it changed.
pub fn record_update(owners: &mut Owners, owner: &Owner, before: &Value, after: &Value) {
    let (set, removed) = changed(before, after, owner.status);
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
    owners: &mut Owners,
    owner: &Owner,
    current: Option<&Value>,
    applied: &Value,
    force: bool,
) -> Result<Value, Vec<Conflict>> {
    let status = owner.status;
    let wanted = fields_of(applied, status);
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
    let mut part = applied.clone();
    if let Value::Object(map) = &mut part {
        if status {
            map.retain(|k, _| k == "status");
        } else {
            map.remove("status");
        }
    }
    apply_merge(&mut result, &part);
    if !wanted.is_empty() {
        owners.insert(owner.clone(), wanted);
    }
    owners.retain(|_, paths| !paths.is_empty());
    Ok(result)
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
        } else if let Some((key, id)) = parse_item(element) {
            let id = id.as_str().map_or_else(|| id.to_string(), str::to_owned);
            out.push_str(&format!("[{key}={id}]"));
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
        let first = json!({"spec": {"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}], "x": 1}});
        let object = apply(&mut owners, &owner("op", true), None, &first, false).unwrap();
        let mut edited = object.clone();
        edited["spec"]["env"].as_array_mut().unwrap().push(json!({"name": "USER", "value": "u"}));
        record_update(&mut owners, &owner("kubectl-edit", false), &object, &edited);
        let second = json!({"spec": {"env": [{"name": "A", "value": "1"}]}});
        let after = apply(&mut owners, &owner("op", true), Some(&edited), &second, false).unwrap();
        assert_eq!(after, json!({"spec": {"env": [{"name": "A", "value": "1"}, {"name": "USER", "value": "u"}]}}));
    }

    #[test]
    fn apply_conflicts_with_a_changed_field_unless_forced() {
        let mut owners = Owners::new();
        let applied = json!({"spec": {"replicas": 2}});
        let object = apply(&mut owners, &owner("op", true), None, &applied, false).unwrap();
        let edited = json!({"spec": {"replicas": 5}});
        record_update(&mut owners, &owner("kubectl-edit", false), &object, &edited);
        let err = apply(&mut owners, &owner("op", true), Some(&edited), &applied, false).unwrap_err();
        assert_eq!(err, vec![Conflict { manager: "kubectl-edit".into(), field: "spec.replicas".into() }]);
        let back = apply(&mut owners, &owner("op", true), Some(&edited), &applied, true).unwrap();
        assert_eq!(back, applied);
        assert_eq!(owners.keys().map(|o| o.manager.as_str()).collect::<Vec<_>>(), vec!["op"]);
    }

    #[test]
    fn paths_navigate_keyed_items_and_render_as_fields_v1() {
        let object = json!({"spec": {"containers": [{"name": "r", "image": "i"}]}});
        let fields = fields_of(&object, false);
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
}
