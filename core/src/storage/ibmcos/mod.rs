//! IBM Cloud Object Storage (IBM Cloud and Power VS): the location, the endpoints, the API
//! key and the registry pod's wiring (spec 30 §8). The registry reaches the bucket through
//! its S3 driver with the HMAC pair of the resource key the operator keeps.

pub mod call;
pub mod facts;
pub(crate) mod provision;
pub mod read;
pub(crate) mod removal;

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::VolumeMount;

use super::credentials::{self, Source};
use super::envvar::{Setting, SettingValue};
use super::{Wiring, secret_volume};
use crate::api::openshift::{PlatformStatus, ServiceEndpoint};
use crate::api::storage::IbmCos;
use crate::inputs::Inputs;
use crate::names::PRIVATE_CONFIGURATION_SECRET;
use crate::storage::ibmcos::facts::Hmac;
use crate::storage::s3::CREDENTIALS_PATH;

/// The key of the API key in the credentials secret.
pub(crate) const API_KEY: &str = "ibmcloud_api_key";

/// The COS plan the reference provisions (standard).
pub const PLAN: &str = "744bfc56-d12c-4866-88d5-dac9139e0e5d";

/// The IAM role the registry's key grants.
pub const WRITER: &str = "crn:v1:bluemix:public:iam::::serviceRole:Writer";

/// The role a user's key may grant instead.
pub(crate) const MANAGER: &str = "crn:v1:bluemix:public:iam::::serviceRole:Manager";

/// Where the operator reaches IBM Cloud (defaults, or the platform's `serviceEndpoints`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoints {
    /// IAM (the token is `<iam>/identity/token`).
    pub iam: String,
    /// The Resource Controller (instances and keys).
    pub resource_controller: String,
    /// The Resource Manager (resource groups).
    pub resource_manager: String,
    /// COS's S3 endpoint for the location, with its scheme.
    pub cos: String,
}

/// The platform's IBM block: (location or region error, resource group, endpoint overrides).
fn platform(status: Option<&PlatformStatus>) -> Result<(String, String, Vec<ServiceEndpoint>), String> {
    let status = status.ok_or("unable to get location from infrastructure")?;
    if let Some(ibm) = status.ibmcloud.as_ref().filter(|_| status.type_ == "IBMCloud") {
        if ibm.location.is_empty() {
            return Err("unable to get location from infrastructure".to_owned());
        }
        return Ok((ibm.location.clone(), ibm.resource_group_name.clone(), ibm.service_endpoints.clone()));
    }
    if let Some(power) = status.powervs.as_ref().filter(|_| status.type_ == "PowerVS") {
        let location = cos_region(&power.region).ok_or_else(|| {
            // The reference's message, trailing space included.
            format!("COS region corresponding to a PowerVS region {} not found ", power.region)
        })?;
        return Ok((location.to_owned(), power.resource_group.clone(), power.service_endpoints.clone()));
    }
    Err("unable to get location from infrastructure".to_owned())
}

/// The COS region serving a Power VS region (spec 30 §8).
pub(crate) fn cos_region(power_vs: &str) -> Option<&'static str> {
    Some(match power_vs {
        "dal" => "us-south",
        "eu-de" | "mad" => "eu-de",
        "lon" => "eu-gb",
        "mon" | "tor" => "ca-tor",
        "osa" => "jp-osa",
        "sao" => "br-sao",
        "syd" => "au-syd",
        "tok" => "jp-tok",
        "us-east" | "wdc" => "us-east",
        "us-south" => "us-south",
        _ => return None,
    })
}

/// `spec.storage.ibmcos` with the platform's location and resource group (which the
/// reference writes over whatever the Config says), and the endpoints to use.
pub(crate) fn effective(spec: &IbmCos, status: Option<&PlatformStatus>) -> Result<(IbmCos, Endpoints), String> {
    let (location, group, overrides) = platform(status)?;
    let mut cos = spec.clone();
    cos.location = location;
    cos.resource_group_name = group;
    let endpoint = |name: &str| overrides.iter().find(|e| e.name == name && !e.url.is_empty()).map(|e| e.url.clone());
    let endpoints = Endpoints {
        iam: endpoint("IAM").unwrap_or_else(|| "https://iam.cloud.ibm.com".to_owned()),
        resource_controller: endpoint("ResourceController")
            .unwrap_or_else(|| "https://resource-controller.cloud.ibm.com".to_owned()),
        resource_manager: endpoint("ResourceManager")
            .unwrap_or_else(|| "https://resource-controller.cloud.ibm.com".to_owned()),
        cos: endpoint("COS")
            .unwrap_or_else(|| format!("https://s3.{}.cloud-object-storage.appdomain.cloud", cos.location)),
    };
    Ok((cos, endpoints))
}

/// The IBM Cloud API key: the user's secret, else the one the installer minted.
pub(crate) fn api_key(observed: &Inputs<'_>) -> Result<String, String> {
    match credentials::source(observed)? {
        Source::User(user) => user.require(API_KEY),
        Source::Installer(minted) => minted.require(API_KEY),
    }
}

