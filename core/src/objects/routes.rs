//! Routes: `default-route` when asked for, and one per `spec.routes` entry (spec 20 §2.9).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::Desired;
use crate::api::Config;
use crate::api::config::ImageRegistryConfigRoute;
use crate::api::openshift::{Route, RouteSpec, RouteTarget, RouteTls};
use crate::inputs::Inputs;
use crate::names::{DEFAULT_ROUTE, NAMESPACE, OWNERSHIP_ANNOTATION, REGISTRY_NAME};

/// The routes the Config asks for, default route first, then `spec.routes` in order.
pub fn wanted(config: &Config) -> Vec<ImageRegistryConfigRoute> {
    let mut routes = Vec::new();
    if config.spec.default_route {
        routes.push(ImageRegistryConfigRoute { name: DEFAULT_ROUTE.to_owned(), ..ImageRegistryConfigRoute::default() });
    }
    routes.extend(config.spec.routes.iter().cloned());
    routes
}

fn text(secret: &Secret, key: &str) -> Option<String> {
    secret.data.as_ref()?.get(key).map(|bytes| String::from_utf8_lossy(&bytes.0).into_owned())
}

/// The desired Route objects; a named TLS secret that cannot be read fails the whole list.
pub fn routes(config: &Config, observed: &Inputs<'_>) -> Result<Vec<Desired>, String> {
    wanted(config)
        .into_iter()
        .map(|wanted| {
            let mut tls = RouteTls { termination: "reencrypt".to_owned(), ..RouteTls::default() };
            let mut secrets = Vec::new();
            if !wanted.secret_name.is_empty() {
                let secret = observed
                    .objects
                    .get::<Secret>(NAMESPACE, &wanted.secret_name)
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| {
                        format!(
                            "unable to get secret {NAMESPACE}/{} for route {}: not found",
                            wanted.secret_name, wanted.name
                        )
                    })?;
                tls.certificate = text(&secret, "tls.crt").unwrap_or_default();
                tls.key = text(&secret, "tls.key").unwrap_or_default();
                tls.ca_certificate = text(&secret, "tls.cacrt").unwrap_or_default();
                if !tls.key.is_empty() {
                    secrets.push("/spec/tls/key".to_owned());
                }
            }
            let route = Route {
                metadata: ObjectMeta {
                    name: Some(wanted.name.clone()),
                    namespace: Some(NAMESPACE.to_owned()),
                    annotations: Some(BTreeMap::from([(OWNERSHIP_ANNOTATION.to_owned(), "true".to_owned())])),
                    ..ObjectMeta::default()
                },
                spec: RouteSpec {
                    host: wanted.hostname.clone(),
                    to: RouteTarget { kind: "Service".to_owned(), name: REGISTRY_NAME.to_owned(), weight: None },
                    tls: Some(tls),
                },
                status: None,
            };
            Desired::remembered(observed.memo, &route, secrets)
        })
        .collect()
}
