//! The HTTP stack the hand-written cloud clients (GCS, Swift) share: reqwest on the process's
//! rustls (aws-lc-rs, the provider every other client here uses), the environment's
//! `HTTP(S)_PROXY`/`NO_PROXY` (reqwest's default), a bound on every call, and trust in the
//! system roots (with the cluster's bundle, [`super::trust`]) plus the bundle a cluster gives
//! for its cloud.

use std::sync::Arc;
use std::time::Duration;

use image_registry_core::outcome::ErrorClass;
use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// How long one call may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The system roots (with the cluster's bundle), plus every certificate of `bundle` (PEM) when
/// given. A bundle without one usable certificate is an error naming `what`, never silently
/// ignored.
pub fn roots(bundle: Option<&str>, what: &str) -> Result<RootCertStore, String> {
    let mut roots = super::trust::system_roots();
    if let Some(pem) = bundle {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{what}: the CA bundle is not valid PEM: {e}"))?;
        let (added, _) = roots.add_parsable_certificates(certs);
        if added == 0 {
            return Err(format!("{what}: the CA bundle holds no usable certificate"));
        }
    }
    Ok(roots)
}

/// A client trusting `roots`; `name` names it in errors.
pub fn client(roots: RootCertStore, name: &str) -> Result<reqwest::Client, String> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .timeout(TIMEOUT)
        .build()
        .map_err(|e| format!("{name} HTTP client: {e}"))
}

/// The class of an HTTP error status, for services whose own codes say nothing more.
pub fn status_class(status: u16) -> ErrorClass {
    match status {
        401 | 403 => ErrorClass::Forbidden,
        404 => ErrorClass::NotFound,
        409 | 412 => ErrorClass::Conflict,
        429 => ErrorClass::Throttled,
        408 => ErrorClass::Timeout,
        400 | 411 | 413 | 422 => ErrorClass::Invalid,
        500..=599 => ErrorClass::Unavailable,
        _ => ErrorClass::Other,
    }
}

/// A call that got no answer: a timeout, or the service unreachable. Without the URL (it can
/// carry a page token or marker).
pub fn transport(call: &str, e: &reqwest::Error) -> (ErrorClass, String) {
    let class = if e.is_timeout() { ErrorClass::Timeout } else { ErrorClass::Unavailable };
    // The innermost cause says what went wrong (a refused connection, an unknown issuer).
    let mut cause = std::error::Error::source(e);
    let mut innermost = None;
    while let Some(inner) = cause {
        innermost = Some(inner.to_string());
        cause = inner.source();
    }
    let detail = innermost.map(|s| format!(": {s}")).unwrap_or_default();
    (class, format!("{call}: {}{detail}", describe(e)))
}

fn describe(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else if e.is_body() || e.is_decode() {
        "the answer could not be read"
    } else {
        "the request failed"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_without_a_certificate_is_named() {
        let err = roots(Some("not a certificate"), "Swift").unwrap_err();
        assert!(err.starts_with("Swift: the CA bundle"), "{err}");
        assert!(roots(None, "Swift").is_ok());
    }
}