/// The recorded key's HMAC pair, from the facts, or why the registry cannot have it.
pub(crate) fn hmac(cos: &IbmCos, observed: &Inputs<'_>) -> Result<Hmac, String> {
    if cos.resource_key_crn.is_empty() {
        return Err("resource key has not been set".to_owned());
    }
    let key = observed.cloud.ibmcos.keys.get(&cos.resource_key_crn);
    key.and_then(|k| k.hmac.clone())
        .ok_or_else(|| format!("the resource key {} holds no HMAC credentials (cos_hmac_keys)", cos.resource_key_crn))
}

/// The registry's env, volume and credentials for IBM COS: its S3 driver against COS.
pub(crate) fn wiring(storage: &crate::api::Storage, observed: &Inputs<'_>) -> Result<Wiring, String> {
    let spec = storage.ibmcos.clone().unwrap_or_default();
    let (cos, endpoints) = effective(&spec, observed.platform_status())?;
    let hmac = hmac(&cos, observed)?;
    let str = |s: &str| SettingValue::Str(s.to_owned());
    let endpoint = endpoints.cos.split_once("://").map_or(endpoints.cos.as_str(), |(_, rest)| rest);
    let settings = vec![
        Setting::new("REGISTRY_STORAGE", str("s3")),
        Setting::new("REGISTRY_STORAGE_S3_BUCKET", str(&cos.bucket)),
        Setting::new("REGISTRY_STORAGE_S3_REGION", str(&cos.location)),
        Setting::new("REGISTRY_STORAGE_S3_REGIONENDPOINT", str(endpoint)),
        Setting::new("REGISTRY_STORAGE_S3_ENCRYPT", SettingValue::Bool(false)),
        Setting::new("REGISTRY_STORAGE_S3_FORCEPATHSTYLE", SettingValue::Bool(true)),
        Setting::new("REGISTRY_STORAGE_S3_USEDUALSTACK", SettingValue::Bool(false)),
        Setting::new("REGISTRY_STORAGE_S3_CREDENTIALSCONFIGPATH", str(CREDENTIALS_PATH)),
    ];
    let volumes = vec![secret_volume(PRIVATE_CONFIGURATION_SECRET, PRIVATE_CONFIGURATION_SECRET, None)];
    let mounts = vec![VolumeMount {
        name: PRIVATE_CONFIGURATION_SECRET.to_owned(),
        mount_path: "/var/run/secrets/cloud".to_owned(),
        read_only: Some(true),
        ..VolumeMount::default()
    }];
    let volume_secrets = BTreeMap::from([("credentials".to_owned(), read::credentials_file(&hmac).0)]);
    Ok(Wiring { settings, volumes, mounts, volume_secrets })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::openshift::{IbmCloudPlatformStatus, PowerVsPlatformStatus};

    fn power(region: &str) -> PlatformStatus {
        PlatformStatus {
            type_: "PowerVS".into(),
            powervs: Some(PowerVsPlatformStatus { region: region.into(), ..PowerVsPlatformStatus::default() }),
            ..PlatformStatus::default()
        }
    }

    #[test]
    fn power_vs_regions_map_to_cos_regions_and_an_unknown_one_is_named() {
        for (region, cos) in [
            ("dal", "us-south"),
            ("eu-de", "eu-de"),
            ("lon", "eu-gb"),
            ("mad", "eu-de"),
            ("mon", "ca-tor"),
            ("osa", "jp-osa"),
            ("sao", "br-sao"),
            ("syd", "au-syd"),
            ("tok", "jp-tok"),
            ("tor", "ca-tor"),
            ("us-east", "us-east"),
            ("us-south", "us-south"),
            ("wdc", "us-east"),
        ] {
            let (effective, endpoints) = effective(&IbmCos::default(), Some(&power(region))).unwrap();
            assert_eq!(effective.location, cos, "{region}");
            assert_eq!(endpoints.cos, format!("https://s3.{cos}.cloud-object-storage.appdomain.cloud"));
        }
        assert_eq!(
            effective(&IbmCos::default(), Some(&power("mars"))).unwrap_err(),
            "COS region corresponding to a PowerVS region mars not found "
        );
    }

    #[test]
    fn ibm_cloud_takes_its_location_and_endpoint_overrides() {
        let status = PlatformStatus {
            type_: "IBMCloud".into(),
            ibmcloud: Some(IbmCloudPlatformStatus {
                location: "us-east".into(),
                resource_group_name: "rg".into(),
                service_endpoints: vec![
                    ServiceEndpoint { name: "COS".into(), url: "https://cos.private".into() },
                    ServiceEndpoint { name: "IAM".into(), url: "https://iam.private".into() },
                    ServiceEndpoint { name: "VPC".into(), url: "https://vpc.private".into() },
                ],
            }),
            ..PlatformStatus::default()
        };
        let user = IbmCos { location: "eu-de".into(), ..IbmCos::default() };
        let (cos, endpoints) = effective(&user, Some(&status)).unwrap();
        assert_eq!((cos.location.as_str(), cos.resource_group_name.as_str()), ("us-east", "rg"));
        assert_eq!(endpoints.cos, "https://cos.private");
        assert_eq!(endpoints.iam, "https://iam.private");
        assert_eq!(endpoints.resource_controller, "https://resource-controller.cloud.ibm.com");
        let empty = PlatformStatus {
            type_: "IBMCloud".into(),
            ibmcloud: Some(IbmCloudPlatformStatus::default()),
            ..PlatformStatus::default()
        };
        assert_eq!(effective(&user, Some(&empty)).unwrap_err(), "unable to get location from infrastructure");
    }
}
