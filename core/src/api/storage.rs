//! `spec.storage` / `status.storage`: one struct per backend, with the reference's
//! omit-when-empty and always-sent rules (spec 50 §2.2–§2.10).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::duration::GoDuration;
use super::operator::STORAGE_MANAGEMENT_STATE_PATTERN;

fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero_i32(n: &i32) -> bool {
    *n == 0
}

/// ImageRegistryConfigStorage: which backend, and its settings.
///
/// The schema does not enforce "exactly one backend"; the core does (spec 30 §1.2).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Storage {
    /// Ephemeral node-local storage (lost with the pod).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub empty_dir: Option<EmptyDir>,
    /// AWS S3 or an S3-compatible service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3: Option<S3>,
    /// Google Cloud Storage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gcs: Option<Gcs>,
    /// OpenStack Swift.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub swift: Option<Swift>,
    /// A PersistentVolumeClaim in the operator namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pvc: Option<Pvc>,
    /// Azure Blob Storage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure: Option<Azure>,
    /// IBM Cloud Object Storage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ibmcos: Option<IbmCos>,
    /// Alibaba Cloud OSS (schema only: no driver, counts as "not configured").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oss: Option<Oss>,
    /// Whether the operator owns the storage unit (`Managed`) or the user does (`Unmanaged`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(regex(pattern = STORAGE_MANAGEMENT_STATE_PATTERN))]
    pub management_state: String,
}

/// Marker object selecting ephemeral storage.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EmptyDir {}

/// ImageRegistryConfigStorageS3.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct S3 {
    /// Bucket holding registry data; generated when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub bucket: String,
    /// AWS region of the bucket; defaults to the cluster region.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub region: String,
    /// Endpoint URL (with scheme) for S3-compatible services.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub region_endpoint: String,
    /// Multipart upload chunk size in MiB; 0 means the registry's default.
    #[serde(default, rename = "chunkSizeMiB", skip_serializing_if = "is_zero_i32")]
    #[schemars(range(min = 5, max = 5120))]
    pub chunk_size_mib: i32,
    /// Store objects encrypted at rest.
    #[serde(default, skip_serializing_if = "is_false")]
    pub encrypt: bool,
    /// KMS key ID for encryption; ignored unless `encrypt` is true.
    #[serde(default, rename = "keyID", skip_serializing_if = "String::is_empty")]
    pub key_id: String,
    /// Serve blobs through CloudFront.
    #[serde(default, rename = "cloudFront", skip_serializing_if = "Option::is_none")]
    pub cloud_front: Option<CloudFront>,
    /// Virtual-hosted-style addressing with a custom endpoint. Always sent.
    #[serde(default)]
    pub virtual_hosted_style: bool,
    /// ConfigMap in `openshift-config` with CAs for the endpoint. Always sent.
    #[serde(default, rename = "trustedCA")]
    pub trusted_ca: TrustedCa,
}

/// S3TrustedCASource: a ConfigMap reference whose name may be empty.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TrustedCa {
    /// ConfigMap name; empty means the default trust bundle. Always sent.
    #[serde(default)]
    #[schemars(
        length(max = 253),
        regex(pattern = r"^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
    )]
    pub name: String,
}

/// ImageRegistryConfigStorageS3CloudFront.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct CloudFront {
    /// `SCHEME://HOST[/PATH]` where CloudFront serves content.
    #[serde(default, rename = "baseURL")]
    pub base_url: String,
    /// Secret (operator namespace) and key holding the CloudFront private key.
    #[serde(default)]
    #[schemars(extend("x-kubernetes-map-type" = "atomic"))]
    pub private_key: SecretKeySelector,
    /// CloudFront key pair ID.
    #[serde(default, rename = "keypairID")]
    pub keypair_id: String,
    /// Lifetime of signed URLs; zero means 1200s. Always sent (`0s`).
    #[serde(default)]
    pub duration: GoDuration,
}

