//! S3: the effective configuration (defaults from the Infrastructure) and the registry pod's
//! wiring (spec 30 §4.2, §4.4–§4.6).
//!
//! Every backend has the same shape: this file reads its inputs and wires the registry pod,
//! `provision.rs` completes the storage for a Managed pass, `removal.rs` removes what the
//! operator owns.

pub mod call;
pub mod facts;
pub(crate) mod provision;
pub mod read;
pub(crate) mod removal;

pub use call::ownership_tag;
use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::VolumeMount;

use super::credentials::{self, Source};
use super::envvar::{Setting, SettingValue, encode_str};
use super::{Wiring, secret_volume};
use crate::api::openshift::PlatformStatus;
use crate::api::storage::S3;
use crate::inputs::Inputs;
use crate::names::PRIVATE_CONFIGURATION_SECRET;
use crate::storage::s3::call::S3Target;

/// Where the registry reads its S3 credentials file.
pub(crate) const CREDENTIALS_PATH: &str = "/var/run/secrets/cloud/credentials";

/// `spec.storage.s3` with the cluster defaults filled in: when both `region` and
/// `regionEndpoint` are empty, both come from the AWS platform status, and a custom endpoint
/// turns on virtual-hosted style.
pub(crate) fn effective(spec: &S3, platform: Option<&PlatformStatus>) -> S3 {
    let mut s3 = spec.clone();
    let aws = platform.filter(|p| p.type_ == "AWS").and_then(|p| p.aws.as_ref());
    if s3.region.is_empty()
        && s3.region_endpoint.is_empty()
        && let Some(aws) = aws
    {
        s3.region = aws.region.clone();
        if let Some(endpoint) = aws.service_endpoints.iter().find(|e| e.name == "s3") {
            s3.region_endpoint = endpoint.url.clone();
            s3.virtual_hosted_style = !endpoint.url.is_empty();
        }
    }
    s3
}

/// Whether the registry should use S3's dual-stack endpoints.
pub(crate) fn use_dual_stack(s3: &S3) -> bool {
    if !s3.region_endpoint.is_empty() {
        return true;
    }
    !s3.region.is_empty() && !is_iso_region(&s3.region)
}

/// The isolated partitions (`us-iso-east-1`, `us-isob-…`, `eu-isoe-…`, `us-isof-…`) have no
/// dual-stack endpoints.
pub(crate) fn is_iso_region(region: &str) -> bool {
    ["us-iso-", "us-isob-", "eu-isoe-", "us-isof-"].iter().any(|prefix| {
        region.strip_prefix(prefix).is_some_and(|rest| {
            rest.rsplit_once('-').is_some_and(|(name, number)| {
                !name.is_empty()
                    && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                    && !number.is_empty()
                    && number.bytes().all(|b| b.is_ascii_digit())
            })
        })
    })
}

/// The shared credentials file the registry (and the operator's own client) use.
pub(crate) fn credentials_file(observed: &Inputs<'_>) -> Result<String, String> {
    match credentials::source(observed)? {
        Source::User(user) => Ok(credentials::static_credentials_file(
            &user.require("REGISTRY_STORAGE_S3_ACCESSKEY")?,
            &user.require("REGISTRY_STORAGE_S3_SECRETKEY")?,
        )),
        Source::Installer(minted) => {
            if let Some(file) = minted.get("credentials")? {
                return Ok(file);
            }
            match (minted.get("aws_access_key_id")?, minted.get("aws_secret_access_key")?) {
                (Some(id), Some(secret)) => Ok(credentials::static_credentials_file(&id, &secret)),
                _ => Err("failed to generate shared secrets data: invalid secret for aws credentials".to_owned()),
            }
        }
    }
}

