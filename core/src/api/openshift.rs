//! Cluster objects the operator reads (and partly writes): Infrastructure, Proxy, Image,
//! ClusterOperator, ClusterVersion, APIServer, FeatureGate, Route (spec 50 §6).
//!
//! Only the fields the operator uses are modelled; unknown fields are ignored on decode.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use serde::{Deserialize, Serialize};

macro_rules! object {
    ($(#[$doc:meta])* $name:ident { spec: $spec:ty, status: $status:ty }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            /// Standard object metadata.
            #[serde(default)]
            pub metadata: ObjectMeta,
            /// Desired state.
            #[serde(default)]
            pub spec: $spec,
            /// Observed state.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub status: Option<$status>,
        }
    };
}

/// A `{key, value}` tag.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyValue {
    /// Tag key.
    #[serde(default)]
    pub key: String,
    /// Tag value.
    #[serde(default)]
    pub value: String,
}

/// A `{name, url}` service endpoint override.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceEndpoint {
    /// Service name (`s3`, `ec2`, `COS`, …).
    #[serde(default)]
    pub name: String,
    /// Endpoint URL.
    #[serde(default)]
    pub url: String,
}

/// Empty spec for objects whose spec the operator never reads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unread {}

object!(
    /// `infrastructures.config.openshift.io/cluster`.
    Infrastructure { spec: Unread, status: InfrastructureStatus }
);

/// Infrastructure `status`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InfrastructureStatus {
    /// Cluster ID used in generated names and ownership tags.
    #[serde(default)]
    pub infrastructure_name: String,
    /// Per-platform data; the bootstrap needs it.
    #[serde(default)]
    pub platform_status: Option<PlatformStatus>,
    /// `HighlyAvailable` or `SingleReplica`.
    #[serde(default)]
    pub infrastructure_topology: String,
    /// Control-plane topology (only leader-election timing depends on it).
    #[serde(default)]
    pub control_plane_topology: String,
}

/// Infrastructure `status.platformStatus`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PlatformStatus {
    /// Platform type, case-exact (`AWS`, `oVirt`, `VSphere`, …).
    #[serde(rename = "type", default)]
    pub type_: String,
    /// AWS data.
    #[serde(default)]
    pub aws: Option<AwsPlatformStatus>,
    /// Azure data.
    #[serde(default)]
    pub azure: Option<AzurePlatformStatus>,
    /// GCP data.
    #[serde(default)]
    pub gcp: Option<GcpPlatformStatus>,
    /// IBM Cloud data.
    #[serde(default)]
    pub ibmcloud: Option<IbmCloudPlatformStatus>,
    /// PowerVS data.
    #[serde(default)]
    pub powervs: Option<PowerVsPlatformStatus>,
    /// OpenStack data.
    #[serde(default)]
    pub openstack: Option<OpenStackPlatformStatus>,
}

/// `platformStatus.aws`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AwsPlatformStatus {
    /// Default S3 region.
    #[serde(default)]
    pub region: String,
    /// Endpoint overrides; the one named `s3` is the default `regionEndpoint`.
    #[serde(default)]
    pub service_endpoints: Vec<ServiceEndpoint>,
    /// User tags added to the created bucket.
    #[serde(default)]
    pub resource_tags: Vec<KeyValue>,
}

/// `platformStatus.azure`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AzurePlatformStatus {
    /// Cluster resource group.
    #[serde(default)]
    pub resource_group_name: String,
    /// Default for `storage.azure.cloudName`.
    #[serde(default)]
    pub cloud_name: String,
    /// Tags added to the created storage account.
    #[serde(default)]
    pub resource_tags: Vec<KeyValue>,
}

