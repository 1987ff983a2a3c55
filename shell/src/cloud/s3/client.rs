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
use image_registry_core::storage::s3::call::S3Target;
use image_registry_core::storage::s3::read::{Credentials, Trust};

/// The region S3 signs with when a custom endpoint names none (what S3-compatible stores expect).
const DEFAULT_SIGNING_REGION: &str = "us-east-1";

/// The HTTP client: the given trust, the process's proxy settings, connect and read timeouts.
pub fn http_client(trust: &Trust) -> Result<SharedHttpClient, String> {
    let mut store = TrustStore::empty().with_native_roots(trust.system_roots);
    if trust.system_roots
        && let Some(cluster) = crate::cloud::trust::installed_pem()
    {
        // The cluster's bundle belongs to the system roots (the reference copies it there).
        store = store.with_pem_certificate(cluster.as_bytes().to_vec());
    }
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
        config = config.use_dual_stack(target.dual_stack);
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use aws_sdk_s3::config::IntoShared;
    use aws_sdk_s3::config::http::{HttpRequest, HttpResponse};
    use aws_sdk_s3::primitives::SdkBody;
    use aws_smithy_runtime_api::client::http::{
        HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpConnector,
    };
    use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

    use super::*;

    /// A connector that records each request's URI and user agent and answers `status`.
    #[derive(Clone, Debug)]
    struct Capture {
        status: u16,
        headers: Vec<(&'static str, &'static str)>,
        seen: Arc<Mutex<Vec<(String, String)>>>,
    }

    impl HttpConnector for Capture {
        fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
            let agent = request.headers().get("x-amz-user-agent").unwrap_or_default().to_owned();
            self.seen.lock().unwrap().push((request.uri().to_owned(), agent));
            let mut response = HttpResponse::new(self.status.try_into().unwrap(), SdkBody::empty());
            for (name, value) in &self.headers {
                response.headers_mut().insert(*name, *value);
            }
            HttpConnectorFuture::ready(Ok(response))
        }
    }

    impl HttpClient for Capture {
        fn http_connector(&self, _: &HttpConnectorSettings, _: &RuntimeComponents) -> SharedHttpConnector {
            SharedHttpConnector::new(self.clone())
        }
    }

    fn target(region: &str, endpoint: &str, virtual_hosted_style: bool) -> S3Target {
        S3Target {
            bucket: "registry-bucket".into(),
            region: region.into(),
            endpoint: endpoint.into(),
            virtual_hosted_style,
            // As the core decides it: AWS's own endpoints, but the isolated partitions'.
            dual_stack: endpoint.is_empty() && !region.contains("-iso"),
        }
    }

    fn credentials() -> Credentials {
        Credentials("[default]\naws_access_key_id = AKIA0\naws_secret_access_key = s\n".into())
    }

    /// Where the client sends a HeadBucket, and its user agent.
    async fn sent(target: &S3Target) -> (String, String) {
        let capture = Capture { status: 200, headers: vec![], seen: Arc::default() };
        let client = client(target, &credentials(), capture.clone().into_shared(), "4.20.0").unwrap();
        client.head_bucket().bucket(&target.bucket).send().await.unwrap();
        capture.seen.lock().unwrap().first().cloned().unwrap()
    }

    #[tokio::test]
    async fn endpoints_follow_the_partition_dual_stack_and_the_users_endpoint() {
        for (target, expected) in [
            (target("us-east-1", "", false), "https://registry-bucket.s3.dualstack.us-east-1.amazonaws.com/"),
            (target("eu-west-1", "", false), "https://registry-bucket.s3.dualstack.eu-west-1.amazonaws.com/"),
            (target("cn-north-1", "", false), "https://registry-bucket.s3.dualstack.cn-north-1.amazonaws.com.cn/"),
            (target("us-gov-west-1", "", false), "https://registry-bucket.s3.dualstack.us-gov-west-1.amazonaws.com/"),
            (target("us-iso-east-1", "", false), "https://registry-bucket.s3.us-iso-east-1.c2s.ic.gov/"),
            (target("", "https://minio.example.com:9000", false), "https://minio.example.com:9000/registry-bucket/"),
            (target("us-east-1", "https://rgw.example.com", true), "https://registry-bucket.rgw.example.com/"),
        ] {
            let (uri, agent) = sent(&target).await;
            assert_eq!(uri, expected, "{target:?}");
            assert!(agent.contains("app/cluster-image-registry-operator-4.20.0"), "{agent}");
        }
    }

    #[tokio::test]
    async fn a_bucket_in_another_region_is_named_in_the_error() {
        let capture =
            Capture { status: 301, headers: vec![("x-amz-bucket-region", "eu-west-1")], seen: Arc::default() };
        let client = client(&target("us-east-1", "", false), &credentials(), capture.into_shared(), "4.20.0").unwrap();
        let error = client.head_bucket().bucket("registry-bucket").send().await.unwrap_err();
        let understood = super::super::errors::understand("HeadBucket", &error);
        assert_eq!(understood.code, "PermanentRedirect");
        assert!(understood.message.contains("region eu-west-1"), "{}", understood.message);
    }

    #[test]
    fn versions_become_user_agent_tokens() {
        assert_eq!(sanitize("4.20.0-0.nightly (x)"), "4.20.0-0.nightly--x-");
        assert_eq!(sanitize(""), "unknown");
    }
}
