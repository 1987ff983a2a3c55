//! What the rest of the cluster does between two passes: the Deployment controller rolls the
//! registry out, routers admit routes, foreground deletions finish.

use serde_json::{Value, json};

use super::World;
use image_registry_core::names::{NAMESPACE, REGISTRY_NAME};
use image_registry_core::observed::ObjectKey;

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
            if let Some(after) = settle_object(&key, &before) {
                self.update(&key, super::OTHERS, &before, after);
            }
        }
        self.serving_certificates();
    }

    /// The service-ca operator: a Service asking for a serving certificate gets its Secret.
    fn serving_certificates(&mut self) {
        let services: Vec<Value> = self
            .observed
            .objects
            .iter()
            .filter(|(k, _)| k.group.is_empty() && k.kind == "Service")
            .map(|(_, v)| v.clone())
            .collect();
        for service in services {
            let Some(secret) = serving_certificate(&service) else { continue };
            let Ok(key) = ObjectKey::identify(&secret) else { continue };
            if self.observed.objects.raw(&key).is_none() {
                let mut secret = secret;
                self.stamp_new(&key, &mut secret);
                let _ = self.observed.objects.insert(secret);
            }
        }
    }
}

/// What the other controllers (Deployment and DaemonSet controllers, the router, the service-ca
/// CA injector) make of one object; `None` when they leave it as it is.
pub fn settle_object(key: &ObjectKey, object: &Value) -> Option<Value> {
    let deleting = object.pointer("/metadata/deletionTimestamp").is_some();
    let mut after = object.clone();
    match (key.group.as_str(), key.kind.as_str()) {
        ("apps", "Deployment") if key.namespace == NAMESPACE && key.name == REGISTRY_NAME && !deleting => {
            roll_out(&mut after);
        }
        ("route.openshift.io", "Route") => admit(&mut after, &key.name),
        ("apps", "DaemonSet") if !deleting => schedule_everywhere(&mut after),
        ("", "ConfigMap") if inject_ca(object) => {
            if let Value::Object(map) = &mut after
                && let Value::Object(data) = map.entry("data").or_insert_with(|| json!({}))
            {
                data.insert("service-ca.crt".into(), json!(SERVICE_CA));
            }
        }
        _ => {}
    }
    (&after != object).then_some(after)
}

/// The serving-certificate Secret the service-ca operator mints for a Service that asks for
/// one (annotation `service.alpha.openshift.io/serving-cert-secret-name`).
pub fn serving_certificate(service: &Value) -> Option<Value> {
    let annotation = "/metadata/annotations/service.alpha.openshift.io~1serving-cert-secret-name";
    let name = service.pointer(annotation).and_then(Value::as_str)?;
    let namespace = service.pointer("/metadata/namespace").and_then(Value::as_str)?;
    Some(json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": name, "namespace": namespace},
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": "bW9kZWxsZWQtdGxzLWNlcnRpZmljYXRlLXBlbQ==", "tls.key": "bW9kZWxsZWQtdGxzLXByaXZhdGUta2V5LXBlbQ=="}
    }))
}

/// The certificate the modelled service-ca operator injects.
const SERVICE_CA: &str = "-----BEGIN CERTIFICATE-----\nc2VydmljZS1jYQ==\n-----END CERTIFICATE-----\n";

fn inject_ca(configmap: &Value) -> bool {
    configmap.pointer("/metadata/annotations/service.beta.openshift.io~1inject-cabundle").and_then(Value::as_str)
        == Some("true")
}

/// Three nodes, all running the current pod template.
fn schedule_everywhere(daemon_set: &mut Value) {
    let generation = daemon_set.pointer("/metadata/generation").and_then(Value::as_i64).unwrap_or(1);
    if let Value::Object(map) = daemon_set {
        map.insert(
            "status".into(),
            json!({"observedGeneration": generation, "desiredNumberScheduled": 3, "currentNumberScheduled": 3,
                   "numberReady": 3, "numberAvailable": 3, "updatedNumberScheduled": 3, "numberMisscheduled": 0}),
        );
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
