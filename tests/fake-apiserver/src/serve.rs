//! Serving the fake over HTTP or HTTPS on 127.0.0.1, loading a fixture into it, and writing a
//! kubeconfig that points kubectl or the operator at it.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;

use crate::http::FakeApiServer;

/// Loads the Kubernetes objects of a fixture file (its Scenario document is the operator's
/// business, not the API server's).
pub fn load_fixture(server: &FakeApiServer, path: &Path) -> Result<usize, String> {
    let objects = fixture_objects(path)?;
    server.with_store(|s| s.load(objects)).map_err(|e| format!("{}: {e}", path.display()))
}

/// The Kubernetes objects of a fixture file.
pub fn fixture_objects(path: &Path) -> Result<Vec<serde_json::Value>, String> {
    let name = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    let fixture = image_registry_core::fixture::parse(&name, &text).map_err(|e| e.to_string())?;
    Ok(fixture.observed.objects.iter().map(|(_, v)| v.clone()).collect())
}

/// Loads every `*.yaml` document of a manifests folder (a release payload's, or this project's
/// `manifests/`), in file-name order as the cluster-version operator applies them. Documents
/// of kinds the fake does not serve are an error that names them.
pub fn load_manifests(server: &FakeApiServer, dir: &Path) -> Result<usize, String> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let mut objects = Vec::new();
    for file in files {
        let name = file.display().to_string();
        let text = std::fs::read_to_string(&file).map_err(|e| format!("cannot read {name}: {e}"))?;
        let documents = image_registry_core::fixture::documents(&name, &text).map_err(|e| e.to_string())?;
        objects.extend(documents.into_iter().map(|d| d.value).filter(|v| !v.is_null()));
    }
    server.with_store(|s| s.load(objects)).map_err(|e| format!("{}: {e}", dir.display()))
}

/// A kubeconfig for a fake listening at `address` (plain HTTP, no credentials).
pub fn kubeconfig(address: SocketAddr) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: http://{address}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n    namespace: openshift-image-registry\ncurrent-context: fake\nusers:\n- name: fake\n  user: {{}}\n"
    )
}

/// A kubeconfig for a fake serving HTTPS at `address`: the CA in `ca_file`, and a service
/// account's `token` (whose requests the fake authorizes with RBAC).
pub fn kubeconfig_tls(address: SocketAddr, ca_file: &Path, token: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n    server: https://{address}\n    certificate-authority: {}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: sa\n    namespace: openshift-image-registry\ncurrent-context: fake\nusers:\n- name: sa\n  user:\n    token: {token}\n",
        ca_file.display()
    )
}

/// Writes [`kubeconfig`] to `path`.
pub fn write_kubeconfig(address: SocketAddr, path: &Path) -> Result<(), String> {
    std::fs::write(path, kubeconfig(address)).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Binds 127.0.0.1:`port` (0: any free port).
pub async fn bind(port: u16) -> Result<TcpListener, String> {
    TcpListener::bind(("127.0.0.1", port)).await.map_err(|e| format!("cannot listen on 127.0.0.1:{port}: {e}"))
}

/// Serves connections until the task is dropped.
pub async fn serve(server: FakeApiServer, listener: TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let service = TowerToHyperService::new(server.clone());
        tokio::spawn(async move {
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

/// What serving HTTPS takes: a CA made for this server (what a client must trust: the
/// `ca.crt` of a service-account mount) and a certificate for 127.0.0.1 and localhost it signed.
pub struct Tls {
    /// The CA certificate, PEM.
    pub ca_pem: String,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl Tls {
    /// A new CA and serving certificate.
    pub fn generate() -> Result<Self, String> {
        let fail = |e: &dyn std::fmt::Display| format!("cannot make the fake's certificates: {e}");
        let ca_key = rcgen::KeyPair::generate().map_err(|e| fail(&e))?;
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).map_err(|e| fail(&e))?;
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, "fake-apiserver CA");
        let ca = params.self_signed(&ca_key).map_err(|e| fail(&e))?;
        let issuer = rcgen::Issuer::new(params, ca_key);
        let leaf_key = rcgen::KeyPair::generate().map_err(|e| fail(&e))?;
        let names = vec!["127.0.0.1".to_owned(), "localhost".to_owned(), "kubernetes.default.svc".to_owned()];
        let mut leaf = rcgen::CertificateParams::new(names).map_err(|e| fail(&e))?;
        leaf.distinguished_name.push(rcgen::DnType::CommonName, "fake-apiserver");
        let leaf = leaf.signed_by(&leaf_key, &issuer).map_err(|e| fail(&e))?;
        let key = rustls::pki_types::PrivateKeyDer::try_from(leaf_key.serialize_der()).map_err(|e| fail(&e))?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| fail(&e))?
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der().clone(), ca.der().clone()], key)
            .map_err(|e| fail(&e))?;
        Ok(Self { ca_pem: ca.pem(), acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)) })
    }
}

/// Serves connections over TLS until the task is dropped.
pub async fn serve_tls(server: FakeApiServer, listener: TcpListener, tls: &Tls) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let service = TowerToHyperService::new(server.clone());
        let acceptor = tls.acceptor.clone();
        tokio::spawn(async move {
            let Ok(stream) = acceptor.accept(stream).await else { return };
            let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
        });
    }
}

/// Starts serving HTTPS in the background on a free port; returns the address and the CA.
pub async fn spawn_tls(server: FakeApiServer) -> Result<(SocketAddr, String), String> {
    let tls = Tls::generate()?;
    let listener = bind(0).await?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let ca = tls.ca_pem.clone();
    tokio::spawn(async move { serve_tls(server, listener, &tls).await });
    Ok((address, ca))
}

/// Starts serving in the background on a free port; returns the address.
pub async fn spawn(server: FakeApiServer) -> Result<SocketAddr, String> {
    let listener = bind(0).await?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(serve(server, listener));
    Ok(address)
}
