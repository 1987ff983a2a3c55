//! How the API server treats writes, for the world model: server-side apply (merge by list key,
//! removal of fields the applier stopped applying), JSON merge patch, and the defaults it adds.

use serde_json::{Map, Value, json};

use crate::diff::list_key;

/// Merges an applied configuration into an existing object.
pub fn apply_merge(existing: &mut Value, applied: &Value) {
    match (existing, applied) {
        (Value::Object(have), Value::Object(want)) => {
            for (key, value) in want {
                match have.get_mut(key) {
                    Some(slot) => apply_merge(slot, value),
                    None => {
                        have.insert(key.clone(), value.clone());
                    }
                }
            }
        }
        (Value::Array(have), Value::Array(want)) => match list_key(want) {
            Some(key) if have.iter().all(|h| h.get(key).is_some()) => {
                for item in want {
                    match have.iter_mut().find(|h| h.get(key) == item.get(key)) {
                        Some(slot) => apply_merge(slot, item),
                        None => have.push(item.clone()),
                    }
                }
            }
            _ => *have = want.clone(),
        },
        (slot, value) => *slot = value.clone(),
    }
}

/// Removes from `existing` what `previous` applied and `current` no longer does: the applier
/// owned those fields, and nobody else claims them in this model.
pub fn remove_released(existing: &mut Value, previous: &Value, current: &Value) {
    match (existing, previous, current) {
        (Value::Object(have), Value::Object(before), Value::Object(now)) => {
            for (key, old) in before {
                match now.get(key) {
                    None => {
                        have.remove(key);
                    }
                    Some(new) => {
                        if let Some(slot) = have.get_mut(key) {
                            remove_released(slot, old, new);
                        }
                    }
                }
            }
        }
        (Value::Array(have), Value::Array(before), Value::Array(now)) => {
            if let Some(key) = list_key(before) {
                for old in before {
                    let id = old.get(key);
                    match now.iter().find(|n| n.get(key) == id) {
                        None => have.retain(|h| h.get(key) != id),
                        Some(new) => {
                            if let Some(slot) = have.iter_mut().find(|h| h.get(key) == id) {
                                remove_released(slot, old, new);
                            }
                        }
                    }
                }
            }
        }
        _ => {}
    }
}

/// RFC 7386 JSON merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(fields) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(map) = target {
        for (key, value) in fields {
            if value.is_null() {
                map.remove(key);
            } else {
                merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

fn default_at(object: &mut Value, path: &[&str], value: Value) {
    let Some((last, parents)) = path.split_last() else { return };
    let mut current = object;
    for key in parents {
        match current.get_mut(*key) {
            Some(next) => current = next,
            None => return,
        }
    }
    if let Value::Object(map) = current {
        map.entry((*last).to_owned()).or_insert(value);
    }
}

/// A sample of the defaults a real API server adds, so the model exercises the diff's
/// tolerance of fields the operator never sets.
pub fn add_defaults(kind: &str, object: &mut Value) {
    match kind {
        "Deployment" => {
            default_at(object, &["spec", "revisionHistoryLimit"], json!(10));
            default_at(object, &["spec", "template", "spec", "restartPolicy"], json!("Always"));
            default_at(object, &["spec", "template", "spec", "dnsPolicy"], json!("ClusterFirst"));
            default_at(object, &["spec", "template", "spec", "schedulerName"], json!("default-scheduler"));
            if let Some(Value::Array(containers)) = object.pointer_mut("/spec/template/spec/containers") {
                for container in containers {
                    default_at(container, &["imagePullPolicy"], json!("IfNotPresent"));
                    default_at(container, &["terminationMessagePath"], json!("/dev/termination-log"));
                    for probe in ["livenessProbe", "readinessProbe"] {
                        default_at(container, &[probe, "periodSeconds"], json!(10));
                        default_at(container, &[probe, "successThreshold"], json!(1));
                        default_at(container, &[probe, "failureThreshold"], json!(3));
                    }
                }
            }
        }
        "Service" => {
            default_at(object, &["spec", "type"], json!("ClusterIP"));
            default_at(object, &["spec", "sessionAffinity"], json!("None"));
            default_at(object, &["spec", "clusterIP"], json!("172.30.0.10"));
            default_at(object, &["spec", "clusterIPs"], json!(["172.30.0.10"]));
            default_at(object, &["spec", "internalTrafficPolicy"], json!("Cluster"));
        }
        "Route" => {
            default_at(object, &["spec", "to", "weight"], json!(100));
            default_at(object, &["spec", "wildcardPolicy"], json!("None"));
        }
        "Secret" => default_at(object, &["type"], json!("Opaque")),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_merges_keyed_lists_and_release_removes_fields() {
        let mut object =
            json!({"spec": {"env": [{"name": "A", "value": "1"}, {"name": "USER", "value": "u"}], "x": 1}});
        let first = json!({"spec": {"env": [{"name": "A", "value": "1"}], "x": 1}});
        let second = json!({"spec": {"env": [{"name": "A", "value": "2"}, {"name": "B", "value": "3"}]}});
        apply_merge(&mut object, &second);
        remove_released(&mut object, &first, &second);
        assert_eq!(
            object,
            json!({"spec": {"env": [{"name": "A", "value": "2"}, {"name": "USER", "value": "u"}, {"name": "B", "value": "3"}]}})
        );
    }

    #[test]
    fn merge_patch_follows_rfc_7386() {
        let mut target = json!({"a": {"b": 1, "c": 2}, "d": [1]});
        merge_patch(&mut target, &json!({"a": {"b": null, "e": 3}, "d": [2, 3]}));
        assert_eq!(target, json!({"a": {"c": 2, "e": 3}, "d": [2, 3]}));
    }
}
