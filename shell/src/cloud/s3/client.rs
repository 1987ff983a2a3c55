//! One S3 client per target, built from what the core hands over (spec 30 §4.2–§4.4): the
//! shared credentials file, held in memory and read by the SDK's own profile provider (static
//! keys, or `role_arn` + `web_identity_token_file`, where the SDK does the STS assume-role);
//! the CA bundle, trusted in memory; the process's `HTTP(S)_PROXY`/`NO_PROXY`; the region
//! (and its partition: `aws-cn`, `aws-us-gov` resolve by the SDK's endpoint rules), dual-stack
//! as the registry uses it, or a custom endpoint with path style unless virtual-hosted.

use std::time::Duration;

use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::provider_config::ProviderConfig;
use aws_runtime::env_config::file::{EnvConfigFileKind, EnvConfigFiles};
use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::config::timeout::TimeoutConfig;
use aws_sdk_s3::config::{
    AppName, BehaviorVersion, Region, RequestChecksumCalculation, ResponseChecksumValidation, SharedHttpClient,
};
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, TlsContext, TrustStore};
use aws_smithy_http_client::{Builder, Connector};
use image_registry_core::action::S3Target;
use image_registry_core::api::storage::S3;
use image_registry_core::storage::s3::access::{Credentials, Trust};
use image_registry_core::storage::s3::use_dual_stack;

/// The region S3 signs with when a custom endpoint names none (what S3-compatible stores expect).
const DEFAULT_SIGNING_REGION: &str = "us-east-1";

/// The HTTP client: the given trust, the process's proxy settings, connect and read timeouts.
pub fn http_client(trust: &Trust) -> Result<SharedHttpClient, String> {
    let mut store = TrustStore::empty().with_native_roots(trust.system_roots);
    if let Some(bundle) = &trust.bundle {
        store = store.with_pem_certificate(bundle.as_bytes().to_vec());
    }
    let context = TlsContext::builder().with_trust_store(store).build().map_err(|e| format!("CA bundle: {e}"))?;
    Ok(Builder::new().build_with_connector_fn(move |settings, components| {
        let mut connector = Connector::builder().proxy_config(ProxyConfig::from_env());
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector
            .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::AwsLc))
            .tls_context(context.clone())
            .build()
    }))
}

/// An S3 client for `target`.
pub fn client(
    target: &S3Target,
    credentials: &Credentials,
    http: SharedHttpClient,
    version: &str,
) -> Result<aws_sdk_s3::Client, String> {
    let region = if target.region.is_empty() { DEFAULT_SIGNING_REGION } else { target.region.as_str() };
    let region = Region::new(region.to_owned());
    // The file is the registry's own credentials file; the SDK's profile provider reads it from
    // memory (nothing is written to disk) and follows `role_arn`/`web_identity_token_file`; the
    // STS client it makes for that reads the same file's settings (`sts_regional_endpoints`,
    // `endpoint_url`), not the operator's home directory.
    let files = EnvConfigFiles::builder()
        .with_contents(EnvConfigFileKind::Config, credentials.0.clone())
        .with_contents(EnvConfigFileKind::Credentials, credentials.0.clone())
        .build();
    let provider_config = ProviderConfig::default().with_http_client(http.clone()).with_region(Some(region.clone()));
    let provider = ProfileFileCredentialsProvider::builder()
        .profile_files(files)
        .profile_name("default")
        .configure(&provider_config)
        .build();
    let app = AppName::new(format!("cluster-image-registry-operator-{}", sanitize(version)))
        .map_err(|e| format!("user agent: {e}"))?;
    let spec = S3 { region: target.region.clone(), region_endpoint: target.endpoint.clone(), ..S3::default() };
    let mut config = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(region)
        .credentials_provider(provider)
        .http_client(http)
        .app_name(app)
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(30))
                .operation_timeout(Duration::from_secs(90))
                .build(),
        )
        // S3-compatible stores (and older releases of them) reject the newer default checksums;
        // send them only where the API requires one.
        .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
        .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
    if target.endpoint.is_empty() {
        config = config.use_dual_stack(use_dual_stack(&spec));
    } else {
        config = config.endpoint_url(target.endpoint.clone()).force_path_style(!target.virtual_hosted_style);
    }
    Ok(aws_sdk_s3::Client::from_conf(config.build()))
}

/// An app name allows only token characters; a release version may hold others.
fn sanitize(version: &str) -> String {
    let cleaned: String = version
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c) { c } else { '-' })
        .collect();
    if cleaned.is_empty() { "unknown".to_owned() } else { cleaned }
}