/// `platformStatus.gcp`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GcpPlatformStatus {
    /// Default `storage.gcs.projectID`.
    #[serde(default, rename = "projectID")]
    pub project_id: String,
    /// Default `storage.gcs.region`.
    #[serde(default)]
    pub region: String,
    /// Labels added to the bucket.
    #[serde(default)]
    pub resource_labels: Vec<KeyValue>,
    /// Tags bound to the bucket.
    #[serde(default)]
    pub resource_tags: Vec<GcpResourceTag>,
}

/// A GCP resource tag.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GcpResourceTag {
    /// Organisation or project the tag key lives in.
    #[serde(default, rename = "parentID")]
    pub parent_id: String,
    /// Tag key.
    #[serde(default)]
    pub key: String,
    /// Tag value.
    #[serde(default)]
    pub value: String,
}

/// `platformStatus.ibmcloud`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IbmCloudPlatformStatus {
    /// Default `storage.ibmcos.location`.
    #[serde(default)]
    pub location: String,
    /// Default `storage.ibmcos.resourceGroupName`.
    #[serde(default)]
    pub resource_group_name: String,
    /// Endpoint overrides.
    #[serde(default)]
    pub service_endpoints: Vec<ServiceEndpoint>,
}

/// `platformStatus.powervs`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PowerVsPlatformStatus {
    /// PowerVS region, mapped to a COS region.
    #[serde(default)]
    pub region: String,
    /// Default `storage.ibmcos.resourceGroupName`.
    #[serde(default)]
    pub resource_group: String,
    /// Endpoint overrides.
    #[serde(default)]
    pub service_endpoints: Vec<ServiceEndpoint>,
}

/// `platformStatus.openstack`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OpenStackPlatformStatus {
    /// Entry of clouds.yaml to use (default `openstack`).
    #[serde(default)]
    pub cloud_name: String,
}

object!(
    /// `proxies.config.openshift.io/cluster`.
    Proxy { spec: Unread, status: ProxyStatus }
);

/// Proxy `status`: the effective cluster proxy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProxyStatus {
    /// Effective HTTP proxy.
    #[serde(default)]
    pub http_proxy: String,
    /// Effective HTTPS proxy.
    #[serde(default)]
    pub https_proxy: String,
    /// Effective no-proxy list.
    #[serde(default)]
    pub no_proxy: String,
}

object!(
    /// `images.config.openshift.io/cluster`.
    Image { spec: ImageSpec, status: ImageStatus }
);

/// Image `spec` (the parts the operator reads).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageSpec {
    /// ConfigMap in `openshift-config` with extra trusted CAs.
    #[serde(default, rename = "additionalTrustedCA")]
    pub additional_trusted_ca: NameRef,
    /// Import mode copied to status when set.
    #[serde(default)]
    pub image_stream_import_mode: String,
}

/// A `{name}` reference.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameRef {
    /// The referenced name.
    #[serde(default)]
    pub name: String,
}

/// Image `status`, written by the operator.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageStatus {
    /// `<service>.<namespace>.svc[:port]`. Always written, empty included: the operator owns
    /// it, and an apply that leaves a field out does not clear what another writer set there
    /// (the reference operator, before a take-over).
    #[serde(default)]
    pub internal_registry_hostname: String,
    /// Hosts of the operator's routes, default route first. Always written, as above.
    #[serde(default)]
    pub external_registry_hostnames: Vec<String>,
    /// Effective import mode.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub image_stream_import_mode: String,
}

object!(
    /// `clusteroperators.config.openshift.io/image-registry`.
    ClusterOperator { spec: Unread, status: ClusterOperatorStatus }
);

/// ClusterOperator `status`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterOperatorStatus {
    /// Cluster-level conditions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<ClusterOperatorCondition>,
    /// Operand versions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<OperandVersion>,
    /// Objects to collect for diagnostics.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related_objects: Vec<RelatedObject>,
    /// Operator-specific extra status; always sent (`null`).
    #[serde(default)]
    pub extension: Option<serde_json::Value>,
}