pub(crate) fn cloud_front_middleware(s3: &S3) -> Option<String> {
    let cf = s3.cloud_front.as_ref()?;
    let duration = if cf.duration.is_zero() { "1200s".to_owned() } else { cf.duration.to_string() };
    Some(format!(
        "- name: cloudfront\n  options:\n    baseurl: {}\n    privatekey: /etc/docker/cloudfront/private.pem\n    keypairid: {}\n    duration: {}\n    ipfilteredby: none",
        encode_str(&cf.base_url),
        encode_str(&cf.keypair_id),
        encode_str(&duration)
    ))
}

/// The registry's env, volumes and credentials for S3.
pub(crate) fn wiring(storage: &crate::api::Storage, observed: &Inputs<'_>) -> Result<Wiring, String> {
    let spec = storage.s3.as_ref();
    let s3 = effective(&spec.cloned().unwrap_or_default(), observed.platform_status());
    let mut settings = Vec::new();
    let str = |s: &str| SettingValue::Str(s.to_owned());
    if !s3.region_endpoint.is_empty() {
        settings.push(Setting::new("REGISTRY_STORAGE_S3_REGIONENDPOINT", str(&s3.region_endpoint)));
    }
    if !s3.key_id.is_empty() {
        settings.push(Setting::new("REGISTRY_STORAGE_S3_KEYID", str(&s3.key_id)));
    }
    if (5..=5120).contains(&s3.chunk_size_mib) {
        settings.push(Setting::new(
            "REGISTRY_STORAGE_S3_CHUNKSIZE",
            SettingValue::Int(i64::from(s3.chunk_size_mib) * 1_048_576),
        ));
    }
    settings.push(Setting::new("REGISTRY_STORAGE", str("s3")));
    settings.push(Setting::new("REGISTRY_STORAGE_S3_BUCKET", str(&s3.bucket)));
    settings.push(Setting::new("REGISTRY_STORAGE_S3_REGION", str(&s3.region)));
    settings.push(Setting::new("REGISTRY_STORAGE_S3_ENCRYPT", SettingValue::Bool(s3.encrypt)));
    settings.push(Setting::new("REGISTRY_STORAGE_S3_FORCEPATHSTYLE", SettingValue::Bool(!s3.virtual_hosted_style)));
    settings.push(Setting::new("REGISTRY_STORAGE_S3_CREDENTIALSCONFIGPATH", str(CREDENTIALS_PATH)));
    if use_dual_stack(&s3) {
        settings.push(Setting::new("REGISTRY_STORAGE_S3_USEDUALSTACK", SettingValue::Bool(true)));
    }
    let mut volumes = vec![secret_volume(PRIVATE_CONFIGURATION_SECRET, PRIVATE_CONFIGURATION_SECRET, None)];
    let mut mounts = vec![VolumeMount {
        name: PRIVATE_CONFIGURATION_SECRET.to_owned(),
        mount_path: "/var/run/secrets/cloud".to_owned(),
        read_only: Some(true),
        ..VolumeMount::default()
    }];
    if let Some(middleware) = cloud_front_middleware(&s3) {
        settings.push(Setting::new("REGISTRY_MIDDLEWARE_STORAGE", SettingValue::Yaml(middleware)));
        let key = s3.cloud_front.as_ref().map(|cf| cf.private_key.clone()).unwrap_or_default();
        volumes.push(secret_volume("registry-cloudfront", &key.name, Some(vec![(key.key, "private.pem".to_owned())])));
        mounts.push(VolumeMount {
            name: "registry-cloudfront".to_owned(),
            mount_path: "/etc/docker/cloudfront".to_owned(),
            read_only: Some(true),
            ..VolumeMount::default()
        });
    }
    let volume_secrets = BTreeMap::from([("credentials".to_owned(), credentials_file(observed)?)]);
    Ok(Wiring { settings, volumes, mounts, volume_secrets })
}

