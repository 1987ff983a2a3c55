//! How the API server merges each field of the kinds the operator writes (server-side apply's
//! schema markers): which lists are maps and by which keys, which are sets, which lists and
//! maps are atomic. One table serves the diff, the world model and the fake API server, so the
//! three cannot disagree on what a list item is.
//!
//! From the Kubernetes API types (`+listType`, `+listMapKey`, `+mapType`, `+structType`
//! markers, v1.33) and the OpenShift CRDs (`x-kubernetes-list-type`, `-list-map-keys`,
//! `-map-type`). A list with no marker is atomic, as in both.

/// How a list merges.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListType {
    /// Replaced whole; one owner for the list.
    Atomic,
    /// Scalars merged by value (`finalizers`).
    Set,
    /// Items merged by the values of these keys.
    Map(&'static [&'static str]),
}

/// Kinds whose `spec.template.spec` (or the CronJob's job template) is a pod spec.
fn pod_spec_at(kind: &str, path: &[&str]) -> Option<usize> {
    let prefix: &[&str] = match kind {
        "Deployment" | "DaemonSet" | "ReplicaSet" | "StatefulSet" | "Job" => &["spec", "template", "spec"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
        "Pod" => &["spec"],
        _ => return None,
    };
    path.starts_with(prefix).then_some(prefix.len())
}

/// The list type of the field at `path` (field names from the object's root; list items are
/// not steps) in an object of `kind`.
pub fn list_type(kind: &str, path: &[&str]) -> ListType {
    match path {
        ["metadata", "finalizers"] => return ListType::Set,
        ["metadata", "ownerReferences"] => return ListType::Map(&["uid"]),
        _ => {}
    }
    if let Some(start) = pod_spec_at(kind, path) {
        return match path.get(start..).unwrap_or_default() {
            ["containers" | "initContainers"] => ListType::Map(&["name"]),
            ["containers" | "initContainers", "ports"] => ListType::Map(&["containerPort", "protocol"]),
            ["containers" | "initContainers", "env"] => ListType::Map(&["name"]),
            ["containers" | "initContainers", "volumeMounts"] => ListType::Map(&["mountPath"]),
            ["volumes"] | ["imagePullSecrets"] => ListType::Map(&["name"]),
            ["topologySpreadConstraints"] => ListType::Map(&["topologyKey", "whenUnsatisfiable"]),
            _ => ListType::Atomic,
        };
    }
    match (kind, path) {
        ("Service", ["spec", "ports"]) => ListType::Map(&["port", "protocol"]),
        ("Config" | "ClusterOperator", ["status", "conditions"]) => ListType::Map(&["type"]),
        ("Config", ["status", "generations"]) => ListType::Map(&["group", "resource", "namespace", "name"]),
        _ => ListType::Atomic,
    }
}

/// Whether the map or struct at `path` is atomic (owned and replaced whole): label selectors
/// (`+structType=atomic`), `Service.spec.selector` (`+mapType=atomic`), and the Config's
/// `requests` and `resources`.
pub fn is_atomic_map(kind: &str, path: &[&str]) -> bool {
    if let Some(start) = pod_spec_at(kind, path) {
        return matches!(path.get(start..).unwrap_or_default().last(), Some(&"labelSelector"));
    }
    match (kind, path) {
        ("Deployment" | "DaemonSet" | "ReplicaSet" | "StatefulSet" | "PodDisruptionBudget", ["spec", "selector"]) => {
            true
        }
        ("Service", ["spec", "selector"]) => true,
        ("NetworkPolicy", ["spec", "podSelector"]) => true,
        ("Config", ["spec", "requests" | "resources"]) => true,
        // A SecretKeySelector (`+structType=atomic`).
        ("Config", ["spec" | "status", "storage", "s3", "cloudFront", "privateKey"]) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    #[test]
    fn built_in_keys_follow_the_kubernetes_types() {
        let pod = ["spec", "template", "spec"];
        let at = |rest: &[&'static str]| -> Vec<&'static str> { pod.iter().chain(rest).copied().collect() };
        assert_eq!(list_type("Deployment", &at(&["containers"])), ListType::Map(&["name"]));
        assert_eq!(
            list_type("Deployment", &at(&["containers", "ports"])),
            ListType::Map(&["containerPort", "protocol"])
        );
        assert_eq!(list_type("DaemonSet", &at(&["containers", "env"])), ListType::Map(&["name"]));
        assert_eq!(list_type("Deployment", &at(&["tolerations"])), ListType::Atomic);
        assert_eq!(list_type("Deployment", &at(&["containers", "args"])), ListType::Atomic);
        assert_eq!(list_type("Service", &["spec", "ports"]), ListType::Map(&["port", "protocol"]));
        assert_eq!(list_type("NetworkPolicy", &["spec", "ingress"]), ListType::Atomic);
        assert_eq!(list_type("Secret", &["metadata", "finalizers"]), ListType::Set);
        assert_eq!(
            list_type("CronJob", &["spec", "jobTemplate", "spec", "template", "spec", "volumes"]),
            ListType::Map(&["name"])
        );
        assert!(is_atomic_map("Service", &["spec", "selector"]));
        assert!(is_atomic_map("NetworkPolicy", &["spec", "podSelector"]));
        assert!(!is_atomic_map("Service", &["metadata", "labels"]));
    }

    /// Every list and map marker in the generated CRDs, found by walking their schemas.
    fn markers(schema: &Value, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, Value, Value, Value)>) {
        let list = schema.get("x-kubernetes-list-type").cloned().unwrap_or(Value::Null);
        let keys = schema.get("x-kubernetes-list-map-keys").cloned().unwrap_or(Value::Null);
        let map = schema.get("x-kubernetes-map-type").cloned().unwrap_or(Value::Null);
        if schema.get("type") == Some(&Value::from("array")) || !map.is_null() {
            out.push((path.clone(), list, keys, map));
        }
        let node = schema.get("items").unwrap_or(schema);
        if let Some(Value::Object(properties)) = node.get("properties") {
            for (key, child) in properties {
                path.push(key.clone());
                markers(child, path, out);
                path.pop();
            }
        }
    }

    #[test]
    fn the_table_agrees_with_the_generated_crds() {
        for (kind, crd) in
            [("Config", crate::api::crd::config_crd()), ("ImagePruner", crate::api::crd::image_pruner_crd())]
        {
            let crd = crd.unwrap();
            let mut found = Vec::new();
            markers(&crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"], &mut Vec::new(), &mut found);
            assert!(!found.is_empty());
            for (path, list, keys, map) in found {
                let path: Vec<&str> = path.iter().map(String::as_str).collect();
                if map == "atomic" {
                    assert!(is_atomic_map(kind, &path), "{kind} {path:?} is an atomic map");
                    continue;
                }
                let expected = match (list.as_str(), keys) {
                    (Some("map"), Value::Array(keys)) => {
                        let ListType::Map(table) = list_type(kind, &path) else { panic!("{kind} {path:?} is a map") };
                        let keys: Vec<&str> = keys.iter().filter_map(Value::as_str).collect();
                        assert_eq!(table, keys.as_slice(), "{kind} {path:?}");
                        continue;
                    }
                    (Some("set"), _) => ListType::Set,
                    _ => ListType::Atomic,
                };
                assert_eq!(list_type(kind, &path), expected, "{kind} {path:?}");
            }
        }
    }
}
