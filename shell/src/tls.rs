//! TLS for the metrics endpoint (spec 40 §7.3): the service-ca serving certificate, TLS 1.2 or
//! 1.3 as the minimum, and certificates re-read when their files change (service-ca rotates
//! them), so a rotation needs no restart.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use rustls::ServerConfig;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// The lowest TLS version served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MinVersion {
    /// `VersionTLS12` (the default).
    Tls12,
    /// `VersionTLS13`.
    Tls13,
}

impl std::str::FromStr for MinVersion {
    type Err = String;

    /// The names of the reference's `servingInfo.minTLSVersion`; TLS 1.0 and 1.1 are not offered.
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "VersionTLS12" => Ok(Self::Tls12),
            "VersionTLS13" => Ok(Self::Tls13),
            "VersionTLS10" | "VersionTLS11" => Err(format!("{s} is not offered: the minimum is VersionTLS12")),
            other => Err(format!("unknown TLS version {other:?} (VersionTLS12 or VersionTLS13)")),
        }
    }
}

/// Where the serving certificate lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
    /// Lowest version.
    pub min_version: MinVersion,
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Builds a server configuration from the files.
pub fn server_config(files: &TlsFiles) -> Result<ServerConfig, String> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| format!("{}: {e}", files.cert.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", files.cert.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no certificate in it", files.cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| format!("{}: {e}", files.key.display()))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let versions: &[&rustls::SupportedProtocolVersion] = match files.min_version {
        MinVersion::Tls12 => &[&rustls::version::TLS13, &rustls::version::TLS12],
        MinVersion::Tls13 => &[&rustls::version::TLS13],
    };
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("{} and {}: {e}", files.cert.display(), files.key.display()))?;
    // HTTP/1.1 only, as the reference (HTTP/2 disabled).
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// An acceptor that re-reads the files when they change.
pub struct Reloading {
    files: TlsFiles,
    current: Mutex<(Option<SystemTime>, Option<SystemTime>, TlsAcceptor)>,
}

impl Reloading {
    /// Loads the files once; an error here stops the operator at start, as in the reference.
    pub fn new(files: TlsFiles) -> Result<Self, String> {
        let acceptor = TlsAcceptor::from(Arc::new(server_config(&files)?));
        let stamps = (modified(&files.cert), modified(&files.key));
        Ok(Self { files, current: Mutex::new((stamps.0, stamps.1, acceptor)) })
    }

    /// The acceptor for the next connection, reloaded if a file changed (a failed reload keeps
    /// the previous certificate).
    pub fn acceptor(&self) -> TlsAcceptor {
        let mut current = crate::locks::lock(&self.current);
        let stamps = (modified(&self.files.cert), modified(&self.files.key));
        if (stamps.0, stamps.1) != (current.0, current.1) {
            match server_config(&self.files) {
                Ok(config) => *current = (stamps.0, stamps.1, TlsAcceptor::from(Arc::new(config))),
                Err(e) => tracing::warn!(error = %e, "cannot reload the serving certificate; keeping the old one"),
            }
        }
        current.2.clone()
    }
}
