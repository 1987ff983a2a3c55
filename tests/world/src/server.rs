//! How the API server treats writes other than server-side apply (that is `fields`): JSON merge
//! patch, and the defaults it adds.

use serde_json::{Map, Value, json};

/// RFC 6902 JSON patch, the operations the operator sends (`test`, `remove`, `add`, `replace`);
/// a failed `test` fails the whole patch and changes nothing.
pub fn json_patch(target: &mut Value, ops: &[Value]) -> Result<(), String> {
    let mut work = target.clone();
    for op in ops {
        let path = op.get("path").and_then(Value::as_str).unwrap_or_default();
        let (parent, last) = path.rsplit_once('/').ok_or_else(|| format!("bad path {path:?}"))?;
        let last = last.replace("~1", "/").replace("~0", "~");
        let value = op.get("value").cloned().unwrap_or(Value::Null);
        match op.get("op").and_then(Value::as_str) {
            Some("test") => {
                if work.pointer(path) != Some(&value) {
                    return Err(format!("test failed at {path}"));
                }
            }
            Some(verb @ ("remove" | "add" | "replace")) => {
                let slot = work.pointer_mut(parent).ok_or_else(|| format!("no parent at {path}"))?;
                match slot {
                    Value::Array(items) => {
                        let index = if last == "-" {
                            items.len()
                        } else {
                            last.parse().map_err(|_| format!("bad index {path}"))?
                        };
                        match verb {
                            "remove" if index < items.len() => {
                                items.remove(index);
                            }
                            "add" if index <= items.len() => items.insert(index, value),
                            "replace" => *items.get_mut(index).ok_or_else(|| format!("no item at {path}"))? = value,
                            _ => return Err(format!("no item at {path}")),
                        }
                    }
                    Value::Object(map) => {
                        if verb == "remove" {
                            map.remove(&last).ok_or_else(|| format!("nothing at {path}"))?;
                        } else {
                            map.insert(last, value);
                        }
                    }
                    _ => return Err(format!("cannot {verb} at {path}")),
                }
            }
            other => return Err(format!("unsupported JSON patch op {other:?}")),
        }
    }
    *target = work;
    Ok(())
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
    fn merge_patch_follows_rfc_7386() {
        let mut target = json!({"a": {"b": 1, "c": 2}, "d": [1]});
        merge_patch(&mut target, &json!({"a": {"b": null, "e": 3}, "d": [2, 3]}));
        assert_eq!(target, json!({"a": {"c": 2, "e": 3}, "d": [2, 3]}));
    }
}