/// core/v1 SecretKeySelector with the reference's wire rules (name defaults to `""`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SecretKeySelector {
    /// Secret name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(extend("default" = ""))]
    pub name: String,
    /// Key inside the secret.
    #[serde(default)]
    pub key: String,
    /// Whether the secret or key may be absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

/// ImageRegistryConfigStorageGCS.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Gcs {
    /// Bucket name; generated when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub bucket: String,
    /// GCS location of the bucket.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub region: String,
    /// GCP project owning the bucket.
    #[serde(default, rename = "projectID", skip_serializing_if = "String::is_empty")]
    pub project_id: String,
    /// Custom KMS key for bucket encryption.
    #[serde(default, rename = "keyID", skip_serializing_if = "String::is_empty")]
    pub key_id: String,
}

/// ImageRegistryConfigStorageSwift.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Swift {
    /// Keystone URL for obtaining tokens.
    #[serde(default, rename = "authURL", skip_serializing_if = "String::is_empty")]
    pub auth_url: String,
    /// OpenStack identity API version.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub auth_version: String,
    /// Container holding registry data; generated when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub container: String,
    /// Identity v3 domain name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub domain: String,
    /// Identity v3 domain ID.
    #[serde(default, rename = "domainID", skip_serializing_if = "String::is_empty")]
    pub domain_id: String,
    /// Tenant (project) name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub tenant: String,
    /// Tenant (project) ID.
    #[serde(default, rename = "tenantID", skip_serializing_if = "String::is_empty")]
    pub tenant_id: String,
    /// OpenStack region of the container.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub region_name: String,
}

/// ImageRegistryConfigStoragePVC.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Pvc {
    /// Claim name in the operator namespace; `image-registry-storage` when the operator provisions it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub claim: String,
}

/// ImageRegistryConfigStorageAzure.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Azure {
    /// Storage account name; generated when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub account_name: String,
    /// Blob container name; generated when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(length(min = 3, max = 63), regex(pattern = r"^[0-9a-z]+(-[0-9a-z]+)*$"))]
    pub container: String,
    /// Azure cloud environment name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cloud_name: String,
    /// Public vs private access of the storage account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend(
        "default" = { "type": "External" },
        "x-kubernetes-validations" = [{
            "rule": "has(self.type) && self.type == 'Internal' ? true : !has(self.internal)",
            "message": "internal is forbidden when type is not Internal"
        }]
    ))]
    pub network_access: Option<AzureNetworkAccess>,
}

/// AzureNetworkAccess: a union discriminated by `type`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AzureNetworkAccess {
    /// `Internal` (private endpoint only) or `External` (public).
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    #[schemars(extend("enum" = ["Internal", "External"], "default" = "External"))]
    pub type_: String,
    /// Names used to wire the private endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub internal: Option<AzureNetworkAccessInternal>,
}

/// AzureNetworkAccessInternal: private-endpoint wiring; omitted names are discovered.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AzureNetworkAccessInternal {
    /// Resource group of the VNet and subnet.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(length(min = 1, max = 90), regex(pattern = r"^[0-9A-Za-z_.-](?:[0-9A-Za-z_.-]*[0-9A-Za-z_-])?$"))]
    pub network_resource_group_name: String,
    /// VNet of the registry nodes.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(length(min = 2, max = 64), regex(pattern = r"^[0-9A-Za-z][0-9A-Za-z_.-]*[0-9A-Za-z_]$"))]
    pub vnet_name: String,
    /// Subnet for the private endpoint.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(length(min = 1, max = 80), regex(pattern = r"^[0-9A-Za-z](?:[0-9A-Za-z_.-]*[0-9A-Za-z_])?$"))]
    pub subnet_name: String,
    /// Private endpoint name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(length(min = 2, max = 64), regex(pattern = r"^[0-9A-Za-z][0-9A-Za-z_.-]*[0-9A-Za-z_]$"))]
    pub private_endpoint_name: String,
}

