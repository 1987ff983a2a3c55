//! The `Config` custom resource (`configs.imageregistry.operator.openshift.io`, spec 50 §2).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Affinity, ResourceRequirements, Toleration, TopologySpreadConstraint};
use kube::CustomResource;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use super::duration::GoDuration;
use super::operator::{GenerationStatus, LOG_LEVELS, MANAGEMENT_STATE_PATTERN, ManagementState, OperatorCondition};
use super::storage::Storage;

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero_i64(n: &i64) -> bool {
    *n == 0
}

fn is_zero_i32(n: &i32) -> bool {
    *n == 0
}

/// `integer` with no format: Go `int` fields.
pub(crate) fn plain_integer(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "integer" })
}

/// Nullable free-form JSON with unknown fields kept (`unsupportedConfigOverrides`, `observedConfig`).
fn raw_extension(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "x-kubernetes-preserve-unknown-fields": true
    })
}

/// ImageRegistrySpec: the desired registry.
#[derive(CustomResource, Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[kube(
    group = "imageregistry.operator.openshift.io",
    version = "v1",
    kind = "Config",
    plural = "configs",
    singular = "config",
    status = "ImageRegistryStatus",
    derive = "PartialEq",
    derive = "Default",
    doc = "Config is the configuration object for the OpenShift image registry operator."
)]
#[serde(rename_all = "camelCase")]
pub struct ImageRegistrySpec {
    /// `Managed`, `Unmanaged`, `Removed` (or the inert `Force`). Always sent.
    #[serde(default)]
    #[schemars(regex(pattern = MANAGEMENT_STATE_PATTERN))]
    pub management_state: String,
    /// Coarse log intent for the registry.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(extend("enum" = LOG_LEVELS, "default" = "Normal"))]
    pub log_level: String,
    /// Coarse log intent for the operator.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(extend("enum" = LOG_LEVELS, "default" = "Normal"))]
    pub operator_log_level: String,
    /// Unsupported escape hatch (only `deployment.annotations` and `deployment.runtimeClassName`
    /// are read). Always sent, `null` when unset.
    #[serde(default)]
    #[schemars(schema_with = "raw_extension")]
    pub unsupported_config_overrides: Option<serde_json::Value>,
    /// Configuration observed from the cluster (the APIServer TLS profile). Always sent.
    #[serde(default)]
    #[schemars(schema_with = "raw_extension")]
    pub observed_config: Option<serde_json::Value>,
    /// Secret the registry signs upload state with; generated once, then kept.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub http_secret: String,
    /// Proxy overrides for the registry. Always sent.
    #[serde(default)]
    pub proxy: ImageRegistryConfigProxy,
    /// Storage backend selection and settings. Always sent.
    #[serde(default)]
    pub storage: Storage,
    /// The registry refuses pushes and deletes.
    #[serde(default, skip_serializing_if = "is_false")]
    pub read_only: bool,
    /// Serve blob data through the registry instead of redirecting to the backend.
    #[serde(default, skip_serializing_if = "is_false")]
    pub disable_redirect: bool,
    /// Limits on concurrent registry API requests. Always sent.
    #[serde(default)]
    #[schemars(extend("x-kubernetes-map-type" = "atomic"))]
    pub requests: ImageRegistryConfigRequests,
    /// Create the route `default-route` with a router-generated host.
    #[serde(default, skip_serializing_if = "is_false")]
    pub default_route: bool,
    /// Additional routes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub routes: Vec<ImageRegistryConfigRoute>,
    /// Number of registry pods. Required; always sent.
    #[serde(default)]
    pub replicas: i32,
    /// Deprecated numeric log level.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub logging: i64,
    /// Requests and limits for the registry container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-map-type" = "atomic"))]
    pub resources: Option<ResourceRequirements>,
    /// Node selector for registry pods; present-but-empty disables the default spread constraints.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_selector: Option<BTreeMap<String, String>>,
    /// Tolerations for registry pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub tolerations: Option<Vec<Toleration>>,
    /// Deployment strategy type.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(regex(pattern = r"^(RollingUpdate|Recreate)$"))]
    pub rollout_strategy: String,
    /// Affinity rules for registry pods.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affinity: Option<Affinity>,
    /// Replaces the default topology spread constraints when present (even `[]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("x-kubernetes-list-type" = "atomic"))]
    pub topology_spread_constraints: Option<Vec<TopologySpreadConstraint>>,
}

impl ImageRegistrySpec {
    /// The parsed management state.
    pub fn management_state(&self) -> ManagementState {
        ManagementState::parse(&self.management_state)
    }
}

/// ImageRegistryConfigProxy: each non-empty member wins over the cluster Proxy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImageRegistryConfigProxy {
    /// Proxy URL for HTTP destinations.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub http: String,
    /// Proxy URL for HTTPS destinations.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub https: String,
    /// Comma-separated hosts that bypass the proxy.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub no_proxy: String,
}

/// ImageRegistryConfigRequests: both members always sent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ImageRegistryConfigRequests {
    /// Limits for read requests.
    #[serde(default)]
    pub read: ImageRegistryConfigRequestsLimits,
    /// Limits for write requests.
    #[serde(default)]
    pub write: ImageRegistryConfigRequestsLimits,
}

