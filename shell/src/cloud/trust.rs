//! The cluster's trust bundle (spec 40 §8.4, 10 §1.1): the network operator injects the
//! cluster's trust (the system roots plus the Proxy's `trustedCA`, e.g. a TLS-inspecting
//! proxy's CA) into ConfigMap `trusted-ca`, which the operator's pod mounts at
//! [`CLUSTER_BUNDLE`]. The reference's entrypoint copies that file into the system trust store
//! and the process restarts when it changes; here it is read once at start and added to the
//! system roots every cloud client trusts ([`system_roots`]), and `run` ends (to be restarted)
//! when the file changes ([`changed`]). Process-wide, because the system store it extends is.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;

/// Where the operator's pod mounts the cluster's bundle (key `ca-bundle.crt` of `trusted-ca`).
pub const CLUSTER_BUNDLE: &str = "/var/run/configmaps/trusted-ca/tls-ca-bundle.pem";

/// How often [`changed`] looks at the file (the reference's file watch polls every 5 s).
pub const POLL: Duration = Duration::from_secs(5);

/// The bundle's certificates, as PEM text (what the AWS SDK's trust store takes) and parsed.
#[derive(Clone, Debug, Default)]
pub struct ClusterTrust {
    pem: String,
    certs: Vec<CertificateDer<'static>>,
}

static INSTALLED: OnceLock<ClusterTrust> = OnceLock::new();

impl ClusterTrust {
    /// The bundle at `path`: none when the file does not exist (the ConfigMap is optional);
    /// an unreadable file or one without a certificate is an error naming the file.
    pub fn read(path: &Path) -> Result<Self, String> {
        let pem = match std::fs::read_to_string(path) {
            Ok(pem) => pem,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Self::default()),
            Err(e) => return Err(format!("the cluster CA bundle {}: {e}", path.display())),
        };
        Self::from_pem(&pem).map_err(|e| format!("the cluster CA bundle {}: {e}", path.display()))
    }

    /// The certificates of `pem`; text without one is an error.
    pub fn from_pem(pem: &str) -> Result<Self, String> {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<_, _>>()
            .map_err(|e| format!("not valid PEM: {e}"))?;
        if certs.is_empty() {
            return Err("holds no certificate".to_owned());
        }
        Ok(Self { pem: pem.to_owned(), certs })
    }

    /// How many certificates it holds.
    pub fn len(&self) -> usize {
        self.certs.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.certs.is_empty()
    }

    /// Makes this the bundle every cloud client trusts beside the system roots, for the life of
    /// the process; only the first call counts (false after it).
    pub fn install(self) -> bool {
        INSTALLED.set(self).is_ok()
    }
}

/// The installed cluster bundle (empty before [`ClusterTrust::install`]).
pub fn installed() -> &'static ClusterTrust {
    static NONE: ClusterTrust = ClusterTrust { pem: String::new(), certs: Vec::new() };
    INSTALLED.get().unwrap_or(&NONE)
}

/// The system roots plus the installed cluster bundle.
pub fn system_roots() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    let _ = roots.add_parsable_certificates(installed().certs.iter().cloned());
    roots
}

/// The installed cluster bundle as PEM, when there is one.
pub fn installed_pem() -> Option<&'static str> {
    let trust = installed();
    (!trust.is_empty()).then_some(trust.pem.as_str())
}

/// What [`changed`] compares: whether the file is there, its length and modification time
/// (a ConfigMap update swaps the mount's `..data` link; metadata follows it).
fn fingerprint(path: &Path) -> Option<(u64, Option<SystemTime>)> {
    let metadata = std::fs::metadata(path).ok()?;
    Some((metadata.len(), metadata.modified().ok()))
}

/// Resolves once `path` appears, disappears or changes, looking every `every`.
pub async fn changed(path: PathBuf, every: Duration) {
    let first = fingerprint(&path);
    loop {
        tokio::time::sleep(every).await;
        if fingerprint(&path) != first {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PEM block (not a valid certificate: reading a bundle checks the PEM, not the DER).
    fn cert() -> String {
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            azure_core::base64::encode([0x30u8; 48])
        )
    }

    #[test]
    fn a_missing_file_is_no_bundle_and_a_bad_one_is_named() {
        let dir = std::env::temp_dir().join(format!("trust-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.pem");
        assert!(ClusterTrust::read(&missing).unwrap().is_empty());
        let bad = dir.join("bad.pem");
        std::fs::write(&bad, "not a certificate").unwrap();
        let err = ClusterTrust::read(&bad).unwrap_err();
        assert!(err.contains("bad.pem") && err.contains("no certificate"), "{err}");
        let good = dir.join("good.pem");
        std::fs::write(&good, cert() + &cert()).unwrap();
        assert_eq!(ClusterTrust::read(&good).unwrap().len(), 2);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn a_change_appearance_or_removal_is_noticed() {
        let dir = std::env::temp_dir().join(format!("trust-watch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("bundle.pem");
        let every = Duration::from_millis(20);
        let watch = |path: &Path| tokio::spawn(changed(path.to_owned(), every));
        let settle = || tokio::time::sleep(Duration::from_millis(100));

        let appear = watch(&path);
        settle().await;
        assert!(!appear.is_finished(), "nothing changed yet");
        std::fs::write(&path, cert()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), appear).await.unwrap().unwrap();

        let grow = watch(&path);
        settle().await;
        assert!(!grow.is_finished(), "an unchanged file is quiet");
        std::fs::write(&path, cert() + &cert()).unwrap();
        tokio::time::timeout(Duration::from_secs(5), grow).await.unwrap().unwrap();

        let gone = watch(&path);
        settle().await;
        std::fs::remove_file(&path).unwrap();
        tokio::time::timeout(Duration::from_secs(5), gone).await.unwrap().unwrap();
        let _ = std::fs::remove_dir_all(dir);
    }
}
