//! What the rest of the cluster does between two passes: the Deployment controller rolls the
//! registry out, routers admit routes, foreground deletions finish.

use serde_json::{Value, json};

use super::World;
use crate::names::{NAMESPACE, REGISTRY_NAME};
use crate::observed::ObjectKey;

impl World {
    /// Lets the other controllers catch up with the last writes.
    pub fn settle(&mut self) {
        let keys: Vec<ObjectKey> = self.observed.objects.iter().map(|(k, _)| k.clone()).collect();
        for key in keys {
            let Some(before) = self.observed.objects.raw(&key).cloned() else { continue };
            let deleting = before.pointer("/metadata/deletionTimestamp").is_some();
            let finalizers =
                before.pointer("/metadata/finalizers").and_then(Value::as_array).is_some_and(|f| !f.is_empty());
            if deleting && !finalizers {
                self.observed.objects.remove(&key);
                continue;
            }
            let mut after = before.clone();
            match (key.group.as_str(), key.kind.as_str()) {
                ("apps", "Deployment") if key.namespace == NAMESPACE && key.name == REGISTRY_NAME && !deleting => {
                    roll_out(&mut after);
                }
                ("route.openshift.io", "Route") => admit(&mut after, &key.name),
                _ => {}
            }
            self.store_changed(&before, after);
        }
    }
}

/// A finished rollout: every replica updated, ready and available.
fn roll_out(deployment: &mut Value) {
    let replicas = deployment.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1);
    let generation = deployment.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(1);
    let status = json!({
        "observedGeneration": generation,
        "replicas": replicas,
        "updatedReplicas": replicas,
        "readyReplicas": replicas,
        "availableReplicas": replicas,
        "conditions": [
            {"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable", "message": "Deployment has minimum availability."},
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable", "message": "ReplicaSet has successfully progressed."}
        ]
    });
    if let Value::Object(map) = deployment {
        map.insert("status".into(), status);
    }
}

/// The default router admits the route under its own host or a generated one.
fn admit(route: &mut Value, name: &str) {
    let host = match route.pointer("/spec/host").and_then(Value::as_str).filter(|h| !h.is_empty()) {
        Some(host) => host.to_owned(),
        None => format!("{name}-{NAMESPACE}.apps.example.com"),
    };
    let status = json!({"ingress": [{
        "host": host,
        "routerName": "default",
        "wildcardPolicy": "None",
        "conditions": [{"type": "Admitted", "status": "True"}]
    }]});
    if let Value::Object(map) = route {
        map.insert("status".into(), status);
    }
}