/// ImageRegistryConfigRequestsLimits.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImageRegistryConfigRequestsLimits {
    /// Maximum in-flight requests.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    #[schemars(schema_with = "plain_integer")]
    pub max_running: i64,
    /// Maximum queued requests.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    #[schemars(schema_with = "plain_integer")]
    pub max_in_queue: i64,
    /// Longest wait in the queue. Always sent (`0s`).
    #[serde(default)]
    pub max_wait_in_queue: GoDuration,
}

/// ImageRegistryConfigRoute: one additional route.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImageRegistryConfigRoute {
    /// Route object name in the operator namespace.
    pub name: String,
    /// Requested host; empty lets the router pick one.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub hostname: String,
    /// Secret (operator namespace) with `tls.crt`, `tls.key`, `tls.cacrt`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub secret_name: String,
}

/// ImageRegistryStatus: what the operator reports and last applied.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImageRegistryStatus {
    /// Last `metadata.generation` handled.
    #[serde(default, skip_serializing_if = "is_zero_i64")]
    pub observed_generation: i64,
    /// Operator conditions, a list-map keyed by `type`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("x-kubernetes-list-type" = "map", "x-kubernetes-list-map-keys" = ["type"]))]
    pub conditions: Vec<OperatorCondition>,
    /// Level the status applies to (never set by the operator).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
    /// Ready registry replicas. Always sent.
    #[serde(default)]
    pub ready_replicas: i32,
    /// Latest deployment revision (unused; may only increase).
    #[serde(default, skip_serializing_if = "is_zero_i32")]
    #[schemars(extend("x-kubernetes-validations" = [{ "rule": "self >= oldSelf", "message": "must only increase" }]))]
    pub latest_available_revision: i32,
    /// Last seen generations of managed objects.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend(
        "x-kubernetes-list-type" = "map",
        "x-kubernetes-list-map-keys" = ["group", "resource", "namespace", "name"]
    ))]
    pub generations: Vec<GenerationStatus>,
    /// Deprecated mirror of `spec.storage.managementState == Managed`. Required; always sent.
    #[serde(default)]
    pub storage_managed: bool,
    /// Storage configuration last applied. Required; always sent.
    #[serde(default)]
    pub storage: Storage,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::storage::{CloudFront, S3};

    #[test]
    fn empty_spec_sends_the_always_fields() {
        let spec = serde_json::to_value(ImageRegistrySpec::default()).unwrap();
        assert_eq!(
            spec,
            json!({
                "managementState": "",
                "unsupportedConfigOverrides": null,
                "observedConfig": null,
                "proxy": {},
                "storage": {},
                "requests": {"read": {"maxWaitInQueue": "0s"}, "write": {"maxWaitInQueue": "0s"}},
                "replicas": 0
            })
        );
    }

    #[test]
    fn empty_status_sends_the_required_fields() {
        let status = serde_json::to_value(ImageRegistryStatus::default()).unwrap();
        assert_eq!(status, json!({"readyReplicas": 0, "storageManaged": false, "storage": {}}));
    }

    #[test]
    fn s3_zero_values_follow_the_reference() {
        let s3 = S3 { cloud_front: Some(CloudFront::default()), ..S3::default() };
        assert_eq!(
            serde_json::to_value(s3).unwrap(),
            json!({
                "cloudFront": {"baseURL": "", "privateKey": {"key": ""}, "keypairID": "", "duration": "0s"},
                "virtualHostedStyle": false,
                "trustedCA": {"name": ""}
            })
        );
    }

    #[test]
    fn a_config_from_the_api_server_round_trips() {
        let stored = json!({
            "apiVersion": "imageregistry.operator.openshift.io/v1",
            "kind": "Config",
            "metadata": {"name": "cluster", "resourceVersion": "7", "finalizers": ["imageregistry.operator.openshift.io/finalizer"]},
            "spec": {
                "managementState": "Managed", "logLevel": "Normal", "operatorLogLevel": "Normal",
                "unsupportedConfigOverrides": null, "observedConfig": null, "httpSecret": "abc",
                "proxy": {}, "storage": {"s3": {"bucket": "b", "region": "us-east-1", "virtualHostedStyle": false, "trustedCA": {"name": ""}}, "managementState": "Managed"},
                "requests": {"read": {"maxWaitInQueue": "0s"}, "write": {"maxRunning": 5, "maxWaitInQueue": "1m30s"}},
                "replicas": 2, "rolloutStrategy": "RollingUpdate", "nodeSelector": {},
                "topologySpreadConstraints": []
            },
            "status": {"readyReplicas": 2, "storageManaged": true, "storage": {"s3": {"bucket": "b", "virtualHostedStyle": false, "trustedCA": {"name": ""}}}}
        });
        let config: Config = serde_json::from_value(stored.clone()).unwrap();
        assert_eq!(config.spec.management_state(), ManagementState::Managed);
        assert_eq!(config.spec.requests.write.max_wait_in_queue, GoDuration(90_000_000_000));
        assert_eq!(config.spec.node_selector, Some(BTreeMap::new()), "present-but-empty is kept");
        assert_eq!(config.spec.topology_spread_constraints, Some(vec![]), "[] stays []");
        assert_eq!(serde_json::to_value(&config).unwrap(), stored);
    }
}