/// Where the operator's own client calls (spec 30 §4.2): the bucket's `regionEndpoint`, else the
/// cluster's `s3` service endpoint (each Infrastructure `serviceEndpoints` entry overrides its
/// service), addressed virtual-hosted style as AWS's own endpoints are; else AWS's default.
/// A Config that names only its region still reaches the cluster's endpoint, as the registry does.
pub(crate) fn target(s3: &S3, platform: Option<&PlatformStatus>) -> S3Target {
    let cluster = platform
        .filter(|p| p.type_ == "AWS" && s3.region_endpoint.is_empty())
        .and_then(|p| p.aws.as_ref())
        .and_then(|aws| aws.service_endpoints.iter().find(|e| e.name == "s3" && !e.url.is_empty()));
    S3Target {
        bucket: s3.bucket.clone(),
        region: s3.region.clone(),
        endpoint: cluster.map_or_else(|| s3.region_endpoint.clone(), |e| e.url.clone()),
        virtual_hosted_style: cluster.is_some() || s3.virtual_hosted_style,
        dual_stack: use_dual_stack(s3),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::duration::GoDuration;
    use crate::api::openshift::{AwsPlatformStatus, ServiceEndpoint};
    use crate::api::storage::CloudFront;

    fn aws(region: &str, endpoints: &[(&str, &str)]) -> PlatformStatus {
        PlatformStatus {
            type_: "AWS".into(),
            aws: Some(AwsPlatformStatus {
                region: region.into(),
                service_endpoints: endpoints
                    .iter()
                    .map(|(n, u)| ServiceEndpoint { name: (*n).into(), url: (*u).into() })
                    .collect(),
                resource_tags: vec![],
            }),
            ..PlatformStatus::default()
        }
    }

    #[test]
    fn effective_config_spec_cases() {
        let e = effective(&S3::default(), Some(&aws("us-east-1", &[])));
        assert_eq!((e.region.as_str(), e.region_endpoint.as_str(), e.virtual_hosted_style), ("us-east-1", "", false));
        let e = effective(
            &S3::default(),
            Some(&aws("example", &[("ec2", "https://ec2.example.com"), ("s3", "https://s3.example.com")])),
        );
        assert_eq!(
            (e.region.as_str(), e.region_endpoint.as_str(), e.virtual_hosted_style),
            ("example", "https://s3.example.com", true)
        );
        let user = S3 { region: "us-west-1".into(), ..S3::default() };
        let e = effective(&user, Some(&aws("hidden", &[("s3", "https://s3.example.com")])));
        assert_eq!((e.region.as_str(), e.region_endpoint.as_str()), ("us-west-1", ""));
    }

    #[test]
    fn dual_stack() {
        let s3 = |region: &str| S3 { region: region.into(), ..S3::default() };
        assert!(use_dual_stack(&s3("us-east-1")));
        assert!(use_dual_stack(&s3("us-gov-east-1")));
        assert!(use_dual_stack(&s3("cn-north-1")));
        assert!(use_dual_stack(&s3("made-up-region")));
        assert!(!use_dual_stack(&s3("us-iso-east-1")));
        assert!(!use_dual_stack(&s3("us-isob-east-1")));
        assert!(!use_dual_stack(&s3("")));
        assert!(use_dual_stack(&S3 { region_endpoint: "https://minio".into(), ..S3::default() }));
    }

    #[test]
    fn cloud_front_middleware_matches_the_spec() {
        let s3 = S3 {
            cloud_front: Some(CloudFront {
                base_url: "https://cloudfront.example.com".into(),
                keypair_id: "keypair-id".into(),
                duration: GoDuration::from_secs(300),
                ..CloudFront::default()
            }),
            ..S3::default()
        };
        assert_eq!(
            cloud_front_middleware(&s3).unwrap(),
            "- name: cloudfront\n  options:\n    baseurl: https://cloudfront.example.com\n    privatekey: /etc/docker/cloudfront/private.pem\n    keypairid: keypair-id\n    duration: 5m0s\n    ipfilteredby: none"
        );
    }
}
