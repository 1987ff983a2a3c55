//! The image config controller (spec 40 §3): `images.config.openshift.io/cluster` exists, and
//! its status names the registry's internal and external hostnames.

use serde_json::json;

use crate::action::{Action, KubeAction, Payload};
use crate::api::openshift::{Image, ImageStatus, Route};
use crate::api::{ApiObject, ConditionStatus};
use crate::conditions::Wanted;
use crate::diff::differences_under;
use crate::inputs::Inputs;
use crate::names::{CLUSTER, NAMESPACE, OWNERSHIP_ANNOTATION, REGISTRY_NAME};
use crate::objects::network::registry_port;
use crate::observed::ObjectKey;
use crate::plan::Plan;

/// Condition type this controller sets on the Config.
pub const DEGRADED: &str = "ImageConfigControllerDegraded";

/// `<service>.<namespace>.svc[:port]` of the registry Service, `""` when there is none.
pub fn internal_hostname(observed: &Inputs<'_>) -> Result<String, String> {
    let Some(port) = registry_port(observed)? else { return Ok(String::new()) };
    let suffix = if port == 443 { String::new() } else { format!(":{port}") };
    Ok(format!("{REGISTRY_NAME}.{NAMESPACE}.svc{suffix}"))
}

/// Hosts of the operator's routes: the default route's first, the rest sorted and unique.
pub fn external_hostnames(observed: &Inputs<'_>) -> Vec<String> {
    let routes = observed.objects.list::<Route>(NAMESPACE).unwrap_or_default();
    let mut default_host = None;
    let mut hosts = Vec::new();
    for route in
        routes.iter().filter(|r| r.metadata.annotations.as_ref().is_some_and(|a| a.contains_key(OWNERSHIP_ANNOTATION)))
    {
        for ingress in route.status.iter().flat_map(|s| &s.ingress).filter(|i| !i.host.is_empty()) {
            if ingress.host.starts_with("default-route-openshift-image-registry") {
                default_host = Some(ingress.host.clone());
            } else {
                hosts.push(ingress.host.clone());
            }
        }
    }
    hosts.sort();
    hosts.dedup();
    if let Some(host) = default_host {
        hosts.retain(|h| *h != host);
        hosts.insert(0, host);
    }
    hosts
}

/// Plans the Image config's creation and status; returns the internal hostname and this
/// controller's Degraded condition.
pub fn plan(observed: &Inputs<'_>, plan: &mut Plan) -> (String, Wanted) {
    let key = ObjectKey::of::<Image>("", CLUSTER);
    let outcome = (|| -> Result<String, String> {
        let image = observed.image.as_ref().map_err(|e| e.to_string())?;
        let hostname = internal_hostname(observed)?;
        if image.is_none() {
            let object = json!({ "apiVersion": Image::api_version(), "kind": Image::KIND, "metadata": { "name": CLUSTER }, "spec": {} });
            plan.push(
                Action::Kube(KubeAction::Create { key: key.clone(), object: Payload::new(object) }),
                "the cluster has no Image config; the registry's hostnames are published there",
            );
        }
        let old = image.as_ref().and_then(|i| i.status.clone()).unwrap_or_default();
        let new = ImageStatus {
            internal_registry_hostname: hostname.clone(),
            external_registry_hostnames: external_hostnames(observed),
            image_stream_import_mode: old.image_stream_import_mode.clone(),
        };
        if new != old {
            let new_value = serde_json::to_value(&new).map_err(|e| e.to_string())?;
            let old_value = serde_json::to_value(&old).map_err(|e| e.to_string())?;
            let take_back = crate::objects::takeback::emptied(&old_value, &new_value);
            let mut changes = differences_under(Image::KIND, &["status"], &new_value, &old_value);
            changes.iter_mut().for_each(|c| c.path = format!("status.{}", c.path));
            let object = json!({ "apiVersion": Image::api_version(), "kind": Image::KIND, "metadata": { "name": CLUSTER }, "status": new_value });
            plan.push(
                Action::Kube(KubeAction::ApplyStatus { key, take_back, object: Payload::new(object), changes }),
                "the registry's hostnames changed",
            );
        }
        Ok(hostname)
    })();
    match outcome {
        Ok(hostname) => (hostname, Wanted::new(DEGRADED, ConditionStatus::False, "AsExpected", "")),
        Err(e) => {
            plan.error("image-config", e.clone());
            (String::new(), Wanted::new(DEGRADED, ConditionStatus::True, "Error", e))
        }
    }
}