/// ImageRegistryConfigStorageIBMCOS.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct IbmCos {
    /// Bucket name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub bucket: String,
    /// IBM Cloud location of the bucket.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub location: String,
    /// Resource group of bucket and service instance.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub resource_group_name: String,
    /// CRN of the HMAC resource key.
    #[serde(default, rename = "resourceKeyCRN", skip_serializing_if = "String::is_empty")]
    #[schemars(regex(pattern = r"^crn:.+:.+:.+:cloud-object-storage:.+:.+:.+:resource-key:.+$"))]
    pub resource_key_crn: String,
    /// CRN of the COS service instance.
    #[serde(default, rename = "serviceInstanceCRN", skip_serializing_if = "String::is_empty")]
    #[schemars(regex(pattern = r"^crn:.+:.+:.+:cloud-object-storage:.+:.+:.+::$"))]
    pub service_instance_crn: String,
}

/// ImageRegistryConfigStorageAlibabaOSS (no driver in the operator).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct Oss {
    /// Bucket name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(length(min = 3, max = 63), regex(pattern = r"^[0-9a-z]+(-[0-9a-z]+)*$"))]
    pub bucket: String,
    /// Alibaba Cloud region.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub region: String,
    /// VPC-internal or public endpoint.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(extend("enum" = ["Internal", "Public", ""], "default" = "Internal"))]
    pub endpoint_accessibility: String,
    /// Server-side encryption.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub encryption: Option<OssEncryption>,
}

/// ImageRegistryConfigStorageAlibabaOSSEncryption.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OssEncryption {
    /// `KMS` or `AES256`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    #[schemars(extend("enum" = ["KMS", "AES256"], "default" = "AES256"))]
    pub method: String,
    /// KMS parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kms: Option<OssKmsEncryption>,
}

/// KMSEncryptionAlibaba.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct OssKmsEncryption {
    /// KMS key ID.
    #[serde(default, rename = "keyID")]
    #[schemars(length(min = 1))]
    pub key_id: String,
}

/// A storage backend kind, in the reference's selection order (spec 30 §1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum StorageKind {
    /// `emptyDir`
    EmptyDir,
    /// `s3`
    S3,
    /// `swift`
    Swift,
    /// `gcs`
    Gcs,
    /// `ibmcos`
    IbmCos,
    /// `pvc`
    Pvc,
    /// `azure`
    Azure,
}

impl StorageKind {
    /// The reference's driver name (`EmptyDir`, `S3`, `Swift`, `GCS`, `IBMCOS`, `PVC`, `Azure`).
    pub fn driver_name(self) -> &'static str {
        match self {
            Self::EmptyDir => "EmptyDir",
            Self::S3 => "S3",
            Self::Swift => "Swift",
            Self::Gcs => "GCS",
            Self::IbmCos => "IBMCOS",
            Self::Pvc => "PVC",
            Self::Azure => "Azure",
        }
    }

    /// The JSON key under `storage`.
    pub fn field(self) -> &'static str {
        match self {
            Self::EmptyDir => "emptyDir",
            Self::S3 => "s3",
            Self::Swift => "swift",
            Self::Gcs => "gcs",
            Self::IbmCos => "ibmcos",
            Self::Pvc => "pvc",
            Self::Azure => "azure",
        }
    }
}

impl Storage {
    /// The configured backends in selection order; `oss` has no driver and is not listed.
    pub fn kinds(&self) -> Vec<StorageKind> {
        let present = [
            (self.empty_dir.is_some(), StorageKind::EmptyDir),
            (self.s3.is_some(), StorageKind::S3),
            (self.swift.is_some(), StorageKind::Swift),
            (self.gcs.is_some(), StorageKind::Gcs),
            (self.ibmcos.is_some(), StorageKind::IbmCos),
            (self.pvc.is_some(), StorageKind::Pvc),
            (self.azure.is_some(), StorageKind::Azure),
        ];
        present.into_iter().filter(|(set, _)| *set).map(|(_, kind)| kind).collect()
    }
}