/// A ClusterOperator condition.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterOperatorCondition {
    /// `Available`, `Progressing`, `Degraded`, …
    #[serde(rename = "type")]
    pub type_: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// When `status` last changed.
    pub last_transition_time: Time,
    /// CamelCase reason.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// Human message.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// `{name, version}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperandVersion {
    /// Operand name (`operator`).
    pub name: String,
    /// Version string.
    pub version: String,
}

/// A related object of a ClusterOperator.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelatedObject {
    /// API group; sent even when `""`.
    pub group: String,
    /// Resource (plural).
    pub resource: String,
    /// Namespace; omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// Object name.
    pub name: String,
}

object!(
    /// `clusterversions.config.openshift.io/version`.
    ClusterVersion { spec: Unread, status: ClusterVersionStatus }
);

/// ClusterVersion `status`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterVersionStatus {
    /// The release being applied.
    #[serde(default)]
    pub desired: Release,
    /// Past releases, newest first.
    #[serde(default)]
    pub history: Vec<Release>,
}

/// A release.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    /// Release version.
    #[serde(default)]
    pub version: String,
    /// `Multi` or empty.
    #[serde(default)]
    pub architecture: String,
}

object!(
    /// `apiservers.config.openshift.io/cluster`.
    ApiServer { spec: ApiServerSpec, status: Unread }
);

/// APIServer `spec`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiServerSpec {
    /// TLS settings for externally exposed servers.
    #[serde(default)]
    pub tls_security_profile: Option<TlsSecurityProfile>,
}

/// TLSSecurityProfile: a union on `type`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsSecurityProfile {
    /// `Old`, `Intermediate`, `Modern` or `Custom`.
    #[serde(rename = "type", default)]
    pub type_: String,
    /// Settings for `Custom`.
    #[serde(default)]
    pub custom: Option<CustomTlsProfile>,
}

/// `tlsSecurityProfile.custom`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomTlsProfile {
    /// OpenSSL-style cipher names.
    #[serde(default)]
    pub ciphers: Vec<String>,
    /// `VersionTLS10` … `VersionTLS13`.
    #[serde(default, rename = "minTLSVersion")]
    pub min_tls_version: String,
}

object!(
    /// `routes.route.openshift.io` (namespaced).
    Route { spec: RouteSpec, status: RouteStatus }
);

/// Route `spec`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteSpec {
    /// Requested host.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub host: String,
    /// Backend.
    #[serde(default)]
    pub to: RouteTarget,
    /// TLS settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<RouteTls>,
}

/// Route `spec.to`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteTarget {
    /// Always `Service`.
    #[serde(default)]
    pub kind: String,
    /// Service name.
    #[serde(default)]
    pub name: String,
    /// Server-defaulted weight.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<i32>,
}

/// Route `spec.tls`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteTls {
    /// `edge`, `reencrypt` or `passthrough`.
    #[serde(default)]
    pub termination: String,
    /// PEM certificate.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub certificate: String,
    /// PEM key.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key: String,
    /// PEM CA certificate.
    #[serde(default, rename = "caCertificate", skip_serializing_if = "String::is_empty")]
    pub ca_certificate: String,
}

/// Route `status`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RouteStatus {
    /// Per-router admission results.
    #[serde(default)]
    pub ingress: Vec<RouteIngress>,
}

/// One router's view of a route.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteIngress {
    /// Admitted host.
    #[serde(default)]
    pub host: String,
    /// Router name.
    #[serde(default)]
    pub router_name: String,
    /// Admission conditions.
    #[serde(default)]
    pub conditions: Vec<RouteIngressCondition>,
}

/// A route ingress condition.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RouteIngressCondition {
    /// `Admitted`, …
    #[serde(rename = "type", default)]
    pub type_: String,
    /// `True`, `False`, `Unknown`.
    #[serde(default)]
    pub status: String,
    /// Reason.
    #[serde(default)]
    pub reason: String,
    /// Message.
    #[serde(default)]
    pub message: String,
}
